#!/usr/bin/env bash
# Load and faults, on each backend: the resident loop, the CRM and a manager's reports at 80% of
# the peak measured first, for ten minutes, with a flood of unknown survey links, wrong API keys
# and 300 connections trickling a body beside them (examples/fault_load.rs). Passes when no
# acknowledged answer is lost, the legitimate p99 stays within 3x a quiet run at the same rate,
# and the server's memory stays flat.
#   bench/fault.sh [sqlite|postgres|all]          (default: all)
# Settings: DURATION (seconds under attack, 600), QUIET (seconds of the quiet run, 60),
# MASHOV_BENCH_POSTGRES_URL (admin URL, postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
DURATION=${DURATION:-600}
QUIET=${QUIET:-60}
PG_ADMIN=${MASHOV_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --quiet --bin mashov --example fault_load
BIN=target/release/mashov
LOAD=target/release/examples/fault_load
work=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
base="http://127.0.0.1:$port"
failed=0

verdict() { # name ok detail
  if [ "$2" = 1 ]; then echo "PASS $1: $3"; else echo "FAIL $1: $3"; failed=1; fi
}

run_backend() {
  local name=$1 url=$2 count_sql=$3
  echo "== $name"
  export MASHOV_DATABASE_URL=$url MASHOV_BIND="127.0.0.1:$port" MASHOV_BASE_URL=$base
  export MASHOV_SECRET_FILE="$work/$name.key" MASHOV_LOG=warn
  # Residents come through a load balancer on loopback, each from an address of their own; the
  # per-address limits stay at their defaults. The one CRM key sends more than a real CRM does.
  export MASHOV_TRUSTED_PROXIES=127.0.0.1 MASHOV_API_RATE_LIMIT=1000000
  "$BIN" migrate >/dev/null 2>&1
  "$BIN" catalog import demo/catalog.csv >/dev/null 2>&1
  local key
  key=$("$BIN" apikey create --name "fault-$RANDOM" 2>/dev/null | tail -n1)
  "$BIN" serve >/dev/null 2>"$work/$name.log" &
  local pid=$!
  for _ in $(seq 200); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  : >"$work/$name.rss"
  (while kill -0 "$pid" 2>/dev/null; do
     awk '/VmRSS/ {print $2}' "/proc/$pid/status" >>"$work/$name.rss" 2>/dev/null || true
     sleep 5
   done) &
  "$LOAD" peak "$base" "$key" 20 | tee "$work/$name.peak"
  local peak rate
  peak=$(awk '/^peak/ {print $2}' "$work/$name.peak")
  rate=$(awk -v p="$peak" 'BEGIN {printf "%d", p * 0.8}')
  echo "-- quiet, ${QUIET}s at $rate req/s"
  "$LOAD" steady "$base" "$key" "$QUIET" "$rate" | tee "$work/$name.quiet"
  local rss_from
  rss_from=$(wc -l <"$work/$name.rss")
  echo "-- under attack, ${DURATION}s at $rate req/s"
  "$LOAD" steady "$base" "$key" "$DURATION" "$rate" --attack | tee "$work/$name.loud"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  local acked stored quiet loud
  acked=$(cat "$work/$name.peak" "$work/$name.quiet" "$work/$name.loud" |
    awk '/^acknowledged_answers/ {n += $2} END {print n}')
  stored=$(eval "$count_sql")
  verdict "$name: no acknowledged answer lost" "$([ "$stored" -ge "$acked" ] && echo 1)" \
    "$acked acknowledged, $stored stored"
  quiet=$(awk '/^legit all/ {sub("p99=", "", $4); sub("ms", "", $4); print $4}' "$work/$name.quiet")
  loud=$(awk '/^legit all/ {sub("p99=", "", $4); sub("ms", "", $4); print $4}' "$work/$name.loud")
  verdict "$name: legitimate p99 within 3x of quiet" \
    "$(awk -v q="$quiet" -v l="$loud" 'BEGIN {print (l <= 3 * q) ? 1 : 0}')" \
    "quiet ${quiet} ms, under attack ${loud} ms"
  # Flat: the highest RSS of the attack's last third is within 25% (and 4 MiB) of its first.
  local flat
  flat=$(tail -n +"$((rss_from + 1))" "$work/$name.rss" | awk '
    {v[NR] = $1} END {
      t = int(NR / 3); if (t < 1) {print "1 too short"; exit}
      for (i = 1; i <= t; i++) if (v[i] > a) a = v[i]
      for (i = NR - t + 1; i <= NR; i++) if (v[i] > b) b = v[i]
      printf "%d first third %.1f MiB, last third %.1f MiB\n", (b <= a * 1.25 + 4096), a / 1024, b / 1024}')
  verdict "$name: memory flat" "${flat%% *}" "${flat#* }"
}

if [ "$which" = all ] || [ "$which" = sqlite ]; then
  run_backend sqlite "sqlite://$work/fault.db" "sqlite3 '$work/fault.db' 'SELECT COUNT(*) FROM responses'"
fi
if [ "$which" = all ] || [ "$which" = postgres ]; then
  db="mashov_fault_$$"
  pg_base=${PG_ADMIN%/*}
  psql "$PG_ADMIN" -qc "CREATE DATABASE $db"
  trap 'psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1' EXIT
  run_backend postgres "$pg_base/$db" "psql '$pg_base/$db' -tAc 'SELECT COUNT(*) FROM responses'"
fi
echo "raw output: $work"
exit "$failed"
