/*
 * The Prometheus text format (see include/portada/metrics.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "portada/metrics.h"

const double pw_hist_bounds[PW_HIST_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120, 600,
};

void
pw_histogram_observe(struct pw_histogram *h, double v)
{
	if (!isfinite(v) || v < 0)
		v = 0;
	for (size_t i = 0; i < PW_HIST_BUCKETS; i++) {
		if (v <= pw_hist_bounds[i]) {
			h->counts[i]++;
			break;
		}
	}
	h->count++;
	h->sum += v;
}

/* Out of memory in an exposition buffer is not worth a partial answer. */
static void
put(struct pw_buf *b, const char *s, size_t n)
{
	if (pw_buf_append(b, s, n) == -1)
		pw_buf_truncate(b, 0);
}

static void
puts_(struct pw_buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A label value: backslash, double quote and newline escaped. */
static void
put_value(struct pw_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			puts_(b, "\\\\");
		else if (*v == '"')
			puts_(b, "\\\"");
		else if (*v == '\n')
			puts_(b, "\\n");
		else
			put(b, v, 1);
	}
}

/* HELP text: backslash and newline escaped. */
static void
put_help(struct pw_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			puts_(b, "\\\\");
		else if (*v == '\n')
			puts_(b, "\\n");
		else
			put(b, v, 1);
	}
}

static void
put_number(struct pw_buf *b, double v)
{
	char n[64];

	if (isnan(v))
		snprintf(n, sizeof n, "NaN");
	else if (isinf(v))
		snprintf(n, sizeof n, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(n, sizeof n, "%.0f", v);
	else
		snprintf(n, sizeof n, "%.17g", v);
	puts_(b, n);
}

void
pw_metric_head(struct pw_buf *b, const char *name, const char *type, const char *help)
{
	puts_(b, "# HELP ");
	puts_(b, name);
	puts_(b, " ");
	put_help(b, help);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, type);
	puts_(b, "\n");
}

static void
sample(struct pw_buf *b, const char *name, const char *suffix, const char *label,
    const char *value, const char *le, double v)
{
	puts_(b, name);
	puts_(b, suffix);
	if (label != NULL || le != NULL) {
		puts_(b, "{");
		if (label != NULL) {
			puts_(b, label);
			puts_(b, "=\"");
			put_value(b, value);
			puts_(b, "\"");
		}
		if (le != NULL) {
			puts_(b, label != NULL ? ",le=\"" : "le=\"");
			puts_(b, le);
			puts_(b, "\"");
		}
		puts_(b, "}");
	}
	puts_(b, " ");
	put_number(b, v);
	puts_(b, "\n");
}

void
pw_metric_sample(struct pw_buf *b, const char *name, const char *label, const char *value,
    double v)
{
	sample(b, name, "", label, value, NULL, v);
}

void
pw_metric_histogram(struct pw_buf *b, const char *name, const char *label, const char *value,
    const struct pw_histogram *h)
{
	uint64_t cum = 0;
	char le[32];

	for (size_t i = 0; i < PW_HIST_BUCKETS; i++) {
		cum += h->counts[i];
		snprintf(le, sizeof le, "%g", pw_hist_bounds[i]);
		sample(b, name, "_bucket", label, value, le, (double)cum);
	}
	sample(b, name, "_bucket", label, value, "+Inf", (double)h->count);
	sample(b, name, "_sum", label, value, NULL, h->sum);
	sample(b, name, "_count", label, value, NULL, (double)h->count);
}
