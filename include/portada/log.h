/*
 * log: one line per event on stderr, as text or JSON.
 *
 * Every line that concerns one queued file carries its id, so that
 * `grep <id>` shows the whole life of a file.  Messages never contain
 * secrets: callers pass redacted values (see pw_config_redis_display()).
 */
#ifndef PORTADA_LOG_H
#define PORTADA_LOG_H

#include <stdio.h>

#include "portada/error.h"

enum pw_log_level {
	PW_LOG_DEBUG,
	PW_LOG_INFO,
	PW_LOG_WARN,
	PW_LOG_ERROR,
};

enum pw_log_format {
	PW_LOG_TEXT,
	PW_LOG_JSON,
};

void pw_log_setup(enum pw_log_format format, enum pw_log_level level, FILE *out);
int pw_log_enabled(enum pw_log_level level);

/*
 * file_id may be NULL for lines about the worker itself; event is a short
 * fixed word ("done", "failed", "redis-down") that tools can match on.
 */
void pw_log(enum pw_log_level level, const char *file_id, const char *event,
    const char *fmt, ...) PW_PRINTF(4, 5);

/*
 * A live status line on a terminal: drawn at the bottom (no newline) and
 * redrawn under every log line; NULL clears it.  Only for a terminal.
 */
void pw_log_status(const char *line);

/*
 * Hold info and debug lines until pw_log_flush(); wake(arg) is called when
 * the first one waits (the worker flushes once per turn of its loop).
 * NULL writes every line at once again, after flushing.
 */
void pw_log_defer(void (*wake)(void *), void *arg);
void pw_log_flush(void);

/* Log at error level and exit(1): only for failures at start-up. */
void pw_fatal(const char *fmt, ...) PW_PRINTF(1, 2) __attribute__((noreturn));

#define log_debug(id, ev, ...) do { \
	if (pw_log_enabled(PW_LOG_DEBUG)) pw_log(PW_LOG_DEBUG, id, ev, __VA_ARGS__); \
} while (0)
#define log_info(id, ev, ...) pw_log(PW_LOG_INFO, id, ev, __VA_ARGS__)
#define log_warn(id, ev, ...) pw_log(PW_LOG_WARN, id, ev, __VA_ARGS__)
#define log_error(id, ev, ...) pw_log(PW_LOG_ERROR, id, ev, __VA_ARGS__)

#endif
