/*
 * fz_fail() for the targets that have no fuzzer-specific summary to print
 * (fuzz_jsonscan.c, fuzz_records.c, fuzz_deltalog.c); fuzz_parquet.c has
 * its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

_Noreturn void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz oracle failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}
