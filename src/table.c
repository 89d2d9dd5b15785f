/*
 * A Delta table on a store (see include/portada/table.h).  Each
 * asynchronous operation is a small chain of store callbacks: open (list,
 * read the log, create or fit the schema), put (a log entry at the next
 * free version) and refresh (read the commits lookups need).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "portada/buf.h"
#include "portada/lake.h"
#include "portada/log.h"
#include "portada/table.h"

#define LOG_FILE_MAX	((size_t)256 << 20)	/* a version file bigger than this is refused */
#define CLOCK_MARGIN_MS	(10 * 60 * 1000)	/* commits this much older than a start still count */
#define SEEN_TTL_MS	(60 * 60 * 1000)	/* the id index is dropped and rebuilt this often */
#define OPEN_READS	16			/* log versions read at once when opening */

/* Upload id → the version that holds it, for the commits read so far. */
struct seen {
	struct seen	*next;
	uint64_t	 version;
	int64_t		 records;	/* -1: unknown */
	char		 id[];
};

TAILQ_HEAD(lookup_list, pw_table_lookup);

/* A log entry on its way to the next free version. */
struct put {
	struct pw_table		*t;
	struct pw_buf		 b;
	char			**ids;
	int64_t			*records;
	size_t			 nids;
	uint64_t		 v;
	char			*key;
	void			(*done)(struct put *p, const struct pw_error *err);
	pw_table_commit_fn	 user_done;
	void			*user_arg;
};

/* One version read while opening. */
struct open_read {
	struct pw_table	*t;
	uint64_t	 v;
};

struct pw_table {
	struct pw_store		*st;
	char			*name;		/* "<lake>/<table>" */
	char			*logprefix;	/* "<table>/_delta_log/" */
	const struct pw_table_spec *spec;
	char			*engine_version;
	struct pw_delta_field	*fields;	/* the spec's columns, for stats */
	size_t			 nfields;
	uint64_t		 version;
	size_t			 held;		/* open writers' row groups: see pw_table_held() */

	/* Opening. */
	pw_table_done_fn	 open_done;
	void			*open_arg;
	bool			 created;	/* version 0 was put (by anyone) */
	uint64_t		 open_max, open_next;
	unsigned		 open_reads;
	bool			 open_failed;
	struct pw_error		 open_err;
	struct pw_delta_commit	 proto, meta;	/* the newest of each */
	uint64_t		 proto_v, meta_v;

	struct put		*put;		/* the commit in flight */
	uint64_t		 conflicts;	/* versions another writer took first */
	bool			 changed;	/* a newer protocol or schema was read: */
	struct pw_error		 changed_err;	/* no more commits, this says why */
	size_t			 columns_added;	/* by the schema commit of open */

	/* Commits [seen_lo, seen_hi] have had their source ids read. */
	bool			 seen_any;
	uint64_t		 seen_lo, seen_hi;
	int64_t			 seen_lo_ms;	/* commitInfo timestamp of version seen_lo */
	int64_t			 seen_since_ms;	/* when the index was started */
	struct seen		**buckets;
	size_t			 nbuckets, nseen;

	/* Lookups: waiting for the next refresh, or answered by this one. */
	struct lookup_list	 waiting, active;
	bool			 refreshing;
	uint64_t		 refresh_v;	/* the version being read */
};

struct pw_table_file {
	struct pw_table			*t;
	struct pw_store_writer		*sw;
	struct pw_pq_writer		*pq;
	char				*name;
	const struct pw_pq_file_stats	*stats;
	uint64_t			 size;
	int64_t				 mtime_ms;
	bool				 closing, finished;
	size_t				 charged;	/* the writer's most, in t->held */
	pw_table_done_fn		 done;
	void				*arg;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
key_of(const char *prefix, const char *name)
{
	size_t n = strlen(prefix) + strlen(name) + 1;
	char *k = pw_xmalloc(n);

	snprintf(k, n, "%s%s", prefix, name);
	return k;
}

static char *
version_key(const struct pw_table *t, uint64_t v)
{
	char name[PW_DELTA_VERSION_NAME_SIZE];

	pw_delta_version_name(v, name);
	return key_of(t->logprefix, name);
}

const char *
pw_table_name(const struct pw_table *t)
{
	return t->name;
}

const struct pw_table_spec *
pw_table_spec(const struct pw_table *t)
{
	return t->spec;
}

uint64_t
pw_table_version(const struct pw_table *t)
{
	return t->version;
}

uint64_t
pw_table_conflicts(const struct pw_table *t)
{
	return t->conflicts;
}

/* ---- the ids of committed uploads ---- */

static uint64_t
hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void
seen_add(struct pw_table *t, const char *id, uint64_t version, int64_t records)
{
	struct seen *s;
	size_t b;

	if (t->nseen + 1 > t->nbuckets) {
		size_t n = t->nbuckets == 0 ? 256 : t->nbuckets * 2;
		struct seen **nb = pw_xcalloc(n, sizeof *nb);

		for (size_t i = 0; i < t->nbuckets; i++) {
			while ((s = t->buckets[i]) != NULL) {
				t->buckets[i] = s->next;
				b = hash_id(s->id) & (n - 1);
				s->next = nb[b];
				nb[b] = s;
			}
		}
		free(t->buckets);
		t->buckets = nb;
		t->nbuckets = n;
	}
	s = pw_xmalloc(sizeof *s + strlen(id) + 1);
	strcpy(s->id, id);
	s->version = version;
	s->records = records;
	b = hash_id(id) & (t->nbuckets - 1);
	s->next = t->buckets[b];
	t->buckets[b] = s;
	t->nseen++;
}

/*
 * Forget every id.  A daemon that runs for months would otherwise keep
 * every upload it ever saw; fresh uploads only need the last minutes of
 * the log, which the next lookup reads again.
 */
static void
seen_clear(struct pw_table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct seen *s;

		while ((s = t->buckets[i]) != NULL) {
			t->buckets[i] = s->next;
			free(s);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->nseen = 0;
	t->seen_any = false;
}

static const struct seen *
seen_find(const struct pw_table *t, const char *id)
{
	if (t->nbuckets == 0)
		return NULL;
	for (const struct seen *s = t->buckets[hash_id(id) & (t->nbuckets - 1)]; s != NULL;
	    s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

/* ---- reading a local table's log directly ---- */

/* ---- reading the log ---- */

int
pw_table_log_read(const char *logdir, uint64_t v, struct pw_delta_commit *c, bool *missing,
    int64_t *mtime_ms, struct pw_error *err)
{
	char name[PW_DELTA_VERSION_NAME_SIZE], *path;
	struct pw_buf b;
	struct stat st;
	int rc;

	pw_delta_version_name(v, name);
	path = pw_lake_join(logdir, name);
	pw_buf_init(&b, LOG_FILE_MAX);
	rc = pw_lake_read(path, LOG_FILE_MAX, &b, missing, err);
	if (rc == 0 && !*missing) {
		if (mtime_ms != NULL)
			*mtime_ms = stat(path, &st) == 0 ? (int64_t)st.st_mtim.tv_sec * 1000 +
			    st.st_mtim.tv_nsec / 1000000 : 0;
		rc = pw_delta_commit_parse((const char *)b.data, b.len, c, err);
		if (rc == -1)
			pw_error_prefix(err, "%s", path);
	}
	pw_buf_finish(&b);
	free(path);
	return rc;
}

/* A local table's log directory, by name (see table.h). */
int
pw_table_log_scan(const char *logdir, struct pw_table_log *out, struct pw_error *err)
{
	struct pw_delta_log_name ln;
	size_t n;
	char **names = pw_lake_list(logdir, &n, err);

	memset(out, 0, sizeof *out);
	if (names == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		switch (pw_delta_log_name_parse(names[i], &ln)) {
		case PW_DELTA_LOG_COMMIT:
			if (!out->any || ln.version > out->max)
				out->max = ln.version;
			out->any = true;
			out->has_zero = out->has_zero || ln.version == 0;
			break;
		case PW_DELTA_LOG_OTHER:
			break;
		default:
			out->checkpoint = true;
			break;
		}
	}
	pw_lake_names_free(names, n);
	return 0;
}

/* Note the ids of a commit that extends the range read so far upwards. */
static void
seen_commit(struct pw_table *t, uint64_t v, const struct pw_delta_commit *c)
{
	if (!t->seen_any || v != t->seen_hi + 1)
		return;		/* the range would get a hole: find_source reads it */
	for (size_t i = 0; i < c->nsource_ids; i++)
		seen_add(t, c->source_ids[i], v, c->source_records[i]);
	t->seen_hi = v;
}


/* ---- writing the log ---- */

static int
append_commit_info(const struct pw_table *t, struct pw_buf *b, const char *const *ids,
    const uint64_t *records, size_t nids, struct pw_error *err)
{
	struct pw_delta_commit_info ci = {
		.timestamp_ms = now_ms(),
		.version = t->engine_version,
		.source_ids = ids,
		.source_records = records,
		.nsource_ids = nids,
	};

	return pw_delta_append_commit_info(b, &ci, err);
}

static void put_try(struct put *p);

static void
put_free(struct put *p)
{
	for (size_t i = 0; i < p->nids; i++)
		free(p->ids[i]);
	free(p->ids);
	free(p->records);
	free(p->key);
	pw_buf_finish(&p->b);
	free(p);
}

/* A new put for the entry in b (taken over), listing ids. */
static struct put *
put_new(struct pw_table *t, struct pw_buf *b, const char *const *ids, const uint64_t *records,
    size_t nids)
{
	struct put *p = pw_xcalloc(1, sizeof *p);

	p->t = t;
	p->b = *b;
	memset(b, 0, sizeof *b);
	p->nids = nids;
	p->ids = pw_xcalloc(nids + 1, sizeof *p->ids);
	p->records = pw_xcalloc(nids + 1, sizeof *p->records);
	for (size_t i = 0; i < nids; i++) {
		p->ids[i] = pw_xstrdup(ids[i]);
		p->records[i] = records != NULL ? (int64_t)records[i] : -1;
	}
	return p;
}

static void
put_fail(struct put *p, const struct pw_error *err)
{
	p->done(p, err);
}

/* Version v was taken by someone else: go on after it, if we still may. */
static void
on_put_taken(void *arg, const struct pw_store_result *res)
{
	struct put *p = arg;
	struct pw_table *t = p->t;
	struct pw_delta_commit c;
	struct pw_error err;

	if (res->status == PW_STORE_MISSING) {
		pw_error_set(&err, "table %s: version %" PRIu64 " was taken and then removed",
		    t->name, p->v);
		put_fail(p, &err);
		return;
	}
	if (res->status != PW_STORE_OK) {
		put_fail(p, &res->error);
		return;
	}
	if (pw_delta_commit_parse((const char *)res->data, res->len, &c, &err) == -1) {
		pw_error_prefix(&err, "%s/%s", pw_store_name(t->st), p->key);
		put_fail(p, &err);
		return;
	}
	if (c.has_protocol || c.has_metadata) {
		pw_error_set(&err, "table %s: another writer changed the table's %s at "
		    "version %" PRIu64 "; restart the worker to check the table again",
		    t->name, c.has_protocol ? "protocol" : "schema", p->v);
		if (!t->changed) {
			t->changed = true;
			t->changed_err = err;
		}
		pw_delta_commit_finish(&c);
		put_fail(p, &err);
		return;
	}
	seen_commit(t, p->v, &c);
	pw_delta_commit_finish(&c);
	if (p->v > t->version)
		t->version = p->v;
	put_try(p);
}

static void
on_put(void *arg, const struct pw_store_result *res)
{
	struct put *p = arg;
	struct pw_table *t = p->t;

	switch (res->status) {
	case PW_STORE_OK:
		if (p->v > t->version)
			t->version = p->v;
		if (t->seen_any && p->v == t->seen_hi + 1) {
			for (size_t i = 0; i < p->nids; i++)
				seen_add(t, p->ids[i], p->v, p->records[i]);
			t->seen_hi = p->v;
		}
		p->done(p, NULL);
		break;
	case PW_STORE_EXISTS:
		t->conflicts++;
		pw_store_get(t->st, p->key, LOG_FILE_MAX, on_put_taken, p);
		break;
	default:
		put_fail(p, &res->error);
		break;
	}
}

/*
 * Put the entry at the next free version.  Another writer's plain append
 * moves us on to the version after it; a change of protocol or schema
 * stops us, since our files were written for the old one.
 */
static void
put_try(struct put *p)
{
	struct pw_table *t = p->t;

	if (t->changed) {
		put_fail(p, &t->changed_err);
		return;
	}
	p->v = t->version + 1;
	free(p->key);
	p->key = version_key(t, p->v);
	pw_store_put_if_absent(t->st, p->key, p->b.data, p->b.len, on_put, p);
}

/* ---- opening ---- */

static void
open_end(struct pw_table *t, const struct pw_error *err)
{
	pw_table_done_fn done = t->open_done;

	pw_delta_commit_finish(&t->proto);
	pw_delta_commit_finish(&t->meta);
	t->open_done = NULL;
	done(t->open_arg, err);
}

static void
on_schema_put(struct put *p, const struct pw_error *err)
{
	struct pw_table *t = p->t;
	uint64_t v = p->v;

	t->put = NULL;
	put_free(p);
	if (err == NULL)
		log_info(NULL, "schema", "table %s: added %zu column(s) in version %" PRIu64,
		    t->name, t->columns_added, v);
	open_end(t, err);
}

/* Check the table and fit the spec to it; commit new columns if any. */
static void
open_check(struct pw_table *t)
{
	struct pw_delta_field *merged = NULL;
	size_t nmerged = 0;
	bool changed = false;
	struct pw_error err;
	struct pw_buf b;

	if (!t->proto.has_protocol || !t->meta.has_metadata) {
		pw_error_set(&err, "table %s: its log has no %s", t->name,
		    t->proto.has_protocol ? "metaData" : "protocol");
		open_end(t, &err);
		return;
	}
	if (pw_delta_check_writable(&t->proto.protocol, &t->meta.metadata, &err) == -1 ||
	    pw_delta_schema_merge(t->meta.metadata.fields, t->meta.metadata.nfields, t->fields,
	    t->nfields, &merged, &nmerged, &changed, &err) == -1) {
		pw_error_prefix(&err, "table %s", t->name);
		open_end(t, &err);
		return;
	}
	if (!changed) {
		pw_delta_fields_free(merged, nmerged);
		open_end(t, NULL);
		return;
	}
	pw_buf_init(&b, LOG_FILE_MAX);
	if (pw_delta_append_metadata_update(&b, &t->meta.metadata, merged, nmerged, &err) == -1 ||
	    append_commit_info(t, &b, NULL, NULL, 0, &err) == -1) {
		pw_buf_finish(&b);
		pw_delta_fields_free(merged, nmerged);
		open_end(t, &err);
		return;
	}
	t->columns_added = nmerged - t->meta.metadata.nfields;
	pw_delta_fields_free(merged, nmerged);
	t->put = put_new(t, &b, NULL, NULL, 0);
	t->put->done = on_schema_put;
	put_try(t->put);
}

static void open_read_next(struct pw_table *t);

/*
 * The table's current protocol and metadata are the newest of each in
 * the log; versions are read a few at a time, in any order.
 */
static void
on_open_read(void *arg, const struct pw_store_result *res)
{
	struct open_read *r = arg;
	struct pw_table *t = r->t;
	struct pw_delta_commit c;
	struct pw_error err;
	uint64_t v = r->v;

	free(r);
	t->open_reads--;
	if (t->open_failed) {
		open_read_next(t);	/* waits for the others, then reports */
		return;
	}
	if (res->status == PW_STORE_MISSING) {
		pw_error_set(&t->open_err, "table %s: version %" PRIu64 " is missing from its "
		    "log (the newest is %" PRIu64 ")", t->name, v, t->open_max);
		t->open_failed = true;
	} else if (res->status != PW_STORE_OK) {
		t->open_err = res->error;
		t->open_failed = true;
	} else if (pw_delta_commit_parse((const char *)res->data, res->len, &c, &err) == -1) {
		char *key = version_key(t, v);

		pw_error_prefix(&err, "%s/%s", pw_store_name(t->st), key);
		free(key);
		t->open_err = err;
		t->open_failed = true;
	} else {
		if (c.has_protocol && (!t->proto.has_protocol || v > t->proto_v)) {
			pw_delta_commit_finish(&t->proto);
			t->proto_v = v;
			if (c.has_metadata) {
				/* One commit, two roles: keep a parsed copy for each. */
				struct pw_delta_commit c2;

				if (pw_delta_commit_parse((const char *)res->data, res->len, &c2,
				    &err) == 0) {
					t->proto = c2;
				}
			} else {
				t->proto = c;
				memset(&c, 0, sizeof c);
			}
		}
		if (c.has_metadata && (!t->meta.has_metadata || v > t->meta_v)) {
			pw_delta_commit_finish(&t->meta);
			t->meta_v = v;
			t->meta = c;
			memset(&c, 0, sizeof c);
		}
		pw_delta_commit_finish(&c);
	}
	open_read_next(t);
}

static void
open_read_next(struct pw_table *t)
{
	while (!t->open_failed && t->open_reads < OPEN_READS && t->open_next <= t->open_max) {
		struct open_read *r = pw_xcalloc(1, sizeof *r);
		char *key;

		r->t = t;
		r->v = t->open_next++;
		key = version_key(t, r->v);
		t->open_reads++;
		pw_store_get(t->st, key, LOG_FILE_MAX, on_open_read, r);
		free(key);
	}
	if (t->open_reads > 0)
		return;
	if (t->open_failed) {
		open_end(t, &t->open_err);
		return;
	}
	t->version = t->open_max;
	open_check(t);
}

static void open_list(struct pw_table *t);

static void
on_created(void *arg, const struct pw_store_result *res)
{
	struct pw_table *t = arg;

	if (res->status == PW_STORE_OK)
		log_info(NULL, "table", "created %s", t->name);
	else if (res->status != PW_STORE_EXISTS) {
		open_end(t, &res->error);
		return;
	}
	/* Ours, or another worker's that came first: read it like any table. */
	open_list(t);
}

static void
on_created_put(void *arg, const struct pw_store_result *res)
{
	struct put *p = arg;
	struct pw_table *t = p->t;

	t->put = NULL;
	put_free(p);
	on_created(t, res);
}

static void
open_create(struct pw_table *t)
{
	char id[37];
	struct pw_error err;
	struct pw_buf b;

	t->created = true;
	if (pw_store_mkdir(t->st, t->logprefix, &err) == -1) {
		open_end(t, &err);
		return;
	}
	pw_lake_uuid(id);
	pw_buf_init(&b, LOG_FILE_MAX);
	if (pw_delta_append_protocol(&b, &err) == -1 ||
	    pw_delta_append_metadata(&b, id, t->fields, t->nfields, now_ms(), &err) == -1 ||
	    append_commit_info(t, &b, NULL, NULL, 0, &err) == -1) {
		pw_buf_finish(&b);
		open_end(t, &err);
		return;
	}
	t->put = put_new(t, &b, NULL, NULL, 0);
	free(t->put->key);
	t->put->key = version_key(t, 0);
	pw_store_put_if_absent(t->st, t->put->key, t->put->b.data, t->put->b.len,
	    on_created_put, t->put);
}

/*
 * What the log holds, by name.  This worker writes no checkpoints and
 * cannot read them, so a table whose early log was cleaned up after a
 * checkpoint is refused.
 */
static void
on_open_list(void *arg, const struct pw_store_result *res)
{
	struct pw_table *t = arg;
	struct pw_delta_log_name ln;
	bool any = false, has_zero = false, checkpoint = false;
	struct pw_error err;
	uint64_t max = 0;

	if (res->status != PW_STORE_OK) {
		open_end(t, &res->error);
		return;
	}
	for (size_t i = 0; i < res->nnames; i++) {
		switch (pw_delta_log_name_parse(res->names[i], &ln)) {
		case PW_DELTA_LOG_COMMIT:
			if (!any || ln.version > max)
				max = ln.version;
			any = true;
			has_zero = has_zero || ln.version == 0;
			break;
		case PW_DELTA_LOG_OTHER:
			break;
		default:
			checkpoint = true;
			break;
		}
	}
	if (!any) {
		if (t->created) {
			pw_error_set(&err, "table %s: version 0 was written but is not listed",
			    t->name);
			open_end(t, &err);
		} else
			open_create(t);
		return;
	}
	if (!has_zero) {
		pw_error_set(&err, "table %s: its log starts after version 0%s; this worker "
		    "reads only JSON commits and cannot write to it", t->name,
		    checkpoint ? " (older versions were cleaned up after a checkpoint)" : "");
		open_end(t, &err);
		return;
	}
	t->open_max = max;
	t->open_next = 0;
	t->open_failed = false;
	open_read_next(t);
}

static void
open_list(struct pw_table *t)
{
	pw_store_list(t->st, t->logprefix, on_open_list, t);
}

static void
spec_fields(struct pw_table *t)
{
	t->nfields = t->spec->ncolumns;
	t->fields = pw_xcalloc(t->nfields, sizeof *t->fields);
	for (size_t i = 0; i < t->nfields; i++) {
		t->fields[i].name = pw_xstrdup(t->spec->columns[i].name);
		t->fields[i].type = t->spec->columns[i].type;
		t->fields[i].nullable = t->spec->columns[i].nullable;
	}
}

struct pw_table *
pw_table_new(struct pw_store *st, const struct pw_table_spec *spec, const char *version)
{
	struct pw_table *t = pw_xcalloc(1, sizeof *t);
	size_t n = strlen(pw_store_name(st)) + strlen(spec->table) + 2;

	t->st = st;
	t->name = pw_xmalloc(n);
	snprintf(t->name, n, "%s/%s", pw_store_name(st), spec->table);
	n = strlen(spec->table) + sizeof "/_delta_log/";
	t->logprefix = pw_xmalloc(n);
	snprintf(t->logprefix, n, "%s/_delta_log/", spec->table);
	t->spec = spec;
	t->engine_version = pw_xstrdup(version);
	TAILQ_INIT(&t->waiting);
	TAILQ_INIT(&t->active);
	spec_fields(t);
	return t;
}

void
pw_table_open(struct pw_table *t, pw_table_done_fn done, void *arg)
{
	t->open_done = done;
	t->open_arg = arg;
	t->created = false;
	open_list(t);
}

/* ---- after a failure: may commits go on? ---- */

struct check {
	struct pw_table *t;
	uint64_t v;
	pw_table_check_fn done;
	void *arg;
};

static void
on_checked(void *arg, const struct pw_store_result *res)
{
	struct check *c = arg;
	struct pw_table *t = c->t;
	struct pw_error err;
	int rc = 0;

	if (t->changed) {
		err = t->changed_err;
		rc = 1;
	} else if (res->status == PW_STORE_MISSING) {
		pw_error_set(&err, "table %s: version %" PRIu64 " of its log is gone (the table "
		    "was deleted or replaced); a commit now would write a table without its "
		    "history", t->name, c->v);
		rc = 1;
	} else if (res->status != PW_STORE_OK) {
		err = res->error;
		rc = -1;
	}
	c->done(c->arg, rc, rc == 0 ? NULL : &err);
	free(c);
}

void
pw_table_check(struct pw_table *t, pw_table_check_fn done, void *arg)
{
	struct check *c = pw_xcalloc(1, sizeof *c);
	char *key;

	c->t = t;
	c->v = t->version;
	c->done = done;
	c->arg = arg;
	key = version_key(t, t->version);
	pw_store_get(t->st, key, LOG_FILE_MAX, on_checked, c);
	free(key);
}

void
pw_table_close(struct pw_table *t)
{
	if (t == NULL)
		return;
	if (t->put != NULL)
		put_free(t->put);
	pw_delta_commit_finish(&t->proto);
	pw_delta_commit_finish(&t->meta);
	seen_clear(t);
	pw_delta_fields_free(t->fields, t->nfields);
	free(t->engine_version);
	free(t->logprefix);
	free(t->name);
	free(t);
}

/* ---- data files ---- */

/* The Parquet writer's sink: the store takes every byte; a failure is
 * reported when the file is finished. */
static int
file_sink(void *ctx, const void *p, size_t n, struct pw_error *err)
{
	struct pw_table_file *f = ctx;

	(void)err;
	pw_store_writer_write(f->sw, p, n);
	return 0;
}

static void
on_file_stored(void *arg, const struct pw_store_result *res)
{
	struct pw_table_file *f = arg;
	struct pw_error err;

	f->sw = NULL;		/* the store frees its writer after this */
	f->closing = false;
	if (res->status != PW_STORE_OK) {
		err = res->error;
		pw_error_prefix(&err, "table %s: data file %s", f->t->name, f->name);
		f->done(f->arg, &err);
		return;
	}
	f->finished = true;
	f->mtime_ms = now_ms();
	f->done(f->arg, NULL);
}

struct pw_table_file *
pw_table_file_create(struct pw_table *t, const struct pw_pq_options *opt,
    struct pw_error *err)
{
	struct pw_table_file *f = pw_xcalloc(1, sizeof *f);
	struct pw_pq_column *cols = pw_xcalloc(t->spec->ncolumns, sizeof *cols);
	struct pw_pq_options o;
	char uuid[37], *key;
	size_t n;

	if (opt != NULL)
		o = *opt;
	else
		pw_pq_options_default(&o);
	f->t = t;
	pw_lake_uuid(uuid);
	n = strlen(uuid) + 64;
	f->name = pw_xmalloc(n);
	/* Spark's convention: part-<n>-<uuid>-c000.<codec>.parquet */
	snprintf(f->name, n, "part-00000-%s-c000.%s.parquet", uuid,
	    o.codec == PW_PQ_UNCOMPRESSED ? "none" : pw_pq_codec_name(o.codec));
	n = strlen(t->spec->table) + strlen(f->name) + 2;
	key = pw_xmalloc(n);
	snprintf(key, n, "%s/%s", t->spec->table, f->name);
	f->sw = pw_store_writer_open(t->st, key, on_file_stored, f);
	free(key);
	pw_table_spec_pq_columns(t->spec, cols);
	f->pq = pw_pq_open(cols, t->spec->ncolumns, &o, file_sink, f, err);
	free(cols);
	if (f->pq == NULL) {
		pw_table_file_destroy(f);
		return NULL;
	}
	return f;
}

/* A writer keeps the memory of its biggest row group until it is closed. */
static void
charge(struct pw_table_file *f, size_t n)
{
	f->t->held = f->t->held - f->charged + n;
	f->charged = n;
}

int
pw_table_file_write(struct pw_table_file *f, const struct pw_pq_value *row,
    struct pw_error *err)
{
	int rc = pw_pq_write_row(f->pq, row, err);
	size_t held = pw_pq_held_bytes(f->pq);

	if (held > f->charged)
		charge(f, held);
	return rc;
}

uint64_t
pw_table_file_rows(const struct pw_table_file *f)
{
	return pw_pq_rows(f->pq);
}

bool
pw_table_file_broken(const struct pw_table_file *f)
{
	return pw_pq_broken(f->pq);
}

size_t
pw_table_held(const struct pw_table *t)
{
	return t->held;
}

size_t
pw_table_commit_held(const struct pw_table *t)
{
	return t->put != NULL ? t->put->b.cap : 0;
}

size_t
pw_table_file_buffered(const struct pw_table_file *f)
{
	return f->sw != NULL ? pw_store_writer_buffered(f->sw) : 0;
}

bool
pw_table_file_finished(const struct pw_table_file *f)
{
	return f->finished;
}

int
pw_table_file_finish(struct pw_table_file *f, pw_table_done_fn done, void *arg,
    struct pw_error *err)
{
	if (f->closing || f->finished || f->sw == NULL) {
		pw_error_set(err, "table %s: data file %s is already closed", f->t->name, f->name);
		return -1;
	}
	if (pw_pq_close(f->pq, &f->stats, err) == -1)
		return -1;
	charge(f, 0);		/* pw_pq_close() gave the row group back */
	f->size = pw_store_writer_size(f->sw);
	f->done = done;
	f->arg = arg;
	f->closing = true;
	pw_store_writer_close(f->sw);
	return 0;
}

void
pw_table_file_destroy(struct pw_table_file *f)
{
	if (f == NULL)
		return;
	if (f->sw != NULL)
		pw_store_writer_abort(f->sw);
	charge(f, 0);
	pw_pq_destroy(f->pq);
	free(f->name);
	free(f);
}

/* ---- commits ---- */

static void
on_commit_put(struct put *p, const struct pw_error *err)
{
	struct pw_table *t = p->t;
	pw_table_commit_fn done = p->user_done;
	void *arg = p->user_arg;
	uint64_t v = p->v;

	t->put = NULL;
	put_free(p);
	done(arg, err == NULL ? v : 0, err);
}

int
pw_table_commit(struct pw_table *t, struct pw_table_file *const *files, size_t nfiles,
    const char *const *ids, const uint64_t *records, size_t nids, pw_table_commit_fn done,
    void *arg, struct pw_error *err)
{
	struct pw_buf b;

	if (t->put != NULL) {
		pw_error_set(err, "table %s: a commit is already in flight", t->name);
		return -1;
	}
	pw_buf_init(&b, LOG_FILE_MAX);
	for (size_t i = 0; i < nfiles; i++) {
		const struct pw_table_file *f = files[i];
		struct pw_delta_add add = {
			.path = f->name,
			.size = f->size,
			.modification_ms = f->mtime_ms,
			.fields = t->fields,
			.nfields = t->nfields,
			.stats = f->stats,
		};

		if (!f->finished) {
			pw_error_set(err, "table %s: data file %s is not finished", t->name,
			    f->name);
			goto fail;
		}
		if (pw_delta_append_add(&b, &add, err) == -1)
			goto fail;
	}
	if (append_commit_info(t, &b, ids, records, nids, err) == -1)
		goto fail;
	t->put = put_new(t, &b, ids, records, nids);
	t->put->done = on_commit_put;
	t->put->user_done = done;
	t->put->user_arg = arg;
	put_try(t->put);
	return 0;

fail:
	pw_buf_finish(&b);
	return -1;
}

/* ---- finding committed uploads ---- */

static void refresh_newer(struct pw_table *t);
static void refresh_older(struct pw_table *t);
static void refresh_start(struct pw_table *t);

/* Answer the lookups of this refresh; start the next for those that came since. */
static void
refresh_end(struct pw_table *t, const struct pw_error *err)
{
	struct pw_table_lookup *lk;
	struct pw_error copy;

	if (err != NULL) {
		copy = *err;
		err = &copy;
	}
	/* Still refreshing while answering: a lookup asked from a done() waits
	 * for the next refresh, which reads what was committed meanwhile. */
	while ((lk = TAILQ_FIRST(&t->active)) != NULL) {
		const struct seen *s;

		TAILQ_REMOVE(&t->active, lk, link);
		lk->queue = 0;
		lk->found = false;
		if (err == NULL && (s = seen_find(t, lk->id)) != NULL) {
			lk->found = true;
			lk->version = s->version;
			lk->records = s->records;
		}
		lk->done(lk->arg, lk, err);
	}
	t->refreshing = false;
	if (!TAILQ_EMPTY(&t->waiting))
		refresh_start(t);
}

/* Commits read for the index: the version asked for, if still wanted. */
static bool
parse_for_index(struct pw_table *t, uint64_t v, const struct pw_store_result *res,
    struct pw_delta_commit *c, struct pw_error *err)
{
	if (pw_delta_commit_parse((const char *)res->data, res->len, c, err) == -1) {
		char *key = version_key(t, v);

		pw_error_prefix(err, "%s/%s", pw_store_name(t->st), key);
		free(key);
		return false;
	}
	return true;
}

static void
on_newer(void *arg, const struct pw_store_result *res)
{
	struct pw_table *t = arg;
	struct pw_delta_commit c;
	struct pw_error err;
	uint64_t v = t->refresh_v;

	if (res->status == PW_STORE_MISSING) {
		refresh_older(t);
		return;
	}
	if (res->status != PW_STORE_OK) {
		refresh_end(t, &res->error);
		return;
	}
	if (!parse_for_index(t, v, res, &c, &err)) {
		refresh_end(t, &err);
		return;
	}
	/* Our files were written for the schema we opened with. */
	if ((c.has_protocol || c.has_metadata) && !t->changed) {
		t->changed = true;
		pw_error_set(&t->changed_err, "table %s: another writer changed the table's %s at "
		    "version %" PRIu64 "; restart the worker to check the table again",
		    t->name, c.has_protocol ? "protocol" : "schema", v);
	}
	/* Unless a commit of ours got there first and indexed itself. */
	seen_commit(t, v, &c);
	pw_delta_commit_finish(&c);
	if (v > t->version)
		t->version = v;
	refresh_newer(t);
}

/* Newer commits, by this worker's peers. */
static void
refresh_newer(struct pw_table *t)
{
	char *key;

	t->refresh_v = t->seen_hi + 1;
	key = version_key(t, t->refresh_v);
	pw_store_get(t->st, key, LOG_FILE_MAX, on_newer, t);
	free(key);
}

static void
on_older(void *arg, const struct pw_store_result *res)
{
	struct pw_table *t = arg;
	struct pw_delta_commit c;
	struct pw_error err;
	uint64_t v = t->refresh_v;

	if (res->status == PW_STORE_MISSING) {
		t->seen_lo = v;
		t->seen_lo_ms = INT64_MIN;	/* the log ends here */
		refresh_end(t, NULL);
		return;
	}
	if (res->status != PW_STORE_OK) {
		refresh_end(t, &res->error);
		return;
	}
	if (!parse_for_index(t, v, res, &c, &err)) {
		refresh_end(t, &err);
		return;
	}
	for (size_t i = 0; i < c.nsource_ids; i++)
		seen_add(t, c.source_ids[i], v, c.source_records[i]);
	t->seen_lo = v;
	/* A commit without a timestamp (another engine's) does not end the search. */
	t->seen_lo_ms = c.timestamp_ms > 0 ? c.timestamp_ms : INT64_MAX;
	pw_delta_commit_finish(&c);
	refresh_older(t);
}

/* Older ones, back to a little before the earliest start asked about. */
static void
refresh_older(struct pw_table *t)
{
	struct pw_table_lookup *lk;
	int64_t since = INT64_MAX;
	char *key;

	TAILQ_FOREACH(lk, &t->active, link)
		if (lk->since_ms < since)
			since = lk->since_ms;
	if (t->seen_lo == 0 || TAILQ_EMPTY(&t->active) ||
	    t->seen_lo_ms < since - CLOCK_MARGIN_MS) {
		refresh_end(t, NULL);
		return;
	}
	t->refresh_v = t->seen_lo - 1;
	key = version_key(t, t->refresh_v);
	pw_store_get(t->st, key, LOG_FILE_MAX, on_older, t);
	free(key);
}

/*
 * One refresh answers the lookups waiting when it starts: it reads every
 * commit newer than the index (a lookup must see commits made before it
 * was asked) and older ones as far back as they need.
 */
static void
refresh_start(struct pw_table *t)
{
	struct pw_table_lookup *lk;

	while ((lk = TAILQ_FIRST(&t->waiting)) != NULL) {
		TAILQ_REMOVE(&t->waiting, lk, link);
		TAILQ_INSERT_TAIL(&t->active, lk, link);
		lk->queue = 2;
	}
	t->refreshing = true;
	if (t->seen_any && now_ms() - t->seen_since_ms > SEEN_TTL_MS)
		seen_clear(t);
	if (!t->seen_any) {
		t->seen_any = true;
		t->seen_since_ms = now_ms();
		t->seen_hi = t->version;
		t->seen_lo = t->version + 1;	/* nothing read yet */
		t->seen_lo_ms = INT64_MAX;
	}
	refresh_newer(t);
}

void
pw_table_find_source(struct pw_table *t, struct pw_table_lookup *lk)
{
	lk->found = false;
	lk->version = 0;
	lk->records = -1;
	lk->queue = 1;
	TAILQ_INSERT_TAIL(&t->waiting, lk, link);
	if (!t->refreshing)
		refresh_start(t);
}

void
pw_table_lookup_cancel(struct pw_table *t, struct pw_table_lookup *lk)
{
	if (lk->queue == 1)
		TAILQ_REMOVE(&t->waiting, lk, link);
	else if (lk->queue == 2)
		TAILQ_REMOVE(&t->active, lk, link);
	lk->queue = 0;
}
