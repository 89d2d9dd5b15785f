/*
 * Strict UTF-8 (see include/portada/utf8.h).
 */
#include <stdint.h>
#include <string.h>

#include "portada/utf8.h"

/* Most text is ASCII: skip it eight bytes at a time, then check the rest
 * one sequence at a time against the table in RFC 3629 section 4. */
size_t
pw_utf8_check(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			uint64_t w;

			while (i + 8 <= n) {
				memcpy(&w, s + i, 8);
				if (w & 0x8080808080808080ULL)
					break;
				i += 8;
			}
			while (i < n && s[i] < 0x80)
				i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
				return i;
			i += 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			unsigned char lo = 0x80, hi = 0xBF;

			if (c == 0xE0)
				lo = 0xA0;	/* overlong */
			else if (c == 0xED)
				hi = 0x9F;	/* surrogates */
			if (i + 2 >= n || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xC0) != 0x80)
				return i;
			i += 3;
		} else if (c >= 0xF0 && c <= 0xF4) {
			unsigned char lo = 0x80, hi = 0xBF;

			if (c == 0xF0)
				lo = 0x90;	/* overlong */
			else if (c == 0xF4)
				hi = 0x8F;	/* above U+10FFFF */
			if (i + 3 >= n || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
				return i;
			i += 4;
		} else {
			return i;
		}
	}
	return n;
}

size_t
pw_utf8_cut(const char *str, size_t n, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t k;

	if (n <= max)
		return n;
	/* Back off continuation bytes so the cut lands before a lead byte. */
	k = max;
	while (k > 0 && (s[k] & 0xC0) == 0x80)
		k--;
	return k;
}

static size_t
encode(uint32_t cp, unsigned char *o)
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
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* UTF-8's byte order is code point order, so bumping the last character
 * gives a string above everything that starts with the original. */
size_t
pw_utf8_successor(const char *str, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char *o = (unsigned char *)out;

	while (n > 0) {
		size_t start = n - 1, len;
		uint32_t cp;

		while (start > 0 && (s[start] & 0xC0) == 0x80)
			start--;
		len = n - start;
		if (len == 1)
			cp = s[start];
		else if (len == 2)
			cp = (uint32_t)(s[start] & 0x1F) << 6 | (s[start + 1] & 0x3F);
		else if (len == 3)
			cp = (uint32_t)(s[start] & 0x0F) << 12 |
			    (uint32_t)(s[start + 1] & 0x3F) << 6 | (s[start + 2] & 0x3F);
		else
			cp = (uint32_t)(s[start] & 0x07) << 18 |
			    (uint32_t)(s[start + 1] & 0x3F) << 12 |
			    (uint32_t)(s[start + 2] & 0x3F) << 6 | (s[start + 3] & 0x3F);
		if (cp < 0x10FFFF) {
			cp = cp == 0xD7FF ? 0xE000 : cp + 1;
			memcpy(o, s, start);
			return start + encode(cp, o + start);
		}
		n = start;	/* U+10FFFF has no successor: bump the one before */
	}
	return 0;
}
