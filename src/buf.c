/*
 * A growable byte buffer with a hard cap (see include/portada/buf.h).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "portada/buf.h"
#include "portada/error.h"

/* An empty buffer allocates nothing, so one per column costs nothing. */
void
pw_buf_init(struct pw_buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit;
}

/* The limit survives so a finished buffer can be filled again. */
void
pw_buf_finish(struct pw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Pages are built one after another in the same memory. */
void
pw_buf_reset(struct pw_buf *b)
{
	b->len = 0;
}

/* Multi-part writes undo themselves with this when a later part fails. */
void
pw_buf_truncate(struct pw_buf *b, size_t len)
{
	assert(len <= b->len);
	b->len = len;
}

/* Growth doubles (amortised O(1) appends) but is clamped to the limit. */
int
pw_buf_reserve(struct pw_buf *b, size_t n)
{
	size_t need, cap;

	if (n > b->limit || b->len > b->limit - n)
		return -1;
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->limit)
		cap = b->limit;
	b->data = pw_xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

/* The one place bytes go in: check first, so nothing is half-written. */
int
pw_buf_append(struct pw_buf *b, const void *p, size_t n)
{
	if (pw_buf_reserve(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* Headers and flags are single bytes; this saves a pointer dance. */
int
pw_buf_append_byte(struct pw_buf *b, unsigned char c)
{
	return pw_buf_append(b, &c, 1);
}

/* Thrift and Parquet both use ULEB128 for lengths, sizes and run headers. */
int
pw_buf_append_uvarint(struct pw_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (unsigned char)(v & 0x7F) | 0x80;
		v >>= 7;
	}
	tmp[n++] = (unsigned char)v;
	return pw_buf_append(b, tmp, n);
}

/* Parquet's level-length prefix is a fixed little-endian 32-bit word. */
int
pw_buf_append_u32le(struct pw_buf *b, uint32_t v)
{
	unsigned char tmp[4];

	tmp[0] = (unsigned char)(v & 0xFF);
	tmp[1] = (unsigned char)((v >> 8) & 0xFF);
	tmp[2] = (unsigned char)((v >> 16) & 0xFF);
	tmp[3] = (unsigned char)((v >> 24) & 0xFF);
	return pw_buf_append(b, tmp, 4);
}
