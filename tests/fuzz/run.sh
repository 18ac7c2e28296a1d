#!/usr/bin/env bash
# Fuzzes the release server with Schemathesis, against the OpenAPI document the server
# itself serves (/openapi.json): every operation, every check, writes included (with a
# bootstrap admin key), a bounded number of examples per operation and a fixed seed.
# Any finding fails the run. The server runs on its embedded PostgreSQL in a fresh
# temporary directory, which is stopped and deleted however this script ends.
#
#   bash tests/fuzz/run.sh                  # after cargo build --release
#   FUZZ_EXAMPLES=300 FUZZ_SEED=7 bash tests/fuzz/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

binary=${SIGNATORIES_BIN:-target/release/signatories}
examples=${FUZZ_EXAMPLES:-200}
seed=${FUZZ_SEED:-20191008}
venv=${FUZZ_VENV:-target/fuzz-venv}

# Schemathesis, pinned, in a virtual environment of its own.
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/fuzz/requirements.txt

work=$(mktemp -d)
# The embedded cluster runs as the postgres user when we are root: it must reach its
# directory inside this one.
chmod 711 "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=$("$binary" keys generate)
base=http://127.0.0.1:$port

SIGNATORIES_DATA_DIR="$work/postgres" SIGNATORIES_BIND="127.0.0.1:$port" \
    SIGNATORIES_ADMIN_KEY="$key" SIGNATORIES_LOG_FORMAT=json RUST_LOG=warn SIGNATORIES_RATE_LIMIT=0 \
    "$binary" serve >"$work/server.log" 2>&1 &
server=$!

finish() {
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
trap finish EXIT

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

"$venv/bin/schemathesis" --config-file tests/fuzz/schemathesis.toml run "$base/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $key" \
    --max-examples "$examples" \
    --seed "$seed" \
    --generation-database none \
    --no-color
