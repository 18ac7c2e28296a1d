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

source tests/lib/serve.sh
serve_fresh

timeout 300 node "$deps/check.mjs" "$base" "$out" data/xinjiang
echo "screenshots: $(ls "$out"/*.png | tr '\n' ' ')"
