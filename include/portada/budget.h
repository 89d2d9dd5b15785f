/*
 * budget: the worker's memory budget (--memory-budget).  Every buffer that
 * grows with input is charged here, by kind, while it is held; the worker
 * reads the total to decide whether to take more ids, let a reader go on,
 * or move rows out of memory (see batch.c).  Pure bookkeeping: no I/O, no
 * allocation, so the policy can be unit-tested.
 *
 * A holder keeps what it is charged in a size_t of its own and hands it to
 * pw_budget_set() with its new size; the budget moves by the difference.
 * Charges are never refused: the budget is a target the worker steers by,
 * and a record that must be held whole is held (up to --max-record-bytes).
 */
#ifndef PORTADA_BUDGET_H
#define PORTADA_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

enum pw_mem_kind {
	PW_MEM_JOBS,		/* per-upload state: its hash, names, row mapping */
	PW_MEM_READ,		/* read chunks and download buffers */
	PW_MEM_RECORDS,		/* partial records in the scanners, YAML files */
	PW_MEM_ROWS,		/* rows spooled until their upload is read */
	PW_MEM_ENCODE,		/* Parquet row groups: columns, dictionaries, pages */
	PW_MEM_UPLOAD,		/* encoded bytes not yet acknowledged by the store */
	PW_MEM_COMMIT,		/* log entries being put */
	PW_MEM_KINDS
};

struct pw_budget {
	size_t	limit;
	size_t	used;			/* sum of by_kind */
	size_t	peak;			/* highest used so far */
	size_t	by_kind[PW_MEM_KINDS];
};

void pw_budget_init(struct pw_budget *b, size_t limit);

/* The holder whose charge is *held now holds n bytes of kind k. */
void pw_budget_set(struct pw_budget *b, enum pw_mem_kind k, size_t *held, size_t n);

/*
 * Whether files may read on into memory: the charges are under the limit,
 * and rows and records waiting for a writer take at most half of it.  The
 * other half is the writers' (see pw_budget_plan()), which take rows out
 * of the spools and must never find the budget taken by them.
 */
static inline bool
pw_budget_full(const struct pw_budget *b)
{
	return b->used >= b->limit ||
	    b->by_kind[PW_MEM_ROWS] + b->by_kind[PW_MEM_RECORDS] >= b->limit / 2;
}

/* "jobs", "read", ...: for metric labels and log lines. */
const char *pw_mem_kind_name(enum pw_mem_kind k);

/*
 * Sizes of the worker's buffers for a budget of limit bytes and up to
 * streams files writing their own data file, so that the writers hold at
 * most half of it (see batch.c):
 *   shared: the row group of the data file small uploads share, per table
 *           (a quarter of the budget for the two tables)
 *   own:    the row group of a big upload's own data file (a quarter for
 *           all streams)
 * Both between 256 KiB and their defaults (64 MiB and 16 MiB).
 */
struct pw_budget_plan {
	size_t	shared_row_group;
	size_t	own_row_group;
};

void pw_budget_plan(size_t limit, unsigned streams, struct pw_budget_plan *plan);

#endif
