#!/usr/bin/env bash
# Property-based API testing of crm-server with schemathesis (PyPI), bounded in time.
#
# Starts the server on a fresh SQLite database with demo data, points schemathesis at the
# served OpenAPI document with the demo administrator's token, and fails when the server
# answers a 5xx or breaks its own document. Independent of xtask:
#
#   tests/schemathesis.sh                   # 120 s budget, SQLite in a temporary directory
#   ST_MAX_TIME=600 ST_EXAMPLES=100 tests/schemathesis.sh
#   ST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/st_fresh tests/schemathesis.sh   # an empty database
#
# Needs python3 with venv; installs schemathesis into target/schemathesis-venv once.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
max_time="${ST_MAX_TIME:-120}"
examples="${ST_EXAMPLES:-25}"
checks="${ST_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}"
port="${ST_PORT:-18099}"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/schemathesis-venv"

if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis
fi

cargo build --quiet -p crm-server
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

database_url="${ST_DATABASE_URL:-sqlite://$work/crm.db?mode=rwc}"
operator_token="st-operator-$(date +%s%N)"
CRM_OPERATOR_TOKEN="$operator_token" "$target/debug/crm-server" --listen "127.0.0.1:$port" --database-url "$database_url" \
  --log warn >"$work/out.log" 2>"$work/err.log" &
server_pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
token="$(sed -n 's/.*(shown once): \(crm_[A-Za-z0-9_-]*\).*/\1/p' "$work/out.log" | head -1 || true)"
if [ -z "$token" ]; then
  echo "the server printed no demo token" >&2
  cat "$work/out.log" "$work/err.log" >&2
  exit 1
fi

# message/rfc822 bodies (the inbound mail hook) need a serializer of our own.
export SCHEMATHESIS_HOOKS="$root/tests/schemathesis_hooks.py"

"$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks "$checks" \
  --exclude-path /api/v1/events \
  --exclude-path-regex '^/api/v1/operator/' \
  --max-time "$max_time" \
  --max-examples "$examples" \
  --request-timeout 10 \
  --seed "${ST_SEED:-42}"

# The operator API answers to the operator credential, not to a tenant's token.
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $operator_token" \
  --checks "$checks" \
  --include-path-regex '^/api/v1/operator/' \
  --max-time "${ST_OPERATOR_MAX_TIME:-20}" \
  --max-examples "$examples" \
  --request-timeout 10 \
  --seed "${ST_SEED:-42}"
