/*
 * batch: rows → data files → one commit for many uploads (group commit).
 *
 * While a file is read its rows are mapped at once and packed into the
 * job's spool (see rowspool.h).  A file whose rows pass --stage-bytes moves
 * them into a data file of its own and streams the rest there, so no file
 * is ever held whole in memory.  Such streams are few (--max-streams): a writer
 * holds a row group, so a file that needs one while all are taken pauses
 * (its reader stops at the chunk, see source.h) until one is free.  The
 * check runs before each chunk, so a spool passes its bound by at most one
 * chunk's rows.  Once the file is read without error its rows join
 * its table's batch: the spool is replayed into the batch's shared data
 * file, or the own file is finished.  A file that fails drops its spool or
 * throws its own file away, so it contributes no rows, and since a file's
 * rows all join one batch they never span two commits.
 *
 * A batch commits when --commit-interval-ms has passed since its first
 * upload joined, when it holds --commit-max-files uploads or half of
 * --max-inflight, or when its shared file reaches SHARED_FILE_BYTES.  A commit is asynchronous: the
 * batch's uploads and files move aside while their files finish and the
 * log entry is put, and the next batch fills meanwhile; one commit per
 * table is in flight.  Only after the commit (data files and log entry
 * durable in the store, see store.h) do its uploads get their final
 * status.  Data files stream into the store as they are encoded.
 *
 * Memory (--memory-budget, see budget.h): spools, scanners, writers' row
 * groups, S3 parts and log entries in flight are charged to the budget,
 * and the writers' row groups are sized from it.  While it is used up no
 * ids are taken, and of the files still spooling rows only one (the
 * "runner") reads on; the others pause at their next chunk.  The runner
 * always gets through: it ends in the shared file or spills into its own,
 * and files writing their own data file never wait for memory (what they
 * hold is bounded by their row group), so stream slots always come free.
 * When the store falls behind (S3 parts waiting to upload past half the
 * budget), every reader pauses until it catches up.  Nothing announces
 * freed memory (a commit landing, a part going up), so while anything
 * waits for it a 20 ms timer looks again.
 *
 * A failure of the lake itself (a full disk, a read-only file system, the
 * store unreachable) is not the upload's fault: the worker puts its files
 * back in the queue and pauses until the lake takes writes again
 * (worker_fatal()), rather than failing them.  No data file is committed
 * that was not finished whole: a failed one is thrown away with its batch.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portada/http.h"
#include "portada/lake.h"
#include "portada/log.h"
#include "portada/sigv4.h"
#include "portada/store.h"
#include "worker.h"

#define SPEC_FILE_MAX		((size_t)1 << 20)
#define SHARED_FILE_BYTES	((size_t)128 << 20)	/* spooled bytes per shared file */

static bool commit(struct batch *b);
static void drop_files(struct pw_table_file **files, size_t *n);
static void pump(struct batch *b);
static void sealed_free(struct batch *b, struct sealed *sb);
static void wake(struct pw_worker *w);
static void on_backlog(evutil_socket_t fd, short what, void *arg);

/* ---- opening the tables ---- */

static int
load_spec(const char *path, struct pw_table_spec *spec, struct pw_error *err)
{
	struct pw_buf text;
	bool missing;
	int rc;

	pw_buf_init(&text, SPEC_FILE_MAX);
	rc = pw_lake_read(path, SPEC_FILE_MAX, &text, &missing, err);
	if (rc == 0 && missing) {
		pw_error_set(err, "table spec %s: no such file", path);
		rc = -1;
	}
	if (rc == 0)
		rc = pw_table_spec_parse((const char *)text.data, text.len, path, spec, err);
	pw_buf_finish(&text);
	return rc;
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	commit(arg);
}

static struct batch *
batch_new(struct pw_worker *w)
{
	struct batch *b = pw_xcalloc(1, sizeof *b);
	const struct pw_config *cfg = w->cfg;
	struct pw_budget_plan plan;
	size_t need;

	b->w = w;
	TAILQ_INIT(&b->jobs);
	TAILQ_INIT(&b->sealed);
	b->timer = evtimer_new(w->base, on_timer, b);
	if (b->timer == NULL)
		pw_fatal("cannot create the commit timer");
	pw_budget_plan(cfg->memory_budget, cfg->max_streams, &plan);
	pw_pq_options_default(&b->shared_opt);
	b->shared_opt.codec = cfg->codec;
	b->shared_opt.row_group_bytes = plan.shared_row_group;
	/*
	 * Neither writer may ever refuse a row: a refusal in the shared file
	 * would strand the rows of the upload's earlier records there.  A
	 * spooled upload holds at most stage_bytes plus its last chunk's rows,
	 * and one row is at most about twice a record (its text and its
	 * mapped columns), so these limits cover every row.
	 */
	need = b->shared_opt.row_group_bytes + 2 * cfg->stage_bytes +
	    3 * cfg->max_record_bytes + ((size_t)1 << 20);
	if (need > b->shared_opt.row_group_bytes * 4)
		b->shared_opt.memory_limit = need;
	b->own_opt = b->shared_opt;
	b->own_opt.row_group_bytes = plan.own_row_group;
	need = 3 * cfg->max_record_bytes + plan.own_row_group;
	b->own_opt.memory_limit = need > 4 * plan.own_row_group ? need : 4 * plan.own_row_group;
	return b;
}

static void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	pw_table_close(b->table);
	pw_row_builder_destroy(b->rows);
	pw_table_spec_finish(&b->spec);
	free(b->files);
	event_free(b->timer);
	free(b);
}

static void
on_probed(void *arg, const struct pw_store_result *res)
{
	struct pw_worker *w = arg;

	w->probing = false;
	if (res->status != PW_STORE_OK) {
		w->open_err = res->error;
		w->probe_failed = true;
	}
}

static void
on_opened(void *arg, const struct pw_error *err)
{
	struct batch *b = arg;

	b->opening = false;
	if (err != NULL) {
		b->open_failed = true;
		b->w->open_err = *err;
	}
}

int
batch_open_all(struct pw_worker *w, struct pw_error *err)
{
	const struct pw_config *cfg = w->cfg;
	enum pw_file_kind kinds[] = { PW_FILE_ENTRY, PW_FILE_ENTITY };

	for (size_t i = 0; i < cfg->n_table_specs; i++) {
		struct batch *b = batch_new(w);

		if (load_spec(cfg->table_specs[i], &b->spec, err) == -1) {
			batch_free(b);
			return -1;
		}
		if (w->batches[b->spec.files] != NULL) {
			pw_error_set(err, "table spec %s: a spec for %s files was given already",
			    cfg->table_specs[i], b->spec.files == PW_FILE_ENTRY ? "entry" : "entity");
			batch_free(b);
			return -1;
		}
		w->batches[b->spec.files] = b;
	}
	for (size_t i = 0; i < 2; i++) {
		struct batch *b = w->batches[kinds[i]];

		if (b == NULL) {
			const char *text = pw_table_spec_default(kinds[i]);

			b = batch_new(w);
			w->batches[kinds[i]] = b;
			if (pw_table_spec_parse(text, strlen(text), "(built in)", &b->spec,
			    err) == -1)
				return -1;
		}
	}
	for (size_t i = 0; i < 2 && cfg->archive_raw; i++) {
		if (strcmp(w->batches[i]->spec.table, "raw") == 0) {
			pw_error_set(err, "--archive-raw keeps uploads in <lake>/raw/, so no table may "
			    "be called raw");
			return -1;
		}
	}
	if (strcmp(w->batches[0]->spec.table, w->batches[1]->spec.table) == 0) {
		pw_error_set(err, "entry and entity files cannot share the table %s",
		    w->batches[0]->spec.table);
		return -1;
	}
	w->store = pw_store_open(w->base, w->http, cfg->lake, (pw_store_getenv_fn)getenv, err);
	if (w->store == NULL)
		return -1;
	w->backlog_ev = evtimer_new(w->base, on_backlog, w);
	if (w->backlog_ev == NULL)
		pw_fatal("cannot create the store's timer");
	/*
	 * The store's check, then both tables at once, before anything else
	 * runs on the loop: the loop turns here only for the store's calls.
	 */
	w->probing = true;
	pw_store_probe(w->store, on_probed, w);
	while (w->probing)
		if (event_base_loop(w->base, EVLOOP_ONCE) == -1)
			pw_fatal("the event loop failed while checking the lake");
	if (w->probe_failed) {
		*err = w->open_err;
		return -1;
	}
	for (size_t i = 0; i < 2; i++) {
		struct batch *b = w->batches[i];

		b->table = pw_table_new(w->store, &b->spec, PW_VERSION);
		b->opening = true;
		pw_table_open(b->table, on_opened, b);
	}
	while (w->batches[0]->opening || w->batches[1]->opening)
		if (event_base_loop(w->base, EVLOOP_ONCE) == -1)
			pw_fatal("the event loop failed while opening the tables");
	for (size_t i = 0; i < 2; i++) {
		struct batch *b = w->batches[i];

		if (b->open_failed) {
			*err = w->open_err;
			return -1;
		}
	}
	for (size_t i = 0; i < 2; i++) {
		struct batch *b = w->batches[i];

		log_info(NULL, "table", "%s at version %" PRIu64 ", %zu column(s)",
		    pw_table_name(b->table), pw_table_version(b->table), b->spec.ncolumns);
	}
	return 0;
}

void
batch_close_all(struct pw_worker *w)
{
	batch_abort_all(w);
	/* Files first (they hold the store's writers), then the store (which
	 * drops the tables' calls in flight), then the tables. */
	for (size_t i = 0; i < 2; i++) {
		struct sealed *sb;

		while (w->batches[i] != NULL &&
		    (sb = TAILQ_FIRST(&w->batches[i]->sealed)) != NULL)
			sealed_free(w->batches[i], sb);
	}
	pw_store_close(w->store);
	w->store = NULL;
	for (size_t i = 0; i < 2; i++) {
		batch_free(w->batches[i]);
		w->batches[i] = NULL;
	}
	if (w->backlog_ev != NULL)
		event_free(w->backlog_ev);
	w->backlog_ev = NULL;
}

/* ---- a job's rows ---- */

static int
write_row(void *ctx, const struct pw_pq_value *row, struct pw_error *err)
{
	return pw_table_file_write(ctx, row, err);
}

static void wake(struct pw_worker *w);

static void
release_spool(struct job *job)
{
	struct pw_worker *w = job->w;

	pw_budget_set(&w->mem, PW_MEM_ROWS, &job->staged, 0);
	pw_rowspool_finish(&job->spool);
	if (w->mem_runner == job)
		w->mem_runner = NULL;	/* done spooling: another may run */
	wake(w);
}

static void
release_slot(struct job *job)
{
	if (!job->stream_slot)
		return;
	job->stream_slot = false;
	job->w->streams--;
	wake(job->w);
}

/* Whether the job's rows must leave memory for a data file of its own. */
static bool
needs_stream(const struct job *job)
{
	const struct pw_config *cfg = job->w->cfg;

	return job->own == NULL && job->staged > 0 &&
	    pw_rowspool_bytes(&job->spool) >= cfg->stage_bytes;
}

/* A write into a data file failed: the row, or the disk? */
static int
file_failed(struct job *job, struct pw_table_file *f, struct pw_error *err)
{
	if (pw_table_file_broken(f)) {
		job->storage_failed = true;
		pw_error_prefix(err, "table %s", pw_table_name(job->batch->table));
	}
	return -1;
}

/* The job's rows outgrew memory: give it a data file of its own. */
static int
spill(struct job *job, struct pw_error *err)
{
	struct batch *b = job->batch;

	job->own = pw_table_file_create(b->table, &b->own_opt, err);
	if (job->own == NULL) {
		job->storage_failed = true;
		return -1;
	}
	job->stream_slot = true;
	job->w->streams++;
	log_debug(job->id, "spill", "%" PRIu64 " row(s) so far; streaming into its own "
	    "data file", job->spool.rows);
	if (pw_rowspool_replay(&job->spool, write_row, job->own, err) == -1)
		return file_failed(job, job->own, err);
	release_spool(job);
	return 0;
}

int
batch_stage_row(struct job *job, const struct pw_pq_value *row, struct pw_error *err)
{
	struct pw_worker *w = job->w;

	if (job->own == NULL) {
		/* Bounded by the checks between chunks, not by the buffer. */
		if (job->spool.b.limit == 0)
			pw_rowspool_init(&job->spool, job->batch->spec.ncolumns, SIZE_MAX / 2);
		if (pw_rowspool_add(&job->spool, row) == -1) {
			pw_error_set(err, "too many rows held in memory");
			return -1;
		}
		/* What the spool takes from the allocator, growth slack included. */
		if (job->spool.b.cap != job->staged)
			pw_budget_set(&w->mem, PW_MEM_ROWS, &job->staged, job->spool.b.cap);
		/* A YAML file is parsed whole at its end, where nothing can wait. */
		if (job->is_yaml && needs_stream(job))
			return spill(job, err);
		return 0;
	}
	if (pw_table_file_write(job->own, row, err) == -1)
		return file_failed(job, job->own, err);
	return 0;
}

/* Check again soon: the store says nothing when a part has gone up. */
static void
watch_backlog(struct pw_worker *w)
{
	static const struct timeval tv = { 0, 20 * 1000 };

	if (!evtimer_pending(w->backlog_ev, NULL))
		evtimer_add(w->backlog_ev, &tv);
}

/*
 * The shared parse tree and row builder keep the size of the biggest
 * record they saw; past this they are made anew after it, so one huge
 * record does not hold the memory budget for good.
 */
#define SCRATCH_KEEP	((size_t)256 << 10)

void
batch_scratch_trim(struct pw_worker *w, struct batch *b)
{
	if (pw_jtree_held(w->tree) > SCRATCH_KEEP) {
		pw_jtree_destroy(w->tree);
		w->tree = pw_jtree_create(w->cfg->max_depth);
	}
	if (b->rows != NULL && pw_row_builder_held(b->rows) > SCRATCH_KEEP) {
		pw_row_builder_destroy(b->rows);
		b->rows = NULL;
	}
}

struct pw_row_builder *
batch_rows(struct batch *b)
{
	if (b->rows == NULL)
		b->rows = pw_row_builder_create(&b->spec);
	return b->rows;
}

/* Charge what the writers, the store, the commits and the shared parse
 * tree and row builders hold now. */
void
batch_memory_update(struct pw_worker *w)
{
	size_t encode = 0, commit = 0, scratch = w->tree != NULL ? pw_jtree_held(w->tree) : 0;

	for (size_t i = 0; i < 2; i++) {
		const struct batch *b = w->batches[i];

		if (b != NULL && b->rows != NULL)
			scratch += pw_row_builder_held(b->rows);
		if (b != NULL && b->table != NULL) {
			encode += pw_table_held(b->table);
			commit += pw_table_commit_held(b->table);
		}
	}
	pw_budget_set(&w->mem, PW_MEM_RECORDS, &w->mem_scratch, scratch);
	pw_budget_set(&w->mem, PW_MEM_ENCODE, &w->mem_encode, encode);
	pw_budget_set(&w->mem, PW_MEM_COMMIT, &w->mem_commit, commit);
	pw_budget_set(&w->mem, PW_MEM_UPLOAD, &w->mem_upload,
	    w->store != NULL ? pw_store_held(w->store) : 0);
}

/* Whether the memory budget is used up (and so no ids may be taken). */
bool
batch_memory_full(struct pw_worker *w)
{
	batch_memory_update(w);
	if (!pw_budget_full(&w->mem))
		return false;
	watch_backlog(w);
	return true;
}

/* Whether the store has fallen behind: encoded bytes wait for it. */
bool
batch_store_behind(struct pw_worker *w)
{
	if (w->store == NULL || pw_store_buffered(w->store) <= w->cfg->memory_budget / 2)
		return false;
	watch_backlog(w);
	return true;
}

/*
 * Whether a job spooling rows must wait for memory: while the budget is
 * used up only the runner reads on (see the top of the file).
 */
static bool
memory_wait(struct job *job)
{
	struct pw_worker *w = job->w;

	if (job->own != NULL || !batch_memory_full(w))
		return false;
	if (w->mem_runner == NULL)
		w->mem_runner = job;
	return w->mem_runner != job;
}

static void
on_backlog(evutil_socket_t fd, short what, void *arg)
{
	struct pw_worker *w = arg;

	(void)fd;
	(void)what;
	wake(w);
	if (!batch_store_behind(w) && !batch_memory_full(w) && w->state == WORKER_RUNNING)
		pw_queue_kick(w->queue);
}

static int
pause_job(struct job *job, const char *why)
{
	struct pw_worker *w = job->w;

	if (!job->waiting) {
		log_debug(job->id, "paused", "%s", why);
		job->waiting = true;
		TAILQ_INSERT_TAIL(&w->waiting, job, wait_link);
	}
	return PW_READ_PAUSE;
}

int
batch_before_chunk(struct job *job, struct pw_error *err)
{
	struct pw_worker *w = job->w;

	if (batch_store_behind(w))
		return pause_job(job, "waiting for the store to catch up");
	if (memory_wait(job))
		return pause_job(job, "waiting for memory");
	if (!needs_stream(job))
		return 0;
	if (w->streams < w->cfg->max_streams && TAILQ_EMPTY(&w->waiting))
		return spill(job, err);
	return pause_job(job, "waiting for a stream slot");
}

/* A stream slot, spool memory or store bandwidth was freed: let waiting
 * files go on. */
static void
wake(struct pw_worker *w)
{
	struct pw_error err;
	struct job *job, *next;

	/* waking: a spill frees a spool, which calls wake() again */
	if (w->waking || w->failed || (w->state != WORKER_RUNNING && w->state != WORKER_DRAINING))
		return;
	w->waking = true;
	/*
	 * In order, but past those that must still wait: a file writing its
	 * own data file may go on while spooling ones wait for memory, and
	 * it is what frees the stream slot the runner may need.
	 */
	for (job = TAILQ_FIRST(&w->waiting); job != NULL; job = next) {
		next = TAILQ_NEXT(job, wait_link);
		if (batch_store_behind(w))
			break;
		if (memory_wait(job) ||
		    (needs_stream(job) && w->streams >= w->cfg->max_streams))
			continue;
		TAILQ_REMOVE(&w->waiting, job, wait_link);
		job->waiting = false;
		if (needs_stream(job) && spill(job, &err) == -1) {
			/* Only a lake failure: a spooled row always fits a writer. */
			worker_fatal(w, &err);
			break;
		}
		pw_read_resume(job->rd);
	}
	w->waking = false;
}

void
batch_drop_job(struct job *job)
{
	if (job->lookup.queue != 0)
		pw_table_lookup_cancel(job->batch->table, &job->lookup);
	if (job->waiting) {
		TAILQ_REMOVE(&job->w->waiting, job, wait_link);
		job->waiting = false;
	}
	if (job->in_batch) {
		/* In the open batch, or a sealed one (whose commit may still
		 * land: the requeued upload is then found committed). */
		if (job->sealed != NULL) {
			TAILQ_REMOVE(&job->sealed->jobs, job, batch_link);
			job->sealed->njobs--;
		} else {
			TAILQ_REMOVE(&job->batch->jobs, job, batch_link);
			job->batch->njobs--;
		}
		job->in_batch = false;
		job->sealed = NULL;
	}
	pw_table_file_destroy(job->own);
	job->own = NULL;
	if (job->raw != NULL) {
		pw_store_writer_abort(job->raw);
		job->raw = NULL;
	}
	release_slot(job);
	release_spool(job);
}


static void
add_file(struct pw_table_file ***files, size_t *n, size_t *cap, struct pw_table_file *f)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		*files = pw_xrealloc(*files, *cap * sizeof **files);
	}
	(*files)[(*n)++] = f;
}

/* A data file is durable in the store (or is not). */
static void
on_file_done(void *arg, const struct pw_error *err)
{
	struct batch *b = arg;

	if (err != NULL) {
		worker_fatal(b->w, err);
		return;
	}
	pump(b);
}

/* ---- the raw archive ---- */

#define RAW_KEY_MAX	1024
#define RAW_PART_MAX	200	/* encoded bytes of one component: a file name fits */

/* Append one path component of a raw key to out: safe characters kept,
 * others %XX, so a user name cannot climb out of raw/ or make odd keys.
 * A long one is cut and given a hash of the whole, so keys stay distinct
 * and within file name limits.  -1 if it does not fit. */
static int
key_part(char *out, size_t *len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	bool dots = strspn(s, ".") == strlen(s);	/* "", ".", ".." */
	char part[RAW_PART_MAX + 4], sum[PW_SIGV4_HEX_SIZE];
	size_t n = 0, cut = 0;
	const char *v = *s == '\0' ? "_" : s;

	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (n + 3 > RAW_PART_MAX)
			break;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || (c == '.' && !dots)) {
			part[n++] = (char)c;
		} else {
			part[n++] = '%';
			part[n++] = hex[c >> 4];
			part[n++] = hex[c & 15];
		}
		if (n <= RAW_PART_MAX - 20)
			cut = n;	/* where a hash would go */
	}
	if (*v != '\0') {
		pw_sigv4_sha256_hex(s, strlen(s), sum);
		n = cut;
		part[n++] = '~';
		memcpy(part + n, sum, 16);
		n += 16;
	}
	if (*len + n + 1 >= RAW_KEY_MAX)
		return -1;
	memcpy(out + *len, part, n);
	*len += n;
	out[*len] = '\0';
	return 0;
}

static const char *
raw_ext(const struct job *job)
{
	static const char *const exts[] = { ".json", ".yaml", ".yml" };
	const char *names[] = { job->shown_path, job->source_filename };

	for (size_t i = 0; i < 2; i++) {
		size_t n = names[i] != NULL ? strlen(names[i]) : 0;

		for (size_t k = 0; k < 3; k++) {
			size_t e = strlen(exts[k]);

			if (n > e && strcasecmp(names[i] + n - e, exts[k]) == 0)
				return exts[k] + 1;
		}
	}
	return job->is_yaml ? "yaml" : "json";
}

static void
on_raw_stored(void *arg, const struct pw_store_result *res)
{
	struct job *job = arg;
	struct pw_error err;

	job->raw = NULL;
	if (res->status != PW_STORE_OK) {
		err = res->error;
		pw_error_prefix(&err, "raw archive of %s", job->id);
		worker_fatal(job->w, &err);
		return;
	}
	batch_add(job);
}

int
batch_archive_open(struct job *job, struct pw_error *err)
{
	char key[RAW_KEY_MAX + 16];
	size_t n = 4;

	memcpy(key, "raw/", 5);
	if (key_part(key, &n, job->file_type) == -1)
		goto too_long;
	key[n++] = '/';
	if (key_part(key, &n, job->user != NULL ? job->user : "") == -1)
		goto too_long;
	key[n++] = '/';
	key[n] = '\0';
	if (pw_store_mkdir(job->w->store, key, err) == -1) {
		job->storage_failed = true;	/* the lake's fault, not the upload's */
		return -1;
	}
	if (key_part(key, &n, job->id) == -1)
		goto too_long;
	snprintf(key + n, sizeof key - n, ".%s", raw_ext(job));
	job->raw = pw_store_writer_open(job->w->store, key, on_raw_stored, job);
	return 0;

too_long:
	pw_error_set(err, "raw archive of %s: its file_type, user and id make a key longer "
	    "than %d bytes", job->id, RAW_KEY_MAX);
	return -1;
}

void
batch_archive_write(struct job *job, const char *buf, size_t len)
{
	if (job->raw != NULL)
		pw_store_writer_write(job->raw, buf, len);
}

void
batch_add(struct job *job)
{
	struct batch *b = job->batch;
	struct pw_worker *w = job->w;
	struct pw_error err;

	if (w->failed)
		return;		/* stopping: the job is cancelled and requeued */
	if (w->mem_runner == job) {
		w->mem_runner = NULL;	/* read: another may run while its copy is stored */
		wake(w);
	}
	if (job->raw != NULL) {
		/* The copy first: "done" means archived too.  Back here after. */
		pw_store_writer_close(job->raw);
		return;
	}
	if (job->own != NULL) {
		if (pw_table_file_finish(job->own, on_file_done, b, &err) == -1) {
			pw_error_prefix(&err, "table %s", pw_table_name(b->table));
			worker_fatal(w, &err);
			return;
		}
		add_file(&b->files, &b->nfiles, &b->capfiles, job->own);
		job->own = NULL;
		release_slot(job);
	} else if (job->spool.rows > 0) {
		if (b->shared == NULL &&
		    (b->shared = pw_table_file_create(b->table, &b->shared_opt, &err)) == NULL) {
			worker_fatal(w, &err);
			return;
		}
		if (pw_rowspool_replay(&job->spool, write_row, b->shared, &err) == -1) {
			pw_error_prefix(&err, "table %s: shared data file", pw_table_name(b->table));
			worker_fatal(w, &err);
			return;
		}
		b->shared_bytes += pw_rowspool_bytes(&job->spool);
	}
	release_spool(job);
	job->state = JOB_COMMIT;
	TAILQ_INSERT_TAIL(&b->jobs, job, batch_link);
	job->in_batch = true;
	b->njobs++;
	/*
	 * Each upload holds its slot until its commit: a batch holding half of
	 * them commits now, or a backlog would wait out the interval with
	 * every slot taken (one file a second at --max-inflight 1).
	 */
	if (b->njobs >= w->cfg->commit_max_files || b->shared_bytes >= SHARED_FILE_BYTES ||
	    2 * (size_t)b->njobs >= w->cfg->max_inflight) {
		commit(b);
		return;
	}
	if (!evtimer_pending(b->timer, NULL)) {
		struct timeval tv = {
			(time_t)(w->cfg->commit_interval_ms / 1000),
			(suseconds_t)(w->cfg->commit_interval_ms % 1000) * 1000,
		};

		evtimer_add(b->timer, &tv);
	}
	worker_batch_ready(w);
}

/* ---- commits ---- */

static void
drop_files(struct pw_table_file **files, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		pw_table_file_destroy(files[i]);
	*n = 0;
}

/* Free a sealed batch: its files go, its uploads stay (cancelled or done). */
static void
sealed_free(struct batch *b, struct sealed *sb)
{
	struct job *job;

	TAILQ_REMOVE(&b->sealed, sb, link);
	while ((job = TAILQ_FIRST(&sb->jobs)) != NULL) {
		TAILQ_REMOVE(&sb->jobs, job, batch_link);
		job->in_batch = false;
		job->sealed = NULL;
	}
	drop_files(sb->files, &sb->nfiles);
	free(sb->files);
	free(sb);
}

static void
on_committed(void *arg, uint64_t version, const struct pw_error *err)
{
	struct batch *b = arg;
	struct pw_worker *w = b->w;
	struct sealed *sb = TAILQ_FIRST(&b->sealed);
	uint64_t rows = 0;
	struct job *job;

	if (err != NULL) {
		/* Its uploads go back to the queue with the rest. */
		sealed_free(b, sb);
		worker_fatal(w, err);
		worker_commits_settled(w);
		return;
	}
	TAILQ_FOREACH(job, &sb->jobs, batch_link)
		rows += job->records;
	{
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		pw_histogram_observe(&b->commit_seconds, (double)(now.tv_sec - sb->sealed_at.tv_sec) +
		    (double)(now.tv_nsec - sb->sealed_at.tv_nsec) / 1e9);
		b->commits++;
	}
	log_info(NULL, "commit", "%s version %" PRIu64 ": %u upload(s), %" PRIu64
	    " row(s), %zu data file(s)", b->spec.table, version, sb->njobs, rows, sb->nfiles);
	w->pause_streak = 0;	/* the lake works: a later failure backs off afresh */
	TAILQ_REMOVE(&b->sealed, sb, link);
	while ((job = TAILQ_FIRST(&sb->jobs)) != NULL) {
		TAILQ_REMOVE(&sb->jobs, job, batch_link);
		job->in_batch = false;
		job->sealed = NULL;
		job_committed(job, version);
	}
	drop_files(sb->files, &sb->nfiles);
	free(sb->files);
	free(sb);
	pump(b);
	worker_batch_ready(w);
	worker_commits_settled(w);
}

bool
batch_settling(const struct pw_worker *w)
{
	for (size_t i = 0; i < 2; i++) {
		const struct sealed *sb;

		if (w->batches[i] == NULL || (sb = TAILQ_FIRST(&w->batches[i]->sealed)) == NULL)
			continue;
		/* After a failure, or without a lease (batch.c's pump() holds
		 * commits then), only a put already sent can still land. */
		if (sb->submitted || (!w->failed && liveness_lease_ok(w)))
			return true;
	}
	return false;
}

/* Commit the oldest sealed batch once its files are all durable. */
static void
pump(struct batch *b)
{
	struct sealed *sb = TAILQ_FIRST(&b->sealed);
	struct pw_worker *w = b->w;
	const char **ids;
	uint64_t *records;
	struct pw_error err;
	struct job *job;
	size_t n = 0;
	int rc;

	if (sb == NULL || sb->submitted || w->failed)
		return;
	for (size_t i = 0; i < sb->nfiles; i++)
		if (!pw_table_file_finished(sb->files[i]))
			return;
	/* No heartbeat confirmed lately: these uploads may be reaped and taken
	 * by another worker, so nothing is committed until one is (liveness.c). */
	if (!liveness_lease_ok(w)) {
		log_debug(NULL, "commit-held", "%s: no recent heartbeat; the commit waits",
		    b->spec.table);
		return;
	}
	ids = pw_xcalloc(sb->njobs + 1, sizeof *ids);
	records = pw_xcalloc(sb->njobs + 1, sizeof *records);
	TAILQ_FOREACH(job, &sb->jobs, batch_link) {
		ids[n] = job->id;
		records[n++] = job->records;
	}
	sb->submitted = true;
	rc = pw_table_commit(b->table, sb->files, sb->nfiles, ids, records, n, on_committed, b,
	    &err);
	free(ids);
	free(records);
	if (rc == -1) {
		sb->submitted = false;
		worker_fatal(w, &err);
	}
}

/* Seal the open batch: it commits after those sealed before it. */
static bool
commit(struct batch *b)
{
	struct pw_worker *w = b->w;
	struct pw_error err;
	struct sealed *sb;
	struct job *job;

	evtimer_del(b->timer);
	/* After a lake failure nothing more is committed: a commit that failed
	 * may have landed anyway, and the files of this batch are suspect. */
	if (w->failed)
		return false;
	if (b->njobs == 0)
		return true;
	if (b->shared != NULL) {
		if (pw_table_file_finish(b->shared, on_file_done, b, &err) == -1) {
			pw_error_prefix(&err, "table %s", pw_table_name(b->table));
			worker_fatal(w, &err);
			return false;
		}
		add_file(&b->files, &b->nfiles, &b->capfiles, b->shared);
		b->shared = NULL;
		b->shared_bytes = 0;
	}
	sb = pw_xcalloc(1, sizeof *sb);
	clock_gettime(CLOCK_MONOTONIC, &sb->sealed_at);
	TAILQ_INIT(&sb->jobs);
	TAILQ_CONCAT(&sb->jobs, &b->jobs, batch_link);
	sb->njobs = b->njobs;
	b->njobs = 0;
	TAILQ_FOREACH(job, &sb->jobs, batch_link)
		job->sealed = sb;
	sb->files = b->files;
	sb->nfiles = b->nfiles;
	b->files = NULL;
	b->nfiles = 0;
	b->capfiles = 0;
	TAILQ_INSERT_TAIL(&b->sealed, sb, link);
	pump(b);
	return true;
}

void
batch_flush_all(struct pw_worker *w)
{
	for (size_t i = 0; i < 2; i++)
		if (w->batches[i] != NULL)
			commit(w->batches[i]);
}

void
batch_lease_renewed(struct pw_worker *w)
{
	for (size_t i = 0; i < 2; i++)
		if (w->batches[i] != NULL)
			pump(w->batches[i]);
}

/* ---- after a failure of the lake ---- */

struct lake_check {
	struct pw_worker *w;
	void (*done)(struct pw_worker *w, int result, const struct pw_error *err);
	unsigned pending;
	int result;
	struct pw_error err;
};

static void
lake_check_step(struct lake_check *lc, int result, const struct pw_error *err)
{
	/* The worst answer wins: never over not yet over yes. */
	if (result > 0 || (result < 0 && lc->result == 0)) {
		lc->result = result;
		lc->err = *err;
	}
	if (--lc->pending > 0)
		return;
	lc->done(lc->w, lc->result, lc->result == 0 ? NULL : &lc->err);
	free(lc);
}

static void
on_table_checked(void *arg, int result, const struct pw_error *err)
{
	lake_check_step(arg, result, err);
}

static void
on_lake_probed(void *arg, const struct pw_store_result *res)
{
	struct lake_check *lc = arg;
	struct pw_worker *w = lc->w;

	if (res->status != PW_STORE_OK) {
		lc->pending = 1;	/* the tables are not asked */
		lake_check_step(lc, -1, &res->error);
		return;
	}
	/* The store takes writes: do both logs still hold what we know? */
	lc->pending = 2;
	for (size_t i = 0; i < 2; i++)
		pw_table_check(w->batches[i]->table, on_table_checked, lc);
}

void
batch_check_lake(struct pw_worker *w, void (*done)(struct pw_worker *w, int result,
    const struct pw_error *err))
{
	struct lake_check *lc = pw_xcalloc(1, sizeof *lc);

	lc->w = w;
	lc->done = done;
	pw_store_check_writes(w->store, on_lake_probed, lc);
}

void
batch_abort_all(struct pw_worker *w)
{
	for (size_t i = 0; i < 2; i++) {
		struct batch *b = w->batches[i];
		struct sealed *sb;
		struct job *job;

		if (b == NULL)
			continue;
		evtimer_del(b->timer);
		pw_table_file_destroy(b->shared);
		b->shared = NULL;
		b->shared_bytes = 0;
		drop_files(b->files, &b->nfiles);
		while ((job = TAILQ_FIRST(&b->jobs)) != NULL) {
			TAILQ_REMOVE(&b->jobs, job, batch_link);
			job->in_batch = false;
			b->njobs--;
		}
		/* A commit in flight goes on (its files stay until it ends); the
		 * sealed batches after it are dropped. */
		while ((sb = TAILQ_LAST(&b->sealed, sealed_list)) != NULL && !sb->submitted)
			sealed_free(b, sb);
	}
}
