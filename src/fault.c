/* Test-only fault hooks: see include/portada/fault.h. */
#include "portada/fault.h"

#ifdef PW_FAULT_HOOKS
#include <stdlib.h>
#include <string.h>

/* PW_FAULT split at its commas once; the results stay valid for good. */
const char *
pw_fault_arg(const char *name)
{
	static char buf[512];
	static size_t len;
	static bool parsed;
	size_t n = strlen(name), i;

	if (!parsed) {
		const char *spec = getenv("PW_FAULT");

		parsed = true;
		if (spec != NULL && strlen(spec) < sizeof buf) {
			len = strlen(spec);
			memcpy(buf, spec, len);
			for (i = 0; i < len; i++)
				if (buf[i] == ',')
					buf[i] = '\0';
		}
	}
	for (i = 0; i < len; i += strlen(buf + i) + 1)
		if (strncmp(buf + i, name, n) == 0 && (buf[i + n] == '\0' || buf[i + n] == ':'))
			return buf[i + n] == ':' ? buf + i + n + 1 : buf + i + n;
	return NULL;
}
#else
typedef int pw_fault_unused;	/* ISO C wants a translation unit to hold something */
#endif
