#!/usr/bin/env bash
# Load benchmark of the resident loop on loopback, with its two ceilings measured in the same run.
#   bench/run.sh [sqlite|postgres|all]      (default: all)
# Settings: CONC (connections, 64), DUR (seconds per phase, 10),
# MASHOV_BENCH_POSTGRES_URL (admin URL, postgres://postgres@127.0.0.1:5432/test).
# Needs wrk and pgbench (Debian: apt-get install wrk postgresql-contrib).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
CONC=${CONC:-64}
DUR=${DUR:-10}
PG_ADMIN=${MASHOV_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --quiet --bin mashov --examples
BIN=target/release/mashov
work=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
results="$work/results.txt"
: >"$results"

wait_healthy() {
  for _ in $(seq 200); do
    curl -fs "http://127.0.0.1:$1/${2-healthz}" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  return 1
}

# wrk output -> "req/s p50 p99 errors"
summarize() {
  awk '
    /Requests\/sec:/ {rps=$2}
    /^ +50%/ {p50=$2}
    /^ +99%/ {p99=$2}
    /Non-2xx or 3xx responses:/ {bad=$5}
    /Socket errors:/ {sock=$0}
    END {printf "%10s %9s %9s %8s\n", rps, p50, p99, (bad==""?0:bad)}' "$1"
}

row() { printf "%-9s %-34s %s\n" "$1" "$2" "$3" | tee -a "$results"; }

bench_bare() {
  target/release/examples/bare "127.0.0.1:$port" >/dev/null 2>&1 &
  local pid=$!
  wait_healthy "$port" ""
  wrk -t2 -c"$CONC" -d"${DUR}s" --latency "http://127.0.0.1:$port/" >"$work/bare.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  row "-" "bare actix-web handler" "$(summarize "$work/bare.txt")"
}

bench_backend() {
  local name=$1 url=$2
  export MASHOV_DATABASE_URL=$url MASHOV_BIND="127.0.0.1:$port" MASHOV_BASE_URL="http://127.0.0.1:$port"
  export MASHOV_SECRET_FILE="$work/$name.key" MASHOV_LOG=info
  # One client address drives the load: the per-address and per-key limits are off.
  export MASHOV_RATE_LIMIT=0 MASHOV_API_RATE_LIMIT=0
  "$BIN" migrate >/dev/null
  "$BIN" catalog import demo/catalog.csv >/dev/null
  local key
  key=$("$BIN" apikey create --name "bench-$RANDOM" | tail -n1)
  "$BIN" serve >/dev/null 2>"$work/$name.log" &
  local pid=$!
  wait_healthy "$port"
  local closed
  closed=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
  wrk -t2 -c"$CONC" -d"$((DUR * 2))s" --latency -s bench/create.lua "http://127.0.0.1:$port" \
    -- "$key" "$work/$name.links" "$closed" "$RANDOM$RANDOM" >"$work/$name.create.txt"
  cat "$work/$name.links".* >"$work/$name.links"
  wrk -t2 -c"$CONC" -d"${DUR}s" --latency -s bench/open.lua "http://127.0.0.1:$port" \
    -- "$work/$name.links" >"$work/$name.open.txt"
  wrk -t2 -c"$CONC" -d"${DUR}s" --latency -s bench/answer.lua "http://127.0.0.1:$port" \
    -- "$work/$name.links" 2 >"$work/$name.answer.txt"
  local rss
  rss=$(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  row "$name" "POST /api/v1/interactions" "$(summarize "$work/$name.create.txt")"
  row "$name" "GET /s/TOKEN (survey page)" "$(summarize "$work/$name.open.txt")"
  row "$name" "POST /s/TOKEN (answer, own link)" "$(summarize "$work/$name.answer.txt")"
  row "$name" "server peak RSS" "$rss ($(wc -l <"$work/$name.links") links)"
}

echo "CONC=$CONC DUR=${DUR}s on $(nproc) cores; columns: req/s p50 p99 non-2xx/3xx"
bench_bare
if [ "$which" = all ] || [ "$which" = sqlite ]; then
  bench_backend sqlite "sqlite://$work/bench.db"
  rate=$(target/release/examples/commit_rate "sqlite://$work/commit.db" "$DUR")
  row sqlite "durable 1-row commits (1 writer)" "$rate"
fi
if [ "$which" = all ] || [ "$which" = postgres ]; then
  db="mashov_bench_$$"
  base=${PG_ADMIN%/*}
  psql "$PG_ADMIN" -qc "CREATE DATABASE $db"
  trap 'psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1' EXIT
  bench_backend postgres "$base/$db"
  psql "$base/$db" -qc "CREATE TABLE bench_commits (id bigserial PRIMARY KEY, note text NOT NULL)"
  echo "INSERT INTO bench_commits (note) VALUES ('x');" >"$work/commit.sql"
  pgbench -n -f "$work/commit.sql" -c "$CONC" -j 2 -T "$DUR" "$base/$db" >"$work/pgbench.txt" 2>&1
  row postgres "durable 1-row commits (pgbench -c $CONC)" \
    "$(awk '/^tps/ {printf "%.0f commits/s", $3}' "$work/pgbench.txt")"
fi
echo "raw wrk output: $work"
