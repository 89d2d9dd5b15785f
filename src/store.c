/*
 * The lake's storage behind one interface (see include/portada/store.h):
 * a local directory through lake.c, or S3 through s3.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "portada/buf.h"
#include "portada/lake.h"
#include "portada/log.h"
#include "portada/s3.h"
#include "portada/store.h"

struct op {
	TAILQ_ENTRY(op)		 link;
	struct pw_store		*st;
	struct event		*ev;		/* local: delivers res from the loop */
	struct pw_s3_call	*call;		/* s3: the call in flight */
	pw_store_done_fn	 done;
	void			*arg;
	struct pw_store_result	 res;
	struct pw_buf		 buf;		/* get */
	char			**names;	/* list */
	size_t			 nnames;
};

struct pw_store {
	struct event_base	*base;
	char			*name;
	char			*dir;		/* local, or NULL */
	struct pw_s3		*s3;		/* S3, or NULL */
	TAILQ_HEAD(, op)	 ops;
	TAILQ_HEAD(, pw_store_writer) writers;
};

struct pw_store_writer {
	TAILQ_ENTRY(pw_store_writer) link;
	struct pw_store		*st;
	struct pw_lake_file	 lf;		/* local */
	struct pw_s3_upload	*up;		/* S3 */
	struct event		*ev;
	struct pw_store_result	 res;
	bool			 failed;	/* local: a write failed; res says why */
	bool			 closed;	/* close() was called: done() may come */
	bool			 ended;		/* S3: the upload ended before close() */
	uint64_t		 size;
	pw_store_done_fn	 done;
	void			*arg;
};

struct pw_store *
pw_store_open(struct event_base *base, struct pw_http *http, const char *lake,
    pw_store_getenv_fn env, struct pw_error *err)
{
	struct pw_store *st = pw_xcalloc(1, sizeof *st);

	st->base = base;
	TAILQ_INIT(&st->ops);
	TAILQ_INIT(&st->writers);
	st->name = pw_xstrdup(lake);
	if (strncmp(lake, "s3://", 5) == 0) {
		struct pw_s3_config cfg;

		if (http == NULL) {
			pw_error_set(err, "%s: an S3 lake needs the HTTP client", lake);
			goto fail;
		}
		if (pw_s3_config_parse(&cfg, lake, env, err) == -1)
			goto fail;
		st->s3 = pw_s3_create(base, http, &cfg, err);
		pw_s3_config_finish(&cfg);
		if (st->s3 == NULL)
			goto fail;
		return st;
	}
	if (pw_lake_mkdirs(lake, err) == -1)
		goto fail;
	st->dir = pw_xstrdup(lake);
	return st;

fail:
	pw_store_close(st);
	return NULL;
}

static void
op_free(struct op *o)
{
	TAILQ_REMOVE(&o->st->ops, o, link);
	if (o->ev != NULL)
		event_free(o->ev);
	pw_buf_finish(&o->buf);
	pw_lake_names_free(o->names, o->nnames);
	free(o);
}

void
pw_store_close(struct pw_store *st)
{
	struct pw_store_writer *w;
	struct op *o;

	if (st == NULL)
		return;
	while ((w = TAILQ_FIRST(&st->writers)) != NULL)
		pw_store_writer_abort(w);
	/* s3 calls first: they are dropped without callbacks, then their ops. */
	pw_s3_destroy(st->s3);
	while ((o = TAILQ_FIRST(&st->ops)) != NULL)
		op_free(o);
	free(st->dir);
	free(st->name);
	free(st);
}

void
pw_store_error_counts(const struct pw_store *st, unsigned long out[PW_S3_ERRORS])
{
	if (st != NULL && st->s3 != NULL)
		pw_s3_error_counts(st->s3, out);
}

const char *
pw_store_name(const struct pw_store *st)
{
	return st->name;
}

int
pw_store_mkdir(struct pw_store *st, const char *prefix, struct pw_error *err)
{
	char *dir;
	int rc;

	if (st->s3 != NULL)
		return 0;
	dir = pw_lake_join(st->dir, prefix);
	rc = pw_lake_mkdirs(dir, err);
	free(dir);
	return rc;
}

/* ---- calls ---- */

static void
deliver(evutil_socket_t fd, short what, void *arg)
{
	struct op *o = arg;

	(void)fd;
	(void)what;
	o->res.data = o->buf.data;
	o->res.len = o->buf.len;
	o->res.names = o->names;
	o->res.nnames = o->nnames;
	o->done(o->arg, &o->res);
	op_free(o);
}

static struct op *
op_new(struct pw_store *st, pw_store_done_fn done, void *arg)
{
	struct op *o = pw_xcalloc(1, sizeof *o);

	o->st = st;
	o->done = done;
	o->arg = arg;
	TAILQ_INSERT_TAIL(&st->ops, o, link);
	return o;
}

/* Local: the work is done; hand the result over from the loop. */
static void
later(struct op *o)
{
	static const struct timeval now = { 0, 0 };

	o->ev = evtimer_new(o->st->base, deliver, o);
	if (o->ev == NULL)
		pw_fatal("cannot create a storage event");
	evtimer_add(o->ev, &now);
}

static enum pw_store_status
from_s3(enum pw_s3_status s)
{
	switch (s) {
	case PW_S3_OK:
		return PW_STORE_OK;
	case PW_S3_MISSING:
		return PW_STORE_MISSING;
	case PW_S3_EXISTS:
		return PW_STORE_EXISTS;
	default:
		return PW_STORE_FAILED;
	}
}

static void
on_s3(void *arg, const struct pw_s3_result *r)
{
	struct op *o = arg;

	o->res.status = from_s3(r->status);
	o->res.error = r->error;
	if (r->status == PW_S3_OK && r->body != NULL) {
		o->res.data = r->body->data;
		o->res.len = r->body->len;
	}
	o->res.names = r->keys;
	o->res.nnames = r->nkeys;
	o->call = NULL;
	o->done(o->arg, &o->res);
	op_free(o);
}

/* "dir/a/b/name" → its directory and its name, newly allocated. */
static void
split(const struct pw_store *st, const char *key, char **dir, char **name)
{
	const char *slash = strrchr(key, '/');
	char *sub = slash != NULL ? pw_xstrndup(key, (size_t)(slash - key)) : pw_xstrdup("");

	*dir = sub[0] != '\0' ? pw_lake_join(st->dir, sub) : pw_xstrdup(st->dir);
	*name = pw_xstrdup(slash != NULL ? slash + 1 : key);
	free(sub);
}

void
pw_store_put_if_absent(struct pw_store *st, const char *key, const void *data, size_t len,
    pw_store_done_fn done, void *arg)
{
	struct op *o = op_new(st, done, arg);
	char *dir, *name;
	bool taken = false;

	if (st->s3 != NULL) {
		o->call = pw_s3_put(st->s3, key, data, len, true, on_s3, o);
		return;
	}
	split(st, key, &dir, &name);
	if (pw_lake_put_if_absent(dir, name, data, len, &taken, &o->res.error) == 0)
		o->res.status = PW_STORE_OK;
	else
		o->res.status = taken ? PW_STORE_EXISTS : PW_STORE_FAILED;
	free(dir);
	free(name);
	later(o);
}

void
pw_store_get(struct pw_store *st, const char *key, size_t max, pw_store_done_fn done, void *arg)
{
	struct op *o = op_new(st, done, arg);
	char *path;
	bool missing = false;

	if (st->s3 != NULL) {
		o->call = pw_s3_get(st->s3, key, max, on_s3, o);
		return;
	}
	path = pw_lake_join(st->dir, key);
	/* lake.c reads in 4 KiB steps past the size; max itself is checked by it. */
	pw_buf_init(&o->buf, max < SIZE_MAX - 4096 ? max + 4096 : SIZE_MAX);
	if (pw_lake_read(path, max, &o->buf, &missing, &o->res.error) == -1)
		o->res.status = PW_STORE_FAILED;
	else
		o->res.status = missing ? PW_STORE_MISSING : PW_STORE_OK;
	free(path);
	later(o);
}

void
pw_store_list(struct pw_store *st, const char *prefix, pw_store_done_fn done, void *arg)
{
	struct op *o = op_new(st, done, arg);
	char *dir;

	if (st->s3 != NULL) {
		o->call = pw_s3_list(st->s3, prefix, on_s3, o);
		return;
	}
	dir = pw_lake_join(st->dir, prefix);
	o->names = pw_lake_list(dir, &o->nnames, &o->res.error);
	o->res.status = o->names != NULL ? PW_STORE_OK : PW_STORE_FAILED;
	free(dir);
	later(o);
}

void
pw_store_delete(struct pw_store *st, const char *key, pw_store_done_fn done, void *arg)
{
	struct op *o = op_new(st, done, arg);
	char *path;

	if (st->s3 != NULL) {
		o->call = pw_s3_delete(st->s3, key, on_s3, o);
		return;
	}
	path = pw_lake_join(st->dir, key);
	o->res.status = pw_lake_remove(path, &o->res.error) == 0 ? PW_STORE_OK : PW_STORE_FAILED;
	free(path);
	later(o);
}

/* ---- the conditional-write probe ---- */

struct probe {
	struct pw_store		*st;
	char			*key;
	char			 a[64], b[64];
	char			*data;		/* pw_store_check_writes() */
	pw_store_done_fn	 done;
	void			*arg;
	struct pw_store_result	 res;
};

static void
probe_end(struct probe *p)
{
	p->done(p->arg, &p->res);
	free(p->key);
	free(p);
}

static void
probe_write_failed(struct probe *p, const struct pw_store_result *r)
{
	p->res.status = PW_STORE_FAILED;
	p->res.error = r->error;
	pw_error_prefix(&p->res.error, "%s: cannot write to the lake", p->st->name);
	probe_end(p);
}

static void
on_probe_deleted(void *arg, const struct pw_store_result *r)
{
	struct probe *p = arg;

	if (r->status != PW_STORE_OK)
		log_warn(NULL, "store", "%s/%s: could not remove the probe: %s",
		    p->st->name, p->key, r->error.msg);
	probe_end(p);
}

static void
on_probe_second(void *arg, const struct pw_store_result *r)
{
	struct probe *p = arg;

	if (r->status == PW_STORE_EXISTS) {
		p->res.status = PW_STORE_OK;
	} else if (r->status == PW_STORE_OK) {
		p->res.status = PW_STORE_FAILED;
		pw_error_set(&p->res.error, "%s: the store ignores If-None-Match: * (a second "
		    "conditional PUT of %s succeeded), so two workers could take the same Delta "
		    "version; use storage with conditional writes (AWS S3, MinIO, Cloudflare R2)",
		    p->st->name, p->key);
	} else {
		p->res.status = PW_STORE_FAILED;
		p->res.error = r->error;
	}
	pw_store_delete(p->st, p->key, on_probe_deleted, p);
}

static void
on_probe_first(void *arg, const struct pw_store_result *r)
{
	struct probe *p = arg;

	if (r->status != PW_STORE_OK) {
		probe_write_failed(p, r);
		return;
	}
	pw_store_put_if_absent(p->st, p->key, p->b, strlen(p->b), on_probe_second, p);
}

void
pw_store_probe(struct pw_store *st, pw_store_done_fn done, void *arg)
{
	struct probe *p = pw_xcalloc(1, sizeof *p);
	char uuid[37];

	p->st = st;
	p->done = done;
	p->arg = arg;
	pw_lake_uuid(uuid);
	p->key = pw_xmalloc(sizeof "_portada/probe-" + sizeof uuid);
	snprintf(p->key, sizeof "_portada/probe-" + sizeof uuid, "_portada/probe-%s", uuid);
	snprintf(p->a, sizeof p->a, "first %s\n", uuid);
	snprintf(p->b, sizeof p->b, "second %s\n", uuid);
	if (st->s3 == NULL) {
		/* link() cannot ignore EEXIST: nothing to find out. */
		struct op *o = op_new(st, done, arg);

		o->res.status = PW_STORE_OK;
		later(o);
		free(p->key);
		free(p);
		return;
	}
	pw_store_put_if_absent(st, p->key, p->a, strlen(p->a), on_probe_first, p);
}

/* ---- can it take writes again? ---- */

#define WRITE_PROBE_BYTES	(64 * 1024)	/* about a small data file */

static void
on_write_probe(void *arg, const struct pw_store_result *r)
{
	struct probe *p = arg;

	free(p->data);
	p->data = NULL;
	if (r->status != PW_STORE_OK) {
		probe_write_failed(p, r);
		return;
	}
	p->res.status = PW_STORE_OK;
	pw_store_delete(p->st, p->key, on_probe_deleted, p);
}

void
pw_store_check_writes(struct pw_store *st, pw_store_done_fn done, void *arg)
{
	struct probe *p;
	struct pw_error err;
	char uuid[37];

	if (pw_store_mkdir(st, "_portada/", &err) == -1) {
		struct op *o = op_new(st, done, arg);

		o->res.status = PW_STORE_FAILED;
		o->res.error = err;
		later(o);
		return;
	}
	p = pw_xcalloc(1, sizeof *p);
	p->st = st;
	p->done = done;
	p->arg = arg;
	pw_lake_uuid(uuid);
	p->key = pw_xmalloc(sizeof "_portada/probe-" + sizeof uuid);
	snprintf(p->key, sizeof "_portada/probe-" + sizeof uuid, "_portada/probe-%s", uuid);
	/* Not zeros: a file system that compresses must still find room. */
	p->data = pw_xmalloc(WRITE_PROBE_BYTES);
	for (size_t i = 0; i < WRITE_PROBE_BYTES; i++)
		p->data[i] = (char)("0123456789abcdef"[(i * 2654435761u >> 7) & 15]);
	pw_store_put_if_absent(st, p->key, p->data, WRITE_PROBE_BYTES, on_write_probe, p);
}

/* ---- writers ---- */

static void
writer_free(struct pw_store_writer *w)
{
	TAILQ_REMOVE(&w->st->writers, w, link);
	if (w->ev != NULL)
		event_free(w->ev);
	pw_lake_file_abort(&w->lf);
	pw_s3_upload_free(w->up);
	free(w);
}

static void
writer_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct pw_store_writer *w = arg;

	(void)fd;
	(void)what;
	w->done(w->arg, &w->res);
	writer_free(w);
}

static void
writer_later(struct pw_store_writer *w)
{
	static const struct timeval now = { 0, 0 };

	w->ev = evtimer_new(w->st->base, writer_deliver, w);
	if (w->ev == NULL)
		pw_fatal("cannot create a storage event");
	evtimer_add(w->ev, &now);
}

static void writer_later(struct pw_store_writer *w);

static void
on_upload(void *arg, const struct pw_s3_result *r)
{
	struct pw_store_writer *w = arg;

	w->res.status = from_s3(r->status);
	w->res.error = r->error;
	if (!w->closed) {
		/* A part failed while the caller still writes: it hears at close(). */
		w->ended = true;
		return;
	}
	w->done(w->arg, &w->res);
	writer_free(w);
}

/* The part size of S3 data files: 8 MiB, two in flight per file. */
#define S3_PART_BYTES	((size_t)8 << 20)

struct pw_store_writer *
pw_store_writer_open(struct pw_store *st, const char *key, pw_store_done_fn done, void *arg)
{
	struct pw_store_writer *w = pw_xcalloc(1, sizeof *w);
	char *dir, *name;

	w->st = st;
	w->done = done;
	w->arg = arg;
	w->lf.fd = -1;
	TAILQ_INSERT_TAIL(&st->writers, w, link);
	if (st->s3 != NULL) {
		w->up = pw_s3_upload_open(st->s3, key, S3_PART_BYTES, 2, on_upload, w);
		return w;
	}
	split(st, key, &dir, &name);
	if (pw_lake_file_open(&w->lf, dir, name, &w->res.error) == -1)
		w->failed = true;	/* told at close */
	free(dir);
	free(name);
	return w;
}

void
pw_store_writer_write(struct pw_store_writer *w, const void *p, size_t n)
{
	w->size += n;
	if (w->ended)
		return;
	if (w->up != NULL) {
		pw_s3_upload_write(w->up, p, n);
		return;
	}
	if (!w->failed && pw_lake_file_write(&w->lf, p, n, &w->res.error) == -1)
		w->failed = true;
}

size_t
pw_store_writer_buffered(const struct pw_store_writer *w)
{
	return w->up != NULL && !w->ended ? pw_s3_upload_buffered(w->up) : 0;
}

/* Over the S3 writers still uploading: their backlog, or all they hold. */
static size_t
sum_uploads(const struct pw_store *st, size_t (*what)(const struct pw_s3_upload *))
{
	const struct pw_store_writer *w;
	size_t n = 0;

	if (st->s3 == NULL)
		return 0;
	TAILQ_FOREACH(w, &st->writers, link)
		if (w->up != NULL && !w->ended)
			n += what(w->up);
	return n;
}

size_t
pw_store_buffered(const struct pw_store *st)
{
	return sum_uploads(st, pw_s3_upload_backlog);
}

size_t
pw_store_held(const struct pw_store *st)
{
	return sum_uploads(st, pw_s3_upload_buffered);
}

uint64_t
pw_store_writer_size(const struct pw_store_writer *w)
{
	return w->size;
}

void
pw_store_writer_close(struct pw_store_writer *w)
{
	w->closed = true;
	if (w->ended) {
		writer_later(w);	/* the failure the upload met earlier */
		return;
	}
	if (w->up != NULL) {
		pw_s3_upload_close(w->up);
		return;
	}
	if (w->failed || pw_lake_file_commit(&w->lf, false, NULL, &w->res.error) == -1)
		w->res.status = PW_STORE_FAILED;
	else
		w->res.status = PW_STORE_OK;
	writer_later(w);
}

void
pw_store_writer_abort(struct pw_store_writer *w)
{
	writer_free(w);
}
