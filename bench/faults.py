"""Fault drills against the release binary on loopback, with figures printed.

Each drill starts what it needs (the service on its own embedded database), drives a
bounded amount of traffic at 127.0.0.1 only, and reports what a client saw. It asserts
nothing: the test suite holds the pass/fail versions of these drills.

    bench/faults                  # every drill
    bench/faults slowloris idle   # some of them

Settings (environment): FAULTS_SLOW_CONNECTIONS (3000), FAULTS_STATEMENTS (2000
synthetic statements loaded besides the seed), FAULTS_OUT (bench/out).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import BIN, Server, log, run  # the benchmark's server and helpers

SLOW_CONNECTIONS = int(os.environ.get("FAULTS_SLOW_CONNECTIONS", "3000"))
STATEMENTS = int(os.environ.get("FAULTS_STATEMENTS", "2000"))
OUT = Path(os.environ.get("FAULTS_OUT", Path(__file__).resolve().parent / "out"))
STATEMENT = "/v1/statements/hrc41-letter-critical-2019-07-08"


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def timed_get(port: int, path: str, source: str = "127.0.0.1") -> tuple[int, float]:
    """One request on a new connection: its status (0 when refused) and milliseconds."""
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(f"GET {path} HTTP/1.1\r\nHost: faults\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 30)
        writer.close()
        status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    except (OSError, asyncio.TimeoutError, IndexError, ValueError):
        status = 0
    return status, (time.perf_counter() - started) * 1000


async def probe(port: int, seconds: float, path: str = STATEMENT) -> dict:
    """Requests one after another for `seconds`: p50/p99 latency and errors."""
    latencies, errors = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, ms = await timed_get(port, path, "127.0.0.2")
        if status == 200:
            latencies.append(ms)
        else:
            errors += 1
        await asyncio.sleep(0.02)
    return {"requests": len(latencies) + errors, "errors": errors,
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1)}


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
    limit = 40.0
    clients = [asyncio.create_task(slow_client(server.port, 2.0, limit))
               for _ in range(SLOW_CONNECTIONS)]
    await asyncio.sleep(1)
    during = await probe(server.port, 5)
    held = await asyncio.gather(*clients)
    closed = [h for h in held if h is not None]
    return {"connections": SLOW_CONNECTIONS, "still_open_at_s": limit if len(closed) < len(held) else None,
            "never_closed": len(held) - len(closed),
            "held_p50_s": round(percentile(closed, 0.5), 2),
            "held_max_s": round(max(closed, default=float("nan")), 2),
            "statement_while_held": during}


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


async def connection_cap(server: Server, per_client: int) -> dict:
    opened = []
    for _ in range(per_client + 200):
        try:
            opened.append(await asyncio.open_connection("127.0.0.1", server.port))
        except OSError:
            break
    await asyncio.sleep(0.5)
    refused = 0
    for reader, _ in opened:
        try:
            if await asyncio.wait_for(reader.read(1), 0.01) == b"":
                refused += 1
        except asyncio.TimeoutError:
            pass
    other = await probe(server.port, 2)
    for _, writer in opened:
        writer.close()
    return {"opened_from_one_address": len(opened), "closed_at_once": refused,
            "other_address_meanwhile": other}


def main() -> None:
    drills = sys.argv[1:] or ["slowloris", "idle", "cap"]
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
        run([str(BIN), "import", synthetic], env=env, capture=True)
    results = {}
    server = Server(data_dir, 32 << 20)
    try:
        per_client = 1024
        for drill in drills:
            log(f"drill: {drill}")
            if drill == "slowloris":
                results[drill] = asyncio.run(slowloris(server))
            elif drill == "idle":
                results[drill] = asyncio.run(idle(server))
            elif drill == "cap":
                results[drill] = asyncio.run(connection_cap(server, per_client))
            else:
                raise SystemExit(f"unknown drill {drill!r}")
    finally:
        server.stop()
    (OUT / "faults.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
