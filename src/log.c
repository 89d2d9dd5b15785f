/*
 * log: timestamped lines on stderr (or a chosen stream), text or JSON.
 * Each line is built in one buffer and written with one fwrite so that
 * lines from a worker and its tests never interleave mid-line.
 *
 * Inside the event loop, info and debug lines wait in a buffer that is
 * written once per turn of the loop (pw_log_defer()): two lines per file,
 * each its own write(2), were a tenth of the worker's time on small files.
 * A warning or an error flushes what waits and is written at once.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "portada/log.h"

#define LOG_LINE_MAX 4096
#define LOG_DEFER_MAX 65536

static enum pw_log_format log_format = PW_LOG_TEXT;
static enum pw_log_level log_level = PW_LOG_INFO;
static FILE *log_out;
static char status_line[256];	/* a terminal's live line, redrawn under the log */
static void (*defer_wake)(void *);
static void *defer_arg;
static char deferred[LOG_DEFER_MAX];
static size_t deferred_len;

static const char *level_names[] = { "debug", "info", "warn", "error" };

void
pw_log_setup(enum pw_log_format format, enum pw_log_level level, FILE *out)
{
	log_format = format;
	log_level = level;
	log_out = out;
}

int
pw_log_enabled(enum pw_log_level level)
{
	return level >= log_level;
}

/* Append s to buf as the inside of a JSON string. */
static size_t
json_escape(char *buf, size_t off, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0' && off + 7 < size; p++) {
		if (*p == '"' || *p == '\\') {
			buf[off++] = '\\';
			buf[off++] = (char)*p;
		} else if (*p == '\n') {
			buf[off++] = '\\';
			buf[off++] = 'n';
		} else if (*p < 0x20) {
			memcpy(buf + off, "\\u00", 4);
			buf[off + 4] = hex[*p >> 4];
			buf[off + 5] = hex[*p & 15];
			off += 6;
		} else
			buf[off++] = (char)*p;
	}
	return off;
}

static size_t append(char *buf, size_t off, size_t size, const char *fmt, ...)
    PW_PRINTF(4, 5);

static size_t
append(char *buf, size_t off, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (off >= size)
		return off;
	va_start(ap, fmt);
	n = vsnprintf(buf + off, size - off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return off;
	return (size_t)n >= size - off ? size - 1 : off + (size_t)n;
}

static void
write_lines(const char *lines, size_t len)
{
	FILE *out = log_out != NULL ? log_out : stderr;

	if (status_line[0] != '\0')
		fputs("\r\033[K", out);	/* the live line gives way... */
	fwrite(lines, 1, len, out);
	if (status_line[0] != '\0')
		fputs(status_line, out);	/* ...and comes back under it */
	fflush(out);
}

static void log_vwrite(enum pw_log_level level, const char *file_id,
    const char *event, const char *fmt, va_list ap) PW_PRINTF(4, 0);

static void
log_vwrite(enum pw_log_level level, const char *file_id, const char *event,
    const char *fmt, va_list ap)
{
	static char ts[32];		/* the second of the last line, formatted */
	static time_t ts_sec = -1;
	char msg[LOG_LINE_MAX / 2], line[LOG_LINE_MAX];
	struct timeval tv;
	struct tm tm;
	size_t off = 0;

	/* Two lines per file at thousands of files a second: format the
	 * date once a second, and a text line in one snprintf. */
	gettimeofday(&tv, NULL);
	if (tv.tv_sec != ts_sec) {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
		ts_sec = tv.tv_sec;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);

	if (log_format == PW_LOG_JSON) {
		off = append(line, off, sizeof line,
		    "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"event\":\"",
		    ts, (long)tv.tv_usec / 1000, level_names[level]);
		off = json_escape(line, off, sizeof line, event);
		if (file_id != NULL) {
			off = append(line, off, sizeof line, "\",\"file\":\"");
			off = json_escape(line, off, sizeof line, file_id);
		}
		off = append(line, off, sizeof line, "\",\"msg\":\"");
		off = json_escape(line, off, sizeof line, msg);
		off = append(line, off, sizeof line, "\"}\n");
	} else {
		off = append(line, off, sizeof line, "%s.%03ldZ %-5s %s%s%s%s%s\n",
		    ts, (long)tv.tv_usec / 1000, level_names[level], event,
		    file_id != NULL ? " file=" : "", file_id != NULL ? file_id : "",
		    msg[0] != '\0' ? ": " : "", msg);
	}
	if (off > 0 && line[off - 1] != '\n')
		line[off - 1] = '\n';	/* truncated: keep one line per event */
	if (defer_wake != NULL && level < PW_LOG_WARN) {
		if (deferred_len + off > sizeof deferred)
			pw_log_flush();
		memcpy(deferred + deferred_len, line, off);
		deferred_len += off;
		if (deferred_len == off)
			defer_wake(defer_arg);
		return;
	}
	pw_log_flush();
	write_lines(line, off);
}

void
pw_log_flush(void)
{
	if (deferred_len == 0)
		return;
	write_lines(deferred, deferred_len);
	deferred_len = 0;
}

void
pw_log_defer(void (*wake)(void *), void *arg)
{
	static bool registered;

	pw_log_flush();
	defer_wake = wake;
	defer_arg = arg;
	if (wake != NULL && !registered && atexit(pw_log_flush) == 0)
		registered = true;	/* an exit() from the loop loses no line */
}

void
pw_log_status(const char *line)
{
	FILE *out = log_out != NULL ? log_out : stderr;

	pw_log_flush();
	snprintf(status_line, sizeof status_line, "%s", line != NULL ? line : "");
	fputs("\r\033[K", out);
	fputs(status_line, out);
	if (line == NULL)
		status_line[0] = '\0';
	fflush(out);
}

void
pw_log(enum pw_log_level level, const char *file_id, const char *event,
    const char *fmt, ...)
{
	va_list ap;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	log_vwrite(level, file_id, event, fmt, ap);
	va_end(ap);
}

void
pw_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(PW_LOG_ERROR, NULL, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}
