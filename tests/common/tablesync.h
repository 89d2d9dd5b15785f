/*
 * Test helpers: the asynchronous table calls (src/table.c), each run to its
 * end on the caller's event loop.  For tests and tools that have nothing
 * else to do meanwhile.
 */
#ifndef PORTADA_TEST_TABLESYNC_H
#define PORTADA_TEST_TABLESYNC_H

#include <stdbool.h>
#include <string.h>

#include <event2/event.h>

#include "portada/table.h"

struct ts_wait {
	bool		 done;
	bool		 failed;
	struct pw_error	 err;
	uint64_t	 version;
};

static inline void
ts_on_done(void *arg, const struct pw_error *err)
{
	struct ts_wait *w = arg;

	w->done = true;
	w->failed = err != NULL;
	if (err != NULL)
		w->err = *err;
}

static inline void
ts_on_commit(void *arg, uint64_t version, const struct pw_error *err)
{
	struct ts_wait *w = arg;

	w->version = version;
	ts_on_done(arg, err);
}

static inline void
ts_on_lookup(void *arg, struct pw_table_lookup *lk, const struct pw_error *err)
{
	(void)lk;
	ts_on_done(arg, err);
}

static inline int
ts_run(struct event_base *base, struct ts_wait *w, struct pw_error *err)
{
	while (!w->done)
		if (event_base_loop(base, EVLOOP_ONCE) == -1)
			return -1;
	if (w->failed && err != NULL)
		*err = w->err;
	return w->failed ? -1 : 0;
}

/* pw_table_new + pw_table_open; NULL (closed) on failure. */
static inline struct pw_table *
ts_open(struct event_base *base, struct pw_store *st, const struct pw_table_spec *spec,
    const char *version, struct pw_error *err)
{
	struct pw_table *t = pw_table_new(st, spec, version);
	struct ts_wait w;

	memset(&w, 0, sizeof w);
	pw_table_open(t, ts_on_done, &w);
	if (ts_run(base, &w, err) == -1) {
		pw_table_close(t);
		return NULL;
	}
	return t;
}

static inline int
ts_finish(struct event_base *base, struct pw_table_file *f, struct pw_error *err)
{
	struct ts_wait w;

	memset(&w, 0, sizeof w);
	if (pw_table_file_finish(f, ts_on_done, &w, err) == -1)
		return -1;
	return ts_run(base, &w, err);
}

static inline int
ts_commit(struct event_base *base, struct pw_table *t, struct pw_table_file *const *files,
    size_t nfiles, const char *const *ids, const uint64_t *records, size_t nids,
    uint64_t *version, struct pw_error *err)
{
	struct ts_wait w;

	memset(&w, 0, sizeof w);
	if (pw_table_commit(t, files, nfiles, ids, records, nids, ts_on_commit, &w, err) == -1)
		return -1;
	if (ts_run(base, &w, err) == -1)
		return -1;
	*version = w.version;
	return 0;
}

static inline int
ts_find(struct event_base *base, struct pw_table *t, const char *id, int64_t since_ms,
    bool *found, uint64_t *version, int64_t *records, struct pw_error *err)
{
	struct pw_table_lookup lk;
	struct ts_wait w;

	memset(&w, 0, sizeof w);
	memset(&lk, 0, sizeof lk);
	lk.id = id;
	lk.since_ms = since_ms;
	lk.done = ts_on_lookup;
	lk.arg = &w;
	pw_table_find_source(t, &lk);
	if (ts_run(base, &w, err) == -1)
		return -1;
	*found = lk.found;
	*version = lk.version;
	*records = lk.records;
	return 0;
}

#endif
