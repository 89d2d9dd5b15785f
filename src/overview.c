/*
 * `portada-worker status` (see include/portada/overview.h).  A one-shot
 * tool, so plain blocking hiredis calls.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>
#include <jansson.h>

#include "portada/config.h"
#include "portada/overview.h"
#include "portada/status.h"

#define OVERVIEW_SCAN_MAX	200000	/* hashes read for the counts */
#define LAST_ERRORS		10
#define LIST_PEEK		200	/* ids of a processing list read for its age */

struct count {
	char		*value;
	unsigned long	 n;
};

struct failure {
	char	*id, *file, *message;
	double	 at;		/* finished_at, seconds since the epoch (0: unknown) */
};

struct overview {
	long long	 queue;
	json_t		*workers;	/* [{worker, key, in_flight, oldest_started_at}] */
	struct count	*counts;
	size_t		 ncounts;
	unsigned long	 scanned;
	bool		 truncated;
	struct failure	 last[LAST_ERRORS];
	size_t		 nlast;
};

static volatile sig_atomic_t stop;

static void
on_sigint(int sig)
{
	(void)sig;
	stop = 1;
}

static redisContext *
connect_redis(const struct pw_config *cfg, char *why, size_t size)
{
	struct timeval tv = { (time_t)cfg->connect_timeout,
	    (suseconds_t)((cfg->connect_timeout - (double)(time_t)cfg->connect_timeout) * 1e6) };
	redisContext *c = cfg->redis.path != NULL ?
	    redisConnectUnixWithTimeout(cfg->redis.path, tv) :
	    redisConnectWithTimeout(cfg->redis.host, cfg->redis.port, tv);
	redisReply *r;

	if (c == NULL || c->err) {
		snprintf(why, size, "%s", c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	for (int step = 0; step < 2; step++) {
		if (step == 0 && cfg->redis.password == NULL)
			continue;
		if (step == 1 && cfg->redis.db == 0)
			continue;
		r = step == 1 ? redisCommand(c, "SELECT %d", cfg->redis.db) :
		    cfg->redis.user != NULL ?
		    redisCommand(c, "AUTH %s %s", cfg->redis.user, cfg->redis.password) :
		    redisCommand(c, "AUTH %s", cfg->redis.password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, size, "%s: %s", step == 1 ? "SELECT" : "AUTH",
			    r != NULL ? r->str : c->errstr);
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

static const char *
str(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

static void
count_value(struct overview *o, const char *v)
{
	for (size_t i = 0; i < o->ncounts; i++) {
		if (strcmp(o->counts[i].value, v) == 0) {
			o->counts[i].n++;
			return;
		}
	}
	o->counts = realloc(o->counts, (o->ncounts + 1) * sizeof *o->counts);
	if (o->counts == NULL)
		abort();
	o->counts[o->ncounts].value = strdup(v);
	o->counts[o->ncounts++].n = 1;
}

static void
note_failure(struct overview *o, const char *id, const char *file, const char *msg, double at)
{
	size_t k;

	/* Keep the newest LAST_ERRORS, newest first. */
	for (k = 0; k < o->nlast && o->last[k].at >= at; k++)
		;
	if (k == LAST_ERRORS)
		return;
	if (o->nlast == LAST_ERRORS) {
		free(o->last[LAST_ERRORS - 1].id);
		free(o->last[LAST_ERRORS - 1].file);
		free(o->last[LAST_ERRORS - 1].message);
		o->nlast--;
	}
	memmove(o->last + k + 1, o->last + k, (o->nlast - k) * sizeof *o->last);
	o->last[k].id = strdup(id);
	o->last[k].file = strdup(file != NULL ? file : "");
	o->last[k].message = strdup(msg != NULL ? msg : "");
	o->last[k].at = at;
	o->nlast++;
}

static int
gather(redisContext *c, const struct pw_config *cfg, struct overview *o, char *why, size_t size)
{
	const char *failed = pw_status_value(cfg->status_scheme, PW_STATUS_FAILED);
	size_t plen = strlen(cfg->hash_prefix);
	char cursor[32] = "0", pattern[600];
	redisReply *r;

	memset(o, 0, sizeof *o);
	o->workers = json_array();
	r = redisCommand(c, "LLEN %s", cfg->queue_key);
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		goto fail;
	o->queue = r->integer;
	freeReplyObject(r);

	/* Every worker's processing list. */
	snprintf(pattern, sizeof pattern, "%s*", cfg->processing_prefix);
	do {
		r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
			goto fail;
		snprintf(cursor, sizeof cursor, "%s", str(r->element[0]) != NULL ?
		    str(r->element[0]) : "0");
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const char *key = str(r->element[1]->element[i]);
			redisReply *len, *ids;
			double oldest = 0;

			if (key == NULL)
				continue;
			len = redisCommand(c, "LLEN %s", key);
			ids = redisCommand(c, "LRANGE %s 0 %d", key, LIST_PEEK - 1);
			for (size_t k = 0; ids != NULL && ids->type == REDIS_REPLY_ARRAY &&
			    k < ids->elements; k++) {
				redisReply *at = redisCommand(c, "HGET %s%s started_at", cfg->hash_prefix,
				    ids->element[k]->str);
				double t = str(at) != NULL ? strtod(at->str, NULL) : 0;

				if (t > 0 && (oldest == 0 || t < oldest))
					oldest = t;
				if (at != NULL)
					freeReplyObject(at);
			}
			json_array_append_new(o->workers, json_pack("{s:s, s:s, s:I, s:o}",
			    "worker", key + strlen(cfg->processing_prefix), "key", key,
			    "in_flight", (json_int_t)(len != NULL && len->type == REDIS_REPLY_INTEGER ?
			    len->integer : 0), "oldest_started_at",
			    oldest > 0 ? json_real(oldest) : json_null()));
			if (len != NULL)
				freeReplyObject(len);
			if (ids != NULL)
				freeReplyObject(ids);
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);

	/* Workers alive with nothing in flight (an empty list is no key). */
	snprintf(pattern, sizeof pattern, "%s*", PW_HEARTBEAT_PREFIX);
	snprintf(cursor, sizeof cursor, "0");
	do {
		r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
			goto fail;
		snprintf(cursor, sizeof cursor, "%s", str(r->element[0]) != NULL ?
		    str(r->element[0]) : "0");
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			const char *name = r->element[1]->element[i]->str + strlen(PW_HEARTBEAT_PREFIX);
			bool known = false;
			size_t k;
			json_t *wk;
			char key[600];

			json_array_foreach(o->workers, k, wk)
				known = known || strcmp(json_string_value(json_object_get(wk, "worker")),
				    name) == 0;
			if (known)
				continue;
			snprintf(key, sizeof key, "%s%s", cfg->processing_prefix, name);
			json_array_append_new(o->workers, json_pack("{s:s, s:s, s:i, s:n}", "worker",
			    name, "key", key, "in_flight", 0, "oldest_started_at"));
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	{
		size_t k;
		json_t *wk;

		json_array_foreach(o->workers, k, wk) {
			redisReply *hb = redisCommand(c, "GET %s%s", PW_HEARTBEAT_PREFIX,
			    json_string_value(json_object_get(wk, "worker")));
			double t = str(hb) != NULL ? strtod(hb->str, NULL) : 0;

			json_object_set_new(wk, "heartbeat_at", t > 0 ? json_real(t) : json_null());
			if (hb != NULL)
				freeReplyObject(hb);
		}
	}

	/* The uploads by status: SCAN, then one pipelined HMGET per batch. */
	snprintf(pattern, sizeof pattern, "%s*", cfg->hash_prefix);
	snprintf(cursor, sizeof cursor, "0");
	do {
		size_t n;

		r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
			goto fail;
		snprintf(cursor, sizeof cursor, "%s", str(r->element[0]) != NULL ?
		    str(r->element[0]) : "0");
		n = r->element[1]->elements;
		for (size_t i = 0; i < n; i++)
			redisAppendCommand(c, "HMGET %s status error_message finished_at "
			    "original_filename filename", r->element[1]->element[i]->str);
		for (size_t i = 0; i < n; i++) {
			redisReply *h;
			const char *st;

			if (redisGetReply(c, (void **)&h) != REDIS_OK) {
				freeReplyObject(r);
				goto fail;
			}
			/* Other types under the prefix (WRONGTYPE) are not uploads. */
			if (h->type == REDIS_REPLY_ARRAY && h->elements == 5 &&
			    (st = str(h->element[0])) != NULL) {
				const char *key = r->element[1]->element[i]->str;

				o->scanned++;
				count_value(o, st);
				if (failed != NULL && strcmp(st, failed) == 0)
					note_failure(o, key + plen, str(h->element[3]) != NULL ?
					    str(h->element[3]) : str(h->element[4]), str(h->element[1]),
					    str(h->element[2]) != NULL ? strtod(h->element[2]->str, NULL) : 0);
			}
			freeReplyObject(h);
		}
		freeReplyObject(r);
		if (o->scanned >= OVERVIEW_SCAN_MAX && strcmp(cursor, "0") != 0) {
			o->truncated = true;
			break;
		}
	} while (strcmp(cursor, "0") != 0);
	return 0;

fail:
	snprintf(why, size, "%s", c->err ? c->errstr : r != NULL && r->type == REDIS_REPLY_ERROR ?
	    r->str : "unexpected reply");
	if (r != NULL)
		freeReplyObject(r);
	return -1;
}

static void
overview_finish(struct overview *o)
{
	json_decref(o->workers);
	for (size_t i = 0; i < o->ncounts; i++)
		free(o->counts[i].value);
	free(o->counts);
	for (size_t i = 0; i < o->nlast; i++) {
		free(o->last[i].id);
		free(o->last[i].file);
		free(o->last[i].message);
	}
}

/* "done" for the scheme's value of PW_STATUS_DONE, else the value itself. */
static const char *
status_name(const struct pw_config *cfg, const char *v)
{
	static const struct { enum pw_status_kind k; const char *name; } kinds[] = {
		{ PW_STATUS_DONE, "done" }, { PW_STATUS_FAILED, "failed" },
		{ PW_STATUS_PROCESSING, "processing" }, { PW_STATUS_PENDING, "pending" },
	};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		const char *s = pw_status_value(cfg->status_scheme, kinds[i].k);

		if (s != NULL && strcmp(s, v) == 0)
			return kinds[i].name;
	}
	return NULL;
}

static void
iso(double t, char *out, size_t size)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&s, &tm) == NULL)
		snprintf(out, size, "-");
	else
		strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
print_json(const struct pw_config *cfg, const struct overview *o, FILE *out)
{
	json_t *root = json_object(), *counts = json_object(), *errs = json_array();
	char *text;

	for (size_t i = 0; i < o->ncounts; i++) {
		const char *name = status_name(cfg, o->counts[i].value);

		json_object_set_new(counts, o->counts[i].value, json_pack("{s:I, s:s?}", "count",
		    (json_int_t)o->counts[i].n, "meaning", name));
	}
	for (size_t i = 0; i < o->nlast; i++)
		json_array_append_new(errs, json_pack("{s:s, s:s, s:o, s:s}", "id", o->last[i].id,
		    "file", o->last[i].file, "finished_at", o->last[i].at > 0 ?
		    json_real(o->last[i].at) : json_null(), "error_message", o->last[i].message));
	json_object_set_new(root, "queue", json_pack("{s:s, s:I}", "key", cfg->queue_key,
	    "waiting", (json_int_t)o->queue));
	json_object_set(root, "workers", o->workers);
	json_object_set_new(root, "statuses", counts);
	json_object_set_new(root, "uploads_scanned", json_integer((json_int_t)o->scanned));
	json_object_set_new(root, "truncated", json_boolean(o->truncated));
	json_object_set_new(root, "last_errors", errs);
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fprintf(out, "%s\n", text);
	free(text);
	json_decref(root);
}

static void
print_text(const struct pw_config *cfg, const struct overview *o, FILE *out)
{
	double now = (double)time(NULL);
	size_t i;
	json_t *wk;

	fprintf(out, "queue      %s: %lld waiting\n", cfg->queue_key, o->queue);
	fprintf(out, "workers    %zu (in flight, from their processing lists)\n",
	    json_array_size(o->workers));
	json_array_foreach(o->workers, i, wk) {
		json_t *at = json_object_get(wk, "oldest_started_at");
		json_t *hb = json_object_get(wk, "heartbeat_at");
		char age[64] = "", beat[64];

		if (json_is_number(at))
			snprintf(age, sizeof age, "   oldest started %.0f s ago",
			    now - json_number_value(at));
		if (json_is_number(hb))
			snprintf(beat, sizeof beat, "heartbeat %.0f s ago", now - json_number_value(hb));
		else
			snprintf(beat, sizeof beat, "NO HEARTBEAT (stopped or dead)");
		fprintf(out, "  %-24s %-32s %6" JSON_INTEGER_FORMAT "%s\n",
		    json_string_value(json_object_get(wk, "worker")), beat,
		    json_integer_value(json_object_get(wk, "in_flight")), age);
	}
	fprintf(out, "uploads    %lu%s by status:", o->scanned, o->truncated ? "+ (first ones)" : "");
	for (size_t k = 0; k < o->ncounts; k++) {
		const char *name = status_name(cfg, o->counts[k].value);

		fprintf(out, "%s %s%s%s%s %lu", k > 0 ? "," : "", o->counts[k].value,
		    name != NULL ? " (" : "", name != NULL ? name : "", name != NULL ? ")" : "",
		    o->counts[k].n);
	}
	fprintf(out, "\n");
	if (o->nlast > 0)
		fprintf(out, "last errors\n");
	for (size_t k = 0; k < o->nlast; k++) {
		char when[32];

		iso(o->last[k].at, when, sizeof when);
		fprintf(out, "  %s  %s  %s\n      %s\n", when, o->last[k].id, o->last[k].file,
		    o->last[k].message);
	}
}

int
pw_overview_main(int argc, char **argv)
{
	struct pw_config cfg;
	struct pw_error err;
	char **rest = calloc((size_t)argc + 1, sizeof *rest), why[512];
	int n = 1, status = 0;
	bool json = false;
	double watch = 0;
	redisContext *c;

	if (rest == NULL)
		return 1;
	rest[0] = argv[0];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--watch") == 0)
			watch = 2;
		else if (strncmp(argv[i], "--watch=", 8) == 0) {
			char *end;

			watch = strtod(argv[i] + 8, &end);
			if (*end != '\0' || !(watch >= 0.1 && watch <= 3600)) {
				fprintf(stderr, "portada-worker status: --watch: expected 0.1 to 3600 "
				    "seconds, got '%s'\n", argv[i] + 8);
				free(rest);
				return 2;
			}
		} else
			rest[n++] = argv[i];
	}
	if (pw_config_parse(&cfg, n, rest, (pw_getenv_fn)getenv, &err) != 0) {
		fprintf(stderr, "portada-worker status: %s\n", err.msg);
		free(rest);
		pw_config_finish(&cfg);
		return 2;
	}
	free(rest);
	if ((c = connect_redis(&cfg, why, sizeof why)) == NULL) {
		char addr[300];

		pw_config_redis_display(&cfg.redis, addr, sizeof addr);
		fprintf(stderr, "portada-worker status: cannot reach Redis at %s: %s\n", addr, why);
		pw_config_finish(&cfg);
		return 1;
	}
	signal(SIGINT, on_sigint);
	for (;;) {
		struct overview o;

		if (gather(c, &cfg, &o, why, sizeof why) == -1) {
			fprintf(stderr, "portada-worker status: %s\n", why);
			overview_finish(&o);
			status = 1;
			break;
		}
		if (watch > 0 && !json && isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout);	/* home, clear */
		if (json)
			print_json(&cfg, &o, stdout);
		else
			print_text(&cfg, &o, stdout);
		fflush(stdout);
		overview_finish(&o);
		if (watch <= 0 || stop)
			break;
		{
			struct timespec ts = { (time_t)watch, (long)((watch - (double)(time_t)watch) * 1e9) };

			while (nanosleep(&ts, &ts) == -1 && errno == EINTR && !stop)
				;
		}
		if (stop)
			break;
	}
	redisFree(c);
	pw_config_finish(&cfg);
	return status;
}
