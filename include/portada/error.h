/*
 * The error convention of portada-worker, written down once.
 *
 * - A function that can fail returns int: 0 on success, -1 on failure.  A
 *   function that returns a pointer returns NULL on failure.  Nothing else
 *   signals failure (no errno across module boundaries, no magic values).
 * - If the failure has a reason a person could act on, the function fills a
 *   caller-owned struct pw_error with one complete sentence fragment that
 *   names what was wrong and where: "invalid JSON at line 40, column 7:
 *   expected ',' or ']'".  The caller may prefix context ("file X: ...") with
 *   pw_error_prefix() but never replaces the reason.  That text is what ends
 *   up in a file's error_message, so it must not contain secrets.
 * - Out of memory is not an error a caller handles: pw_xmalloc() and friends
 *   log and abort.  Nothing is lost by that, because every id in flight is
 *   still in the worker's processing list and is taken up again on restart.
 * - Programming errors (broken invariants) are assert()s.
 */
#ifndef PORTADA_ERROR_H
#define PORTADA_ERROR_H

#include <stddef.h>

#define PW_ERROR_MAX 512

struct pw_error {
	char msg[PW_ERROR_MAX];
};

#if defined(__GNUC__)
#define PW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define PW_MUST_CHECK __attribute__((warn_unused_result))
#else
#define PW_PRINTF(f, a)
#define PW_MUST_CHECK
#endif

/* Set the reason, truncating (with "...") if it does not fit.  err may be NULL. */
void pw_error_set(struct pw_error *err, const char *fmt, ...) PW_PRINTF(2, 3);

/* Put "<prefix>: " in front of the reason already in err. */
void pw_error_prefix(struct pw_error *err, const char *fmt, ...) PW_PRINTF(2, 3);

/* Allocation that never returns NULL: on failure it logs and aborts. */
void *pw_xmalloc(size_t size);
void *pw_xcalloc(size_t n, size_t size);
void *pw_xrealloc(void *ptr, size_t size);
char *pw_xstrdup(const char *s);
char *pw_xstrndup(const char *s, size_t n);

#endif
