/*
 * backoff: how long to wait before trying again, for everything that
 * retries (Redis connections and error replies, the fetch loop, a paused
 * lake).  Pure code.
 *
 * The nth retry (n from 0) waits first * 2^n, capped at max, jittered
 * over the upper half: between half of that and all of it, so that many
 * workers, or many files of one worker, do not come back in step.
 */
#ifndef PORTADA_BACKOFF_H
#define PORTADA_BACKOFF_H

#include <sys/time.h>

/* The delay before the nth retry; u in [0, 1] picks the point in the upper half. */
double pw_backoff_at(double first, double max, unsigned n, double u);
/* The same with u from random(). */
double pw_backoff(double first, double max, unsigned n);
/* Seconds as a struct timeval (negative as 0). */
struct timeval pw_timeval(double seconds);

#endif
