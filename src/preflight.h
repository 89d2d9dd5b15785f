/*
 * preflight: what the worker checks at start and says in one "preflight"
 * log line each.  Private to the worker (it reads struct pw_worker).
 *
 * Local checks run once the tables are open, before the loop: the lake is
 * writable (a probe file created, synced and removed; free space), each
 * ingest root is a readable directory.  The Redis checks run when the
 * command connection is first ready, over it, without blocking the loop:
 * the version (the fetch commands need 6.2), maxmemory-policy and what a
 * Redis restart would lose.
 */
#ifndef PORTADA_PREFLIGHT_H
#define PORTADA_PREFLIGHT_H

struct pw_worker;

/* The Redis version the worker's commands need (BLMOVE, LMOVE, LPOP count). */
#define PREFLIGHT_REDIS_MAJOR	6
#define PREFLIGHT_REDIS_MINOR	2

/* Lake and ingest roots; -1 (logged) when the worker cannot run: exit 2. */
int preflight_local(struct pw_worker *w);

/*
 * The command connection is ready: the first time (and again if a reply
 * was lost before every answer came), send the Redis checks.  A Redis too
 * old stops the worker with exit status 2.
 */
void preflight_redis(struct pw_worker *w);

#endif
