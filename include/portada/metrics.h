/*
 * metrics: the Prometheus text format (version 0.0.4), written from values
 * the caller gathers; no I/O, no registry.  Names follow Prometheus'
 * conventions (portada_..._total for counters, base units _seconds and
 * _bytes); label values are escaped here.
 */
#ifndef PORTADA_METRICS_H
#define PORTADA_METRICS_H

#include <stdint.h>

#include "portada/buf.h"

/* Latency buckets, in seconds: from 5 ms to 10 min. */
#define PW_HIST_BUCKETS	14
extern const double pw_hist_bounds[PW_HIST_BUCKETS];

struct pw_histogram {
	uint64_t	counts[PW_HIST_BUCKETS];	/* not cumulative: one per bound */
	uint64_t	count;				/* all observations (+Inf) */
	double		sum;
};

void pw_histogram_observe(struct pw_histogram *h, double seconds);

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void pw_metric_head(struct pw_buf *b, const char *name, const char *type, const char *help);
/* One sample: name{label="value"} v.  label may be NULL (no labels). */
void pw_metric_sample(struct pw_buf *b, const char *name, const char *label, const char *value,
    double v);
/* A histogram's _bucket (cumulative, le=...), _sum and _count lines. */
void pw_metric_histogram(struct pw_buf *b, const char *name, const char *label,
    const char *value, const struct pw_histogram *h);

#endif
