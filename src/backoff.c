/* backoff: capped exponential delays with jitter; see backoff.h. */
#include <stdlib.h>

#include "portada/backoff.h"

double
pw_backoff_at(double first, double max, unsigned n, double u)
{
	double d = first;

	for (unsigned i = 0; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	if (u < 0)
		u = 0;
	if (u > 1)
		u = 1;
	return d / 2 + d / 2 * u;
}

double
pw_backoff(double first, double max, unsigned n)
{
	return pw_backoff_at(first, max, n, (double)random() / (double)RAND_MAX);
}

struct timeval
pw_timeval(double seconds)
{
	struct timeval tv;

	if (seconds < 0)
		seconds = 0;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	return tv;
}
