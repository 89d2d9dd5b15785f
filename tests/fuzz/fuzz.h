/*
 * Shared by the Parquet writer fuzzer (fuzz_parquet.c), its independent
 * checker of the output (pqcheck.c) and the corpus replayer (fuzz_replay.c).
 */
#ifndef PW_FUZZ_H
#define PW_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portada/parquet.h"

/* The libFuzzer entry point; fuzz_replay.c calls it for each corpus file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print "fuzz oracle failed: <reason>" (and what is being fuzzed) and abort. */
_Noreturn void fz_fail(const char *fmt, ...) PW_PRINTF(1, 2);

/*
 * One leaf entry of a column as Parquet stores it: repetition and
 * definition level, and the value when def == max_def.
 */
struct fz_ent {
	uint8_t		 rep, def;
	int64_t		 i;		/* long, integer, date, timestamp; boolean 0/1 */
	double		 d;
	const char	*s;		/* strings */
	size_t		 n;
};

/* What a column should hold: its schema and every entry, in file order. */
struct fz_col {
	const char		*name;
	enum pw_pq_type		 type;
	bool			 required;
	unsigned		 max_def, max_rep;
	const struct fz_ent	*ents;
	size_t			 nents;
};

/* What the whole file should hold. */
struct fz_expect {
	size_t			 ncols;
	const struct fz_col	*cols;
	uint64_t		 num_rows;
	enum pw_pq_codec	 codec;
	size_t			 stats_bytes;
	size_t			 dictionary_bytes;
	uint64_t		 row_group_rows;
};

/*
 * Statistics of entries [from, to) of a column computed from first
 * principles: nulls, min/max (NaN left out, zero signs fixed), strings
 * cut to stats_bytes with the max bumped.  minb/maxb are the PLAIN bytes
 * Parquet stores (no length prefix for strings).
 */
struct fz_stats {
	uint64_t	 nulls;
	bool		 has;		/* has_min_max as the writer must report it */
	bool		 min_exact, max_exact;
	int64_t		 imin, imax;
	double		 dmin, dmax;
	unsigned char	*minb, *maxb;	/* malloc'd */
	size_t		 minn, maxn;
};

void fz_stats_compute(const struct fz_col *c, size_t from, size_t to, size_t stats_bytes,
    struct fz_stats *out);
void fz_stats_free(struct fz_stats *s);

/* Strict RFC 3629 UTF-8, written independently of src/utf8.c. */
bool fz_utf8_valid(const char *s, size_t n);

/* Where each row group ends in the file, and the size of its footer entry
 * (its Thrift RowGroup, which the writer keeps in memory until the end). */
struct fz_layout {
	size_t		 ngroups;
	uint64_t	*end;		/* offset just past the row group's chunks */
	size_t		*entry;		/* bytes of its RowGroup in the footer */
};

/*
 * Read the file back from its bytes with nothing but the format spec:
 * footer, schema, row groups, chunks, page headers, decompressed pages,
 * levels, dictionaries and values, all compared with e; fz_fail() on the
 * first difference.  Fills *layout (free with fz_layout_free()).
 */
void fz_verify_file(const uint8_t *file, size_t n, const struct fz_expect *e,
    struct fz_layout *layout);
void fz_layout_free(struct fz_layout *layout);

#endif
