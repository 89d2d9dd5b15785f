/*
 * worker: the whole daemon on one event loop.  Owns the queue, the file
 * source and the jobs in flight; handles signals, draining and
 * exit-when-idle.
 */
#ifndef PORTADA_WORKER_H
#define PORTADA_WORKER_H

#include "portada/config.h"

/* Run until stopped by a signal or, with exit_when_idle, an empty queue. Returns the exit status. */
int pw_worker_run(const struct pw_config *cfg);

#endif
