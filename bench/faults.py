"""Fault drills against the release binary on loopback, with figures printed.

Each drill drives a bounded amount of traffic at 127.0.0.1 only (and 127.0.0.2 for a
second client address) and reports what clients saw. It asserts nothing: the test
suite holds the pass/fail versions of these drills (tests/api/service/).

    bench/faults                  # every drill
    bench/faults slowloris kill   # some of them

Drills: slowloris, idle, cap, codes, rate, slow_export, import, kill, sigterm.
Settings (environment): FAULTS_SLOW_CONNECTIONS (3000), FAULTS_STATEMENTS (2000
synthetic statements loaded first), FAULTS_IMPORT_STATEMENTS (5000, about half a
million signatures, for the import drill), FAULTS_OUT (bench/out).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import ADMIN_KEY, BIN, Server, log, run  # the benchmark's server and helpers

SLOW_CONNECTIONS = int(os.environ.get("FAULTS_SLOW_CONNECTIONS", "3000"))
STATEMENTS = int(os.environ.get("FAULTS_STATEMENTS", "2000"))
IMPORT_STATEMENTS = int(os.environ.get("FAULTS_IMPORT_STATEMENTS", "5000"))
OUT = Path(os.environ.get("FAULTS_OUT", Path(__file__).resolve().parent / "out"))
STATEMENT = "/v1/statements/hrc41-letter-critical-2019-07-08"
EXPORT = "/v1/participations?format=csv"
# Streams that end within the drain deadline: what SIGTERM must let finish.
STREAM = "/v1/statements?format=csv"
DRILLS = ["slowloris", "idle", "cap", "codes", "rate", "slow_export", "import", "kill", "sigterm"]


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


async def http(port: int, path: str, method: str = "GET", headers: dict | None = None,
               body: str = "", source: str = "127.0.0.1") -> tuple[int, str, float]:
    """One request on a new connection: status (0: no answer), head, milliseconds."""
    started = time.perf_counter()
    head_lines = [f"{method} {path} HTTP/1.1", "Host: faults", "Connection: close",
                  f"Content-Length: {len(body.encode())}"]
    head_lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(("\r\n".join(head_lines) + "\r\n\r\n" + body).encode())
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 60)
        writer.close()
        head = response.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
        status = int(head.split(" ", 2)[1]) if head.startswith("HTTP/") else 0
    except (OSError, asyncio.TimeoutError, IndexError, ValueError):
        status, head = 0, ""
    return status, head, (time.perf_counter() - started) * 1000


async def probe(port: int, seconds: float, paths: tuple[str, ...] = ("/readyz", STATEMENT),
                until: asyncio.Event | None = None) -> dict:
    """Requests one after another from 127.0.0.2 for `seconds` (or until `until`), with
    an API key: the probe asks faster than a client's rate limit allows."""
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds
    key = {"Authorization": f"Bearer {ADMIN_KEY}"}
    while time.monotonic() < deadline and not (until and until.is_set()):
        for path in paths:
            status, _, ms = await http(port, path, headers=key, source="127.0.0.2")
            if status == 200:
                latencies.append(ms)
            else:
                errors += 1
        await asyncio.sleep(0.02)
    return {"requests": len(latencies) + errors, "errors": errors,
            "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99)}


async def slow_client(port: int, every: float, limit: float) -> float | None:
    """A request head sent one header line every `every` seconds, never finished:
    seconds until the server closed the connection (None: still open at `limit`)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return 0.0
    opened = time.monotonic()
    writer.write(b"GET /v1/statements HTTP/1.1\r\nHost: faults\r\n")
    line = 0
    try:
        while time.monotonic() - opened < limit:
            try:
                if await asyncio.wait_for(reader.read(1024), every) == b"":
                    return time.monotonic() - opened
            except asyncio.TimeoutError:
                line += 1
                writer.write(f"X-Trickle-{line}: a\r\n".encode())
                await writer.drain()
    except OSError:
        return time.monotonic() - opened
    finally:
        writer.close()
    return None


async def slowloris(server: Server) -> dict:
    clients = [asyncio.create_task(slow_client(server.port, 2.0, 40.0))
               for _ in range(SLOW_CONNECTIONS)]
    await asyncio.sleep(1)
    during = await probe(server.port, 5)
    held = await asyncio.gather(*clients)
    closed = [h for h in held if h is not None]
    return {"connections": SLOW_CONNECTIONS, "never_closed": len(held) - len(closed),
            "held_p50_s": round(percentile(closed, 0.5), 2),
            "held_max_s": round(max(closed, default=float("nan")), 2),
            "while_held": during}


async def idle(server: Server) -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: faults\r\n\r\n")
    await writer.drain()
    await reader.read(4096)
    answered = time.monotonic()
    try:
        closed = await asyncio.wait_for(reader.read(), 60) == b""
    except asyncio.TimeoutError:
        closed = False
    writer.close()
    return {"closed": closed, "after_s": round(time.monotonic() - answered, 2)}


async def connection_metrics(port: int) -> dict[str, float]:
    """The connection gauges, read from another address than the one at its cap."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: faults\r\nConnection: close\r\n\r\n")
    text = (await reader.read()).decode()
    writer.close()
    return {line.rpartition(" ")[0]: float(line.rpartition(" ")[2]) for line in text.splitlines()
            if line.startswith("signatories_connections_")}


async def connection_cap(server: Server) -> dict:
    refused = 'signatories_connections_refused_total{reason="max_per_client"}'
    before = (await connection_metrics(server.port)).get(refused, 0.0)
    # All at once, so that none is idle long enough for the idle timeout to close it.
    attempts = await asyncio.gather(*[asyncio.open_connection("127.0.0.1", server.port)
                                      for _ in range(1024 + 200)], return_exceptions=True)
    opened = [a for a in attempts if not isinstance(a, BaseException)]
    await asyncio.sleep(0.5)
    held = await connection_metrics(server.port)
    other = await probe(server.port, 2)
    for _, writer in opened:
        writer.close()
    return {"opened_from_one_address": len(opened),
            "served_at_once": held.get("signatories_connections_open", 0.0) - 1,
            "refused_by_the_client_cap": held.get(refused, 0.0) - before,
            "other_address_meanwhile": other}


async def codes(server: Server) -> dict:
    many = ",".join(["FRA"] * 10_000)
    results = [await http(server.port, f"/v1/statements?country={many}") for _ in range(10)]
    return {"status": sorted({status for status, _, _ in results}),
            "p50_ms": percentile([ms for _, _, ms in results], 0.5),
            "max_ms": round(max(ms for _, _, ms in results), 1)}


async def rate(server: Server) -> dict:
    results = await asyncio.gather(*[http(server.port, "/v1/topics") for _ in range(400)])
    limited = [head for status, head, _ in results if status == 429]
    retry = sorted({line.split(":", 1)[1].strip() for head in limited for line in head.split("\r\n")
                    if line.lower().startswith("retry-after:")})
    return {"requests": len(results), "ok": sum(1 for s, _, _ in results if s == 200),
            "too_many": len(limited), "retry_after_s": retry}


async def slow_reader(port: int, seconds: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {EXPORT} HTTP/1.1\r\nHost: faults\r\n\r\n".encode())
    taken, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        chunk = await reader.read(1024)
        if not chunk:
            break
        taken += len(chunk)
        await asyncio.sleep(1)
    writer.close()
    return taken


async def slow_export(server: Server) -> dict:
    readers = [asyncio.create_task(slow_reader(server.port, 10)) for _ in range(64)]
    await asyncio.sleep(0.5)
    during = await probe(server.port, 9)
    taken = await asyncio.gather(*readers)
    return {"readers": len(readers), "bytes_each_p50": percentile(taken, 0.5),
            "while_reading": during}


async def live_import(server: Server, work: Path, env: dict) -> dict:
    files = work / "more"
    run([str(BIN), "generate", "--seed", "99", "--statements", str(IMPORT_STATEMENTS), str(files)], env=env)
    started = time.monotonic()
    importer = await asyncio.create_subprocess_exec(str(BIN), "import", str(files), env=env,
                                                    stdout=subprocess.PIPE)
    done = asyncio.Event()
    reads = asyncio.create_task(probe(server.port, 3600, (STATEMENT, "/v1/participations?country=FRA&limit=5",
                                                          "/v1/stats/stances?group_by=year"), until=done))
    output, _ = await importer.communicate()
    done.set()
    report = json.loads(output)
    return {"signatures": report["signatories"]["created"],
            "import_s": round(time.monotonic() - started, 1), "reads_during": await reads}


async def kill(server: Server, data_dir: Path) -> dict:
    writes: list[tuple[int, float, bool, float]] = []
    slugs: list[str] = []
    stop = asyncio.Event()

    async def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            slug = f"fault-{n}-{i}"
            body = json.dumps({"slug": slug, "name": f"Fault drill {n}/{i}"})
            status, head, ms = await http(server.port, "/v1/topics", "POST",
                                          {"Authorization": f"Bearer {ADMIN_KEY}",
                                           "Content-Type": "application/json"}, body)
            slugs.append(slug)
            writes.append((status, ms, "retry-after:" in head.lower(), time.monotonic()))
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(writer(n)) for n in range(4)]
    await asyncio.sleep(2)
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    back = None
    while time.monotonic() - killed < 60:
        await asyncio.sleep(0.1)
        if time.monotonic() - killed > 1 and (await http(server.port, "/v1/topics?limit=1"))[0] == 200:
            back = time.monotonic() - killed
            break
    await asyncio.sleep(1)
    stop.set()
    await asyncio.gather(*tasks)
    failed = [w for w in writes if w[0] != 201]
    acknowledged = {slug for slug, w in zip(slugs, writes) if w[0] == 201}
    stored, cursor = set(), ""
    while True:
        page = json.loads(server.get(f"/v1/topics?limit=500{cursor}"))
        stored |= {topic["slug"] for topic in page["data"]}
        if not page["page"]["next_cursor"]:
            break
        cursor = "&cursor=" + page["page"]["next_cursor"]
    return {"writes": len(writes), "acknowledged": len(acknowledged),
            "acknowledged_lost": len(acknowledged - stored),
            "failed": len(failed), "failed_statuses": sorted({w[0] for w in failed}),
            "failed_with_retry_after": sum(1 for w in failed if w[2]),
            "failed_p99_ms": percentile([w[1] for w in failed], 0.99),
            "serving_again_after_s": round(back, 2) if back else None}


async def read_export(reader: asyncio.StreamReader) -> tuple[bool, bool]:
    """Reads one chunked response: (whole, connection: close)."""
    status = await reader.readline()
    if not status.startswith(b"HTTP/1.1 200"):
        return False, True
    close = False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        close |= line.lower().startswith(b"connection: close")
    while True:
        size_line = await reader.readline()
        if not size_line:
            return False, True
        size = int(size_line.strip(), 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return True, close


async def sigterm(server: Server) -> dict:
    counts = {"complete": 0, "failed_in_flight": 0, "asked_to_close": 0}
    stopping = asyncio.Event()

    async def client() -> None:
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            except OSError:
                return
            while True:
                try:
                    writer.write(f"GET {STREAM} HTTP/1.1\r\nHost: faults\r\n"
                                 f"Authorization: Bearer {ADMIN_KEY}\r\n\r\n".encode())
                    await writer.drain()
                except OSError:
                    break
                try:
                    whole, close = await read_export(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    whole, close = False, True
                counts["complete" if whole else "failed_in_flight"] += 1
                if close:
                    counts["asked_to_close"] += whole
                    writer.close()
                    break
            if stopping.is_set() and counts["asked_to_close"]:
                return

    clients = [asyncio.create_task(client()) for _ in range(16)]
    await asyncio.sleep(3)
    stopping.set()
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    await asyncio.gather(*clients)
    code = await asyncio.to_thread(server.process.wait, 120)
    return {**counts, "exit_code": code, "stopped_after_s": round(time.monotonic() - started, 1)}


def main() -> None:
    drills = sys.argv[1:] or DRILLS
    for drill in drills:
        if drill not in DRILLS:
            raise SystemExit(f"unknown drill {drill!r}; known: {', '.join(DRILLS)}")
    if not BIN.exists():
        raise SystemExit("build the release binary first (bench/faults does)")
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="signatories-faults-"))
    work.chmod(0o711)  # run as root, PostgreSQL runs as `postgres` and must reach its data
    data_dir = work / "postgres"
    env = dict(os.environ, SIGNATORIES_DATA_DIR=str(data_dir), RUST_LOG="warn")
    env.pop("DATABASE_URL", None)
    run([str(BIN), "migrate"], env=env)
    if STATEMENTS:
        synthetic = str(work / "synthetic")
        run([str(BIN), "generate", "--seed", "7", "--statements", str(STATEMENTS), synthetic], env=env)
        run([str(BIN), "import", "--offline", synthetic], env=env, capture=True)
    results = {}
    # The drills run the service as deployed: rate limits on, the default limits.
    defaults = {"SIGNATORIES_RATE_LIMIT": "1200", "SIGNATORIES_MAX_IN_FLIGHT": "256",
                "SIGNATORIES_POOL_SIZE": "10", "SIGNATORIES_SHUTDOWN_GRACE": "2"}
    server = Server(data_dir, 32 << 20, **defaults)
    runs = {"slowloris": slowloris, "idle": idle, "cap": connection_cap, "codes": codes,
            "rate": rate, "slow_export": slow_export,
            "import": lambda server: live_import(server, work, env),
            "kill": lambda server: kill(server, data_dir), "sigterm": sigterm}
    try:
        for drill in drills:
            log(f"drill: {drill}")
            started = time.monotonic()
            results[drill] = asyncio.run(runs[drill](server))
            if drill == "sigterm":
                server = Server(data_dir, 32 << 20, **defaults)
            log(f"drill {drill}: {time.monotonic() - started:.0f} s")
            # Each drill starts with fresh rate-limit buckets for its clients.
            time.sleep(10 if drill in ("rate", "cap") else 1)
    finally:
        server.stop()
    (OUT / "faults.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
