/*
 * compress: one page at a time through zstd, snappy or gzip (Debian's
 * libzstd and zlib, our own snappy.c), for the Parquet encoder.
 *
 * A compressor keeps its codec state between pages, so a file's thousands
 * of pages share one zstd context or one deflate stream instead of
 * allocating per page.
 */
#ifndef PORTADA_COMPRESS_H
#define PORTADA_COMPRESS_H

#include <stddef.h>

#include "portada/buf.h"
#include "portada/error.h"
#include "portada/parquet.h"

struct pw_compressor;

/* NULL with err set if the codec is unknown or level is out of its range
 * (zstd 1..22, gzip 1..9, none and snappy take only 0). 0 = the default. */
struct pw_compressor *pw_compressor_create(enum pw_pq_codec codec, int level,
    struct pw_error *err);
void pw_compressor_destroy(struct pw_compressor *c);

/* The most bytes compressing n bytes can produce. */
size_t pw_compress_bound(const struct pw_compressor *c, size_t n);

/*
 * Append the compressed form of src[0..n) to out: a zstd frame, a raw
 * snappy block, or an RFC 1952 gzip member, as Parquet's Compression.md
 * requires.  -1 with err set (out unchanged) if out's limit is too small
 * or the library fails.
 */
int pw_compress(struct pw_compressor *c, const void *src, size_t n,
    struct pw_buf *out, struct pw_error *err) PW_MUST_CHECK;

#endif
