/*
 * inspect: `portada-worker inspect [--json] <table-dir>`, a Delta table at
 * a glance: version, schema, live files, rows and bytes, the last commits.
 * It reads the JSON log only (as the worker does).  The table may be
 * s3://bucket/prefix/<table>, read with the AWS_* variables.
 */
#ifndef PORTADA_INSPECT_H
#define PORTADA_INSPECT_H

#include <stdbool.h>
#include <stdio.h>

#include "portada/error.h"

/* Print the summary of the table at dir to out, as text or as one JSON
 * object. */
int pw_inspect(const char *dir, bool json, FILE *out, struct pw_error *err) PW_MUST_CHECK;

/* The subcommand: argv[0] is "inspect".  Returns the exit status. */
int pw_inspect_main(int argc, char **argv);

#endif
