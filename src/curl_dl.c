/*
 * libcurl loaded at run time (see src/curl_dl.h).
 */
#include <dlfcn.h>
#include <stddef.h>

#include "curl_dl.h"

#define CURL_SONAME	"libcurl.so.4"
#define CURL_MIN	0x074400	/* 7.68.0, as meson.build asks of the headers */

struct pw_curl_api pw_curl;

static const struct {
	const char	*name;
	size_t		 offset;
} symbols[] = {
#define SYM(f) { "curl_" #f, offsetof(struct pw_curl_api, f) }
	SYM(global_init), SYM(version_info),
	SYM(easy_init), SYM(easy_setopt), SYM(easy_getinfo), SYM(easy_pause),
	SYM(easy_cleanup), SYM(easy_strerror),
	SYM(multi_init), SYM(multi_setopt), SYM(multi_add_handle),
	SYM(multi_remove_handle), SYM(multi_assign), SYM(multi_socket_action),
	SYM(multi_info_read), SYM(multi_cleanup),
	SYM(slist_append), SYM(slist_free_all),
#undef SYM
};

int
pw_curl_load(struct pw_error *err)
{
	static int loaded;
	struct pw_curl_api api;
	curl_version_info_data *v;
	void *lib, *p;
	const char *why;

	if (loaded)
		return 0;
	/* RTLD_LOCAL: libcurl's names stay out of the way of ours. */
	if ((lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		pw_error_set(err, "cannot load %s, needed for HTTP (S3 lake, uploads at URLs): %s",
		    CURL_SONAME, why != NULL ? why : "unknown error");
		return -1;
	}
	for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
		dlerror();
		if ((p = dlsym(lib, symbols[i].name)) == NULL) {
			why = dlerror();
			pw_error_set(err, "%s has no %s: %s", CURL_SONAME, symbols[i].name,
			    why != NULL ? why : "null symbol");
			dlclose(lib);
			return -1;
		}
		/* POSIX lets a data pointer hold a function's address for dlsym(). */
		*(void **)((char *)&api + symbols[i].offset) = p;
	}
	v = api.version_info(CURLVERSION_NOW);
	if (v == NULL || v->version_num < CURL_MIN) {
		pw_error_set(err, "%s is libcurl %s; portada-worker needs 7.68.0 or later",
		    CURL_SONAME, v != NULL && v->version != NULL ? v->version : "(unknown version)");
		dlclose(lib);
		return -1;
	}
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		pw_error_set(err, "%s (libcurl %s) could not be initialised", CURL_SONAME,
		    v->version);
		dlclose(lib);
		return -1;
	}
	pw_curl = api;
	loaded = 1;
	return 0;
}
