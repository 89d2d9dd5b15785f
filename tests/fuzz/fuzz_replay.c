/*
 * Feed files to LLVMFuzzerTestOneInput without libFuzzer, so the corpus
 * (and every crash input kept in it) is a regression test in any build:
 * gcc or clang, with or without sanitizers, under valgrind.
 *
 *   fuzz_replay FILE|DIR...
 *
 * Directories are read one level deep, in name order.  Each input runs in
 * a child process, so one failure (an abort, a sanitizer report, a leak
 * under valgrind) does not hide the next; every failing input is listed
 * and the exit status is 1.  PW_FUZZ_REPLAY_NOFORK=1 runs them in this
 * process instead (for a debugger).  Exits 1 too if a file cannot be read
 * or nothing was found.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

static bool no_fork;
static size_t nfailed;

/* Run one input, in a child unless no_fork; -1 if it failed. */
static int
run_input(const char *path, const unsigned char *buf, size_t len)
{
	pid_t pid;
	int status;

	fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
	if (no_fork) {
		(void)LLVMFuzzerTestOneInput(buf, len);
		return 0;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		(void)LLVMFuzzerTestOneInput(buf, len);
		exit(0);	/* atexit: leak checkers report here */
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		fprintf(stderr, "FAILED %s: killed by signal %d\n", path, WTERMSIG(status));
	else
		fprintf(stderr, "FAILED %s: exit status %d\n", path, WEXITSTATUS(status));
	nfailed++;
	return -1;
}

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	(void)run_input(path, buf, len);
	free(buf);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files in dir, sorted; dot files are skipped. */
static int
run_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
			if (names == NULL)
				abort();
		}
		names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
		if (names[n] == NULL)
			abort();
		sprintf(names[n], "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(names[i]) == -1)
				rc = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;
	const char *nf = getenv("PW_FUZZ_REPLAY_NOFORK");

	no_fork = nf != NULL && *nf != '\0' && *nf != '0';
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) == -1)
				rc = -1;
		} else if (run_file(argv[i]) == -1) {
			rc = -1;
		} else {
			count++;
		}
	}
	if (count == 0) {
		fprintf(stderr, "no inputs found\n");
		return 1;
	}
	if (nfailed > 0) {
		printf("%zu of %zu inputs failed (see FAILED above)\n", nfailed, count);
		return 1;
	}
	printf("%zu inputs replayed without an oracle failure\n", count);
	return rc == 0 ? 0 : 1;
}
