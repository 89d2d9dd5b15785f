/*
 * log: timestamped lines on stderr (or a chosen stream), text or JSON.
 * Each line is built in one buffer and written with one fwrite so that
 * lines from a worker and its tests never interleave mid-line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "portada/log.h"

#define LOG_LINE_MAX 4096

static enum pw_log_format log_format = PW_LOG_TEXT;
static enum pw_log_level log_level = PW_LOG_INFO;
static FILE *log_out;
static char status_line[256];	/* a terminal's live line, redrawn under the log */

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

static void log_vwrite(enum pw_log_level level, const char *file_id,
    const char *event, const char *fmt, va_list ap) PW_PRINTF(4, 0);

static void
log_vwrite(enum pw_log_level level, const char *file_id, const char *event,
    const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX / 2], line[LOG_LINE_MAX], ts[32];
	struct timeval tv;
	struct tm tm;
	size_t off = 0;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
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
		off = append(line, off, sizeof line, "%s.%03ldZ %-5s %s",
		    ts, (long)tv.tv_usec / 1000, level_names[level], event);
		if (file_id != NULL)
			off = append(line, off, sizeof line, " file=%s", file_id);
		if (msg[0] != '\0')
			off = append(line, off, sizeof line, ": %s", msg);
		off = append(line, off, sizeof line, "\n");
	}
	if (off > 0 && line[off - 1] != '\n')
		line[off - 1] = '\n';	/* truncated: keep one line per event */
	{
		FILE *out = log_out != NULL ? log_out : stderr;

		if (status_line[0] != '\0')
			fputs("\r\033[K", out);	/* the live line gives way... */
		fwrite(line, 1, off, out);
		if (status_line[0] != '\0')
			fputs(status_line, out);	/* ...and comes back under it */
		fflush(out);
	}
}

void
pw_log_status(const char *line)
{
	FILE *out = log_out != NULL ? log_out : stderr;

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
