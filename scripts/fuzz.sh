#!/usr/bin/env bash
# Run each libFuzzer target for SECONDS on a scratch copy of its committed corpus
# (tests/fuzz/corpus/<target>). Prints "fuzz <target> execs N crashes M" per target, appends the
# same counters to $TACNET_REL_STATS when set, and keeps crashers in build/fuzz-artifacts/.
# Exit 1 if any target crashed, leaked or tripped a sanitizer.
# Usage: scripts/fuzz.sh SECONDS BIN...
set -uo pipefail
cd "$(dirname "$0")/.."
secs=$1
shift
export TACNET_SRC=${TACNET_SRC:-$PWD}
art=build/fuzz-artifacts
mkdir -p "$art"
fail=0
for bin in "$@"; do
    name=$(basename "$bin")
    name=${name#fuzz_}
    work=$(mktemp -d /tmp/tacnet-fuzz-XXXXXX)
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
    log="$art/$name.log"
    "$bin" -max_total_time="$secs" -max_len=4096 -timeout=5 -rss_limit_mb=512 \
        -print_final_stats=1 -artifact_prefix="$art/$name-" "$work" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=0
    if [ $rc -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log"; then
        crashes=1
        fail=1
        echo "fuzz $name: CRASH (see $log and $art/$name-*)"
    fi
    echo "fuzz $name execs ${execs:-0} crashes $crashes"
    if [ -n "${TACNET_REL_STATS:-}" ]; then
        echo "fuzz_execs ${execs:-0}" >>"$TACNET_REL_STATS"
        echo "fuzz_crashes $crashes" >>"$TACNET_REL_STATS"
        echo "fuzz_targets 1" >>"$TACNET_REL_STATS"
    fi
    rm -rf "$work"
done
exit $fail
