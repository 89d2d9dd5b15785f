/*
 * status: status values per scheme and the Lua scripts that write them
 * (one key, or many at once).  Pure code; job.c sends what
 * pw_status_build() prepares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portada/status.h"

/*
 * EXISTS before HSET so that a hash deleted while its file was in flight is
 * not brought back as a half hash the dashboard cannot read.
 */
const char pw_status_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "if ARGV[1] ~= '' then redis.call('HDEL', KEYS[1], ARGV[1]) end\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
    "return 1\n";

/*
 * Many writes in one call: for each key, ARGV holds the number n of field
 * and value arguments, the field to delete (or ''), then those n; the
 * answer has each key's 0 or 1 as above, or its own error (pcall: a key
 * that is not a hash must not fail the writes of the others with it).
 * One call per key cost Redis more in calling the script than in the
 * writes it makes.
 */
const char pw_status_batch_script[] =
    "local r, j = {}, 1\n"
    "for i = 1, #KEYS do\n"
    "  local n = tonumber(ARGV[j])\n"
    "  if redis.call('EXISTS', KEYS[i]) == 0 then\n"
    "    r[i] = 0\n"
    "  else\n"
    "    local e\n"
    "    if ARGV[j + 1] ~= '' then e = redis.pcall('HDEL', KEYS[i], ARGV[j + 1]) end\n"
    "    if type(e) ~= 'table' or not e.err then\n"
    "      e = redis.pcall('HSET', KEYS[i], unpack(ARGV, j + 2, j + 1 + n))\n"
    "    end\n"
    "    if type(e) == 'table' and e.err then r[i] = e else r[i] = 1 end\n"
    "  end\n"
    "  j = j + 2 + n\n"
    "end\n"
    "return r\n";

const char *
pw_status_value(enum pw_status_scheme scheme, enum pw_status_kind kind)
{
	static const char *const task[] = { "1", "2", "-1", "0" };
	static const char *const dashboard[] = { NULL, "1", "2", "0" };

	return scheme == PW_STATUS_TASK ? task[kind] : dashboard[kind];
}

bool
pw_status_is_final(enum pw_status_scheme scheme, const char *value)
{
	if (value == NULL)
		return false;
	return strcmp(value, pw_status_value(scheme, PW_STATUS_DONE)) == 0 ||
	    strcmp(value, pw_status_value(scheme, PW_STATUS_FAILED)) == 0;
}

static void
push(struct pw_status_write *w, const char *s)
{
	w->argv[w->argc] = s;
	w->argvlen[w->argc] = strlen(s);
	w->argc++;
}

void
pw_status_build(struct pw_status_write *w, enum pw_status_scheme scheme,
    enum pw_status_kind kind, const char *key, const char *worker_id,
    const char *error_message, unsigned long long records, long long now)
{
	const char *value = pw_status_value(scheme, kind);

	memset(w, 0, sizeof *w);
	snprintf(w->numbuf[0], sizeof w->numbuf[0], "%lld", now);
	snprintf(w->numbuf[1], sizeof w->numbuf[1], "%llu", records);
	push(w, "EVAL");
	push(w, pw_status_script);
	push(w, "1");
	push(w, key);
	/* A file that succeeds after an earlier failure must not keep the old reason. */
	push(w, kind == PW_STATUS_DONE || kind == PW_STATUS_PROCESSING ? "error_message" : "");
	if (value != NULL) {
		push(w, "status");
		push(w, value);
	}
	switch (kind) {
	case PW_STATUS_PROCESSING:
		push(w, "worker");
		push(w, worker_id);
		push(w, "started_at");
		push(w, w->numbuf[0]);
		break;
	case PW_STATUS_DONE:
		push(w, "finished_at");
		push(w, w->numbuf[0]);
		push(w, "records");
		push(w, w->numbuf[1]);
		break;
	case PW_STATUS_FAILED:
		push(w, "finished_at");
		push(w, w->numbuf[0]);
		push(w, "error_message");
		push(w, error_message != NULL ? error_message : "unknown error");
		break;
	case PW_STATUS_PENDING:
		push(w, "worker");
		push(w, worker_id);
		break;
	}
}

void
pw_status_add(struct pw_status_write *w, const char *field, const char *value)
{
	if (w->argc + 2 > (int)(sizeof w->argv / sizeof w->argv[0]))
		abort();	/* a programming error: the array is sized for every caller */
	push(w, field);
	push(w, value);
}

void
pw_status_add_number(struct pw_status_write *w, const char *field, long long value)
{
	snprintf(w->numbuf[2], sizeof w->numbuf[2], "%lld", value);
	pw_status_add(w, field, w->numbuf[2]);
}
