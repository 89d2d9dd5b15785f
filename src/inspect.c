/*
 * A Delta table at a glance (see include/portada/inspect.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "portada/deltalog.h"
#include "portada/inspect.h"
#include "portada/http.h"
#include "portada/lake.h"
#include "portada/log.h"
#include "portada/store.h"
#include "portada/table.h"
#include "portada/tablespec.h"

#define LAST_COMMITS	10

struct live {
	char		*path;
	uint64_t	 size;
	int64_t		 records;
};

struct commit_line {
	uint64_t	version;
	int64_t		timestamp_ms;
	char		operation[32];
	size_t		files;
	int64_t		rows;
	size_t		uploads;
};

struct summary {
	uint64_t		 version;
	char			*id;
	struct pw_delta_field	*fields;
	size_t			 nfields;
	struct live		*live;
	size_t			 nlive, cap;
	struct commit_line	 last[LAST_COMMITS];
	size_t			 nlast;
	int			 reader, writer;
};

static void
summary_finish(struct summary *s)
{
	for (size_t i = 0; i < s->nlive; i++)
		free(s->live[i].path);
	free(s->live);
	free(s->id);
	pw_delta_fields_free(s->fields, s->nfields);
}

static void
apply(struct summary *s, uint64_t v, struct pw_delta_commit *c)
{
	struct commit_line *cl;
	int64_t rows = 0;

	if (c->has_protocol) {
		s->reader = c->protocol.min_reader_version;
		s->writer = c->protocol.min_writer_version;
	}
	if (c->has_metadata) {
		free(s->id);
		s->id = pw_xstrdup(c->metadata.id != NULL ? c->metadata.id : "");
		pw_delta_fields_free(s->fields, s->nfields);
		s->fields = pw_delta_fields_copy(c->metadata.fields, c->metadata.nfields);
		s->nfields = c->metadata.nfields;
	}
	for (size_t i = 0; i < c->nremove; i++) {
		for (size_t j = 0; j < s->nlive; j++) {
			if (strcmp(s->live[j].path, c->remove_paths[i]) == 0) {
				free(s->live[j].path);
				s->live[j] = s->live[--s->nlive];
				break;
			}
		}
	}
	for (size_t i = 0; i < c->nadd; i++) {
		if (s->nlive == s->cap) {
			s->cap = s->cap == 0 ? 64 : s->cap * 2;
			s->live = pw_xrealloc(s->live, s->cap * sizeof *s->live);
		}
		s->live[s->nlive].path = pw_xstrdup(c->add_paths[i]);
		s->live[s->nlive].size = c->add_sizes[i];
		s->live[s->nlive].records = c->add_records[i];
		s->nlive++;
		rows = rows < 0 || c->add_records[i] < 0 ? -1 : rows + c->add_records[i];
	}
	/* Keep the last few, newest last. */
	if (s->nlast == LAST_COMMITS) {
		memmove(s->last, s->last + 1, (LAST_COMMITS - 1) * sizeof *s->last);
		s->nlast--;
	}
	cl = &s->last[s->nlast++];
	cl->version = v;
	cl->timestamp_ms = c->timestamp_ms;
	snprintf(cl->operation, sizeof cl->operation, "%s",
	    c->operation != NULL ? c->operation : (c->has_metadata ? "METADATA" : "?"));
	cl->files = c->nadd;
	cl->rows = rows;
	cl->uploads = c->nsource_ids;
	s->version = v;
}

/* ---- a table on S3: the store's calls, run to their end one by one ---- */

struct wait {
	bool			 done;
	struct pw_store_result	 res;	/* names and data copied out */
	char			**names;
	size_t			 nnames;
	struct pw_buf		 data;	/* a get's object (a list leaves it unset) */
};

static void
on_store(void *arg, const struct pw_store_result *r)
{
	struct wait *w = arg;

	w->done = true;
	w->res = *r;
	w->res.names = NULL;
	w->res.data = NULL;
	if (r->status == PW_STORE_OK && r->nnames > 0) {
		w->names = pw_xcalloc(r->nnames, sizeof *w->names);
		for (size_t i = 0; i < r->nnames; i++)
			w->names[i] = pw_xstrdup(r->names[i]);
		w->nnames = r->nnames;
	}
	if (r->status == PW_STORE_OK && r->len > 0 && w->data.limit > 0 &&
	    pw_buf_append(&w->data, r->data, r->len) == -1)
		pw_fatal("out of memory reading a log entry");
}

static void
run(struct event_base *base, struct wait *w)
{
	while (!w->done)
		if (event_base_loop(base, EVLOOP_ONCE) == -1)
			pw_fatal("the event loop failed");
}

static int
load_store(struct event_base *base, struct pw_store *st, const char *url, const char *table,
    struct summary *s, struct pw_error *err)
{
	struct pw_delta_log_name ln;
	struct wait w;
	char prefix[1024], key[1100], name[PW_DELTA_VERSION_NAME_SIZE];
	bool any = false;
	uint64_t max = 0;
	int rc = -1;

	snprintf(prefix, sizeof prefix, "%s/_delta_log/", table);
	memset(&w, 0, sizeof w);
	pw_store_list(st, prefix, on_store, &w);
	run(base, &w);
	if (w.res.status != PW_STORE_OK) {
		*err = w.res.error;
		goto out;
	}
	for (size_t i = 0; i < w.nnames; i++) {
		if (pw_delta_log_name_parse(w.names[i], &ln) == PW_DELTA_LOG_COMMIT) {
			if (!any || ln.version > max)
				max = ln.version;
			any = true;
		}
	}
	if (!any) {
		pw_error_set(err, "%s is not a Delta table (no commits in %s/_delta_log/)", url, url);
		goto out;
	}
	for (uint64_t v = 0; v <= max; v++) {
		struct wait g;
		struct pw_delta_commit c;

		memset(&g, 0, sizeof g);
		pw_buf_init(&g.data, (size_t)256 << 20);
		pw_delta_version_name(v, name);
		snprintf(key, sizeof key, "%s%s", prefix, name);
		pw_store_get(st, key, (size_t)256 << 20, on_store, &g);
		run(base, &g);
		if (g.res.status == PW_STORE_MISSING)
			pw_error_set(err, "%s: version %" PRIu64 " is missing (checkpoints and "
			    "cleaned-up logs are not read)", url, v);
		else if (g.res.status != PW_STORE_OK)
			*err = g.res.error;
		else if (pw_delta_commit_parse((const char *)g.data.data, g.data.len, &c, err) == 0) {
			apply(s, v, &c);
			pw_delta_commit_finish(&c);
			pw_buf_finish(&g.data);
			continue;
		} else
			pw_error_prefix(err, "%s/%s", pw_store_name(st), key);
		pw_buf_finish(&g.data);
		goto out;
	}
	rc = 0;
out:
	pw_lake_names_free(w.names, w.nnames);
	return rc;
}

/* s3://bucket/prefix/table: the store at the prefix, and the table in it. */
static int
load_s3(const char *url, struct summary *s, struct pw_error *err)
{
	struct event_base *base = event_base_new();
	struct pw_http *http = NULL;
	struct pw_store *st = NULL;
	char *lake = pw_xstrdup(url), *slash;
	size_t n = strlen(lake);
	int rc = -1;

	if (base == NULL)
		pw_fatal("cannot create an event loop");
	while (n > 5 && lake[n - 1] == '/')
		lake[--n] = '\0';
	slash = strrchr(lake + 5, '/');
	if (slash == NULL) {
		pw_error_set(err, "%s: expected s3://bucket[/prefix]/<table>", url);
		goto out;
	}
	*slash = '\0';
	if ((http = pw_http_create(base, 16, 16, err)) == NULL ||
	    (st = pw_store_open(base, http, lake, (pw_store_getenv_fn)getenv, err)) == NULL)
		goto out;
	rc = load_store(base, st, url, slash + 1, s, err);
out:
	pw_store_close(st);
	pw_http_destroy(http);
	event_base_free(base);
	free(lake);
	return rc;
}

static int
load(const char *dir, struct summary *s, struct pw_error *err)
{
	char *logdir;
	struct pw_table_log log;
	int rc = -1;

	if (strncmp(dir, "s3://", 5) == 0)
		return load_s3(dir, s, err);
	logdir = pw_lake_join(dir, "_delta_log");
	if (pw_table_log_scan(logdir, &log, err) == -1)
		goto out;
	if (!log.any) {
		pw_error_set(err, "%s is not a Delta table (no commits in %s)", dir, logdir);
		goto out;
	}
	for (uint64_t v = 0; v <= log.max; v++) {
		struct pw_delta_commit c;
		bool missing;

		if (pw_table_log_read(logdir, v, &c, &missing, NULL, err) == -1)
			goto out;
		if (missing) {
			pw_error_set(err, "%s: version %" PRIu64 " is missing (checkpoints and "
			    "cleaned-up logs are not read)", dir, v);
			goto out;
		}
		apply(s, v, &c);
		pw_delta_commit_finish(&c);
	}
	rc = 0;
out:
	free(logdir);
	return rc;
}

static void
iso_time(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, n, "-");
	else
		strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
totals(const struct summary *s, uint64_t *bytes, int64_t *rows)
{
	*bytes = 0;
	*rows = 0;
	for (size_t i = 0; i < s->nlive; i++) {
		*bytes += s->live[i].size;
		*rows = *rows < 0 || s->live[i].records < 0 ? -1 : *rows + s->live[i].records;
	}
}

static void
print_text(const char *dir, const struct summary *s, FILE *out)
{
	uint64_t bytes;
	int64_t rows;
	char ts[32];

	totals(s, &bytes, &rows);
	fprintf(out, "table    %s\n", dir);
	fprintf(out, "version  %" PRIu64 "   (id %s, protocol %d/%d)\n", s->version,
	    s->id != NULL ? s->id : "-", s->reader, s->writer);
	fprintf(out, "files    %zu   rows %s%" PRId64 "   bytes %" PRIu64 "\n", s->nlive,
	    rows < 0 ? "at least " : "", rows < 0 ? 0 : rows, bytes);
	fprintf(out, "schema   %zu columns\n", s->nfields);
	for (size_t i = 0; i < s->nfields; i++)
		fprintf(out, "  %-28s %s%s\n", s->fields[i].name,
		    pw_table_type_name(s->fields[i].type),
		    s->fields[i].nullable ? "" : " not null");
	fprintf(out, "last commits\n  %8s  %-20s  %-10s %6s %10s %8s\n", "version", "time (UTC)",
	    "operation", "files", "rows", "uploads");
	for (size_t i = s->nlast; i-- > 0;) {
		const struct commit_line *c = &s->last[i];

		iso_time(c->timestamp_ms, ts, sizeof ts);
		fprintf(out, "  %8" PRIu64 "  %-20s  %-10s %6zu %10" PRId64 " %8zu\n", c->version,
		    ts, c->operation, c->files, c->rows, c->uploads);
	}
}

static void
print_json(const char *dir, const struct summary *s, FILE *out)
{
	json_t *o = json_object(), *schema = json_array(), *commits = json_array();
	uint64_t bytes;
	int64_t rows;
	char *text;

	totals(s, &bytes, &rows);
	json_object_set_new(o, "table", json_string(dir));
	json_object_set_new(o, "version", json_integer((json_int_t)s->version));
	json_object_set_new(o, "id", s->id != NULL ? json_string(s->id) : json_null());
	json_object_set_new(o, "files", json_integer((json_int_t)s->nlive));
	json_object_set_new(o, "rows", rows < 0 ? json_null() : json_integer(rows));
	json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
	for (size_t i = 0; i < s->nfields; i++)
		json_array_append_new(schema, json_pack("{s:s, s:s, s:b}", "name",
		    s->fields[i].name, "type", pw_table_type_name(s->fields[i].type),
		    "nullable", s->fields[i].nullable));
	json_object_set_new(o, "schema", schema);
	for (size_t i = 0; i < s->nlast; i++) {
		const struct commit_line *c = &s->last[i];

		json_array_append_new(commits, json_pack("{s:I, s:I, s:s, s:I, s:o, s:I}",
		    "version", (json_int_t)c->version, "timestamp", (json_int_t)c->timestamp_ms,
		    "operation", c->operation, "files", (json_int_t)c->files, "rows",
		    c->rows < 0 ? json_null() : json_integer(c->rows), "uploads",
		    (json_int_t)c->uploads));
	}
	json_object_set_new(o, "last_commits", commits);
	text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	fprintf(out, "%s\n", text);
	free(text);
	json_decref(o);
}

int
pw_inspect(const char *dir, bool json, FILE *out, struct pw_error *err)
{
	struct summary s;

	memset(&s, 0, sizeof s);
	if (load(dir, &s, err) == -1) {
		summary_finish(&s);
		return -1;
	}
	if (json)
		print_json(dir, &s, out);
	else
		print_text(dir, &s, out);
	summary_finish(&s);
	return 0;
}

int
pw_inspect_main(int argc, char **argv)
{
	struct pw_error err;
	const char *dir = NULL;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (dir == NULL && argv[i][0] != '-')
			dir = argv[i];
		else
			dir = NULL, i = argc;
	}
	if (dir == NULL) {
		fprintf(stderr, "usage: portada-worker inspect [--json] <table-dir | "
		    "s3://bucket/prefix/table>\n");
		return 2;
	}
	if (pw_inspect(dir, json, stdout, &err) == -1) {
		fprintf(stderr, "portada-worker inspect: %s\n", err.msg);
		return 1;
	}
	return 0;
}
