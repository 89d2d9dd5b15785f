/*
 * Numbers as text (see include/portada/text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/text.h"

/*
 * Python's repr(float): the fewest significant digits that read back as d
 * (found by trying 1 to 17; starting at 15 would miss short forms such as
 * 5e-324), then fixed notation for exponents -4 to 15 and scientific
 * notation outside them.
 */
void
pw_text_double(double d, char out[PW_TEXT_DOUBLE_SIZE])
{
	char e[40], digits[20], *p = out;
	int prec, exp, n = 0;
	const char *q;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	/* e is "[-]D[.DDD]e[+-]XX": split it into digits and exponent. */
	q = e;
	if (*q == '-')
		*p++ = *q++;
	for (; *q != 'e'; q++)
		if (*q != '.')
			digits[n++] = *q;
	digits[n] = '\0';
	exp = atoi(q + 1);
	if (exp < -4 || exp >= 16) {
		*p++ = digits[0];
		if (n > 1) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)n - 1);
			p += n - 1;
		}
		snprintf(p, (size_t)(out + PW_TEXT_DOUBLE_SIZE - p), "e%c%02d", exp < 0 ? '-' : '+',
		    exp < 0 ? -exp : exp);
		return;
	}
	if (exp < 0) {
		/* 0.000DDD */
		memcpy(p, "0.", 2);
		p += 2;
		for (int i = -1; i > exp; i--)
			*p++ = '0';
		memcpy(p, digits, (size_t)n + 1);
		return;
	}
	/* DDD.DDD, with at least one digit after the point */
	for (int i = 0; i <= exp; i++)
		*p++ = i < n ? digits[i] : '0';
	*p++ = '.';
	if (n > exp + 1) {
		memcpy(p, digits + exp + 1, (size_t)(n - exp - 1));
		p += n - exp - 1;
	} else
		*p++ = '0';
	*p = '\0';
}
