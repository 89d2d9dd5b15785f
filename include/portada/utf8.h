/*
 * utf8: strict UTF-8 checking and cutting (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF).  Pure functions.
 */
#ifndef PORTADA_UTF8_H
#define PORTADA_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* n if s[0..n) is valid UTF-8, else the offset of the first bad sequence. */
size_t pw_utf8_check(const char *s, size_t n);

/* The longest prefix of valid UTF-8 s[0..n) no longer than max bytes that
 * ends on a character boundary. */
size_t pw_utf8_cut(const char *s, size_t n, size_t max);

/*
 * An upper bound for every string that starts with s[0..n) (valid UTF-8):
 * s with its last character replaced by the next code point (skipping
 * surrogates), dropping trailing U+10FFFF characters first.  Writes at
 * most n + 1 bytes into out and returns the length, or 0 if no bound
 * exists (s empty or all U+10FFFF).
 */
size_t pw_utf8_successor(const char *s, size_t n, char *out);

#endif
