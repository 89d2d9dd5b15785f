/*
 * The error convention (see include/portada/error.h): reasons in a
 * caller-owned buffer, and allocation that aborts instead of failing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/error.h"

static void
mark_truncated(char *msg, size_t size, int n)
{
	size_t cut = size - 4;

	if (n < 0 || (size_t)n < size)
		return;
	/* The reason goes into Redis and logs: never cut a UTF-8 character in two. */
	while (cut > 0 && ((unsigned char)msg[cut] & 0xC0) == 0x80)
		cut--;
	memcpy(msg + cut, "...", 4);
}

void
pw_error_set(struct pw_error *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	mark_truncated(err->msg, sizeof err->msg, n);
}

void
pw_error_prefix(struct pw_error *err, const char *fmt, ...)
{
	char old[PW_ERROR_MAX];
	char prefix[PW_ERROR_MAX];
	va_list ap;
	int n;

	if (err == NULL)
		return;
	memcpy(old, err->msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	n = snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
	mark_truncated(err->msg, sizeof err->msg, n);
}

static void
out_of_memory(size_t size)
{
	/* Not through log.c: it may need memory itself. */
	fprintf(stderr, "portada-worker: out of memory (asked for %zu bytes)\n", size);
	abort();
}

void *
pw_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *
pw_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(n * size);
	return p;
}

void *
pw_xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

char *
pw_xstrndup(const char *s, size_t n)
{
	char *p = pw_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
pw_xstrdup(const char *s)
{
	return pw_xstrndup(s, strlen(s));
}
