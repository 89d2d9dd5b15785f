#!/usr/bin/python3
"""The benchmark suite behind scripts/bench.sh (see bench/README.md).

Runs the chosen sections against a private redis-server on a unix socket
in a temporary directory, prints each section's figures and a summary,
and writes every figure as JSON.  Only correctness fails a run (a file
not done, rows missing from the lake); speed never does.

    suite.py --build DIR --npm DIR --samples DIR [--quick] [SECTION...]
"""
import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import redis

# Functions whose inclusive callgrind cost makes up each hot loop (section
# "instructions").  Others are changing the parser: keep the names here.
#   scanner: the scanner's entry points, minus the record callback they call
#   record:  one record's parse (jansson or its successor)
#   mapping: a parsed record to a row
#   parquet: the encoder, compression included
CALLGRIND_GROUPS = {
    "scanner": {"plus": ["pw_scan_feed", "pw_scan_finish"], "minus": ["on_record"]},
    "record parse": {"plus": ["pw_record_parse"], "minus": []},
    "row mapping": {"plus": ["pw_row_entry"], "minus": []},
    "parquet encode": {"plus": ["pw_pq_open", "pw_pq_write_row", "pw_pq_close"], "minus": []},
}

SECTIONS = ["queue", "conversion", "memory", "latency", "scaling", "instructions"]

# The one-record entry file of the queue, latency and scaling sections.
RECORD = ('[{"model_version":"boat_fact-00.00.01","publication_name":"DM",'
          '"publication_date":"1861-01-01","ship_type":"gol.","ship_name":"Conchita",'
          '"master_name":"Perrer","cargo_list":[{"cargo_name":"miel","cargo_units":'
          '"cuartos","cargo_count":"38"}],"quarantine":false,"obs":null}]\n')

SAMPLES = ["structured-db-1850.json", "flat-dm-1861-cabotage.json"]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def fail(msg):
    raise SystemExit(f"bench: FAILED: {msg}")


def out(line=""):
    print(line, flush=True)


# ---------------------------------------------------------------------------
# The private redis-server

class Server:
    def __init__(self, workdir):
        self.dir = workdir
        self.sock = os.path.join(workdir, "r.sock")
        subprocess.run(["redis-server", "--port", "0", "--unixsocket", self.sock,
                        "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
                        "--dir", workdir, "--daemonize", "yes",
                        "--pidfile", os.path.join(workdir, "redis.pid"),
                        "--logfile", os.path.join(workdir, "redis.log")], check=True)
        self.r = redis.Redis(unix_socket_path=self.sock, decode_responses=True)
        for _ in range(100):
            try:
                self.r.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        else:
            fail("redis-server did not start")
        self.url = "unix://" + self.sock

    def stop(self):
        try:
            self.r.shutdown(nosave=True)
        except Exception:
            pass
        # Still there (the shutdown was refused or never arrived): its pid file.
        try:
            pid = int(open(os.path.join(self.dir, "redis.pid")).read())
            os.kill(pid, signal.SIGKILL)
        except (OSError, ValueError):
            pass

    def enqueue(self, items, prefix="file:"):
        """items: (id, path) pairs, queued as the ingest API does."""
        p = self.r.pipeline(transaction=False)
        for i, (fid, path) in enumerate(items):
            p.hset(prefix + fid, mapping={
                "file_path": path, "file_type": "entry", "status": "0", "user": "bench",
                "original_filename": os.path.basename(path), "timestamp": "1738843718.5"})
            p.rpush("files:all", fid)
            if i % 2000 == 1999:
                p.execute()
        p.execute()

    def count_status(self, ids, want="2"):
        p = self.r.pipeline(transaction=False)
        for fid in ids:
            p.hget("file:" + fid, "status")
        return sum(1 for s in p.execute() if s == want)


# ---------------------------------------------------------------------------
# Running the worker

class RssSampler(threading.Thread):
    """Samples VmHWM and VmRSS of a pid from /proc every 20 ms."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.hwm_kb, self.rss_kb = pid, 0, 0
        self.stopping = threading.Event()

    def read(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.hwm_kb = max(self.hwm_kb, int(line.split()[1]))
                    elif line.startswith("VmRSS:"):
                        self.rss_kb = int(line.split()[1])
        except (OSError, ValueError):
            pass

    def run(self):
        while not self.stopping.wait(0.02):
            self.read()


class Suite:
    def __init__(self, a):
        self.a = a
        self.worker = a.worker or os.path.join(a.build, "src", "portada-worker")
        self.quick = a.quick
        self.work = tempfile.mkdtemp(prefix="portada-bench.")
        self.srv = Server(self.work)
        self.ingest = os.path.join(self.work, "ingest")
        os.makedirs(self.ingest)
        self.cache = os.path.join(a.build, "bench-cache")
        os.makedirs(self.cache, exist_ok=True)
        self.results = {"sections": {}}
        self.children = []      # workers started here, killed if the suite stops early
        self.summary = []       # (section, what, value text, target text)
        self.help = subprocess.run([self.worker, "--help"], capture_output=True,
                                   text=True).stdout

    def close(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.srv.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def lake(self, name):
        d = os.path.join(self.work, "lake-" + name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def start_worker(self, args, logname):
        logf = open(os.path.join(self.work, logname), "w")
        cmd = [self.worker, "--redis", self.srv.url, "--ingest-root", self.ingest,
               "--ingest-root", self.cache, "--worker-id", "bench"] + args
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=logf)
        logf.close()
        self.children.append(p)
        s = RssSampler(p.pid)
        s.start()
        return p, s, cmd

    def finish_worker(self, p, s, logname, cmd):
        s.read()
        p.wait()
        self.children.remove(p)
        s.stopping.set()
        s.join()
        text = open(os.path.join(self.work, logname)).read()
        if p.returncode != 0:
            sys.stderr.write(text[-4000:])
            fail(f"worker exited {p.returncode}: {' '.join(cmd)}")
        m = re.findall(r"peak_rss_kb=(\d+)", text)
        return {"log": text, "hwm_kb": s.hwm_kb,
                "logged_peak_rss_kb": int(m[-1]) if m else None}

    def run_worker(self, args, logname="worker.log"):
        """Runs the worker to its exit; wall time from start to exit."""
        t0 = time.monotonic()
        p, s, cmd = self.start_worker(args, logname)
        r = self.finish_worker(p, s, logname, cmd)
        r["s"] = time.monotonic() - t0
        r["cmd"] = " ".join(cmd)
        return r

    def inspect(self, lake):
        t = os.path.join(lake, "ship_entries")
        p = subprocess.run([self.worker, "inspect", "--json", t], capture_output=True, text=True)
        if p.returncode != 0:
            fail(f"inspect {t}: {p.stderr.strip()}")
        j = json.loads(p.stdout)
        return j["rows"], j["bytes"], j["version"]

    def check_done(self, ids, what):
        n = self.srv.count_status(ids)
        if n != len(ids):
            fail(f"{what}: only {n} of {len(ids)} files have status 2")

    def check_rows(self, lake, want, what):
        rows, nbytes, _ = self.inspect(lake)
        if rows != want:
            fail(f"{what}: the lake holds {rows} rows, expected {want}")
        return nbytes

    def small_files(self, n, tag="q"):
        """n one-record files in the ingest dir, made once per run."""
        items = []
        for i in range(n):
            path = os.path.join(self.ingest, f"{tag}{i}.json")
            if not os.path.exists(path):
                with open(path, "w") as f:
                    f.write(RECORD)
            items.append((f"{tag}{i}", path))
        return items

    def note(self, section, what, value, target=""):
        self.summary.append((section, what, value, target))

    # -----------------------------------------------------------------------
    # 1. Queue throughput

    def queue(self):
        n = 2000 if self.quick else 20000
        runs, pyruns = (1, 1) if self.quick else (5, 2)
        items = self.small_files(n)
        ids = [i for i, _ in items]
        res = {"files": n, "runs_worker": runs, "runs_python": pyruns}
        out(f"== queue: {n} one-record entry files; worker best of {runs}, python best of "
            f"{pyruns} (runs interleaved), redis-benchmark best of {pyruns + 1} per command")
        best = {}
        for k in range(runs):
            for mode in ("blmove", "blpop"):
                self.srv.r.flushall()
                self.srv.enqueue(items)
                lake = self.lake("queue")
                r = self.run_worker(["--lake", lake, "--fetch", mode, "--exit-when-idle"])
                self.check_done(ids, f"queue {mode}")
                self.check_rows(lake, n, f"queue {mode}")
                log(f"queue: worker {mode} run {k + 1}: {r['s']:.3f} s")
                if mode not in best or r["s"] < best[mode]["s"]:
                    best[mode] = r
            if k >= pyruns:
                continue
            # The reference consumer (serial; prints its own time to its last file).
            self.srv.r.flushall()
            self.srv.enqueue(items)
            p = subprocess.run(["/usr/bin/python3", os.path.join(self.a.top, "bench",
                                "reference_worker.py"), self.srv.sock], capture_output=True, text=True)
            if p.returncode != 0:
                sys.stderr.write(p.stderr)
                fail("reference_worker.py failed")
            self.check_done(ids, "queue python reference")
            ps = float(re.search(r"elapsed_s=([0-9.]+)", p.stderr).group(1))
            log(f"queue: reference_worker.py run {k + 1}: {ps:.3f} s")
            if k == 0 or ps < res["python"]["s"]:
                res["python"] = {"s": ps, "files_per_s": n / ps, "peak_rss_kb":
                                 int(re.search(r"peak_rss_kb=(\d+)", p.stderr).group(1))}
        for mode, b in best.items():
            res[f"worker_{mode}"] = {"s": b["s"], "files_per_s": n / b["s"],
                                     "peak_rss_kb": b["hwm_kb"], "cmd": b["cmd"]}
        res["ceiling"] = self.ceiling(pyruns + 1)
        out(f"  {'':34} {'s':>8} {'files/s':>10} {'peak RSS MiB':>13}")
        for name, key in (("portada-worker --fetch blmove", "worker_blmove"),
                          ("portada-worker --fetch blpop", "worker_blpop"),
                          ("reference_worker.py (python)", "python")):
            v = res[key]
            out(f"  {name:34} {v['s']:8.3f} {v['files_per_s']:10.0f} {v['peak_rss_kb'] / 1024:13.1f}")
        for mode in ("blmove", "blpop"):
            c = res["ceiling"][mode]
            out(f"  redis-benchmark ceiling, {mode} mix {'':9}{c['files_per_s']:10.0f}"
                f"   ({', '.join(f'{k} {v:.0f}/s' for k, v in c['rps'].items())})")
            c2 = res["ceiling"][mode + "_as_sent"]
            out(f"  ceiling, {mode} mix as the worker sends it (batched scripts) "
                f"{c2['files_per_s']:.0f} files/s")
        for mode in ("blmove", "blpop"):
            w = res[f"worker_{mode}"]["files_per_s"]
            res[f"ratio_{mode}_vs_python"] = w / res["python"]["files_per_s"]
            res[f"ratio_{mode}_vs_ceiling"] = w / res["ceiling"][mode]["files_per_s"]
            out(f"  {mode}: worker ÷ python {res[f'ratio_{mode}_vs_python']:.1f}×   "
                f"worker ÷ ceiling {100 * res[f'ratio_{mode}_vs_ceiling']:.1f}%")
            self.note("queue", f"{mode} ÷ python", f"{res[f'ratio_{mode}_vs_python']:.1f}×", "≥ 20×")
            self.note("queue", f"{mode} ÷ ceiling",
                      f"{100 * res[f'ratio_{mode}_vs_ceiling']:.1f}%", "≥ 50%")
        self.results["sections"]["queue"] = res

    def redis_bench(self, args, n):
        p = subprocess.run(["redis-benchmark", "-s", self.srv.sock, "-n", str(n), "-c", "4",
                            "-P", "64", "-r", "20000", "--csv"] + args,
                           capture_output=True, text=True)
        rows = [ln for ln in p.stdout.splitlines() if ln.strip()]
        if p.returncode != 0 or len(rows) < 2:
            sys.stderr.write(p.stdout + p.stderr)
            fail(f"redis-benchmark {args[0]} failed")
        return float(rows[-1].split('","')[1].strip('"'))

    def ceiling(self, runs):
        """Each command of the worker's per-file mix pipelined through
        redis-benchmark on the same server; files/s = 1 / sum(1 / rps)."""
        n = 20000 if self.quick else 200000
        r = self.srv.r
        def c_string(path, name):
            text = open(os.path.join(self.a.top, "src", path)).read()
            lit = re.search(name + r'\[\] =\s*((?:"[^"]*"\s*)+);', text).group(1)
            return "".join(re.findall(r'"([^"]*)"', lit)).encode().decode("unicode_escape")
        status_batch = c_string("status.c", "pw_status_batch_script")
        fetch_batch = c_string("queue.c", "batch_script")
        ack_batch = c_string("queue.c", "ack_script")
        fid = "5f0c6f7e-1d0e-4f4e-9c1a-7f6b1e8d2c3a"
        now = str(int(time.time()))

        def prepare():
            r.flushall()
            p = r.pipeline(transaction=False)
            for i in range(20000):
                p.hset(f"file:{i:012d}", mapping={
                    "file_path": f"/app/ingestion/ship_entries/bench/{fid}.json",
                    "file_type": "entry", "status": "0", "user": "bench",
                    "original_filename": "flat-dm-1861-cabotage.json",
                    "stored_filename": f"{fid}.json", "timestamp": "1738843718.123456"})
            p.execute()
            # Enough ids for every request (and what the clients' pipelines overshoot).
            m = n + 4 * 64 * 4
            for _ in range(0, m, 10000):
                r.rpush("files:all", *([fid] * 10000))
                r.rpush("files:processing:bench", *([fid] * 10000))
            # The worker's scripts go by SHA1 after their first call.
            return {k: r.script_load(v) for k, v in
                    (("status", status_batch), ("fetch", fetch_batch), ("ack", ack_batch))}

        hkey = "file:__rand_int__"
        start = ["status", "1", "worker", "bench", "started_at", now, "first_started_at", now]
        done = ["status", "2", "finished_at", now, "records", "1", "delta_table",
                "ship_entries", "delta_version", "1"]
        B = 256         # what one script call of the worker carries (see below)
        keys = [hkey] * B
        sha = prepare()
        cmds = {
            "LMOVE": ["LMOVE", "files:all", "files:processing:bench", "LEFT", "RIGHT"],
            "LPOP": ["LPOP", "files:all"],
            "HGETALL": ["HGETALL", hkey],
            "HSET status 1": ["HSET", hkey] + start,
            "HSET status 2": ["HSET", hkey] + done,
            "LREM": ["LREM", "files:processing:bench", "1", fid],
            # As the worker sends them: ids taken 256 at a time by a script
            # of LMOVEs (here from a list into itself, so it keeps its
            # length), and the status writes and acknowledgements of one
            # turn of its loop as one script each: counted in batches of
            # 256 (a group commit finishes up to 1,000 files at once).
            "EVALSHA fetch x256": ["EVALSHA", sha["fetch"], "2", "files:all", "files:all", str(B)],
            "EVALSHA status 1 x256": ["EVALSHA", sha["status"], str(B)] + keys +
                                     sum(([str(len(start)), "error_message"] + start
                                          for _ in range(B)), []),
            "EVALSHA status 2 x256": ["EVALSHA", sha["status"], str(B)] + keys +
                                     sum(([str(len(done)), "error_message"] + done
                                          for _ in range(B)), []),
            "EVALSHA ack x256": ["EVALSHA", sha["ack"], "1", "files:processing:bench"] +
                                [fid] * B,
        }
        per_file = {k: (1 / B if "x256" in k else 1) for k in cmds}
        rps = {}
        for name in cmds:
            for _ in range(runs):
                prepare()
                count = max(200, n // B) if "x256" in name else n
                rps[name] = max(rps.get(name, 0), self.redis_bench(cmds[name], count))
            log(f"queue: redis-benchmark {name}: {rps[name]:.0f}/s")

        def mix(names):
            return {"commands": {k: " ".join(cmds[k][:6]) + (" ..." if len(cmds[k]) > 6 else "")
                                 for k in names},
                    "calls_per_file": {k: per_file[k] for k in names},
                    "rps": {k: rps[k] for k in names},
                    "files_per_s": 1 / sum(per_file[k] / rps[k] for k in names)}
        return {"requests_per_command": n, "clients": 4, "pipeline": 64, "best_of": runs,
                "blmove": mix(["LMOVE", "HGETALL", "HSET status 1", "HSET status 2", "LREM"]),
                "blpop": mix(["LPOP", "HGETALL", "HSET status 1", "HSET status 2"]),
                "blmove_as_sent": mix(["EVALSHA fetch x256", "HGETALL", "EVALSHA status 1 x256",
                                       "EVALSHA status 2 x256", "EVALSHA ack x256"]),
                "blpop_as_sent": mix(["LPOP", "HGETALL", "EVALSHA status 1 x256",
                                      "EVALSHA status 2 x256"])}

    # -----------------------------------------------------------------------
    # 2. Conversion throughput

    def conversion(self):
        pair = sum(os.path.getsize(os.path.join(self.a.samples, s)) for s in SAMPLES)
        copies = 4 if self.quick else max(1, round(200e6 / pair))
        runs = 1 if self.quick else 3
        items, recs = [], 0
        per_sample = {}
        for s in SAMPLES:
            per_sample[s] = len(json.load(open(os.path.join(self.a.samples, s))))
        for c in range(copies):
            for s in SAMPLES:
                dest = os.path.join(self.ingest, f"conv{c}-{s}")
                if not os.path.exists(dest):
                    shutil.copyfile(os.path.join(self.a.samples, s), dest)
                items.append((f"conv{c}-{s[:4]}", dest))
                recs += per_sample[s]
        ids = [i for i, _ in items]
        nbytes = copies * pair
        out(f"== conversion: {len(items)} files ({copies} × the two samples), "
            f"{nbytes / 1e6:.1f} MB of JSON, {recs} records; worker and DuckDB best of {runs}, "
            "runs interleaved")
        best, d = None, {}
        duck = os.path.join(self.work, "duck")
        for k in range(runs):
            self.srv.r.flushall()
            self.srv.enqueue(items)
            lake = self.lake("conv")
            r = self.run_worker(["--lake", lake, "--exit-when-idle"])
            self.check_done(ids, "conversion")
            r["lake_bytes"] = self.check_rows(lake, recs, "conversion")
            r["commits"] = len(re.findall(r" commit: ship_entries", r["log"]))
            log(f"conversion: worker run {k + 1}: {r['s']:.3f} s")
            if best is None or r["s"] < best["s"]:
                best = r
            shutil.rmtree(lake, ignore_errors=True)
            # DuckDB, one run of both ways (it times itself, node's start excluded).
            p = subprocess.run(["node", os.path.join(self.a.npm, "duckdb-convert.mjs"), duck, "1"]
                               + [pth for _, pth in items], capture_output=True, text=True)
            if p.returncode != 0:
                sys.stderr.write(p.stderr)
                fail("duckdb-convert.mjs failed")
            dk = dict(ln.split("=", 1) for ln in p.stdout.splitlines() if "=" in ln)
            for way in ("per_file", "one_query"):
                if int(dk[f"{way}_rows"]) != recs:
                    fail(f"conversion: DuckDB {way} wrote {dk[f'{way}_rows']} rows, expected {recs}")
                if f"{way}_s" not in d or float(dk[f"{way}_s"]) < float(d[f"{way}_s"]):
                    for f in ("s", "rows", "bytes"):
                        d[f"{way}_{f}"] = dk[f"{way}_{f}"]
            d["duckdb_version"] = dk["duckdb_version"]
            d["peak_rss_kb"] = str(max(int(d.get("peak_rss_kb", 0)), int(dk["peak_rss_kb"])))
            log(f"conversion: DuckDB run {k + 1}: per file {float(dk['per_file_s']):.3f} s, "
                f"one query {float(dk['one_query_s']):.3f} s")
            shutil.rmtree(duck, ignore_errors=True)
        res = {"files": len(items), "copies": copies, "json_bytes": nbytes, "records": recs,
               "runs": runs, "duckdb_version": d["duckdb_version"],
               "worker": {"s": best["s"], "mb_per_s": nbytes / 1e6 / best["s"],
                          "parquet_bytes": best["lake_bytes"], "commits": best["commits"],
                          "peak_rss_kb": best["hwm_kb"],
                          "logged_peak_rss_kb": best["logged_peak_rss_kb"], "cmd": best["cmd"]},
               "duckdb_per_file": {"s": float(d["per_file_s"]),
                                   "mb_per_s": nbytes / 1e6 / float(d["per_file_s"]),
                                   "parquet_bytes": int(d["per_file_bytes"])},
               "duckdb_one_query": {"s": float(d["one_query_s"]),
                                    "mb_per_s": nbytes / 1e6 / float(d["one_query_s"]),
                                    "parquet_bytes": int(d["one_query_bytes"])},
               "duckdb_peak_rss_kb": int(d["peak_rss_kb"])}
        out(f"  {'':40} {'s':>8} {'JSON MB/s':>10} {'out bytes':>12} {'peak RSS MiB':>13}")
        w = res["worker"]
        out(f"  {'portada-worker: queue → Delta (' + str(w['commits']) + ' commits)':40} {w['s']:8.3f} "
            f"{w['mb_per_s']:10.1f} {w['parquet_bytes']:12d} {w['peak_rss_kb'] / 1024:13.1f}")
        for name, key in (("DuckDB threads=1, one COPY per file", "duckdb_per_file"),
                          ("DuckDB threads=1, one query", "duckdb_one_query")):
            v = res[key]
            out(f"  {name:40} {v['s']:8.3f} {v['mb_per_s']:10.1f} {v['parquet_bytes']:12d} "
                f"{res['duckdb_peak_rss_kb'] / 1024:13.1f}")
        out("  (DuckDB's peak RSS is the node process over both ways)")
        for key, name in (("duckdb_per_file", "per file"), ("duckdb_one_query", "one query")):
            ratio = w["mb_per_s"] / res[key]["mb_per_s"]
            size = w["parquet_bytes"] / res[key]["parquet_bytes"]
            res[f"ratio_vs_{key}"] = ratio
            res[f"size_ratio_vs_{key}"] = size
            out(f"  worker ÷ DuckDB {name}: speed {ratio:.2f}×, Parquet bytes {size:.2f}×")
            self.note("conversion", f"MB/s ÷ DuckDB {name}", f"{ratio:.2f}×", "≥ 1.0×")
        self.results["sections"]["conversion"] = res

    # -----------------------------------------------------------------------
    # 3. Memory

    def big_file(self, mb):
        """A JSON array of sample records repeated to about mb MB, made once."""
        path = os.path.join(self.cache, f"big-{mb}mb.json")
        if os.path.exists(path):
            return path, json.load(open(path + ".records"))
        recs = []
        for s in SAMPLES:
            recs += [json.dumps(x, ensure_ascii=False, separators=(",", ":"))
                     for x in json.load(open(os.path.join(self.a.samples, s)))]
        n, size = 0, 2
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("[")
            while size < mb * 1000000:
                rec = recs[n % len(recs)]
                f.write(("," if n else "") + "\n" + rec)
                size += len(rec.encode()) + 2
                n += 1
            f.write("\n]\n")
        json.dump(n, open(path + ".records", "w"))
        os.rename(tmp, path)
        return path, n

    def memory(self):
        nbig, nfiles = (2, 200) if self.quick else (20, 2000)
        bigmb = 10 if self.quick else 50
        big, bigrecs = self.big_file(bigmb)
        samples = {s: os.path.join(self.a.samples, s) for s in SAMPLES}
        nrec = {s: len(json.load(open(p))) for s, p in samples.items()}
        items, recs = [], 0
        every = nfiles // nbig
        for i in range(nfiles):
            if i % every == every // 2:
                # Hard links in the cache (an ingest root): one copy on disk.
                path = os.path.join(self.cache, f"big-{bigmb}mb-{i}.json")
                if not os.path.exists(path):
                    os.link(big, path)
                recs += bigrecs
            elif i % 10 == 3:
                s = SAMPLES[(i // 10) % 2]
                path = os.path.join(self.ingest, f"mem{i}-{s}")
                if not os.path.exists(path):
                    shutil.copyfile(samples[s], path)
                recs += nrec[s]
            else:
                path = os.path.join(self.ingest, f"mem{i}.json")
                if not os.path.exists(path):
                    with open(path, "w") as f:
                        f.write(RECORD)
                recs += 1
            items.append((f"mem{i}", path))
        ids = [i for i, _ in items]
        nbytes = sum(os.path.getsize(p) for _, p in items)
        supported = "--memory-budget" in self.help
        budgets = ["16m", "64m", "256m"] if supported else [None]
        res = {"files": nfiles, "big_files": nbig, "big_file_bytes": os.path.getsize(big),
               "json_bytes": nbytes, "records": recs, "budget_supported": supported, "runs": []}
        out(f"== memory: {nfiles} files, {nbig} of {os.path.getsize(big) / 1e6:.1f} MB, "
            f"{nbytes / 1e6:.1f} MB of JSON, {recs} records; 1 run per budget")
        if not supported:
            out("  memory budget: not supported by this build (one run with the worker's defaults)")
        out(f"  {'--memory-budget':16} {'s':>8} {'VmHWM MiB':>10} {'logged peak MiB':>16} {'target MiB':>11}")
        for b in budgets:
            self.srv.r.flushall()
            self.srv.enqueue(items)
            lake = self.lake("mem")
            args = ["--lake", lake, "--exit-when-idle"] + (["--memory-budget", b] if b else [])
            r = self.run_worker(args)
            self.check_done(ids, f"memory {b or 'defaults'}")
            self.check_rows(lake, recs, f"memory {b or 'defaults'}")
            target = parse_size(b) / 1024 + 16 * 1024 if b else None
            res["runs"].append({"budget": b, "s": r["s"], "peak_rss_kb": r["hwm_kb"],
                                "logged_peak_rss_kb": r["logged_peak_rss_kb"],
                                "target_kb": target, "cmd": r["cmd"]})
            out(f"  {b or 'defaults':16} {r['s']:8.3f} {r['hwm_kb'] / 1024:10.1f} "
                f"{(r['logged_peak_rss_kb'] or 0) / 1024:16.1f} "
                f"{('%.1f' % (target / 1024)) if target else '-':>11}")
            self.note("memory", f"peak RSS, budget {b or 'defaults'}",
                      f"{r['hwm_kb'] / 1024:.1f} MiB", f"≤ {target / 1024:.0f} MiB" if target else "")
        # Idle: an empty queue, a running worker, ~3 s.
        self.srv.r.flushall()
        lake = self.lake("idle")
        p, s, cmd = self.start_worker(["--lake", lake], "idle.log")
        time.sleep(3)
        s.read()
        idle = s.rss_kb
        p.send_signal(signal.SIGTERM)
        self.finish_worker(p, s, "idle.log", cmd)
        res["idle_rss_kb"] = idle
        res["idle_cmd"] = " ".join(cmd)
        out(f"  idle (empty queue, 3 s): VmRSS {idle / 1024:.1f} MiB (target ≤ 8 MiB)")
        self.note("memory", "idle RSS", f"{idle / 1024:.1f} MiB", "≤ 8 MiB")
        self.results["sections"]["memory"] = res

    # -----------------------------------------------------------------------
    # 4. Latency

    def latency_run(self, interval_ms, rate, secs, tag):
        r = self.srv.r
        r.flushall()
        r.config_set("notify-keyspace-events", "Kh")
        n = rate * secs
        items = self.small_files(n, tag)
        lake = self.lake("lat")
        pushed, done = {}, {}
        hsets = {}
        ps = redis.Redis(unix_socket_path=self.srv.sock, decode_responses=True).pubsub()
        ps.psubscribe(f"__keyspace@0__:file:{tag}*")
        while ps.get_message(timeout=1) is None:
            pass
        stop = threading.Event()

        def listen():
            # The producer's HSET, status 1 and the final status: the third hset.
            while not stop.is_set():
                m = ps.get_message(timeout=0.1)
                if m is None or m["type"] != "pmessage" or m["data"] != "hset":
                    continue
                t = time.monotonic()
                key = m["channel"].split(":", 1)[1]
                hsets[key] = hsets.get(key, 0) + 1
                if hsets[key] == 3:
                    done[key] = t
        lt = threading.Thread(target=listen, daemon=True)
        lt.start()
        p, s, cmd = self.start_worker(["--lake", lake, "--commit-interval-ms", str(interval_ms)],
                                      f"lat{interval_ms}.log")
        time.sleep(1)       # connected and blocked in its pop
        push = redis.Redis(unix_socket_path=self.srv.sock, decode_responses=True)
        t0 = time.monotonic()
        for i, (fid, path) in enumerate(items):
            due = t0 + i / rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            pl = push.pipeline(transaction=False)
            pl.hset("file:" + fid, mapping={"file_path": path, "file_type": "entry", "status": "0",
                                            "user": "bench", "timestamp": f"{time.time():.6f}"})
            pl.rpush("files:all", fid)
            pushed["file:" + fid] = time.monotonic()
            pl.execute()
        achieved = n / (time.monotonic() - t0)
        deadline = time.monotonic() + 30
        while len(done) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        lt.join()
        p.send_signal(signal.SIGTERM)
        self.finish_worker(p, s, f"lat{interval_ms}.log", cmd)
        ps.close()
        self.check_done([i for i, _ in items], f"latency {interval_ms} ms")
        self.check_rows(lake, n, f"latency {interval_ms} ms")
        if len(done) != n:
            fail(f"latency: saw the final status of {len(done)} of {n} files")
        lat = sorted((done[k] - pushed[k]) * 1000 for k in pushed)
        pct = lambda q: lat[min(n - 1, math.ceil(q * n) - 1)]
        return {"commit_interval_ms": interval_ms, "files": n, "rate": rate,
                "achieved_rate": achieved, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                "max_ms": lat[-1], "mean_ms": sum(lat) / n, "cmd": " ".join(cmd)}

    def latency(self):
        rate, secs = 100, (5 if self.quick else 20)
        out(f"== latency: RPUSH to final status at {rate} files/s for {secs} s, one-record files")
        out(f"  {'--commit-interval-ms':22} {'files':>6} {'rate/s':>7} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8}")
        res = {"runs": []}
        for k, ms in enumerate((1000, 100)):
            v = self.latency_run(ms, rate, secs, f"lat{k}-")
            res["runs"].append(v)
            out(f"  {ms:<22} {v['files']:6d} {v['achieved_rate']:7.1f} {v['p50_ms']:8.1f} "
                f"{v['p99_ms']:8.1f} {v['max_ms']:8.1f}")
            self.note("latency", f"p50 / p99 at {ms} ms commits",
                      f"{v['p50_ms']:.0f} / {v['p99_ms']:.0f} ms")
        self.results["sections"]["latency"] = res

    # -----------------------------------------------------------------------
    # 5. Scaling

    def scaling(self):
        # A batch holding half the slots commits at once, so no point waits
        # out the commit interval: the same number of files at every point
        # but 1 in flight (a commit, with its fsyncs, per file).
        points = [(1000, m) for m in (1, 16, 256, 4096)]
        counts = {1: 200 if self.quick else 2000}
        cap = 2000 if self.quick else 20000
        res = {"runs": []}
        out("== scaling: one-record files, files/s by --max-inflight, 1 run each")
        out(f"  {'--commit-interval-ms':22} {'--max-inflight':>14} {'files':>6} {'s':>8} {'files/s':>9}")
        for ms, m in points:
            n = counts.get(m, cap)
            items = self.small_files(n)
            self.srv.r.flushall()
            self.srv.enqueue(items)
            lake = self.lake("scale")
            r = self.run_worker(["--lake", lake, "--exit-when-idle", "--max-inflight", str(m),
                                 "--commit-interval-ms", str(ms)])
            self.check_done([i for i, _ in items], f"scaling {m}")
            self.check_rows(lake, n, f"scaling {m}")
            res["runs"].append({"commit_interval_ms": ms, "max_inflight": m, "files": n,
                                "s": r["s"], "files_per_s": n / r["s"], "cmd": r["cmd"]})
            out(f"  {ms:<22} {m:14d} {n:6d} {r['s']:8.3f} {n / r['s']:9.0f}")
        curve = " / ".join(f"{x['files_per_s']:.0f}" for x in res["runs"])
        self.note("scaling", "files/s at 1/16/256/4096 in flight", curve)
        self.results["sections"]["scaling"] = res

    # -----------------------------------------------------------------------
    # 6. Instruction counts

    def instructions(self):
        items = [(f"cg{k}", os.path.join(self.ingest, s)) for k, s in enumerate(SAMPLES)]
        recs = 0
        for (_, dest), s in zip(items, SAMPLES):
            shutil.copyfile(os.path.join(self.a.samples, s), dest)
            recs += len(json.load(open(dest)))
        nbytes = sum(os.path.getsize(p) for _, p in items)
        self.srv.r.flushall()
        self.srv.enqueue(items)
        lake = self.lake("cg")
        cgout = os.path.join(self.work, "callgrind.out")
        log("instructions: the worker under callgrind ...")
        p = subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=no",
                            f"--callgrind-out-file={cgout}", self.worker, "--redis", self.srv.url,
                            "--ingest-root", self.ingest, "--worker-id", "bench", "--lake", lake,
                            "--exit-when-idle", "--connect-timeout", "60s",
                            "--command-timeout", "60s"], capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr[-4000:])
            fail("the worker under callgrind failed")
        self.check_done([i for i, _ in items], "instructions")
        self.check_rows(lake, recs, "instructions")
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cgout],
                             capture_output=True, text=True).stdout
        total = None
        incl = {}
        for line in ann.splitlines():
            m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$", line)
            if not m:
                continue
            ir = int(m.group(1).replace(",", ""))
            rest = m.group(2)
            if "PROGRAM TOTALS" in rest:
                total = ir
                continue
            fn = re.sub(r"\s*\[.*\]$", "", rest)
            fn = fn.split(":", 1)[1] if ":" in fn else fn
            fn = re.sub(r"'\d+$", "", fn.strip())   # recursion levels
            incl[fn] = max(incl.get(fn, 0), ir)
        if total is None:
            fail("instructions: no PROGRAM TOTALS in callgrind_annotate's output")
        res = {"input_bytes": nbytes, "records": recs, "total_ir": total,
               "ir_per_byte": total / nbytes, "groups": {}}
        out(f"== instructions: callgrind, the worker converting the two samples once each "
            f"({nbytes} bytes, {recs} records)")
        out(f"  {'':18} {'M instr':>9} {'instr/byte':>11}   functions (inclusive)")
        out(f"  {'whole process':18} {total / 1e6:9.1f} {total / nbytes:11.1f}   PROGRAM TOTALS")
        self.note("instructions", "whole process", f"{total / nbytes:.0f} instr/byte")
        for g, spec in CALLGRIND_GROUPS.items():
            missing = [f for f in spec["plus"] if f not in incl]
            v = sum(incl.get(f, 0) for f in spec["plus"]) - sum(incl.get(f, 0) for f in spec["minus"])
            res["groups"][g] = {"ir": v, "ir_per_byte": v / nbytes, "plus": spec["plus"],
                                "minus": spec["minus"], "missing": missing}
            desc = " + ".join(spec["plus"]) + "".join(f" - {f}" for f in spec["minus"])
            if missing:
                desc += f"  (not in the profile: {', '.join(missing)})"
            out(f"  {g:18} {v / 1e6:9.1f} {v / nbytes:11.1f}   {desc}")
            self.note("instructions", g, f"{v / nbytes:.0f} instr/byte")
        self.results["sections"]["instructions"] = res


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def parse_size(s):
    m = re.fullmatch(r"(\d+)([kmg]?)", s.lower())
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2)]


def machine(a, worker):
    def first(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "unknown"
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next(int(x.split()[1]) for x in open("/proc/meminfo") if x.startswith("MemTotal"))
    duck = subprocess.run(["node", "--input-type=module", "-e",
                           "import { DuckDBInstance } from '@duckdb/node-api';"
                           "const c = await (await DuckDBInstance.create(':memory:')).connect();"
                           "console.log((await (await c.run('SELECT version()')).getRows())[0][0]);"],
                          cwd=a.npm, capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_mib": mem // 1024,
            "kernel": platform.release(), "redis": first(["redis-server", "--version"]),
            "duckdb": duck or "unknown", "python": first(["/usr/bin/python3", "--version"]),
            "python_redis": redis.__version__, "node": first(["node", "--version"]),
            "valgrind": first(["valgrind", "--version"]), "cc": first(["cc", "--version"]),
            "worker": first([worker, "--version"]),
            "commit": first(["git", "-C", a.top, "describe", "--always", "--dirty", "--abbrev=12"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--npm", required=True)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--worker", help="another portada-worker binary (default: BUILD/src/portada-worker)")
    ap.add_argument("sections", nargs="*")
    a = ap.parse_args()
    chosen = [s for s in SECTIONS if s in a.sections] if a.sections else SECTIONS
    for s in a.sections:
        if s not in SECTIONS:
            raise SystemExit(f"bench: unknown section {s!r} (sections: {' '.join(SECTIONS)})")
    for s in SAMPLES:
        if not os.path.isfile(os.path.join(a.samples, s)):
            raise SystemExit(f"bench: sample {a.samples}/{s} not found (set PW_SAMPLES_DIR)")
    suite = Suite(a)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    try:
        m = machine(a, suite.worker)
        m["worker_path"] = suite.worker
        suite.results["machine"] = m
        suite.results["quick"] = a.quick
        suite.results["started_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        out(f"machine: {m['nproc']} cores, {m['cpu']}, {m['ram_mib']} MiB RAM, Linux {m['kernel']}")
        out(f"versions: {m['redis']}; DuckDB {m['duckdb']}; {m['python']} (redis-py "
            f"{m['python_redis']}); node {m['node']}; {m['worker']} at {m['commit']}")
        if a.quick:
            out("QUICK run: small sizes, figures are not comparable with a full run")
        out()
        for s in chosen:
            ts, la = time.monotonic(), loadavg()
            getattr(suite, s)()
            suite.results["sections"][s]["section_s"] = time.monotonic() - ts
            # Others share the machine: how busy it was says how noisy the figures are.
            suite.results["sections"][s]["loadavg_before_after"] = [la, loadavg()]
            out(f"  (load average before / after: {la} / {loadavg()})")
            out()
    finally:
        suite.close()
    suite.results["total_s"] = time.monotonic() - t0
    out(f"== summary ({suite.results['total_s']:.0f} s)")
    for sec, what, value, target in suite.summary:
        out(f"  {sec:13} {what:36} {value:>22}  {('target ' + target) if target else ''}")
    with open(a.json, "w") as f:
        json.dump(suite.results, f, indent=2)
        f.write("\n")
    out(f"results: {a.json}")


if __name__ == "__main__":
    main()
