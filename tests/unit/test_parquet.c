/*
 * Tests for src/parquet.c and src/compress.c that need no outside reader:
 * schema and option checks, refused rows (named by column and row, and
 * leaving the output byte for byte as if they had never been offered),
 * the memory limit, a failing sink, file statistics, and each codec's
 * output decompressed by its own library.  What the bytes mean to real
 * readers is tested in tests/interop with DuckDB and hyparquet.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "portada/buf.h"
#include "portada/compress.h"
#include "portada/parquet.h"

struct out {
	struct pw_buf	b;
	size_t		fail_after;	/* fail once this many bytes are in; 0 = never */
};

static int
sink(void *ctx, const void *p, size_t n, struct pw_error *err)
{
	struct out *o = ctx;

	if (o->fail_after > 0 && o->b.len + n > o->fail_after) {
		pw_error_set(err, "disk full");
		return -1;
	}
	ck_assert_int_eq(pw_buf_append(&o->b, p, n), 0);
	return 0;
}

static void
out_init(struct out *o)
{
	memset(o, 0, sizeof *o);
	pw_buf_init(&o->b, SIZE_MAX / 4);
}

static const struct pw_pq_column cols[] = {
	{ "name", PW_PQ_STRING, false },
	{ "n", PW_PQ_LONG, true },
	{ "small", PW_PQ_INTEGER, false },
	{ "day", PW_PQ_DATE, false },
	{ "at", PW_PQ_TIMESTAMP, false },
	{ "x", PW_PQ_DOUBLE, false },
	{ "ok", PW_PQ_BOOLEAN, false },
	{ "voices", PW_PQ_STRING_LIST, false },
};
#define NCOLS (sizeof cols / sizeof cols[0])

/* A valid row, different for each i. */
static void
good_row(struct pw_pq_value *v, int i, char *buf, size_t bufsz, struct pw_pq_str *items)
{
	snprintf(buf, bufsz, "name %d", i % 13);
	items[0] = (struct pw_pq_str){ buf, strlen(buf) };
	items[1] = (struct pw_pq_str){ NULL, 0 };
	v[0] = i % 5 == 0 ? pw_pq_null() : pw_pq_string(buf, strlen(buf));
	v[1] = pw_pq_int(i);
	v[2] = pw_pq_int(-i);
	v[3] = pw_pq_int(i - 1000);
	v[4] = pw_pq_int((int64_t)i * 1000000);
	v[5] = pw_pq_double(i / 4.0);
	v[6] = pw_pq_bool(i & 1);
	v[7] = i % 3 == 0 ? pw_pq_null() : pw_pq_list(items, (size_t)(i % 3));
}

static struct pw_pq_writer *
open_small(struct out *o, struct pw_pq_options *opt)
{
	struct pw_error err;
	struct pw_pq_writer *w;

	/* Small pages and groups so that a few rows cross every boundary. */
	opt->page_bytes = 64;
	opt->row_group_rows = 17;
	opt->dictionary_bytes = 40;
	w = pw_pq_open(cols, NCOLS, opt, sink, o, &err);
	ck_assert_msg(w != NULL, "%s", err.msg);
	return w;
}

START_TEST(schema_checks)
{
	struct pw_pq_column bad[2] = { { "a", PW_PQ_LONG, false }, { "a", PW_PQ_LONG, false } };
	struct pw_pq_options opt;
	struct pw_error err;
	struct out o;

	out_init(&o);
	pw_pq_options_default(&opt);
	ck_assert_ptr_null(pw_pq_open(bad, 0, &opt, sink, &o, &err));
	ck_assert_str_eq(err.msg, "a Parquet schema needs 1 to 32767 columns, not 0");
	ck_assert_ptr_null(pw_pq_open(bad, 2, &opt, sink, &o, &err));
	ck_assert_str_eq(err.msg, "column \"a\" appears twice");
	bad[1].name = "";
	ck_assert_ptr_null(pw_pq_open(bad, 2, &opt, sink, &o, &err));
	ck_assert_str_eq(err.msg, "column 1 has no name");
	bad[1].name = "b";
	bad[1].type = (enum pw_pq_type)99;
	ck_assert_ptr_null(pw_pq_open(bad, 2, &opt, sink, &o, &err));
	ck_assert_str_eq(err.msg, "column \"b\": unknown type 99");
	bad[1].type = PW_PQ_LONG;
	opt.level = 40;
	ck_assert_ptr_null(pw_pq_open(bad, 2, &opt, sink, &o, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "zstd level 40"));
	opt.level = 0;
	opt.codec = PW_PQ_SNAPPY;
	opt.level = 1;
	ck_assert_ptr_null(pw_pq_open(bad, 2, &opt, sink, &o, &err));
	ck_assert_str_eq(err.msg, "codec snappy takes no level (got 1)");
	ck_assert_uint_eq(o.b.len, 0);
	pw_buf_finish(&o.b);
}
END_TEST

START_TEST(codec_names)
{
	enum pw_pq_codec c;

	ck_assert_int_eq(pw_pq_codec_parse("zstd", &c), 0);
	ck_assert_int_eq(c, PW_PQ_ZSTD);
	ck_assert_int_eq(pw_pq_codec_parse("none", &c), 0);
	ck_assert_int_eq(c, PW_PQ_UNCOMPRESSED);
	ck_assert_int_eq(pw_pq_codec_parse("lz4", &c), -1);
	ck_assert_str_eq(pw_pq_codec_name(PW_PQ_GZIP), "gzip");
}
END_TEST

/* What each kind of bad row is told, and that the writer goes on. */
START_TEST(refusals)
{
	struct pw_pq_options opt;
	struct pw_pq_value v[NCOLS];
	struct pw_pq_str items[2];
	struct pw_error err;
	struct out o;
	char buf[32];
	struct pw_pq_writer *w;

	out_init(&o);
	pw_pq_options_default(&opt);
	w = open_small(&o, &opt);
	good_row(v, 1, buf, sizeof buf, items);
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), 0);

	v[1] = pw_pq_null();
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), -1);
	ck_assert_str_eq(err.msg, "column \"n\", row 1: null in a REQUIRED long column");
	v[1] = pw_pq_string("7", 1);
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), -1);
	ck_assert_str_eq(err.msg, "column \"n\", row 1: a long column cannot hold a string");
	v[1] = pw_pq_int(7);
	v[2] = pw_pq_int(INT64_C(2147483648));
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), -1);
	ck_assert_str_eq(err.msg,
	    "column \"small\", row 1: 2147483648 does not fit in a 32-bit integer column");
	v[2] = pw_pq_int(INT32_MIN);
	v[3] = pw_pq_double(1.5);
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), -1);
	ck_assert_str_eq(err.msg, "column \"day\", row 1: a date column cannot hold a double");
	v[3] = pw_pq_int(0);
	v[0] = pw_pq_string("ok\xed\xa0\x80", 5);
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), -1);
	ck_assert_str_eq(err.msg,
	    "column \"name\", row 1: string is not UTF-8 (bad byte 0xed at offset 2)");
	v[0] = pw_pq_null();
	items[0] = (struct pw_pq_str){ "fine", 4 };
	items[1] = (struct pw_pq_str){ "\xc3", 1 };
	v[7] = pw_pq_list(items, 2);
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), -1);
	ck_assert_str_eq(err.msg, "column \"voices\", row 1: list item 1: string is not UTF-8 "
	    "(bad byte 0xc3 at offset 0)");
	v[7] = pw_pq_string("a", 1);
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), -1);
	ck_assert_str_eq(err.msg,
	    "column \"voices\", row 1: a list of strings column cannot hold a string");
	v[7] = pw_pq_list(items, 1);
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), 0);
	ck_assert_uint_eq(pw_pq_rows(w), 2);
	ck_assert_int_eq(pw_pq_close(w, NULL, &err), 0);
	ck_assert_int_eq(pw_pq_write_row(w, v, &err), -1);
	ck_assert_str_eq(err.msg, "the Parquet writer is closed");
	pw_pq_destroy(w);
	pw_buf_finish(&o.b);
}
END_TEST

/* Offering bad rows in between must not change a single output byte. */
START_TEST(refused_rows_change_nothing)
{
	struct out a, b;
	struct pw_pq_options opt;
	struct pw_pq_writer *wa, *wb;
	struct pw_error err;

	out_init(&a);
	out_init(&b);
	for (int codec = 0; codec < 4; codec++) {
		static const enum pw_pq_codec codecs[] = { PW_PQ_ZSTD, PW_PQ_SNAPPY,
		    PW_PQ_GZIP, PW_PQ_UNCOMPRESSED };

		pw_buf_reset(&a.b);
		pw_buf_reset(&b.b);
		pw_pq_options_default(&opt);
		opt.codec = codecs[codec];
		wa = open_small(&a, &opt);
		wb = open_small(&b, &opt);
		for (int i = 0; i < 200; i++) {
			struct pw_pq_value v[NCOLS];
			struct pw_pq_str items[2];
			char buf[32];

			good_row(v, i, buf, sizeof buf, items);
			ck_assert_int_eq(pw_pq_write_row(wa, v, &err), 0);
			ck_assert_int_eq(pw_pq_write_row(wb, v, &err), 0);
			/* The same row spoiled in its last column, after every
			 * other value of it has been checked. */
			good_row(v, i + 7, buf, sizeof buf, items);
			v[NCOLS - 1] = pw_pq_list(NULL, 3);
			ck_assert_int_eq(pw_pq_write_row(wb, v, &err), -1);
		}
		ck_assert_int_eq(pw_pq_close(wa, NULL, &err), 0);
		ck_assert_int_eq(pw_pq_close(wb, NULL, &err), 0);
		ck_assert_uint_eq(a.b.len, b.b.len);
		ck_assert(memcmp(a.b.data, b.b.data, a.b.len) == 0);
		pw_pq_destroy(wa);
		pw_pq_destroy(wb);
	}
	pw_buf_finish(&a.b);
	pw_buf_finish(&b.b);
}
END_TEST

START_TEST(memory_limit)
{
	static const struct pw_pq_column one[] = { { "s", PW_PQ_STRING, false } };
	struct pw_pq_options opt;
	struct pw_error err;
	struct out o;
	struct pw_pq_writer *w;
	char *big = malloc(5000);
	struct pw_pq_value v;

	memset(big, 'x', 5000);
	out_init(&o);
	pw_pq_options_default(&opt);
	opt.memory_limit = 4096;
	opt.row_group_bytes = 2048;
	w = pw_pq_open(one, 1, &opt, sink, &o, &err);
	ck_assert_ptr_nonnull(w);
	v = pw_pq_string(big, 1000);
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(pw_pq_write_row(w, &v, &err), 0);
		ck_assert_uint_le(pw_pq_held_bytes(w), 4096);
	}
	v = pw_pq_string(big, 5000);
	ck_assert_int_eq(pw_pq_write_row(w, &v, &err), -1);
	ck_assert_str_eq(err.msg, "row 20: it needs 5649 bytes, over the Parquet writer's "
	    "memory limit of 4096 bytes");
	v = pw_pq_string(big, 10);
	ck_assert_int_eq(pw_pq_write_row(w, &v, &err), 0);
	ck_assert_int_eq(pw_pq_close(w, NULL, &err), 0);
	pw_pq_destroy(w);
	pw_buf_finish(&o.b);
	free(big);
}
END_TEST

/* A sink failure poisons the writer: nothing after it pretends to work. */
START_TEST(failing_sink)
{
	struct pw_pq_options opt;
	struct pw_error err;
	struct out o;
	struct pw_pq_writer *w;
	int i, rc = 0;

	out_init(&o);
	o.fail_after = 300;
	pw_pq_options_default(&opt);
	w = open_small(&o, &opt);
	for (i = 0; i < 1000 && rc == 0; i++) {
		struct pw_pq_value v[NCOLS];
		struct pw_pq_str items[2];
		char buf[32];

		good_row(v, i, buf, sizeof buf, items);
		rc = pw_pq_write_row(w, v, &err);
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err.msg, "disk full");
	ck_assert_int_eq(pw_pq_close(w, NULL, &err), -1);
	ck_assert_str_eq(err.msg, "the Parquet writer failed earlier; its output is unusable");
	pw_pq_destroy(w);

	o.fail_after = 2;	/* even "PAR1" cannot be written */
	pw_buf_reset(&o.b);
	ck_assert_ptr_null(pw_pq_open(cols, NCOLS, &opt, sink, &o, &err));
	ck_assert_str_eq(err.msg, "disk full");
	pw_buf_finish(&o.b);
}
END_TEST

START_TEST(empty_file)
{
	struct pw_pq_options opt;
	const struct pw_pq_file_stats *st;
	struct pw_error err;
	struct out o;
	struct pw_pq_writer *w;
	uint32_t flen;

	out_init(&o);
	pw_pq_options_default(&opt);
	w = pw_pq_open(cols, NCOLS, &opt, sink, &o, &err);
	ck_assert_int_eq(pw_pq_close(w, &st, &err), 0);
	ck_assert_uint_eq(st->num_rows, 0);
	ck_assert_uint_eq(st->file_bytes, o.b.len);
	ck_assert(memcmp(o.b.data, "PAR1", 4) == 0);
	ck_assert(memcmp(o.b.data + o.b.len - 4, "PAR1", 4) == 0);
	memcpy(&flen, o.b.data + o.b.len - 8, 4);
	ck_assert_uint_eq(flen, o.b.len - 12);
	for (size_t i = 0; i < NCOLS; i++) {
		ck_assert(!st->columns[i].has_min_max);
		ck_assert_uint_eq(st->columns[i].null_count, 0);
	}
	pw_pq_destroy(w);
	pw_buf_finish(&o.b);
}
END_TEST

static void
check_str(struct pw_pq_str s, const char *want)
{
	ck_assert_uint_eq(s.n, strlen(want));
	ck_assert(memcmp(s.p, want, s.n) == 0);
}

START_TEST(file_stats)
{
	static const struct pw_pq_column sc[] = {
		{ "s", PW_PQ_STRING, false }, { "x", PW_PQ_DOUBLE, false },
		{ "v", PW_PQ_STRING_LIST, false }, { "b", PW_PQ_BOOLEAN, true },
	};
	static const char *const strs[] = { "abcdefgh", "abcdzz", "abc", NULL, "abcdzzzz" };
	static const double xs[] = { 0.0, -0.0, 2.5, NAN, 1.0 };
	struct pw_pq_options opt;
	const struct pw_pq_file_stats *st;
	struct pw_error err;
	struct out o;
	struct pw_pq_writer *w;

	out_init(&o);
	pw_pq_options_default(&opt);
	opt.stats_bytes = 4;
	opt.row_group_rows = 2;
	w = pw_pq_open(sc, 4, &opt, sink, &o, &err);
	for (int i = 0; i < 5; i++) {
		struct pw_pq_str items[2] = { { "b", 1 }, { NULL, 0 } };
		struct pw_pq_value v[4] = {
			strs[i] ? pw_pq_string(strs[i], strlen(strs[i])) : pw_pq_null(),
			pw_pq_double(xs[i]),
			i == 0 ? pw_pq_null() : pw_pq_list(items, (size_t)(i % 3)),
			pw_pq_bool(false),
		};
		ck_assert_msg(pw_pq_write_row(w, v, &err) == 0, "%s", err.msg);
	}
	ck_assert_int_eq(pw_pq_close(w, &st, &err), 0);
	ck_assert_uint_eq(st->num_rows, 5);
	ck_assert_uint_eq(st->columns[0].null_count, 1);
	check_str(st->columns[0].min_s, "abc");
	ck_assert(st->columns[0].min_exact);
	check_str(st->columns[0].max_s, "abce");	/* "abcdzzzz" cut to "abcd", bumped */
	ck_assert(!st->columns[0].max_exact);
	ck_assert(st->columns[1].has_min_max);
	ck_assert(st->columns[1].min.d == -0.0 && signbit(st->columns[1].min.d));
	ck_assert(st->columns[1].max.d == 2.5);
	/* null list, [b], [b, null], empty list, [b]: null list + null item + empty */
	ck_assert_uint_eq(st->columns[2].null_count, 3);
	check_str(st->columns[2].min_s, "b");
	check_str(st->columns[2].max_s, "b");
	ck_assert(!st->columns[3].min.b && !st->columns[3].max.b);
	ck_assert_uint_eq(st->columns[3].null_count, 0);
	pw_pq_destroy(w);
	pw_buf_finish(&o.b);
}
END_TEST

/* Each codec's output, decompressed by its own library, is the input. */
START_TEST(codecs_round_trip)
{
	static const enum pw_pq_codec codecs[] = { PW_PQ_UNCOMPRESSED, PW_PQ_SNAPPY,
	    PW_PQ_GZIP, PW_PQ_ZSTD };
	enum pw_pq_codec codec = codecs[_i];
	size_t n = 300000;
	unsigned char *in = malloc(n), *back = malloc(n);
	struct pw_compressor *c;
	struct pw_error err;
	struct pw_buf out;

	for (size_t i = 0; i < n; i++)
		in[i] = (unsigned char)((i * 7) % 251 < 100 ? 'a' + i % 3 : (i * 31) % 256);
	c = pw_compressor_create(codec, 0, &err);
	ck_assert_ptr_nonnull(c);
	pw_buf_init(&out, SIZE_MAX / 4);
	/* Twice, so that reusing the codec state is covered. */
	for (int round = 0; round < 2; round++) {
		pw_buf_reset(&out);
		ck_assert_int_eq(pw_compress(c, in, n - (size_t)round * 1000, &out, &err), 0);
		ck_assert_uint_le(out.len, pw_compress_bound(c, n));
		size_t want = n - (size_t)round * 1000, got = 0;

		memset(back, 0, n);
		switch (codec) {
		case PW_PQ_UNCOMPRESSED:
			memcpy(back, out.data, out.len);
			got = out.len;
			break;
		case PW_PQ_SNAPPY:
			got = n;
			ck_assert_int_eq(snappy_uncompress((const char *)out.data, out.len,
			    (char *)back, &got), SNAPPY_OK);
			break;
		case PW_PQ_ZSTD:
			got = ZSTD_decompress(back, n, out.data, out.len);
			ck_assert(!ZSTD_isError(got));
			break;
		case PW_PQ_GZIP: {
			z_stream z;

			memset(&z, 0, sizeof z);
			ck_assert(out.data[0] == 0x1f && out.data[1] == 0x8b);	/* RFC 1952 */
			ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
			z.next_in = out.data;
			z.avail_in = (uInt)out.len;
			z.next_out = back;
			z.avail_out = (uInt)n;
			ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
			got = n - z.avail_out;
			inflateEnd(&z);
			break;
		}
		}
		ck_assert_uint_eq(got, want);
		ck_assert(memcmp(in, back, want) == 0);
	}
	/* A limit too small is an error, not an overrun. */
	{
		struct pw_buf tiny;

		pw_buf_init(&tiny, 16);
		ck_assert_int_eq(pw_compress(c, in, n, &tiny, &err), -1);
		ck_assert_uint_eq(tiny.len, 0);
		pw_buf_finish(&tiny);
	}
	pw_compressor_destroy(c);
	pw_buf_finish(&out);
	free(in);
	free(back);
}
END_TEST

static Suite *
parquet_suite(void)
{
	Suite *s = suite_create("parquet");
	TCase *tc = tcase_create("writer");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, schema_checks);
	tcase_add_test(tc, codec_names);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, refused_rows_change_nothing);
	tcase_add_test(tc, memory_limit);
	tcase_add_test(tc, failing_sink);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, file_stats);
	tcase_add_loop_test(tc, codecs_round_trip, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parquet_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
