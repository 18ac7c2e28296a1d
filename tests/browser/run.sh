#!/usr/bin/env bash
# The explorer in a real browser: Debian's chromium, driven by playwright-core (pinned in
# package-lock.json), against the release server on its seeded data, on loopback. Checks
# that every page and embed loads with no failed request or console error and shows the
# record as data/xinjiang says it is (check.mjs); screenshots go to target/browser/.
# The server runs on its embedded PostgreSQL in a fresh temporary directory, stopped and
# deleted however this script ends.
#
#   bash tests/browser/run.sh            # after cargo build --release
set -euo pipefail
cd "$(dirname "$0")/../.."

binary=${SIGNATORIES_BIN:-target/release/signatories}
out=target/browser
deps=target/browser-node

if ! command -v chromium >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# playwright-core at the locked version, outside the source tree.
mkdir -p "$deps" "$out"
cp tests/browser/package.json tests/browser/package-lock.json "$deps/"
npm ci --prefix "$deps" --no-audit --no-fund --silent
cp tests/browser/check.mjs "$deps/"

work=$(mktemp -d)
chmod 711 "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

SIGNATORIES_DATA_DIR="$work/postgres" SIGNATORIES_BIND="127.0.0.1:$port" \
    SIGNATORIES_LOG_FORMAT=json RUST_LOG=warn SIGNATORIES_RATE_LIMIT=0 \
    "$binary" serve >"$work/server.log" 2>&1 &
server=$!

finish() {
    local status=$?
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

timeout 300 node "$deps/check.mjs" "$base" "$out" data/xinjiang
echo "screenshots: $(ls "$out"/*.png | tr '\n' ' ')"
