/*
 * A Delta table on the local filesystem (see include/portada/table.h).
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

/* Upload id → the version that holds it, for the commits read so far. */
struct seen {
	struct seen	*next;
	uint64_t	 version;
	int64_t		 records;	/* -1: unknown */
	char		 id[];
};

struct pw_table {
	char			*dir;
	char			*logdir;
	const struct pw_table_spec *spec;
	char			*engine_version;
	struct pw_delta_field	*fields;	/* the spec's columns, for stats */
	size_t			 nfields;
	uint64_t		 version;

	/* Commits [seen_lo, seen_hi] have had their source ids read. */
	bool			 seen_any;
	uint64_t		 seen_lo, seen_hi;
	int64_t			 seen_lo_ms;	/* mtime of version seen_lo */
	int64_t			 seen_since_ms;	/* when the index was started */
	struct seen		**buckets;
	size_t			 nbuckets, nseen;
};

struct pw_table_file {
	struct pw_table			*t;
	struct pw_lake_file		 lf;
	struct pw_pq_writer		*pq;
	char				*name;
	const struct pw_pq_file_stats	*stats;
	int64_t				 mtime_ms;
	bool				 finished;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *
pw_table_dir(const struct pw_table *t)
{
	return t->dir;
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

/*
 * The table's current protocol and metadata, from every commit: this
 * worker writes no checkpoints and cannot read them, so a table whose
 * early log was cleaned up after a checkpoint is refused.
 */
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

/*
 * The table's current protocol and metadata, from every commit: this
 * worker writes no checkpoints and cannot read them, so a table whose
 * early log was cleaned up after a checkpoint is refused.
 */
static int
load_state(struct pw_table *t, struct pw_delta_commit *proto, struct pw_delta_commit *meta,
    bool *empty, struct pw_error *err)
{
	struct pw_table_log log;
	uint64_t max;

	if (pw_table_log_scan(t->logdir, &log, err) == -1)
		return -1;
	*empty = !log.any;
	if (!log.any)
		return 0;
	if (!log.has_zero) {
		pw_error_set(err, "table %s: its log starts after version 0%s; this worker "
		    "reads only JSON commits and cannot write to it", t->dir,
		    log.checkpoint ? " (older versions were cleaned up after a checkpoint)" : "");
		return -1;
	}
	max = log.max;
	for (uint64_t v = 0; v <= max; v++) {
		struct pw_delta_commit c;
		bool missing;

		if (pw_table_log_read(t->logdir, v, &c, &missing, NULL, err) == -1)
			return -1;
		if (missing) {
			pw_error_set(err, "table %s: version %" PRIu64 " is missing from its log "
			    "(the newest is %" PRIu64 ")", t->dir, v, max);
			return -1;
		}
		if (c.has_protocol && c.has_metadata) {
			/* Version 0 holds both: keep a parsed copy for each. */
			pw_delta_commit_finish(proto);
			*proto = c;
			if (pw_table_log_read(t->logdir, v, &c, &missing, NULL, err) == -1)
				return -1;
			pw_delta_commit_finish(meta);
			*meta = c;
		} else if (c.has_protocol) {
			pw_delta_commit_finish(proto);
			*proto = c;
		} else if (c.has_metadata) {
			pw_delta_commit_finish(meta);
			*meta = c;
		} else {
			pw_delta_commit_finish(&c);
		}
	}
	t->version = max;
	return 0;
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

/*
 * Put the actions in b at the next free version.  Another writer's plain
 * append moves us on to the version after it; a change of protocol or
 * schema stops us, since our files were written for the old one.
 */
static int
put_commit(struct pw_table *t, const struct pw_buf *b, const char *const *ids,
    const uint64_t *records, size_t nids, uint64_t *version, struct pw_error *err)
{
	for (;;) {
		char name[PW_DELTA_VERSION_NAME_SIZE];
		struct pw_delta_commit c;
		uint64_t v = t->version + 1;
		bool taken, missing;

		pw_delta_version_name(v, name);
		if (pw_lake_put_if_absent(t->logdir, name, b->data, b->len, &taken, err) == 0) {
			t->version = v;
			if (t->seen_any && v == t->seen_hi + 1) {
				for (size_t i = 0; i < nids; i++)
					seen_add(t, ids[i], v, records != NULL ?
					    (int64_t)records[i] : -1);
				t->seen_hi = v;
			}
			*version = v;
			return 0;
		}
		if (!taken)
			return -1;
		if (pw_table_log_read(t->logdir, v, &c, &missing, NULL, err) == -1)
			return -1;
		if (missing) {
			pw_error_set(err, "table %s: version %" PRIu64 " was taken and then "
			    "removed", t->dir, v);
			return -1;
		}
		if (c.has_protocol || c.has_metadata) {
			pw_error_set(err, "table %s: another writer changed the table's %s at "
			    "version %" PRIu64 "; restart the worker to check the table again",
			    t->dir, c.has_protocol ? "protocol" : "schema", v);
			pw_delta_commit_finish(&c);
			return -1;
		}
		seen_commit(t, v, &c);
		pw_delta_commit_finish(&c);
		t->version = v;
	}
}

static int
create_table(struct pw_table *t, bool *taken, struct pw_error *err)
{
	char id[37], name[PW_DELTA_VERSION_NAME_SIZE];
	struct pw_buf b;
	int rc = -1;

	pw_lake_uuid(id);
	pw_buf_init(&b, LOG_FILE_MAX);
	if (pw_delta_append_protocol(&b, err) == -1 ||
	    pw_delta_append_metadata(&b, id, t->fields, t->nfields, now_ms(), err) == -1 ||
	    append_commit_info(t, &b, NULL, NULL, 0, err) == -1)
		goto out;
	pw_delta_version_name(0, name);
	rc = pw_lake_put_if_absent(t->logdir, name, b.data, b.len, taken, err);
	if (rc == -1 && *taken)
		rc = 0;		/* another worker created it first: read theirs */
out:
	pw_buf_finish(&b);
	return rc;
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

/* Check the table and fit the spec to it; commit new columns if any. */
static int
check_table(struct pw_table *t, const struct pw_delta_commit *proto,
    const struct pw_delta_commit *meta, struct pw_error *err)
{
	struct pw_delta_field *merged = NULL;
	size_t nmerged = 0;
	bool changed = false;
	struct pw_buf b;
	uint64_t v;
	int rc = -1;

	if (!proto->has_protocol || !meta->has_metadata) {
		pw_error_set(err, "table %s: its log has no %s", t->dir,
		    proto->has_protocol ? "metaData" : "protocol");
		return -1;
	}
	if (pw_delta_check_writable(&proto->protocol, &meta->metadata, err) == -1 ||
	    pw_delta_schema_merge(meta->metadata.fields, meta->metadata.nfields, t->fields,
	    t->nfields, &merged, &nmerged, &changed, err) == -1) {
		pw_error_prefix(err, "table %s", t->dir);
		return -1;
	}
	if (!changed) {
		pw_delta_fields_free(merged, nmerged);
		return 0;
	}
	pw_buf_init(&b, LOG_FILE_MAX);
	if (pw_delta_append_metadata_update(&b, &meta->metadata, merged, nmerged, err) == 0 &&
	    append_commit_info(t, &b, NULL, NULL, 0, err) == 0 &&
	    put_commit(t, &b, NULL, NULL, 0, &v, err) == 0) {
		log_info(NULL, "schema", "table %s: added %zu column(s) in version %" PRIu64,
		    t->dir, nmerged - meta->metadata.nfields, v);
		rc = 0;
	}
	pw_buf_finish(&b);
	pw_delta_fields_free(merged, nmerged);
	return rc;
}

struct pw_table *
pw_table_open(const char *lake, const struct pw_table_spec *spec, const char *version,
    struct pw_error *err)
{
	struct pw_table *t = pw_xcalloc(1, sizeof *t);
	struct pw_delta_commit proto, meta;
	bool empty, taken = false;

	memset(&proto, 0, sizeof proto);
	memset(&meta, 0, sizeof meta);
	t->dir = pw_lake_join(lake, spec->table);
	t->logdir = pw_lake_join(t->dir, "_delta_log");
	t->spec = spec;
	t->engine_version = pw_xstrdup(version);
	spec_fields(t);
	if (pw_lake_mkdirs(t->logdir, err) == -1 ||
	    load_state(t, &proto, &meta, &empty, err) == -1)
		goto fail;
	if (empty) {
		if (create_table(t, &taken, err) == -1 ||
		    load_state(t, &proto, &meta, &empty, err) == -1)
			goto fail;
		if (!taken)
			log_info(NULL, "table", "created %s", t->dir);
	}
	if (check_table(t, &proto, &meta, err) == -1)
		goto fail;
	pw_delta_commit_finish(&proto);
	pw_delta_commit_finish(&meta);
	return t;

fail:
	pw_delta_commit_finish(&proto);
	pw_delta_commit_finish(&meta);
	pw_table_close(t);
	return NULL;
}

void
pw_table_close(struct pw_table *t)
{
	if (t == NULL)
		return;
	seen_clear(t);
	pw_delta_fields_free(t->fields, t->nfields);
	free(t->engine_version);
	free(t->logdir);
	free(t->dir);
	free(t);
}

/* ---- data files ---- */

struct pw_table_file *
pw_table_file_create(struct pw_table *t, const struct pw_pq_options *opt,
    struct pw_error *err)
{
	struct pw_table_file *f = pw_xcalloc(1, sizeof *f);
	struct pw_pq_column *cols = pw_xcalloc(t->spec->ncolumns, sizeof *cols);
	struct pw_pq_options o;
	char uuid[37];
	size_t n;

	if (opt != NULL)
		o = *opt;
	else
		pw_pq_options_default(&o);
	f->t = t;
	f->lf.fd = -1;
	pw_lake_uuid(uuid);
	n = strlen(uuid) + 64;
	f->name = pw_xmalloc(n);
	/* Spark's convention: part-<n>-<uuid>-c000.<codec>.parquet */
	snprintf(f->name, n, "part-00000-%s-c000.%s.parquet", uuid,
	    o.codec == PW_PQ_UNCOMPRESSED ? "none" : pw_pq_codec_name(o.codec));
	if (pw_lake_file_open(&f->lf, t->dir, f->name, err) == -1)
		goto fail;
	pw_table_spec_pq_columns(t->spec, cols);
	f->pq = pw_pq_open(cols, t->spec->ncolumns, &o, pw_lake_file_write, &f->lf, err);
	if (f->pq == NULL)
		goto fail;
	free(cols);
	return f;

fail:
	free(cols);
	pw_table_file_destroy(f);
	return NULL;
}

int
pw_table_file_write(struct pw_table_file *f, const struct pw_pq_value *row,
    struct pw_error *err)
{
	return pw_pq_write_row(f->pq, row, err);
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

int
pw_table_file_finish(struct pw_table_file *f, struct pw_error *err)
{
	if (pw_pq_close(f->pq, &f->stats, err) == -1 ||
	    pw_lake_file_commit(&f->lf, false, NULL, err) == -1)
		return -1;
	f->mtime_ms = now_ms();
	f->finished = true;
	return 0;
}

void
pw_table_file_destroy(struct pw_table_file *f)
{
	if (f == NULL)
		return;
	pw_lake_file_abort(&f->lf);
	pw_pq_destroy(f->pq);
	free(f->name);
	free(f);
}

/* ---- commits ---- */

int
pw_table_commit(struct pw_table *t, struct pw_table_file *const *files, size_t nfiles,
    const char *const *ids, const uint64_t *records, size_t nids, uint64_t *version,
    struct pw_error *err)
{
	struct pw_buf b;
	int rc = -1;

	pw_buf_init(&b, LOG_FILE_MAX);
	for (size_t i = 0; i < nfiles; i++) {
		const struct pw_table_file *f = files[i];
		struct pw_delta_add add = {
			.path = f->name,
			.size = f->lf.size,
			.modification_ms = f->mtime_ms,
			.fields = t->fields,
			.nfields = t->nfields,
			.stats = f->stats,
		};

		if (!f->finished) {
			pw_error_set(err, "table %s: data file %s is not finished", t->dir, f->name);
			goto out;
		}
		if (pw_delta_append_add(&b, &add, err) == -1)
			goto out;
	}
	if (append_commit_info(t, &b, ids, records, nids, err) == -1)
		goto out;
	rc = put_commit(t, &b, ids, records, nids, version, err);
out:
	pw_buf_finish(&b);
	return rc;
}

/* ---- finding committed uploads ---- */

int
pw_table_find_source(struct pw_table *t, const char *id, int64_t since_ms, bool *found,
    uint64_t *version, int64_t *records, struct pw_error *err)
{
	const struct seen *s;
	struct pw_delta_commit c;
	bool missing;
	int64_t mtime;

	*found = false;
	if (t->seen_any && now_ms() - t->seen_since_ms > SEEN_TTL_MS)
		seen_clear(t);
	if (!t->seen_any) {
		t->seen_any = true;
		t->seen_since_ms = now_ms();
		t->seen_hi = t->version;
		t->seen_lo = t->version + 1;	/* nothing read yet */
		t->seen_lo_ms = INT64_MAX;
	}
	/* Newer commits, by this worker's peers. */
	for (;;) {
		uint64_t v = t->seen_hi + 1;

		if (pw_table_log_read(t->logdir, v, &c, &missing, NULL, err) == -1)
			return -1;
		if (missing)
			break;
		for (size_t i = 0; i < c.nsource_ids; i++)
			seen_add(t, c.source_ids[i], v, c.source_records[i]);
		pw_delta_commit_finish(&c);
		t->seen_hi = v;
		if (v > t->version)
			t->version = v;
	}
	/* Older ones, back to a little before the upload was started. */
	while (t->seen_lo > 0 && t->seen_lo_ms >= since_ms - CLOCK_MARGIN_MS) {
		uint64_t v = t->seen_lo - 1;

		if (pw_table_log_read(t->logdir, v, &c, &missing, &mtime, err) == -1)
			return -1;
		if (!missing) {
			for (size_t i = 0; i < c.nsource_ids; i++)
				seen_add(t, c.source_ids[i], v, c.source_records[i]);
			pw_delta_commit_finish(&c);
		}
		t->seen_lo = v;
		t->seen_lo_ms = missing ? INT64_MIN : mtime;
	}
	if ((s = seen_find(t, id)) != NULL) {
		*found = true;
		*version = s->version;
		*records = s->records;
	}
	return 0;
}
