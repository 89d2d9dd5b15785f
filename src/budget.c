/*
 * budget: the memory budget's bookkeeping.  See budget.h.
 */
#include <assert.h>

#include "portada/budget.h"

static const char *const kind_names[PW_MEM_KINDS] = {
	[PW_MEM_JOBS] = "jobs",
	[PW_MEM_READ] = "read",
	[PW_MEM_RECORDS] = "records",
	[PW_MEM_ROWS] = "rows",
	[PW_MEM_ENCODE] = "encode",
	[PW_MEM_UPLOAD] = "upload",
	[PW_MEM_COMMIT] = "commit",
};

void
pw_budget_init(struct pw_budget *b, size_t limit)
{
	*b = (struct pw_budget){ .limit = limit };
}

void
pw_budget_set(struct pw_budget *b, enum pw_mem_kind k, size_t *held, size_t n)
{
	assert(b->by_kind[k] >= *held && b->used >= *held);
	b->by_kind[k] = b->by_kind[k] - *held + n;
	b->used = b->used - *held + n;
	*held = n;
	if (b->used > b->peak)
		b->peak = b->used;
}

const char *
pw_mem_kind_name(enum pw_mem_kind k)
{
	return k < PW_MEM_KINDS ? kind_names[k] : "?";
}

/* Below this a row group's page headers and statistics start to cost
 * more than the rows save; a budget that small gets fewer files at once. */
#define ROW_GROUP_MIN	((size_t)256 << 10)

static size_t
clamp(size_t v, size_t lo, size_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void
pw_budget_plan(size_t limit, unsigned streams, struct pw_budget_plan *plan)
{
	plan->shared_row_group = clamp(limit / 8, ROW_GROUP_MIN, (size_t)64 << 20);
	plan->own_row_group = clamp(limit / 4 / (streams > 0 ? streams : 1),
	    ROW_GROUP_MIN, (size_t)16 << 20);
}
