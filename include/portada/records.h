/*
 * records: what one scanned record means for a PortAda file.
 *
 * An entry file's records are boat-fact objects; an entity file's records
 * are `canonical name -> [voice, ...]` members.  This stage parses the raw
 * record bytes with jtree, checks their shape, and reports errors at the
 * position of the whole file.  Pure code: no I/O.
 */
#ifndef PORTADA_RECORDS_H
#define PORTADA_RECORDS_H

#include "portada/error.h"
#include "portada/jsonscan.h"
#include "portada/jtree.h"

enum pw_file_kind {
	PW_FILE_ENTRY,		/* file_type "entry": a top-level array of objects */
	PW_FILE_ENTITY,		/* file_type "entity_<type>": a name -> voices object */
};

/*
 * Parse a file_type.  For entities, *entity_type points into file_type
 * (after "entity_").  Fails with `unsupported file_type "x"`.
 */
int pw_file_kind_parse(const char *file_type, enum pw_file_kind *kind,
    const char **entity_type, struct pw_error *err) PW_MUST_CHECK;

/* How the scanner must split a file of this kind. */
void pw_file_kind_scan_options(enum pw_file_kind kind, struct pw_scan_options *opts);

struct pw_record {
	char *name;		/* entity: the canonical name; entry: NULL */
	const struct pw_jval *value;	/* entry: the object; entity: the array of
					   voices (all strings); in tree, valid
					   until its next parse */
};

/*
 * Parse and check one record into tree (reused from record to record).
 * On success the caller owns out->name (release with pw_record_finish()).
 * Errors read like
 * "invalid JSON at line 41, column 9: too big integer near '...' (in record 3)",
 * "record 3 at line 40, column 5 is a number, expected an object" or
 * "entity \"Barcelona\" at line 7, column 3: voices must be an array of strings".
 */
int pw_record_parse(enum pw_file_kind kind, const struct pw_scan_record *rec,
    struct pw_jtree *tree, struct pw_record *out, struct pw_error *err) PW_MUST_CHECK;
void pw_record_finish(struct pw_record *rec);

#endif
