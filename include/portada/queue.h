/*
 * queue: the first stage.  Takes file ids from the Redis list (files:all)
 * and acknowledges them when their status is written.
 *
 * In blmove mode (the default) an id moves atomically into this worker's
 * processing list (files:processing:<worker-id>) and leaves it only with the
 * LREM that acknowledges it, so an id is never only in the worker's memory.
 * The processing list is reconciled with memory at start, after every
 * reconnect and periodically: ids there that no job holds are taken up again.
 * Fetching runs on its own connection, because a blocking pop holds its
 * connection until an id arrives; everything else shares the second one.
 */
#ifndef PORTADA_QUEUE_H
#define PORTADA_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#include "portada/config.h"
#include "portada/redis.h"

struct pw_queue;

struct pw_queue_events {
	unsigned (*free_slots)(void *arg);
	bool (*has_id)(void *arg, const char *id);
	/* A new id, or one found in the processing list (recovered). */
	void (*take)(void *arg, const char *id, bool recovered);
	/* exit-when-idle: a fetch found the queue empty (it may have brought
	 * its last ids) and nothing is left to reconcile. */
	void (*idle)(void *arg);
	/* The command connection is (again) ready. */
	void (*cmd_ready)(void *arg);
	/* After pw_queue_stop(): the last pop's ids (if any) were taken; no more come. */
	void (*fetch_closed)(void *arg);
};

struct pw_queue *pw_queue_create(struct event_base *base, const struct pw_config *cfg,
    const struct pw_queue_events *events, void *arg);
void pw_queue_destroy(struct pw_queue *q);

void pw_queue_start(struct pw_queue *q);

/* Slots were freed: fetch more if the queue may have some. */
void pw_queue_kick(struct pw_queue *q);

/* The connection for every command but the pop. */
struct pw_redis *pw_queue_cmd(struct pw_queue *q);
/* Both connections are up (for /readyz). */
bool pw_queue_ready(const struct pw_queue *q);
/* Reconnections of either connection so far. */
unsigned long pw_queue_reconnects(const struct pw_queue *q);

/* Name of this worker's processing list. */
const char *pw_queue_processing_key(const struct pw_queue *q);

/*
 * Acknowledge id (its final status is written): fn(arg, 0) once the LREM
 * is done, fn(arg, -1) if it could not be sent or its reply was lost (the
 * caller retries when cmd_ready fires; LREM is idempotent), fn(arg, 1) if
 * Redis answered with an error (the connection is still up, so cmd_ready
 * will not fire: the caller retries after a delay).  Returns -1
 * without calling fn if the command connection is down, 1 without calling fn
 * when there is nothing to acknowledge (blpop mode).  id must stay valid
 * until fn runs.
 */
int pw_queue_ack(struct pw_queue *q, const char *id, void (*fn)(void *arg, int status),
    void *arg) PW_MUST_CHECK;

/*
 * Stop taking ids (drain).  A pop in flight is finished first (a blocking
 * one is unblocked) and its ids are still passed to take(); fetch_closed
 * fires once nothing more can come.
 */
void pw_queue_stop(struct pw_queue *q);

/* Close the fetch connection now, even with a pop in flight (drain gave up). */
void pw_queue_abandon_fetch(struct pw_queue *q);

/* After pw_queue_stop() and fetch_closed: take ids again, on a new fetch
 * connection (the worker paused for its lake and resumes). */
void pw_queue_restart(struct pw_queue *q);

/* Replies to pops so far: the watchdog's sign that fetching moves on. */
unsigned long pw_queue_fetch_replies(const struct pw_queue *q);
/* Fetching stopped though slots are free: drop the fetch connection (or
 * just fetch again if nothing is in flight on it). */
void pw_queue_unstick(struct pw_queue *q);
/* Compare the processing list with the jobs in memory now (blmove mode). */
void pw_queue_reconcile(struct pw_queue *q);

/*
 * Put unfinished ids back at the head of the queue, in their order, and set
 * their status back to pending.  In blmove mode that is the whole processing
 * list (ids is ignored); in blpop mode it is ids, oldest first.  fn(arg, n)
 * gets the number of ids moved, or -1 if Redis could not be reached.
 */
int pw_queue_requeue(struct pw_queue *q, const char *const *ids, size_t n_ids,
    void (*fn)(void *arg, long long moved), void *arg) PW_MUST_CHECK;

#endif
