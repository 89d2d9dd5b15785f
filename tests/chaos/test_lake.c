/*
 * The lake on a tiny tmpfs that fills up, or turns read-only, under a
 * running worker: ingestion pauses (no file fails, the files in flight go
 * back to the queue), and resumes by itself once the lake takes writes
 * again (the full disk), or the paused worker is stopped with SIGTERM and a
 * new one finishes the work (the read-only lake); in the end every file is
 * in the table exactly once and every data file the log adds is whole.
 *
 * The tmpfs is mounted in a mount namespace of the test's own, so it goes
 * away with the test whatever happens.  That needs root, or a user
 * namespace (Debian 12 allows them unprivileged); with neither the cases
 * say so and do not run.
 */
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>

#include "chaos.h"

/* Load files whose raw_text is random hex: about half compressible, so a
 * few dozen of them fill a megabyte of Parquet. */
static void
write_noisy_files(const char **paths, unsigned base, unsigned step, size_t text)
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned k = 0; k < TC_LOAD_FILES; k++) {
		unsigned n = base + step * k;
		size_t size = 64 + (size_t)n * (text + 200), off = 0;
		char *buf = malloc(size), rel[64];

		ck_assert_ptr_nonnull(buf);
		off += (size_t)snprintf(buf + off, size - off, "[\n");
		for (unsigned i = 0; i < n; i++) {
			off += (size_t)snprintf(buf + off, size - off, "  {\"model_version\": "
			    "\"boat_facts-00.00.01\", \"publication_name\": \"DB\", \"ship_name\": "
			    "{\"original_value\": \"Ship %u\"}, \"raw_text\": \"", i);
			for (size_t j = 0; j < text; j++)
				buf[off++] = hex[random() & 15];
			off += (size_t)snprintf(buf + off, size - off, "\"}%s\n", i + 1 < n ? "," : "");
		}
		off += (size_t)snprintf(buf + off, size - off, "]\n");
		ck_assert(off < size);
		snprintf(rel, sizeof rel, "ingest/noisy/%u.json", k);
		paths[k] = strdup(h_write(rel, buf, off));
		free(buf);
	}
}

static int
write_proc(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL)
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) != 0 ? -1 : rc;
}

/*
 * A mount namespace of our own: as root directly; otherwise inside a user
 * namespace where we are root (Debian allows unprivileged ones), which may
 * mount a tmpfs too.  Single-threaded here, as unshare(CLONE_NEWUSER) wants.
 */
static int
own_mount_namespace(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWNS) == 0)
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
		return -1;
	snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
	if (write_proc("/proc/self/uid_map", map) != 0 ||
	    write_proc("/proc/self/setgroups", "deny\n") != 0)
		return -1;
	snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
	return write_proc("/proc/self/gid_map", map);
}

/* A private mount namespace with a tmpfs of this size at <dir>/lakefs. */
static const char *
mount_lake(const char *test, const char *size)
{
	static char dir[PATH_MAX];
	char opts[64];

	snprintf(dir, sizeof dir, "%s/lakefs", H->dir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	if (own_mount_namespace() != 0 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		printf("%s: not run: no mount namespace of its own (%s); it needs root or "
		    "unprivileged user namespaces\n", test, strerror(errno));
		return NULL;
	}
	snprintf(opts, sizeof opts, "size=%s,mode=0755", size);
	ck_assert_msg(mount("tmpfs", dir, "tmpfs", 0, opts) == 0, "mount tmpfs: %s",
	    strerror(errno));
	return dir;
}

static void
remount(const char *dir, unsigned long flags, const char *opts)
{
	ck_assert_msg(mount("tmpfs", dir, "tmpfs", MS_REMOUNT | flags, opts) == 0,
	    "remount %s: %s", opts, strerror(errno));
}

/* Read-only: refused (EBUSY) while a file is open for writing, so try
 * until the worker is between two data files. */
static void
remount_ro(const char *dir)
{
	double t0 = h_now();

	while (mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=64m") != 0) {
		ck_assert_msg(errno == EBUSY && h_now() - t0 < 30 * h_slow(), "remount ro: %s",
		    strerror(errno));
		h_sleep(0.001);
	}
}

/* Statuses so far: none failed, and every one not done is pending or in flight. */
static void
assert_none_failed(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *st = h_hget(ids[i], "status");

		ck_assert_msg(st == NULL || strcmp(st, "-1") != 0, "%s failed", ids[i]);
		free(st);
	}
}

static void
run(const char *test, const char *prefix, bool read_only)
{
	enum { N = 128 };	/* halves of 8 * k: id i reads load file i % 8 */
	char **ids = h_ids(prefix, N), lake_arg[PATH_MAX + 8];
	const char *paths[TC_LOAD_FILES], *dir;
	struct h_worker w;
	struct h_log *log, *paused = NULL;
	double t_pause;

	if ((dir = mount_lake(test, read_only ? "64m" : "1m")) == NULL)
		return;
	srandom(1);
	write_noisy_files(paths, 20, 5, 600);
	snprintf(lake_arg, sizeof lake_arg, "%s/lake", dir);
	h_worker_start(&w, prefix, "--lake", lake_arg, "--commit-interval-ms", "100",
	    "--max-inflight", "16", NULL);
	if (read_only) {
		h_enqueue_many(H_API_NEW, ids, N / 2, paths, TC_LOAD_FILES, "entry", prefix);
		ck_assert(h_worker_wait_event(&w, "commit", 2, 30));
		remount_ro(dir);
		h_enqueue_many(H_API_NEW, ids + N / 2, N / 2, paths, TC_LOAD_FILES, "entry", prefix);
	} else
		h_enqueue_many(H_API_NEW, ids, N, paths, TC_LOAD_FILES, "entry", prefix);
	ck_assert_msg(h_worker_wait_event(&w, "paused", 1, 60), "the worker did not pause");
	/*
	 * Paused: it stays up and fails nothing.  A full disk may take the
	 * 64 KiB probe but not a data file: it pauses again, backing off.
	 */
	if (read_only) {
		h_sleep(3 * h_slow());
		ck_assert_int_eq(h_worker_events(&w, "resumed"), 0);
		ck_assert_int_eq(h_int("LLEN files:processing:%s", prefix), 0);
	} else
		ck_assert_msg(h_worker_wait_event(&w, "paused", 3, 30), "no backoff on a full disk");
	ck_assert(h_worker_running(&w));
	ck_assert_msg(h_int("LLEN files:all") > 0, "nothing went back to the queue");
	assert_none_failed(ids, N);
	t_pause = h_now();
	if (read_only) {
		/* Stopped while paused: it exits at once, 0, and nothing is lost. */
		h_worker_signal(&w, SIGTERM);
		ck_assert_int_eq(h_worker_wait(&w, 30), 0);
		ck_assert_int_eq(h_int("LLEN files:processing:%s", prefix), 0);
		paused = h_log_load(w.log);	/* the summary is the paused one's */
		ck_assert_uint_eq(h_log_count(paused, "failed", NULL), 0);
		remount(dir, 0, "size=64m");
		h_worker_start(&w, prefix, "--lake", lake_arg, "--commit-interval-ms", "100",
		    "--max-inflight", "16", NULL);
	} else {
		remount(dir, 0, "size=64m");	/* space back */
		ck_assert_msg(h_worker_wait_event(&w, "resumed", 1, 90),
		    "the worker did not resume");
	}
	ck_assert(c_wait_final(ids, N, 90));
	ck_assert(h_worker_wait_event(&w, "start", 1, 30));
	h_worker_signal(&w, SIGTERM);
	ck_assert_int_eq(h_worker_wait(&w, 30), 0);
	h_assert_all_status(ids, N, "2");
	ck_assert_uint_eq(c_check_table(lake_arg, "ship_entries", ids, N, 20, 5),
	    tc_sum_expected(N, 20, 5));
	h_assert_lists_empty(prefix);
	log = h_log_load(w.log);
	ck_assert_uint_eq(h_log_count(log, "failed", NULL), 0);
	if (paused == NULL)
		paused = log;
	printf("%s: paused %zu time(s) (%s), all done %.1f s after the lake was given back; "
	    "%d files done once\n", test, h_log_count(paused, "paused", NULL),
	    h_log_msg(paused, "lake-failed", NULL), h_now() - t_pause, N);
	if (paused != log)
		h_log_free(paused);
	h_log_free(log);
	ck_assert(umount2(dir, MNT_DETACH) == 0);
	h_free_paths(paths, TC_LOAD_FILES);
	h_strv_free(ids, N);
}

START_TEST(disk_full_pauses_and_resumes)
{
	run("disk_full_pauses_and_resumes", "df", false);
}
END_TEST

START_TEST(read_only_lake_pauses_and_resumes)
{
	run("read_only_lake_pauses_and_resumes", "ro", true);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("chaos-lake");
	TCase *tc = h_tcase("lake", false);

	tcase_add_test(tc, disk_full_pauses_and_resumes);
	tcase_add_test(tc, read_only_lake_pauses_and_resumes);
	suite_add_tcase(s, tc);
	return h_main(s, true);
}
