#!/usr/bin/env bash
# Email delivery benchmark: queue N invitations with email off, then start `mashov serve` with
# a local SMTP server (examples/smtp_sink.rs) and time how fast the outbox drains.
#   bench/email.sh [SECONDS_OF_QUEUEING]     (default 3: about 15,000 invitations)
set -euo pipefail
cd "$(dirname "$0")/.."
queue_for=${1:-3}
cargo build --release --quiet --bin mashov --example smtp_sink
BIN=target/release/mashov
work=$(mktemp -d)
port=$((20000 + RANDOM % 10000)); smtp_port=$((port + 1))
export MASHOV_DATABASE_URL="sqlite://$work/mail.db" MASHOV_BIND="127.0.0.1:$port"
export MASHOV_SECRET_FILE="$work/key" MASHOV_LOG=warn MASHOV_SEND_DELAY=0s MASHOV_QUIET_HOURS=
export MASHOV_SHABBAT=off MASHOV_REMINDER_AFTER=off MASHOV_FREQUENCY_CAP=off
export MASHOV_MAIL_FROM="City <survey@city.example>"
export MASHOV_RATE_LIMIT=0 MASHOV_API_RATE_LIMIT=0
"$BIN" migrate >/dev/null
"$BIN" catalog import demo/catalog.csv >/dev/null
key=$("$BIN" apikey create --name bench | tail -n1)
healthy() { for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done; exit 1; }

"$BIN" serve >/dev/null 2>&1 & pid=$!
healthy
closed=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
wrk -t2 -c32 -d"${queue_for}s" -s bench/create.lua "http://127.0.0.1:$port" \
  -- "$key" "$work/links" "$closed" "$RANDOM" >/dev/null
kill "$pid"; wait "$pid" 2>/dev/null || true
queued=$("$BIN" outbox status | awk '$1=="pending" {print $2}')

target/release/examples/smtp_sink "$smtp_port" >"$work/sink.txt" &
sink=$!
start=$(date +%s.%N)
MASHOV_SMTP_URL="smtp://127.0.0.1:$smtp_port" "$BIN" serve >/dev/null 2>&1 & pid=$!
while :; do
  sent=$(tail -n1 "$work/sink.txt" 2>/dev/null || echo 0)
  [ "${sent:-0}" -ge "$queued" ] && break
  sleep 0.2
done
end=$(date +%s.%N)
rss=$(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")
kill "$pid" "$sink"; wait 2>/dev/null || true
awk -v n="$queued" -v s="$start" -v e="$end" -v rss="$rss" \
  'BEGIN {printf "%d emails delivered in %.1f s: %.0f emails/s; server peak RSS %s\n", n, e-s, n/(e-s), rss}'
rm -rf "$work"
