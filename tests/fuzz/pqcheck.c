/*
 * An independent reader for what src/parquet.c writes, used as the
 * fuzzer's oracle.  Nothing here comes from src/: the Thrift compact
 * parser, the RLE/bit-packed decoder, the UTF-8 rules and the statistics
 * are written again from apache/parquet-format, the Thrift compact
 * protocol spec and RFC 3629, so a shared mistake is unlikely.
 *
 * Strict on purpose: anything the writer is not expected to produce
 * (unknown fields aside) is a failure.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "fuzz.h"

/* ---- UTF-8 ---- */

/* One strict character at s[0..n): its length, or 0 if it is not one. */
static size_t
u8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t v, lowest;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2, v = s[0] & 0x1Fu, lowest = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3, v = s[0] & 0x0Fu, lowest = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4, v = s[0] & 0x07u, lowest = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3Fu);
	}
	if (v < lowest || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

bool
fz_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		if ((len = u8_char(s + i, n - i, &cp)) == 0)
			return false;
		i += len;
	}
	return true;
}

/* The longest whole-character prefix of valid s that is at most max bytes. */
static size_t
u8_prefix(const char *str, size_t n, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		len = u8_char(s + i, n - i, &cp);
		if (len == 0)
			fz_fail("u8_prefix: a value the writer accepted is not UTF-8");
		if (i + len > max)
			break;
		i += len;
	}
	return i;
}

static size_t
u8_put(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * The smallest string above every string starting with s[0..n): drop
 * trailing U+10FFFF, then replace the last character by the next scalar
 * value.  Returns the length written to out (n + 1 bytes at most), 0 if
 * there is no such bound.
 */
static size_t
u8_successor(const char *str, size_t n, unsigned char *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t *starts = malloc((n + 1) * sizeof *starts), k = 0, i = 0, len, r = 0;
	uint32_t cp;

	while (i < n) {
		len = u8_char(s + i, n - i, &cp);
		if (len == 0)
			fz_fail("u8_successor: not UTF-8");
		starts[k++] = i;
		i += len;
	}
	while (k > 0) {
		size_t at = starts[--k];

		(void)u8_char(s + at, n - at, &cp);
		if (cp == 0x10FFFF)
			continue;
		memcpy(out, s, at);
		r = at + u8_put(cp == 0xD7FF ? 0xE000 : cp + 1, out + at);
		break;
	}
	free(starts);
	return r;
}

/* ---- Statistics ---- */

static int
bytes_order(const char *a, size_t an, const char *b, size_t bn)
{
	size_t m = an < bn ? an : bn;

	for (size_t i = 0; i < m; i++)
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
	return an == bn ? 0 : an < bn ? -1 : 1;
}

static unsigned char *
dup_bytes(const void *p, size_t n)
{
	unsigned char *d = malloc(n + 1);

	if (d == NULL)
		abort();
	if (n > 0)
		memcpy(d, p, n);
	return d;
}

static void
le(unsigned char *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

void
fz_stats_compute(const struct fz_col *c, size_t from, size_t to, size_t stats_bytes,
    struct fz_stats *o)
{
	const struct fz_ent *smin = NULL, *smax = NULL;
	unsigned char b[8];
	bool seen = false;
	uint64_t u;

	memset(o, 0, sizeof *o);
	for (size_t k = from; k < to; k++) {
		const struct fz_ent *e = &c->ents[k];

		if (e->def < c->max_def) {
			o->nulls++;
			continue;
		}
		switch (c->type) {
		case PW_PQ_STRING:
		case PW_PQ_STRING_LIST:
			if (!seen || bytes_order(e->s, e->n, smin->s, smin->n) < 0)
				smin = e;
			if (!seen || bytes_order(e->s, e->n, smax->s, smax->n) > 0)
				smax = e;
			seen = true;
			break;
		case PW_PQ_DOUBLE:
			if (isnan(e->d))
				break;
			if (!seen || e->d < o->dmin)
				o->dmin = e->d;
			if (!seen || e->d > o->dmax)
				o->dmax = e->d;
			seen = true;
			break;
		default:
			if (!seen || e->i < o->imin)
				o->imin = e->i;
			if (!seen || e->i > o->imax)
				o->imax = e->i;
			seen = true;
			break;
		}
	}
	o->has = seen;
	o->min_exact = o->max_exact = true;
	if (!seen)
		return;
	switch (c->type) {
	case PW_PQ_STRING:
	case PW_PQ_STRING_LIST: {
		size_t n = u8_prefix(smin->s, smin->n, stats_bytes);

		o->minb = dup_bytes(smin->s, n);
		o->minn = n;
		o->min_exact = n == smin->n;
		n = u8_prefix(smax->s, smax->n, stats_bytes);
		if (n == smax->n) {
			o->maxb = dup_bytes(smax->s, n);
			o->maxn = n;
			break;
		}
		/* src/parquet.c: when not even one character fits, the max keeps
		 * one more character (stats_bytes + 4) before it is bumped. */
		if (n == 0)
			n = u8_prefix(smax->s, smax->n, stats_bytes + 4);
		o->maxb = malloc(n + 2);
		o->maxn = u8_successor(smax->s, n, o->maxb);
		o->max_exact = false;
		if (o->maxn == 0)
			o->has = false;		/* cannot be bounded */
		break;
	}
	case PW_PQ_DOUBLE:
		if (o->dmin == 0)
			o->dmin = -0.0;
		if (o->dmax == 0)
			o->dmax = 0.0;
		memcpy(&u, &o->dmin, 8);
		le(b, u, 8);
		o->minb = dup_bytes(b, 8), o->minn = 8;
		memcpy(&u, &o->dmax, 8);
		le(b, u, 8);
		o->maxb = dup_bytes(b, 8), o->maxn = 8;
		break;
	case PW_PQ_LONG:
	case PW_PQ_TIMESTAMP:
		le(b, (uint64_t)o->imin, 8);
		o->minb = dup_bytes(b, 8), o->minn = 8;
		le(b, (uint64_t)o->imax, 8);
		o->maxb = dup_bytes(b, 8), o->maxn = 8;
		break;
	case PW_PQ_INTEGER:
	case PW_PQ_DATE:
		le(b, (uint64_t)o->imin, 4);
		o->minb = dup_bytes(b, 4), o->minn = 4;
		le(b, (uint64_t)o->imax, 4);
		o->maxb = dup_bytes(b, 4), o->maxn = 4;
		break;
	case PW_PQ_BOOLEAN:
		b[0] = (unsigned char)o->imin;
		o->minb = dup_bytes(b, 1), o->minn = 1;
		b[0] = (unsigned char)o->imax;
		o->maxb = dup_bytes(b, 1), o->maxn = 1;
		break;
	}
}

void
fz_stats_free(struct fz_stats *s)
{
	free(s->minb);
	free(s->maxb);
	s->minb = s->maxb = NULL;
}

/* ---- Thrift compact protocol ---- */

enum { TT_STOP, TT_TRUE, TT_FALSE, TT_BYTE, TT_I16, TT_I32, TT_I64, TT_DOUBLE,
	TT_BINARY, TT_LIST, TT_SET, TT_MAP, TT_STRUCT };

struct tv {
	int		 type;		/* TT_*; both bools are TT_TRUE with i = 0/1 */
	int		 id;		/* field id; list index for elements */
	int64_t		 i;
	double		 d;
	const uint8_t	*bin;
	size_t		 len;
	int		 elem;		/* list element type */
	struct tv	*kids;		/* struct fields, list elements */
	size_t		 nkids;
	size_t		 span;		/* bytes the value took */
};

struct trd {
	const uint8_t	*p, *end;
	const char	*what;		/* for messages */
	int		 depth;
};

static uint64_t
t_uvarint(struct trd *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (r->p >= r->end)
			fz_fail("%s: Thrift varint runs past the end", r->what);
		b = *r->p++;
		if (shift == 63 && b > 1)
			fz_fail("%s: Thrift varint overflows 64 bits", r->what);
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return v;
	}
	fz_fail("%s: Thrift varint longer than 10 bytes", r->what);
	return 0;
}

static int64_t
unzigzag(uint64_t u)
{
	return (u & 1) ? -(int64_t)(u >> 1) - 1 : (int64_t)(u >> 1);
}

static void t_value(struct trd *r, int type, struct tv *out);

static struct tv *
t_push(struct tv *s, size_t *cap)
{
	if (s->nkids == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		s->kids = realloc(s->kids, *cap * sizeof *s->kids);
		if (s->kids == NULL)
			abort();
	}
	memset(&s->kids[s->nkids], 0, sizeof s->kids[0]);
	return &s->kids[s->nkids++];
}

static void
t_struct(struct trd *r, struct tv *s)
{
	int last = 0;
	size_t cap = 0;

	if (++r->depth > 16)
		fz_fail("%s: Thrift structs nested too deep", r->what);
	for (;;) {
		uint8_t h;
		int type, id;
		struct tv *f;

		if (r->p >= r->end)
			fz_fail("%s: Thrift struct runs past the end", r->what);
		h = *r->p++;
		if (h == 0)
			break;
		type = h & 0x0F;
		if (h >> 4)
			id = last + (h >> 4);
		else
			id = (int)unzigzag(t_uvarint(r));
		if (id <= last || id > 32767)
			fz_fail("%s: Thrift field id %d after %d", r->what, id, last);
		last = id;
		f = t_push(s, &cap);
		f->id = id;
		if (type == TT_TRUE || type == TT_FALSE) {
			f->type = TT_TRUE;
			f->i = type == TT_TRUE;
		} else {
			t_value(r, type, f);
		}
	}
	r->depth--;
}

static void t_value1(struct trd *r, int type, struct tv *out);

static void
t_value(struct trd *r, int type, struct tv *out)
{
	const uint8_t *start = r->p;

	t_value1(r, type, out);
	out->span = (size_t)(r->p - start);
}

static void
t_value1(struct trd *r, int type, struct tv *out)
{
	uint64_t n;

	out->type = type;
	switch (type) {
	case TT_BYTE:
		if (r->p >= r->end)
			fz_fail("%s: Thrift byte past the end", r->what);
		out->i = (int8_t)*r->p++;
		return;
	case TT_I16:
	case TT_I32:
	case TT_I64:
		out->i = unzigzag(t_uvarint(r));
		if ((type == TT_I16 && (out->i < INT16_MIN || out->i > INT16_MAX)) ||
		    (type == TT_I32 && (out->i < INT32_MIN || out->i > INT32_MAX)))
			fz_fail("%s: Thrift integer %" PRId64 " too big for its type",
			    r->what, out->i);
		return;
	case TT_DOUBLE:
		if (r->end - r->p < 8)
			fz_fail("%s: Thrift double past the end", r->what);
		memcpy(&out->d, r->p, 8);
		r->p += 8;
		return;
	case TT_BINARY:
		n = t_uvarint(r);
		if (n > INT32_MAX || n > (uint64_t)(r->end - r->p))
			fz_fail("%s: Thrift binary of %" PRIu64 " bytes past the end",
			    r->what, n);
		out->bin = r->p;
		out->len = (size_t)n;
		r->p += n;
		return;
	case TT_LIST:
	case TT_SET: {
		uint8_t h;
		size_t cap = 0;

		if (r->p >= r->end)
			fz_fail("%s: Thrift list past the end", r->what);
		h = *r->p++;
		out->elem = h & 0x0F;
		n = h >> 4;
		if (n == 15) {
			n = t_uvarint(r);
			if (n < 15)
				fz_fail("%s: Thrift list of %" PRIu64 " in the long form",
				    r->what, n);
		}
		if (n > INT32_MAX || n > (uint64_t)(r->end - r->p))
			fz_fail("%s: Thrift list of %" PRIu64 " elements", r->what, n);
		if (out->elem == TT_TRUE || out->elem == TT_FALSE || out->elem == TT_STOP ||
		    out->elem > TT_STRUCT)
			fz_fail("%s: Thrift list of element type %d", r->what, out->elem);
		if (++r->depth > 16)
			fz_fail("%s: Thrift lists nested too deep", r->what);
		for (uint64_t k = 0; k < n; k++) {
			struct tv *e = t_push(out, &cap);

			e->id = (int)k;
			t_value(r, out->elem, e);
		}
		r->depth--;
		return;
	}
	case TT_STRUCT:
		t_struct(r, out);
		return;
	default:
		fz_fail("%s: unexpected Thrift type %d", r->what, type);
	}
}

static void
t_free(struct tv *v)
{
	for (size_t k = 0; k < v->nkids; k++)
		t_free(&v->kids[k]);
	free(v->kids);
	v->kids = NULL;
	v->nkids = 0;
}

/* Parse one struct at p[0..n); returns the bytes it took. */
static size_t
t_parse(const uint8_t *p, size_t n, const char *what, struct tv *out)
{
	struct trd r = { p, p + n, what, 0 };

	memset(out, 0, sizeof *out);
	t_value(&r, TT_STRUCT, out);
	return (size_t)(r.p - p);
}

static const struct tv *
fld(const struct tv *s, int id)
{
	for (size_t k = 0; k < s->nkids; k++)
		if (s->kids[k].id == id)
			return &s->kids[k];
	return NULL;
}

static const struct tv *
fld_t(const struct tv *s, int id, int type, const char *what)
{
	const struct tv *f = fld(s, id);

	if (f == NULL)
		fz_fail("%s: field %d is missing", what, id);
	if (f->type != type)
		fz_fail("%s: field %d has Thrift type %d, not %d", what, id, f->type, type);
	return f;
}

static int64_t
fld_i(const struct tv *s, int id, int type, const char *what)
{
	return fld_t(s, id, type, what)->i;
}

static void
expect_i(int64_t got, int64_t want, const char *what)
{
	if (got != want)
		fz_fail("%s is %" PRId64 ", expected %" PRId64, what, got, want);
}

/* ---- Levels and indices ---- */

static unsigned
bit_width(uint32_t v)
{
	unsigned w = 0;

	while (v) {
		w++;
		v >>= 1;
	}
	return w;
}

static uint64_t
p_uvarint(const uint8_t *p, size_t n, size_t *pos, const char *what)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*pos >= n)
			fz_fail("%s: RLE header runs past the end", what);
		b = p[(*pos)++];
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return v;
	}
	fz_fail("%s: RLE header too long", what);
	return 0;
}

/*
 * Decode count values of the RLE/bit-packed hybrid at p[0..n) into out;
 * returns the bytes used.  Runs must not go past count (bit-packed
 * groups may be padded, with zeros).
 */
static size_t
rle_decode(const uint8_t *p, size_t n, unsigned bw, uint32_t *out, size_t count,
    const char *what)
{
	size_t pos = 0, got = 0;

	if (bw > 32)
		fz_fail("%s: bit width %u", what, bw);
	while (got < count) {
		uint64_t h = p_uvarint(p, n, &pos, what);

		if (h & 1) {
			uint64_t groups = h >> 1, nbits, bit = 0;

			if (groups == 0)
				fz_fail("%s: empty bit-packed run", what);
			if (groups > (count - got + 7) / 8)
				fz_fail("%s: bit-packed run of %" PRIu64 " groups for %zu values",
				    what, groups, count - got);
			nbits = groups * 8 * bw;
			if ((nbits + 7) / 8 > n - pos)
				fz_fail("%s: bit-packed run past the end", what);
			for (uint64_t k = 0; k < groups * 8; k++) {
				uint64_t v = 0;

				for (unsigned j = 0; j < bw; j++, bit++)
					if (p[pos + bit / 8] >> (bit % 8) & 1)
						v |= (uint64_t)1 << j;
				if (got < count)
					out[got++] = (uint32_t)v;
				else if (v != 0)
					fz_fail("%s: bit-packed padding is not zero", what);
			}
			pos += (size_t)(groups * bw);
		} else {
			uint64_t run = h >> 1, v = 0;
			unsigned nb = (bw + 7) / 8;

			if (run == 0)
				fz_fail("%s: empty RLE run", what);
			if (run > count - got)
				fz_fail("%s: RLE run of %" PRIu64 " for %zu values", what, run,
				    count - got);
			if (nb > n - pos)
				fz_fail("%s: RLE value past the end", what);
			for (unsigned j = 0; j < nb; j++)
				v |= (uint64_t)p[pos + j] << (8 * j);
			pos += nb;
			if (bw < 32 && v >> bw)
				fz_fail("%s: RLE value %" PRIu64 " wider than %u bits", what, v, bw);
			for (uint64_t k = 0; k < run; k++)
				out[got++] = (uint32_t)v;
		}
	}
	return pos;
}

static uint32_t
rd_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
rd_le64(const uint8_t *p)
{
	return (uint64_t)rd_le32(p) | (uint64_t)rd_le32(p + 4) << 32;
}

/* ---- Pages ---- */

static uint8_t *
decompress(enum pw_pq_codec codec, const uint8_t *src, size_t n, size_t raw,
    const char *what)
{
	uint8_t *dst = malloc(raw + 1);
	size_t got;

	if (dst == NULL)
		abort();
	switch (codec) {
	case PW_PQ_UNCOMPRESSED:
		if (n != raw)
			fz_fail("%s: uncompressed page of %zu bytes says %zu", what, n, raw);
		memcpy(dst, src, n);
		break;
	case PW_PQ_SNAPPY:
		if (snappy_uncompressed_length((const char *)src, n, &got) != SNAPPY_OK ||
		    got != raw)
			fz_fail("%s: snappy length is not %zu", what, raw);
		got = raw;
		if (snappy_uncompress((const char *)src, n, (char *)dst, &got) != SNAPPY_OK ||
		    got != raw)
			fz_fail("%s: snappy cannot decompress the page", what);
		break;
	case PW_PQ_GZIP: {
		z_stream z;
		int rc;

		memset(&z, 0, sizeof z);
		if (inflateInit2(&z, 16 + 15) != Z_OK)
			abort();
		z.next_in = (Bytef *)(uintptr_t)src;
		z.avail_in = (uInt)n;
		z.next_out = dst;
		z.avail_out = (uInt)raw + 1;
		rc = inflate(&z, Z_FINISH);
		got = raw + 1 - z.avail_out;
		if (rc != Z_STREAM_END || z.avail_in != 0 || got != raw) {
			inflateEnd(&z);
			fz_fail("%s: gzip member is not one stream of %zu bytes (rc %d, got %zu, %u left)",
			    what, raw, rc, got, z.avail_in);
		}
		inflateEnd(&z);
		break;
	}
	case PW_PQ_ZSTD: {
		unsigned long long fs = ZSTD_getFrameContentSize(src, n);

		if (ZSTD_findFrameCompressedSize(src, n) != n)
			fz_fail("%s: zstd page is not exactly one frame", what);
		if (fs != raw)
			fz_fail("%s: zstd frame says %llu bytes, the header %zu", what, fs, raw);
		got = ZSTD_decompress(dst, raw + 1, src, n);
		if (ZSTD_isError(got) || got != raw)
			fz_fail("%s: zstd cannot decompress the page", what);
		break;
	}
	default:
		fz_fail("%s: codec %d", what, (int)codec);
	}
	return dst;
}

struct dict {
	const uint8_t	**p;
	uint32_t	 *n;
	size_t		  count;
	uint8_t		 *mem;		/* the decompressed page */
};

struct chunk_ctx {
	const struct fz_expect	*e;
	const struct fz_col	*c;
	int			 phys;
	size_t			 cur;		/* next expected entry */
	uint64_t		 rows;		/* entries with rep 0 */
	struct dict		 dict;
	bool			 plain_seen;
	char			 what[160];
};

static void
check_value(struct chunk_ctx *x, const struct fz_ent *want, const uint8_t *p, size_t n,
    bool bit, size_t k)
{
	switch (x->c->type) {
	case PW_PQ_STRING:
	case PW_PQ_STRING_LIST:
		if (n != want->n || (n > 0 && memcmp(p, want->s, n) != 0))
			fz_fail("%s: entry %zu is a different string (%zu bytes, expected %zu)",
			    x->what, k, n, want->n);
		return;
	case PW_PQ_LONG:
	case PW_PQ_TIMESTAMP:
		if ((int64_t)rd_le64(p) != want->i)
			fz_fail("%s: entry %zu is %" PRId64 ", expected %" PRId64, x->what, k,
			    (int64_t)rd_le64(p), want->i);
		return;
	case PW_PQ_INTEGER:
	case PW_PQ_DATE:
		if ((int32_t)rd_le32(p) != want->i)
			fz_fail("%s: entry %zu is %" PRId32 ", expected %" PRId64, x->what, k,
			    (int32_t)rd_le32(p), want->i);
		return;
	case PW_PQ_DOUBLE: {
		uint64_t u;

		memcpy(&u, &want->d, 8);
		if (rd_le64(p) != u)
			fz_fail("%s: entry %zu has bits %016" PRIx64 ", expected %016" PRIx64,
			    x->what, k, rd_le64(p), u);
		return;
	}
	case PW_PQ_BOOLEAN:
		if (bit != (want->i != 0))
			fz_fail("%s: entry %zu is %d, expected %d", x->what, k, bit,
			    (int)want->i);
		return;
	}
}

static void
read_dict_page(struct chunk_ctx *x, uint8_t *body, size_t raw, const struct tv *dh)
{
	size_t pos = 0;
	int64_t nv = fld_i(dh, 1, TT_I32, "DictionaryPageHeader");

	expect_i(fld_i(dh, 2, TT_I32, "DictionaryPageHeader"), 0, "dictionary page encoding");
	if (x->c->type != PW_PQ_STRING && x->c->type != PW_PQ_STRING_LIST)
		fz_fail("%s: a dictionary page in a %d column", x->what, (int)x->c->type);
	if (x->dict.mem != NULL)
		fz_fail("%s: a second dictionary page", x->what);
	if (nv <= 0)
		fz_fail("%s: dictionary of %" PRId64 " entries", x->what, nv);
	if (raw > x->e->dictionary_bytes)
		fz_fail("%s: dictionary page of %zu bytes, over dictionary_bytes %zu",
		    x->what, raw, x->e->dictionary_bytes);
	x->dict.mem = body;
	x->dict.count = (size_t)nv;
	x->dict.p = malloc(x->dict.count * sizeof *x->dict.p);
	x->dict.n = malloc(x->dict.count * sizeof *x->dict.n);
	for (size_t k = 0; k < x->dict.count; k++) {
		uint32_t len;

		if (raw - pos < 4 || (len = rd_le32(body + pos), raw - pos - 4 < len))
			fz_fail("%s: dictionary entry %zu runs past the page", x->what, k);
		x->dict.n[k] = len;
		x->dict.p[k] = body + pos + 4;
		if (!fz_utf8_valid((const char *)x->dict.p[k], len))
			fz_fail("%s: dictionary entry %zu is not UTF-8", x->what, k);
		pos += 4 + (size_t)len;
	}
	if (pos != raw)
		fz_fail("%s: %zu bytes after the dictionary entries", x->what, raw - pos);
}

static void
read_data_page(struct chunk_ctx *x, const uint8_t *body, size_t raw, const struct tv *dh)
{
	const struct fz_col *c = x->c;
	int64_t nv = fld_i(dh, 1, TT_I32, "DataPageHeader");
	int64_t enc = fld_i(dh, 2, TT_I32, "DataPageHeader");
	uint32_t *rep, *def, *idx = NULL;
	size_t pos = 0, nnz = 0, vi = 0;

	expect_i(fld_i(dh, 3, TT_I32, "DataPageHeader"), 3, "definition level encoding");
	expect_i(fld_i(dh, 4, TT_I32, "DataPageHeader"), 3, "repetition level encoding");
	if (nv <= 0)
		fz_fail("%s: data page of %" PRId64 " values", x->what, nv);
	if ((uint64_t)nv > c->nents - x->cur)
		fz_fail("%s: data page of %" PRId64 " values, only %zu entries left",
		    x->what, nv, c->nents - x->cur);
	rep = calloc((size_t)nv, sizeof *rep);
	def = calloc((size_t)nv, sizeof *def);
	if (rep == NULL || def == NULL)
		abort();
	for (int pass = 0; pass < 2; pass++) {
		unsigned max = pass == 0 ? c->max_rep : c->max_def;
		uint32_t *lv = pass == 0 ? rep : def;
		size_t len;

		if (max == 0)
			continue;
		if (raw - pos < 4)
			fz_fail("%s: level length past the page", x->what);
		len = rd_le32(body + pos);
		pos += 4;
		if (len > raw - pos)
			fz_fail("%s: levels of %zu bytes past the page", x->what, len);
		if (rle_decode(body + pos, len, bit_width(max), lv, (size_t)nv, x->what) != len)
			fz_fail("%s: %s levels do not fill their %zu bytes", x->what,
			    pass == 0 ? "repetition" : "definition", len);
		for (size_t k = 0; k < (size_t)nv; k++)
			if (lv[k] > max)
				fz_fail("%s: level %u above %u", x->what, lv[k], max);
		pos += len;
	}
	for (size_t k = 0; k < (size_t)nv; k++) {
		if (c->max_def == 0)
			def[k] = 0;
		if (def[k] == c->max_def)
			nnz++;
	}
	if (rep[0] != 0)
		fz_fail("%s: a page starts in the middle of a row", x->what);

	if (enc == 8) {
		unsigned bw;

		if (x->dict.mem == NULL)
			fz_fail("%s: RLE_DICTIONARY page without a dictionary", x->what);
		if (x->plain_seen)
			fz_fail("%s: RLE_DICTIONARY page after a PLAIN one", x->what);
		if (pos >= raw && nnz > 0)
			fz_fail("%s: no bit width byte", x->what);
		if (nnz > 0) {
			bw = body[pos++];
			/* The width need only fit this page's indices (the
			 * dictionary may grow after the page); rle_decode()
			 * checks that, and each index is checked below. */
			if (bw == 0 || bw > 32)
				fz_fail("%s: index bit width %u", x->what, bw);
			idx = calloc(nnz, sizeof *idx);
			pos += rle_decode(body + pos, raw - pos, bw, idx, nnz, x->what);
		} else if (pos < raw) {
			pos++;	/* a bit width byte with no indices is fine */
		}
	} else if (enc == 0) {
		/* An all-null PLAIN page may sit between dictionary pages. */
		x->plain_seen = x->plain_seen || nnz > 0;
	} else {
		fz_fail("%s: data page encoding %" PRId64, x->what, enc);
	}

	for (size_t k = 0; k < (size_t)nv; k++) {
		const struct fz_ent *want = &c->ents[x->cur];
		const uint8_t *vp = NULL;
		size_t vn = 0;
		bool bit = false;

		if (rep[k] != want->rep || def[k] != want->def)
			fz_fail("%s: entry %zu has levels r%u d%u, expected r%u d%u", x->what,
			    x->cur, rep[k], def[k], want->rep, want->def);
		if (rep[k] == 0)
			x->rows++;
		if (def[k] == c->max_def) {
			if (idx != NULL) {
				uint32_t i = idx[vi++];

				if (i >= x->dict.count)
					fz_fail("%s: index %u past a dictionary of %zu", x->what, i,
					    x->dict.count);
				vp = x->dict.p[i];
				vn = x->dict.n[i];
			} else if (x->phys == 6) {
				if (raw - pos < 4 || raw - pos - 4 < rd_le32(body + pos))
					fz_fail("%s: string runs past the page", x->what);
				vn = rd_le32(body + pos);
				vp = body + pos + 4;
				pos += 4 + vn;
			} else if (x->phys == 0) {
				size_t nbytes = (nnz + 7) / 8;

				if (raw - pos < nbytes)
					fz_fail("%s: booleans run past the page", x->what);
				bit = body[pos + vi / 8] >> (vi % 8) & 1;
				vi++;
			} else {
				vn = x->phys == 1 ? 4 : 8;
				if (raw - pos < vn)
					fz_fail("%s: value runs past the page", x->what);
				vp = body + pos;
				pos += vn;
			}
			check_value(x, want, vp, vn, bit, x->cur);
		}
		x->cur++;
	}
	if (x->phys == 0 && idx == NULL) {
		size_t nbytes = (nnz + 7) / 8;

		for (size_t k = nnz; k < nbytes * 8; k++)
			if (body[pos + k / 8] >> (k % 8) & 1)
				fz_fail("%s: boolean padding bits set", x->what);
		pos += nbytes;
	}
	if (pos != raw)
		fz_fail("%s: %zu bytes left at the end of a data page", x->what, raw - pos);
	free(rep);
	free(def);
	free(idx);
}

/* ---- Statistics in the footer ---- */

static void
check_chunk_stats(const struct chunk_ctx *x, const struct tv *md, size_t from)
{
	const struct tv *st = fld_t(md, 12, TT_STRUCT, "ColumnMetaData");
	struct fz_stats s;
	const struct tv *mn, *mx;

	fz_stats_compute(x->c, from, x->cur, x->e->stats_bytes, &s);
	expect_i(fld_i(st, 3, TT_I64, "Statistics"), (int64_t)s.nulls, "chunk null_count");
	if (fld(st, 1) || fld(st, 2) || fld(st, 4))
		fz_fail("%s: deprecated min/max or distinct_count in Statistics", x->what);
	mn = fld(st, 6);
	mx = fld(st, 5);
	if (!s.has) {
		if (mn || mx || fld(st, 7) || fld(st, 8))
			fz_fail("%s: min/max written for a chunk without one", x->what);
		fz_stats_free(&s);
		return;
	}
	mn = fld_t(st, 6, TT_BINARY, "Statistics");
	mx = fld_t(st, 5, TT_BINARY, "Statistics");
	if (mn->len != s.minn || memcmp(mn->bin, s.minb, s.minn) != 0)
		fz_fail("%s: chunk min_value (%zu bytes) is not the expected (%zu bytes)",
		    x->what, mn->len, s.minn);
	if (mx->len != s.maxn || memcmp(mx->bin, s.maxb, s.maxn) != 0)
		fz_fail("%s: chunk max_value (%zu bytes) is not the expected (%zu bytes)",
		    x->what, mx->len, s.maxn);
	expect_i(fld_i(st, 7, TT_TRUE, "Statistics"), s.max_exact, "is_max_value_exact");
	expect_i(fld_i(st, 8, TT_TRUE, "Statistics"), s.min_exact, "is_min_value_exact");
	fz_stats_free(&s);
}

/* ---- Schema ---- */

static void
check_element(const struct tv *el, int phys, int rep, const char *name, int children,
    int converted, const char *what)
{
	const struct tv *f;

	if (phys >= 0)
		expect_i(fld_i(el, 1, TT_I32, what), phys, what);
	else if (fld(el, 1) != NULL)
		fz_fail("%s: a group with a physical type", what);
	if (rep >= 0)
		expect_i(fld_i(el, 3, TT_I32, what), rep, what);
	f = fld_t(el, 4, TT_BINARY, what);
	if (f->len != strlen(name) || memcmp(f->bin, name, f->len) != 0)
		fz_fail("%s: name is \"%.*s\", expected \"%s\"", what, (int)f->len,
		    (const char *)f->bin, name);
	if (children >= 0)
		expect_i(fld_i(el, 5, TT_I32, what), children, what);
	else if (fld(el, 5) != NULL)
		fz_fail("%s: a leaf with children", what);
	if (converted >= 0)
		expect_i(fld_i(el, 6, TT_I32, what), converted, what);
}

static int
phys_of(enum pw_pq_type t)
{
	switch (t) {
	case PW_PQ_STRING:
	case PW_PQ_STRING_LIST:
		return 6;
	case PW_PQ_LONG:
	case PW_PQ_TIMESTAMP:
		return 2;
	case PW_PQ_INTEGER:
	case PW_PQ_DATE:
		return 1;
	case PW_PQ_DOUBLE:
		return 5;
	case PW_PQ_BOOLEAN:
		return 0;
	}
	return -1;
}

static void
check_schema(const struct tv *fm, const struct fz_expect *e)
{
	const struct tv *sc = fld_t(fm, 2, TT_LIST, "FileMetaData");
	size_t k = 1, want = 1;

	for (size_t i = 0; i < e->ncols; i++)
		want += e->cols[i].type == PW_PQ_STRING_LIST ? 3 : 1;
	if (sc->nkids != want || sc->elem != TT_STRUCT)
		fz_fail("schema has %zu elements, expected %zu", sc->nkids, want);
	check_element(&sc->kids[0], -1, -1, "schema", (int)e->ncols, -1, "schema root");
	for (size_t i = 0; i < e->ncols; i++) {
		const struct fz_col *c = &e->cols[i];
		int rep = c->required ? 0 : 1;
		int conv = c->type == PW_PQ_STRING ? 0 : c->type == PW_PQ_DATE ? 6 :
		    c->type == PW_PQ_TIMESTAMP ? 10 : -1;

		if (c->type == PW_PQ_STRING_LIST) {
			check_element(&sc->kids[k++], -1, rep, c->name, 1, 3, "list column");
			check_element(&sc->kids[k++], -1, 2, "list", 1, -1, "list middle");
			check_element(&sc->kids[k++], 6, 1, "element", -1, 0, "list element");
		} else {
			const struct tv *el = &sc->kids[k++];

			check_element(el, phys_of(c->type), rep, c->name, -1, conv, "column");
			if (conv < 0 && fld(el, 6) != NULL)
				fz_fail("column %s: unexpected converted_type", c->name);
		}
	}
}

/* ---- The file ---- */

void
fz_layout_free(struct fz_layout *l)
{
	free(l->end);
	free(l->entry);
	memset(l, 0, sizeof *l);
}

void
fz_verify_file(const uint8_t *file, size_t n, const struct fz_expect *e,
    struct fz_layout *layout)
{
	struct tv fm;
	const struct tv *rgs, *co;
	size_t flen, fstart, off = 4;
	size_t *cursor = calloc(e->ncols, sizeof *cursor);
	uint64_t total_rows = 0;

	if (n < 12 || memcmp(file, "PAR1", 4) != 0 || memcmp(file + n - 4, "PAR1", 4) != 0)
		fz_fail("file of %zu bytes does not start and end with PAR1", n);
	flen = rd_le32(file + n - 8);
	if (flen == 0 || flen > n - 12)
		fz_fail("footer length %zu does not fit in a file of %zu bytes", flen, n);
	fstart = n - 8 - flen;
	if (t_parse(file + fstart, flen, "FileMetaData", &fm) != flen)
		fz_fail("FileMetaData is not exactly its %zu bytes", flen);

	expect_i(fld_i(&fm, 1, TT_I32, "FileMetaData"), 1, "FileMetaData.version");
	check_schema(&fm, e);
	expect_i(fld_i(&fm, 3, TT_I64, "FileMetaData"), (int64_t)e->num_rows,
	    "FileMetaData.num_rows");
	(void)fld_t(&fm, 6, TT_BINARY, "FileMetaData created_by");
	co = fld_t(&fm, 7, TT_LIST, "FileMetaData column_orders");
	if (co->nkids != e->ncols)
		fz_fail("%zu column orders for %zu columns", co->nkids, e->ncols);
	for (size_t i = 0; i < co->nkids; i++) {
		const struct tv *t = fld_t(&co->kids[i], 1, TT_STRUCT, "ColumnOrder");

		if (t->nkids != 0 || co->kids[i].nkids != 1)
			fz_fail("column order %zu is not just TYPE_ORDER", i);
	}

	rgs = fld_t(&fm, 4, TT_LIST, "FileMetaData row_groups");
	memset(layout, 0, sizeof *layout);
	layout->ngroups = rgs->nkids;
	layout->end = calloc(rgs->nkids + 1, sizeof *layout->end);
	layout->entry = calloc(rgs->nkids + 1, sizeof *layout->entry);
	for (size_t g = 0; g < rgs->nkids; g++) {
		const struct tv *rg = &rgs->kids[g];
		const struct tv *cols = fld_t(rg, 1, TT_LIST, "RowGroup");
		int64_t rg_rows = fld_i(rg, 3, TT_I64, "RowGroup");
		size_t rg_start = off;
		int64_t raw_total = 0;

		if (cols->nkids != e->ncols)
			fz_fail("row group %zu has %zu chunks for %zu columns", g, cols->nkids,
			    e->ncols);
		if (rg_rows <= 0)
			fz_fail("row group %zu has %" PRId64 " rows", g, rg_rows);
		if (e->row_group_rows > 0 && (uint64_t)rg_rows > e->row_group_rows)
			fz_fail("row group %zu has %" PRId64 " rows, over row_group_rows %" PRIu64,
			    g, rg_rows, e->row_group_rows);
		expect_i(fld_i(rg, 5, TT_I64, "RowGroup"), (int64_t)off, "RowGroup.file_offset");
		expect_i(fld_i(rg, 7, TT_I16, "RowGroup"), (int64_t)g, "RowGroup.ordinal");
		for (size_t i = 0; i < e->ncols; i++) {
			const struct tv *cc = &cols->kids[i];
			const struct tv *md = fld_t(cc, 3, TT_STRUCT, "ColumnChunk");
			const struct tv *path = fld_t(md, 3, TT_LIST, "ColumnMetaData");
			const struct tv *dpo = fld(md, 11);
			struct chunk_ctx x;
			int64_t comp = fld_i(md, 7, TT_I64, "ColumnMetaData");
			int64_t uncomp = fld_i(md, 6, TT_I64, "ColumnMetaData");
			int64_t nvals = fld_i(md, 5, TT_I64, "ColumnMetaData");
			size_t cstart = off, from, end, raw_sum = 0;

			memset(&x, 0, sizeof x);
			x.e = e;
			x.c = &e->cols[i];
			x.phys = phys_of(x.c->type);
			x.cur = from = cursor[i];
			snprintf(x.what, sizeof x.what, "row group %zu, column %zu \"%s\"", g, i,
			    x.c->name);
			expect_i(fld_i(md, 1, TT_I32, "ColumnMetaData"), x.phys, "chunk type");
			expect_i(fld_i(md, 4, TT_I32, "ColumnMetaData"), (int64_t)e->codec,
			    "chunk codec");
			if (path->nkids != (x.c->type == PW_PQ_STRING_LIST ? 3u : 1u) ||
			    path->kids[0].len != strlen(x.c->name) ||
			    memcmp(path->kids[0].bin, x.c->name, path->kids[0].len) != 0)
				fz_fail("%s: wrong path_in_schema", x.what);
			if (comp <= 0 || (uint64_t)comp > fstart - off)
				fz_fail("%s: total_compressed_size %" PRId64 " outside the data",
				    x.what, comp);
			end = off + (size_t)comp;
			if (dpo != NULL) {
				expect_i(fld_i(md, 11, TT_I64, "ColumnMetaData"), (int64_t)off,
				    "dictionary_page_offset");
			}
			while (off < end) {
				struct tv ph;
				size_t hl = t_parse(file + off, end - off, "PageHeader", &ph);
				int64_t type = fld_i(&ph, 1, TT_I32, "PageHeader");
				int64_t raw = fld_i(&ph, 2, TT_I32, "PageHeader");
				int64_t zn = fld_i(&ph, 3, TT_I32, "PageHeader");
				uint8_t *body;

				if (raw < 0 || zn < 0 || (uint64_t)zn > end - off - hl)
					fz_fail("%s: page of %" PRId64 "/%" PRId64 " bytes past the chunk",
					    x.what, raw, zn);
				body = decompress(e->codec, file + off + hl, (size_t)zn, (size_t)raw,
				    x.what);
				if (type == 2) {
					if (dpo == NULL || off != cstart)
						fz_fail("%s: a dictionary page not first or not announced",
						    x.what);
					read_dict_page(&x, body, (size_t)raw,
					    fld_t(&ph, 7, TT_STRUCT, "PageHeader"));
				} else if (type == 0) {
					if (x.cur == from)
						expect_i(fld_i(md, 9, TT_I64, "ColumnMetaData"),
						    (int64_t)off, "data_page_offset");
					read_data_page(&x, body, (size_t)raw,
					    fld_t(&ph, 5, TT_STRUCT, "PageHeader"));
					free(body);
				} else {
					fz_fail("%s: page type %" PRId64, x.what, type);
				}
				raw_sum += hl + (size_t)raw;
				off += hl + (size_t)zn;
				t_free(&ph);
			}
			if (dpo != NULL && x.dict.mem == NULL)
				fz_fail("%s: dictionary_page_offset but no dictionary page", x.what);
			if (x.cur == from)
				fz_fail("%s: a chunk without data pages", x.what);
			expect_i(nvals, (int64_t)(x.cur - from), "chunk num_values");
			expect_i(uncomp, (int64_t)raw_sum, "chunk total_uncompressed_size");
			expect_i((int64_t)x.rows, rg_rows, "rows in a chunk");
			raw_total += (int64_t)raw_sum;
			check_chunk_stats(&x, md, from);
			cursor[i] = x.cur;
			free(x.dict.mem);
			free(x.dict.p);
			free(x.dict.n);
		}
		expect_i(fld_i(rg, 6, TT_I64, "RowGroup"), (int64_t)(off - rg_start),
		    "RowGroup.total_compressed_size");
		expect_i(fld_i(rg, 2, TT_I64, "RowGroup"), raw_total, "RowGroup.total_byte_size");
		total_rows += (uint64_t)rg_rows;
		layout->end[g] = off;
		layout->entry[g] = rg->span;
	}
	if (off != fstart)
		fz_fail("%zu bytes between the last chunk and the footer", fstart - off);
	expect_i((int64_t)total_rows, (int64_t)e->num_rows, "rows in the row groups");
	for (size_t i = 0; i < e->ncols; i++)
		if (cursor[i] != e->cols[i].nents)
			fz_fail("column %zu: %zu of %zu entries in the file", i, cursor[i],
			    e->cols[i].nents);
	free(cursor);
	t_free(&fm);
}
