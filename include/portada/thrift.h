/*
 * thrift: a writer for the Thrift compact protocol, enough to encode
 * Parquet's footer and page headers by hand (no generated code).
 *
 * Spec: apache/thrift doc/specs/thrift-compact-protocol.md.  The writer
 * appends to a caller-owned struct pw_buf.  Every function is all or
 * nothing: it returns 0, or -1 (the buffer's limit would be crossed, or a
 * struct is nested deeper than PW_THRIFT_MAX_DEPTH) with the buffer and
 * the writer exactly as they were before the call.
 *
 * A struct is written as
 *	pw_thrift_struct_begin(w);
 *	pw_thrift_field_i32(w, 1, x);		(field header + value)
 *	pw_thrift_field_begin(w, PW_THRIFT_STRUCT, 2);	(header only)
 *	pw_thrift_struct_begin(w); ... pw_thrift_struct_end(w);
 *	pw_thrift_struct_end(w);		(writes the STOP byte)
 * Field ids are delta-encoded against the previous field of the same
 * struct; the writer keeps that per nesting level.  Values of list
 * elements are written with the bare pw_thrift_write_*() functions after
 * pw_thrift_list_begin().
 */
#ifndef PORTADA_THRIFT_H
#define PORTADA_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portada/buf.h"
#include "portada/error.h"

/* Compact protocol types (field types; also list element types, but see BOOL). */
#define PW_THRIFT_BOOLEAN_TRUE	1
#define PW_THRIFT_BOOLEAN_FALSE	2
#define PW_THRIFT_BYTE		3
#define PW_THRIFT_I16		4
#define PW_THRIFT_I32		5
#define PW_THRIFT_I64		6
#define PW_THRIFT_DOUBLE	7
#define PW_THRIFT_BINARY	8
#define PW_THRIFT_LIST		9
#define PW_THRIFT_SET		10
#define PW_THRIFT_MAP		11
#define PW_THRIFT_STRUCT	12
/* The element type of a list of booleans. */
#define PW_THRIFT_BOOL		PW_THRIFT_BOOLEAN_FALSE

/* Parquet's deepest nesting is far below this. */
#define PW_THRIFT_MAX_DEPTH	16

struct pw_thrift_w {
	struct pw_buf	*buf;
	int		 depth;				/* open structs */
	int16_t		 last[PW_THRIFT_MAX_DEPTH];	/* last field id, per level */
};

/* Start writing into buf (not owned); no struct is open. */
void pw_thrift_w_init(struct pw_thrift_w *w, struct pw_buf *buf);

/* Open a struct (top level, or after a STRUCT field header or list header).
 * Writes nothing; -1 if already PW_THRIFT_MAX_DEPTH deep. */
int pw_thrift_struct_begin(struct pw_thrift_w *w) PW_MUST_CHECK;

/* Close the innermost open struct: write STOP (0x00) and go back to the
 * enclosing struct's field id. */
int pw_thrift_struct_end(struct pw_thrift_w *w) PW_MUST_CHECK;

/*
 * Write a field header of type (PW_THRIFT_BYTE..PW_THRIFT_STRUCT) and id:
 * one byte (delta << 4 | type) if 0 < id - previous id <= 15, else the
 * type byte followed by the id as a zigzag varint.  The value must follow.
 * Not for booleans: use pw_thrift_field_bool().
 */
int pw_thrift_field_begin(struct pw_thrift_w *w, int type, int16_t id) PW_MUST_CHECK;

/* A whole bool field: its value is the header's type (1 true, 2 false). */
int pw_thrift_field_bool(struct pw_thrift_w *w, int16_t id, bool v) PW_MUST_CHECK;

/* Whole fields: header and value in one call. */
int pw_thrift_field_byte(struct pw_thrift_w *w, int16_t id, int8_t v) PW_MUST_CHECK;
int pw_thrift_field_i16(struct pw_thrift_w *w, int16_t id, int16_t v) PW_MUST_CHECK;
int pw_thrift_field_i32(struct pw_thrift_w *w, int16_t id, int32_t v) PW_MUST_CHECK;
int pw_thrift_field_i64(struct pw_thrift_w *w, int16_t id, int64_t v) PW_MUST_CHECK;
int pw_thrift_field_double(struct pw_thrift_w *w, int16_t id, double v) PW_MUST_CHECK;
int pw_thrift_field_binary(struct pw_thrift_w *w, int16_t id, const void *p,
    size_t n) PW_MUST_CHECK;
/* s is NUL-terminated and written without the NUL. */
int pw_thrift_field_string(struct pw_thrift_w *w, int16_t id, const char *s) PW_MUST_CHECK;

/*
 * Write a list (or set) header: one byte (size << 4 | elemtype) if size
 * < 15, else 0xF0 | elemtype followed by size as a varint.  -1 also if
 * size > INT32_MAX.  The size elements must follow.
 */
int pw_thrift_list_begin(struct pw_thrift_w *w, int elemtype, size_t size) PW_MUST_CHECK;

/* Bare values (list elements, or after pw_thrift_field_begin()). */
int pw_thrift_write_byte(struct pw_thrift_w *w, int8_t v) PW_MUST_CHECK;
/* i16/i32/i64 are zigzag varints: 0 → 0, -1 → 1, 1 → 2, -2 → 3, ... */
int pw_thrift_write_i16(struct pw_thrift_w *w, int16_t v) PW_MUST_CHECK;
int pw_thrift_write_i32(struct pw_thrift_w *w, int32_t v) PW_MUST_CHECK;
int pw_thrift_write_i64(struct pw_thrift_w *w, int64_t v) PW_MUST_CHECK;
/* 8 bytes, the IEEE 754 bits little-endian. */
int pw_thrift_write_double(struct pw_thrift_w *w, double v) PW_MUST_CHECK;
/* Varint length then the bytes; -1 also if n > INT32_MAX. */
int pw_thrift_write_binary(struct pw_thrift_w *w, const void *p, size_t n) PW_MUST_CHECK;
int pw_thrift_write_string(struct pw_thrift_w *w, const char *s) PW_MUST_CHECK;
/* A bool list element: one byte, 1 for true and 0 for false, as the spec
 * says (the Java and C++ libraries write 2 for false; their readers, like
 * all others, take anything but 1 as false). */
int pw_thrift_write_bool(struct pw_thrift_w *w, bool v) PW_MUST_CHECK;

#endif
