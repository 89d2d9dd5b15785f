/*
 * Reading a worker's table back after a test (integration and chaos
 * suites): every upload exactly once with its records, its hash done in
 * the commit that holds it, and every data file the log adds whole (its
 * size as the log says, Parquet magic at both ends), so no partial file
 * was ever committed.  Read with the library's own log reader;
 * tests/delta reads the same kind of tables with DuckDB and hyparquet.
 * Needs the integration harness (harness.h).
 */
#ifndef PW_TABLECHECK_H
#define PW_TABLECHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "portada/deltalog.h"
#include "portada/table.h"

#define TC_LOAD_FILES 8

/* Entries in load file k, as h_write_load_files(paths, TC_LOAD_FILES, base, step) wrote. */
static inline unsigned long long
tc_expected_records(size_t i, unsigned base, unsigned step)
{
	return base + step * (unsigned)(i % TC_LOAD_FILES);
}

static inline uint64_t
tc_sum_expected(size_t n, unsigned base, unsigned step)
{
	uint64_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += tc_expected_records(i, base, step);
	return s;
}

/* A data file as the log adds it: there, of that size, PAR1 at both ends. */
static inline void
tc_check_data_file(const char *lake, const char *table, const char *path, uint64_t size)
{
	char full[PATH_MAX * 2], magic[4];
	struct stat st;
	FILE *f;

	snprintf(full, sizeof full, "%s/%s/%s", lake, table, path);
	ck_assert_msg(stat(full, &st) == 0, "the log adds %s, which is not there", full);
	ck_assert_msg((uint64_t)st.st_size == size, "%s: %lld bytes, the log says %" PRIu64,
	    full, (long long)st.st_size, size);
	f = fopen(full, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert(fread(magic, 1, 4, f) == 4 && memcmp(magic, "PAR1", 4) == 0);
	ck_assert(fseek(f, -4, SEEK_END) == 0 && fread(magic, 1, 4, f) == 4 &&
	    memcmp(magic, "PAR1", 4) == 0);
	fclose(f);
}

/* What a table holds, as tc_check_table() read it. */
struct tc_view {
	uint64_t versions;	/* newest version */
	uint64_t rows;		/* sum of numRecords over the adds */
	uint64_t adds;
	size_t metadata;	/* commits with a metaData action */
};

/*
 * Replay <lake>/<table>: versions 0..max all present and no checkpoint,
 * every id in exactly one commit with its records, its hash done in that
 * version of that table, every data file the log adds whole.
 */
static inline void
tc_check_table(const char *lake, const char *table, char **ids, size_t n, unsigned base,
    unsigned step, struct tc_view *view)
{
	char logdir[PATH_MAX], ver[32];
	struct h_map *map = h_map_new(ids, n);
	unsigned *seen = calloc(n, sizeof *seen);
	uint64_t *at = calloc(n, sizeof *at);
	struct pw_table_log tl;
	struct pw_error err;
	size_t bad = 0;

	ck_assert_ptr_nonnull(seen);
	ck_assert_ptr_nonnull(at);
	memset(view, 0, sizeof *view);
	snprintf(logdir, sizeof logdir, "%s/%s/_delta_log", lake, table);
	ck_assert_msg(pw_table_log_scan(logdir, &tl, &err) == 0, "%s", err.msg);
	ck_assert(tl.any && tl.has_zero && !tl.checkpoint);
	view->versions = tl.max;
	for (uint64_t v = 0; v <= tl.max; v++) {
		struct pw_delta_commit c;
		bool missing;

		ck_assert_msg(pw_table_log_read(logdir, v, &c, &missing, NULL, &err) == 0,
		    "version %" PRIu64 ": %s", v, err.msg);
		ck_assert_msg(!missing, "version %" PRIu64 " of %" PRIu64 " is missing", v, tl.max);
		view->metadata += c.has_metadata;
		for (size_t i = 0; i < c.nadd; i++) {
			ck_assert_msg(c.add_records[i] >= 0, "an add without numRecords");
			view->rows += (uint64_t)c.add_records[i];
			view->adds++;
			tc_check_data_file(lake, table, c.add_paths[i], c.add_sizes[i]);
		}
		for (size_t i = 0; i < c.nsource_ids; i++) {
			long k = h_map_get(map, c.source_ids[i], strlen(c.source_ids[i]));

			ck_assert_msg(k >= 0, "version %" PRIu64 " lists unknown id %s", v,
			    c.source_ids[i]);
			seen[k]++;
			at[k] = v;
			ck_assert_msg(c.source_records[i] == (int64_t)tc_expected_records((size_t)k,
			    base, step), "%s: %" PRId64 " records in the commit", ids[k],
			    c.source_records[i]);
		}
		pw_delta_commit_finish(&c);
	}
	for (size_t i = 0; i < n; i++) {
		char *st = h_hget(ids[i], "status"), *dv = h_hget(ids[i], "delta_version");
		char *dt = h_hget(ids[i], "delta_table");

		snprintf(ver, sizeof ver, "%" PRIu64, at[i]);
		if ((seen[i] != 1 || st == NULL || strcmp(st, "2") != 0 || dv == NULL ||
		    strcmp(dv, ver) != 0 || dt == NULL || strcmp(dt, table) != 0) && bad++ < 5)
			fprintf(stderr, "%s: in %u commit(s) (last %s), status %s, delta_table %s, "
			    "delta_version %s\n", ids[i], seen[i], ver, st ? st : "(nil)",
			    dt ? dt : "(nil)", dv ? dv : "(nil)");
		free(st);
		free(dv);
		free(dt);
	}
	ck_assert_msg(bad == 0, "%zu id(s) not committed exactly once with their status", bad);
	h_map_free(map);
	free(seen);
	free(at);
}

#endif
