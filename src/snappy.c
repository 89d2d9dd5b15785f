/*
 * Snappy block compression (see include/portada/snappy.h).
 *
 * As google/snappy does it: the input is cut into 64 KiB fragments, each
 * compressed on its own, so every copy's offset fits the 2-byte form and
 * the hash table holds 16-bit positions.  Within a fragment, a position
 * whose 4 bytes match the last position with the same hash starts a copy,
 * extended as far as it goes; the bytes between copies are literals.  After
 * 32 misses in a row the scan takes bigger steps, so incompressible data
 * costs little.
 */
#include <string.h>

#include "portada/snappy.h"

#define FRAGMENT	65536
#define HASH_BITS	14
#define MARGIN		15	/* no copy starts this close to a fragment's end */

enum { LITERAL = 0, COPY1 = 1, COPY2 = 2 };

static uint32_t
load32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint32_t
hash(uint32_t v)
{
	return (v * 0x1e35a7bdu) >> (32 - HASH_BITS);
}

static unsigned char *
put_varint(unsigned char *op, uint32_t v)
{
	while (v >= 0x80) {
		*op++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*op++ = (unsigned char)v;
	return op;
}

/* Tag 00: length-1 in the tag below 60, else in the 1 to 4 bytes after it. */
static unsigned char *
put_literal(unsigned char *op, const unsigned char *p, size_t len)
{
	size_t n = len - 1;

	if (n < 60) {
		*op++ = (unsigned char)(LITERAL | n << 2);
	} else {
		unsigned char *tag = op++;
		int bytes = 0;

		while (n > 0) {
			*op++ = (unsigned char)n;
			n >>= 8;
			bytes++;
		}
		*tag = (unsigned char)(LITERAL | (59 + bytes) << 2);
	}
	memcpy(op, p, len);
	return op + len;
}

/* One copy of 4..64 bytes: tag 01 (11-bit offset, 4..11 bytes) or tag 10. */
static unsigned char *
put_copy1(unsigned char *op, size_t offset, size_t len)
{
	if (len < 12 && offset < 2048) {
		*op++ = (unsigned char)(COPY1 | (len - 4) << 2 | (offset >> 8) << 5);
		*op++ = (unsigned char)offset;
	} else {
		*op++ = (unsigned char)(COPY2 | (len - 1) << 2);
		*op++ = (unsigned char)offset;
		*op++ = (unsigned char)(offset >> 8);
	}
	return op;
}

/* A copy of any length from 4: pieces of 64, never leaving less than 4. */
static unsigned char *
put_copy(unsigned char *op, size_t offset, size_t len)
{
	while (len >= 68) {
		op = put_copy1(op, offset, 64);
		len -= 64;
	}
	if (len > 64) {
		op = put_copy1(op, offset, 60);
		len -= 60;
	}
	return put_copy1(op, offset, len);
}

static unsigned char *
fragment(const unsigned char *in, size_t n, unsigned char *op, uint16_t *table)
{
	size_t ip = 1, lit = 0, limit, skip = 32;

	if (n < MARGIN)
		goto tail;
	limit = n - MARGIN;
	memset(table, 0, sizeof(uint16_t) << HASH_BITS);
	while (ip < limit) {
		uint32_t v = load32(in + ip), h = hash(v);
		size_t cand = table[h], len;

		table[h] = (uint16_t)ip;
		if (cand >= ip || load32(in + cand) != v) {
			ip += skip++ >> 5;
			continue;
		}
		if (ip > lit)
			op = put_literal(op, in + lit, ip - lit);
		for (len = 4; ip + len < n && in[cand + len] == in[ip + len]; len++)
			;
		op = put_copy(op, ip - cand, len);
		ip += len;
		lit = ip;
		skip = 32;
		/* The position just before the next one seeds the table too. */
		if (ip < limit)
			table[hash(load32(in + ip - 1))] = (uint16_t)(ip - 1);
	}
tail:
	if (n > lit)
		op = put_literal(op, in + lit, n - lit);
	return op;
}

size_t
pw_snappy_bound(size_t n)
{
	return 32 + n + n / 6;
}

size_t
pw_snappy_compress(const void *src, size_t n, void *dst)
{
	const unsigned char *in = src;
	unsigned char *op = dst;
	uint16_t table[1 << HASH_BITS];

	op = put_varint(op, (uint32_t)n);
	for (size_t off = 0; off < n; off += FRAGMENT)
		op = fragment(in + off, n - off < FRAGMENT ? n - off : FRAGMENT, op, table);
	return (size_t)(op - (unsigned char *)dst);
}
