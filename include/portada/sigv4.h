/*
 * sigv4: AWS Signature Version 4 for S3 requests, computed here (SHA-256
 * and HMAC from sha256.h) rather than by libcurl 7.88, whose CURLOPT_AWS_SIGV4
 * leaves out x-amz-content-sha256 and neither sorts nor encodes the query
 * or the path.  Pure code: no I/O, the time is an argument.
 *
 * What is signed (the S3 flavour of SigV4):
 *   method, the path URI-encoded once ('/' kept; S3 does not encode it
 *   twice), the query sorted by encoded name then value, the headers given
 *   (names lower-cased, values trimmed and inner runs of spaces folded,
 *   sorted by name) plus host, x-amz-date, x-amz-content-sha256 and, with a
 *   session token, x-amz-security-token; and the payload's hex SHA-256 or
 *   "UNSIGNED-PAYLOAD".
 */
#ifndef PORTADA_SIGV4_H
#define PORTADA_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "portada/buf.h"
#include "portada/error.h"

#define PW_SIGV4_UNSIGNED	"UNSIGNED-PAYLOAD"
#define PW_SIGV4_HEX_SIZE	65	/* a SHA-256 in hex, NUL included */

struct pw_sigv4_creds {
	const char	*access_key;
	const char	*secret_key;
	const char	*session_token;	/* or NULL */
	const char	*region;	/* "us-east-1" */
	const char	*service;	/* "s3" */
};

struct pw_sigv4_param {
	const char	*name;		/* raw (not yet encoded) */
	const char	*value;		/* raw; "" for a bare name such as ?uploads */
};

struct pw_sigv4_header {
	const char	*name;
	const char	*value;
};

struct pw_sigv4_request {
	const char			*method;	/* "PUT" */
	const char			*host;		/* as sent, with ":port" if not default */
	const char			*path;		/* raw: "/bucket/key with spaces" */
	const struct pw_sigv4_param	*query;
	size_t				 nquery;
	const struct pw_sigv4_header	*headers;	/* others to sign, e.g. If-None-Match */
	size_t				 nheaders;
	const char			*payload_hash;	/* hex SHA-256, or PW_SIGV4_UNSIGNED */
	time_t				 now;
};

/* What to send: every header is "Name: value" text for curl's slist. */
struct pw_sigv4_result {
	char	amz_date[17];			/* 20251129T101500Z */
	char	signature[PW_SIGV4_HEX_SIZE];
	struct pw_buf authorization;		/* "Authorization: AWS4-HMAC-SHA256 ..." */
	struct pw_buf canonical_request;	/* for tests and for debugging a 403 */
	struct pw_buf string_to_sign;
	struct pw_buf url_path;			/* the encoded path and query to put in the URL */
};

/*
 * Sign req.  out's buffers are initialised here; free them with
 * pw_sigv4_result_finish().  Fails only on a request it cannot sign
 * (a path not starting with '/', a header name with ':' or a control
 * character, a value with a newline), naming it.
 */
int pw_sigv4_sign(const struct pw_sigv4_creds *creds, const struct pw_sigv4_request *req,
    struct pw_sigv4_result *out, struct pw_error *err) PW_MUST_CHECK;
void pw_sigv4_result_finish(struct pw_sigv4_result *out);

/* Hex SHA-256 of data. */
void pw_sigv4_sha256_hex(const void *data, size_t n, char out[PW_SIGV4_HEX_SIZE]);

/*
 * RFC 3986 encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - . _ ~
 * becomes %XX (upper-case hex); '/' too unless keep_slash.
 */
void pw_sigv4_uri_encode(struct pw_buf *out, const char *s, size_t n, int keep_slash);

#endif
