/*
 * A libFuzzer target for the Delta log reader (src/deltalog.c).  Each
 * input is one version file of _delta_log/, parsed by
 * pw_delta_commit_parse() as the worker reads its tables; then what the
 * worker does with a parsed commit is done with it: the writable check, the
 * table spec's columns fitted to the schema (both built-in specs) and, if
 * columns were added, the metaData that adds them.  Each line of the input
 * is also classified as a _delta_log/ entry name (pw_delta_log_name_parse:
 * commits, checkpoints, multi-part and v2 checkpoints, _last_checkpoint;
 * the worker parses no checkpoint contents: it refuses a log that starts
 * after one).
 *
 * Oracles, beyond "no crash, no sanitizer report, no leak":
 *  - a refused file leaves the commit empty;
 *  - a parsed schema that can be written reads back as the same columns;
 *  - a schema merge that adds nothing gives the table's columns; one that
 *    adds columns gives a metaData line that parses, has the merged
 *    columns and the old id, format, partitions and configuration, and
 *    that the spec then fits without change;
 *  - the commit written again from what was parsed (txn, add with its
 *    decoded path and size, commitInfo with the source ids, their record
 *    counts, txnId and timestamp) parses back to the same values, and an
 *    add the writer refuses leaves its buffer unchanged;
 *  - a path that decodes survives encode and decode;
 *  - a name classified as a version, checkpoint or checkpoint part is the
 *    name pw_delta_version_name() and the format give for its numbers.
 * fuzz_deltalog_replay runs tests/fuzz/corpus/deltalog as the unit test
 * 'fuzz-deltalog-corpus'.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "portada/buf.h"
#include "portada/deltalog.h"
#include "portada/tablespec.h"

static struct pw_delta_field *spec_fields[2];
static size_t spec_nfields[2];

static void
load_specs(void)
{
	struct pw_table_spec spec;
	struct pw_error err;

	for (int k = 0; k < 2; k++) {
		const char *text = pw_table_spec_default((enum pw_file_kind)k);

		if (pw_table_spec_parse(text, strlen(text), "built-in", &spec, &err) == -1)
			fz_fail("built-in spec: %s", err.msg);
		spec_nfields[k] = spec.ncolumns;
		spec_fields[k] = calloc(spec.ncolumns, sizeof *spec_fields[k]);
		if (spec_fields[k] == NULL)
			abort();
		for (size_t i = 0; i < spec.ncolumns; i++) {
			spec_fields[k][i].name = strdup(spec.columns[i].name);
			spec_fields[k][i].type = spec.columns[i].type;
			spec_fields[k][i].nullable = spec.columns[i].nullable;
		}
		pw_table_spec_finish(&spec);
	}
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
same_fields(const char *what, const struct pw_delta_field *a, size_t na,
    const struct pw_delta_field *b, size_t nb)
{
	if (na != nb)
		fz_fail("%s: %zu columns, expected %zu", what, nb, na);
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) != 0 || a[i].type != b[i].type ||
		    a[i].nullable != b[i].nullable || !same_str(a[i].metadata, b[i].metadata))
			fz_fail("%s: column %zu \"%s\" differs", what, i + 1, a[i].name);
}

static bool
is_empty(const struct pw_delta_commit *c)
{
	static const struct pw_delta_commit zero;

	return memcmp(c, &zero, sizeof zero) == 0;
}

/* A written schema reads back the same. */
static void
schema_roundtrip(const struct pw_delta_metadata *m)
{
	struct pw_delta_field *back;
	struct pw_error err;
	struct pw_buf b;
	size_t n;

	pw_buf_init(&b, SIZE_MAX / 4);
	if (pw_delta_schema_write(&b, m->fields, m->nfields, &err) == 0) {
		if (pw_delta_schema_parse((const char *)b.data, b.len, &back, &n, &err) == -1)
			fz_fail("a written schema does not parse: %s", err.msg);
		same_fields("schema written and read back", m->fields, m->nfields, back, n);
		pw_delta_fields_free(back, n);
	}
	pw_buf_finish(&b);
}

/* The worker's open_check(): fit a spec, write the metaData that adds columns. */
static void
fit_spec(const struct pw_delta_metadata *m, const struct pw_delta_field *spec, size_t nspec)
{
	struct pw_delta_field *merged, *again;
	size_t nmerged, nagain;
	bool changed;
	struct pw_delta_commit c;
	struct pw_error err;
	struct pw_buf b;

	if (pw_delta_schema_merge(m->fields, m->nfields, spec, nspec, &merged, &nmerged,
	    &changed, &err) == -1)
		return;
	if (!changed) {
		same_fields("an unchanged merge", m->fields, m->nfields, merged, nmerged);
		pw_delta_fields_free(merged, nmerged);
		return;
	}
	if (nmerged <= m->nfields)
		fz_fail("a merge that adds columns has %zu, the table %zu", nmerged, m->nfields);
	same_fields("the table's part of a merge", m->fields, m->nfields, merged, m->nfields);
	pw_buf_init(&b, SIZE_MAX / 4);
	if (pw_delta_append_metadata_update(&b, m, merged, nmerged, &err) == 0) {
		if (pw_delta_commit_parse((const char *)b.data, b.len, &c, &err) == -1)
			fz_fail("the metaData adding columns does not parse: %s", err.msg);
		if (!c.has_metadata || c.has_protocol || c.nadd > 0 || c.has_commit_info)
			fz_fail("the metaData adding columns holds other actions");
		same_fields("the metaData adding columns", merged, nmerged, c.metadata.fields,
		    c.metadata.nfields);
		if (!same_str(m->id, c.metadata.id) || !same_str(m->provider, c.metadata.provider) ||
		    m->npartition_columns != c.metadata.npartition_columns ||
		    m->nconfig != c.metadata.nconfig)
			fz_fail("the metaData adding columns changed the table's settings");
		for (size_t i = 0; i < m->nconfig; i++)
			if (!same_str(m->config[i].key, c.metadata.config[i].key) ||
			    !same_str(m->config[i].value, c.metadata.config[i].value))
				fz_fail("the metaData adding columns changed configuration %zu", i);
		if (pw_delta_schema_merge(c.metadata.fields, c.metadata.nfields, spec, nspec,
		    &again, &nagain, &changed, &err) == -1)
			fz_fail("the spec no longer fits after its columns were added: %s", err.msg);
		if (changed)
			fz_fail("the spec adds columns twice");
		pw_delta_fields_free(again, nagain);
		pw_delta_commit_finish(&c);
	}
	pw_buf_finish(&b);
	pw_delta_fields_free(merged, nmerged);
}

/* Encode and decode a path that decodes. */
static char *
path_roundtrip(const char *path)
{
	struct pw_error err;
	char *dec, *enc, *back;

	if ((dec = pw_delta_path_decode(path, &err)) == NULL)
		return NULL;
	enc = pw_delta_path_encode(dec);
	if ((back = pw_delta_path_decode(enc, &err)) == NULL || strcmp(back, dec) != 0)
		fz_fail("path \"%s\" does not survive encode and decode", path);
	free(enc);
	free(back);
	return dec;
}

/* Write the commit again from what was parsed; it must read back the same. */
static void
rewrite(const struct pw_delta_commit *c)
{
	struct pw_delta_commit_info ci;
	struct pw_delta_commit back;
	struct pw_error err;
	struct pw_buf b;
	char **enc = calloc(c->nadd + 1, sizeof *enc);
	uint64_t *sizes = calloc(c->nadd + 1, sizeof *sizes);
	uint64_t *recs = NULL;
	size_t nadd = 0;
	bool all_known = c->nsource_ids > 0;

	if (enc == NULL || sizes == NULL)
		abort();
	pw_buf_init(&b, SIZE_MAX / 4);
	for (size_t i = 0; i < c->ntxns; i++)
		if (pw_delta_append_txn(&b, c->txns[i].app_id, c->txns[i].version, 0, &err) == -1)
			fz_fail("a parsed txn cannot be written: %s", err.msg);
	for (size_t i = 0; i < c->nadd; i++) {
		char *dec = path_roundtrip(c->add_paths[i]);
		struct pw_delta_add add = { .path = dec, .size = c->add_sizes[i] };
		size_t before = b.len;

		if (dec == NULL)
			continue;
		if (pw_delta_append_add(&b, &add, &err) == -1) {
			if (b.len != before)
				fz_fail("a refused add changed the buffer");
		} else {
			enc[nadd] = pw_delta_path_encode(dec);
			sizes[nadd++] = c->add_sizes[i];
		}
		free(dec);
	}
	for (size_t i = 0; i < c->nremove; i++)
		free(path_roundtrip(c->remove_paths[i]));
	memset(&ci, 0, sizeof ci);
	ci.timestamp_ms = c->timestamp_ms;
	ci.version = "fuzz";
	ci.source_ids = (const char *const *)c->source_ids;
	ci.nsource_ids = c->nsource_ids;
	ci.txn_id = c->txn_id;
	for (size_t i = 0; i < c->nsource_ids; i++)
		if (c->source_records[i] < 0)
			all_known = false;
	if (all_known) {
		recs = calloc(c->nsource_ids, sizeof *recs);
		if (recs == NULL)
			abort();
		for (size_t i = 0; i < c->nsource_ids; i++)
			recs[i] = (uint64_t)c->source_records[i];
		ci.source_records = recs;
	}
	if (pw_delta_append_commit_info(&b, &ci, &err) == -1)
		fz_fail("a parsed commitInfo cannot be written: %s", err.msg);

	if (pw_delta_commit_parse((const char *)b.data, b.len, &back, &err) == -1)
		fz_fail("a commit written from a parsed one does not parse: %s", err.msg);
	if (back.ntxns != c->ntxns || back.nadd != nadd || back.nsource_ids != c->nsource_ids ||
	    !back.has_commit_info || !same_str(back.txn_id, c->txn_id) ||
	    back.timestamp_ms != c->timestamp_ms || !same_str(back.operation, "WRITE"))
		fz_fail("a rewritten commit reads back differently");
	for (size_t i = 0; i < c->ntxns; i++)
		if (strcmp(back.txns[i].app_id, c->txns[i].app_id) != 0 ||
		    back.txns[i].version != c->txns[i].version)
			fz_fail("rewritten txn %zu differs", i + 1);
	for (size_t i = 0; i < nadd; i++)
		if (strcmp(back.add_paths[i], enc[i]) != 0 || back.add_sizes[i] != sizes[i] ||
		    back.add_records[i] != -1)
			fz_fail("rewritten add %zu differs", i + 1);
	for (size_t i = 0; i < c->nsource_ids; i++) {
		int64_t want = recs != NULL ? (int64_t)recs[i] : -1;

		if (strcmp(back.source_ids[i], c->source_ids[i]) != 0 ||
		    back.source_records[i] != want)
			fz_fail("rewritten source id %zu differs", i + 1);
	}
	pw_delta_commit_finish(&back);
	for (size_t i = 0; i < nadd; i++)
		free(enc[i]);
	free(enc);
	free(sizes);
	free(recs);
	pw_buf_finish(&b);
}

static void
check_name(const char *name)
{
	struct pw_delta_log_name ln;
	char want[PW_DELTA_VERSION_NAME_SIZE + 64];

	switch (pw_delta_log_name_parse(name, &ln)) {
	case PW_DELTA_LOG_COMMIT:
		pw_delta_version_name(ln.version, want);
		break;
	case PW_DELTA_LOG_CHECKPOINT:
		snprintf(want, sizeof want, "%020" PRIu64 ".checkpoint.parquet", ln.version);
		break;
	case PW_DELTA_LOG_CHECKPOINT_PART:
		if (ln.part < 1 || ln.part > ln.parts)
			fz_fail("\"%s\": part %u of %u", name, ln.part, ln.parts);
		snprintf(want, sizeof want, "%020" PRIu64 ".checkpoint.%010u.%010u.parquet",
		    ln.version, ln.part, ln.parts);
		break;
	case PW_DELTA_LOG_CHECKPOINT_V2:
		snprintf(want, sizeof want, "%020" PRIu64 ".checkpoint.", ln.version);
		if (strncmp(name, want, strlen(want)) != 0 || ln.version > PW_DELTA_VERSION_MAX)
			fz_fail("\"%s\" is not a v2 checkpoint of version %" PRIu64, name,
			    ln.version);
		return;
	case PW_DELTA_LOG_LAST_CHECKPOINT:
		if (strcmp(name, "_last_checkpoint") != 0)
			fz_fail("\"%s\" taken for _last_checkpoint", name);
		return;
	default:
		return;
	}
	if (strcmp(name, want) != 0 || ln.version > PW_DELTA_VERSION_MAX)
		fz_fail("\"%s\" classified as \"%s\"", name, want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_delta_commit c;
	struct pw_error err;
	char *line;
	size_t start = 0;

	if (spec_fields[0] == NULL)
		load_specs();

	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		line = malloc(i - start + 1);
		if (line == NULL)
			abort();
		memcpy(line, data + start, i - start);
		line[i - start] = '\0';
		check_name(line);
		free(line);
		start = i + 1;
	}

	if (pw_delta_commit_parse((const char *)data, size, &c, &err) == -1) {
		if (!is_empty(&c))
			fz_fail("a refused commit is not left empty: %s", err.msg);
		return 0;
	}
	if (c.nsource_ids > 0 && c.source_records == NULL)
		fz_fail("source ids without record counts");
	for (size_t i = 0; i < c.nadd; i++)
		if (c.add_records[i] < -1)
			fz_fail("add %zu: numRecords %" PRId64, i + 1, c.add_records[i]);
	if (c.has_metadata) {
		schema_roundtrip(&c.metadata);
		/* any answer will do, as long as it comes without a crash */
		if (c.has_protocol && pw_delta_check_writable(&c.protocol, &c.metadata, &err) == -1 &&
		    err.msg[0] == '\0')
			fz_fail("refused as not writable without a reason");
		fit_spec(&c.metadata, spec_fields[0], spec_nfields[0]);
		fit_spec(&c.metadata, spec_fields[1], spec_nfields[1]);
	}
	rewrite(&c);
	pw_delta_commit_finish(&c);
	return 0;
}
