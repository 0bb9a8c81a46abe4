#!/usr/bin/env bash
# Report latency over a million responses, on SQLite and PostgreSQL.
#   bench/reports.sh [sqlite|postgres|all]   (default: all)
# Seeds once (examples/seed_reports.rs: 1,000,000 responses with 2,200,000 answers, 1,250,000
# invitations over three years; about 5 minutes on SQLite) into $SEED_DIR (default /tmp/mashov-bench), then times whole
# `curl` requests for the summary and the breakdown by service over the whole three years with
# farm-bench (median of 7), then streams the whole period's CSV export over HTTP and reads the
# server's peak memory; then signs in to the management app and times its dashboard and a
# department's page (the default four weeks, and the year). Settings: N (responses),
# MASHOV_BENCH_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
N=${N:-1000000}
SEED_DIR=${SEED_DIR:-/tmp/mashov-bench}
PG_ADMIN=${MASHOV_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
cargo build --release --quiet --bin mashov --example seed_reports
BIN=$PWD/target/release/mashov
mkdir -p "$SEED_DIR"
port=$((20000 + RANDOM % 10000))

# Empties the rollups, so that the first report pays for building them (timed on its own).
reset_rollups() {
  local sql="DELETE FROM report_response_days; DELETE FROM report_invitation_days;
    DELETE FROM report_response_months; DELETE FROM report_invitation_months;
    DELETE FROM report_answer_days; DELETE FROM report_answer_months;
    UPDATE report_rollup_state SET through_day = '0000-00-00';"
  case $1 in
    sqlite://*) sqlite3 "${1#sqlite://}" "$sql" ;;
    *) psql -q "$1" -c "$sql" ;;
  esac
}

# Signs in as a bench admin (created once) and times the management app's heaviest pages.
bench_admin() {
  local name=$1 base=$2 jar=$SEED_DIR/$1.cookies
  MASHOV_PASSWORD="bench admin passphrase" "$BIN" user create --email "bench@bench.example" \
    --role admin >/dev/null 2>&1 || true
  rm -f "$jar"
  local csrf
  csrf=$(curl -fsS -c "$jar" "$base/admin/login" | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)
  curl -fsS -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf=$csrf" \
    --data-urlencode "email=bench@bench.example" --data-urlencode "password=bench admin passphrase" \
    "$base/admin/login"
  local dept
  dept=$(curl -fsS -b "$jar" "$base/admin" | grep -o '/admin/departments/[a-z_.-]*' | head -n1)
  for path in "/admin" "$dept" "/admin?period=year" "$dept?period=year"; do
    echo "== $name: $path"
    farm-bench -n 7 --warmup 2 -- curl -fsS -o /dev/null -b "$jar" "$base$path" 2>&1 \
      | grep -E "wall|peak" || true
  done
}

bench_one() {
  local name=$1 url=$2
  export MASHOV_DATABASE_URL=$url MASHOV_BIND=127.0.0.1:$port MASHOV_SECRET_FILE=$SEED_DIR/key MASHOV_LOG=warn
  export MASHOV_RATE_LIMIT=0 MASHOV_API_RATE_LIMIT=0
  local key
  key=$("$BIN" apikey create --name "bench-$RANDOM" | tail -n1)
  "$BIN" serve >"$SEED_DIR/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  reset_rollups "$url"
  local q="from=$(date -d '1095 days ago' +%F)&to=$(date +%F)"
  echo "== $name: first report after an empty rollup (builds it)"
  curl -fsS -o /dev/null -w 'first summary: %{time_total}s\n' -H "Authorization: Bearer $key" \
    "http://127.0.0.1:$port/api/v1/reports/summary?$q"
  for path in "summary?$q" "breakdown?$q&by=service"; do
    echo "== $name: $path"
    farm-bench -n 7 --warmup 2 -- curl -fsS -o /dev/null -H "Authorization: Bearer $key" \
      "http://127.0.0.1:$port/api/v1/reports/$path" 2>&1 | grep -E "wall|peak" || true
  done
  curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/reports/summary?$q" | head -c 300; echo
  echo "== $name: the whole period as CSV over HTTP (streamed)"
  curl -fsS -o "$SEED_DIR/export.csv" -w 'export: %{time_total}s, %{size_download} bytes\n' \
    -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/export/responses.csv?$q"
  echo "rows: $(($(wc -l <"$SEED_DIR/export.csv") - 1)); server peak RSS: $(grep VmHWM /proc/$pid/status)"
  bench_admin "$name" "http://127.0.0.1:$port"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

if [[ $which == sqlite || $which == all ]]; then
  db=$SEED_DIR/reports-$N-v2.db
  [[ -f $db ]] || target/release/examples/seed_reports "sqlite://$db" "$N"
  bench_one sqlite "sqlite://$db"
fi
if [[ $which == postgres || $which == all ]]; then
  base=${PG_ADMIN%/*}
  if ! psql "$base/mashov_bench_${N}_v2" -c 'SELECT 1' >/dev/null 2>&1; then
    psql "$PG_ADMIN" -c "CREATE DATABASE mashov_bench_${N}_v2" >/dev/null
    target/release/examples/seed_reports "$base/mashov_bench_${N}_v2" "$N"
  fi
  bench_one postgres "$base/mashov_bench_${N}_v2"
fi
