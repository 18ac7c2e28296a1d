#!/usr/bin/env python3
"""The scale curve (run it through bench/scale): the same endpoints at several data sizes.

For each size (synthetic statements, plus the UN General Assembly votes) it loads a fresh
embedded database through `signatories import --offline` and measures:
- the imports' seconds (bench.load_dataset) and the database's size (pg_database_size);
- the alignment matrix's load time as the service starts (it reads every signature);
- per endpoint, with the response cache and the rate limit off: p50/p99 of requests sent
  one at a time over one kept-alive connection, then throughput and latency from wrk at
  SCALE_CONCURRENCY connections for BENCH_DURATION seconds;
- with SCALE_EXPLAIN=1, the plan of each SQL statement that a request to each endpoint's
  slowest path (by its median one at a time) ran, with EXPLAIN (ANALYZE, BUFFERS) through
  auto_explain, written next to the figures, so that a latency that grows with the data
  can be read against its plan.
Each size's data directory is deleted before the next. The figures are written after
every size (a long run that is stopped keeps the sizes it finished). Python standard
library only; the server, loader, wrk driver and endpoint mix are bench.py's.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("BENCH_DURATION", "10")  # wrk's seconds per endpoint and size

import bench  # noqa: E402  (reads BENCH_DURATION as it is imported)
from bench import OUT, SEED, Server, log, psql  # noqa: E402

SIZES = [int(n) for n in os.environ.get("SCALE_STATEMENTS", "5000 50000 500000").split()]
SEQUENTIAL = int(os.environ.get("SCALE_SEQUENTIAL", "200"))
CONCURRENCY = int(os.environ.get("SCALE_CONCURRENCY", "16"))
EXPLAIN = os.environ.get("SCALE_EXPLAIN", "1") == "1"
# The loading is stopped when the machine's available memory falls below this (MiB):
# the machine is shared.
MIN_AVAILABLE_MIB = int(os.environ.get("SCALE_MIN_AVAILABLE_MIB", "1024"))
# The rows of the table, in order; bench.py's GET endpoints come first, then these.
EXTRA = ["country_statements", "statements_page", "stats_by_year_and_topic_as_of"]


def endpoints(socket_dir: Path) -> dict[str, dict]:
    """bench.py's mix without its writes (they would change the data between sizes), plus
    a country's statements, the first page of every statement, and one as_of aggregate."""
    mix = {name: e for name, e in bench.endpoints(socket_dir).items() if e.get("method", "GET") == "GET"}
    rng = random.Random(SEED + 1)
    countries, topics = bench.countries_and_topics(socket_dir)
    sample = lambda items: rng.sample(items, min(bench.SAMPLES, len(items)))
    mix["country_statements"] = {"route": "/v1/countries/{code}/statements",
                                 "paths": [f"/v1/countries/{c}/statements?limit=50" for c in sample(countries)]}
    mix["statements_page"] = {"route": "/v1/statements", "paths": ["/v1/statements?limit=50"]}
    mix["stats_by_year_and_topic_as_of"] = {
        "route": "/v1/stats/stances",
        "paths": [f"/v1/stats/stances?group_by=year&topic={t}&as_of={d}"
                  for t, d in zip(sample(topics), bench.past_days())]}
    return mix


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def one_at_a_time(server: Server, paths: list[str]) -> dict:
    """An untimed pass over the distinct paths (the first requests, reported apart), then
    SEQUENTIAL requests cycling through them, each sent when the last has been read."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)

    def get(path: str) -> float:
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status}")
        return 1000 * elapsed

    first = [get(path) for path in paths]
    by_path: dict[str, list[float]] = {path: [] for path in paths}
    timed = []
    for i in range(SEQUENTIAL):
        path = paths[i % len(paths)]
        timed.append(get(path))
        by_path[path].append(timed[-1])
    connection.close()
    medians = {path: statistics.median(ms) for path, ms in by_path.items() if ms}
    return {"first_p50_ms": statistics.median(first), "first_max_ms": max(first),
            "p50_ms": percentile(timed, 0.50), "p99_ms": percentile(timed, 0.99),
            "mean_ms": statistics.mean(timed), "requests": len(timed), "distinct_paths": len(paths),
            "path_p50_ms": medians, "slowest_path": max(medians, key=medians.get)}


class LoadWatch(threading.Thread):
    """Polls the benchmark's child processes while a size loads: the peak resident memory
    of each command (generate, unvotes, import), and the machine's available memory,
    killing the loading child when that falls below MIN_AVAILABLE_MIB."""

    def __init__(self, data_dir: Path):
        super().__init__(daemon=True)
        self.data_dir, self.peak_mib, self.aborted = data_dir, {}, None
        self.started, self.stopping = time.monotonic(), threading.Event()

    def children(self) -> list[tuple[int, str, int]]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) != os.getpid():
                    continue
                pid = int(stat.parent.name)
                args = (stat.parent / "cmdline").read_bytes().split(b"\0")
                command = f"{args[1].decode()} {Path(args[-2].decode()).name}"  # e.g. "import synthetic"
                rss = next(int(line.split()[1]) for line in (stat.parent / "status").read_text().splitlines()
                           if line.startswith("VmRSS:"))
                found.append((pid, command, rss // 1024))
            except (OSError, IndexError, ValueError, StopIteration):
                continue
        return found

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            children = self.children()
            for _, command, mib in children:
                self.peak_mib[command] = max(mib, self.peak_mib.get(command, 0))
            available = next(int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                             if line.startswith("MemAvailable:"))
            if available < MIN_AVAILABLE_MIB and children:
                self.aborted = {"after_s": time.monotonic() - self.started, "available_mib": available,
                                "children": {command: mib for _, command, mib in children}}
                log(f"only {available} MiB available: stopping {children}")
                for pid, _, _ in children:
                    os.kill(pid, signal.SIGKILL)
                return

    def stop(self) -> None:
        self.stopping.set()
        self.join()


def stop_cluster(data_dir: Path) -> None:
    """Ends the embedded PostgreSQL on `data_dir` (this run's own temporary directory)
    that a killed import may leave behind."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
            if b"-D" in args and args[args.index(b"-D") + 1] == str(data_dir).encode():
                os.kill(int(cmdline.parent.name), signal.SIGINT)  # the postmaster: fast shutdown
        except (OSError, IndexError, ValueError):
            continue


def explain(server: Server, data_dir: Path, socket_dir: Path, mix: dict[str, dict]) -> dict[str, dict]:
    """The plans, with EXPLAIN (ANALYZE, BUFFERS) as auto_explain logs them, of the SQL
    that a second request of each endpoint's slowest path ran (the first warms up).
    Stops `server` to turn the log on (csvlog needs a restart); the settings stay, as the
    data directory is deleted afterwards."""
    settings = {"session_preload_libraries": "'auto_explain'", "auto_explain.log_min_duration": "0",
                "auto_explain.log_analyze": "on", "auto_explain.log_buffers": "on",
                "auto_explain.log_timing": "on", "auto_explain.log_nested_statements": "on",
                "log_destination": "'csvlog'", "logging_collector": "on"}
    # The module's settings are known to a session that has loaded it.
    commands = ["load 'auto_explain'"] + [f"alter system set {name} = {value}" for name, value in settings.items()]
    bench.run([str(bench.pg_bindir() / "psql"), "-h", str(socket_dir), "-U", "signatories", "-d", "signatories",
               "-XAtq"] + [arg for command in commands for arg in ("-c", command)])
    server.stop()
    server = Server(data_dir, cache_bytes=0)
    try:
        for name, endpoint in mix.items():
            server.get(endpoint["slowest_path"])
            psql(socket_dir, f"select 'scale-marker-{name}-start'")
            server.get(endpoint["slowest_path"])
            psql(socket_dir, f"select 'scale-marker-{name}-end'")
    finally:
        server.stop()
    rows = bench.read_csvlog(data_dir)
    plans: dict[str, dict] = {}
    for name, endpoint in mix.items():
        inside, found = False, []
        for row in rows:
            message = row[13]
            if f"scale-marker-{name}-start" in message:
                inside = True
            elif f"scale-marker-{name}-end" in message:
                break
            elif inside and "scale-marker" not in message:
                match = re.match(r"duration: ([\d.]+) ms\s+plan:\n(.*)", message, re.S)
                if match:
                    found.append({"ms": float(match.group(1)), "plan": match.group(2)})
        plans[name] = {"path": endpoint["slowest_path"], "statements": found}
    return plans


def measure_size(statements: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="signatories-scale-"))
    os.chmod(work, 0o755)  # the cluster runs as the postgres user when this runs as root
    data_dir = socket_dir = work / "postgres"
    free = shutil.disk_usage(work).free
    log(f"{statements} synthetic statements; {free / 2**30:.1f} GiB free in {work.parent}")
    result: dict = {"synthetic_statements": statements}
    try:
        watch = LoadWatch(data_dir)
        watch.start()
        started = time.monotonic()
        try:
            result["load"] = bench.load_dataset(data_dir, work, statements)
        except Exception:
            if not watch.aborted:
                raise
        finally:
            watch.stop()
            result["load_peak_rss_mib"] = watch.peak_mib
        if watch.aborted:
            result["aborted"] = watch.aborted
            log(f"stopped after {watch.aborted['after_s']:.0f} s: {watch.aborted}")
            return result
        result["load_s"] = time.monotonic() - started
        for source in ("synthetic", "unvotes"):
            shutil.rmtree(work / source, ignore_errors=True)
        started = time.monotonic()
        server = Server(data_dir, cache_bytes=0)  # the embedded cluster runs with the service
        result["ready_s"] = time.monotonic() - started
        result["alignment_matrix_load_s"] = server.metrics()["signatories_alignment_matrix_load_seconds_sum"]
        result["dataset"] = {
            "statements": int(psql(socket_dir, "select count(*) from statement")),
            "signatures": int(psql(socket_dir, "select count(*) from signature")),
            "database_bytes": int(psql(socket_dir, "select pg_database_size(current_database())")),
        }
        log(f"dataset: {result['dataset']}")
        mix = endpoints(socket_dir)
        result["endpoints"] = {}
        for name, endpoint in mix.items():
            log(f"{name}: {SEQUENTIAL} requests one at a time, then wrk at {CONCURRENCY} connections "
                f"for {bench.DURATION}s")
            sequential = one_at_a_time(server, endpoint["paths"])
            endpoint["slowest_path"] = sequential["slowest_path"]
            before = server.metrics()
            loaded = bench.wrk(server, endpoint["paths"], CONCURRENCY)
            after = server.metrics()
            result["endpoints"][name] = {
                "paths": endpoint["paths"], "sequential": sequential, "wrk": loaded,
                "server_side_mean_ms": bench.server_side_ms(before, after, endpoint["route"]),
            }
        result["peak_rss_mib"] = server.peak_rss_mib()
        if EXPLAIN:
            log("plans of each endpoint's SQL (auto_explain)")
            result["plans"] = explain(server, data_dir, socket_dir, mix)
        server.stop()
    finally:
        for server in bench.RUNNING:
            server.stop()
        bench.RUNNING.clear()
        stop_cluster(data_dir)
        time.sleep(1)
        shutil.rmtree(work, ignore_errors=True)
    return result


def millions(n: int) -> str:
    return f"{n / 1e6:.2g} M" if n >= 1e6 else f"{n / 1e3:.0f} k"


def table(results: dict) -> str:
    sizes = [r for r in results["sizes"] if "endpoints" in r]
    lines = ["| size | statements | signatures | synthetic import | UN votes import | signatures/s "
             "(synthetic) | import peak RSS | database | matrix load | ready |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["sizes"]:
        rss = r.get("load_peak_rss_mib", {})
        if "aborted" in r:
            a = r["aborted"]
            lines.append(f"| {r['synthetic_statements']:,} statements: loading stopped after {a['after_s']:.0f} s, "
                         f"{a['available_mib']} MiB available, {a['children']} MiB resident | | | | | | | | | |")
            continue
        d, load = r["dataset"], r["load"]
        syn, un = load.get("synthetic", {}), load.get("unvotes", {})
        rate = syn["signatures"] / syn["seconds"] if syn else 0
        lines.append(f"| {millions(d['signatures'])} | {d['statements']:,} | {d['signatures']:,} | "
                     f"{syn.get('seconds', 0):.1f} s | {un.get('seconds', 0):.1f} s | {rate:,.0f} | "
                     f"{rss.get('import synthetic', 0) / 1024:.1f} GiB | "
                     f"{d['database_bytes'] / 2**30:.2f} GiB | {r['alignment_matrix_load_s']:.1f} s | "
                     f"{r['ready_s']:.1f} s |")
    if not sizes:
        return "\n".join(lines)
    head = "| endpoint | " + " | ".join(
        f"{millions(r['dataset']['signatures'])} p50 / p99 ms | {millions(r['dataset']['signatures'])} req/s"
        for r in sizes)
    growth = len(sizes) >= 2
    lines += ["", head + (" | p50 last ÷ previous |" if growth else " |"),
              "|---|" + "---|---|" * len(sizes) + ("---|" if growth else "")]
    for name in sizes[0]["endpoints"]:
        cells = []
        for r in sizes:
            e = r["endpoints"].get(name)
            if e is None:
                cells.append("– | –")
                continue
            s, w = e["sequential"], e["wrk"]
            flag = " !" if w["errors"] or w["non2xx"] else ""
            cells.append(f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f} | {w['rps']:,.0f}{flag}")
        ratio = ""
        if growth:
            a, b = (sizes[-2]["endpoints"].get(name), sizes[-1]["endpoints"].get(name))
            ratio = f" {b['sequential']['p50_ms'] / a['sequential']['p50_ms']:.2f} |" if a and b else " – |"
        lines.append(f"| {name} | " + " | ".join(cells) + " |" + ratio)
    return "\n".join(lines)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {"machine": {"cores": os.cpu_count(), "uname": " ".join(os.uname())},
                     "binary": str(bench.BIN), "duration_s": bench.DURATION, "concurrency": CONCURRENCY,
                     "sequential": SEQUENTIAL, "sizes": []}
    for statements in SIZES:
        started = time.monotonic()
        results["sizes"].append(measure_size(statements))
        results["sizes"][-1]["wall_s"] = time.monotonic() - started
        (OUT / "scale.json").write_text(json.dumps(results, indent=2))
        report = table(results)
        (OUT / "scale.md").write_text(report + "\n")
        print("\n" + report + "\n", flush=True)
        if "aborted" in results["sizes"][-1]:
            break  # the sizes are meant to grow: the next would not fit either
    with open(OUT / "scale-plans.txt", "w") as f:
        for r in results["sizes"]:
            for name, p in r.get("plans", {}).items():
                f.write(f"===== {millions(r['dataset']['signatures'])} signatures: {name} {p['path']}\n")
                for s in p["statements"]:
                    f.write(f"--- {s['ms']:.3f} ms\n{s['plan']}\n")
    print(f"Figures written to {OUT / 'scale.json'}, {OUT / 'scale.md'} and {OUT / 'scale-plans.txt'}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
