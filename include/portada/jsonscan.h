/*
 * jsonscan: a streaming, validating splitter that turns one JSON document,
 * fed in chunks of any size, into its top-level records.
 *
 * PortAda entry files are a top-level array of records; entity files are a
 * top-level object of members (optionally wrapped as {"names": {...}}).  The
 * scanner never holds the whole document: it copies only the bytes of the
 * record being scanned (at most max_record_bytes), so a 50 MB upload costs
 * one record of memory.  It validates the whole document as JSON (RFC 8259
 * grammar, UTF-8, string escapes, number and literal syntax) so that the first
 * error is reported with the line and column of the whole file, while the
 * record bytes are parsed by jtree (records.c) afterwards.
 *
 * Pure code: no I/O, no libevent, no Redis.  Results do not depend on how
 * the input is split into chunks.
 */
#ifndef PORTADA_JSONSCAN_H
#define PORTADA_JSONSCAN_H

#include <stddef.h>

#include "portada/error.h"

enum pw_scan_top {
	PW_SCAN_ARRAY,	/* records are the elements of a top-level array */
	PW_SCAN_OBJECT,	/* records are the members of a top-level object */
};

struct pw_scan_options {
	enum pw_scan_top top;
	size_t max_record_bytes;	/* 0: default 16 MiB */
	unsigned max_depth;		/* 0: default 64; the top level is depth 1 */
	/*
	 * PW_SCAN_OBJECT only, may be NULL: if the first member of the top
	 * object has this key and an object value, the records are the
	 * members of that inner object instead ({"names": {...}}); any
	 * further member of the outer object is then an error.
	 */
	const char *unwrap_key;
};

/*
 * One record, valid only during the callback.  Positions are 1-based;
 * columns count Unicode characters (as jansson does), lines count '\n'.
 */
struct pw_scan_record {
	size_t index;		/* 0-based, in document order */
	const char *key;	/* PW_SCAN_OBJECT: the member name's raw JSON token,
				   quotes and escapes included; NULL for arrays */
	size_t key_len;
	const char *data;	/* the value's raw bytes, exactly as in the file */
	size_t len;
	unsigned long line;	/* where the value (array) or key (object) starts */
	unsigned long column;
	unsigned long value_line;	/* where the value starts (both modes) */
	unsigned long value_column;
};

/* Return 0 to go on, or -1 with err set to stop the scan with that error. */
typedef int (*pw_scan_record_fn)(void *arg, const struct pw_scan_record *rec,
    struct pw_error *err);

struct pw_scan;

struct pw_scan *pw_scan_create(const struct pw_scan_options *opts,
    pw_scan_record_fn fn, void *arg);
void pw_scan_destroy(struct pw_scan *scan);	/* NULL is a no-op */

/*
 * Feed the next chunk.  On error returns -1 with err set to a message such
 * as "invalid JSON at line 3, column 14: expected ',' or ']' after a record"
 * or "invalid UTF-8 at line 2, column 5 (byte 0xC3)"; after an error every
 * further call fails with the same error.
 */
int pw_scan_feed(struct pw_scan *scan, const void *buf, size_t len,
    struct pw_error *err) PW_MUST_CHECK;

/* End of input: fails if the document is empty or incomplete. */
int pw_scan_finish(struct pw_scan *scan, struct pw_error *err) PW_MUST_CHECK;

/* Bytes the scanner holds: the record (and key) it is in, kept from
 * earlier chunks, and its nesting stack.  For the memory budget. */
size_t pw_scan_held(const struct pw_scan *scan);

/* Records seen so far, and where the scanner is now (for messages). */
size_t pw_scan_records(const struct pw_scan *scan);
unsigned long pw_scan_line(const struct pw_scan *scan);
unsigned long pw_scan_column(const struct pw_scan *scan);

#endif
