/*
 * status: the last stage of the pipeline, what a file's hash says about it.
 *
 * The values depend on the scheme (see config.h).  A status is always an
 * integer, the ingest API's `timestamp` is never touched, and a hash that
 * no longer exists is never re-created: every write goes through one small
 * Lua script that writes only if the hash is there.
 */
#ifndef PORTADA_STATUS_H
#define PORTADA_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "portada/config.h"

enum pw_status_kind {
	PW_STATUS_PROCESSING,
	PW_STATUS_DONE,
	PW_STATUS_FAILED,
	PW_STATUS_PENDING,	/* put back in the queue by a draining worker */
};

/* The value written for kind under scheme, or NULL if the scheme has none. */
const char *pw_status_value(enum pw_status_scheme scheme, enum pw_status_kind kind);

/* Whether a hash's status value says the file was finished already. */
bool pw_status_is_final(enum pw_status_scheme scheme, const char *value);

/*
 * The Lua script and its arguments for one status write:
 *   EVAL <script> 1 <hash-key> <field-to-delete or ""> <field> <value> ...
 * It returns 1 if written, 0 if the hash does not exist.
 */
extern const char pw_status_script[];
/* The same for many keys at once: see status.c for its arguments. */
extern const char pw_status_batch_script[];

struct pw_status_write {
	const char *argv[20];
	size_t argvlen[20];
	int argc;
	char numbuf[3][24];
};

/*
 * Build the EVAL for one transition.  error_message is used by
 * PW_STATUS_FAILED only, records by PW_STATUS_DONE only.  Pointers into key,
 * worker_id and error_message are kept: they must outlive the write.
 */
void pw_status_build(struct pw_status_write *w, enum pw_status_scheme scheme,
    enum pw_status_kind kind, const char *key, const char *worker_id,
    const char *error_message, unsigned long long records, long long now);

/*
 * Add a field to a built write (at most 4 in all).  The value is kept by
 * pointer.  Done writes add delta_table and delta_version; processing
 * writes add first_started_at, which the recovery check reads.
 */
void pw_status_add(struct pw_status_write *w, const char *field, const char *value);
/* The same with a number (one per write). */
void pw_status_add_number(struct pw_status_write *w, const char *field, long long value);

#endif
