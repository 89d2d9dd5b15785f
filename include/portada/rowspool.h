/*
 * rowspool: table rows held compactly in memory until it is known that
 * they may be written.  A file's rows cannot go into a shared data file as
 * they are mapped, since the file may still fail further on and a failed
 * file must contribute no rows; parsing the JSON twice would cost more
 * than keeping the mapped values.  So the values are packed here (a tag
 * byte, then a varint length and bytes, or 8 bytes of a number) and
 * replayed into a data file once the whole file has been read.
 * Pure code: no I/O.
 */
#ifndef PORTADA_ROWSPOOL_H
#define PORTADA_ROWSPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "portada/buf.h"
#include "portada/error.h"
#include "portada/parquet.h"

struct pw_rowspool {
	struct pw_buf	 b;
	size_t		 ncols;
	uint64_t	 rows;
};

/* An empty spool for rows of ncols values, holding at most limit bytes. */
void pw_rowspool_init(struct pw_rowspool *sp, size_t ncols, size_t limit);
void pw_rowspool_finish(struct pw_rowspool *sp);
/* Forget the rows, keep the memory. */
void pw_rowspool_reset(struct pw_rowspool *sp);

/* The bytes the rows take. */
static inline size_t
pw_rowspool_bytes(const struct pw_rowspool *sp)
{
	return sp->b.len;
}

/* Pack one row; -1 (the spool unchanged) if it would pass the limit. */
int pw_rowspool_add(struct pw_rowspool *sp, const struct pw_pq_value *row) PW_MUST_CHECK;

/* Called once per row, in order; values borrow from the spool. */
typedef int (*pw_rowspool_fn)(void *ctx, const struct pw_pq_value *row, struct pw_error *err);

/* Unpack every row into fn; stops at fn's first -1 and returns it. */
int pw_rowspool_replay(const struct pw_rowspool *sp, pw_rowspool_fn fn, void *ctx,
    struct pw_error *err) PW_MUST_CHECK;

#endif
