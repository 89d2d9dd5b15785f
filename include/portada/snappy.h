/*
 * snappy: a raw Snappy block compressor (google/snappy's
 * format_description.txt), the form Parquet's SNAPPY codec stores.
 *
 * Our own so that the worker does not link libsnappy, which is C++ and maps
 * libstdc++ (0.9 MiB resident) into every worker.  Greedy, like snappy's own:
 * 64 KiB fragments, a hash table of 4-byte sequences, literals and copies.
 * Pure: no I/O, no allocation.
 */
#ifndef PORTADA_SNAPPY_H
#define PORTADA_SNAPPY_H

#include <stddef.h>
#include <stdint.h>

/* The format's length preamble is 32 bits. */
#define PW_SNAPPY_MAX_INPUT	((size_t)UINT32_MAX)

/* The most bytes compressing n bytes can produce (snappy's own bound). */
size_t pw_snappy_bound(size_t n);

/*
 * Compress src[0..n) into dst, which holds pw_snappy_bound(n) bytes;
 * returns the compressed length.  n must not exceed PW_SNAPPY_MAX_INPUT.
 */
size_t pw_snappy_compress(const void *src, size_t n, void *dst);

#endif
