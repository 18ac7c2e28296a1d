# Sourced by the scripts that test the release server from outside (tests/fuzz/run.sh,
# tests/browser/run.sh). `serve_fresh [NAME=VALUE…]` starts `$binary serve` on its
# embedded PostgreSQL in a fresh temporary directory, on a free loopback port, with the
# extra environment given; sets `base` to its URL; returns once /readyz answers 200.
# However the calling script ends, the server is stopped and its directory deleted, and
# its log is shown when the script failed.

serve_fresh() {
    work=$(mktemp -d)
    # The embedded cluster runs as the postgres user when we are root: it must reach its
    # directory inside this one.
    chmod 711 "$work"
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    base=http://127.0.0.1:$port
    env SIGNATORIES_DATA_DIR="$work/postgres" SIGNATORIES_BIND="127.0.0.1:$port" \
        SIGNATORIES_LOG_FORMAT=json RUST_LOG=warn SIGNATORIES_RATE_LIMIT=0 "$@" \
        "$binary" serve >"$work/server.log" 2>&1 &
    server=$!
    trap stop_fresh_server EXIT
    python3 - "$base/readyz" <<'PY'
import sys, time, urllib.request
for _ in range(120):
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.5)
sys.exit("the server did not become ready within a minute")
PY
}

stop_fresh_server() {
    local status=$?
    # SIGTERM: the server drains, then stops its PostgreSQL.
    kill -TERM "$server" 2>/dev/null && wait "$server" || true
    if [ "$status" -ne 0 ]; then
        echo "--- server log (last 50 lines) ---"
        tail -n 50 "$work/server.log"
    fi
    rm -rf "$work"
    exit "$status"
}
