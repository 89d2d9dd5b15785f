/*
 * buf: a growable byte buffer with a hard cap, owned by the caller.
 *
 * The Parquet encoder builds pages and footers in these.  A buffer never
 * grows past its limit: an append that would cross it fails with -1 and
 * leaves the buffer exactly as it was, so a caller can refuse input that
 * would make a file too big instead of running out of memory.  Memory
 * itself comes from pw_xmalloc()/pw_xrealloc() and never fails.
 */
#ifndef PORTADA_BUF_H
#define PORTADA_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "portada/error.h"

struct pw_buf {
	unsigned char	*data;	/* NULL until the first append */
	size_t		 len;	/* bytes written */
	size_t		 cap;	/* bytes allocated */
	size_t		 limit;	/* len never exceeds this */
};

/* Make b an empty buffer that may hold at most limit bytes.  Allocates nothing. */
void pw_buf_init(struct pw_buf *b, size_t limit);

/* Free b's memory and leave it empty (it may be used again). */
void pw_buf_finish(struct pw_buf *b);

/* Forget the contents but keep the memory and the limit. */
void pw_buf_reset(struct pw_buf *b);

/* Cut b back to len bytes (len <= b->len): undoes appends after a failure. */
void pw_buf_truncate(struct pw_buf *b, size_t len);

/* Make room for n more bytes; -1 if len + n would exceed the limit. */
int pw_buf_reserve(struct pw_buf *b, size_t n) PW_MUST_CHECK;

/* Append n bytes (n may be 0); -1, with b unchanged, if over the limit. */
int pw_buf_append(struct pw_buf *b, const void *p, size_t n) PW_MUST_CHECK;

/* Append one byte; -1, with b unchanged, if over the limit. */
int pw_buf_append_byte(struct pw_buf *b, unsigned char c) PW_MUST_CHECK;

/*
 * Append v as an unsigned LEB128 varint (7 bits a byte, low group first,
 * high bit set on every byte but the last); -1, b unchanged, if over the limit.
 */
int pw_buf_append_uvarint(struct pw_buf *b, uint64_t v) PW_MUST_CHECK;

/* Append v as 4 little-endian bytes; -1, b unchanged, if over the limit. */
int pw_buf_append_u32le(struct pw_buf *b, uint32_t v) PW_MUST_CHECK;

#endif
