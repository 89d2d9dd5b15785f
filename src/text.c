/*
 * Numbers as text (see include/portada/text.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/text.h"

/* Fewest digits first: starting at 15 would miss short forms such as
 * 5e-324, whose 15-digit form also reads back. */
void
pw_text_double(double d, char out[PW_TEXT_DOUBLE_SIZE])
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, PW_TEXT_DOUBLE_SIZE, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	if (strpbrk(out, ".en") == NULL)
		strcat(out, ".0");
}
