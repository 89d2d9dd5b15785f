/*
 * preflight: start-up checks, one "preflight" log line each (see
 * preflight.h).  Only two findings stop the worker, with exit status 2 as
 * for a bad option: a lake it cannot write and a Redis too old for its
 * commands.  Everything else is a warning: the worker can run, and the
 * line says what is at risk.
 *
 * The Redis checks are six commands pipelined on the command connection
 * the first time it is ready: INFO server and one CONFIG GET per setting
 * (CONFIG GET with several names needs Redis 7).  CONFIG may be renamed
 * away or refused by an ACL: a setting that could not be read is said so,
 * never a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "portada/lake.h"
#include "portada/log.h"
#include "portada/redis.h"
#include "preflight.h"
#include "worker.h"

#define LOW_SPACE_BYTES	((double)(1u << 30))	/* warn below 1 GiB free */

enum {
	PREFLIGHT_TO_SEND,
	PREFLIGHT_ASKED,
	PREFLIGHT_DONE,
};

/* The commands of the Redis check, in the order their answers come. */
enum ask {
	ASK_INFO,
	ASK_POLICY,
	ASK_MAXMEMORY,
	ASK_APPENDONLY,
	ASK_APPENDFSYNC,
	ASK_SAVE,
	ASK_N,
};

static const char *const config_names[ASK_N] = {
	NULL, "maxmemory-policy", "maxmemory", "appendonly", "appendfsync", "save",
};

struct redis_check;

struct answer {
	struct redis_check *c;
	enum ask what;
	char *value;		/* the setting, or INFO's text; NULL if refused */
	char *error;		/* the error reply, if refused */
};

struct redis_check {
	struct pw_worker *w;
	unsigned left;		/* answers still owed */
	bool lost;		/* a reply was lost: ask again on the next ready */
	struct answer a[ASK_N];
};

/* ---- the lake and the ingest roots ---- */

/* 12.3 GiB */
static void
human_bytes(double b, char *out, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned u = 0;

	while (b >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		b /= 1024;
		u++;
	}
	snprintf(out, size, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
}

/*
 * Create, fill, sync and remove a probe file in the lake directory: what
 * every commit does.  The tables may already exist, so opening them proved
 * only that the lake can be read.
 */
static int
check_lake(const struct pw_config *cfg)
{
	char uuid[37], name[64], free_s[32], total_s[32], *path;
	struct statvfs vfs;
	int fd, e = 0;
	const char *step = "create";

	if (strncmp(cfg->lake, "s3://", 5) == 0) {
		/* batch_open_all() put and removed a probe object already. */
		log_info(NULL, "preflight", "lake %s: writable (its conditional-write probe "
		    "passed when the tables were opened)", cfg->lake);
		return 0;
	}
	pw_lake_uuid(uuid);
	snprintf(name, sizeof name, ".portada-preflight-%.8s", uuid);
	path = pw_lake_join(cfg->lake, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1)
		e = errno;
	else {
		step = "write";
		if (write(fd, "probe\n", 6) != 6)
			e = errno != 0 ? errno : EIO;
		else {
			step = "sync";
			if (fsync(fd) == -1)
				e = errno;
		}
		if (close(fd) == -1 && e == 0) {
			step = "close";
			e = errno;
		}
		if (unlink(path) == -1 && e == 0) {
			step = "remove";
			e = errno;
		}
	}
	if (e != 0) {
		log_error(NULL, "preflight", "lake %s is not writable: cannot %s %s: %s; "
		    "stopping (exit 2)", cfg->lake, step, path, strerror(e));
		free(path);
		return -1;
	}
	free(path);
	if (statvfs(cfg->lake, &vfs) == -1) {
		log_info(NULL, "preflight", "lake %s: writable (free space unknown: %s)",
		    cfg->lake, strerror(errno));
		return 0;
	}
	human_bytes((double)vfs.f_bavail * (double)vfs.f_frsize, free_s, sizeof free_s);
	human_bytes((double)vfs.f_blocks * (double)vfs.f_frsize, total_s, sizeof total_s);
	if ((double)vfs.f_bavail * (double)vfs.f_frsize < LOW_SPACE_BYTES)
		log_warn(NULL, "preflight", "lake %s: writable, but only %s free of %s; a full "
		    "disk pauses ingestion, with its files back in the queue, until there is room",
		    cfg->lake, free_s, total_s);
	else
		log_info(NULL, "preflight", "lake %s: writable, %s free of %s", cfg->lake,
		    free_s, total_s);
	return 0;
}

/*
 * A root that is missing or unreadable is a warning, not a refusal: the
 * roots are looked up again whenever a file matches none (source.c), so
 * one created or mounted after the worker started is used at once; the
 * default list names two roots and a deployment has one of them; and an
 * upload's file is written before its id is queued, so a root absent now
 * fails no upload by itself.  Refusing to start would tie the worker's
 * start to the ingest service's.
 */
static void
check_roots(const struct pw_config *cfg)
{
	size_t i, usable = 0;
	struct stat st;

	for (i = 0; i < cfg->n_ingest_roots; i++) {
		const char *root = cfg->ingest_roots[i];

		if (stat(root, &st) == -1)
			log_warn(NULL, "preflight", "ingest root %s: %s; uploads under it fail "
			    "(file not found) until it exists", root, strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			log_warn(NULL, "preflight", "ingest root %s is not a directory; uploads "
			    "under it fail until it is", root);
		else if (access(root, R_OK | X_OK) == -1)
			log_warn(NULL, "preflight", "ingest root %s is not readable by this user "
			    "(%s); uploads under it fail with permission denied", root,
			    strerror(errno));
		else {
			log_info(NULL, "preflight", "ingest root %s: a readable directory", root);
			usable++;
		}
	}
	if (usable == 0 && cfg->n_source_hosts == 0)
		log_warn(NULL, "preflight", "no ingest root is usable and no source host is "
		    "allowed: every upload fails until a root appears");
}

int
preflight_local(struct pw_worker *w)
{
	if (check_lake(w->cfg) == -1)
		return -1;
	check_roots(w->cfg);
	return 0;
}

/* ---- Redis ---- */

/* redis_version of INFO server as major.minor.patch; -1 if not found. */
static int
parse_version(const char *info, unsigned *major, unsigned *minor, unsigned *patch,
    char *shown, size_t size)
{
	const char *p = strstr(info, "redis_version:");
	size_t n;

	if (p == NULL)
		return -1;
	p += strlen("redis_version:");
	n = strcspn(p, "\r\n");
	snprintf(shown, size, "%.*s", (int)(n < 40 ? n : 40), p);
	*patch = 0;
	return sscanf(p, "%u.%u.%u", major, minor, patch) >= 2 ? 0 : -1;
}

/* The version line; -1 when Redis is too old for the worker's commands. */
static int
judge_version(const struct answer *a)
{
	unsigned major, minor, patch;
	char shown[48];

	if (a->value == NULL) {
		log_warn(NULL, "preflight", "the Redis version could not be checked (INFO: "
		    "%.200s); the worker needs Redis %d.%d or later", a->error,
		    PREFLIGHT_REDIS_MAJOR, PREFLIGHT_REDIS_MINOR);
		return 0;
	}
	if (parse_version(a->value, &major, &minor, &patch, shown, sizeof shown) == -1) {
		log_warn(NULL, "preflight", "the Redis version could not be checked (no "
		    "redis_version in INFO server); the worker needs Redis %d.%d or later",
		    PREFLIGHT_REDIS_MAJOR, PREFLIGHT_REDIS_MINOR);
		return 0;
	}
	if (major < PREFLIGHT_REDIS_MAJOR ||
	    (major == PREFLIGHT_REDIS_MAJOR && minor < PREFLIGHT_REDIS_MINOR)) {
		/* Both modes: blpop mode fills its free slots with LPOP <key> <count>. */
		log_error(NULL, "preflight", "Redis %s is too old: the worker needs Redis %d.%d "
		    "or later in both fetch modes (blmove takes ids with BLMOVE and LMOVE, "
		    "--fetch blpop with LPOP and a count, all new in 6.2); stopping (exit 2)",
		    shown, PREFLIGHT_REDIS_MAJOR, PREFLIGHT_REDIS_MINOR);
		return -1;
	}
	log_info(NULL, "preflight", "Redis %s: has the commands the worker needs (%d.%d "
	    "or later)", shown, PREFLIGHT_REDIS_MAJOR, PREFLIGHT_REDIS_MINOR);
	return 0;
}

static void
judge_policy(const struct redis_check *c)
{
	const struct answer *p = &c->a[ASK_POLICY], *m = &c->a[ASK_MAXMEMORY];
	char limit[64];

	if (p->value == NULL) {
		log_warn(NULL, "preflight", "maxmemory-policy could not be checked (CONFIG GET: "
		    "%.200s); it must be noeviction, or Redis may evict queued ids and "
		    "file hashes", p->error);
		return;
	}
	if (strcmp(p->value, "noeviction") == 0) {
		log_info(NULL, "preflight", "maxmemory-policy noeviction: Redis never drops "
		    "queued ids or file hashes to free memory");
		return;
	}
	if (m->value == NULL)
		snprintf(limit, sizeof limit, "maxmemory unknown");
	else if (strcmp(m->value, "0") == 0)
		snprintf(limit, sizeof limit, "maxmemory 0: no limit yet");
	else
		snprintf(limit, sizeof limit, "maxmemory %.40s bytes", m->value);
	log_warn(NULL, "preflight", "maxmemory-policy is %.40s (%s): at its memory limit "
	    "Redis may evict queued ids, processing lists and file hashes, and those "
	    "uploads are lost without a trace; set maxmemory-policy noeviction",
	    p->value, limit);
}

/*
 * The longest a Redis with these RDB save points can go without a
 * snapshot while a write is waiting: the largest seconds value.
 */
static long
longest_save_gap(const char *save)
{
	long longest = 0, secs, changes;
	int used;

	while (sscanf(save, " %ld %ld%n", &secs, &changes, &used) == 2) {
		if (secs > longest)
			longest = secs;
		save += used;
	}
	return longest;
}

static void
judge_persistence(const struct redis_check *c)
{
	const struct answer *aof = &c->a[ASK_APPENDONLY], *fsync = &c->a[ASK_APPENDFSYNC];
	const struct answer *save = &c->a[ASK_SAVE];

	if (aof->value == NULL || (strcmp(aof->value, "yes") == 0 && fsync->value == NULL) ||
	    (strcmp(aof->value, "yes") != 0 && save->value == NULL)) {
		const struct answer *bad = aof->value == NULL ? aof :
		    fsync->value == NULL ? fsync : save;

		log_warn(NULL, "preflight", "persistence could not be checked (CONFIG GET: "
		    "%.200s); without appendonly yes and appendfsync always a Redis restart "
		    "can lose queued ids and statuses", bad->error);
		return;
	}
	if (strcmp(aof->value, "yes") == 0) {
		if (strcmp(fsync->value, "always") == 0)
			log_info(NULL, "preflight", "persistence: appendonly yes, appendfsync "
			    "always: a Redis restart or crash loses nothing");
		else if (strcmp(fsync->value, "everysec") == 0)
			log_warn(NULL, "preflight", "persistence: appendonly yes, appendfsync "
			    "everysec: a crash of Redis or its machine can lose up to about the "
			    "last second of writes (2 s when the disk is slow): ids queued then "
			    "are lost, and statuses are written again; appendfsync always loses "
			    "nothing");
		else
			log_warn(NULL, "preflight", "persistence: appendonly yes, appendfsync "
			    "%.20s: the kernel decides when the AOF reaches the disk (usually "
			    "within 30 s), so a crash of the machine can lose that much of the "
			    "queue; appendfsync always loses nothing", fsync->value);
		return;
	}
	if (save->value[strspn(save->value, " ")] == '\0')
		log_warn(NULL, "preflight", "persistence: none (appendonly no, no save "
		    "points): a Redis restart loses everything: the queue, the processing "
		    "lists and every file hash; set appendonly yes and appendfsync always");
	else
		log_warn(NULL, "preflight", "persistence: RDB snapshots only (appendonly no, "
		    "save \"%.100s\"): a crash or kill of Redis loses every write since the "
		    "last snapshot, up to the last %ld s of queued ids and statuses; set "
		    "appendonly yes and appendfsync always to lose nothing", save->value,
		    longest_save_gap(save->value));
}

static void
redis_check_free(struct redis_check *c)
{
	for (int i = 0; i < ASK_N; i++) {
		free(c->a[i].value);
		free(c->a[i].error);
	}
	free(c);
}

/* Every answer is in: one line per check, and a stop if Redis is too old. */
static void
judge(struct redis_check *c)
{
	struct pw_worker *w = c->w;

	if (c->lost) {
		/* Asked again when the connection is back (the worker may be stopping). */
		w->preflight = PREFLIGHT_TO_SEND;
		redis_check_free(c);
		return;
	}
	w->preflight = PREFLIGHT_DONE;
	if (judge_version(&c->a[ASK_INFO]) == -1) {
		/* As for a failing lake, but a configuration error: requeue, exit 2. */
		w->exit_status = 2;
		event_active(w->fatal_ev, EV_TIMEOUT, 0);
		redis_check_free(c);
		return;
	}
	judge_policy(c);
	judge_persistence(c);
	redis_check_free(c);
}

/* One answer, copied (the reply is borrowed); the last one judges them all. */
static void
on_answer(struct pw_redis *r, redisReply *reply, void *arg)
{
	struct answer *a = arg;
	struct redis_check *c = a->c;

	(void)r;
	if (reply == NULL)
		c->lost = true;
	else if (reply->type == REDIS_REPLY_ERROR) {
		size_t n = strlen(reply->str);

		while (n > 0 && reply->str[n - 1] == ' ')
			n--;	/* "... with args beginning with: 'GET' 'save' " */
		a->error = pw_xstrndup(reply->str, n);
	}
	else if (a->what == ASK_INFO && reply->type == REDIS_REPLY_STRING)
		a->value = pw_xstrndup(reply->str, reply->len);
	else if (a->what != ASK_INFO && reply->type == REDIS_REPLY_ARRAY &&
	    reply->elements == 2 && reply->element[1]->type == REDIS_REPLY_STRING)
		a->value = pw_xstrndup(reply->element[1]->str, reply->element[1]->len);
	else
		/* CONFIG GET of a name this Redis does not know: an empty array. */
		a->error = pw_xstrdup("no such setting in this Redis");
	if (--c->left == 0)
		judge(c);
}

void
preflight_redis(struct pw_worker *w)
{
	struct pw_redis *cmd = pw_queue_cmd(w->queue);
	struct redis_check *c;

	if (w->preflight != PREFLIGHT_TO_SEND)
		return;
	c = pw_xcalloc(1, sizeof *c);
	c->w = w;
	w->preflight = PREFLIGHT_ASKED;
	for (int i = 0; i < ASK_N; i++) {
		const char *info[] = { "INFO", "server" };
		const char *get[] = { "CONFIG", "GET", config_names[i] };

		c->a[i].c = c;
		c->a[i].what = (enum ask)i;
		if (pw_redis_command(cmd, on_answer, &c->a[i], 0, i == ASK_INFO ? 2 : 3,
		    i == ASK_INFO ? info : get, NULL) == 0)
			c->left++;
		else
			c->lost = true;
	}
	if (c->left == 0)
		judge(c);	/* nothing went out: asked again at the next ready */
}
