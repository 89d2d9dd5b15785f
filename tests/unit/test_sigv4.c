/*
 * Tests for src/sigv4.c.  The vectors in sigv4-vectors.json were computed
 * by AWS's own signer (@smithy/signature-v4, see tests/s3/sigv4-vectors.mjs):
 * keys with spaces, '+', '%' and unicode, query parameters to sort and
 * encode, a bare ?uploads, a session token, header values to fold.  Each
 * must give the same canonical request, string to sign and signature.
 * One more is AWS's published "GET Object" example.
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "portada/sigv4.h"

#ifndef PW_SIGV4_VECTORS
#error "PW_SIGV4_VECTORS must name tests/unit/sigv4-vectors.json"
#endif

static const char *
str(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

START_TEST(vectors_from_aws_signer)
{
	json_error_t jerr;
	json_t *all = json_load_file(PW_SIGV4_VECTORS, 0, &jerr);
	size_t i;
	json_t *c;

	ck_assert_msg(all != NULL, "%s: %s", PW_SIGV4_VECTORS, jerr.text);
	ck_assert_uint_ge(json_array_size(all), 8);
	json_array_foreach(all, i, c) {
		const json_t *q = json_object_get(c, "query"), *h = json_object_get(c, "headers");
		struct pw_sigv4_param params[8];
		struct pw_sigv4_header headers[8];
		struct pw_sigv4_creds creds = {
			.access_key = str(c, "access_key"), .secret_key = str(c, "secret_key"),
			.session_token = str(c, "session_token"), .region = str(c, "region"),
			.service = "s3",
		};
		struct pw_sigv4_request req = {
			.method = str(c, "method"), .host = str(c, "host"), .path = str(c, "path"),
			.query = params, .nquery = json_array_size(q),
			.headers = headers, .nheaders = json_array_size(h),
			.payload_hash = str(c, "payload_hash"),
			.now = (time_t)json_integer_value(json_object_get(c, "time")),
		};
		struct pw_sigv4_result r;
		struct pw_error err;
		char want_auth[1024];

		ck_assert(req.nquery <= 8 && req.nheaders <= 8);
		for (size_t k = 0; k < req.nquery; k++) {
			params[k].name = json_string_value(json_array_get(json_array_get(q, k), 0));
			params[k].value = json_string_value(json_array_get(json_array_get(q, k), 1));
		}
		for (size_t k = 0; k < req.nheaders; k++) {
			headers[k].name = json_string_value(json_array_get(json_array_get(h, k), 0));
			headers[k].value = json_string_value(json_array_get(json_array_get(h, k), 1));
		}
		ck_assert_msg(pw_sigv4_sign(&creds, &req, &r, &err) == 0, "%s: %s",
		    str(c, "name"), err.msg);
		ck_assert_str_eq(r.amz_date, str(c, "amz_date"));
		ck_assert_msg(strcmp((char *)r.canonical_request.data,
		    str(c, "canonical_request")) == 0, "%s: canonical request\n%s\nwant\n%s",
		    str(c, "name"), (char *)r.canonical_request.data, str(c, "canonical_request"));
		ck_assert_msg(strcmp((char *)r.string_to_sign.data, str(c, "string_to_sign")) == 0,
		    "%s: string to sign", str(c, "name"));
		ck_assert_msg(strcmp(r.signature, str(c, "signature")) == 0, "%s: signature %s, "
		    "want %s", str(c, "name"), r.signature, str(c, "signature"));
		snprintf(want_auth, sizeof want_auth, "Authorization: AWS4-HMAC-SHA256 "
		    "Credential=%s/%.8s/%s/s3/aws4_request, SignedHeaders=%s, Signature=%s",
		    creds.access_key, r.amz_date, creds.region, str(c, "signed_headers"),
		    str(c, "signature"));
		ck_assert_str_eq((char *)r.authorization.data, want_auth);
		pw_sigv4_result_finish(&r);
	}
	json_decref(all);
}
END_TEST

/* docs.aws.amazon.com, "Signature Calculations for the Authorization Header", GET Object. */
START_TEST(aws_published_get_object)
{
	static const struct pw_sigv4_header range = { "Range", "bytes=0-9" };
	struct pw_sigv4_creds creds = { "AKIAIOSFODNN7EXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "s3" };
	struct pw_sigv4_request req = {
		.method = "GET", .host = "examplebucket.s3.amazonaws.com", .path = "/test.txt",
		.headers = &range, .nheaders = 1,
		.payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		.now = 1369353600,	/* 2013-05-24T00:00:00Z */
	};
	struct pw_sigv4_result r;
	struct pw_error err;

	ck_assert_int_eq(pw_sigv4_sign(&creds, &req, &r, &err), 0);
	ck_assert_str_eq(r.signature,
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	pw_sigv4_result_finish(&r);
}
END_TEST

START_TEST(encoding_and_refusals)
{
	struct pw_buf b;
	struct pw_sigv4_creds creds = { "A", "S", NULL, "us-east-1", "s3" };
	struct pw_sigv4_header bad[] = { { "X-Bad:Name", "v" }, { "X-Ok", "two\nlines" } };
	struct pw_sigv4_header twice[] = { { "Host", "other" } };
	struct pw_sigv4_request req = { .method = "GET", .host = "h", .path = "/k",
	    .payload_hash = PW_SIGV4_UNSIGNED, .now = 0 };
	struct pw_sigv4_result r;
	struct pw_error err;

	pw_buf_init(&b, 1024);
	pw_sigv4_uri_encode(&b, "a/b c+~é", strlen("a/b c+~é"), 1);
	ck_assert_uint_eq(b.len, strlen("a/b%20c%2B~%C3%A9"));
	ck_assert(memcmp(b.data, "a/b%20c%2B~%C3%A9", b.len) == 0);
	pw_buf_reset(&b);
	pw_sigv4_uri_encode(&b, "a/b", 3, 0);
	ck_assert(b.len == 5 && memcmp(b.data, "a%2Fb", 5) == 0);
	pw_buf_finish(&b);

	req.headers = &bad[0];
	req.nheaders = 1;
	ck_assert_int_eq(pw_sigv4_sign(&creds, &req, &r, &err), -1);
	ck_assert_str_eq(err.msg, "header name \"X-Bad:Name\" cannot be signed");
	req.headers = &bad[1];
	ck_assert_int_eq(pw_sigv4_sign(&creds, &req, &r, &err), -1);
	ck_assert_str_eq(err.msg, "header X-Ok: a value with a line break cannot be signed");
	req.headers = twice;
	ck_assert_int_eq(pw_sigv4_sign(&creds, &req, &r, &err), -1);
	ck_assert_str_eq(err.msg, "header host is given twice");
	req.headers = NULL;
	req.nheaders = 0;
	req.path = "k";
	ck_assert_int_eq(pw_sigv4_sign(&creds, &req, &r, &err), -1);
	ck_assert_str_eq(err.msg, "the path to sign must start with '/'");
}
END_TEST

static Suite *
sigv4_suite(void)
{
	Suite *s = suite_create("sigv4");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, vectors_from_aws_signer);
	tcase_add_test(tc, aws_published_get_object);
	tcase_add_test(tc, encoding_and_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sigv4_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
