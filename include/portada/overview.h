/*
 * overview: `portada-worker status`, what the queue is doing at a glance,
 * read from Redis with the worker's own options (--redis, --queue-key,
 * --processing-prefix, --hash-prefix, --status-scheme, and their
 * environment twins): the queue's length, each worker's processing list
 * with the age of its oldest upload, the uploads by status, and the last
 * failures with their file ids and messages.  --json for scripts, --watch
 * to refresh (every 2 s, or --watch=SECONDS).
 *
 * Counting by status scans the hashes (SCAN, pipelined HMGET): at most
 * OVERVIEW_SCAN_MAX of them; past that the counts say so.
 */
#ifndef PORTADA_OVERVIEW_H
#define PORTADA_OVERVIEW_H

/* The subcommand: argv[0] is "status".  Returns the exit status. */
int pw_overview_main(int argc, char **argv);

#endif
