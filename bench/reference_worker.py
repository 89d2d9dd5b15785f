#!/usr/bin/python3
"""PortAda's reference consumer (scripts/worker_example.py in the task guide),
with its simulated work (a sleep) replaced by the work portada-worker does
today: read the file and parse every record.  The alternative the benchmark
compares against.  Serial, as the original: BLPOP, HGETALL, HSET 1, work,
HSET 2 or -1.  Exits once the queue stays empty for one BLPOP timeout, and
logs elapsed_s (from its start to its last file's final status, without
that timeout) and its peak RSS.

    reference_worker.py UNIX_SOCKET
"""
import json
import resource
import sys
import time

import redis

r = redis.Redis(unix_socket_path=sys.argv[1], decode_responses=True)
start = last = time.monotonic()
while True:
    item = r.blpop("files:all", timeout=1)
    if item is None:
        break
    file_id = item[1]
    meta = r.hgetall(f"file:{file_id}")
    if not meta:
        print(f"warning: no metadata for {file_id}", file=sys.stderr)
        continue
    r.hset(f"file:{file_id}", "status", 1)
    try:
        with open(meta["file_path"], "rb") as f:
            records = json.load(f)
        r.hset(f"file:{file_id}", mapping={"status": 2, "records": len(records)})
    except Exception as e:  # the reference worker's own catch-all
        r.hset(f"file:{file_id}", mapping={"status": -1, "error_message": str(e)})
    last = time.monotonic()
print(f"elapsed_s={last - start:.6f}", file=sys.stderr)
print(f"peak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
