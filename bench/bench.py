#!/usr/bin/env python3
"""The Signatories benchmark (run it through bench/run, which builds and installs first).

For each endpoint of a realistic mix it measures, at fixed concurrencies:
- the service: requests/s and p50/p99 latency from wrk, the server-side latency from
  /metrics, and the service's peak RSS;
- the ceiling: the very SQL statements that the endpoint ran for the same requests
  (captured from PostgreSQL's statement log, parameters included), replayed by pgbench
  in prepared mode at the same concurrency against the same database.
The ratio service/ceiling says how close the HTTP layer comes to the database's limit.
Uncached endpoints run with the response cache off; the polled mix runs with it on.
Python standard library only. Nothing here asserts on time.
"""

from __future__ import annotations

import csv
import glob
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("BENCH_BIN", ROOT / "target" / "release" / "signatories"))
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "out"))
STATEMENTS = int(os.environ.get("BENCH_STATEMENTS", "50000"))
SEED = int(os.environ.get("BENCH_SEED", "42"))
DURATION = int(os.environ.get("BENCH_DURATION", "15"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "16 64").split()]
UNVOTES = os.environ.get("BENCH_UNVOTES", "1") == "1"
ADMIN_KEY = "bench-admin-key-" + "%032x" % random.Random(SEED).getrandbits(128)
SAMPLES = 20  # distinct requests per endpoint (countries, statements, …)
KINDS = ["joint_letter", "joint_statement", "recorded_vote", "resolution"]


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(args: list[str], env: dict | None = None, capture: bool = False) -> str:
    result = subprocess.run(args, env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout if capture else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> Path:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
    if out.returncode == 0:
        return Path(out.stdout.strip())
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]


RUNNING: list["Server"] = []


class Server:
    """The release binary on the benchmark's own embedded database."""

    def __init__(self, data_dir: Path, cache_bytes: int, **settings: str):
        self.port = free_port()
        self.env = dict(os.environ, SIGNATORIES_DATA_DIR=str(data_dir),
                        SIGNATORIES_BIND=f"127.0.0.1:{self.port}", RUST_LOG="warn",
                        SIGNATORIES_ADMIN_KEY=ADMIN_KEY, SIGNATORIES_CACHE_BYTES=str(cache_bytes),
                        SIGNATORIES_POOL_SIZE="16", SIGNATORIES_RATE_LIMIT="0",
                        SIGNATORIES_MAX_IN_FLIGHT="100000")
        # The embedded cluster unless the caller names a server.
        self.env.pop("DATABASE_URL", None)
        self.env.update(settings)
        self.process = subprocess.Popen([str(BIN), "serve"], env=self.env)
        RUNNING.append(self)
        self.base = f"http://127.0.0.1:{self.port}"
        # The service loads its alignment matrix (every signature) before it is ready.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(self.base + "/readyz", timeout=1).status == 200:
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise SystemExit("the service did not become ready")

    def get(self, path: str) -> bytes:
        return urllib.request.urlopen(self.base + path, timeout=60).read()

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def metrics(self) -> dict[str, float]:
        values = {}
        for line in self.get("/metrics").decode().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=120)


def psql(socket_dir: Path, sql: str) -> str:
    return run([str(pg_bindir() / "psql"), "-h", str(socket_dir), "-U", "signatories", "-d", "signatories",
                "-XAtq", "-c", sql], capture=True)


# --- capturing the SQL an endpoint runs -------------------------------------------------

PARAMS = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def read_csvlog(data_dir: Path) -> list[list[str]]:
    rows = []
    for path in sorted(glob.glob(str(data_dir / "log" / "*.csv"))):
        with open(path, newline="") as f:
            rows.extend(csv.reader(f))
    return rows


def statements_between(rows: list[list[str]], start: str, end: str) -> list[tuple[str, list[str | None]]]:
    """The statements logged after marker `start` and before `end` by the service for the
    request, leaving out the session of the alignment matrix's catch-up after a write
    (the one session that sets its transaction's isolation level)."""
    inside, found = False, []
    window = itertools.dropwhile(lambda row: start not in row[13], rows)
    catch_up = {row[5] for row in itertools.takewhile(lambda row: end not in row[13], window)
                if "set transaction isolation level" in row[13]}
    for row in rows:
        if row[5] in catch_up:
            continue
        message, detail = row[13], row[14]
        if start in message:
            inside = True
            continue
        if end in message:
            break
        if not inside or "bench-marker" in message:
            continue
        match = re.match(r"(?:execute [^:]+|statement): (.*)", message, re.S)
        if not match:
            continue
        sql = match.group(1).strip()
        if sql.lower().startswith(("listen", "unlisten")):
            continue
        params: list[str | None] = []
        if detail.startswith("parameters:"):
            for number, value in PARAMS.findall(detail):
                while len(params) < int(number):
                    params.append(None)
                params[int(number) - 1] = None if value == "NULL" else value[1:-1].replace("''", "'")
        found.append((sql, params))
    # A transaction dropped unfinished (a keyed read, `store::keyset::Reading`) is rolled
    # back when its connection is next used, which may be after the end marker: end it
    # here, or pgbench aborts a script that ends inside a transaction.
    in_transaction = False
    for sql, _ in found:
        if sql.lower().startswith(("begin", "start transaction")):
            in_transaction = True
        elif sql.lower().startswith(("commit", "rollback", "end")):
            in_transaction = False
    if in_transaction:
        found.append(("rollback", []))
    return found


def pgbench_script(statements: list[tuple[str, list[str | None]]], prefix: str,
                   variables: dict[str, str]) -> str:
    """A pgbench script replaying statements; parameters become pgbench variables so
    that prepared mode binds them as the service does."""
    lines = []
    for n, (sql, params) in enumerate(statements):
        def substitute(match: re.Match) -> str:
            index = int(match.group(1)) - 1
            value = params[index] if index < len(params) else None
            if value is None:
                return "NULL"
            name = f"{prefix}s{n}p{index}"
            variables[name] = value
            return f":{name}"
        body = re.sub(r"\$(\d+)", substitute, sql)
        lines.append(" ".join(body.split()) + ";")
    return "\n".join(lines) + "\n"


# --- measuring -------------------------------------------------------------------------

WRK_SCRIPT = r"""
local paths = {}
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local key = os.getenv("BENCH_KEY")
request = function()
  local headers = {}
  if key then headers["Authorization"] = "Bearer " .. key end
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, paths[math.random(#paths)], headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "errors": %d, "non2xx": %d, "p50_ms": %f, "p99_ms": %f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk(server: Server, paths: list[str], concurrency: int, method: str = "GET",
        body: str | None = None, key: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        paths_file, script = Path(tmp) / "paths", Path(tmp) / "mix.lua"
        paths_file.write_text("\n".join(paths) + "\n")
        script.write_text(WRK_SCRIPT)
        env = dict(os.environ, BENCH_PATHS=str(paths_file), BENCH_METHOD=method)
        if body:
            env["BENCH_BODY"] = body
        if key:
            env["BENCH_KEY"] = key
        out = run(["wrk", "-t", "2", "-c", str(concurrency), "-d", f"{DURATION}s", "--timeout", "10s",
                   "-s", str(script), server.base], env=env, capture=True)
    result = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"]
    return result


def pgbench(socket_dir: Path, scripts: list[str], variables: dict[str, str], concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        args = [str(pg_bindir() / "pgbench"), "-h", str(socket_dir), "-U", "signatories", "-n",
                "-M", "prepared", "-c", str(concurrency), "-j", "2", "-T", str(DURATION),
                "-l", "--log-prefix", f"{tmp}/pgb"]
        for i, text in enumerate(scripts):
            path = Path(tmp) / f"s{i}.sql"
            path.write_text(text)
            args += ["-f", f"{path}@1"]
        for name, value in variables.items():
            args += ["-D", f"{name}={value}"]
        args.append("signatories")
        out = run(args, capture=True)
        latencies = []
        for log_file in glob.glob(f"{tmp}/pgb*"):
            with open(log_file) as f:
                latencies.extend(int(line.split()[2]) for line in f if line.strip())
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1000 if latencies else float("nan")
    return {"tps": tps, "p50_ms": pick(0.50), "p99_ms": pick(0.99)}


def server_side_ms(before: dict, after: dict, route: str) -> float:
    """Mean server-side latency of a route between two /metrics readings."""
    def total(values: dict, suffix: str) -> float:
        return sum(v for k, v in values.items()
                   if k.startswith(f"signatories_http_request_duration_seconds_{suffix}{{")
                   and f'route="{route}"' in k)
    count = total(after, "count") - total(before, "count")
    return 1000 * (total(after, "sum") - total(before, "sum")) / count if count else float("nan")


# --- the run -----------------------------------------------------------------------------

def load_dataset(data_dir: Path, work: Path, statements: int = STATEMENTS) -> dict:
    env = dict(os.environ, SIGNATORIES_DATA_DIR=str(data_dir), RUST_LOG="warn")
    env.pop("DATABASE_URL", None)
    timings = {}
    run([str(BIN), "migrate"], env=env)
    if statements:
        log(f"generating {statements} synthetic statements (seed {SEED})")
        run([str(BIN), "generate", "--seed", str(SEED), "--statements", str(statements), str(work / "synthetic")],
            env=env)
        started = time.monotonic()
        report = json.loads(run([str(BIN), "import", "--offline", str(work / "synthetic")], env=env, capture=True))
        timings["synthetic"] = {"seconds": time.monotonic() - started,
                                "signatures": report["signatories"]["created"],
                                "statements": report["statements"]["created"]}
    if UNVOTES:
        log("converting and importing the UN General Assembly votes")
        run([str(BIN), "unvotes", str(work / "unvotes")], env=env)
        started = time.monotonic()
        report = json.loads(run([str(BIN), "import", "--offline", str(work / "unvotes")], env=env, capture=True))
        timings["unvotes"] = {"seconds": time.monotonic() - started,
                              "signatures": report["signatories"]["created"],
                              "statements": report["statements"]["created"]}
    return timings


# A plain schema for the synthetic files' rows, as a service without derived data would
# keep them: the files' own columns, primary keys and the one index each list needs.
PLAIN_SCHEMA = """
create table statement (id text, title text, kind text, forum text, session text, issued_on date,
    un_symbol text, stance text, lead_country text, reported_count integer, list_complete boolean,
    source_urls text, notes text, summary text, topics text);
create table signature (statement_id text, country_code text, country_name text, role text,
    joined_on date, withdrawn_on date, source_url text, note text);
"""
PLAIN_INDEXES = """
alter table statement add primary key (id);
create index on statement (issued_on);
alter table signature add primary key (statement_id, country_code);
create index on signature (country_code, statement_id);
"""


def plain_copy(data_dir: Path, files: Path) -> dict:
    """Loads the synthetic files' statements and signatures with a plain COPY into the
    plain schema of a database of their own, then makes its keys and indexes: the floor
    the service's import is compared with. Returns the seconds and the rows."""
    log("loading the same files with a plain COPY, for comparison")
    psql(data_dir, "drop database if exists plain")
    psql(data_dir, "create database plain")
    plain = [str(pg_bindir() / "psql"), "-h", str(data_dir), "-U", "signatories", "-d", "plain", "-XAtq",
             "-v", "ON_ERROR_STOP=1"]
    run(plain + ["-c", PLAIN_SCHEMA])
    started = time.monotonic()
    for table, name in (("statement", "statements.csv"), ("signature", "signatories.csv")):
        run(plain + ["-c", f"\\copy {table} from '{files / name}' with (format csv, header true)"])
    run(plain + ["-c", PLAIN_INDEXES])
    seconds = time.monotonic() - started
    signatures = int(run(plain + ["-c", "select count(*) from signature"], capture=True))
    psql(data_dir, "drop database plain")
    return {"seconds": seconds, "signatures": signatures, "statements": None}


def pick(socket_dir: Path, sql: str) -> list[str]:
    return [line for line in psql(socket_dir, sql).splitlines() if line]


def countries_and_topics(socket_dir: Path) -> tuple[list[str], list[str]]:
    """The UN members' codes and the topics' slugs, the requests' ingredients."""
    return (pick(socket_dir, "select code from country where un_member order by code"),
            pick(socket_dir, "select slug from topic order by slug"))


# The simplest SQL that answers an endpoint's question, as a plain service would send
# it: the ceiling the issue measures the service against, beside its own SQL's.
STATEMENT_COLUMNS = ("s.id, s.title, s.kind, s.forum, s.session, s.issued_on, s.un_symbol, s.stance, "
                     "s.lead_country, s.summary, s.notes, s.reported_count, s.list_complete, "
                     "s.participant_count, s.signatory_count, s.stance_counts, s.created_at, s.updated_at, s.version")
SIMPLEST_SQL = {
    "country_statements": (f"select {STATEMENT_COLUMNS}, g.role, g.joined_on, g.withdrawn_on, g.source_url "
                           "from signature g join statement s on s.id = g.statement_id "
                           "where g.country_code = '{key}' order by s.issued_on desc, s.id desc limit 50;\n"),
    "statement_with_signatories": (f"select {STATEMENT_COLUMNS} from statement s where s.id = '{{key}}';\n"
                                   "select g.*, c.* from signature g join country c on c.code = g.country_code "
                                   "where g.statement_id = '{key}' order by c.name;\n"),
}


def endpoints(socket_dir: Path) -> dict[str, dict]:
    rng = random.Random(SEED)
    countries, topics = countries_and_topics(socket_dir)
    big = pick(socket_dir, "select id from statement order by participant_count desc, id limit 500")
    # Statements of about a hundred signatories, the size of a typical joint letter.
    typical = pick(socket_dir, "select id from statement where participant_count between 90 and 110 "
                               "order by id limit 500") or big
    letters = pick(socket_dir, "select id from statement where kind = 'joint_statement' order by id limit 500")
    sample = lambda items: rng.sample(items, min(SAMPLES, len(items)))
    mix = {
        "statements_by_country": {"route": "/v1/statements",
                                  "paths": [f"/v1/statements?country={c}" for c in sample(countries)]},
        "statement_with_signatories": {"route": "/v1/statements/{id}", "keys": sample(typical),
                                       "paths": "/v1/statements/{key}"},
        "country_statements": {"route": "/v1/countries/{code}/statements", "keys": sample(countries),
                               "paths": "/v1/countries/{key}/statements?limit=50"},
        "country_stances": {"route": "/v1/countries/{code}/stances",
                            "paths": [f"/v1/countries/{c}/stances" for c in sample(countries)]},
        "signatories_csv": {"route": "/v1/statements/{id}/signatories",
                            "paths": [f"/v1/statements/{s}/signatories?format=csv" for s in sample(big)]},
    }
    if "/v1/stats/stances" in (ROOT / "openapi.yaml").read_text():
        mix["stance_aggregate"] = {"route": "/v1/stats/stances",
                                   "paths": [f"/v1/stats/stances?group_by=year&topic={t}" for t in sample(topics)]}
    mix["writes"] = {"route": "/v1/statements/{id}/signatories/{code}", "method": "PUT",
                     "body": '{"role": "signatory", "note": "bench"}',
                     "paths": [f"/v1/statements/{s}/signatories/{c}"
                               for s, c in zip(sample(letters), sample(countries))]}
    for name, endpoint in mix.items():
        if "keys" in endpoint:
            endpoint["paths"] = [endpoint["paths"].format(key=key) for key in endpoint["keys"]]
            endpoint["simplest"] = [SIMPLEST_SQL[name].format(key=key) for key in endpoint.pop("keys")]
    return mix


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="signatories-bench-"))
    # The cluster runs as the postgres user when this runs as root: let it reach its directory.
    os.chmod(work, 0o755)
    data_dir = work / "postgres"
    results: dict = {"machine": {"cores": os.cpu_count(), "uname": " ".join(os.uname())},
                     "duration_s": DURATION, "concurrency": CONCURRENCY, "endpoints": {}}
    try:
        results["load"] = load_dataset(data_dir, work)
        socket_dir = data_dir
        server = Server(data_dir, cache_bytes=0)
        results["dataset"] = {
            "statements": int(psql(socket_dir, "select count(*) from statement")),
            "signatures": int(psql(socket_dir, "select count(*) from signature")),
        }
        log(f"dataset: {results['dataset']}")
        if STATEMENTS:
            # The service keeps the cluster up (each import stops the one it started).
            results["load"]["plain_copy"] = plain_copy(socket_dir, work / "synthetic")
        mix = endpoints(socket_dir)
        # Capture each request's SQL with the statement log on (csvlog needs a restart).
        for setting in ("log_statement = 'all'", "log_destination = 'csvlog'", "logging_collector = on"):
            psql(socket_dir, f"alter system set {setting}")
        # Room for pgbench's clients beside the service's pools, which stay open while the
        # ceilings are measured (kept for the rest of the run).
        psql(socket_dir, f"alter system set max_connections = {max(CONCURRENCY) + 100}")
        server.stop()
        server = Server(data_dir, cache_bytes=0)
        for name, endpoint in mix.items():
            for i, path in enumerate(endpoint["paths"]):
                psql(socket_dir, f"select 'bench-marker-{name}-{i}-start'")
                request = urllib.request.Request(server.base + path, method=endpoint.get("method", "GET"),
                                                 data=endpoint.get("body", "").encode() or None,
                                                 headers={"Authorization": f"Bearer {ADMIN_KEY}",
                                                          "Content-Type": "application/json"})
                urllib.request.urlopen(request, timeout=60).read()
                psql(socket_dir, f"select 'bench-marker-{name}-{i}-end'")
        rows = read_csvlog(data_dir)
        captured = {name: [statements_between(rows, f"bench-marker-{name}-{i}-start", f"bench-marker-{name}-{i}-end")
                           for i in range(len(endpoint["paths"]))]
                    for name, endpoint in mix.items()}
        for setting in ("log_statement", "log_destination", "logging_collector"):
            psql(socket_dir, f"alter system reset {setting}")
        server.stop()

        for cached in (False, True):
            server = Server(data_dir, cache_bytes=(64 << 20) if cached else 0)
            names = ["polled_mix"] if cached else list(mix)
            for name in names:
                if cached:
                    reads = [n for n in mix if n != "writes" and n != "signatories_csv"]
                    paths = [p for n in reads for p in mix[n]["paths"]]
                    requests = [(n, i) for n in reads for i in range(len(mix[n]["paths"]))]
                    endpoint = {"route": None}
                else:
                    endpoint = mix[name]
                    paths = endpoint["paths"]
                    requests = [(name, i) for i in range(len(paths))]
                variables: dict[str, str] = {}
                # Variable names are unique per endpoint and request: e<endpoint>r<request>_…
                order = list(mix)
                scripts = [pgbench_script(captured[n][i], f"e{order.index(n)}r{i}_", variables)
                           for n, i in requests]
                for concurrency in CONCURRENCY:
                    log(f"{name}: {concurrency} connections, {DURATION}s each for the service and the ceiling")
                    before = server.metrics()
                    service = wrk(server, paths, concurrency, method=endpoint.get("method", "GET"),
                                  body=endpoint.get("body"), key=ADMIN_KEY if endpoint.get("method") else None)
                    after = server.metrics()
                    ceiling = pgbench(socket_dir, scripts, variables, concurrency)
                    simplest = pgbench(socket_dir, endpoint["simplest"], {}, concurrency) \
                        if endpoint.get("simplest") else None
                    hits = after.get("signatories_cache_hits_total", 0) - before.get("signatories_cache_hits_total", 0)
                    misses = after.get("signatories_cache_misses_total", 0) - before.get("signatories_cache_misses_total", 0)
                    results["endpoints"].setdefault(name, {})[str(concurrency)] = {
                        "service": service,
                        "ceiling": ceiling,
                        "ratio": service["rps"] / ceiling["tps"] if ceiling["tps"] else None,
                        "simplest": simplest,
                        "simplest_ratio": service["rps"] / simplest["tps"] if simplest else None,
                        "server_side_mean_ms": server_side_ms(before, after, endpoint["route"]) if endpoint["route"] else None,
                        "cache_hit_rate": hits / (hits + misses) if hits + misses else None,
                        "peak_rss_mib": server.peak_rss_mib(),
                        "statements_per_request": statistics.mean(len(captured[n][i]) for n, i in requests),
                    }
            server.stop()

        results["aggregates"], results["alignment_matrix_load_ms"] = aggregates(data_dir, socket_dir)
        results["export"] = bulk_export(data_dir)
    finally:
        for server in RUNNING:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print_table(results)


def past_days() -> list[str]:
    """SAMPLES days spread over the record's decades, for as_of=."""
    return [f"{1950 + (7 * i) % 75}-06-30" for i in range(SAMPLES)]


def aggregates(data_dir: Path, socket_dir: Path) -> tuple[dict, float]:
    """Times the dashboards' aggregates one request at a time on a fresh service with
    its response cache off: each endpoint's first request, then the median and the
    slowest of SAMPLES distinct requests after it. Also returns how long the service
    took to load its alignment matrix as it started (before it was ready)."""
    server = Server(data_dir, cache_bytes=0)
    matrix_load_ms = 1000 * server.metrics()["signatories_alignment_matrix_load_seconds_sum"]
    rng = random.Random(SEED)
    countries, topics = countries_and_topics(socket_dir)
    sample = lambda items: rng.sample(items, min(SAMPLES, len(items)))
    paths = {
        "stats_by_year_and_topic": [f"/v1/stats/stances?group_by=year&topic={t}" for t in sample(topics)],
        "stats_by_region": [f"/v1/stats/stances?group_by=region&topic={t}" for t in sample(topics)],
        # By forum and year over every statement (the same request each time), and per
        # topic; by region for one kind of statement.
        "stats_by_forum_and_year": ["/v1/stats/stances?group_by=forum&group_by=year"] * SAMPLES,
        "stats_by_forum_and_year_on_topic": [f"/v1/stats/stances?group_by=forum&group_by=year&topic={t}"
                                             for t in sample(topics)],
        "stats_by_region_and_kind": [f"/v1/stats/stances?group_by=region&topic={t}&kind={k}"
                                     for t, k in zip(sample(topics), itertools.cycle(KINDS))],
        "topic_timeline": [f"/v1/topics/{t}/timeline" for t in sample(topics)],
        "topic_switchers": [f"/v1/topics/{t}/switchers" for t in sample(topics)],
        "country_stances": [f"/v1/countries/{c}/stances" for c in sample(countries)],
        "alignment": [f"/v1/countries/{c}/alignment" for c in sample(countries)],
        "alignment_on_topic": [f"/v1/countries/{c}/alignment?topic={t}"
                               for c, t in zip(sample(countries), rng.choices(topics, k=SAMPLES))],
        # The record as it stood on a past day (as_of=), a day per request.
        "stats_by_year_as_of": [f"/v1/stats/stances?group_by=year&as_of={d}" for d in past_days()],
        "stats_by_year_and_topic_as_of": [f"/v1/stats/stances?group_by=year&topic={t}&as_of={d}"
                                          for t, d in zip(sample(topics), past_days())],
        "topic_timeline_as_of": [f"/v1/topics/{t}/timeline?as_of={d}" for t, d in zip(sample(topics), past_days())],
        "topic_switchers_as_of": [f"/v1/topics/{t}/switchers?as_of={d}"
                                  for t, d in zip(sample(topics), past_days())],
        "country_stances_as_of": [f"/v1/countries/{c}/stances?as_of={d}"
                                  for c, d in zip(sample(countries), past_days())],
        "country_statements_as_of": [f"/v1/countries/{c}/statements?as_of={d}"
                                     for c, d in zip(sample(countries), past_days())],
    }
    timings = {}
    for name, endpoint_paths in paths.items():
        log(f"aggregates: {name}")
        seconds = []
        for path in endpoint_paths:
            started = time.monotonic()
            server.get(path)
            seconds.append(time.monotonic() - started)
        rest = seconds[1:] or seconds
        timings[name] = {"first_ms": 1000 * seconds[0], "p50_ms": 1000 * statistics.median(rest),
                         "max_ms": 1000 * max(rest), "requests": len(seconds)}
    server.stop()
    return timings, matrix_load_ms


def bulk_export(data_dir: Path) -> dict:
    """Downloads every participation as one CSV file from a fresh service: how long it
    takes, and the service's peak RSS (the file streams, so memory must not grow)."""
    server = Server(data_dir, cache_bytes=0)
    log("bulk export: GET /v1/participations?format=csv")
    started = time.monotonic()
    rows = size = 0
    with urllib.request.urlopen(server.base + "/v1/participations?format=csv", timeout=3600) as response:
        while chunk := response.read(1 << 20):
            rows += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.monotonic() - started
    export = {"rows": rows - 1, "bytes": size, "seconds": seconds, "peak_rss_mib": server.peak_rss_mib()}
    server.stop()
    return export


def print_table(results: dict) -> None:
    load = results.get("load", {})
    print(f"\nDataset: {results['dataset']['statements']:,} statements, {results['dataset']['signatures']:,} signatures")
    for name, timing in load.items():
        rate = timing["signatures"] / timing["seconds"] if timing["seconds"] else 0
        print(f"Import {name}: {timing['signatures']:,} signatures in {timing['seconds']:.1f} s ({rate:,.0f}/s)")
    if "synthetic" in load and "plain_copy" in load:
        print(f"Import of the synthetic files / plain COPY of them: "
              f"{load['synthetic']['seconds'] / load['plain_copy']['seconds']:.2f}")
    header = f"{'endpoint':28} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ceiling/s':>10} {'pg p99':>8} {'ratio':>6} {'simplest/s':>10} {'ratio':>6} {'srv ms':>7} {'hit%':>5} {'RSS MiB':>8}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, by_concurrency in results["endpoints"].items():
        for concurrency, r in by_concurrency.items():
            s, c = r["service"], r["ceiling"]
            hit = f"{100 * r['cache_hit_rate']:.0f}" if r["cache_hit_rate"] is not None else "-"
            server_ms = f"{r['server_side_mean_ms']:.2f}" if r["server_side_mean_ms"] is not None else "-"
            ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
            simplest = r.get("simplest")
            simplest_tps = f"{simplest['tps']:.0f}" if simplest else "-"
            simplest_ratio = f"{r['simplest_ratio']:.2f}" if simplest else "-"
            print(f"{name:28} {concurrency:>4} {s['rps']:>9.0f} {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} "
                  f"{c['tps']:>10.0f} {c['p99_ms']:>8.2f} {ratio:>6} {simplest_tps:>10} {simplest_ratio:>6} {server_ms:>7} {hit:>5} {r['peak_rss_mib']:>8.1f}")
            if s["errors"] or s["non2xx"]:
                print(f"{'':28}      ! {s['errors']} socket errors, {s['non2xx']} non-2xx responses")
    timings = results.get("aggregates")
    if timings:
        header = f"{'aggregate (uncached, one at a time)':36} {'first ms':>9} {'p50 ms':>8} {'max ms':>8}"
        print("\n" + header + "\n" + "-" * len(header))
        for name, t in timings.items():
            print(f"{name:36} {t['first_ms']:>9.1f} {t['p50_ms']:>8.1f} {t['max_ms']:>8.1f}")
        print(f"The alignment matrix loaded in {results['alignment_matrix_load_ms']:.0f} ms as the service started.")
    export = results.get("export")
    if export:
        print(f"\nBulk export (GET /v1/participations?format=csv): {export['rows']:,} rows, "
              f"{export['bytes'] / 1e6:,.0f} MB in {export['seconds']:.1f} s "
              f"({export['rows'] / export['seconds']:,.0f} rows/s), peak RSS {export['peak_rss_mib']:.1f} MiB")
    print(f"\nFigures written to {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
