/*
 * curl_dl: libcurl, loaded with dlopen() the first time HTTP is needed.
 *
 * Only an S3 lake and uploads at URLs use HTTP, yet linking libcurl maps its
 * TLS, Kerberos, LDAP and SSH libraries into every worker: about 4 MiB of
 * idle resident set on Debian 12.  http.c includes this header instead of
 * <curl/curl.h> and reads the same: each curl_* name it calls is a macro for
 * the matching pointer in pw_curl, valid once pw_curl_load() has succeeded.
 * Private to http.c.
 */
#ifndef PORTADA_CURL_DL_H
#define PORTADA_CURL_DL_H

/* curl's type-checking macros call the real functions by name. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "portada/error.h"

struct pw_curl_api {
	CURLcode	(*global_init)(long);
	curl_version_info_data *(*version_info)(CURLversion);
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode	(*easy_pause)(CURL *, int);
	void		(*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	CURLM		*(*multi_init)(void);
	CURLMcode	(*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode	(*multi_add_handle)(CURLM *, CURL *);
	CURLMcode	(*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode	(*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode	(*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	CURLMcode	(*multi_cleanup)(CURLM *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
};

extern struct pw_curl_api pw_curl;

/*
 * Load libcurl.so.4, check its version and run curl_global_init(), once per
 * process; later calls return at once.  The library is never unloaded.
 */
int pw_curl_load(struct pw_error *err) PW_MUST_CHECK;

#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init	pw_curl.global_init
#define curl_version_info	pw_curl.version_info
#define curl_easy_init		pw_curl.easy_init
#define curl_easy_setopt	pw_curl.easy_setopt
#define curl_easy_getinfo	pw_curl.easy_getinfo
#define curl_easy_pause		pw_curl.easy_pause
#define curl_easy_cleanup	pw_curl.easy_cleanup
#define curl_easy_strerror	pw_curl.easy_strerror
#define curl_multi_init		pw_curl.multi_init
#define curl_multi_setopt	pw_curl.multi_setopt
#define curl_multi_add_handle	pw_curl.multi_add_handle
#define curl_multi_remove_handle pw_curl.multi_remove_handle
#define curl_multi_assign	pw_curl.multi_assign
#define curl_multi_socket_action pw_curl.multi_socket_action
#define curl_multi_info_read	pw_curl.multi_info_read
#define curl_multi_cleanup	pw_curl.multi_cleanup
#define curl_slist_append	pw_curl.slist_append
#define curl_slist_free_all	pw_curl.slist_free_all

#endif
