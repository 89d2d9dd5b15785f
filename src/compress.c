/*
 * Page compression for the Parquet encoder (see include/portada/compress.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "portada/compress.h"
#include "portada/error.h"
#include "portada/snappy.h"

struct pw_compressor {
	enum pw_pq_codec codec;
	int		 level;
	ZSTD_CCtx	*zstd;
	z_stream	 z;
	int		 z_ready;	/* deflateInit2() done */
};

struct pw_compressor *
pw_compressor_create(enum pw_pq_codec codec, int level, struct pw_error *err)
{
	struct pw_compressor *c;

	switch (codec) {
	case PW_PQ_UNCOMPRESSED:
	case PW_PQ_SNAPPY:
		if (level != 0) {
			pw_error_set(err, "codec %s takes no level (got %d)",
			    pw_pq_codec_name(codec), level);
			return NULL;
		}
		break;
	case PW_PQ_ZSTD:
		if (level < 0 || level > ZSTD_maxCLevel()) {
			pw_error_set(err, "zstd level %d is outside 1..%d", level,
			    ZSTD_maxCLevel());
			return NULL;
		}
		break;
	case PW_PQ_GZIP:
		if (level < 0 || level > 9) {
			pw_error_set(err, "gzip level %d is outside 1..9", level);
			return NULL;
		}
		break;
	default:
		pw_error_set(err, "unknown compression codec %d", (int)codec);
		return NULL;
	}

	c = pw_xcalloc(1, sizeof *c);
	c->codec = codec;
	c->level = level;
	if (codec == PW_PQ_ZSTD) {
		c->zstd = ZSTD_createCCtx();
		if (c->zstd == NULL)
			goto nomem;
		/* 3 is zstd's own default and what DuckDB and Arrow use. */
		if (ZSTD_isError(ZSTD_CCtx_setParameter(c->zstd,
		    ZSTD_c_compressionLevel, level == 0 ? 3 : level)))
			goto nomem;
	} else if (codec == PW_PQ_GZIP) {
		/* windowBits 15 + 16: a gzip wrapper, not zlib's. */
		if (deflateInit2(&c->z, level == 0 ? 6 : level, Z_DEFLATED,
		    15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			goto nomem;
		c->z_ready = 1;
	}
	return c;

nomem:
	pw_error_set(err, "cannot set up %s compression", pw_pq_codec_name(codec));
	pw_compressor_destroy(c);
	return NULL;
}

void
pw_compressor_destroy(struct pw_compressor *c)
{
	if (c == NULL)
		return;
	ZSTD_freeCCtx(c->zstd);
	if (c->z_ready)
		deflateEnd(&c->z);
	free(c);
}

size_t
pw_compress_bound(const struct pw_compressor *c, size_t n)
{
	switch (c->codec) {
	case PW_PQ_ZSTD:
		return ZSTD_compressBound(n);
	case PW_PQ_SNAPPY:
		return pw_snappy_bound(n);
	case PW_PQ_GZIP:
		/* deflateBound() assumes a zlib header; gzip's is 12 bytes longer. */
		return n + n / 1000 + 64 + (n >> 12) + (n >> 14) + (n >> 25) + 13 + 18;
	default:
		return n;
	}
}

static int
gzip(struct pw_compressor *c, const void *src, size_t n, unsigned char *dst,
    size_t cap, size_t *outlen)
{
	int rc;

	if (n > UINT_MAX || cap > UINT_MAX)
		return -1;
	if (deflateReset(&c->z) != Z_OK)
		return -1;
	c->z.next_in = (Bytef *)(uintptr_t)src;
	c->z.avail_in = (uInt)n;
	c->z.next_out = dst;
	c->z.avail_out = (uInt)cap;
	rc = deflate(&c->z, Z_FINISH);
	if (rc != Z_STREAM_END)
		return -1;
	*outlen = cap - c->z.avail_out;
	return 0;
}

/* Reserve the worst case, compress in place, then keep what was used. */
int
pw_compress(struct pw_compressor *c, const void *src, size_t n, struct pw_buf *out,
    struct pw_error *err)
{
	size_t bound, got;
	unsigned char *dst;

	if (c->codec == PW_PQ_UNCOMPRESSED) {
		if (pw_buf_append(out, src, n) == -1)
			goto toobig;
		return 0;
	}
	bound = pw_compress_bound(c, n);
	if (pw_buf_reserve(out, bound) == -1)
		goto toobig;
	dst = out->data + out->len;
	got = bound;
	switch (c->codec) {
	case PW_PQ_ZSTD:
		got = ZSTD_compress2(c->zstd, dst, bound, src, n);
		if (ZSTD_isError(got)) {
			pw_error_set(err, "zstd: %s", ZSTD_getErrorName(got));
			return -1;
		}
		break;
	case PW_PQ_SNAPPY:
		if (n > PW_SNAPPY_MAX_INPUT) {
			pw_error_set(err, "a page of %zu bytes is too big for snappy (4 GiB at most)", n);
			return -1;
		}
		got = pw_snappy_compress(src, n, dst);
		break;
	case PW_PQ_GZIP:
		if (gzip(c, src, n, dst, bound, &got) == -1) {
			pw_error_set(err, "gzip compression failed");
			return -1;
		}
		break;
	default:
		abort();
	}
	out->len += got;
	return 0;

toobig:
	pw_error_set(err, "a compressed page of %zu bytes does not fit in memory limit", n);
	return -1;
}
