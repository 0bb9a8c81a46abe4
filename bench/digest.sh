#!/usr/bin/env bash
# Digest benchmark: 50 recipients (a third of them the whole city, the rest one department
# each) on the report benchmark's database of a million responses (bench/reports.sh seeds it),
# `digest send --now`, then `serve` with a local SMTP server: the time until all 50 arrived.
#   bench/digest.sh [DATABASE_URL]   (default: the SQLite database bench/reports.sh seeded)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin mashov --example smtp_sink
BIN=$PWD/target/release/mashov
SEED_DIR=${SEED_DIR:-/tmp/mashov-bench}
export MASHOV_DATABASE_URL=${1:-sqlite://$SEED_DIR/reports-1000000.db}
work=$(mktemp -d)
port=$((20000 + RANDOM % 10000)); smtp_port=$((port + 1))
export MASHOV_BIND="127.0.0.1:$port" MASHOV_SECRET_FILE="$SEED_DIR/key" MASHOV_LOG=warn
export MASHOV_MAIL_FROM="City <digest@city.example>"
export MASHOV_RATE_LIMIT=0 MASHOV_API_RATE_LIMIT=0
depts=$(cut -d, -f1 demo/catalog.csv | tail -n +2 | sort -u | tr '\n' ' ')
i=0
for n in $(seq 50); do
  if ((n % 3 == 0)); then scope=(--all); else
    set -- $depts; shift $((n % $#)); scope=(--departments "$1"); fi
  "$BIN" digest recipients add "bench$n@city.example" --language he "${scope[@]}" >/dev/null
done
"$BIN" digest send --now
target/release/examples/smtp_sink "$smtp_port" >"$work/sink.txt" &
sink=$!
start=$(date +%s.%N)
MASHOV_SMTP_URL="smtp://127.0.0.1:$smtp_port" "$BIN" serve >/dev/null 2>&1 & pid=$!
while :; do
  sent=$(tail -n1 "$work/sink.txt" 2>/dev/null || echo 0)
  [ "${sent:-0}" -ge 50 ] && break
  sleep 0.1
done
end=$(date +%s.%N)
rss=$(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")
kill "$pid" "$sink"; wait 2>/dev/null || true
awk -v s="$start" -v e="$end" -v rss="$rss" \
  'BEGIN {printf "50 digests gathered, drawn and delivered in %.1f s (server start included); server peak RSS %s\n", e-s, rss}'
# Leave the database as it was: no bench recipients, no bench digests.
for n in $(seq 50); do "$BIN" digest recipients remove "bench$n@city.example" >/dev/null; done
rm -rf "$work"
