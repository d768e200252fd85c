#!/usr/bin/env bash
# Attachment upload memory (CAS-6): uploads a 20 MB file to a running crm-server and reports
# the growth of the server's peak resident memory (VmHWM of /proc/PID/status) over what it
# was before the upload. The target: < 30 MB (the upload streams to the blob store).
#
#   tests/attachment_rss.sh                  # debug build, SQLite and blobs in a temporary folder
#   RSS_PROFILE=release tests/attachment_rss.sh
#   RSS_SIZE_MB=20 RSS_PORT=18109 tests/attachment_rss.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
port="${RSS_PORT:-18109}"
size_mb="${RSS_SIZE_MB:-20}"
profile="${RSS_PROFILE:-debug}"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ "$profile" = release ]; then cargo build --quiet --release -p crm-server; else cargo build --quiet -p crm-server; fi
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$target/$profile/crm-server" --listen "127.0.0.1:$port" --database-url "sqlite://$work/crm.db?mode=rwc" --log warn \
  >"$work/out.log" 2>"$work/err.log" &
server_pid=$!
for _ in $(seq 1 300); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
token="$(sed -n 's/.*(shown once): \(crm_[A-Za-z0-9_-]*\).*/\1/p' "$work/out.log" | head -1)"
api="http://127.0.0.1:$port/api/v1"
auth=(-H "Authorization: Bearer $token")
customer="$(curl -sS "${auth[@]}" -H 'content-type: application/json' -d '{"name":"RSS Bench"}' "$api/customers" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
case_id="$(curl -fsS "${auth[@]}" -H 'content-type: application/json' \
  -d "{\"customer\":\"$customer\",\"subject\":\"RSS\"}" "$api/cases" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
head -c $((size_mb * 1024 * 1024)) /dev/urandom >"$work/file.bin"
# A small upload first, so the first-use allocations (pools, buffers) are not counted.
curl -fsS -o /dev/null "${auth[@]}" -F "file=@$root/README.md" "$api/cases/$case_id/attachments"
kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$server_pid/status"; }
before_hwm="$(kb VmHWM)"
before_rss="$(kb VmRSS)"
start="$(date +%s.%N)"
code="$(curl -sS -o "$work/reply.json" -w '%{http_code}' "${auth[@]}" -F "file=@$work/file.bin" "$api/cases/$case_id/attachments")"
end="$(date +%s.%N)"
after_hwm="$(kb VmHWM)"
[ "$code" = 201 ] || { echo "upload answered $code: $(cat "$work/reply.json")" >&2; exit 1; }
growth=$(( (after_hwm - before_hwm) / 1024 ))
over_rss=$(( (after_hwm - before_rss) / 1024 ))
printf 'profile=%s size=%s MB upload=%.2f s VmRSS before=%s MB VmHWM before=%s MB after=%s MB: peak growth %s MB (peak over RSS before: %s MB)\n' \
  "$profile" "$size_mb" "$(echo "$end - $start" | bc)" $((before_rss / 1024)) $((before_hwm / 1024)) $((after_hwm / 1024)) "$growth" "$over_rss"
[ "$over_rss" -lt 30 ] || { echo "the peak grew by $over_rss MB: more than 30 MB" >&2; exit 1; }
