/*
 * rowspool: packed rows (see include/portada/rowspool.h).
 *
 * Format, per value: one kind byte (enum pw_pq_kind), then
 *   STRING  uvarint length, bytes
 *   INT     8 bytes, little-endian two's complement
 *   DOUBLE  8 bytes, the IEEE bits little-endian
 *   BOOL    1 byte
 *   LIST    uvarint count, then per item 0 (null) or 1 + uvarint length + bytes
 * The spool only ever reads back what it wrote, so replay trusts it.
 */
#include <stdlib.h>
#include <string.h>

#include "portada/rowspool.h"

void
pw_rowspool_init(struct pw_rowspool *sp, size_t ncols, size_t limit)
{
	pw_buf_init(&sp->b, limit);
	sp->ncols = ncols;
	sp->rows = 0;
}

void
pw_rowspool_finish(struct pw_rowspool *sp)
{
	pw_buf_finish(&sp->b);
	sp->rows = 0;
}

void
pw_rowspool_reset(struct pw_rowspool *sp)
{
	pw_buf_reset(&sp->b);
	sp->rows = 0;
}

static int
put_u64(struct pw_buf *b, uint64_t v)
{
	unsigned char le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(v >> (8 * i));
	return pw_buf_append(b, le, 8);
}

static int
put_str(struct pw_buf *b, const struct pw_pq_str *s)
{
	if (pw_buf_append_uvarint(b, s->n) == -1)
		return -1;
	return pw_buf_append(b, s->p, s->n);
}

static int
put_value(struct pw_buf *b, const struct pw_pq_value *v)
{
	uint64_t bits;

	if (pw_buf_append_byte(b, (unsigned char)v->kind) == -1)
		return -1;
	switch (v->kind) {
	case PW_PQ_V_NULL:
		return 0;
	case PW_PQ_V_STRING:
		return put_str(b, &v->u.s);
	case PW_PQ_V_INT:
		return put_u64(b, (uint64_t)v->u.i);
	case PW_PQ_V_DOUBLE:
		memcpy(&bits, &v->u.d, sizeof bits);
		return put_u64(b, bits);
	case PW_PQ_V_BOOL:
		return pw_buf_append_byte(b, v->u.b ? 1 : 0);
	case PW_PQ_V_LIST:
		if (pw_buf_append_uvarint(b, v->u.list.n) == -1)
			return -1;
		for (size_t i = 0; i < v->u.list.n; i++) {
			const struct pw_pq_str *it = &v->u.list.items[i];

			if (it->p == NULL) {
				if (pw_buf_append_byte(b, 0) == -1)
					return -1;
			} else if (pw_buf_append_byte(b, 1) == -1 || put_str(b, it) == -1)
				return -1;
		}
		return 0;
	}
	abort();
}

int
pw_rowspool_add(struct pw_rowspool *sp, const struct pw_pq_value *row)
{
	size_t mark = sp->b.len;

	for (size_t i = 0; i < sp->ncols; i++) {
		if (put_value(&sp->b, &row[i]) == -1) {
			pw_buf_truncate(&sp->b, mark);
			return -1;
		}
	}
	sp->rows++;
	return 0;
}

static uint64_t
get_uvarint(const unsigned char **p)
{
	uint64_t v = 0;
	unsigned shift = 0;

	for (;;) {
		unsigned char c = *(*p)++;

		v |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			return v;
		shift += 7;
	}
}

static uint64_t
get_u64(const unsigned char **p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)(*p)[i] << (8 * i);
	*p += 8;
	return v;
}

static struct pw_pq_str
get_str(const unsigned char **p)
{
	struct pw_pq_str s;

	s.n = (size_t)get_uvarint(p);
	s.p = (const char *)*p;
	*p += s.n;
	return s;
}

int
pw_rowspool_replay(const struct pw_rowspool *sp, pw_rowspool_fn fn, void *ctx,
    struct pw_error *err)
{
	const unsigned char *p = sp->b.data, *end;
	struct pw_pq_value *row;
	size_t *first;
	struct pw_pq_str *items = NULL;
	size_t nitems, cap = 0;
	int rc = 0;

	/* An empty spool may have no buffer at all, and NULL + 0 is undefined. */
	if (sp->b.len == 0)
		return 0;
	end = p + sp->b.len;
	row = pw_xcalloc(sp->ncols > 0 ? sp->ncols : 1, sizeof *row);
	first = pw_xcalloc(sp->ncols > 0 ? sp->ncols : 1, sizeof *first);
	while (rc == 0 && p < end) {
		nitems = 0;
		for (size_t i = 0; i < sp->ncols; i++) {
			enum pw_pq_kind kind = (enum pw_pq_kind)*p++;
			uint64_t bits;
			double d;

			switch (kind) {
			case PW_PQ_V_NULL:
				row[i] = pw_pq_null();
				break;
			case PW_PQ_V_STRING: {
				struct pw_pq_str s = get_str(&p);

				row[i] = pw_pq_string(s.p, s.n);
				break;
			}
			case PW_PQ_V_INT:
				row[i] = pw_pq_int((int64_t)get_u64(&p));
				break;
			case PW_PQ_V_DOUBLE:
				bits = get_u64(&p);
				memcpy(&d, &bits, sizeof d);
				row[i] = pw_pq_double(d);
				break;
			case PW_PQ_V_BOOL:
				row[i] = pw_pq_bool(*p++ != 0);
				break;
			case PW_PQ_V_LIST: {
				size_t n = (size_t)get_uvarint(&p);

				if (nitems + n > cap) {
					cap = (nitems + n) * 2;
					items = pw_xrealloc(items, cap * sizeof *items);
				}
				first[i] = nitems;
				for (size_t k = 0; k < n; k++) {
					struct pw_pq_str s = { NULL, 0 };

					if (*p++ != 0)
						s = get_str(&p);
					items[nitems++] = s;
				}
				row[i] = pw_pq_list(NULL, n);
				break;
			}
			}
		}
		/* items may have moved while the row was read: point into it now. */
		for (size_t i = 0; i < sp->ncols; i++)
			if (row[i].kind == PW_PQ_V_LIST)
				row[i].u.list.items = items != NULL ? items + first[i] : NULL;
		rc = fn(ctx, row, err);
	}
	free(items);
	free(first);
	free(row);
	return rc;
}
