/*
 * config: defaults, then environment variables, then flags.  Every option
 * is one row of the table below, so the flag, its environment twin, its
 * parser and its line in --help cannot drift apart.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portada/config.h"

#define DEFAULT_INGEST_ROOTS "/app/ingestion:/app/delta_lake/ingest"

enum opt_kind {
	OPT_STRING,	/* key names, worker id */
	OPT_UINT,
	OPT_SIZE,	/* bytes, with an optional k/m/g suffix (powers of 1024) */
	OPT_DURATION,	/* seconds, with an optional ms/s/m suffix */
	OPT_BOOL,
	OPT_SPECIAL,	/* parsed by set_special() */
};

struct opt {
	const char *name;	/* flag without "--" */
	const char *env;	/* environment twin, or NULL */
	enum opt_kind kind;
	size_t offset;		/* into struct pw_config, for the generic kinds */
	double min, max;	/* range for numbers */
	const char *arg;	/* for --help */
	const char *help;
};

#define OFF(f) offsetof(struct pw_config, f)

static const struct opt opts[] = {
	{ "redis", "REDIS_URL", OPT_SPECIAL, 0, 0, 0, "URL",
	  "Redis to consume: redis://[user:password@]host[:port][/db] or unix:///path[?db=N]; "
	  "default from REDIS_HOST/REDIS_PORT, else redis://localhost:6379" },
	{ "worker-id", "PORTADA_WORKER_ID", OPT_STRING, OFF(worker_id), 0, 0, "ID",
	  "name of this worker and of its processing list; must be stable across restarts "
	  "and unique per worker (default: the host name)" },
	{ "max-inflight", "PORTADA_MAX_INFLIGHT", OPT_UINT, OFF(max_inflight), 1, 1000000, "N",
	  "files processed at once (default 1024)" },
	{ "fetch", "PORTADA_FETCH", OPT_SPECIAL, 0, 0, 0, "blmove|blpop",
	  "blmove (default): ids wait in files:processing:<worker-id> until done, nothing is "
	  "lost on a crash; blpop: the task guide's consumer, an id in flight is lost if the worker dies" },
	{ "status-scheme", "PORTADA_STATUS_SCHEME", OPT_SPECIAL, 0, 0, 0, "task|dashboard",
	  "status values: task (default) 1 processing, 2 done, -1 error; dashboard 1 processed, 2 error" },
	{ "ingest-root", "PORTADA_INGEST_ROOTS", OPT_SPECIAL, 0, 0, 0, "DIR",
	  "a file_path must lie inside one of these directories; repeatable, the variable is "
	  "colon-separated (default " DEFAULT_INGEST_ROOTS ")" },
	{ "queue-key", "PORTADA_QUEUE_KEY", OPT_STRING, OFF(queue_key), 0, 0, "KEY",
	  "list of queued ids (default files:all)" },
	{ "processing-prefix", "PORTADA_PROCESSING_PREFIX", OPT_STRING, OFF(processing_prefix), 0, 0, "PREFIX",
	  "processing list is PREFIX<worker-id> (default files:processing:)" },
	{ "hash-prefix", "PORTADA_HASH_PREFIX", OPT_STRING, OFF(hash_prefix), 0, 0, "PREFIX",
	  "metadata hash is PREFIX<id> (default file:)" },
	{ "drain-timeout", "PORTADA_DRAIN_TIMEOUT", OPT_DURATION, OFF(drain_timeout), 0, 86400, "DURATION",
	  "on SIGTERM/SIGINT, time to finish files in flight before the rest go back to the "
	  "head of the queue (default 25s)" },
	{ "block-timeout", "PORTADA_BLOCK_TIMEOUT", OPT_DURATION, OFF(block_timeout), 0.1, 3600, "DURATION",
	  "how long one BLMOVE/BLPOP waits for an id (default 2s)" },
	{ "connect-timeout", "PORTADA_CONNECT_TIMEOUT", OPT_DURATION, OFF(connect_timeout), 0.1, 3600, "DURATION",
	  "give up a Redis connection attempt after this (default 5s)" },
	{ "command-timeout", "PORTADA_COMMAND_TIMEOUT", OPT_DURATION, OFF(command_timeout), 0.1, 3600, "DURATION",
	  "a Redis reply later than this drops and reopens the connection (default 10s)" },
	{ "reconcile-interval", "PORTADA_RECONCILE_INTERVAL", OPT_DURATION, OFF(reconcile_interval), 1, 86400, "DURATION",
	  "how often the processing list is compared with the files in memory, besides at "
	  "start and after every reconnect (default 60s)" },
	{ "heartbeat-ttl", "PORTADA_HEARTBEAT_TTL", OPT_DURATION, OFF(heartbeat_ttl), 3, 3600, "DURATION",
	  "this worker's heartbeat key lives this long and is refreshed six times as often; "
	  "once it is gone, any live worker puts this worker's processing list back at the "
	  "head of the queue (default 30s)" },
	{ "max-attempts", "PORTADA_MAX_ATTEMPTS", OPT_UINT, OFF(max_attempts), 1, 1000000, "N",
	  "a file started this many times without an outcome (its worker crashed, was killed, "
	  "or met a passing failure each time) ends with status failed instead of a further "
	  "attempt (default 3)" },
	{ "exit-when-idle", "PORTADA_EXIT_WHEN_IDLE", OPT_BOOL, OFF(exit_when_idle), 0, 0, NULL,
	  "exit 0 once the queue and the files in flight are empty" },
	{ "log-format", "PORTADA_LOG_FORMAT", OPT_SPECIAL, 0, 0, 0, "text|json",
	  "log line format (default text)" },
	{ "log-level", "PORTADA_LOG_LEVEL", OPT_SPECIAL, 0, 0, 0, "debug|info|warn|error",
	  "least severe level logged (default info)" },
	{ "max-record-bytes", "PORTADA_MAX_RECORD_BYTES", OPT_SIZE, OFF(max_record_bytes), 1024, 1 << 30, "SIZE",
	  "largest single record of a file (default 16m)" },
	{ "max-depth", "PORTADA_MAX_DEPTH", OPT_UINT, OFF(max_depth), 2, 1000, "N",
	  "deepest JSON nesting accepted (default 64)" },
	{ "read-chunk", "PORTADA_READ_CHUNK", OPT_SIZE, OFF(read_chunk_bytes), 512, 16 << 20, "SIZE",
	  "bytes read from a file per turn of the event loop (default 64k)" },
	{ "lake", "PORTADA_LAKE", OPT_SPECIAL, 0, 0, 0, "DIR|s3://BUCKET/PREFIX",
	  "where the Delta tables ship_entries and known_entities live: a directory "
	  "(default ./lake) or S3-compatible storage (AWS_ENDPOINT_URL, AWS_REGION, "
	  "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)" },
	{ "allow-source-host", "PORTADA_ALLOW_SOURCE_HOSTS", OPT_SPECIAL, 0, 0, 0, "HOST",
	  "a file_path may be an http:// or https:// URL on HOST (or HOST:PORT), or s3://HOST "
	  "for a bucket; repeatable, the variable is comma-separated (default: none, only "
	  "local files)" },
	{ "metrics-addr", "PORTADA_METRICS_ADDR", OPT_SPECIAL, 0, 0, 0, "[HOST:]PORT",
	  "serve /metrics (Prometheus), /healthz and /readyz over HTTP here; HOST defaults "
	  "to 127.0.0.1 (default: off)" },
	{ "archive-raw", "PORTADA_ARCHIVE_RAW", OPT_BOOL, OFF(archive_raw), 0, 0, NULL,
	  "also keep each committed upload unchanged in the lake, as "
	  "raw/<file_type>/<user>/<file id>.<ext>" },
	{ "table-spec", "PORTADA_TABLE_SPECS", OPT_SPECIAL, 0, 0, 0, "FILE",
	  "a JSON table spec replacing the built-in one for its kind of file; repeatable, the "
	  "variable is colon-separated" },
	{ "commit-interval-ms", "PORTADA_COMMIT_INTERVAL_MS", OPT_UINT, OFF(commit_interval_ms), 1, 3600000, "MS",
	  "a finished upload waits at most this long for its commit, which carries every upload "
	  "finished meanwhile (default 1000)" },
	{ "commit-max-files", "PORTADA_COMMIT_MAX_FILES", OPT_UINT, OFF(commit_max_files), 1, 100000, "N",
	  "uploads in one commit at most (default 1000)" },
	{ "stage-bytes", "PORTADA_STAGE_BYTES", OPT_SIZE, OFF(stage_bytes), 0, 1 << 30, "SIZE",
	  "an upload whose rows take at most this is held in memory, then written into a data "
	  "file shared with other uploads; a bigger one streams into its own data file (default 1m)" },
	{ "memory-budget", "PORTADA_MEMORY_BUDGET", OPT_SIZE, OFF(memory_budget), 4 << 20, 1ull << 40, "SIZE",
	  "memory for everything that grows with input (records, rows, Parquet row groups, "
	  "uploads to the store); when it is used up fewer ids are taken and readers wait "
	  "(default 64m)" },
	{ "max-streams", "PORTADA_MAX_STREAMS", OPT_UINT, OFF(max_streams), 1, 10000, "N",
	  "uploads writing their own data file at once; another one past --stage-bytes pauses "
	  "until one is done, so the writers' memory is bounded (default 4)" },
	{ "codec", "PORTADA_CODEC", OPT_SPECIAL, 0, 0, 0, "zstd|snappy|gzip|none",
	  "Parquet compression (default zstd)" },
	{ "help", NULL, OPT_SPECIAL, 0, 0, 0, NULL, "show this help and exit" },
	{ "version", NULL, OPT_SPECIAL, 0, 0, 0, NULL, "show the version and exit" },
};

#define N_OPTS (sizeof opts / sizeof opts[0])

static int
set_roots(struct pw_config *cfg, const char *list, struct pw_error *err)
{
	const char *p = list, *end;
	size_t i;

	for (i = 0; i < cfg->n_ingest_roots; i++)
		free(cfg->ingest_roots[i]);
	free(cfg->ingest_roots);
	cfg->ingest_roots = NULL;
	cfg->n_ingest_roots = 0;
	while (*p != '\0') {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		if (end > p) {
			if (*p != '/') {
				pw_error_set(err, "ingest root '%.*s' is not an absolute path",
				    (int)(end - p), p);
				return -1;
			}
			cfg->ingest_roots = pw_xrealloc(cfg->ingest_roots,
			    (cfg->n_ingest_roots + 1) * sizeof *cfg->ingest_roots);
			cfg->ingest_roots[cfg->n_ingest_roots++] =
			    pw_xstrndup(p, (size_t)(end - p));
		}
		p = *end == ':' ? end + 1 : end;
	}
	if (cfg->n_ingest_roots == 0) {
		pw_error_set(err, "no ingest root given");
		return -1;
	}
	return 0;
}

static int
add_root(struct pw_config *cfg, const char *dir, struct pw_error *err)
{
	if (*dir != '/') {
		pw_error_set(err, "ingest root '%s' is not an absolute path", dir);
		return -1;
	}
	cfg->ingest_roots = pw_xrealloc(cfg->ingest_roots,
	    (cfg->n_ingest_roots + 1) * sizeof *cfg->ingest_roots);
	cfg->ingest_roots[cfg->n_ingest_roots++] = pw_xstrdup(dir);
	return 0;
}

static int
parse_number(const char *s, double *out, const char **rest)
{
	char *end;

	errno = 0;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.')
		return -1;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(*out))
		return -1;
	*rest = end;
	return 0;
}

static int
parse_uint(const char *s, double *out)
{
	const char *rest;

	if (*s == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 15)
		return -1;
	return parse_number(s, out, &rest);
}

static int
parse_duration(const char *s, double *out)
{
	const char *unit;
	double v;

	if (parse_number(s, &v, &unit) != 0)
		return -1;
	if (*unit == '\0' || strcmp(unit, "s") == 0)
		*out = v;
	else if (strcmp(unit, "ms") == 0)
		*out = v / 1000;
	else if (strcmp(unit, "m") == 0)
		*out = v * 60;
	else
		return -1;
	return 0;
}

static int
parse_size(const char *s, double *out)
{
	const char *unit;
	double v;

	if (parse_number(s, &v, &unit) != 0)
		return -1;
	switch (tolower((unsigned char)*unit)) {
	case '\0':
		break;
	case 'k':
		v *= 1024;
		unit++;
		break;
	case 'm':
		v *= 1024 * 1024;
		unit++;
		break;
	case 'g':
		v *= 1024.0 * 1024 * 1024;
		unit++;
		break;
	default:
		return -1;
	}
	if (*unit == 'i' || *unit == 'I')
		unit++;
	if (*unit == 'b' || *unit == 'B')
		unit++;
	if (*unit != '\0' || v != floor(v))
		return -1;
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, bool *out)
{
	static const char *yes[] = { "1", "true", "yes", "on" };
	static const char *no[] = { "0", "false", "no", "off", "" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true, 0;
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		if (strcasecmp(s, no[i]) == 0)
			return *out = false, 0;
	return -1;
}

static int
valid_key_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 256)
		return 0;
	for (; *s != '\0'; s++)
		if (!isgraph((unsigned char)*s))
			return 0;
	return 1;
}

static int
choose(const char *value, const char *const *names, size_t n, int *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(value, names[i]) == 0)
			return *out = (int)i, 0;
	return -1;
}

/* Source hosts: the variable is a comma-separated list, a flag one host. */
static int
add_hosts(struct pw_config *cfg, const char *value, int from_env, struct pw_error *err)
{
	const char *p = value, *end;

	do {
		end = from_env ? strchr(p, ',') : NULL;
		if (end == NULL)
			end = p + strlen(p);
		size_t n = (size_t)(end - p), skip = n > 5 && strncmp(p, "s3://", 5) == 0 ? 5 : 0;

		if (n == skip || strcspn(p + skip, "/, \t") < n - skip) {
			pw_error_set(err, "expected a host name, host:port or s3://bucket, got '%.*s'",
			    (int)(end - p), p);
			return -1;
		}
		cfg->source_hosts = pw_xrealloc(cfg->source_hosts,
		    (cfg->n_source_hosts + 1) * sizeof *cfg->source_hosts);
		cfg->source_hosts[cfg->n_source_hosts++] = pw_xstrndup(p, (size_t)(end - p));
		p = *end == ',' ? end + 1 : end;
	} while (*p != '\0');
	return 0;
}

/* Spec files: the variable is a colon-separated list, a flag one file. */
static int
add_specs(struct pw_config *cfg, const char *value, int from_env, struct pw_error *err)
{
	const char *p = value, *end;

	do {
		end = from_env ? strchr(p, ':') : NULL;
		if (end == NULL)
			end = p + strlen(p);
		if (end == p) {
			pw_error_set(err, "empty table spec file name");
			return -1;
		}
		cfg->table_specs = pw_xrealloc(cfg->table_specs,
		    (cfg->n_table_specs + 1) * sizeof *cfg->table_specs);
		cfg->table_specs[cfg->n_table_specs++] = pw_xstrndup(p, (size_t)(end - p));
		p = *end == ':' ? end + 1 : end;
	} while (*p != '\0');
	return 0;
}

static int
set_special(struct pw_config *cfg, const struct opt *o, const char *value,
    int from_env, struct pw_error *err)
{
	static const char *const fetch[] = { "blmove", "blpop" };
	static const char *const scheme[] = { "task", "dashboard" };
	static const char *const fmt[] = { "text", "json" };
	static const char *const lvl[] = { "debug", "info", "warn", "error" };
	int v;

	if (strcmp(o->name, "redis") == 0) {
		struct pw_redis_addr addr = { 0 };

		if (pw_config_parse_redis_url(&addr, value, err) != 0)
			return -1;
		free(cfg->redis.host);
		free(cfg->redis.path);
		free(cfg->redis.user);
		free(cfg->redis.password);
		cfg->redis = addr;
		return 0;
	}
	if (strcmp(o->name, "ingest-root") == 0)
		return from_env ? set_roots(cfg, value, err) : add_root(cfg, value, err);
	if (strcmp(o->name, "lake") == 0) {
		if (*value == '\0') {
			pw_error_set(err, "expected a directory or s3://bucket/prefix, got ''");
			return -1;
		}
		free(cfg->lake);
		cfg->lake = pw_xstrdup(value);
		return 0;
	}
	if (strcmp(o->name, "allow-source-host") == 0)
		return add_hosts(cfg, value, from_env, err);
	if (strcmp(o->name, "metrics-addr") == 0) {
		const char *colon = strrchr(value, ':');
		const char *port = colon != NULL ? colon + 1 : value;
		char *end;
		long p = strtol(port, &end, 10);
		size_t hlen = colon != NULL ? (size_t)(colon - value) : 0;

		if (*port == '\0' || *end != '\0' || p < 1 || p > 65535 ||
		    (colon != NULL && hlen == 0) || hlen > 255) {
			pw_error_set(err, "expected [HOST:]PORT with a port from 1 to 65535, got '%s'",
			    value);
			return -1;
		}
		free(cfg->metrics_host);
		cfg->metrics_host = hlen > 0 ? pw_xstrndup(value, hlen) : pw_xstrdup("127.0.0.1");
		cfg->metrics_port = (unsigned)p;
		return 0;
	}
	if (strcmp(o->name, "table-spec") == 0)
		return add_specs(cfg, value, from_env, err);
	if (strcmp(o->name, "codec") == 0) {
		static const char *const codec[] = { "zstd", "snappy", "gzip", "none" };
		static const enum pw_pq_codec codecs[] = { PW_PQ_ZSTD, PW_PQ_SNAPPY,
		    PW_PQ_GZIP, PW_PQ_UNCOMPRESSED };

		if (choose(value, codec, 4, &v) == 0)
			return cfg->codec = codecs[v], 0;
	}
	if (strcmp(o->name, "fetch") == 0 && choose(value, fetch, 2, &v) == 0)
		return cfg->fetch = (enum pw_fetch_mode)v, 0;
	if (strcmp(o->name, "status-scheme") == 0 && choose(value, scheme, 2, &v) == 0)
		return cfg->status_scheme = (enum pw_status_scheme)v, 0;
	if (strcmp(o->name, "log-format") == 0 && choose(value, fmt, 2, &v) == 0)
		return cfg->log_format = (enum pw_log_format)v, 0;
	if (strcmp(o->name, "log-level") == 0 && choose(value, lvl, 4, &v) == 0)
		return cfg->log_level = (enum pw_log_level)v, 0;
	pw_error_set(err, "expected one of %s, got '%s'", o->arg, value);
	return -1;
}

/* Apply one value to one option; the caller prefixes the error with its source. */
static int
set_option(struct pw_config *cfg, const struct opt *o, const char *value,
    int from_env, struct pw_error *err)
{
	char *base = (char *)cfg;
	double v;
	bool b;

	switch (o->kind) {
	case OPT_STRING:
		if (!valid_key_name(value)) {
			pw_error_set(err, "expected 1 to 256 printable characters without "
			    "spaces, got '%s'", value);
			return -1;
		}
		free(*(char **)(base + o->offset));
		*(char **)(base + o->offset) = pw_xstrdup(value);
		return 0;
	case OPT_UINT:
	case OPT_SIZE:
	case OPT_DURATION:
		if ((o->kind == OPT_DURATION ? parse_duration(value, &v) :
		    o->kind == OPT_SIZE ? parse_size(value, &v) :
		    parse_uint(value, &v)) != 0) {
			pw_error_set(err, "expected %s, got '%s'",
			    o->kind == OPT_DURATION ? "a duration such as 25s or 500ms" :
			    o->kind == OPT_SIZE ? "a size such as 65536, 64k or 16m" :
			    "a whole number", value);
			return -1;
		}
		if (v < o->min || v > o->max) {
			pw_error_set(err, "'%s' is out of range (%.15g to %.15g%s)", value,
			    o->min, o->max, o->kind == OPT_DURATION ? " seconds" :
			    o->kind == OPT_SIZE ? " bytes" : "");
			return -1;
		}
		if (o->kind == OPT_UINT)
			*(unsigned *)(base + o->offset) = (unsigned)v;
		else if (o->kind == OPT_SIZE)
			*(size_t *)(base + o->offset) = (size_t)v;
		else
			*(double *)(base + o->offset) = v;
		return 0;
	case OPT_BOOL:
		if (parse_bool(value, &b) != 0) {
			pw_error_set(err, "expected true or false, got '%s'", value);
			return -1;
		}
		*(bool *)(base + o->offset) = b;
		return 0;
	case OPT_SPECIAL:
		return set_special(cfg, o, value, from_env, err);
	}
	return -1;
}

static void
set_defaults(struct pw_config *cfg)
{
	char host[256];

	memset(cfg, 0, sizeof *cfg);
	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "worker");
	host[sizeof host - 1] = '\0';
	cfg->worker_id = pw_xstrdup(host);
	cfg->max_inflight = 1024;
	cfg->fetch = PW_FETCH_BLMOVE;
	cfg->status_scheme = PW_STATUS_TASK;
	cfg->queue_key = pw_xstrdup("files:all");
	cfg->processing_prefix = pw_xstrdup("files:processing:");
	cfg->hash_prefix = pw_xstrdup("file:");
	cfg->drain_timeout = 25;
	cfg->block_timeout = 2;
	cfg->connect_timeout = 5;
	cfg->command_timeout = 10;
	cfg->reconcile_interval = 60;
	cfg->heartbeat_ttl = 30;
	cfg->max_attempts = 3;
	cfg->log_format = PW_LOG_TEXT;
	cfg->log_level = PW_LOG_INFO;
	cfg->max_record_bytes = 16u << 20;
	cfg->max_depth = 64;
	cfg->read_chunk_bytes = 64u << 10;
	cfg->lake = pw_xstrdup("lake");
	cfg->commit_interval_ms = 1000;
	cfg->commit_max_files = 1000;
	cfg->stage_bytes = 1u << 20;
	cfg->memory_budget = 64u << 20;
	cfg->max_streams = 4;
	cfg->codec = PW_PQ_ZSTD;
}

/* REDIS_HOST / REDIS_PORT, as the PortAda ingest API reads them. */
static int
redis_from_host_port(struct pw_config *cfg, pw_getenv_fn env, struct pw_error *err)
{
	const char *host = env("REDIS_HOST"), *port = env("REDIS_PORT");
	char *end;
	long p = 6379;

	if (port != NULL && *port != '\0') {
		errno = 0;
		p = strtol(port, &end, 10);
		if (errno != 0 || *end != '\0' || p < 1 || p > 65535) {
			pw_error_set(err, "REDIS_PORT: expected a port from 1 to 65535, got '%s'", port);
			return -1;
		}
	}
	cfg->redis.host = pw_xstrdup(host != NULL && *host != '\0' ? host : "localhost");
	cfg->redis.port = (int)p;
	return 0;
}

int
pw_config_parse(struct pw_config *cfg, int argc, char **argv, pw_getenv_fn env,
    struct pw_error *err)
{
	struct option longopts[N_OPTS + 1];
	bool root_flag_seen = false, spec_flag_seen = false, host_flag_seen = false;
	const char *value;
	size_t i;
	int c, idx;

	set_defaults(cfg);

	for (i = 0; i < N_OPTS; i++) {
		if (opts[i].env == NULL || (value = env(opts[i].env)) == NULL)
			continue;
		if (*value == '\0' && opts[i].kind != OPT_BOOL)
			continue;	/* VAR= in a compose file means unset */
		if (set_option(cfg, &opts[i], value, 1, err) != 0) {
			pw_error_prefix(err, "%s", opts[i].env);
			return -1;
		}
	}
	if (cfg->redis.host == NULL && cfg->redis.path == NULL &&
	    redis_from_host_port(cfg, env, err) != 0)
		return -1;

	for (i = 0; i < N_OPTS; i++) {
		longopts[i].name = opts[i].name;
		longopts[i].has_arg = opts[i].kind == OPT_BOOL ||
		    strcmp(opts[i].name, "help") == 0 ||
		    strcmp(opts[i].name, "version") == 0 ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
	}
	memset(&longopts[N_OPTS], 0, sizeof longopts[N_OPTS]);

	optind = 0;	/* GNU: start over, so tests can parse many times */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		const struct opt *o;

		if (c == 'h') {
			cfg->show_help = true;
			continue;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			/*
			 * optopt says which option: a short one may not be the
			 * last letter of its argument ("-xy"), so optind has not
			 * moved past it; >= 256 is a known flag given "=value".
			 */
			if (c == '?' && optopt > 0 && optopt < 256)
				pw_error_set(err, "unknown option '-%c' (see --help)", optopt);
			else if (c == '?' && optopt >= 256)
				pw_error_set(err, "option '--%s' takes no value",
				    opts[optopt - 256].name);
			else
				pw_error_set(err, c == ':' ? "option '%s' needs a value" :
				    "unknown option '%s' (see --help)", bad);
			return -1;
		}
		o = &opts[c - 256];
		if (strcmp(o->name, "help") == 0) {
			cfg->show_help = true;
			continue;
		}
		if (strcmp(o->name, "version") == 0) {
			cfg->show_version = true;
			continue;
		}
		if (strcmp(o->name, "allow-source-host") == 0 && !host_flag_seen) {
			host_flag_seen = true;
			while (cfg->n_source_hosts > 0)
				free(cfg->source_hosts[--cfg->n_source_hosts]);
		}
		if (strcmp(o->name, "table-spec") == 0 && !spec_flag_seen) {
			spec_flag_seen = true;
			while (cfg->n_table_specs > 0)
				free(cfg->table_specs[--cfg->n_table_specs]);
		}
		if (strcmp(o->name, "ingest-root") == 0 && !root_flag_seen) {
			/* Flags replace the variable's list rather than adding to it. */
			root_flag_seen = true;
			while (cfg->n_ingest_roots > 0)
				free(cfg->ingest_roots[--cfg->n_ingest_roots]);
		}
		if (set_option(cfg, o, o->kind == OPT_BOOL ? "true" : optarg, 0, err) != 0) {
			pw_error_prefix(err, "--%s", o->name);
			return -1;
		}
	}
	if (optind < argc) {
		pw_error_set(err, "unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	if (cfg->n_ingest_roots == 0 && set_roots(cfg, DEFAULT_INGEST_ROOTS, err) != 0)
		return -1;
	if (strlen(cfg->worker_id) > 128) {
		pw_error_set(err, "--worker-id: at most 128 characters");
		return -1;
	}
	/* The read buffer is charged for good: past this the budget would be
	 * used up before the first file. */
	if (cfg->read_chunk_bytes > cfg->memory_budget / 4) {
		pw_error_set(err, "--read-chunk (%zu bytes) must be at most a quarter of "
		    "--memory-budget (%zu bytes)", cfg->read_chunk_bytes, cfg->memory_budget);
		return -1;
	}
	return 0;
}

void
pw_config_finish(struct pw_config *cfg)
{
	size_t i;

	free(cfg->redis.host);
	free(cfg->redis.path);
	free(cfg->redis.user);
	if (cfg->redis.password != NULL)
		explicit_bzero(cfg->redis.password, strlen(cfg->redis.password));
	free(cfg->redis.password);
	free(cfg->worker_id);
	for (i = 0; i < cfg->n_ingest_roots; i++)
		free(cfg->ingest_roots[i]);
	free(cfg->ingest_roots);
	free(cfg->queue_key);
	free(cfg->metrics_host);
	free(cfg->processing_prefix);
	free(cfg->hash_prefix);
	free(cfg->lake);
	for (i = 0; i < cfg->n_table_specs; i++)
		free(cfg->table_specs[i]);
	for (i = 0; i < cfg->n_source_hosts; i++)
		free(cfg->source_hosts[i]);
	free(cfg->source_hosts);
	free(cfg->table_specs);
	memset(cfg, 0, sizeof *cfg);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode [s, s+n) into a new string; NULL if an escape is bad. */
static char *
percent_decode(const char *s, size_t n)
{
	char *out = pw_xmalloc(n + 1), *o = out;
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= n) {
			free(out);
			return NULL;
		}
		hi = hexval((unsigned char)s[i + 1]);
		lo = hexval((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

static int
parse_db(const char *s, int *db, struct pw_error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || errno != 0 || *end != '\0' || v < 0 || v > 65535) {
		pw_error_set(err, "bad database number '%s' in Redis URL", s);
		return -1;
	}
	*db = (int)v;
	return 0;
}

int
pw_config_parse_redis_url(struct pw_redis_addr *addr, const char *url,
    struct pw_error *err)
{
	const char *p, *at, *hostend, *colon, *slash;
	struct pw_redis_addr a = { 0 };

	a.port = 6379;
	if (strncmp(url, "unix://", 7) == 0) {
		const char *q = strchr(url + 7, '?');
		size_t n = q != NULL ? (size_t)(q - (url + 7)) : strlen(url + 7);

		if (n == 0 || url[7] != '/') {
			pw_error_set(err, "Redis URL unix:// needs an absolute socket path");
			return -1;
		}
		a.path = pw_xstrndup(url + 7, n);
		if (q != NULL) {
			if (strncmp(q, "?db=", 4) != 0 || parse_db(q + 4, &a.db, err) != 0) {
				if (strncmp(q, "?db=", 4) != 0)
					pw_error_set(err, "unknown parameter '%s' in Redis URL "
					    "(only ?db=N)", q + 1);
				free(a.path);
				return -1;
			}
		}
		*addr = a;
		return 0;
	}
	if (strncmp(url, "rediss://", 9) == 0) {
		pw_error_set(err, "rediss:// (TLS) is not available: hiredis 0.14 has no TLS; "
		    "use a local TLS tunnel and redis://");
		return -1;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		pw_error_set(err, "Redis URL must start with redis:// or unix://");
		return -1;
	}
	p = url + 8;
	slash = strchr(p, '/');
	at = memchr(p, '@', slash != NULL ? (size_t)(slash - p) : strlen(p));
	if (at != NULL) {
		const char *sep = memchr(p, ':', (size_t)(at - p));

		if (sep != NULL) {
			if (sep > p)
				a.user = percent_decode(p, (size_t)(sep - p));
			a.password = percent_decode(sep + 1, (size_t)(at - sep - 1));
			if ((sep > p && a.user == NULL) || a.password == NULL)
				goto bad_escape;
		} else {
			/* redis://secret@host: a lone value is a password, as redis-cli reads it */
			a.password = percent_decode(p, (size_t)(at - p));
			if (a.password == NULL)
				goto bad_escape;
		}
		p = at + 1;
	}
	hostend = slash != NULL ? slash : p + strlen(p);
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(hostend - p));

		if (close == NULL) {
			pw_error_set(err, "unclosed '[' in Redis URL host");
			goto fail;
		}
		a.host = pw_xstrndup(p + 1, (size_t)(close - p - 1));
		colon = close + 1 < hostend && close[1] == ':' ? close + 1 : NULL;
		if (close + 1 != hostend && colon == NULL) {
			pw_error_set(err, "bad Redis URL host");
			goto fail;
		}
	} else {
		colon = memchr(p, ':', (size_t)(hostend - p));
		a.host = pw_xstrndup(p, (size_t)((colon != NULL ? colon : hostend) - p));
	}
	if (a.host[0] == '\0') {
		pw_error_set(err, "Redis URL has no host");
		goto fail;
	}
	if (colon != NULL) {
		char port[8];
		size_t n = (size_t)(hostend - colon - 1);
		char *end;
		long v;

		if (n == 0 || n >= sizeof port) {
			pw_error_set(err, "bad port in Redis URL");
			goto fail;
		}
		memcpy(port, colon + 1, n);
		port[n] = '\0';
		v = strtol(port, &end, 10);
		if (*end != '\0' || v < 1 || v > 65535) {
			pw_error_set(err, "bad port '%s' in Redis URL", port);
			goto fail;
		}
		a.port = (int)v;
	}
	if (slash != NULL && slash[1] != '\0' && parse_db(slash + 1, &a.db, err) != 0)
		goto fail;
	*addr = a;
	return 0;

bad_escape:
	pw_error_set(err, "bad %%-escape in the user or password of the Redis URL");
fail:
	free(a.host);
	free(a.user);
	free(a.password);
	return -1;
}

void
pw_config_redis_display(const struct pw_redis_addr *addr, char *buf, size_t size)
{
	int v6;

	if (addr->path != NULL) {
		snprintf(buf, size, "unix://%s%s", addr->path,
		    addr->password != NULL ? " (with password)" : "");
		return;
	}
	v6 = strchr(addr->host, ':') != NULL;
	snprintf(buf, size, "redis://%s%s%s%s%s%s:%d/%d",
	    addr->user != NULL ? addr->user : "",
	    addr->password != NULL ? ":***" : "",
	    addr->user != NULL || addr->password != NULL ? "@" : "",
	    v6 ? "[" : "", addr->host, v6 ? "]" : "", addr->port, addr->db);
}

void
pw_config_usage(FILE *out)
{
	size_t i;

	fprintf(out,
	    "usage: portada-worker [options]\n"
	    "\n"
	    "Consumes PortAda's ingest queue: takes file ids from Redis, reads each\n"
	    "uploaded JSON file and records its outcome in the file's hash.\n"
	    "Every option has an environment twin; a flag wins over its variable.\n"
	    "Exit status: 0 after a clean stop, 1 on a fatal error, 2 on a bad option.\n"
	    "\n");
	for (i = 0; i < N_OPTS; i++) {
		fprintf(out, "  --%s%s%s", opts[i].name, opts[i].arg != NULL ? "=" : "",
		    opts[i].arg != NULL ? opts[i].arg : "");
		if (opts[i].env != NULL)
			fprintf(out, "   [env %s]", opts[i].env);
		fprintf(out, "\n      %s\n", opts[i].help);
	}
}
