#!/usr/bin/env python3
"""Orchestrates bench/run: reads rows/*.tsv, runs JMH and the peers interleaved, prints the table.

Called by bench/run (which finds the JDK and builds the jar); see bench/README.md for the row format.
"""
import argparse
import glob
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_PACKAGE = "dev.shrink4j.bench."
JVM_FLAGS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djlama.force_panama_tensor_operations=true"
UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
RATE_SCALE = {"G": 1e9, "M": 1e6, "K": 1e3}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Source:
    """One side of a row: jmh:BENCH [k=v ...] [@NANOS/COUNT] | py:SCRIPT ARGS... | cmd:SHELL."""

    def __init__(self, spec, where):
        self.spec = spec.strip()
        kind, _, rest = self.spec.partition(":")
        if kind not in ("jmh", "py", "cmd") or not rest.strip():
            sys.exit(f"{where}: source '{spec}' must start with jmh:, py: or cmd:")
        self.kind = kind
        self.rest = rest.strip()
        self.samples = []  # seconds per operation
        if kind == "jmh":
            words = self.rest.split()
            name = words[0]
            self.benchmark = name if name.startswith(BENCH_PACKAGE) else BENCH_PACKAGE + name
            self.cls, _, self.method = self.benchmark.rpartition(".")
            self.params = {}
            self.metric = None  # (nanoseconds, count): two secondary results of the benchmark
            for w in words[1:]:
                if w.startswith("@"):
                    num, slash, den = w[1:].partition("/")
                    if not (num and slash and den):
                        sys.exit(f"{where}: '{w}' must be @NANOS/COUNT (two secondary results of the benchmark)")
                    self.metric = (num, den)
                    continue
                k, eq, v = w.partition("=")
                if not eq:
                    sys.exit(f"{where}: JMH parameter '{w}' must be name=value")
                self.params[k] = v


class Row:
    def __init__(self, fields, where):
        if len(fields) < 4:
            sys.exit(f"{where}: expected name, ours, peer, unit[, ours_work, peer_work] separated by tabs")
        self.name = fields[0].strip()
        self.ours = Source(fields[1], where)
        self.peer = Source(fields[2], where)
        self.unit = fields[3].strip()
        self.rate = self.unit.endswith("/s")
        work = [f.strip() for f in fields[4:6]] + ["-", "-"]
        self.ours_work = parse_work(work[0], where) if self.rate else None
        self.peer_work = parse_work(work[1], where) if self.rate else None
        if self.rate and (self.ours_work is None or self.peer_work is None):
            sys.exit(f"{where}: rate unit {self.unit} needs ours_work and peer_work (units of work per operation)")
        if not self.rate and self.unit not in UNIT_SECONDS:
            sys.exit(f"{where}: unit '{self.unit}' must be one of {sorted(UNIT_SECONDS)} or end in /s")


def parse_work(text, where):
    if text in ("", "-"):
        return None
    if not re.fullmatch(r"[0-9*. ]+", text):
        sys.exit(f"{where}: work '{text}' must be a product of numbers, e.g. 4096*4096*4")
    v = 1.0
    for f in text.split("*"):
        v *= float(f)
    return v


def read_rows(root, pattern):
    rows = []
    for path in sorted(glob.glob(os.path.join(root, "bench", "rows", "*.tsv"))):
        with open(path) as fh:
            for i, line in enumerate(fh, 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                row = Row(line.rstrip("\n").split("\t"), f"{os.path.relpath(path, root)}:{i}")
                if pattern.search(row.name):
                    rows.append(row)
    return rows


def run_jmh(java, jar, cls, sources, jmh_opts, logdir):
    """One JMH run for the class; one per parameter combination when the union of the requested values
    would make JMH run combinations no row asked for (JMH takes value lists, not combinations)."""
    combos = {}
    for s in sources:
        combos.setdefault(tuple(sorted(s.params.items())), []).append(s)
    values = {}
    for s in sources:
        for k, v in s.params.items():
            values.setdefault(k, set()).add(v)
    product = 1
    for vs in values.values():
        product *= len(vs)
    if product > len(combos):
        for group in combos.values():
            run_jmh_once(java, jar, cls, group, jmh_opts, logdir)
    else:
        run_jmh_once(java, jar, cls, sources, jmh_opts, logdir)


def run_jmh_once(java, jar, cls, sources, jmh_opts, logdir):
    methods = sorted({s.method for s in sources})
    params = {}
    for s in sources:
        for k, v in s.params.items():
            params.setdefault(k, []).append(v)
    include = "^" + re.escape(cls) + r"\.(" + "|".join(re.escape(m) for m in methods) + r")$"
    out = tempfile.NamedTemporaryFile(prefix="jmh-", suffix=".json", dir=logdir, delete=False).name
    cmd = [java] + JVM_FLAGS.split() + ["-jar", jar, include, "-rf", "json", "-rff", out,
                                         "-jvmArgsAppend", JVM_FLAGS] + jmh_opts
    for k, vs in params.items():
        cmd += ["-p", k + "=" + ",".join(dict.fromkeys(vs))]
    logfile = os.path.join(logdir, cls.rsplit(".", 1)[1] + ".log")
    # JMH allows one instance per machine (/tmp/jmh.lock); on a shared machine wait for the other
    # run to finish rather than measure two benchmarks fighting over the cores.
    deadline = time.time() + float(os.environ.get("BENCH_LOCK_WAIT_S", "600"))
    while True:
        start = os.path.getsize(logfile) if os.path.exists(logfile) else 0
        with open(logfile, "a") as lf:
            rc = subprocess.call(cmd, stdout=lf, stderr=subprocess.STDOUT)
        with open(logfile) as lf:
            lf.seek(start)
            locked = "Unable to acquire the JMH lock" in lf.read()
        if not locked or time.time() > deadline:
            break
        log(f"  another JMH run holds /tmp/jmh.lock; waiting")
        time.sleep(15)
    if rc != 0:
        log(f"  JMH failed for {cls} (exit {rc}); see {logfile}")
    try:
        with open(out) as fh:
            results = json.load(fh)
    except (OSError, ValueError):
        results = []
    flat = lambda metric: [x for fork in metric["rawData"] for x in fork]
    for r in results:
        for s in sources:
            if r["benchmark"] != s.benchmark or any(r.get("params", {}).get(k) != v for k, v in s.params.items()):
                continue
            if s.metric:
                extra = r.get("secondaryMetrics", {})
                if any(m not in extra for m in s.metric):
                    sys.exit(f"{s.benchmark}: no secondary results {s.metric} (has {sorted(extra)})")
                nanos, counts = flat(extra[s.metric[0]]), flat(extra[s.metric[1]])
                s.samples += [t * 1e-9 / c for t, c in zip(nanos, counts) if c > 0]
            else:
                scale = to_seconds(r["primaryMetric"]["scoreUnit"])
                s.samples += [scale(x) for x in flat(r["primaryMetric"])]


def to_seconds(unit):
    per, _, _ = unit.partition("/")
    if unit.endswith("/op") and per in UNIT_SECONDS:
        return lambda x: x * UNIT_SECONDS[per]
    if unit.startswith("ops/"):
        return lambda x: UNIT_SECONDS[unit.split("/")[1]] / x
    sys.exit(f"JMH score unit {unit} is not a time per operation; use Mode.AverageTime or Mode.SingleShotTime")


def run_external(src, root, reps):
    if src.kind == "py":
        argv = shlex.split(src.rest)
        cmd = [sys.executable, os.path.join(root, "bench", "peers", argv[0])] + argv[1:] + ["--reps", str(reps)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=root)
        if proc.returncode != 0:
            log(f"  peer failed: {' '.join(cmd)}\n{proc.stderr.strip()}")
            return
        src.samples += [float(l.split()[1]) for l in proc.stdout.splitlines() if l.startswith("sample ")]
    else:
        subprocess.run(src.rest, shell=True, cwd=root)  # warm-up (page cache, binaries)
        for _ in range(reps):
            t = time.perf_counter()
            rc = subprocess.run(src.rest, shell=True, cwd=root).returncode
            dt = time.perf_counter() - t
            if rc != 0:
                log(f"  command failed ({rc}): {src.rest}")
                return
            src.samples.append(dt)


def values(row, src, work):
    if row.rate:
        scale = RATE_SCALE.get(row.unit[0], 1.0)
        return [work / t / scale for t in src.samples if t > 0]
    return [t / UNIT_SECONDS[row.unit] for t in src.samples]


def fmt(v):
    return f"{v:.4g}" if v is not None else "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--java", required=True)
    ap.add_argument("--jar", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "2")))
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_PEER_REPS", "3")))
    ap.add_argument("regex", nargs="?", default=".")
    a = ap.parse_args()
    jmh_opts = shlex.split(os.environ.get("BENCH_JMH_OPTS", "-f 1 -wi 2 -w 1s -i 3 -r 1s -foe true"))
    rows = read_rows(a.root, re.compile(a.regex))
    if not rows:
        sys.exit(f"bench/run: no row in bench/rows/*.tsv matches '{a.regex}'")
    # One Source object per distinct spec, so rows sharing a side share its samples.
    unique = {}
    for r in rows:
        r.ours = unique.setdefault(r.ours.spec, r.ours)
        r.peer = unique.setdefault(r.peer.spec, r.peer)
    classes = []
    for s in unique.values():
        if s.kind == "jmh" and s.cls not in classes:
            classes.append(s.cls)
    logdir = tempfile.mkdtemp(prefix="shrink4j-bench-")
    log(f"bench/run: {len(rows)} rows, {len(classes)} JMH classes, {a.rounds} rounds; logs in {logdir}")
    log(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for rnd in range(a.rounds):
        done = set()
        for cls in classes + [None]:
            if cls is not None:
                t = time.time()
                srcs = [s for s in unique.values() if s.kind == "jmh" and s.cls == cls]
                run_jmh(a.java, a.jar, cls, srcs, jmh_opts, logdir)
                log(f"[round {rnd + 1}/{a.rounds}] {cls.rsplit('.', 1)[1]} {time.time() - t:.0f} s")
            # Interleave: right after our side, the external peers of the same rows.
            for r in rows:
                for s in (r.ours, r.peer):
                    touches = cls is None or (r.ours.kind == "jmh" and r.ours.cls == cls) or (r.peer.kind == "jmh" and r.peer.cls == cls)
                    if s.kind != "jmh" and s.spec not in done and touches:
                        t = time.time()
                        run_external(s, a.root, a.reps)
                        done.add(s.spec)
                        log(f"[round {rnd + 1}/{a.rounds}] {s.spec} {time.time() - t:.0f} s")
    log(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"{'name':44s} {'ours':>10s} {'peer':>10s} {'unit':6s} {'speedup':>7s}   spread(ours peer, ±half-range)  samples")
    for r in rows:
        ov, pv = values(r, r.ours, r.ours_work), values(r, r.peer, r.peer_work)
        om = statistics.median(ov) if ov else None
        pm = statistics.median(pv) if pv else None
        speed = None
        paired = (r.ours.kind == "jmh" and r.peer.kind == "jmh" and r.ours.metric and r.peer.metric
                  and r.ours.benchmark == r.peer.benchmark and r.ours.params == r.peer.params and len(ov) == len(pv))
        if paired and ov:
            # Both sides timed in the same iterations: the median of the per-iteration ratios.
            speed = statistics.median([o / p if r.rate else p / o for o, p in zip(ov, pv)])
        elif om and pm:
            speed = om / pm if r.rate else pm / om
        sp = lambda v, m: f"±{(max(v) - min(v)) / 2 / m * 100:.0f}%" if v and m else "n/a"
        print(f"{r.name:44s} {fmt(om):>10s} {fmt(pm):>10s} {r.unit:6s} {fmt(speed):>7s}   {sp(ov, om):>5s} {sp(pv, pm):>5s}  {len(ov)}/{len(pv)}{' paired' if paired else ''}")


if __name__ == "__main__":
    main()
