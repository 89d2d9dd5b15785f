/*
 * sha256: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for SigV4.
 *
 * Our own so that the worker does not link libcrypto (1.4 MiB resident for
 * two functions).  Pure: no I/O, no allocation.
 */
#ifndef PORTADA_SHA256_H
#define PORTADA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PW_SHA256_SIZE	32
#define PW_SHA256_BLOCK	64

/* Embedded state: init, update any number of times, final. */
struct pw_sha256 {
	uint32_t	h[8];
	uint64_t	len;			/* bytes so far */
	unsigned char	buf[PW_SHA256_BLOCK];	/* a partial block */
	size_t		n;			/* bytes in buf */
};

void pw_sha256_init(struct pw_sha256 *s);
void pw_sha256_update(struct pw_sha256 *s, const void *data, size_t n);
void pw_sha256_final(struct pw_sha256 *s, unsigned char out[PW_SHA256_SIZE]);

/* One-shot digest of data. */
void pw_sha256(const void *data, size_t n, unsigned char out[PW_SHA256_SIZE]);

/* HMAC-SHA256 of msg under key (any length). */
void pw_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t n,
    unsigned char out[PW_SHA256_SIZE]);

#endif
