/*
 * Tests for src/deltalog.c: the schemaString both ways, schema merging,
 * every action written byte for byte as Spark writes it, file statistics
 * for each type (timestamp rounding, infinities, dates out of range, cut
 * strings), URI-encoded paths, commits read back (real log lines written
 * by Spark, Databricks and delta-rs, and our own), the writable check's
 * refusals, and the names of files in _delta_log/.
 */
#include <check.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/buf.h"
#include "portada/deltalog.h"

static struct pw_buf b;
static struct pw_error err;
static struct pw_delta_commit commit;

static void
setup(void)
{
	pw_buf_init(&b, 1 << 20);
	memset(&err, 0, sizeof err);
	memset(&commit, 0, sizeof commit);
}

static void
teardown(void)
{
	pw_buf_finish(&b);
	pw_delta_commit_finish(&commit);
}

/* The buffer as a C string (it holds no NUL). */
static const char *
text(void)
{
	ck_assert_int_eq(pw_buf_append_byte(&b, 0), 0);
	b.len--;
	return (const char *)b.data;
}

static void
parse_ok(const char *log)
{
	pw_delta_commit_finish(&commit);
	memset(&err, 0, sizeof err);
	ck_assert_msg(pw_delta_commit_parse(log, strlen(log), &commit, &err) == 0,
	    "parse failed: %s", err.msg);
}

static void
parse_fails(const char *log, const char *want)
{
	pw_delta_commit_finish(&commit);
	memset(&err, 0, sizeof err);
	ck_assert_msg(pw_delta_commit_parse(log, strlen(log), &commit, &err) == -1,
	    "should fail with: %s", want);
	ck_assert_str_eq(err.msg, want);
	/* Nothing is left behind on failure. */
	ck_assert_ptr_null(commit.add_paths);
	ck_assert_ptr_null(commit.metadata.fields);
	ck_assert(!commit.has_protocol);
}

/* ---- real log lines --------------------------------------------------------
 * Copied byte for byte from public test tables (only the lines named are
 * kept).  Sources:
 *   fx_spark_covid      delta-io/delta-rs crates/test/tests/data/COVID-19_NYT/
 *                       _delta_log/00000000000000000000.json, lines 1-5 of 11
 *                       (Databricks 2021, Spark writer)
 *   fx_deltars          delta-io/delta-rs crates/test/tests/data/
 *                       python-0.25.5-checkpoint/_delta_log/00000000000000000000.json
 *                       (delta-rs 0.25.5; no final newline)
 *   fx_databricks_dv    delta-io/delta-rs crates/test/tests/data/table-with-dv-small/
 *                       _delta_log/00000000000000000000.json
 *   fx_spark_remove     delta-io/delta-rs crates/test/tests/data/simple_table/
 *                       _delta_log/00000000000000000003.json
 *   fx_databricks_v2cp  delta-io/delta-rs crates/test/tests/data/checkpoint-v2-table/
 *                       _delta_log/00000000000000000000.json
 *   fx_spark_cdf        delta-io/delta-rs crates/test/tests/data/cdf-table/
 *                       _delta_log/00000000000000000000.json, lines 1-4 of 13
 *                       (Apache-Spark/3.5.0 Delta-Lake/3.0.0)
 *   fx_spark_all_types  delta-io/delta connectors/golden-tables/src/main/resources/
 *                       golden/data-skipping-basic-stats-all-types/_delta_log/
 *                       00000000000000000000.json, lines 1-3 of 4
 *   fx_features         delta-io/delta-rs crates/test/tests/data/simple_table_features/
 *                       _delta_log/00000000000000000000.json, lines 1-4 of 9
 */
static const char fx_spark_covid[] =
	"{\"commitInfo\":{\"timestamp\":1619121487931,\"userId\":\"100599\",\"userName\":\"denny.lee@databricks.com\",\"operation\":\"WRITE\",\"operationParameters\":{\"mode\":\"ErrorIfExists\",\"partitionBy\":\"[]\"},\"notebook\":{\"notebookId\":\"9768013\"},\"clusterId\":\"0318-151752-abed99\",\"isolationLevel\":\"WriteSerializable\",\"isBlindAppend\":true,\"operationMetrics\":{\"numFiles\":\"8\",\"numOutputBytes\":\"6190485\",\"numOutputRows\":\"1111930\"}}}\n"
	"{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
	"{\"metaData\":{\"id\":\"7245fd1d-8a6d-4988-af72-92a95b646511\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"date\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"county\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"state\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"fips\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"cases\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"deaths\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1619121484605}}\n"
	"{\"add\":{\"path\":\"part-00000-a496f40c-e091-413a-85f9-b1b69d4b3b4e-c000.snappy.parquet\",\"partitionValues\":{},\"size\":690424,\"modificationTime\":1619121488000,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":157865,\\\"minValues\\\":{\\\"date\\\":\\\"2020-01-21\\\",\\\"county\\\":\\\"Abbeville\\\",\\\"state\\\":\\\"Alabama\\\",\\\"fips\\\":1001,\\\"cases\\\":0,\\\"deaths\\\":0},\\\"maxValues\\\":{\\\"date\\\":\\\"2020-05-19\\\",\\\"county\\\":\\\"Ziebach\\\",\\\"state\\\":\\\"Wyoming\\\",\\\"fips\\\":78030,\\\"cases\\\":198114,\\\"deaths\\\":20298},\\\"nullCount\\\":{\\\"date\\\":0,\\\"county\\\":0,\\\"state\\\":0,\\\"fips\\\":1746,\\\"cases\\\":0,\\\"deaths\\\":1065}}\"}}\n"
	"{\"add\":{\"path\":\"part-00001-9d9d980b-c500-4f0b-bb96-771a515fbccc-c000.snappy.parquet\",\"partitionValues\":{},\"size\":786636,\"modificationTime\":1619121488000,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":155494,\\\"minValues\\\":{\\\"date\\\":\\\"2020-05-19\\\",\\\"county\\\":\\\"Abbeville\\\",\\\"state\\\":\\\"Alabama\\\",\\\"fips\\\":1001,\\\"cases\\\":0,\\\"deaths\\\":0},\\\"maxValues\\\":{\\\"date\\\":\\\"2020-07-08\\\",\\\"county\\\":\\\"Ziebach\\\",\\\"state\\\":\\\"Wyoming\\\",\\\"fips\\\":78030,\\\"cases\\\":222156,\\\"deaths\\\":22690},\\\"nullCount\\\":{\\\"date\\\":0,\\\"county\\\":0,\\\"state\\\":0,\\\"fips\\\":1387,\\\"cases\\\":0,\\\"deaths\\\":3890}}\"}}\n";

static const char fx_deltars[] =
	"{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
	"{\"metaData\":{\"id\":\"5d650ad7-a5bc-41ef-942d-8cb1911e929f\",\"name\":null,\"description\":null,\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"createdTime\":1753290963616,\"configuration\":{}}}\n"
	"{\"add\":{\"path\":\"part-00001-4ad27870-ff0a-4fe5-b4c7-04cadfd628a9-c000.snappy.parquet\",\"partitionValues\":{},\"size\":514,\"modificationTime\":1753290963621,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":3,\\\"minValues\\\":{\\\"x\\\":1},\\\"maxValues\\\":{\\\"x\\\":3},\\\"nullCount\\\":{\\\"x\\\":0}}\",\"tags\":null,\"deletionVector\":null,\"baseRowId\":null,\"defaultRowCommitVersion\":null,\"clusteringProvider\":null}}\n"
	"{\"commitInfo\":{\"timestamp\":1753290963621,\"operation\":\"WRITE\",\"operationParameters\":{\"mode\":\"ErrorIfExists\"},\"operationMetrics\":{\"execution_time_ms\":4,\"num_added_files\":1,\"num_added_rows\":3,\"num_partitions\":0,\"num_removed_files\":0},\"clientVersion\":\"delta-rs.py-0.25.5\"}}";

static const char fx_databricks_dv[] =
	"{\"commitInfo\":{\"timestamp\":1677811178585,\"operation\":\"WRITE\",\"operationParameters\":{\"mode\":\"ErrorIfExists\",\"partitionBy\":\"[]\"},\"isolationLevel\":\"WriteSerializable\",\"isBlindAppend\":true,\"operationMetrics\":{\"numFiles\":\"1\",\"numOutputRows\":\"10\",\"numOutputBytes\":\"635\"},\"engineInfo\":\"Databricks-Runtime/<unknown>\",\"txnId\":\"a6a94671-55ef-450e-9546-b8465b9147de\"}}\n"
	"{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n"
	"{\"metaData\":{\"id\":\"testId\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"value\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"configuration\":{\"delta.enableDeletionVectors\":\"true\",\"delta.columnMapping.mode\":\"none\"},\"createdTime\":1677811175819}}\n"
	"{\"add\":{\"path\":\"part-00000-fae5310a-a37d-4e51-827b-c3d5516560ca-c000.snappy.parquet\",\"partitionValues\":{},\"size\":635,\"modificationTime\":1677811178336,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":10,\\\"minValues\\\":{\\\"value\\\":0},\\\"maxValues\\\":{\\\"value\\\":9},\\\"nullCount\\\":{\\\"value\\\":0},\\\"tightBounds\\\":true}\",\"tags\":{\"INSERTION_TIME\":\"1677811178336000\",\"MIN_INSERTION_TIME\":\"1677811178336000\",\"MAX_INSERTION_TIME\":\"1677811178336000\",\"OPTIMIZE_TARGET_SIZE\":\"268435456\"}}}\n";

static const char fx_spark_remove[] =
	"{\"commitInfo\":{\"timestamp\":1587968614187,\"operation\":\"UPDATE\",\"operationParameters\":{\"predicate\":\"((id#697L % cast(2 as bigint)) = cast(0 as bigint))\"},\"readVersion\":2,\"isBlindAppend\":false}}\n"
	"{\"remove\":{\"path\":\"part-00003-53f42606-6cda-4f13-8d07-599a21197296-c000.snappy.parquet\",\"deletionTimestamp\":1587968614096,\"dataChange\":true}}\n"
	"{\"remove\":{\"path\":\"part-00006-46f2ff20-eb5d-4dda-8498-7bfb2940713b-c000.snappy.parquet\",\"deletionTimestamp\":1587968614096,\"dataChange\":true}}\n"
	"{\"add\":{\"path\":\"part-00000-f17fcbf5-e0dc-40ba-adae-ce66d1fcaef6-c000.snappy.parquet\",\"partitionValues\":{},\"size\":429,\"modificationTime\":1587968614000,\"dataChange\":true}}\n"
	"{\"add\":{\"path\":\"part-00001-bb70d2ba-c196-4df2-9c85-f34969ad3aa9-c000.snappy.parquet\",\"partitionValues\":{},\"size\":429,\"modificationTime\":1587968614000,\"dataChange\":true}}\n";

static const char fx_databricks_v2cp[] =
	"{\"commitInfo\":{\"timestamp\":1754750593562,\"userId\":\"2238620221098138\",\"userName\":\"rtyler@scribd.com\",\"operation\":\"CREATE TABLE\",\"operationParameters\":{\"partitionBy\":\"[]\",\"clusterBy\":\"[]\",\"description\":null,\"isManaged\":\"true\",\"properties\":\"{\\\"delta.checkpoint.writeStatsAsStruct\\\":\\\"true\\\",\\\"delta.checkpointPolicy\\\":\\\"v2\\\"}\",\"statsOnLoad\":false},\"clusterId\":\"0809-144302-2lacpwpk-v2n\",\"isolationLevel\":\"WriteSerializable\",\"isBlindAppend\":true,\"operationMetrics\":{},\"tags\":{\"restoresDeletedRows\":\"false\"},\"engineInfo\":\"Databricks-Runtime/17.0.x-photon-scala2.13\",\"txnId\":\"39155116-641d-48a9-9c55-c1eeb0f2c796\"}}\n"
	"{\"metaData\":{\"id\":\"1060c65c-e4aa-4d98-80d7-3eb9bd52ee29\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{\\\"delta.identity.step\\\":1,\\\"delta.identity.allowExplicitInsert\\\":false,\\\"delta.identity.start\\\":1}},{\\\"name\\\":\\\"name\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"created_at\\\",\\\"type\\\":\\\"timestamp\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"configuration\":{\"delta.checkpoint.writeStatsAsStruct\":\"true\",\"delta.checkpointPolicy\":\"v2\"},\"createdTime\":1754750593201}}\n"
	"{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":[\"v2Checkpoint\"],\"writerFeatures\":[\"v2Checkpoint\",\"identityColumns\",\"appendOnly\",\"invariants\"]}}\n";

static const char fx_spark_cdf[] =
	"{\"commitInfo\":{\"timestamp\":1703265018828,\"operation\":\"WRITE\",\"operationParameters\":{\"mode\":\"Overwrite\",\"partitionBy\":\"[\\\"birthday\\\"]\"},\"isolationLevel\":\"Serializable\",\"isBlindAppend\":false,\"operationMetrics\":{\"numFiles\":\"10\",\"numOutputRows\":\"10\",\"numOutputBytes\":\"6897\"},\"engineInfo\":\"Apache-Spark/3.5.0 Delta-Lake/3.0.0\",\"txnId\":\"d05345ec-8304-433e-88ff-6498dc37ca19\"}}\n"
	"{\"metaData\":{\"id\":\"d38a7090-96be-4b1b-b20f-b85ad8ae1a38\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"name\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"birthday\\\",\\\"type\\\":\\\"date\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[\"birthday\"],\"configuration\":{\"delta.enableChangeDataFeed\":\"true\"},\"createdTime\":1703265016759}}\n"
	"{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":4}}\n"
	"{\"add\":{\"path\":\"birthday=2023-12-22/part-00000-592a7e14-f790-4236-9c61-120d006eb3b8.c000.snappy.parquet\",\"partitionValues\":{\"birthday\":\"2023-12-22\"},\"size\":694,\"modificationTime\":1703265018088,\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":1,\\\"minValues\\\":{\\\"id\\\":1,\\\"name\\\":\\\"Steve\\\"},\\\"maxValues\\\":{\\\"id\\\":1,\\\"name\\\":\\\"Steve\\\"},\\\"nullCount\\\":{\\\"id\\\":0,\\\"name\\\":0}}\"}}\n";

static const char fx_spark_all_types[] =
	"{\"commitInfo\":{\"timestamp\":1704475702408,\"operation\":\"WRITE\",\"operationParameters\":{\"mode\":\"Append\",\"partitionBy\":\"[]\"},\"isolationLevel\":\"Serializable\",\"isBlindAppend\":true,\"operationMetrics\":{\"numFiles\":\"2\",\"numOutputRows\":\"1\",\"numOutputBytes\":\"3865\"},\"engineInfo\":\"Apache-Spark/3.5.0 Delta-Lake/3.1.0-SNAPSHOT\",\"txnId\":\"ffd35cdc-1524-42e2-9aa4-9a2b8d51e37e\"}}\n"
	"{\"metaData\":{\"id\":\"testId\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"as_int\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_long\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_byte\\\",\\\"type\\\":\\\"byte\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_short\\\",\\\"type\\\":\\\"short\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_float\\\",\\\"type\\\":\\\"float\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_double\\\",\\\"type\\\":\\\"double\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_string\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_date\\\",\\\"type\\\":\\\"date\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_timestamp\\\",\\\"type\\\":\\\"timestamp\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"as_big_decimal\\\",\\\"type\\\":\\\"decimal(1,0)\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1704475701730}}\n"
	"{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n";

static const char fx_features[] =
	"{\"commitInfo\":{\"timestamp\":1587968586154,\"operation\":\"WRITE\",\"operationParameters\":{\"mode\":\"ErrorIfExists\",\"partitionBy\":\"[]\"},\"isBlindAppend\":true}}\n"
	"{\"protocol\":{\"minReaderVersion\":5,\"minWriterVersion\":7,\"readerFeatures\": [\"columnMapping\",\"blahabl\",\"deletionVectors\",\"timestampNtz\",\"v2Checkpoint\"],\"writerFeatures\": [\"appendOnly\",\"invariants\", \"checkConstraints\", \"changeDataFeed\",\"generatedColumns\",\"columnMapping\",\"identityColumns\",\"deletionVectors\",\"rowTracking\",\"timestampNtz\",\"domainMetadata\",\"v2Checkpoint\",\"icebergCompatV1\"]}}\n"
	"{\"metaData\":{\"id\":\"5fba94ed-9794-4965-ba6e-6ee3c0d22af9\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"configuration\":{},\"createdTime\":1587968585495}}\n"
	"{\"add\":{\"path\":\"part-00000-a72b1fb3-f2df-41fe-a8f0-e65b746382dd-c000.snappy.parquet\",\"partitionValues\":{},\"size\":262,\"modificationTime\":1587968586000,\"dataChange\":true}}\n";

/* ---- schema --------------------------------------------------------------- */

static const struct pw_delta_field all_types[] = {
	{ "name", PW_PQ_STRING, false, NULL },
	{ "n", PW_PQ_LONG, true, NULL },
	{ "small", PW_PQ_INTEGER, true, NULL },
	{ "day", PW_PQ_DATE, true, NULL },
	{ "at", PW_PQ_TIMESTAMP, true, NULL },
	{ "x", PW_PQ_DOUBLE, true, NULL },
	{ "ok", PW_PQ_BOOLEAN, true, NULL },
	{ "voices", PW_PQ_STRING_LIST, true, NULL },
};
#define NALL (sizeof all_types / sizeof all_types[0])

static const char all_types_schema[] =
	"{\"type\":\"struct\",\"fields\":["
	"{\"name\":\"name\",\"type\":\"string\",\"nullable\":false,\"metadata\":{}},"
	"{\"name\":\"n\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"small\",\"type\":\"integer\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"day\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"at\",\"type\":\"timestamp\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"x\",\"type\":\"double\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"ok\",\"type\":\"boolean\",\"nullable\":true,\"metadata\":{}},"
	"{\"name\":\"voices\",\"type\":{\"type\":\"array\",\"elementType\":\"string\","
	"\"containsNull\":true},\"nullable\":true,\"metadata\":{}}]}";

START_TEST(schema_write_all_types)
{
	struct pw_delta_field withmeta[2] = {
		{ "c", PW_PQ_STRING, true, "{\"comment\":\"a \\\"c\\\"\"}" },
		{ "d", PW_PQ_LONG, false, NULL },
	};

	ck_assert_int_eq(pw_delta_schema_write(&b, all_types, NALL, &err), 0);
	ck_assert_str_eq(text(), all_types_schema);

	/* Metadata is written back as it was read. */
	pw_buf_reset(&b);
	ck_assert_int_eq(pw_delta_schema_write(&b, withmeta, 2, &err), 0);
	ck_assert_str_eq(text(), "{\"type\":\"struct\",\"fields\":["
	    "{\"name\":\"c\",\"type\":\"string\",\"nullable\":true,"
	    "\"metadata\":{\"comment\":\"a \\\"c\\\"\"}},"
	    "{\"name\":\"d\",\"type\":\"long\",\"nullable\":false,\"metadata\":{}}]}");
}
END_TEST

static void
schema_write_fails(const struct pw_delta_field *f, size_t n, const char *want)
{
	pw_buf_reset(&b);
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(pw_delta_schema_write(&b, f, n, &err), -1);
	ck_assert_str_eq(err.msg, want);
	ck_assert_uint_eq(b.len, 0);
}

START_TEST(schema_write_refusals)
{
	struct pw_delta_field f[2] = {
		{ "Name", PW_PQ_STRING, true, NULL },
		{ "name", PW_PQ_STRING, true, NULL },
	};

	schema_write_fails(f, 0, "a Delta schema needs at least one column");
	schema_write_fails(f, 2, "columns \"Name\" and \"name\": Delta column names "
	    "must differ regardless of case");
	f[1].name = "a b";
	schema_write_fails(f, 2, "column \"a b\": Delta allows none of ' ,;{}()\\n\\t=' "
	    "in a column name without column mapping");
	f[1].name = "x=y";
	schema_write_fails(f, 2, "column \"x=y\": Delta allows none of ' ,;{}()\\n\\t=' "
	    "in a column name without column mapping");
	f[1].name = "\xff";
	schema_write_fails(f, 2, "the name of column 2 is not valid UTF-8");
	f[0].name = "";
	schema_write_fails(f, 1, "column 1 has an empty name");
}
END_TEST

START_TEST(schema_parse_round_trip)
{
	struct pw_delta_field *f;
	size_t n, i;

	ck_assert_int_eq(pw_delta_schema_parse(all_types_schema, strlen(all_types_schema),
	    &f, &n, &err), 0);
	ck_assert_uint_eq(n, NALL);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(f[i].name, all_types[i].name);
		ck_assert_int_eq(f[i].type, all_types[i].type);
		ck_assert_int_eq(f[i].nullable, all_types[i].nullable);
		ck_assert_ptr_null(f[i].metadata);	/* {} is kept as NULL */
	}
	ck_assert_int_eq(pw_delta_schema_write(&b, f, n, &err), 0);
	ck_assert_str_eq(text(), all_types_schema);
	pw_delta_fields_free(f, n);
}
END_TEST

START_TEST(schema_parse_keeps_metadata)
{
	static const char s[] = "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\","
	    "\"type\":\"long\",\"nullable\":true,\"metadata\":{\"delta.identity.step\":1,"
	    "\"comment\":\"é \\\"q\\\"\"}},{\"name\":\"ü\",\"type\":\"string\","
	    "\"nullable\":true}]}";
	struct pw_delta_field *f, *copy;
	size_t n;

	ck_assert_int_eq(pw_delta_schema_parse(s, strlen(s), &f, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(f[0].metadata, "{\"delta.identity.step\":1,\"comment\":\"é \\\"q\\\"\"}");
	ck_assert_str_eq(f[1].name, "ü");
	ck_assert_ptr_null(f[1].metadata);	/* no metadata at all: as {} */
	copy = pw_delta_fields_copy(f, n);
	ck_assert_str_eq(copy[0].metadata, f[0].metadata);
	ck_assert_ptr_ne(copy[0].metadata, f[0].metadata);
	pw_delta_fields_free(copy, n);
	pw_delta_fields_free(f, n);
	ck_assert_ptr_null(pw_delta_fields_copy(NULL, 0));
}
END_TEST

#define ONE_FIELD(type) "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":" \
	type ",\"nullable\":true,\"metadata\":{}}]}"

static const struct {
	const char *schema, *want;
} bad_schemas[] = {
	{ ONE_FIELD("\"decimal(10,2)\""),
	  "column \"a\" has type decimal(10,2), which portada-worker cannot write" },
	{ ONE_FIELD("\"byte\""), "column \"a\" has type byte, which portada-worker cannot write" },
	{ ONE_FIELD("\"short\""), "column \"a\" has type short, which portada-worker cannot write" },
	{ ONE_FIELD("\"float\""), "column \"a\" has type float, which portada-worker cannot write" },
	{ ONE_FIELD("\"binary\""), "column \"a\" has type binary, which portada-worker cannot write" },
	{ ONE_FIELD("\"timestamp_ntz\""),
	  "column \"a\" has type timestamp_ntz, which portada-worker cannot write" },
	{ ONE_FIELD("\"variant\""),
	  "column \"a\" has type variant, which portada-worker cannot write" },
	{ ONE_FIELD("\"void\""), "column \"a\" has type void, which portada-worker cannot write" },
	{ ONE_FIELD("\"interval\""), "column \"a\" has the unknown type \"interval\"" },
	{ ONE_FIELD("{\"type\":\"struct\",\"fields\":[]}"),
	  "column \"a\" is a nested struct, which portada-worker cannot write" },
	{ ONE_FIELD("{\"type\":\"map\",\"keyType\":\"string\",\"valueType\":\"string\","
	  "\"valueContainsNull\":true}"), "column \"a\" is a map, which portada-worker cannot write" },
	{ ONE_FIELD("{\"type\":\"array\",\"elementType\":\"integer\",\"containsNull\":true}"),
	  "column \"a\" is an array of integer; portada-worker writes arrays of strings only" },
	{ ONE_FIELD("{\"type\":\"array\",\"elementType\":{\"type\":\"struct\",\"fields\":[]},"
	  "\"containsNull\":true}"),
	  "column \"a\" is an array of struct; portada-worker writes arrays of strings only" },
	{ ONE_FIELD("{\"type\":\"array\",\"elementType\":\"string\",\"containsNull\":false}"),
	  "column \"a\" is an array of strings that may not hold null (containsNull false); "
	  "portada-worker writes arrays whose items may be null" },
	{ ONE_FIELD("{\"type\":\"array\",\"elementType\":\"string\"}"),
	  "column \"a\" is an array without a containsNull flag" },
	{ ONE_FIELD("{\"type\":\"udt\"}"), "column \"a\" has the unknown type \"udt\"" },
	{ ONE_FIELD("7"), "column \"a\" has a type that is neither a name nor an object "
	  "with a \"type\"" },
	{ "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\"}]}",
	  "column \"a\" has no nullable flag" },
	{ "{\"type\":\"struct\",\"fields\":[{\"type\":\"long\",\"nullable\":true}]}",
	  "schema field 1 has no name" },
	{ "{\"type\":\"struct\",\"fields\":[{\"name\":\"\",\"type\":\"long\",\"nullable\":true}]}",
	  "schema field 1 has no name" },
	{ "{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":\"long\",\"nullable\":true,"
	  "\"metadata\":[]}]}", "column \"a\" has metadata that is not an object" },
	{ "{\"type\":\"struct\",\"fields\":[{\"name\":\"Id\",\"type\":\"long\",\"nullable\":true},"
	  "{\"name\":\"id\",\"type\":\"long\",\"nullable\":true}]}",
	  "columns \"Id\" and \"id\": Delta column names must differ regardless of case" },
	{ "{\"type\":\"array\",\"fields\":[]}", "the schema is not a struct with an array of fields" },
	{ "{\"type\":\"struct\"}", "the schema is not a struct with an array of fields" },
	{ "[]", "the schema is not a struct with an array of fields" },
};

START_TEST(schema_parse_refusals)
{
	struct pw_delta_field *f = (struct pw_delta_field *)&f;
	size_t n = 99;

	ck_assert_int_eq(pw_delta_schema_parse(bad_schemas[_i].schema,
	    strlen(bad_schemas[_i].schema), &f, &n, &err), -1);
	ck_assert_str_eq(err.msg, bad_schemas[_i].want);
	ck_assert_ptr_null(f);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(schema_parse_invalid_json)
{
	struct pw_delta_field *f;
	size_t n;

	ck_assert_int_eq(pw_delta_schema_parse("{\"type\":", 8, &f, &n, &err), -1);
	ck_assert_msg(strncmp(err.msg, "invalid schema JSON at column ", 30) == 0, "%s", err.msg);
}
END_TEST

/* ---- merge ---------------------------------------------------------------- */

static const struct pw_delta_field table_cols[] = {
	{ "id", PW_PQ_STRING, false, "{\"comment\":\"the upload\"}" },
	{ "n", PW_PQ_LONG, true, NULL },
	{ "v", PW_PQ_STRING_LIST, true, NULL },
};

START_TEST(merge_same_and_reordered)
{
	struct pw_delta_field spec[] = {
		{ "v", PW_PQ_STRING_LIST, true, NULL },
		{ "id", PW_PQ_STRING, false, NULL },
		{ "n", PW_PQ_LONG, true, NULL },
	};
	struct pw_delta_field *m;
	size_t n;
	bool changed = true;

	ck_assert_int_eq(pw_delta_schema_merge(table_cols, 3, spec, 3, &m, &n, &changed,
	    &err), 0);
	ck_assert(!changed);
	ck_assert_uint_eq(n, 3);
	/* The table's order and metadata win. */
	ck_assert_str_eq(m[0].name, "id");
	ck_assert_str_eq(m[0].metadata, "{\"comment\":\"the upload\"}");
	ck_assert_str_eq(m[1].name, "n");
	ck_assert_str_eq(m[2].name, "v");
	pw_delta_fields_free(m, n);
}
END_TEST

START_TEST(merge_adds_and_leaves_out)
{
	struct pw_delta_field spec[] = {
		{ "new1", PW_PQ_DATE, true, NULL },
		{ "id", PW_PQ_STRING, false, NULL },
		{ "new2", PW_PQ_BOOLEAN, true, NULL },
		/* n and v are missing: nullable, so left to readers as null */
	};
	struct pw_delta_field *m;
	size_t n;
	bool changed = false;

	ck_assert_int_eq(pw_delta_schema_merge(table_cols, 3, spec, 3, &m, &n, &changed,
	    &err), 0);
	ck_assert(changed);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(m[0].name, "id");
	ck_assert_str_eq(m[1].name, "n");
	ck_assert_str_eq(m[2].name, "v");
	ck_assert_str_eq(m[3].name, "new1");
	ck_assert_int_eq(m[3].type, PW_PQ_DATE);
	ck_assert(m[3].nullable);
	ck_assert_str_eq(m[4].name, "new2");
	pw_delta_fields_free(m, n);

	/* An empty table schema takes the spec as it is. */
	ck_assert_int_eq(pw_delta_schema_merge(NULL, 0, table_cols, 2, &m, &n, &changed,
	    &err), -1);
	ck_assert_str_eq(err.msg, "new column \"id\" must be nullable: the table's existing "
	    "rows have no value for it");
	ck_assert_int_eq(pw_delta_schema_merge(NULL, 0, table_cols + 1, 2, &m, &n, &changed,
	    &err), 0);
	ck_assert(changed);
	ck_assert_uint_eq(n, 2);
	pw_delta_fields_free(m, n);
}
END_TEST

static void
merge_fails(const struct pw_delta_field *spec, size_t nspec, const char *want)
{
	struct pw_delta_field *m = (struct pw_delta_field *)&m;
	size_t n = 99;
	bool changed = true;

	memset(&err, 0, sizeof err);
	ck_assert_int_eq(pw_delta_schema_merge(table_cols, 3, spec, nspec, &m, &n, &changed,
	    &err), -1);
	ck_assert_str_eq(err.msg, want);
	ck_assert_ptr_null(m);
	ck_assert_uint_eq(n, 0);
	ck_assert(!changed);
}

START_TEST(merge_refusals)
{
	struct pw_delta_field spec[3] = {
		{ "id", PW_PQ_STRING, false, NULL },
		{ "n", PW_PQ_STRING, true, NULL },
		{ "v", PW_PQ_STRING_LIST, true, NULL },
	};

	merge_fails(spec, 3, "column \"n\" is long in the table but string in the spec");
	spec[1].type = PW_PQ_LONG;
	spec[2].type = PW_PQ_STRING;
	merge_fails(spec, 3, "column \"v\" is array<string> in the table but string in the spec");
	spec[2].type = PW_PQ_STRING_LIST;
	spec[1].nullable = false;
	merge_fails(spec, 3, "column \"n\" is nullable in the table but not in the spec "
	    "(a Delta column cannot become NOT NULL)");
	spec[1].nullable = true;
	spec[0].nullable = true;
	merge_fails(spec, 3, "column \"id\" is not nullable in the table but nullable in the spec");
	spec[0].nullable = false;
	merge_fails(spec + 1, 2, "column \"id\" is not nullable in the table but missing "
	    "from the spec");
	spec[1].name = "N";
	merge_fails(spec, 3, "column \"N\" is \"n\" in the table: names must match exactly");
	spec[1].name = "extra";
	spec[1].nullable = false;
	merge_fails(spec, 3, "new column \"extra\" must be nullable: the table's existing rows "
	    "have no value for it");
	spec[1].name = "ID";
	spec[1].nullable = true;
	merge_fails(spec, 3, "the spec's columns \"id\" and \"ID\" differ only in case");
}
END_TEST

/* ---- writing actions ------------------------------------------------------ */

START_TEST(protocol_line)
{
	ck_assert_int_eq(pw_delta_append_protocol(&b, &err), 0);
	ck_assert_str_eq(text(), "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n");
}
END_TEST

START_TEST(metadata_line)
{
	static const struct pw_delta_field x[] = { { "x", PW_PQ_LONG, true, NULL } };

	ck_assert_int_eq(pw_delta_append_metadata(&b, "5d650ad7-a5bc-41ef-942d-8cb1911e929f",
	    x, 1, 1753290963616, &err), 0);
	ck_assert_str_eq(text(), "{\"metaData\":{\"id\":\"5d650ad7-a5bc-41ef-942d-8cb1911e929f\","
	    "\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":"
	    "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":"
	    "\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],"
	    "\"configuration\":{},\"createdTime\":1753290963616}}\n");

	/* A bad schema writes nothing. */
	pw_buf_reset(&b);
	ck_assert_int_eq(pw_delta_append_metadata(&b, "id", x, 0, 0, &err), -1);
	ck_assert_str_eq(err.msg, "a Delta schema needs at least one column");
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(metadata_update_keeps_the_rest)
{
	static const char old[] = "{\"metaData\":{\"id\":\"abc\",\"name\":\"t\",\"format\":"
	    "{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":"
	    "\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"long\\\","
	    "\\\"nullable\\\":true,\\\"metadata\\\":{\\\"comment\\\":\\\"kept\\\"}}]}\","
	    "\"partitionColumns\":[],\"configuration\":{\"delta.appendOnly\":\"true\"},"
	    "\"createdTime\":1700000000000}}\n";
	static const struct pw_delta_field spec[] = {
		{ "x", PW_PQ_LONG, true, NULL },
		{ "note", PW_PQ_STRING, true, NULL },
	};
	struct pw_delta_field *m;
	size_t n;
	bool changed;

	parse_ok(old);
	ck_assert_int_eq(pw_delta_schema_merge(commit.metadata.fields, commit.metadata.nfields,
	    spec, 2, &m, &n, &changed, &err), 0);
	ck_assert(changed);
	ck_assert_int_eq(pw_delta_append_metadata_update(&b, &commit.metadata, m, n, &err), 0);
	pw_delta_fields_free(m, n);
	ck_assert_str_eq(text(), "{\"metaData\":{\"id\":\"abc\",\"name\":\"t\",\"format\":"
	    "{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":"
	    "\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"long\\\","
	    "\\\"nullable\\\":true,\\\"metadata\\\":{\\\"comment\\\":\\\"kept\\\"}},"
	    "{\\\"name\\\":\\\"note\\\",\\\"type\\\":\\\"string\\\",\\\"nullable\\\":true,"
	    "\\\"metadata\\\":{}}]}\",\"partitionColumns\":[],\"configuration\":"
	    "{\"delta.appendOnly\":\"true\"},\"createdTime\":1700000000000}}\n");
}
END_TEST

START_TEST(txn_line)
{
	ck_assert_int_eq(pw_delta_append_txn(&b, "portada-worker \"w1\"", 42, 1700000000000, &err), 0);
	ck_assert_str_eq(text(), "{\"txn\":{\"appId\":\"portada-worker \\\"w1\\\"\",\"version\":42,"
	    "\"lastUpdated\":1700000000000}}\n");
	pw_buf_reset(&b);
	ck_assert_int_eq(pw_delta_append_txn(&b, "\xc3", 1, 1, &err), -1);
	ck_assert_str_eq(err.msg, "the txn appId is not valid UTF-8");
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(commit_info_line)
{
	const char *ids[] = {
		"1700000000000-0",
		"q\"b\\s/n\nt\tc\x01" "d\x1f" "e\x7f" "é€😀",
	};
	struct pw_delta_commit_info ci = {
		.timestamp_ms = 1700000000123, .version = "0.1.0",
		.source_ids = ids, .nsource_ids = 2,
		.txn_id = "a6a94671-55ef-450e-9546-b8465b9147de",
	};

	ck_assert_int_eq(pw_delta_append_commit_info(&b, &ci, &err), 0);
	ck_assert_str_eq(text(), "{\"commitInfo\":{\"timestamp\":1700000000123,\"operation\":"
	    "\"WRITE\",\"operationParameters\":{\"mode\":\"Append\"},\"isBlindAppend\":true,"
	    "\"engineInfo\":\"portada-worker/0.1.0\",\"txnId\":"
	    "\"a6a94671-55ef-450e-9546-b8465b9147de\",\"portadaSourceIds\":[\"1700000000000-0\","
	    "\"q\\\"b\\\\s/n\\nt\\tc\\u0001d\\u001f" "e\x7f" "é€😀\"]}}\n");

	/* What we write, jansson reads back to the same ids. */
	{
		json_t *v = json_loads(text(), 0, NULL);
		json_t *a = json_object_get(json_object_get(v, "commitInfo"), "portadaSourceIds");

		ck_assert_ptr_nonnull(v);
		ck_assert_str_eq(json_string_value(json_array_get(a, 1)), ids[1]);
		json_decref(v);
	}

	pw_buf_reset(&b);
	ci.txn_id = NULL;
	ci.nsource_ids = 0;
	ck_assert_int_eq(pw_delta_append_commit_info(&b, &ci, &err), 0);
	ck_assert_str_eq(text(), "{\"commitInfo\":{\"timestamp\":1700000000123,\"operation\":"
	    "\"WRITE\",\"operationParameters\":{\"mode\":\"Append\"},\"isBlindAppend\":true,"
	    "\"engineInfo\":\"portada-worker/0.1.0\",\"portadaSourceIds\":[]}}\n");

	pw_buf_reset(&b);
	ids[1] = "ok\xe2\x82";
	ci.nsource_ids = 2;
	ck_assert_int_eq(pw_delta_append_commit_info(&b, &ci, &err), -1);
	ck_assert_str_eq(err.msg, "source id 2 of the commit is not valid UTF-8");
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(size_limit_leaves_buffer_alone)
{
	static const struct pw_delta_field x[] = { { "x", PW_PQ_LONG, true, NULL } };
	struct pw_buf small;

	pw_buf_init(&small, 100);
	ck_assert_int_eq(pw_delta_append_protocol(&small, &err), 0);
	ck_assert_uint_eq(small.len, 57);
	ck_assert_int_eq(pw_delta_append_protocol(&small, &err), -1);
	ck_assert_str_eq(err.msg, "the Delta commit would pass its size limit of 100 bytes");
	ck_assert_uint_eq(small.len, 57);
	ck_assert_int_eq(pw_delta_append_metadata(&small, "id", x, 1, 0, &err), -1);
	ck_assert_uint_eq(small.len, 57);
	ck_assert_int_eq(pw_delta_append_txn(&small, "app-with-a-long-name", 1, 1, &err), -1);
	ck_assert_uint_eq(small.len, 57);
	ck_assert_int_eq(memcmp(small.data, "{\"protocol\":{\"minReaderVersion\":1,"
	    "\"minWriterVersion\":2}}\n", 57), 0);
	pw_buf_finish(&small);
}
END_TEST

/* ---- stats ---------------------------------------------------------------- */

static struct pw_pq_col_stats cs[NALL];
static struct pw_pq_file_stats fs;

static void
stats_setup(void)
{
	setup();
	memset(cs, 0, sizeof cs);
	fs.num_rows = 10;
	fs.file_bytes = 1234;
	fs.ncolumns = NALL;
	fs.columns = cs;
}

static struct pw_pq_str
str(const char *s)
{
	struct pw_pq_str v = { s, strlen(s) };

	return v;
}

static void
set_all_types(void)
{
	for (size_t i = 0; i < NALL; i++) {
		cs[i].null_count = i;
		cs[i].has_min_max = cs[i].min_exact = cs[i].max_exact = true;
	}
	cs[0].min_s = str("Abbeville");
	cs[0].max_s = str("Ziebach");
	cs[1].min.i = -5;
	cs[1].max.i = 9007199254740993;		/* 2^53 + 1: no double in between */
	cs[2].min.i = INT32_MIN;
	cs[2].max.i = INT32_MAX;
	cs[3].min.i = -719162;			/* 0001-01-01 */
	cs[3].max.i = 2932896;			/* 9999-12-31 */
	cs[4].min.i = 1000500;			/* 1970-01-01T00:00:01.000500 */
	cs[4].max.i = 1000500;
	cs[5].min.d = -0.0;
	cs[5].max.d = 0.1;
	cs[6].min.b = false;
	cs[6].max.b = true;
	cs[7].min_s = str("a");
	cs[7].max_s = str("b");
}

static const char all_types_stats[] =
	"{\"numRecords\":10,"
	"\"minValues\":{\"name\":\"Abbeville\",\"n\":-5,\"small\":-2147483648,"
	"\"day\":\"0001-01-01\",\"at\":\"1970-01-01T00:00:01.000Z\",\"x\":-0.0},"
	"\"maxValues\":{\"name\":\"Ziebach\",\"n\":9007199254740993,\"small\":2147483647,"
	"\"day\":\"9999-12-31\",\"at\":\"1970-01-01T00:00:01.001Z\",\"x\":0.1},"
	"\"nullCount\":{\"name\":0,\"n\":1,\"small\":2,\"day\":3,\"at\":4,\"x\":5,\"ok\":6}}";

START_TEST(stats_all_types)
{
	set_all_types();
	ck_assert_int_eq(pw_delta_stats_write(&b, all_types, NALL, &fs, &err), 0);
	ck_assert_str_eq(text(), all_types_stats);
}
END_TEST

START_TEST(stats_all_null_and_empty)
{
	/* No column has a value: nullCount only (and nothing for the list). */
	for (size_t i = 0; i < NALL; i++)
		cs[i].null_count = 10;
	ck_assert_int_eq(pw_delta_stats_write(&b, all_types, NALL, &fs, &err), 0);
	ck_assert_str_eq(text(), "{\"numRecords\":10,\"minValues\":{},\"maxValues\":{},"
	    "\"nullCount\":{\"name\":10,\"n\":10,\"small\":10,\"day\":10,\"at\":10,\"x\":10,"
	    "\"ok\":10}}");

	/* An empty file. */
	pw_buf_reset(&b);
	fs.num_rows = 0;
	for (size_t i = 0; i < NALL; i++)
		cs[i].null_count = 0;
	ck_assert_int_eq(pw_delta_stats_write(&b, all_types, NALL, &fs, &err), 0);
	ck_assert_str_eq(text(), "{\"numRecords\":0,\"minValues\":{},\"maxValues\":{},"
	    "\"nullCount\":{\"name\":0,\"n\":0,\"small\":0,\"day\":0,\"at\":0,\"x\":0,\"ok\":0}}");
}
END_TEST

/* The stats of one column of the given type, as text. */
static const char *
one_stats(enum pw_pq_type type, struct pw_pq_col_stats c)
{
	struct pw_delta_field f = { "c", type, true, NULL };
	struct pw_pq_file_stats s = { 1, 100, 1, &c };

	pw_buf_reset(&b);
	ck_assert_int_eq(pw_delta_stats_write(&b, &f, 1, &s, &err), 0);
	return text();
}

static const char *
ts_stats(int64_t lo, int64_t hi)
{
	struct pw_pq_col_stats c = { .has_min_max = true, .min.i = lo, .max.i = hi };

	return one_stats(PW_PQ_TIMESTAMP, c);
}

#define TS(lo, hi) "{\"numRecords\":1,\"minValues\":{\"c\":\"" lo "\"},\"maxValues\":" \
	"{\"c\":\"" hi "\"},\"nullCount\":{\"c\":0}}"
#define NO_BOUNDS "{\"numRecords\":1,\"minValues\":{},\"maxValues\":{},\"nullCount\":{\"c\":0}}"

START_TEST(stats_timestamp_rounding)
{
	ck_assert_str_eq(ts_stats(0, 0), TS("1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.000Z"));
	/* A microsecond past a millisecond: min down, max up. */
	ck_assert_str_eq(ts_stats(1, 1), TS("1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.001Z"));
	ck_assert_str_eq(ts_stats(999, 1000),
	    TS("1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.001Z"));
	ck_assert_str_eq(ts_stats(1000, 1001),
	    TS("1970-01-01T00:00:00.001Z", "1970-01-01T00:00:00.002Z"));
	/* Before the epoch the same holds (floor and ceiling, not truncation). */
	ck_assert_str_eq(ts_stats(-1, -1), TS("1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00.000Z"));
	ck_assert_str_eq(ts_stats(-1000, -1000),
	    TS("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"));
	ck_assert_str_eq(ts_stats(-1001, -1001),
	    TS("1969-12-31T23:59:59.998Z", "1969-12-31T23:59:59.999Z"));
	ck_assert_str_eq(ts_stats(-2203891199999999, 1709210096789012),
	    TS("1900-03-01T00:00:00.000Z", "2024-02-29T12:34:56.790Z"));
	/* The ends of what Spark parses: years 0001 to 9999. */
	ck_assert_str_eq(ts_stats(-62135596800000000, 253402300799999000),
	    TS("0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"));
	ck_assert_str_eq(ts_stats(-62135596800000001, 0), NO_BOUNDS);
	/* Rounding the max up would make it year 10000. */
	ck_assert_str_eq(ts_stats(0, 253402300799999001), NO_BOUNDS);
	ck_assert_str_eq(ts_stats(INT64_MIN, INT64_MAX), NO_BOUNDS);
}
END_TEST

START_TEST(stats_dates)
{
	struct pw_pq_col_stats c = { .has_min_max = true, .min.i = 0, .max.i = 19782 };

	ck_assert_str_eq(one_stats(PW_PQ_DATE, c), "{\"numRecords\":1,\"minValues\":"
	    "{\"c\":\"1970-01-01\"},\"maxValues\":{\"c\":\"2024-02-29\"},\"nullCount\":{\"c\":0}}");
	c.min.i = -1;
	c.max.i = -141427;	/* the Julian 1582-10-05: dates are proleptic Gregorian */
	ck_assert_str_eq(one_stats(PW_PQ_DATE, c), "{\"numRecords\":1,\"minValues\":"
	    "{\"c\":\"1969-12-31\"},\"maxValues\":{\"c\":\"1582-10-15\"},\"nullCount\":{\"c\":0}}");
	c.min.i = -719163;	/* 0000-12-31 */
	c.max.i = 0;
	ck_assert_str_eq(one_stats(PW_PQ_DATE, c), NO_BOUNDS);
	c.min.i = 0;
	c.max.i = 2932897;	/* 10000-01-01 */
	ck_assert_str_eq(one_stats(PW_PQ_DATE, c), NO_BOUNDS);
	c.min.i = INT32_MIN;
	c.max.i = INT32_MAX;
	ck_assert_str_eq(one_stats(PW_PQ_DATE, c), NO_BOUNDS);
}
END_TEST

static const char *
dbl_stats(double lo, double hi)
{
	struct pw_pq_col_stats c = { .null_count = 2, .has_min_max = true, .min.d = lo,
	    .max.d = hi };

	return one_stats(PW_PQ_DOUBLE, c);
}

#define DBL(lo, hi) "{\"numRecords\":1,\"minValues\":{\"c\":" lo "},\"maxValues\":" \
	"{\"c\":" hi "},\"nullCount\":{\"c\":2}}"

START_TEST(stats_doubles)
{
	ck_assert_str_eq(dbl_stats(1, 3), DBL("1.0", "3.0"));
	ck_assert_str_eq(dbl_stats(-0.0, 0.0), DBL("-0.0", "0.0"));
	ck_assert_str_eq(dbl_stats(0.1, 123456.789), DBL("0.1", "123456.789"));
	ck_assert_str_eq(dbl_stats(-1e20, 1e300), DBL("-1e+20", "1e+300"));
	ck_assert_str_eq(dbl_stats(5e-324, DBL_MAX), DBL("5e-324",
	    "1.7976931348623157e+308"));
	ck_assert_str_eq(dbl_stats(1.0 / 3, 2.0 / 3), DBL("0.3333333333333333",
	    "0.6666666666666666"));
	/* JSON has no infinities: no bounds at all, only the null count. */
	ck_assert_str_eq(dbl_stats(-INFINITY, 3), "{\"numRecords\":1,\"minValues\":{},"
	    "\"maxValues\":{},\"nullCount\":{\"c\":2}}");
	ck_assert_str_eq(dbl_stats(1, INFINITY), "{\"numRecords\":1,\"minValues\":{},"
	    "\"maxValues\":{},\"nullCount\":{\"c\":2}}");
	ck_assert_str_eq(dbl_stats(NAN, NAN), "{\"numRecords\":1,\"minValues\":{},"
	    "\"maxValues\":{},\"nullCount\":{\"c\":2}}");
}
END_TEST

START_TEST(stats_booleans_and_lists)
{
	struct pw_pq_col_stats c = { .null_count = 1, .has_min_max = true, .min.b = false,
	    .max.b = true, .min_s = { "a", 1 }, .max_s = { "z", 1 } };

	/* Spark keeps no min/max for booleans, and no stats at all for arrays. */
	ck_assert_str_eq(one_stats(PW_PQ_BOOLEAN, c), "{\"numRecords\":1,\"minValues\":{},"
	    "\"maxValues\":{},\"nullCount\":{\"c\":1}}");
	ck_assert_str_eq(one_stats(PW_PQ_STRING_LIST, c), "{\"numRecords\":1,\"minValues\":{},"
	    "\"maxValues\":{},\"nullCount\":{}}");
}
END_TEST

START_TEST(stats_strings)
{
	/* Cut strings are bounds already: written as the writer gave them. */
	struct pw_pq_col_stats c = { .has_min_max = true, .min_exact = false,
	    .max_exact = false, .min_s = { "Barcelo", 7 }, .max_s = { "Barcelp", 7 } };

	ck_assert_str_eq(one_stats(PW_PQ_STRING, c), "{\"numRecords\":1,\"minValues\":"
	    "{\"c\":\"Barcelo\"},\"maxValues\":{\"c\":\"Barcelp\"},\"nullCount\":{\"c\":0}}");
	/* Escapes, non-ASCII and a NUL byte inside the value. */
	c.min_s.p = "\"q\\\n\x01";
	c.min_s.n = 5;
	c.max_s.p = "\xc3\xa9\0x";
	c.max_s.n = 4;
	ck_assert_str_eq(one_stats(PW_PQ_STRING, c), "{\"numRecords\":1,\"minValues\":"
	    "{\"c\":\"\\\"q\\\\\\n\\u0001\"},\"maxValues\":{\"c\":\"é\\u0000x\"},"
	    "\"nullCount\":{\"c\":0}}");
	/* The empty string is a fine min. */
	c.min_s.p = "";
	c.min_s.n = 0;
	ck_assert_str_eq(one_stats(PW_PQ_STRING, c), "{\"numRecords\":1,\"minValues\":"
	    "{\"c\":\"\"},\"maxValues\":{\"c\":\"é\\u0000x\"},\"nullCount\":{\"c\":0}}");
}
END_TEST

START_TEST(stats_column_names_escaped)
{
	struct pw_delta_field f = { "ñ\"x", PW_PQ_LONG, true, NULL };
	struct pw_pq_col_stats c = { .null_count = 3, .has_min_max = true, .min.i = 1,
	    .max.i = 2 };
	struct pw_pq_file_stats s = { 5, 100, 1, &c };

	ck_assert_int_eq(pw_delta_stats_write(&b, &f, 1, &s, &err), 0);
	ck_assert_str_eq(text(), "{\"numRecords\":5,\"minValues\":{\"ñ\\\"x\":1},"
	    "\"maxValues\":{\"ñ\\\"x\":2},\"nullCount\":{\"ñ\\\"x\":3}}");
}
END_TEST

/* ---- add ------------------------------------------------------------------ */

START_TEST(add_line)
{
	static const struct pw_delta_field id[] = { { "id", PW_PQ_LONG, false, NULL } };
	struct pw_pq_col_stats c = { .has_min_max = true, .min.i = 1, .max.i = 3 };
	struct pw_pq_file_stats s = { 3, 514, 1, &c };
	struct pw_delta_add add = {
		.path = "part-00000-1f0b6e5c-2f0e-4c55-9d38-6c9a7f2a1b11-c000.zstd.parquet",
		.size = 514, .modification_ms = 1753290963621, .fields = id, .nfields = 1,
		.stats = &s,
	};

	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), 0);
	ck_assert_str_eq(text(), "{\"add\":{\"path\":"
	    "\"part-00000-1f0b6e5c-2f0e-4c55-9d38-6c9a7f2a1b11-c000.zstd.parquet\","
	    "\"partitionValues\":{},\"size\":514,\"modificationTime\":1753290963621,"
	    "\"dataChange\":true,\"stats\":\"{\\\"numRecords\\\":3,\\\"minValues\\\":"
	    "{\\\"id\\\":1},\\\"maxValues\\\":{\\\"id\\\":3},\\\"nullCount\\\":{\\\"id\\\":0}}\"}}\n");

	/* Without stats. */
	pw_buf_reset(&b);
	add.stats = NULL;
	add.path = "a b/ü.parquet";
	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), 0);
	ck_assert_str_eq(text(), "{\"add\":{\"path\":\"a%20b/%C3%BC.parquet\","
	    "\"partitionValues\":{},\"size\":514,\"modificationTime\":1753290963621,"
	    "\"dataChange\":true}}\n");
}
END_TEST

START_TEST(add_stats_string_round_trips)
{
	struct pw_delta_add add = {
		.path = "part-1.parquet", .size = 1234, .modification_ms = 1,
		.fields = all_types, .nfields = NALL, .stats = &fs,
	};
	json_t *v;

	set_all_types();
	cs[0].min_s = str("\"quoted\" \\ \n é");
	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), 0);
	ck_assert(b.data[b.len - 1] == '\n');
	ck_assert_ptr_null(memchr(b.data, '\n', b.len - 1));	/* one line */
	v = json_loadb((const char *)b.data, b.len, 0, NULL);
	ck_assert_ptr_nonnull(v);
	pw_buf_reset(&b);
	ck_assert_int_eq(pw_delta_stats_write(&b, all_types, NALL, &fs, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(v, "add"), "stats")),
	    text());
	json_decref(v);
}
END_TEST

START_TEST(add_refusals)
{
	struct pw_delta_add add = { .path = "", .size = 1 };

	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), -1);
	ck_assert_str_eq(err.msg, "a data file's path must be relative to the table");
	add.path = "/tmp/x.parquet";
	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), -1);
	ck_assert_str_eq(err.msg, "a data file's path must be relative to the table");
	add.path = "ok/\xff.parquet";
	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), -1);
	ck_assert_str_eq(err.msg, "data file path \"ok/\" is not valid UTF-8");
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

/* ---- paths ---------------------------------------------------------------- */

static const struct {
	const char *path, *encoded;
} paths[] = {
	{ "part-00000-3935a07c-416b-4344-ad97-2a38342ee2fc-c000.zstd.parquet",
	  "part-00000-3935a07c-416b-4344-ad97-2a38342ee2fc-c000.zstd.parquet" },
	{ "a b", "a%20b" },
	{ "100%", "100%25" },
	{ "dir/sub dir/f~_.-x", "dir/sub%20dir/f~_.-x" },
	{ "Barça/ñ€😀", "Bar%C3%A7a/%C3%B1%E2%82%AC%F0%9F%98%80" },
	{ "c:d?e#f[g]h@i!j$k&l'm(n)o*p+q,r;s=t", "c%3Ad%3Fe%23f%5Bg%5Dh%40i%21j%24k%26l%27m%28n"
	  "%29o%2Ap%2Bq%2Cr%3Bs%3Dt" },
	{ "tab\there\"\\", "tab%09here%22%5C" },
	{ "date=2017-12-10/part", "date%3D2017-12-10/part" },
};

START_TEST(path_encoding)
{
	char *enc = pw_delta_path_encode(paths[_i].path), *dec;

	ck_assert_str_eq(enc, paths[_i].encoded);
	dec = pw_delta_path_decode(enc, &err);
	ck_assert_ptr_nonnull(dec);
	ck_assert_str_eq(dec, paths[_i].path);
	free(enc);
	free(dec);
}
END_TEST

START_TEST(path_decoding)
{
	char *d;

	/* Lower-case hex and raw non-ASCII (as Spark leaves them) decode too. */
	d = pw_delta_path_decode("a%2fb%c3%A7/ñ", &err);
	ck_assert_str_eq(d, "a/bç/ñ");
	free(d);
	ck_assert_ptr_null(pw_delta_path_decode("bad%", &err));
	ck_assert_str_eq(err.msg, "path \"bad%\": bad %-escape at byte 4");
	ck_assert_ptr_null(pw_delta_path_decode("bad%4", &err));
	ck_assert_str_eq(err.msg, "path \"bad%4\": bad %-escape at byte 4");
	ck_assert_ptr_null(pw_delta_path_decode("%zz", &err));
	ck_assert_str_eq(err.msg, "path \"%zz\": bad %-escape at byte 1");
	ck_assert_ptr_null(pw_delta_path_decode("a%00b", &err));
	ck_assert_str_eq(err.msg, "path \"a%00b\": bad %-escape at byte 2");
}
END_TEST

/* ---- reading commits ------------------------------------------------------ */

START_TEST(parse_spark)
{
	parse_ok(fx_spark_covid);
	ck_assert(commit.has_protocol);
	ck_assert_int_eq(commit.protocol.min_reader_version, 1);
	ck_assert_int_eq(commit.protocol.min_writer_version, 2);
	ck_assert_ptr_null(commit.protocol.reader_features);
	ck_assert(commit.has_metadata);
	ck_assert_str_eq(commit.metadata.id, "7245fd1d-8a6d-4988-af72-92a95b646511");
	ck_assert_str_eq(commit.metadata.provider, "parquet");
	ck_assert_uint_eq(commit.metadata.nfields, 6);
	ck_assert_str_eq(commit.metadata.fields[0].name, "date");
	ck_assert_int_eq(commit.metadata.fields[0].type, PW_PQ_STRING);
	ck_assert_str_eq(commit.metadata.fields[5].name, "deaths");
	ck_assert_int_eq(commit.metadata.fields[5].type, PW_PQ_INTEGER);
	ck_assert(commit.metadata.fields[5].nullable);
	ck_assert_uint_eq(commit.metadata.npartition_columns, 0);
	ck_assert_uint_eq(commit.metadata.nconfig, 0);
	ck_assert_uint_eq(commit.nadd, 2);
	ck_assert_str_eq(commit.add_paths[1],
	    "part-00001-9d9d980b-c500-4f0b-bb96-771a515fbccc-c000.snappy.parquet");
	ck_assert_uint_eq(commit.nremove, 0);
	ck_assert(commit.has_commit_info);
	ck_assert_uint_eq(commit.nsource_ids, 0);
	ck_assert_ptr_null(commit.txn_id);
	ck_assert_uint_eq(commit.nunknown, 0);
	ck_assert_int_eq(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err), 0);

	parse_ok(fx_spark_remove);
	ck_assert(!commit.has_protocol);
	ck_assert(!commit.has_metadata);
	ck_assert_uint_eq(commit.nremove, 2);
	ck_assert_str_eq(commit.remove_paths[0],
	    "part-00003-53f42606-6cda-4f13-8d07-599a21197296-c000.snappy.parquet");
	ck_assert_uint_eq(commit.nadd, 2);

	parse_ok(fx_spark_cdf);
	ck_assert_int_eq(commit.protocol.min_writer_version, 4);
	ck_assert_uint_eq(commit.metadata.npartition_columns, 1);
	ck_assert_str_eq(commit.metadata.partition_columns[0], "birthday");
	ck_assert_uint_eq(commit.metadata.nconfig, 1);
	ck_assert_str_eq(commit.metadata.config[0].key, "delta.enableChangeDataFeed");
	ck_assert_str_eq(commit.metadata.config[0].value, "true");
	ck_assert_str_eq(commit.txn_id, "d05345ec-8304-433e-88ff-6498dc37ca19");
	ck_assert_str_eq(commit.add_paths[0], "birthday=2023-12-22/"
	    "part-00000-592a7e14-f790-4236-9c61-120d006eb3b8.c000.snappy.parquet");
	ck_assert_int_eq(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err), -1);
	ck_assert_str_eq(err.msg, "the table is partitioned by \"birthday\"; portada-worker "
	    "writes unpartitioned tables only");

	/* Spark types this writer has no use for: refused, naming the first. */
	parse_fails(fx_spark_all_types, "line 2: metaData.schemaString: column \"as_byte\" "
	    "has type byte, which portada-worker cannot write");
}
END_TEST

START_TEST(parse_deltars)
{
	/* No final newline; null name and description; commitInfo last. */
	parse_ok(fx_deltars);
	ck_assert_int_eq(commit.protocol.min_writer_version, 2);
	ck_assert_str_eq(commit.metadata.id, "5d650ad7-a5bc-41ef-942d-8cb1911e929f");
	ck_assert_uint_eq(commit.metadata.nfields, 1);
	ck_assert_int_eq(commit.metadata.fields[0].type, PW_PQ_LONG);
	ck_assert_uint_eq(commit.nadd, 1);
	ck_assert(commit.has_commit_info);
	ck_assert_int_eq(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err), 0);
}
END_TEST

START_TEST(parse_databricks)
{
	parse_ok(fx_databricks_dv);
	ck_assert_int_eq(commit.protocol.min_reader_version, 3);
	ck_assert_int_eq(commit.protocol.min_writer_version, 7);
	ck_assert_uint_eq(commit.protocol.nreader_features, 1);
	ck_assert_str_eq(commit.protocol.reader_features[0], "deletionVectors");
	ck_assert_uint_eq(commit.protocol.nwriter_features, 1);
	ck_assert_str_eq(commit.metadata.id, "testId");
	ck_assert_uint_eq(commit.metadata.nconfig, 2);
	ck_assert_str_eq(commit.metadata.config[1].key, "delta.columnMapping.mode");
	ck_assert_str_eq(commit.metadata.config[1].value, "none");
	ck_assert_str_eq(commit.txn_id, "a6a94671-55ef-450e-9546-b8465b9147de");
	ck_assert_int_eq(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err), -1);
	ck_assert_str_eq(err.msg, "the table needs the reader feature \"deletionVectors\" "
	    "(deletion vectors), which portada-worker cannot honour");

	parse_ok(fx_databricks_v2cp);
	ck_assert_str_eq(commit.metadata.fields[0].metadata, "{\"delta.identity.step\":1,"
	    "\"delta.identity.allowExplicitInsert\":false,\"delta.identity.start\":1}");
	ck_assert_int_eq(commit.metadata.fields[2].type, PW_PQ_TIMESTAMP);
	ck_assert_uint_eq(commit.protocol.nwriter_features, 4);
	ck_assert_int_eq(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err), -1);
	ck_assert_str_eq(err.msg, "the table needs the reader feature \"v2Checkpoint\" "
	    "(v2 checkpoints), which portada-worker cannot honour");

	parse_ok(fx_features);
	ck_assert_uint_eq(commit.protocol.nreader_features, 5);
	ck_assert_uint_eq(commit.protocol.nwriter_features, 13);
	ck_assert_int_eq(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err), -1);
	ck_assert_str_eq(err.msg, "the table needs Delta reader version 5; portada-worker "
	    "knows reader versions 1 to 3");
}
END_TEST

START_TEST(parse_our_own_commit)
{
	static const struct pw_delta_field f[] = {
		{ "id", PW_PQ_STRING, false, NULL },
		{ "voices", PW_PQ_STRING_LIST, true, NULL },
	};
	struct pw_pq_col_stats c[2] = {
		{ .has_min_max = true, .min_s = { "a", 1 }, .max_s = { "b", 1 } },
		{ .null_count = 1 },
	};
	struct pw_pq_file_stats s = { 2, 300, 2, c };
	struct pw_delta_add add = { .path = "part 1.parquet", .size = 300,
	    .modification_ms = 5, .fields = f, .nfields = 2, .stats = &s };
	const char *ids[] = { "1-0", "2-\"x\"" };
	struct pw_delta_commit_info ci = { .timestamp_ms = 6, .version = "0.1.0",
	    .source_ids = ids, .nsource_ids = 2 };

	ck_assert_int_eq(pw_delta_append_protocol(&b, &err), 0);
	ck_assert_int_eq(pw_delta_append_metadata(&b, "0f8fad5b-d9cb-469f-a165-70867728950e",
	    f, 2, 4, &err), 0);
	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), 0);
	add.path = "part 2.parquet";
	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), 0);
	ck_assert_int_eq(pw_delta_append_txn(&b, "worker-1", 7, 6, &err), 0);
	ck_assert_int_eq(pw_delta_append_commit_info(&b, &ci, &err), 0);
	parse_ok(text());
	ck_assert_int_eq(commit.protocol.min_reader_version, 1);
	ck_assert_str_eq(commit.metadata.id, "0f8fad5b-d9cb-469f-a165-70867728950e");
	ck_assert_uint_eq(commit.metadata.nfields, 2);
	ck_assert_int_eq(commit.metadata.fields[1].type, PW_PQ_STRING_LIST);
	ck_assert(!commit.metadata.fields[0].nullable);
	ck_assert_uint_eq(commit.nadd, 2);
	ck_assert_str_eq(commit.add_paths[0], "part%201.parquet");
	ck_assert_int_eq(commit.add_records[1], 2);
	ck_assert_uint_eq(commit.add_sizes[1], 300);
	ck_assert_uint_eq(commit.ntxns, 1);
	ck_assert_str_eq(commit.txns[0].app_id, "worker-1");
	ck_assert_int_eq(commit.txns[0].version, 7);
	ck_assert_uint_eq(commit.nsource_ids, 2);
	ck_assert_str_eq(commit.source_ids[1], "2-\"x\"");
	ck_assert_int_eq(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err), 0);
}
END_TEST

/* numRecords is read from stats whose min or max holds U+0000 (upload
 * text may), which a plain JSON parse of the stats string refuses. */
START_TEST(parse_stats_with_nul)
{
	static const struct pw_delta_field f[] = { { "t", PW_PQ_STRING, true, NULL } };
	struct pw_pq_col_stats c[1] = {
		{ .has_min_max = true, .min_s = { "a\0b", 3 }, .max_s = { "z\0", 2 } },
	};
	struct pw_pq_file_stats s = { 7, 100, 1, c };
	struct pw_delta_add add = { .path = "p.parquet", .size = 100, .modification_ms = 5,
	    .fields = f, .nfields = 1, .stats = &s };

	ck_assert_int_eq(pw_delta_append_add(&b, &add, &err), 0);
	parse_ok(text());
	ck_assert_uint_eq(commit.nadd, 1);
	ck_assert_int_eq(commit.add_records[0], 7);
}
END_TEST

START_TEST(parse_line_handling)
{
	/* CRLF, blank and space-only lines, no final newline. */
	parse_ok("\r\n\n  \t\r\n{\"add\":{\"path\":\"a\"}}\r\n\r\n{\"add\":{\"path\":\"b\"}}");
	ck_assert_uint_eq(commit.nadd, 2);
	ck_assert_str_eq(commit.add_paths[1], "b");
	parse_ok("");
	ck_assert_uint_eq(commit.nadd, 0);
	parse_ok("\n");
	/* Blank lines count when naming a line. */
	parse_fails("\n\r\n{\"add\":{\"path\":\"a\",}}\n", "invalid JSON at line 3, column 20: "
	    "string or '}' expected near '}'");
	parse_fails("{\"add\":{\"path\":\"a\"}}\n{\"add\":", "invalid JSON at line 2, column 7: "
	    "unexpected token near end of file");
	parse_fails("{\"add\":{\"path\":\"a\"}} {}\n", "invalid JSON at line 1, column 22: "
	    "end of file expected near '{'");
}
END_TEST

static const struct {
	const char *log, *want;
} bad_commits[] = {
	{ "[1]", "line 1: a line must hold one object with one action" },
	{ "{}", "line 1: a line must hold one object with one action" },
	{ "{\"add\":{\"path\":\"a\"},\"remove\":{\"path\":\"a\"}}",
	  "line 1: a line must hold one object with one action" },
	{ "{\"add\":[]}", "line 1: the add action is not an object" },
	{ "{\"add\":{\"size\":1}}", "line 1: add.path is missing or not a string" },
	{ "{\"remove\":{\"path\":1}}", "line 1: remove.path is missing or not a string" },
	{ "{\"protocol\":{\"minReaderVersion\":\"1\",\"minWriterVersion\":2}}",
	  "line 1: protocol.minReaderVersion is missing or not an integer" },
	{ "{\"protocol\":{\"minReaderVersion\":1}}",
	  "line 1: protocol.minWriterVersion is missing or not an integer" },
	{ "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2.0}}",
	  "line 1: protocol.minWriterVersion is missing or not an integer" },
	{ "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":4294967298}}",
	  "line 1: protocol.minWriterVersion is missing or not an integer" },
	{ "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"readerFeatures\":\"x\"}}",
	  "line 1: protocol.readerFeatures is not an array" },
	{ "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,\"writerFeatures\":[1]}}",
	  "line 1: protocol.writerFeatures[0] is not a string" },
	{ "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"
	  "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}",
	  "line 2: a second protocol action in one commit" },
	{ "{\"metaData\":{\"format\":{\"provider\":\"parquet\"}}}",
	  "line 1: metaData.id is missing or not a string" },
	{ "{\"metaData\":{\"id\":\"x\",\"schemaString\":\"{}\"}}",
	  "line 1: metaData.format.provider is missing or not a string" },
	{ "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"}}}",
	  "line 1: metaData.schemaString is missing or not a string" },
	{ "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"
	  "{\"type\":\"struct\",\"fields\":[]}}}",
	  "line 1: metaData.schemaString is missing or not a string" },
	{ "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"
	  "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\",\"configuration\":{\"k\":1}}}",
	  "line 1: metaData.configuration \"k\" is not a string" },
	{ "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"
	  "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\",\"configuration\":[]}}",
	  "line 1: metaData.configuration is not an object" },
	{ "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"
	  "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\",\"partitionColumns\":\"a\"}}",
	  "line 1: metaData.partitionColumns is not an array" },
	{ "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"
	  "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\"}}\n"
	  "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"
	  "\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\"}}",
	  "line 2: a second metaData action in one commit" },
	{ "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"schemaString\":"
	  "\"{\\\"type\\\":\"}}",
	  "line 1: metaData.schemaString: invalid schema JSON at column 8: "
	  "unexpected token near end of file" },
	{ "{\"txn\":{\"appId\":\"app\",\"version\":1}}\n{\"txn\":{\"appId\":\"app\",\"version\":2}}",
	  "line 2: a second txn for appId \"app\" in one commit" },
	{ "{\"txn\":{\"appId\":\"app\"}}", "line 1: txn.version is missing or not an integer" },
	{ "{\"txn\":{\"version\":1}}", "line 1: txn.appId is missing or not a string" },
	{ "{\"commitInfo\":{\"portadaSourceIds\":[\"a\",1]}}",
	  "line 1: commitInfo.portadaSourceIds[1] is not a string" },
	{ "{\"commitInfo\":{\"portadaSourceIds\":\"a\"}}",
	  "line 1: commitInfo.portadaSourceIds is not an array" },
	{ "{\"commitInfo\":7}", "line 1: the commitInfo action is not an object" },
	{ "{\"add\":{\"path\":\"a\\u0000b\"}}",
	  "invalid JSON at line 1, column 25: \\u0000 is not allowed without JSON_ALLOW_NUL "
	  "near '\"a\\u0000b\"'" },
};

START_TEST(parse_refusals)
{
	parse_fails(bad_commits[_i].log, bad_commits[_i].want);
}
END_TEST

START_TEST(parse_other_actions)
{
	parse_ok("{\"checkpointMetadata\":{\"version\":1}}\n"
	    "{\"cdc\":{\"path\":\"_change_data/c.parquet\",\"partitionValues\":{},\"size\":1,"
	    "\"dataChange\":false}}\n"
	    "{\"sidecar\":{\"path\":\"x.parquet\"}}\n"
	    "{\"domainMetadata\":{\"domain\":\"delta.rowTracking\",\"configuration\":\"{}\","
	    "\"removed\":false}}\n"
	    "{\"fooBar\":1}\n"
	    "{\"txn\":{\"appId\":\"a\",\"version\":-3,\"lastUpdated\":1}}\n"
	    "{\"txn\":{\"appId\":\"b\",\"version\":9223372036854775807}}\n"
	    "{\"commitInfo\":{\"portadaSourceIds\":[\"x\"],\"txnId\":\"t1\"}}\n"
	    "{\"commitInfo\":{\"portadaSourceIds\":[\"y\"],\"txnId\":7}}\n");
	ck_assert_uint_eq(commit.nunknown, 3);
	ck_assert_str_eq(commit.first_unknown, "checkpointMetadata");
	ck_assert_uint_eq(commit.ncdc, 1);
	ck_assert_uint_eq(commit.ndomain_metadata, 1);
	ck_assert_uint_eq(commit.ntxns, 2);
	ck_assert_int_eq(commit.txns[0].version, -3);
	ck_assert_int_eq(commit.txns[1].version, INT64_MAX);
	/* The first commitInfo is the one read. */
	ck_assert_uint_eq(commit.nsource_ids, 1);
	ck_assert_str_eq(commit.source_ids[0], "x");
	ck_assert_str_eq(commit.txn_id, "t1");
	ck_assert_uint_eq(commit.nadd, 0);

	/* Configuration values may be null (delta-rs). */
	parse_ok("{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},"
	    "\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[]}\","
	    "\"partitionColumns\":null,\"configuration\":{\"a\":null,\"b\":\"2\"}}}");
	ck_assert_uint_eq(commit.metadata.nconfig, 2);
	ck_assert_ptr_null(commit.metadata.config[0].value);
	ck_assert_str_eq(commit.metadata.config[1].value, "2");
	ck_assert_uint_eq(commit.metadata.nfields, 0);

	/* Finishing twice (and an empty commit) is harmless. */
	pw_delta_commit_finish(&commit);
	pw_delta_commit_finish(&commit);
}
END_TEST

/* ---- may we write? -------------------------------------------------------- */

#define PROTO(r, w, more) "{\"protocol\":{\"minReaderVersion\":" #r ",\"minWriterVersion\":" \
	#w more "}}\n"
#define META_FULL(provider, conf, parts, fields) "{\"metaData\":{\"id\":\"t\",\"format\":" \
	"{\"provider\":\"" provider "\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":" \
	"\\\"struct\\\",\\\"fields\\\":[" fields "]}\",\"partitionColumns\":[" parts "]," \
	"\"configuration\":{" conf "},\"createdTime\":1}}\n"
#define META(conf) META_FULL("parquet", conf, "", F_X)
#define F_X "{\\\"name\\\":\\\"x\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true," \
	"\\\"metadata\\\":{}}"
#define F_META(meta) "{\\\"name\\\":\\\"y\\\",\\\"type\\\":\\\"string\\\"," \
	"\\\"nullable\\\":true,\\\"metadata\\\":{" meta "}}"

static const char *const writable_logs[] = {
	PROTO(1, 2, "") META(""),
	PROTO(1, 1, "") META(""),
	PROTO(1, 2, "") META("\"delta.appendOnly\":\"true\""),
	PROTO(1, 3, "") META("\"delta.checkpoint.writeStatsAsStruct\":\"true\""),
	PROTO(1, 4, "") META("\"delta.enableChangeDataFeed\":\"true\""),
	PROTO(2, 5, "") META("\"delta.columnMapping.mode\":\"none\""),
	PROTO(2, 6, "") META(""),
	PROTO(3, 7, ",\"readerFeatures\":[\"columnMapping\",\"vacuumProtocolCheck\"],"
	    "\"writerFeatures\":[\"appendOnly\",\"invariants\",\"checkConstraints\","
	    "\"generatedColumns\",\"allowColumnDefaults\",\"changeDataFeed\",\"columnMapping\","
	    "\"identityColumns\",\"domainMetadata\",\"vacuumProtocolCheck\","
	    "\"inCommitTimestamp\"]")
	    META("\"delta.columnMapping.mode\":\"none\",\"delta.enableInCommitTimestamps\":\"false\""),
	PROTO(1, 7, ",\"writerFeatures\":[]") META("\"delta.enableDeletionVectors\":null"),
	/* Column metadata that asks nothing of a writer. */
	PROTO(1, 2, "") META_FULL("parquet", "", "", F_X "," F_META("\\\"comment\\\":\\\"c\\\","
	    "\\\"delta.columnMapping.id\\\":1")),
};

START_TEST(writable_accepted)
{
	parse_ok(writable_logs[_i]);
	ck_assert(commit.has_protocol && commit.has_metadata);
	ck_assert_msg(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err) == 0,
	    "refused: %s", err.msg);
}
END_TEST

static const struct {
	const char *log, *want;
} unwritable_logs[] = {
	{ PROTO(4, 7, "") META(""), "the table needs Delta reader version 4; portada-worker "
	  "knows reader versions 1 to 3" },
	{ PROTO(1, 8, "") META(""), "the table needs Delta writer version 8; portada-worker "
	  "knows writer versions 1 to 7" },
	{ PROTO(0, 2, "") META(""), "the table's protocol (0, 2) is not valid" },
	{ PROTO(1, 0, "") META(""), "the table's protocol (1, 0) is not valid" },
	{ PROTO(3, 6, "") META(""), "the table's protocol (3, 6) is not valid: reader version 3 "
	  "needs writer version 7" },
	{ PROTO(3, 7, ",\"readerFeatures\":[\"timestampNtz\"]") META(""),
	  "the table needs the reader feature \"timestampNtz\" (timestamps without time zone), "
	  "which portada-worker cannot honour" },
	{ PROTO(3, 7, ",\"readerFeatures\":[\"columnMapping\",\"typeWidening\"]") META(""),
	  "the table needs the reader feature \"typeWidening\" (type widening), which "
	  "portada-worker cannot honour" },
	{ PROTO(3, 7, ",\"readerFeatures\":[\"variantType\"]") META(""),
	  "the table needs the reader feature \"variantType\" (the variant type), which "
	  "portada-worker cannot honour" },
	{ PROTO(3, 7, ",\"readerFeatures\":[\"catalogManaged\"]") META(""),
	  "the table needs the reader feature \"catalogManaged\" (catalog-managed commits), "
	  "which portada-worker cannot honour" },
	{ PROTO(3, 7, ",\"readerFeatures\":[\"blahabl\"]") META(""),
	  "the table needs the unknown reader feature \"blahabl\"" },
	{ PROTO(1, 7, ",\"writerFeatures\":[\"appendOnly\",\"rowTracking\"]") META(""),
	  "the table needs the writer feature \"rowTracking\" (row tracking (every add needs a "
	  "baseRowId)), which portada-worker cannot honour" },
	{ PROTO(1, 7, ",\"writerFeatures\":[\"deletionVectors\"]") META(""),
	  "the table needs the writer feature \"deletionVectors\" (deletion vectors), which "
	  "portada-worker cannot honour" },
	{ PROTO(1, 7, ",\"writerFeatures\":[\"clustering\"]") META(""),
	  "the table needs the writer feature \"clustering\" (clustered tables), which "
	  "portada-worker cannot honour" },
	{ PROTO(1, 7, ",\"writerFeatures\":[\"icebergCompatV2\"]") META(""),
	  "the table needs the writer feature \"icebergCompatV2\" (Iceberg compatibility v2), "
	  "which portada-worker cannot honour" },
	{ PROTO(1, 7, ",\"writerFeatures\":[\"fooBar\"]") META(""),
	  "the table needs the unknown writer feature \"fooBar\"" },
	{ PROTO(1, 2, "") META_FULL("csv", "", "", F_X),
	  "the table stores its data as \"csv\", not parquet" },
	{ PROTO(1, 2, "") META_FULL("parquet", "", "\"x\"", F_X),
	  "the table is partitioned by \"x\"; portada-worker writes unpartitioned tables only" },
	{ PROTO(2, 5, "") META("\"delta.columnMapping.mode\":\"name\""),
	  "the table uses column mapping mode \"name\" (delta.columnMapping.mode); "
	  "portada-worker writes columns by name only" },
	{ PROTO(2, 5, "") META("\"delta.columnMapping.mode\":\"id\""),
	  "the table uses column mapping mode \"id\" (delta.columnMapping.mode); "
	  "portada-worker writes columns by name only" },
	{ PROTO(1, 7, ",\"writerFeatures\":[\"inCommitTimestamp\"]")
	  META("\"delta.enableInCommitTimestamps\":\"true\""),
	  "the table has in-commit timestamps enabled (delta.enableInCommitTimestamps), which "
	  "portada-worker cannot write" },
	{ PROTO(1, 3, "") META("\"delta.constraints.birthDateCheck\":\"birthDate > '1900-01-01'\""),
	  "the table has the CHECK constraint \"birthDateCheck\" "
	  "(delta.constraints.birthDateCheck), which portada-worker cannot evaluate" },
	{ PROTO(1, 2, "") META_FULL("parquet", "", "", F_X "," F_META("\\\"delta.invariants\\\":"
	  "\\\"{\\\\\\\"expression\\\\\\\":{\\\\\\\"expression\\\\\\\":\\\\\\\"y > 3\\\\\\\"}}\\\"")),
	  "column \"y\" has a column invariant (delta.invariants), which portada-worker "
	  "cannot evaluate" },
	{ PROTO(1, 4, "") META_FULL("parquet", "", "", F_META("\\\"delta.generationExpression\\\":"
	  "\\\"upper(x)\\\"")),
	  "column \"y\" is a generated column (delta.generationExpression), which "
	  "portada-worker cannot compute" },
	{ PROTO(1, 6, "") META_FULL("parquet", "", "", F_META("\\\"delta.identity.start\\\":1,"
	  "\\\"delta.identity.step\\\":1")),
	  "column \"y\" is an identity column (delta.identity.*), which portada-worker "
	  "cannot number" },
	{ PROTO(1, 7, ",\"writerFeatures\":[\"allowColumnDefaults\"]")
	  META_FULL("parquet", "", "", F_META("\\\"CURRENT_DEFAULT\\\":\\\"'a'\\\"")),
	  "column \"y\" has a default value (CURRENT_DEFAULT), which portada-worker "
	  "cannot compute" },
};

START_TEST(writable_refused)
{
	parse_ok(unwritable_logs[_i].log);
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(pw_delta_check_writable(&commit.protocol, &commit.metadata, &err), -1);
	ck_assert_str_eq(err.msg, unwritable_logs[_i].want);
}
END_TEST

/* ---- file names ----------------------------------------------------------- */

START_TEST(version_names)
{
	char name[PW_DELTA_VERSION_NAME_SIZE];

	pw_delta_version_name(0, name);
	ck_assert_str_eq(name, "00000000000000000000.json");
	pw_delta_version_name(12, name);
	ck_assert_str_eq(name, "00000000000000000012.json");
	pw_delta_version_name(PW_DELTA_VERSION_MAX, name);
	ck_assert_str_eq(name, "09223372036854775807.json");
}
END_TEST

static const struct {
	const char *name;
	enum pw_delta_log_kind kind;
	uint64_t version;
	uint32_t part, parts;
} log_names[] = {
	{ "00000000000000000000.json", PW_DELTA_LOG_COMMIT, 0, 0, 0 },
	{ "00000000000000000012.json", PW_DELTA_LOG_COMMIT, 12, 0, 0 },
	{ "09223372036854775807.json", PW_DELTA_LOG_COMMIT, INT64_MAX, 0, 0 },
	{ "00000000000000000010.checkpoint.parquet", PW_DELTA_LOG_CHECKPOINT, 10, 0, 0 },
	{ "00000000000000000010.checkpoint.0000000002.0000000003.parquet",
	  PW_DELTA_LOG_CHECKPOINT_PART, 10, 2, 3 },
	{ "00000000000000000010.checkpoint.0000000001.0000000001.parquet",
	  PW_DELTA_LOG_CHECKPOINT_PART, 10, 1, 1 },
	{ "00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json",
	  PW_DELTA_LOG_CHECKPOINT_V2, 10, 0, 0 },
	{ "00000000000000000006.checkpoint.f5ee283b-37c7-46af-b64c-8f77c6a5c43a.parquet",
	  PW_DELTA_LOG_CHECKPOINT_V2, 6, 0, 0 },
	{ "_last_checkpoint", PW_DELTA_LOG_LAST_CHECKPOINT, 0, 0, 0 },
	{ "0000000000000000012.json", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "000000000000000000012.json", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "0000000000000000001a.json", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "+0000000000000000012.json", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "09223372036854775808.json", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "99999999999999999999.json", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000012.json.tmp", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000012.JSON", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000012.crc", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ ".00000000000000000012.json.crc", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000012", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000004.00000000000000000006.compacted.json", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000010.checkpoint.0000000000.0000000003.parquet", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000010.checkpoint.0000000004.0000000003.parquet", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000010.checkpoint.1.3.parquet", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.crc",
	  PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000010.checkpoint.80a083e8x7026-4e79-81be-64bd76c43a11.json",
	  PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "00000000000000000010.checkpoint.parquet.crc", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "_last_checkpoint.tmp", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "_staged_commits", PW_DELTA_LOG_OTHER, 0, 0, 0 },
	{ "", PW_DELTA_LOG_OTHER, 0, 0, 0 },
};

START_TEST(log_name_kinds)
{
	struct pw_delta_log_name n;

	memset(&n, 0xAA, sizeof n);
	ck_assert_int_eq(pw_delta_log_name_parse(log_names[_i].name, &n), log_names[_i].kind);
	ck_assert_int_eq(n.kind, log_names[_i].kind);
	ck_assert_uint_eq(n.version, log_names[_i].version);
	ck_assert_uint_eq(n.part, log_names[_i].part);
	ck_assert_uint_eq(n.parts, log_names[_i].parts);
}
END_TEST

START_TEST(version_name_round_trip)
{
	static const uint64_t vs[] = { 0, 1, 9, 10, 99999, 1234567890123, PW_DELTA_VERSION_MAX };
	char name[PW_DELTA_VERSION_NAME_SIZE];
	struct pw_delta_log_name n;

	for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
		pw_delta_version_name(vs[i], name);
		ck_assert_uint_eq(strlen(name), 25);
		ck_assert_int_eq(pw_delta_log_name_parse(name, &n), PW_DELTA_LOG_COMMIT);
		ck_assert_uint_eq(n.version, vs[i]);
	}
}
END_TEST

#define NELEM(a) ((int)(sizeof (a) / sizeof (a)[0]))

static Suite *
deltalog_suite(void)
{
	Suite *s = suite_create("deltalog");
	TCase *tc;

	tc = tcase_create("schema");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, schema_write_all_types);
	tcase_add_test(tc, schema_write_refusals);
	tcase_add_test(tc, schema_parse_round_trip);
	tcase_add_test(tc, schema_parse_keeps_metadata);
	tcase_add_loop_test(tc, schema_parse_refusals, 0, NELEM(bad_schemas));
	tcase_add_test(tc, schema_parse_invalid_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("merge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, merge_same_and_reordered);
	tcase_add_test(tc, merge_adds_and_leaves_out);
	tcase_add_test(tc, merge_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("actions");
	tcase_add_checked_fixture(tc, stats_setup, teardown);
	tcase_add_test(tc, protocol_line);
	tcase_add_test(tc, metadata_line);
	tcase_add_test(tc, metadata_update_keeps_the_rest);
	tcase_add_test(tc, txn_line);
	tcase_add_test(tc, commit_info_line);
	tcase_add_test(tc, size_limit_leaves_buffer_alone);
	tcase_add_test(tc, add_line);
	tcase_add_test(tc, add_stats_string_round_trips);
	tcase_add_test(tc, add_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("stats");
	tcase_add_checked_fixture(tc, stats_setup, teardown);
	tcase_add_test(tc, stats_all_types);
	tcase_add_test(tc, stats_all_null_and_empty);
	tcase_add_test(tc, stats_timestamp_rounding);
	tcase_add_test(tc, stats_dates);
	tcase_add_test(tc, stats_doubles);
	tcase_add_test(tc, stats_booleans_and_lists);
	tcase_add_test(tc, stats_strings);
	tcase_add_test(tc, stats_column_names_escaped);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, path_encoding, 0, NELEM(paths));
	tcase_add_test(tc, path_decoding);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parse_spark);
	tcase_add_test(tc, parse_deltars);
	tcase_add_test(tc, parse_databricks);
	tcase_add_test(tc, parse_our_own_commit);
	tcase_add_test(tc, parse_stats_with_nul);
	tcase_add_test(tc, parse_line_handling);
	tcase_add_loop_test(tc, parse_refusals, 0, NELEM(bad_commits));
	tcase_add_test(tc, parse_other_actions);
	suite_add_tcase(s, tc);

	tc = tcase_create("writable");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, writable_accepted, 0, NELEM(writable_logs));
	tcase_add_loop_test(tc, writable_refused, 0, NELEM(unwritable_logs));
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, version_names);
	tcase_add_loop_test(tc, log_name_kinds, 0, NELEM(log_names));
	tcase_add_test(tc, version_name_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(deltalog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
