/*
 * Test-only fault hooks.  A build configured with -Dfault_hooks=true (the
 * test builds of scripts/test.sh) reads PW_FAULT, a comma-separated list of
 * NAME or NAME:ARG; every other build compiles the hooks to constants, so a
 * shipped worker cannot be made to misbehave through its environment.
 *
 *   abort:TEXT     abort() when a file whose path contains TEXT starts reading
 *   fetch-stall:N  the Nth fetch reply is swallowed: the fetch loop stops
 *                  (what the watchdog must notice)
 */
#ifndef PORTADA_FAULT_H
#define PORTADA_FAULT_H

#include <stdbool.h>

#ifdef PW_FAULT_HOOKS
/* The ARG of NAME in PW_FAULT ("" for a bare NAME), or NULL when not set. */
const char *pw_fault_arg(const char *name);
#else
#define pw_fault_arg(name) ((const char *)NULL)
#endif

#endif
