/*
 * Writes real tables with src/table.c for delta-check to read back: a
 * ship_entries table from the default spec (three uploads in two commits,
 * one by a second writer racing the first, then a commit that nothing
 * else follows), and a known_entities table with lists of voices.  Prints
 * the expectations delta-check's --expect takes, one file per table.
 *   write_tables <lake-dir>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/rows.h"
#include "portada/store.h"
#include "portada/table.h"
#include "../common/tablesync.h"

static struct event_base *base;
static struct pw_store *st;

static void
die(const char *what, const struct pw_error *err)
{
	fprintf(stderr, "write_tables: %s: %s\n", what, err->msg);
	exit(1);
}

static void
spec(enum pw_file_kind kind, struct pw_table_spec *s)
{
	const char *text = pw_table_spec_default(kind);
	struct pw_error err;

	if (pw_table_spec_parse(text, strlen(text), "default", s, &err) == -1)
		die("spec", &err);
}

static const char *const structured[] = {
	"{\"ship_name\": {\"original_value\": \"Rosa\", \"calculated_value\": \"Rosa B.\"}, "
	"\"publication_date\": {\"original_value\": \"-3781468800000\"}, "
	"\"ship_tons_capacity\": {\"calculated_value\": 120}, "
	"\"cargo_list\": {\"original_value\": [{\"cargo\": \"vino\"}]}}",
	"{\"ship_name\": {\"original_value\": \"\"}, \"master_name\": \"José\", "
	"\"publication_date\": \"not a date\"}",
};
static const char *const flat[] = {
	"{\"ship_name\": \"Élan\", \"publication_date\": \"1861-01-03\", \"forced_arrival\": true, "
	"\"quarantine\": null}",
	"{\"ship_name\": \"Neptuno\", \"publication_date\": \"1861-01-04\", \"obs\": 3.5}",
	"{\"ship_name\": \"Ñandú\", \"publication_date\": \"1861-02-30\"}",
};

static struct pw_table_file *
entry_file(struct pw_table *t, struct pw_row_builder *b, const char *id,
    const char *const *recs, size_t n)
{
	struct pw_row_meta m = { id, "alice", "upload.json", NULL, 1700000000123456 };
	struct pw_error err;
	struct pw_table_file *f = pw_table_file_create(t, NULL, &err);
	struct pw_jtree *tree = pw_jtree_create(0);
	struct pw_jtree_error je;

	if (f == NULL)
		die("create", &err);
	for (size_t i = 0; i < n; i++) {
		const struct pw_jval *r = pw_jtree_parse(tree, recs[i], strlen(recs[i]), &je);

		if (r == NULL || pw_table_file_write(f, pw_row_entry(b, &m, i, r, recs[i],
		    strlen(recs[i])), &err) == -1)
			die("write", &err);
	}
	pw_jtree_destroy(tree);
	if (ts_finish(base, f, &err) == -1)
		die("finish", &err);
	return f;
}

int
main(int argc, char **argv)
{
	struct pw_table_spec es, ks;
	struct pw_table *a, *b, *k;
	struct pw_row_builder *rb;
	struct pw_table_file *files[2];
	struct pw_error err;
	uint64_t v;
	char path[512];
	FILE *fp;

	if (argc != 2) {
		fprintf(stderr, "usage: write_tables <lake-dir>\n");
		return 2;
	}
	base = event_base_new();
	if ((st = pw_store_open(base, NULL, argv[1], NULL, &err)) == NULL)
		die("store", &err);
	spec(PW_FILE_ENTRY, &es);
	spec(PW_FILE_ENTITY, &ks);
	if ((a = ts_open(base, st, &es, "test", &err)) == NULL ||
	    (b = ts_open(base, st, &es, "test", &err)) == NULL)
		die("open", &err);
	rb = pw_row_builder_create(&es);

	/* Writer a commits two uploads; writer b, still at version 0, then
	 * commits a third and must land on version 2. */
	files[0] = entry_file(a, rb, "up-1", structured, 2);
	files[1] = entry_file(a, rb, "up-2", flat, 3);
	if (ts_commit(base, a, files, 2, (const char *[]){ "up-1", "up-2" }, NULL, 2, &v, &err) == -1)
		die("commit a", &err);
	pw_table_file_destroy(files[0]);
	pw_table_file_destroy(files[1]);
	files[0] = entry_file(b, rb, "up-3", flat, 1);
	if (ts_commit(base, b, files, 1, (const char *[]){ "up-3" }, NULL, 1, &v, &err) == -1)
		die("commit b", &err);
	if (v != 2) {
		fprintf(stderr, "write_tables: second writer got version %llu, not 2\n",
		    (unsigned long long)v);
		return 1;
	}
	pw_table_file_destroy(files[0]);
	pw_row_builder_destroy(rb);
	pw_table_close(a);
	pw_table_close(b);

	/* known_entities: lists with an empty one. */
	if ((k = ts_open(base, st, &ks, "test", &err)) == NULL)
		die("open entities", &err);
	rb = pw_row_builder_create(&ks);
	{
		struct pw_row_meta m = { "ent-1", "bob", "ports.json", "port", 1700000000000000 };
		struct pw_pq_str v1[] = { { "BARNA", 5 }, { "Barna.", 6 } };
		struct pw_table_file *f = pw_table_file_create(k, NULL, &err);

		if (f == NULL ||
		    pw_table_file_write(f, pw_row_entity(rb, &m, 0, "Barcelona", 9, v1, 2), &err) ||
		    pw_table_file_write(f, pw_row_entity(rb, &m, 1, "Cádiz", 6, NULL, 0), &err) ||
		    ts_finish(base, f, &err) ||
		    ts_commit(base, k, &f, 1, (const char *[]){ "ent-1" }, NULL, 1, &v, &err))
			die("entities", &err);
		pw_table_file_destroy(f);
	}
	pw_row_builder_destroy(rb);
	pw_table_close(k);

	snprintf(path, sizeof path, "%s/ship_entries.expect.json", argv[1]);
	if ((fp = fopen(path, "w")) == NULL)
		return 1;
	fprintf(fp, "{\"rows\": 6, \"sourceIds\": [\"up-1\", \"up-2\", \"up-3\"], "
	    "\"distinct\": {\"file_id\": 3}, \"rowsBySource\": {\"up-1\": 2, \"up-2\": 3, "
	    "\"up-3\": 1}}\n");
	fclose(fp);
	snprintf(path, sizeof path, "%s/known_entities.expect.json", argv[1]);
	if ((fp = fopen(path, "w")) == NULL)
		return 1;
	fprintf(fp, "{\"rows\": 2, \"sourceIds\": [\"ent-1\"], \"rowsBySource\": "
	    "{\"ent-1\": 2}}\n");
	fclose(fp);
	pw_table_spec_finish(&es);
	pw_table_spec_finish(&ks);
	pw_store_close(st);
	event_base_free(base);
	return 0;
}
