#!/usr/bin/env bash
# Builds the fuzz targets with the nightly toolchain and runs each for a bounded time (seconds,
# default 45) on top of the committed corpus. New inputs go to a scratch folder, so a run never
# changes the corpus; a crash stops the run, and its input is in fuzz/artifacts/TARGET/.
# Turning a crash into a test: fix it, then copy the input into fuzz/corpus/TARGET/ (every
# run replays the corpus first) and, where it reads well, add a unit test beside the parser.
set -euo pipefail
secs="${1:-45}"
cd "$(dirname "$0")"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
targets=(survey_form interaction_json csv_imports settings)
cargo +nightly fuzz build -O
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  echo "fuzz: $t for ${secs}s over $(ls "corpus/$t" | wc -l) corpus inputs"
  if ! cargo +nightly fuzz run -O "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 >"$scratch/$t.log" 2>&1; then
    tail -n 40 "$scratch/$t.log" >&2
    echo "fuzz: $t found a crash; the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E '^Done' "$scratch/$t.log"
done
