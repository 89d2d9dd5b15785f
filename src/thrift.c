/*
 * Thrift compact protocol writer (see include/portada/thrift.h).
 *
 * Every public function remembers b->len on entry and truncates back to
 * it if any part fails, and touches the writer's state only on success:
 * a refused call leaves no trace.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "portada/buf.h"
#include "portada/thrift.h"

/* Zigzag without shifting a negative number (undefined in C11). */
static uint64_t
zigzag64(int64_t v)
{
	uint64_t u = (uint64_t)v << 1;

	return v < 0 ? ~u : u;
}

/* Same mapping on 32 bits, so -1 stays a one-byte 0x01 for i16/i32. */
static uint32_t
zigzag32(int32_t v)
{
	uint32_t u = (uint32_t)v << 1;

	return v < 0 ? ~u : u;
}

/* Shared by field_begin and field_bool; commits nothing to w->last. */
static int
write_field_header(struct pw_thrift_w *w, int type, int16_t id)
{
	struct pw_buf *b = w->buf;
	size_t mark = b->len;
	int delta;

	assert(w->depth > 0);
	assert(type >= PW_THRIFT_BOOLEAN_TRUE && type <= PW_THRIFT_STRUCT);
	delta = (int)id - (int)w->last[w->depth - 1];
	if (delta > 0 && delta <= 15)
		return pw_buf_append_byte(b, (unsigned char)(delta << 4 | type));
	if (pw_buf_append_byte(b, (unsigned char)type) == -1 ||
	    pw_buf_append_uvarint(b, zigzag32(id)) == -1) {
		pw_buf_truncate(b, mark);
		return -1;
	}
	return 0;
}

/* The writer only points at the buffer: the caller owns and frees it. */
void
pw_thrift_w_init(struct pw_thrift_w *w, struct pw_buf *buf)
{
	w->buf = buf;
	w->depth = 0;
	memset(w->last, 0, sizeof w->last);
}

/* Ids in a new struct are deltas from 0 again. */
int
pw_thrift_struct_begin(struct pw_thrift_w *w)
{
	if (w->depth >= PW_THRIFT_MAX_DEPTH)
		return -1;
	w->last[w->depth++] = 0;
	return 0;
}

/* Popping the level brings back the outer struct's last id. */
int
pw_thrift_struct_end(struct pw_thrift_w *w)
{
	assert(w->depth > 0);
	if (pw_buf_append_byte(w->buf, 0x00) == -1)
		return -1;
	w->depth--;
	return 0;
}

/* A header whose value the caller writes next (structs, lists, binaries). */
int
pw_thrift_field_begin(struct pw_thrift_w *w, int type, int16_t id)
{
	assert(type != PW_THRIFT_BOOLEAN_TRUE && type != PW_THRIFT_BOOLEAN_FALSE);
	if (write_field_header(w, type, id) == -1)
		return -1;
	w->last[w->depth - 1] = id;
	return 0;
}

/* The compact protocol folds a bool field's value into its header. */
int
pw_thrift_field_bool(struct pw_thrift_w *w, int16_t id, bool v)
{
	int type = v ? PW_THRIFT_BOOLEAN_TRUE : PW_THRIFT_BOOLEAN_FALSE;

	if (write_field_header(w, type, id) == -1)
		return -1;
	w->last[w->depth - 1] = id;
	return 0;
}

/*
 * Whole fields: header, then value; if the value does not fit, the header
 * is taken back and the last id is not moved.
 */
#define FIELD_BODY(type, call) do {					\
	size_t mark_ = w->buf->len;					\
									\
	if (write_field_header(w, (type), id) == -1)			\
		return -1;						\
	if ((call) == -1) {						\
		pw_buf_truncate(w->buf, mark_);				\
		return -1;						\
	}								\
	w->last[w->depth - 1] = id;					\
	return 0;							\
} while (0)

/* Whole byte field. */
int
pw_thrift_field_byte(struct pw_thrift_w *w, int16_t id, int8_t v)
{
	FIELD_BODY(PW_THRIFT_BYTE, pw_thrift_write_byte(w, v));
}

/* Whole i16 field. */
int
pw_thrift_field_i16(struct pw_thrift_w *w, int16_t id, int16_t v)
{
	FIELD_BODY(PW_THRIFT_I16, pw_thrift_write_i16(w, v));
}

/* Whole i32 field: the most common one in Parquet metadata. */
int
pw_thrift_field_i32(struct pw_thrift_w *w, int16_t id, int32_t v)
{
	FIELD_BODY(PW_THRIFT_I32, pw_thrift_write_i32(w, v));
}

/* Whole i64 field: offsets, sizes, row counts. */
int
pw_thrift_field_i64(struct pw_thrift_w *w, int16_t id, int64_t v)
{
	FIELD_BODY(PW_THRIFT_I64, pw_thrift_write_i64(w, v));
}

/* Whole double field. */
int
pw_thrift_field_double(struct pw_thrift_w *w, int16_t id, double v)
{
	FIELD_BODY(PW_THRIFT_DOUBLE, pw_thrift_write_double(w, v));
}

/* Whole binary field: statistics min/max, key-value metadata. */
int
pw_thrift_field_binary(struct pw_thrift_w *w, int16_t id, const void *p, size_t n)
{
	FIELD_BODY(PW_THRIFT_BINARY, pw_thrift_write_binary(w, p, n));
}

/* Whole string field: column names, created_by. */
int
pw_thrift_field_string(struct pw_thrift_w *w, int16_t id, const char *s)
{
	FIELD_BODY(PW_THRIFT_BINARY, pw_thrift_write_string(w, s));
}

/* Short form saves a byte for every list Parquet writes (almost all < 15). */
int
pw_thrift_list_begin(struct pw_thrift_w *w, int elemtype, size_t size)
{
	struct pw_buf *b = w->buf;
	size_t mark = b->len;

	assert(elemtype >= PW_THRIFT_BOOLEAN_TRUE && elemtype <= PW_THRIFT_STRUCT);
	if (size > INT32_MAX)
		return -1;
	if (size < 15)
		return pw_buf_append_byte(b, (unsigned char)(size << 4 | (size_t)elemtype));
	if (pw_buf_append_byte(b, (unsigned char)(0xF0 | elemtype)) == -1 ||
	    pw_buf_append_uvarint(b, size) == -1) {
		pw_buf_truncate(b, mark);
		return -1;
	}
	return 0;
}

/* i8 is the only integer that is not a varint. */
int
pw_thrift_write_byte(struct pw_thrift_w *w, int8_t v)
{
	return pw_buf_append_byte(w->buf, (unsigned char)v);
}

/* i16 as a zigzag varint. */
int
pw_thrift_write_i16(struct pw_thrift_w *w, int16_t v)
{
	return pw_buf_append_uvarint(w->buf, zigzag32(v));
}

/* i32 as a zigzag varint: small magnitudes of either sign stay short. */
int
pw_thrift_write_i32(struct pw_thrift_w *w, int32_t v)
{
	return pw_buf_append_uvarint(w->buf, zigzag32(v));
}

/* i64 as a zigzag varint (up to 10 bytes). */
int
pw_thrift_write_i64(struct pw_thrift_w *w, int64_t v)
{
	return pw_buf_append_uvarint(w->buf, zigzag64(v));
}

/* The compact protocol, unlike the binary one, puts doubles little-endian. */
int
pw_thrift_write_double(struct pw_thrift_w *w, double v)
{
	unsigned char tmp[8];
	uint64_t bits;
	int i;

	memcpy(&bits, &v, sizeof bits);
	for (i = 0; i < 8; i++)
		tmp[i] = (unsigned char)(bits >> (8 * i));
	return pw_buf_append(w->buf, tmp, sizeof tmp);
}

/* Lengths are i32 on the wire, so anything bigger cannot be said. */
int
pw_thrift_write_binary(struct pw_thrift_w *w, const void *p, size_t n)
{
	struct pw_buf *b = w->buf;
	size_t mark = b->len;

	if (n > INT32_MAX)
		return -1;
	if (pw_buf_append_uvarint(b, n) == -1 || pw_buf_append(b, p, n) == -1) {
		pw_buf_truncate(b, mark);
		return -1;
	}
	return 0;
}

/* Strings are binaries holding UTF-8, without the NUL. */
int
pw_thrift_write_string(struct pw_thrift_w *w, const char *s)
{
	return pw_thrift_write_binary(w, s, strlen(s));
}

/* See the header for why false is 0 here. */
int
pw_thrift_write_bool(struct pw_thrift_w *w, bool v)
{
	return pw_buf_append_byte(w->buf, v ? 1 : 0);
}
