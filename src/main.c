/*
 * portada-worker: options in, worker out.  Everything else lives in the
 * modules named after the pipeline stages.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <string.h>

#include "portada/config.h"
#include "portada/inspect.h"
#include "portada/log.h"
#include "portada/overview.h"
#include "portada/worker.h"

#ifndef PW_VERSION
#define PW_VERSION "unknown"
#endif

/* Each file in flight holds one descriptor while it is read. */
static int
check_fd_limit(const struct pw_config *cfg, struct pw_error *err)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)cfg->max_inflight + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need) {
		pw_error_set(err, "--max-inflight %u needs %llu file descriptors but the "
		    "limit is %llu (raise ulimit -n or lower --max-inflight)",
		    cfg->max_inflight, (unsigned long long)need,
		    (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct pw_config cfg;
	struct pw_error err;
	int status;

	if (argc > 1 && strcmp(argv[1], "inspect") == 0)
		return pw_inspect_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return pw_overview_main(argc - 1, argv + 1);
	if (pw_config_parse(&cfg, argc, argv, (pw_getenv_fn)getenv, &err) != 0 ||
	    check_fd_limit(&cfg, &err) != 0) {
		fprintf(stderr, "portada-worker: %s\n", err.msg);
		pw_config_finish(&cfg);
		return 2;
	}
	if (cfg.show_help) {
		pw_config_usage(stdout);
		pw_config_finish(&cfg);
		return 0;
	}
	if (cfg.show_version) {
		printf("portada-worker %s\n", PW_VERSION);
		pw_config_finish(&cfg);
		return 0;
	}
	pw_log_setup(cfg.log_format, cfg.log_level, stderr);
	/*
	 * Row groups, spools and records are big and short-lived.  glibc would
	 * raise its mmap threshold after the first such free and keep later
	 * ones in the heap, where fragmentation holds on to the pages; a fixed
	 * threshold gives them back on free, so the resident set follows the
	 * memory budget (measured: peak 47 MiB -> 29 MiB at --memory-budget 16m).
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 128 * 1024);
	mallopt(M_TOP_PAD, 0);
	status = pw_worker_run(&cfg);
	pw_config_finish(&cfg);
	return status;
}
