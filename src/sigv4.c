/*
 * AWS Signature Version 4 (see include/portada/sigv4.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/sha256.h"
#include "portada/sigv4.h"

#define SIGN_MAX	((size_t)16 << 20)	/* no request we send comes near */

static const char hex[] = "0123456789abcdef";

static void
to_hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
pw_sigv4_sha256_hex(const void *data, size_t n, char out[PW_SIGV4_HEX_SIZE])
{
	unsigned char md[PW_SHA256_SIZE];

	pw_sha256(data, n, md);
	to_hex(md, sizeof md, out);
}

static void
hmac(const void *key, size_t keylen, const char *msg, size_t n,
    unsigned char out[PW_SHA256_SIZE])
{
	pw_hmac_sha256(key, keylen, msg, n, out);
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends to a buffer whose limit no request reaches; a failure is a bug. */
static void
put(struct pw_buf *b, const void *p, size_t n)
{
	if (pw_buf_append(b, p, n) == -1)
		abort();
}

static void
puts_(struct pw_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

void
pw_sigv4_uri_encode(struct pw_buf *out, const char *s, size_t n, int keep_slash)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			put(out, &c, 1);
		} else {
			char e[3] = { '%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15] };

			put(out, e, 3);
		}
	}
}

/* ---- the canonical request ---- */

struct kv {
	char	*k, *v;		/* encoded query params, or lower-cased header names and values */
};

static int
kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c != 0 ? c : strcmp(x->v, y->v);
}

static char *
encoded(const char *s)
{
	struct pw_buf b;
	char *r;

	pw_buf_init(&b, SIGN_MAX);
	pw_sigv4_uri_encode(&b, s, strlen(s), 0);
	put(&b, "", 1);
	r = (char *)b.data;
	return r;
}

/* Header value: leading and trailing spaces trimmed, runs of spaces folded. */
static char *
header_value(const char *v)
{
	size_t n = strlen(v), o = 0;
	char *r = pw_xmalloc(n + 1);
	int space = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space && o > 0)
			r[o++] = ' ';
		space = 0;
		r[o++] = *v;
	}
	r[o] = '\0';
	return r;
}

static int
check_header(const struct pw_sigv4_header *h, struct pw_error *err)
{
	if (h->name[0] == '\0') {
		pw_error_set(err, "an empty header name cannot be signed");
		return -1;
	}
	for (const char *p = h->name; *p != '\0'; p++) {
		if (*p == ':' || (unsigned char)*p <= ' ' || *p == 0x7f) {
			pw_error_set(err, "header name \"%s\" cannot be signed", h->name);
			return -1;
		}
	}
	if (strpbrk(h->value, "\r\n") != NULL) {
		pw_error_set(err, "header %s: a value with a line break cannot be signed", h->name);
		return -1;
	}
	return 0;
}

static void
kv_free(struct kv *a, size_t n)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(a[i].k);
		free(a[i].v);
	}
	free(a);
}

int
pw_sigv4_sign(const struct pw_sigv4_creds *creds, const struct pw_sigv4_request *req,
    struct pw_sigv4_result *out, struct pw_error *err)
{
	struct kv *q = NULL, *h = NULL;
	size_t nh = 0;
	struct tm tm;
	char date[9], crhash[PW_SIGV4_HEX_SIZE];
	unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
	struct pw_buf secret, signed_names;
	int rc = -1;

	memset(out, 0, sizeof *out);
	pw_buf_init(&out->authorization, SIGN_MAX);
	pw_buf_init(&out->canonical_request, SIGN_MAX);
	pw_buf_init(&out->string_to_sign, SIGN_MAX);
	pw_buf_init(&out->url_path, SIGN_MAX);
	pw_buf_init(&secret, SIGN_MAX);
	pw_buf_init(&signed_names, SIGN_MAX);
	if (req->path == NULL || req->path[0] != '/') {
		pw_error_set(err, "the path to sign must start with '/'");
		goto out;
	}
	gmtime_r(&req->now, &tm);
	strftime(out->amz_date, sizeof out->amz_date, "%Y%m%dT%H%M%SZ", &tm);
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';

	/* Query: encode, then sort by name and value. */
	q = pw_xcalloc(req->nquery + 1, sizeof *q);
	for (size_t i = 0; i < req->nquery; i++) {
		q[i].k = encoded(req->query[i].name);
		q[i].v = encoded(req->query[i].value != NULL ? req->query[i].value : "");
	}
	qsort(q, req->nquery, sizeof *q, kv_cmp);

	/* Headers: the caller's plus the ones SigV4 needs. */
	h = pw_xcalloc(req->nheaders + 4, sizeof *h);
	for (size_t i = 0; i < req->nheaders; i++) {
		if (check_header(&req->headers[i], err) == -1)
			goto out;
		h[nh].k = pw_xstrdup(req->headers[i].name);
		for (char *p = h[nh].k; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		h[nh++].v = header_value(req->headers[i].value);
	}
	h[nh].k = pw_xstrdup("host");
	h[nh++].v = header_value(req->host);
	h[nh].k = pw_xstrdup("x-amz-content-sha256");
	h[nh++].v = pw_xstrdup(req->payload_hash);
	h[nh].k = pw_xstrdup("x-amz-date");
	h[nh++].v = pw_xstrdup(out->amz_date);
	if (creds->session_token != NULL && creds->session_token[0] != '\0') {
		h[nh].k = pw_xstrdup("x-amz-security-token");
		h[nh++].v = pw_xstrdup(creds->session_token);
	}
	qsort(h, nh, sizeof *h, kv_cmp);
	for (size_t i = 1; i < nh; i++) {
		if (strcmp(h[i].k, h[i - 1].k) == 0) {
			pw_error_set(err, "header %s is given twice", h[i].k);
			goto out;
		}
	}

	/* The path as sent and as signed: each byte encoded once, '/' kept. */
	pw_sigv4_uri_encode(&out->url_path, req->path, strlen(req->path), 1);

	puts_(&out->canonical_request, req->method);
	puts_(&out->canonical_request, "\n");
	put(&out->canonical_request, out->url_path.data, out->url_path.len);
	puts_(&out->canonical_request, "\n");
	for (size_t i = 0; i < req->nquery; i++) {
		const char *sep = i == 0 ? "?" : "&";

		if (i > 0)
			puts_(&out->canonical_request, "&");
		puts_(&out->canonical_request, q[i].k);
		puts_(&out->canonical_request, "=");
		puts_(&out->canonical_request, q[i].v);
		puts_(&out->url_path, sep);
		puts_(&out->url_path, q[i].k);
		puts_(&out->url_path, "=");
		puts_(&out->url_path, q[i].v);
	}
	puts_(&out->canonical_request, "\n");
	for (size_t i = 0; i < nh; i++) {
		puts_(&out->canonical_request, h[i].k);
		puts_(&out->canonical_request, ":");
		puts_(&out->canonical_request, h[i].v);
		puts_(&out->canonical_request, "\n");
		if (i > 0)
			puts_(&signed_names, ";");
		puts_(&signed_names, h[i].k);
	}
	puts_(&out->canonical_request, "\n");
	put(&out->canonical_request, signed_names.data, signed_names.len);
	puts_(&out->canonical_request, "\n");
	puts_(&out->canonical_request, req->payload_hash);

	/* String to sign, signing key, signature. */
	pw_sigv4_sha256_hex(out->canonical_request.data, out->canonical_request.len, crhash);
	puts_(&out->string_to_sign, "AWS4-HMAC-SHA256\n");
	puts_(&out->string_to_sign, out->amz_date);
	puts_(&out->string_to_sign, "\n");
	puts_(&out->string_to_sign, date);
	puts_(&out->string_to_sign, "/");
	puts_(&out->string_to_sign, creds->region);
	puts_(&out->string_to_sign, "/");
	puts_(&out->string_to_sign, creds->service);
	puts_(&out->string_to_sign, "/aws4_request\n");
	puts_(&out->string_to_sign, crhash);

	puts_(&secret, "AWS4");
	puts_(&secret, creds->secret_key);
	hmac(secret.data, secret.len, date, strlen(date), k1);
	hmac(k1, 32, creds->region, strlen(creds->region), k2);
	hmac(k2, 32, creds->service, strlen(creds->service), k3);
	hmac(k3, 32, "aws4_request", 12, k4);
	hmac(k4, 32, (const char *)out->string_to_sign.data, out->string_to_sign.len, sig);
	to_hex(sig, sizeof sig, out->signature);

	puts_(&out->authorization, "Authorization: AWS4-HMAC-SHA256 Credential=");
	puts_(&out->authorization, creds->access_key);
	puts_(&out->authorization, "/");
	puts_(&out->authorization, date);
	puts_(&out->authorization, "/");
	puts_(&out->authorization, creds->region);
	puts_(&out->authorization, "/");
	puts_(&out->authorization, creds->service);
	puts_(&out->authorization, "/aws4_request, SignedHeaders=");
	put(&out->authorization, signed_names.data, signed_names.len);
	puts_(&out->authorization, ", Signature=");
	puts_(&out->authorization, out->signature);
	/* NUL-terminate every text buffer, outside its length. */
	put(&out->authorization, "", 1);
	out->authorization.len--;
	put(&out->canonical_request, "", 1);
	out->canonical_request.len--;
	put(&out->string_to_sign, "", 1);
	out->string_to_sign.len--;
	put(&out->url_path, "", 1);
	out->url_path.len--;
	rc = 0;
out:
	/* The secret and the keys derived from it do not stay in memory. */
	if (secret.data != NULL)
		explicit_bzero(secret.data, secret.cap);
	explicit_bzero(k1, sizeof k1);
	explicit_bzero(k2, sizeof k2);
	explicit_bzero(k3, sizeof k3);
	explicit_bzero(k4, sizeof k4);
	pw_buf_finish(&secret);
	pw_buf_finish(&signed_names);
	kv_free(q, req->nquery);
	kv_free(h, nh);
	if (rc == -1)
		pw_sigv4_result_finish(out);
	return rc;
}

void
pw_sigv4_result_finish(struct pw_sigv4_result *out)
{
	pw_buf_finish(&out->authorization);
	pw_buf_finish(&out->canonical_request);
	pw_buf_finish(&out->string_to_sign);
	pw_buf_finish(&out->url_path);
}
