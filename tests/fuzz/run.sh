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

key=$("$binary" keys generate)
source tests/lib/serve.sh
serve_fresh SIGNATORIES_ADMIN_KEY="$key"

"$venv/bin/schemathesis" --config-file tests/fuzz/schemathesis.toml run "$base/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $key" \
    --max-examples "$examples" \
    --seed "$seed" \
    --generation-database none \
    --no-color
