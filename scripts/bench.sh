#!/usr/bin/env bash
# Run every benchmark scenario (bench/README.md) with the optimised build in BUILD_DIR and write
# bench/results/<date>.json and .md (median and range of three runs, ratios to same-run
# baselines). BENCH_QUICK=1: one run of each at tiny sizes, written under BUILD_DIR/results
# instead (a smoke run, not figures to quote).
# Usage: scripts/bench.sh [BUILD_DIR]
set -euo pipefail

build=${1:-build/bench}
export TACNET_BIN="$PWD/$build/bin" TACNET_SRC="$PWD"
bench="$build/bench/tacnet-bench"
[ -x "$bench" ] || { echo "bench.sh: $bench not built (make bench)" >&2; exit 1; }

runs=3
args=()
out=bench/results
quick=0
if [ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ]; then
    runs=1 args=(--quick) out="$build/results" quick=1
fi
mkdir -p "$out"
stamp=$(date -u +%Y-%m-%dT%H%MZ)
raw="$out/$stamp.raw"
: >"$raw"
start=$(date +%s)
for s in baseline ingest e2e replicated mosquitto catchup scale textcheck; do
    t=$(date +%s)
    echo "bench: $s ..." >&2
    "$bench" "$s" --runs "$runs" "${args[@]}" >>"$raw"
    echo "bench: $s took $(($(date +%s) - t)) s" >&2
done
python3 bench/report.py --raw "$raw" --json "$out/$stamp.json" --md "$out/$stamp.md" \
    --seconds $(($(date +%s) - start)) --quick "$quick"
rm -f "$raw"
echo "bench: wrote $out/$stamp.json and $out/$stamp.md" >&2
