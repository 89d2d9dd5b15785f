/*
 * Tests for src/config.c: defaults, environment twins and flags (a flag wins
 * over its variable), the exact one-line reason of every error, the Redis
 * URL parser and its display (never the password), durations and sizes,
 * --help/--version, parsing many times in one process, releasing a config
 * after a failed parse, and how src/error.c builds and cuts the reasons.
 *
 * The environment is a fake lookup backed by a static table, so the tests
 * never depend on (or change) the real environment.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/config.h"

#define MAX_ENV 32
#define MAX_ARGS 64

struct env_var {
	const char *name;
	const char *value;
};

static struct env_var env_table[MAX_ENV];
static size_t env_count;

static struct pw_config cfg;
static struct pw_error err;

static const char *
fake_getenv(const char *name)
{
	size_t i;

	for (i = 0; i < env_count; i++)
		if (strcmp(env_table[i].name, name) == 0)
			return env_table[i].value;
	return NULL;
}

static void
env_set(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < env_count; i++) {
		if (strcmp(env_table[i].name, name) == 0) {
			env_table[i].value = value;
			return;
		}
	}
	ck_assert_msg(env_count < MAX_ENV, "fake environment full");
	env_table[env_count].name = name;
	env_table[env_count].value = value;
	env_count++;
}

static void
setup(void)
{
	env_count = 0;
	memset(&cfg, 0, sizeof cfg);
	memset(&err, 0, sizeof err);
}

static void
teardown(void)
{
	pw_config_finish(&cfg);	/* all zero after a finish: a second one is harmless */
}

/*
 * Parse "portada-worker args..." (args ends with NULL) into the global cfg.
 * getopt_long permutes argv, so it gets a private copy of the pointers.
 */
static int
run(const char *const *args)
{
	char *copies[MAX_ARGS], *argv[MAX_ARGS + 1];
	int argc = 0, rc, i;

	copies[argc++] = strdup("portada-worker");
	while (*args != NULL) {
		ck_assert_msg(argc < MAX_ARGS, "too many arguments");
		copies[argc++] = strdup(*args++);
	}
	for (i = 0; i < argc; i++)
		argv[i] = copies[i];
	argv[argc] = NULL;
	memset(&err, 0, sizeof err);
	rc = pw_config_parse(&cfg, argc, argv, fake_getenv, &err);
	for (i = 0; i < argc; i++)
		free(copies[i]);
	return rc;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOARGS ((const char *const[]){ NULL })

/* The parse fails with exactly `want`; cfg is released afterwards. */
#define EXPECT_ERROR(want, args) do { \
	ck_assert_int_eq(run(args), -1); \
	ck_assert_str_eq(err.msg, (want)); \
	ck_assert_msg(strchr(err.msg, '\n') == NULL, "reason is not one line"); \
	pw_config_finish(&cfg); \
} while (0)

#define EXPECT_OK(args) do { \
	int rc_ = run(args); \
	ck_assert_msg(rc_ == 0, "parse failed: %s", err.msg); \
} while (0)

static void
assert_default_roots(void)
{
	ck_assert_uint_eq(cfg.n_ingest_roots, 2);
	ck_assert_str_eq(cfg.ingest_roots[0], "/app/ingestion");
	ck_assert_str_eq(cfg.ingest_roots[1], "/app/delta_lake/ingest");
}

START_TEST(defaults)
{
	EXPECT_OK(NOARGS);
	ck_assert_str_eq(cfg.redis.host, "localhost");
	ck_assert_int_eq(cfg.redis.port, 6379);
	ck_assert_int_eq(cfg.redis.db, 0);
	ck_assert_ptr_null(cfg.redis.path);
	ck_assert_ptr_null(cfg.redis.user);
	ck_assert_ptr_null(cfg.redis.password);
	ck_assert_ptr_nonnull(cfg.worker_id);	/* the host name */
	ck_assert_uint_gt(strlen(cfg.worker_id), 0);
	ck_assert_uint_le(strlen(cfg.worker_id), 128);
	ck_assert_uint_eq(cfg.max_inflight, 1024);
	ck_assert_int_eq(cfg.fetch, PW_FETCH_BLMOVE);
	ck_assert_int_eq(cfg.status_scheme, PW_STATUS_TASK);
	assert_default_roots();
	ck_assert_str_eq(cfg.queue_key, "files:all");
	ck_assert_str_eq(cfg.processing_prefix, "files:processing:");
	ck_assert_str_eq(cfg.hash_prefix, "file:");
	ck_assert_double_eq(cfg.drain_timeout, 25);
	ck_assert_double_eq(cfg.block_timeout, 2);
	ck_assert_double_eq(cfg.connect_timeout, 5);
	ck_assert_double_eq(cfg.command_timeout, 10);
	ck_assert_double_eq(cfg.reconcile_interval, 60);
	ck_assert(!cfg.exit_when_idle);
	ck_assert_int_eq(cfg.log_format, PW_LOG_TEXT);
	ck_assert_int_eq(cfg.log_level, PW_LOG_INFO);
	ck_assert_uint_eq(cfg.max_record_bytes, 16u << 20);
	ck_assert_uint_eq(cfg.max_depth, 64);
	ck_assert_uint_eq(cfg.read_chunk_bytes, 64u << 10);
	ck_assert_str_eq(cfg.lake, "lake");
	ck_assert_uint_eq(cfg.n_table_specs, 0);
	ck_assert_uint_eq(cfg.commit_interval_ms, 1000);
	ck_assert_uint_eq(cfg.commit_max_files, 1000);
	ck_assert_uint_eq(cfg.stage_bytes, 1u << 20);
	ck_assert_uint_eq(cfg.memory_budget, 64u << 20);
	ck_assert_uint_eq(cfg.max_streams, 4);
	ck_assert_int_eq(cfg.codec, PW_PQ_ZSTD);
	ck_assert(!cfg.show_help);
	ck_assert(!cfg.show_version);
}
END_TEST

static void
set_every_variable(void)
{
	env_set("REDIS_URL", "redis://envhost:7000/2");
	env_set("PORTADA_WORKER_ID", "w-env");
	env_set("PORTADA_MAX_INFLIGHT", "7");
	env_set("PORTADA_FETCH", "blpop");
	env_set("PORTADA_STATUS_SCHEME", "dashboard");
	env_set("PORTADA_INGEST_ROOTS", "/data/a:/data/b");
	env_set("PORTADA_QUEUE_KEY", "q:env");
	env_set("PORTADA_PROCESSING_PREFIX", "p:env:");
	env_set("PORTADA_HASH_PREFIX", "h:env:");
	env_set("PORTADA_DRAIN_TIMEOUT", "3s");
	env_set("PORTADA_BLOCK_TIMEOUT", "500ms");
	env_set("PORTADA_CONNECT_TIMEOUT", "1.5");
	env_set("PORTADA_COMMAND_TIMEOUT", "2m");
	env_set("PORTADA_RECONCILE_INTERVAL", "90");
	env_set("PORTADA_EXIT_WHEN_IDLE", "yes");
	env_set("PORTADA_LOG_FORMAT", "json");
	env_set("PORTADA_LOG_LEVEL", "debug");
	env_set("PORTADA_MAX_RECORD_BYTES", "1MiB");
	env_set("PORTADA_MAX_DEPTH", "10");
	env_set("PORTADA_READ_CHUNK", "4k");
	env_set("PORTADA_LAKE", "/srv/lake env");
	env_set("PORTADA_TABLE_SPECS", "/etc/a.json:/etc/b.json");
	env_set("PORTADA_ALLOW_SOURCE_HOSTS", "files.example.org,s3://raw-uploads,127.0.0.1:8080");
	env_set("PORTADA_COMMIT_INTERVAL_MS", "250");
	env_set("PORTADA_COMMIT_MAX_FILES", "50");
	env_set("PORTADA_STAGE_BYTES", "256k");
	env_set("PORTADA_MEMORY_BUDGET", "8m");
	env_set("PORTADA_CODEC", "snappy");
	env_set("PORTADA_MAX_STREAMS", "3");
}

START_TEST(every_variable)
{
	set_every_variable();
	EXPECT_OK(NOARGS);
	ck_assert_str_eq(cfg.redis.host, "envhost");
	ck_assert_int_eq(cfg.redis.port, 7000);
	ck_assert_int_eq(cfg.redis.db, 2);
	ck_assert_str_eq(cfg.worker_id, "w-env");
	ck_assert_uint_eq(cfg.max_inflight, 7);
	ck_assert_int_eq(cfg.fetch, PW_FETCH_BLPOP);
	ck_assert_int_eq(cfg.status_scheme, PW_STATUS_DASHBOARD);
	ck_assert_uint_eq(cfg.n_ingest_roots, 2);
	ck_assert_str_eq(cfg.ingest_roots[0], "/data/a");
	ck_assert_str_eq(cfg.ingest_roots[1], "/data/b");
	ck_assert_str_eq(cfg.queue_key, "q:env");
	ck_assert_str_eq(cfg.processing_prefix, "p:env:");
	ck_assert_str_eq(cfg.hash_prefix, "h:env:");
	ck_assert_double_eq(cfg.drain_timeout, 3);
	ck_assert_double_eq(cfg.block_timeout, 0.5);
	ck_assert_double_eq(cfg.connect_timeout, 1.5);
	ck_assert_double_eq(cfg.command_timeout, 120);
	ck_assert_double_eq(cfg.reconcile_interval, 90);
	ck_assert(cfg.exit_when_idle);
	ck_assert_int_eq(cfg.log_format, PW_LOG_JSON);
	ck_assert_int_eq(cfg.log_level, PW_LOG_DEBUG);
	ck_assert_uint_eq(cfg.max_record_bytes, 1u << 20);
	ck_assert_uint_eq(cfg.max_depth, 10);
	ck_assert_uint_eq(cfg.read_chunk_bytes, 4096);
	ck_assert_str_eq(cfg.lake, "/srv/lake env");
	ck_assert_uint_eq(cfg.n_table_specs, 2);
	ck_assert_str_eq(cfg.table_specs[0], "/etc/a.json");
	ck_assert_str_eq(cfg.table_specs[1], "/etc/b.json");
	ck_assert_uint_eq(cfg.n_source_hosts, 3);
	ck_assert_str_eq(cfg.source_hosts[1], "s3://raw-uploads");
	ck_assert_str_eq(cfg.source_hosts[2], "127.0.0.1:8080");
	ck_assert_uint_eq(cfg.commit_interval_ms, 250);
	ck_assert_uint_eq(cfg.commit_max_files, 50);
	ck_assert_uint_eq(cfg.stage_bytes, 256u << 10);
	ck_assert_uint_eq(cfg.memory_budget, 8u << 20);
	ck_assert_int_eq(cfg.codec, PW_PQ_SNAPPY);
	ck_assert_uint_eq(cfg.max_streams, 3);
}
END_TEST

START_TEST(flags_win_over_variables)
{
	set_every_variable();
	env_set("PORTADA_EXIT_WHEN_IDLE", "off");
	EXPECT_OK(ARGS("--redis=redis://flaghost:7001/3", "--worker-id", "w-flag",
	    "--max-inflight=9", "--fetch=blmove", "--status-scheme", "task",
	    "--ingest-root=/flag", "--queue-key=q:flag", "--processing-prefix=p:flag:",
	    "--hash-prefix=h:flag:", "--drain-timeout=4", "--block-timeout=250ms",
	    "--connect-timeout=2s", "--command-timeout=1m", "--reconcile-interval=30",
	    "--exit-when-idle", "--log-format=text", "--log-level=warn",
	    "--max-record-bytes=2m", "--max-depth=20", "--read-chunk=8k", "--lake", "l2",
	    "--table-spec", "x.json", "--table-spec=y:z.json", "--commit-interval-ms=5",
	    "--commit-max-files=1", "--stage-bytes=0", "--memory-budget=1g", "--codec=none"));
	ck_assert_str_eq(cfg.redis.host, "flaghost");
	ck_assert_int_eq(cfg.redis.port, 7001);
	ck_assert_int_eq(cfg.redis.db, 3);
	ck_assert_str_eq(cfg.worker_id, "w-flag");
	ck_assert_uint_eq(cfg.max_inflight, 9);
	ck_assert_int_eq(cfg.fetch, PW_FETCH_BLMOVE);
	ck_assert_int_eq(cfg.status_scheme, PW_STATUS_TASK);
	ck_assert_uint_eq(cfg.n_ingest_roots, 1);
	ck_assert_str_eq(cfg.ingest_roots[0], "/flag");
	ck_assert_str_eq(cfg.queue_key, "q:flag");
	ck_assert_str_eq(cfg.processing_prefix, "p:flag:");
	ck_assert_str_eq(cfg.hash_prefix, "h:flag:");
	ck_assert_double_eq(cfg.drain_timeout, 4);
	ck_assert_double_eq(cfg.block_timeout, 0.25);
	ck_assert_double_eq(cfg.connect_timeout, 2);
	ck_assert_double_eq(cfg.command_timeout, 60);
	ck_assert_double_eq(cfg.reconcile_interval, 30);
	ck_assert(cfg.exit_when_idle);
	ck_assert_int_eq(cfg.log_format, PW_LOG_TEXT);
	ck_assert_int_eq(cfg.log_level, PW_LOG_WARN);
	ck_assert_uint_eq(cfg.max_record_bytes, 2u << 20);
	ck_assert_uint_eq(cfg.max_depth, 20);
	ck_assert_uint_eq(cfg.read_chunk_bytes, 8192);
	ck_assert_str_eq(cfg.lake, "l2");
	/* Flags replace the variable's list; a flag's value is one file, colon or not. */
	ck_assert_uint_eq(cfg.n_table_specs, 2);
	ck_assert_str_eq(cfg.table_specs[0], "x.json");
	ck_assert_str_eq(cfg.table_specs[1], "y:z.json");
	ck_assert_uint_eq(cfg.commit_interval_ms, 5);
	ck_assert_uint_eq(cfg.commit_max_files, 1);
	ck_assert_uint_eq(cfg.stage_bytes, 0);
	ck_assert_uint_eq(cfg.memory_budget, 1u << 30);
	ck_assert_int_eq(cfg.codec, PW_PQ_UNCOMPRESSED);
}
END_TEST

/* "VAR=" in a compose file means unset, except for booleans where it is false. */
START_TEST(empty_variable_is_unset)
{
	env_set("PORTADA_MAX_INFLIGHT", "");
	env_set("PORTADA_FETCH", "");
	env_set("PORTADA_INGEST_ROOTS", "");
	env_set("REDIS_URL", "");
	env_set("PORTADA_EXIT_WHEN_IDLE", "");
	EXPECT_OK(NOARGS);
	ck_assert_uint_eq(cfg.max_inflight, 1024);
	ck_assert_int_eq(cfg.fetch, PW_FETCH_BLMOVE);
	ck_assert_str_eq(cfg.redis.host, "localhost");
	ck_assert(!cfg.exit_when_idle);
	assert_default_roots();
}
END_TEST

START_TEST(booleans)
{
	static const char *const yes[] = { "1", "true", "YES", "On" };
	static const char *const no[] = { "0", "false", "No", "OFF", "" };
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		env_set("PORTADA_EXIT_WHEN_IDLE", yes[i]);
		EXPECT_OK(NOARGS);
		ck_assert_msg(cfg.exit_when_idle, "'%s' should be true", yes[i]);
		pw_config_finish(&cfg);
	}
	for (i = 0; i < sizeof no / sizeof no[0]; i++) {
		env_set("PORTADA_EXIT_WHEN_IDLE", no[i]);
		EXPECT_OK(NOARGS);
		ck_assert_msg(!cfg.exit_when_idle, "'%s' should be false", no[i]);
		pw_config_finish(&cfg);
	}
}
END_TEST

START_TEST(redis_host_port_fallback)
{
	env_set("REDIS_HOST", "redis");
	env_set("REDIS_PORT", "6380");
	EXPECT_OK(NOARGS);
	ck_assert_str_eq(cfg.redis.host, "redis");
	ck_assert_int_eq(cfg.redis.port, 6380);
	ck_assert_int_eq(cfg.redis.db, 0);
	pw_config_finish(&cfg);

	/* Either one alone. */
	env_count = 0;
	env_set("REDIS_HOST", "only-host");
	EXPECT_OK(NOARGS);
	ck_assert_str_eq(cfg.redis.host, "only-host");
	ck_assert_int_eq(cfg.redis.port, 6379);
	pw_config_finish(&cfg);

	env_count = 0;
	env_set("REDIS_PORT", "7777");
	EXPECT_OK(NOARGS);
	ck_assert_str_eq(cfg.redis.host, "localhost");
	ck_assert_int_eq(cfg.redis.port, 7777);
	pw_config_finish(&cfg);

	/* REDIS_URL wins over REDIS_HOST/REDIS_PORT. */
	env_set("REDIS_HOST", "ignored");
	env_set("REDIS_URL", "redis://from-url:6390/4");
	EXPECT_OK(NOARGS);
	ck_assert_str_eq(cfg.redis.host, "from-url");
	ck_assert_int_eq(cfg.redis.port, 6390);
	ck_assert_int_eq(cfg.redis.db, 4);
	pw_config_finish(&cfg);

	/* And --redis over all of them. */
	EXPECT_OK(ARGS("--redis", "unix:///run/redis.sock?db=5"));
	ck_assert_ptr_null(cfg.redis.host);
	ck_assert_str_eq(cfg.redis.path, "/run/redis.sock");
	ck_assert_int_eq(cfg.redis.db, 5);
	pw_config_finish(&cfg);

	env_count = 0;
	env_set("REDIS_PORT", "abc");
	EXPECT_ERROR("REDIS_PORT: expected a port from 1 to 65535, got 'abc'", NOARGS);
	env_set("REDIS_PORT", "0");
	EXPECT_ERROR("REDIS_PORT: expected a port from 1 to 65535, got '0'", NOARGS);
	env_set("REDIS_PORT", "65536");
	EXPECT_ERROR("REDIS_PORT: expected a port from 1 to 65535, got '65536'", NOARGS);
	env_set("REDIS_PORT", "80x");
	EXPECT_ERROR("REDIS_PORT: expected a port from 1 to 65535, got '80x'", NOARGS);
}
END_TEST

START_TEST(ingest_roots)
{
	/* Colon list; empty items are skipped, a trailing slash is kept as given. */
	env_set("PORTADA_INGEST_ROOTS", "/x::/y/:/z:");
	EXPECT_OK(NOARGS);
	ck_assert_uint_eq(cfg.n_ingest_roots, 3);
	ck_assert_str_eq(cfg.ingest_roots[0], "/x");
	ck_assert_str_eq(cfg.ingest_roots[1], "/y/");
	ck_assert_str_eq(cfg.ingest_roots[2], "/z");
	pw_config_finish(&cfg);

	/* Flags replace the variable's list, and repeat. */
	EXPECT_OK(ARGS("--ingest-root=/a", "--ingest-root", "/b", "--ingest-root=/c"));
	ck_assert_uint_eq(cfg.n_ingest_roots, 3);
	ck_assert_str_eq(cfg.ingest_roots[0], "/a");
	ck_assert_str_eq(cfg.ingest_roots[1], "/b");
	ck_assert_str_eq(cfg.ingest_roots[2], "/c");
	pw_config_finish(&cfg);

	/* A flag with no variable replaces the defaults too. */
	env_count = 0;
	EXPECT_OK(ARGS("--ingest-root=/only"));
	ck_assert_uint_eq(cfg.n_ingest_roots, 1);
	ck_assert_str_eq(cfg.ingest_roots[0], "/only");
	pw_config_finish(&cfg);

	/* A single colon-free value in the variable is one root. */
	env_set("PORTADA_INGEST_ROOTS", "/one");
	EXPECT_OK(NOARGS);
	ck_assert_uint_eq(cfg.n_ingest_roots, 1);
	ck_assert_str_eq(cfg.ingest_roots[0], "/one");
}
END_TEST

START_TEST(ingest_root_errors)
{
	env_set("PORTADA_INGEST_ROOTS", "/ok:relative/dir:/also");
	EXPECT_ERROR("PORTADA_INGEST_ROOTS: ingest root 'relative/dir' is not an absolute path",
	    NOARGS);
	env_set("PORTADA_INGEST_ROOTS", ":::");
	EXPECT_ERROR("PORTADA_INGEST_ROOTS: no ingest root given", NOARGS);
	env_count = 0;
	EXPECT_ERROR("--ingest-root: ingest root 'data' is not an absolute path",
	    ARGS("--ingest-root=/fine", "--ingest-root=data"));
	EXPECT_ERROR("--ingest-root: ingest root '' is not an absolute path",
	    ARGS("--ingest-root="));
}
END_TEST

/* One bad value per row: the reason names the flag or variable and the value. */
struct bad_case {
	const char *env_name;	/* or NULL: the value is in args */
	const char *env_value;
	const char *args[4];
	const char *want;
};

static const struct bad_case bad_cases[] = {
	{ NULL, NULL, { "--max-inflight=abc" },
	  "--max-inflight: expected a whole number, got 'abc'" },
	{ NULL, NULL, { "--max-inflight", "abc" },
	  "--max-inflight: expected a whole number, got 'abc'" },
	{ NULL, NULL, { "--max-inflight=-1" },
	  "--max-inflight: expected a whole number, got '-1'" },
	{ NULL, NULL, { "--max-inflight=1.5" },
	  "--max-inflight: expected a whole number, got '1.5'" },
	{ NULL, NULL, { "--max-inflight=" },
	  "--max-inflight: expected a whole number, got ''" },
	{ NULL, NULL, { "--max-inflight=99999999999999999999" },
	  "--max-inflight: expected a whole number, got '99999999999999999999'" },
	{ NULL, NULL, { "--max-inflight=0" },
	  "--max-inflight: '0' is out of range (1 to 1000000)" },
	{ NULL, NULL, { "--max-inflight=1000001" },
	  "--max-inflight: '1000001' is out of range (1 to 1000000)" },
	{ "PORTADA_MAX_INFLIGHT", "lots", { NULL },
	  "PORTADA_MAX_INFLIGHT: expected a whole number, got 'lots'" },
	{ NULL, NULL, { "--max-depth=1" },
	  "--max-depth: '1' is out of range (2 to 1000)" },
	{ NULL, NULL, { "--drain-timeout=5x" },
	  "--drain-timeout: expected a duration such as 25s or 500ms, got '5x'" },
	{ NULL, NULL, { "--drain-timeout=-1" },
	  "--drain-timeout: expected a duration such as 25s or 500ms, got '-1'" },
	{ NULL, NULL, { "--drain-timeout=s" },
	  "--drain-timeout: expected a duration such as 25s or 500ms, got 's'" },
	{ NULL, NULL, { "--drain-timeout=inf" },
	  "--drain-timeout: expected a duration such as 25s or 500ms, got 'inf'" },
	{ NULL, NULL, { "--drain-timeout=2h" },
	  "--drain-timeout: expected a duration such as 25s or 500ms, got '2h'" },
	{ NULL, NULL, { "--drain-timeout=86401" },
	  "--drain-timeout: '86401' is out of range (0 to 86400 seconds)" },
	{ NULL, NULL, { "--block-timeout=50ms" },
	  "--block-timeout: '50ms' is out of range (0.1 to 3600 seconds)" },
	{ "PORTADA_BLOCK_TIMEOUT", "2 s", { NULL },
	  "PORTADA_BLOCK_TIMEOUT: expected a duration such as 25s or 500ms, got '2 s'" },
	{ NULL, NULL, { "--lake=" }, "--lake: expected a directory or s3://bucket/prefix, got ''" },
	{ NULL, NULL, { "--codec=lz4" },
	  "--codec: expected one of zstd|snappy|gzip|none, got 'lz4'" },
	{ NULL, NULL, { "--commit-interval-ms=0" },
	  "--commit-interval-ms: '0' is out of range (1 to 3600000)" },
	{ NULL, NULL, { "--commit-max-files=100001" },
	  "--commit-max-files: '100001' is out of range (1 to 100000)" },
	{ NULL, NULL, { "--allow-source-host=http://x/y" }, "--allow-source-host: expected a "
	  "host name, host:port or s3://bucket, got 'http://x/y'" },
	{ NULL, NULL, { "--allow-source-host=a,b" }, "--allow-source-host: expected a "
	  "host name, host:port or s3://bucket, got 'a,b'" },
	{ "PORTADA_ALLOW_SOURCE_HOSTS", "a,,b", { NULL }, "PORTADA_ALLOW_SOURCE_HOSTS: expected "
	  "a host name, host:port or s3://bucket, got ''" },
	{ "PORTADA_TABLE_SPECS", "a.json::b.json", { NULL },
	  "PORTADA_TABLE_SPECS: empty table spec file name" },
	{ NULL, NULL, { "--reconcile-interval=0.5" },
	  "--reconcile-interval: '0.5' is out of range (1 to 86400 seconds)" },
	{ NULL, NULL, { "--max-record-bytes=12q" },
	  "--max-record-bytes: expected a size such as 65536, 64k or 16m, got '12q'" },
	{ NULL, NULL, { "--max-record-bytes=1.3k" },
	  "--max-record-bytes: expected a size such as 65536, 64k or 16m, got '1.3k'" },
	{ NULL, NULL, { "--max-record-bytes=1kx" },
	  "--max-record-bytes: expected a size such as 65536, 64k or 16m, got '1kx'" },
	{ NULL, NULL, { "--max-record-bytes=2g" },
	  "--max-record-bytes: '2g' is out of range (1024 to 1073741824 bytes)" },
	{ NULL, NULL, { "--max-record-bytes=1000" },
	  "--max-record-bytes: '1000' is out of range (1024 to 1073741824 bytes)" },
	{ NULL, NULL, { "--read-chunk=17m" },
	  "--read-chunk: '17m' is out of range (512 to 16777216 bytes)" },
	{ NULL, NULL, { "--read-chunk=2m", "--memory-budget=4m" },
	  "--read-chunk (2097152 bytes) must be at most a quarter of --memory-budget (4194304 bytes)" },
	{ "PORTADA_READ_CHUNK", "big", { NULL },
	  "PORTADA_READ_CHUNK: expected a size such as 65536, 64k or 16m, got 'big'" },
	{ NULL, NULL, { "--fetch=pop" },
	  "--fetch: expected one of blmove|blpop, got 'pop'" },
	{ NULL, NULL, { "--fetch=BLMOVE" },
	  "--fetch: expected one of blmove|blpop, got 'BLMOVE'" },
	{ "PORTADA_FETCH", "pop", { NULL },
	  "PORTADA_FETCH: expected one of blmove|blpop, got 'pop'" },
	{ NULL, NULL, { "--status-scheme=legacy" },
	  "--status-scheme: expected one of task|dashboard, got 'legacy'" },
	{ NULL, NULL, { "--log-format=xml" },
	  "--log-format: expected one of text|json, got 'xml'" },
	{ "PORTADA_LOG_LEVEL", "trace", { NULL },
	  "PORTADA_LOG_LEVEL: expected one of debug|info|warn|error, got 'trace'" },
	{ "PORTADA_EXIT_WHEN_IDLE", "maybe", { NULL },
	  "PORTADA_EXIT_WHEN_IDLE: expected true or false, got 'maybe'" },
	{ NULL, NULL, { "--worker-id=has space" },
	  "--worker-id: expected 1 to 256 printable characters without spaces, got 'has space'" },
	{ NULL, NULL, { "--worker-id=" },
	  "--worker-id: expected 1 to 256 printable characters without spaces, got ''" },
	{ NULL, NULL, { "--queue-key=tab\there" },
	  "--queue-key: expected 1 to 256 printable characters without spaces, got 'tab\there'" },
	{ "PORTADA_HASH_PREFIX", "a b", { NULL },
	  "PORTADA_HASH_PREFIX: expected 1 to 256 printable characters without spaces, got 'a b'" },
	{ NULL, NULL, { "--redis=http://host" },
	  "--redis: Redis URL must start with redis:// or unix://" },
	{ NULL, NULL, { "--redis=redis://host:99999" },
	  "--redis: bad port '99999' in Redis URL" },
	{ "REDIS_URL", "redis://host/x", { NULL },
	  "REDIS_URL: bad database number 'x' in Redis URL" },
	{ NULL, NULL, { "--bogus" }, "unknown option '--bogus' (see --help)" },
	{ NULL, NULL, { "--bogus=1" }, "unknown option '--bogus=1' (see --help)" },
	{ NULL, NULL, { "-x" }, "unknown option '-x' (see --help)" },
	/* getopt stays inside "-xy" after the 'x': the reason must still name -x. */
	{ NULL, NULL, { "-xy" }, "unknown option '-x' (see --help)" },
	{ NULL, NULL, { "--max-inflight=5", "-hq" }, "unknown option '-q' (see --help)" },
	/* A known flag that takes no value, given one. */
	{ NULL, NULL, { "--exit-when-idle=yes" },
	  "option '--exit-when-idle' takes no value" },
	{ NULL, NULL, { "--help=please" }, "option '--help' takes no value" },
	{ NULL, NULL, { "--fetch" }, "option '--fetch' needs a value" },
	{ NULL, NULL, { "--max-inflight=4", "--ingest-root" },
	  "option '--ingest-root' needs a value" },
	{ NULL, NULL, { "stray" }, "unexpected argument 'stray' (see --help)" },
	{ NULL, NULL, { "--max-inflight=4", "stray", "--fetch=blpop" },
	  "unexpected argument 'stray' (see --help)" },
	{ NULL, NULL, { "--", "--fetch=blpop" },
	  "unexpected argument '--fetch=blpop' (see --help)" },
	{ NULL, NULL, { "--worker-id="
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
	  "--worker-id: at most 128 characters" },
};

#define N_BAD (sizeof bad_cases / sizeof bad_cases[0])

START_TEST(bad_values)
{
	const struct bad_case *c = &bad_cases[_i];

	if (c->env_name != NULL)
		env_set(c->env_name, c->env_value);
	ck_assert_msg(run(c->args) == -1, "case %d should fail with: %s", _i, c->want);
	ck_assert_msg(strcmp(err.msg, c->want) == 0, "case %d: got \"%s\", want \"%s\"",
	    _i, err.msg, c->want);
	ck_assert_msg(strchr(err.msg, '\n') == NULL, "case %d: reason is not one line", _i);
}
END_TEST

START_TEST(durations)
{
	static const struct {
		const char *text;
		double seconds;
	} cases[] = {
		{ "500ms", 0.5 }, { "2m", 120 }, { "1.5", 1.5 }, { "25s", 25 },
		{ "0", 0 }, { "0.25m", 15 }, { "1500ms", 1.5 }, { ".5", 0.5 },
		{ "86400", 86400 },
	};
	size_t i;
	char flag[64];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(flag, sizeof flag, "--drain-timeout=%s", cases[i].text);
		EXPECT_OK(ARGS(flag));
		ck_assert_msg(cfg.drain_timeout == cases[i].seconds, "%s gave %g s",
		    cases[i].text, cfg.drain_timeout);
		pw_config_finish(&cfg);
	}
}
END_TEST

START_TEST(sizes)
{
	static const struct {
		const char *text;
		size_t bytes;
	} cases[] = {
		{ "64k", 64u << 10 }, { "16m", 16u << 20 }, { "1MiB", 1u << 20 },
		{ "1g", 1u << 30 }, { "2048", 2048 }, { "4K", 4096 }, { "8kb", 8192 },
		{ "8KiB", 8192 }, { "1.5k", 1536 }, { "2M", 2u << 20 }, { "1GiB", 1u << 30 },
	};
	size_t i;
	char flag[64];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(flag, sizeof flag, "--max-record-bytes=%s", cases[i].text);
		EXPECT_OK(ARGS(flag));
		ck_assert_msg(cfg.max_record_bytes == cases[i].bytes, "%s gave %zu bytes",
		    cases[i].text, cfg.max_record_bytes);
		pw_config_finish(&cfg);
	}
	EXPECT_OK(ARGS("--read-chunk=512"));
	ck_assert_uint_eq(cfg.read_chunk_bytes, 512);
	pw_config_finish(&cfg);
	EXPECT_OK(ARGS("--read-chunk=16m", "--memory-budget=64m"));
	ck_assert_uint_eq(cfg.read_chunk_bytes, 16u << 20);
}
END_TEST

START_TEST(help_and_version)
{
	EXPECT_OK(ARGS("--help"));
	ck_assert(cfg.show_help);
	ck_assert(!cfg.show_version);
	pw_config_finish(&cfg);

	EXPECT_OK(ARGS("-h"));
	ck_assert(cfg.show_help);
	pw_config_finish(&cfg);

	EXPECT_OK(ARGS("--version"));
	ck_assert(cfg.show_version);
	ck_assert(!cfg.show_help);
	pw_config_finish(&cfg);

	/* Unambiguous abbreviations work, as getopt_long allows. */
	EXPECT_OK(ARGS("--vers", "--max-inf=3"));
	ck_assert(cfg.show_version);
	ck_assert_uint_eq(cfg.max_inflight, 3);
}
END_TEST

START_TEST(usage_lists_every_option)
{
	static const char *const expect[] = {
		"--redis=URL   [env REDIS_URL]",
		"--worker-id=ID   [env PORTADA_WORKER_ID]",
		"--max-inflight=N   [env PORTADA_MAX_INFLIGHT]",
		"--fetch=blmove|blpop   [env PORTADA_FETCH]",
		"--ingest-root=DIR   [env PORTADA_INGEST_ROOTS]",
		"--exit-when-idle   [env PORTADA_EXIT_WHEN_IDLE]",
		"--read-chunk=SIZE   [env PORTADA_READ_CHUNK]",
		"--help\n",
		"--version\n",
	};
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	pw_config_usage(f);
	fclose(f);
	for (i = 0; i < sizeof expect / sizeof expect[0]; i++)
		ck_assert_msg(strstr(text, expect[i]) != NULL, "usage lacks \"%s\"", expect[i]);
	free(text);
}
END_TEST

START_TEST(parse_many_times)
{
	int round;

	for (round = 0; round < 3; round++) {
		EXPECT_OK(ARGS("--max-inflight=5", "--fetch", "blpop", "--ingest-root=/r"));
		ck_assert_uint_eq(cfg.max_inflight, 5);
		ck_assert_int_eq(cfg.fetch, PW_FETCH_BLPOP);
		ck_assert_uint_eq(cfg.n_ingest_roots, 1);
		pw_config_finish(&cfg);

		/* A fresh parse does not remember the previous one. */
		EXPECT_OK(NOARGS);
		ck_assert_uint_eq(cfg.max_inflight, 1024);
		ck_assert_int_eq(cfg.fetch, PW_FETCH_BLMOVE);
		assert_default_roots();
		pw_config_finish(&cfg);

		/* Nor one that stopped halfway through "-xy" or on an error. */
		EXPECT_ERROR("unknown option '-x' (see --help)", ARGS("-xy"));
		EXPECT_ERROR("--fetch: expected one of blmove|blpop, got 'no'",
		    ARGS("--max-depth=3", "--fetch=no", "--max-inflight=2"));
		EXPECT_OK(ARGS("--max-depth=3", "--max-inflight=2"));
		ck_assert_uint_eq(cfg.max_depth, 3);
		ck_assert_uint_eq(cfg.max_inflight, 2);
		pw_config_finish(&cfg);
	}
}
END_TEST

/* A failed parse leaves a cfg that pw_config_finish() releases completely. */
START_TEST(finish_after_failure)
{
	/* Fails after REDIS_URL and the roots were allocated from the environment. */
	env_set("REDIS_URL", "redis://user:pw@host:1/2");
	env_set("PORTADA_INGEST_ROOTS", "/a:/b");
	env_set("PORTADA_WORKER_ID", "w");
	env_set("PORTADA_LOG_LEVEL", "loud");
	ck_assert_int_eq(run(NOARGS), -1);
	pw_config_finish(&cfg);
	pw_config_finish(&cfg);

	/* Fails halfway through the root list. */
	env_set("PORTADA_LOG_LEVEL", "info");
	env_set("PORTADA_INGEST_ROOTS", "/a:/b:c");
	ck_assert_int_eq(run(NOARGS), -1);
	pw_config_finish(&cfg);

	/* Fails on a flag after other flags replaced strings and roots. */
	env_set("PORTADA_INGEST_ROOTS", "/a:/b");
	ck_assert_int_eq(run(ARGS("--redis=redis://:secret@h", "--ingest-root=/x",
	    "--queue-key=k", "--redis=redis://h:bad")), -1);
	pw_config_finish(&cfg);

	/* Fails on a bad URL in the environment. */
	env_set("REDIS_URL", "redis://u:p%zz@h");
	ck_assert_int_eq(run(NOARGS), -1);
	pw_config_finish(&cfg);

	/* Fails on a stray argument at the very end. */
	env_set("REDIS_URL", "unix:///s?db=1");
	ck_assert_int_eq(run(ARGS("--ingest-root=/q", "extra")), -1);
	pw_config_finish(&cfg);
}
END_TEST

/* ---- Redis URLs ---------------------------------------------------------- */

static struct pw_redis_addr addr;

static void
addr_setup(void)
{
	memset(&addr, 0, sizeof addr);
	memset(&err, 0, sizeof err);
}

static void
addr_free(struct pw_redis_addr *a)
{
	free(a->host);
	free(a->path);
	free(a->user);
	free(a->password);
	memset(a, 0, sizeof *a);
}

static void
addr_teardown(void)
{
	addr_free(&addr);
}

static void
parse_url_ok(const char *url)
{
	addr_free(&addr);
	memset(&err, 0, sizeof err);
	ck_assert_msg(pw_config_parse_redis_url(&addr, url, &err) == 0, "%s: %s", url, err.msg);
}

static void
assert_addr(const char *host, int port, const char *path, const char *user,
    const char *password, int db)
{
#define CHECK_STR(field, want) do { \
	if ((want) == NULL) \
		ck_assert_msg(addr.field == NULL, #field " is \"%s\", want NULL", addr.field); \
	else \
		ck_assert_msg(addr.field != NULL && strcmp(addr.field, (want)) == 0, \
		    #field " is \"%s\", want \"%s\"", addr.field ? addr.field : "(null)", (want)); \
} while (0)
	CHECK_STR(host, host);
	CHECK_STR(path, path);
	CHECK_STR(user, user);
	CHECK_STR(password, password);
#undef CHECK_STR
	ck_assert_int_eq(addr.port, port);
	ck_assert_int_eq(addr.db, db);
}

START_TEST(url_forms)
{
	parse_url_ok("redis://host");
	assert_addr("host", 6379, NULL, NULL, NULL, 0);
	parse_url_ok("redis://host:6380");
	assert_addr("host", 6380, NULL, NULL, NULL, 0);
	parse_url_ok("redis://host:6380/7");
	assert_addr("host", 6380, NULL, NULL, NULL, 7);
	parse_url_ok("redis://host/3");
	assert_addr("host", 6379, NULL, NULL, NULL, 3);
	parse_url_ok("redis://host/");
	assert_addr("host", 6379, NULL, NULL, NULL, 0);
	parse_url_ok("redis://10.0.0.5:1");
	assert_addr("10.0.0.5", 1, NULL, NULL, NULL, 0);
	parse_url_ok("redis://h:65535/65535");
	assert_addr("h", 65535, NULL, NULL, NULL, 65535);
	parse_url_ok("redis://alice:s3cret@host:6381/2");
	assert_addr("host", 6381, NULL, "alice", "s3cret", 2);
	parse_url_ok("redis://:s3cret@host");
	assert_addr("host", 6379, NULL, NULL, "s3cret", 0);
	/* A lone value before '@' is a password, as redis-cli reads it. */
	parse_url_ok("redis://secret@host");
	assert_addr("host", 6379, NULL, NULL, "secret", 0);
	parse_url_ok("redis://alice:@host");
	assert_addr("host", 6379, NULL, "alice", "", 0);
	/* Percent-escapes in the user and the password, either case of hex. */
	parse_url_ok("redis://al%69ce:p%40ss%3aw%2Fd%25@host:6379/1");
	assert_addr("host", 6379, NULL, "alice", "p@ss:w/d%", 1);
	parse_url_ok("redis://[::1]:6380");
	assert_addr("::1", 6380, NULL, NULL, NULL, 0);
	parse_url_ok("redis://[::1]");
	assert_addr("::1", 6379, NULL, NULL, NULL, 0);
	parse_url_ok("redis://u:p@[fe80::1%25eth0]:7000/4");
	assert_addr("fe80::1%25eth0", 7000, NULL, "u", "p", 4);
	parse_url_ok("unix:///var/run/redis.sock");
	assert_addr(NULL, 6379, "/var/run/redis.sock", NULL, NULL, 0);
	parse_url_ok("unix:///path?db=3");
	assert_addr(NULL, 6379, "/path", NULL, NULL, 3);
}
END_TEST

static const struct {
	const char *url;
	const char *want;
} bad_urls[] = {
	{ "rediss://host", "rediss:// (TLS) is not available: hiredis 0.14 has no TLS; "
	  "use a local TLS tunnel and redis://" },
	{ "http://host", "Redis URL must start with redis:// or unix://" },
	{ "host:6379", "Redis URL must start with redis:// or unix://" },
	{ "", "Redis URL must start with redis:// or unix://" },
	{ "redis://host:0", "bad port '0' in Redis URL" },
	{ "redis://host:70000", "bad port '70000' in Redis URL" },
	{ "redis://host:abc", "bad port 'abc' in Redis URL" },
	{ "redis://host:63x9/1", "bad port '63x9' in Redis URL" },
	{ "redis://host:", "bad port in Redis URL" },
	{ "redis://host:123456789", "bad port in Redis URL" },
	{ "redis://host/abc", "bad database number 'abc' in Redis URL" },
	{ "redis://host/-1", "bad database number '-1' in Redis URL" },
	{ "redis://host/1/2", "bad database number '1/2' in Redis URL" },
	{ "redis://host/65536", "bad database number '65536' in Redis URL" },
	{ "redis://[::1", "unclosed '[' in Redis URL host" },
	{ "redis://[::1/0", "unclosed '[' in Redis URL host" },
	{ "redis://[::1]x", "bad Redis URL host" },
	{ "redis://[]:6379", "Redis URL has no host" },
	{ "redis://", "Redis URL has no host" },
	{ "redis://:6379", "Redis URL has no host" },
	{ "redis:///0", "Redis URL has no host" },
	{ "redis://user:pw@", "Redis URL has no host" },
	{ "redis://u:p%zz@host", "bad %-escape in the user or password of the Redis URL" },
	{ "redis://u:p%4@host", "bad %-escape in the user or password of the Redis URL" },
	{ "redis://u:p%@host", "bad %-escape in the user or password of the Redis URL" },
	{ "redis://u%g0:p@host", "bad %-escape in the user or password of the Redis URL" },
	{ "redis://sec%ret@host", "bad %-escape in the user or password of the Redis URL" },
	{ "unix://", "Redis URL unix:// needs an absolute socket path" },
	{ "unix://relative.sock", "Redis URL unix:// needs an absolute socket path" },
	{ "unix://?db=1", "Redis URL unix:// needs an absolute socket path" },
	{ "unix:///s?db=x", "bad database number 'x' in Redis URL" },
	{ "unix:///s?db=", "bad database number '' in Redis URL" },
	{ "unix:///s?timeout=1", "unknown parameter 'timeout=1' in Redis URL (only ?db=N)" },
};

#define N_BAD_URLS (sizeof bad_urls / sizeof bad_urls[0])

START_TEST(url_errors)
{
	struct pw_redis_addr before = { .host = NULL, .port = 1234, .db = 9 };

	addr = before;
	ck_assert_msg(pw_config_parse_redis_url(&addr, bad_urls[_i].url, &err) == -1,
	    "'%s' should fail", bad_urls[_i].url);
	ck_assert_msg(strcmp(err.msg, bad_urls[_i].want) == 0, "'%s': got \"%s\", want \"%s\"",
	    bad_urls[_i].url, err.msg, bad_urls[_i].want);
	/* The address is untouched on failure (and nothing leaks: valgrind). */
	ck_assert_ptr_null(addr.host);
	ck_assert_ptr_null(addr.path);
	ck_assert_ptr_null(addr.user);
	ck_assert_ptr_null(addr.password);
	ck_assert_int_eq(addr.port, 1234);
	ck_assert_int_eq(addr.db, 9);
}
END_TEST

/* Error reasons end up in logs: they never repeat a password. */
START_TEST(url_errors_hide_password)
{
	static const char *const urls[] = {
		"redis://u:hunter2@host:abc",
		"redis://u:hunter2@host:0",
		"redis://u:hunter2@host/x",
		"redis://u:hunter2@[::1",
		"redis://u:hunter2@",
		"redis://hunter2@host:99999",
		"redis://u:hunter2%zz@host",
	};
	size_t i;

	for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		memset(&err, 0, sizeof err);
		ck_assert_int_eq(pw_config_parse_redis_url(&addr, urls[i], &err), -1);
		ck_assert_msg(strstr(err.msg, "hunter2") == NULL, "'%s' gave \"%s\"", urls[i],
		    err.msg);
	}
}
END_TEST

static void
assert_display(const char *url, const char *want, const char *secret)
{
	char buf[256];

	parse_url_ok(url);
	memset(buf, 'Z', sizeof buf);
	pw_config_redis_display(&addr, buf, sizeof buf);
	ck_assert_str_eq(buf, want);
	if (secret != NULL) {
		ck_assert_msg(strstr(buf, secret) == NULL, "display shows the password: %s", buf);
		ck_assert_msg(strstr(buf, "***") != NULL, "display hides no password: %s", buf);
	}
}

START_TEST(display_hides_password)
{
	assert_display("redis://host", "redis://host:6379/0", NULL);
	assert_display("redis://host:6380/2", "redis://host:6380/2", NULL);
	assert_display("redis://alice:hunter2@host:6381/3", "redis://alice:***@host:6381/3",
	    "hunter2");
	assert_display("redis://:hunter2@host", "redis://:***@host:6379/0", "hunter2");
	assert_display("redis://hunter2@host", "redis://:***@host:6379/0", "hunter2");
	assert_display("redis://alice:hunter%32@h", "redis://alice:***@h:6379/0", "hunter2");
	/* A lone value before '@' is the password, not a user name. */
	assert_display("redis://alice@host", "redis://:***@host:6379/0", "alice");
	assert_display("redis://[::1]:6380/1", "redis://[::1]:6380/1", NULL);
	assert_display("redis://u:hunter2@[::1]", "redis://u:***@[::1]:6379/0", "hunter2");
	assert_display("unix:///run/redis.sock?db=3", "unix:///run/redis.sock", NULL);

	/* A unix address with a password (set by hand: URLs cannot carry one). */
	addr_free(&addr);
	addr.path = strdup("/run/r.sock");
	addr.password = strdup("hunter2");
	{
		char buf[128];

		pw_config_redis_display(&addr, buf, sizeof buf);
		ck_assert_str_eq(buf, "unix:///run/r.sock (with password)");
	}

	/* A user without a password (set by hand: a URL's lone value is a password). */
	addr_free(&addr);
	addr.host = strdup("host");
	addr.port = 6379;
	addr.user = strdup("alice");
	{
		char buf[128];

		pw_config_redis_display(&addr, buf, sizeof buf);
		ck_assert_str_eq(buf, "redis://alice@host:6379/0");
	}

	/* A small buffer truncates, still terminated. */
	{
		char small[12];

		parse_url_ok("redis://alice:hunter2@longhostname:6379/0");
		pw_config_redis_display(&addr, small, sizeof small);
		ck_assert_str_eq(small, "redis://ali");
	}
}
END_TEST

/* The URL through the whole parse, and what a config shows. */
START_TEST(config_display)
{
	char buf[256];

	env_set("REDIS_URL", "redis://bob:hunter2@db.example:6390/5");
	EXPECT_OK(NOARGS);
	ck_assert_str_eq(cfg.redis.user, "bob");
	ck_assert_str_eq(cfg.redis.password, "hunter2");
	pw_config_redis_display(&cfg.redis, buf, sizeof buf);
	ck_assert_str_eq(buf, "redis://bob:***@db.example:6390/5");
	ck_assert_ptr_null(strstr(buf, "hunter2"));
}
END_TEST

/* ---- reasons (src/error.c), as config builds them ---------------------- */

static int
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int more;

	while (*p != '\0') {
		if (*p < 0x80)
			more = 0;
		else if ((*p & 0xE0) == 0xC0)
			more = 1;
		else if ((*p & 0xF0) == 0xE0)
			more = 2;
		else if ((*p & 0xF8) == 0xF0)
			more = 3;
		else
			return 0;
		p++;
		while (more-- > 0)
			if ((*p++ & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

START_TEST(error_set_and_prefix)
{
	struct pw_error e;
	char big[PW_ERROR_MAX + 100];

	pw_error_set(&e, "bad %s %d", "thing", 7);
	ck_assert_str_eq(e.msg, "bad thing 7");
	pw_error_prefix(&e, "file %s", "f1");
	ck_assert_str_eq(e.msg, "file f1: bad thing 7");
	pw_error_set(NULL, "ignored %d", 1);
	pw_error_prefix(NULL, "ignored");

	/* Exactly PW_ERROR_MAX - 1 characters fit: no "...". */
	memset(big, 'x', PW_ERROR_MAX - 1);
	big[PW_ERROR_MAX - 1] = '\0';
	pw_error_set(&e, "%s", big);
	ck_assert_str_eq(e.msg, big);

	/* One more is cut, ending in "...". */
	memset(big, 'x', PW_ERROR_MAX);
	big[PW_ERROR_MAX] = '\0';
	pw_error_set(&e, "%s", big);
	ck_assert_uint_eq(strlen(e.msg), PW_ERROR_MAX - 1);
	ck_assert(ends_with(e.msg, "xxx..."));

	/* A prefix on a full reason keeps the prefix and cuts the end. */
	pw_error_prefix(&e, "ctx");
	ck_assert_uint_eq(strlen(e.msg), PW_ERROR_MAX - 1);
	ck_assert(strncmp(e.msg, "ctx: xxx", 8) == 0);
	ck_assert(ends_with(e.msg, "xxx..."));
}
END_TEST

/* The cut never splits a UTF-8 character: reasons go to Redis and logs. */
START_TEST(error_cut_keeps_utf8)
{
	struct pw_error e;
	char big[2 * PW_ERROR_MAX], arg[700];
	size_t n = 0, i;

	/* "a" then "é" x 300: the plain cut at byte 508 would split an "é". */
	big[n++] = 'a';
	for (i = 0; i < 300; i++) {
		big[n++] = '\xc3';
		big[n++] = '\xa9';
	}
	big[n] = '\0';
	pw_error_set(&e, "%s", big);
	ck_assert_msg(valid_utf8(e.msg), "not UTF-8: %s", e.msg);
	ck_assert(ends_with(e.msg, "\xc3\xa9..."));
	ck_assert_uint_eq(strlen(e.msg), 1 + 2 * 253 + 3);

	/* Shifted by one byte the plain cut is already on a boundary. */
	pw_error_set(&e, "b%s", big);
	ck_assert_msg(valid_utf8(e.msg), "not UTF-8: %s", e.msg);
	ck_assert_uint_eq(strlen(e.msg), PW_ERROR_MAX - 1);

	pw_error_prefix(&e, "ctx");
	ck_assert_msg(valid_utf8(e.msg), "not UTF-8: %s", e.msg);
	pw_error_prefix(&e, "c");
	ck_assert_msg(valid_utf8(e.msg), "not UTF-8: %s", e.msg);

	/* Through the config: a long bad value with accents. */
	memcpy(arg, "--worker-id=", 12);
	n = 12;
	for (i = 0; i < 300; i++) {
		arg[n++] = '\xc3';
		arg[n++] = '\xa9';
	}
	arg[n] = '\0';
	ck_assert_int_eq(run(ARGS(arg)), -1);
	ck_assert_msg(valid_utf8(err.msg), "not UTF-8: %s", err.msg);
	ck_assert_msg(strstr(err.msg, "--worker-id: expected 1 to 256 printable characters") == err.msg,
	    "got \"%s\"", err.msg);
	ck_assert(ends_with(err.msg, "..."));
	ck_assert_uint_le(strlen(err.msg), PW_ERROR_MAX - 1);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, every_variable);
	tcase_add_test(tc, flags_win_over_variables);
	tcase_add_test(tc, empty_variable_is_unset);
	tcase_add_test(tc, booleans);
	tcase_add_test(tc, redis_host_port_fallback);
	tcase_add_test(tc, ingest_roots);
	tcase_add_test(tc, ingest_root_errors);
	tcase_add_loop_test(tc, bad_values, 0, (int)N_BAD);
	tcase_add_test(tc, durations);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, usage_lists_every_option);
	tcase_add_test(tc, parse_many_times);
	tcase_add_test(tc, finish_after_failure);
	tcase_add_test(tc, config_display);
	suite_add_tcase(s, tc);

	tc = tcase_create("redis_url");
	tcase_add_checked_fixture(tc, addr_setup, addr_teardown);
	tcase_add_test(tc, url_forms);
	tcase_add_loop_test(tc, url_errors, 0, (int)N_BAD_URLS);
	tcase_add_test(tc, url_errors_hide_password);
	tcase_add_test(tc, display_hides_password);
	suite_add_tcase(s, tc);

	tc = tcase_create("error");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, error_set_and_prefix);
	tcase_add_test(tc, error_cut_keeps_utf8);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
