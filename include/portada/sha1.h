/*
 * sha1: SHA-1 (FIPS 180-4), only to name Lua scripts for EVALSHA the way
 * Redis does.  Not for anything that needs a secure hash.  Pure: no I/O,
 * no allocation.
 */
#ifndef PORTADA_SHA1_H
#define PORTADA_SHA1_H

#include <stddef.h>

#define PW_SHA1_SIZE	20

void pw_sha1(const void *data, size_t n, unsigned char out[PW_SHA1_SIZE]);

#endif
