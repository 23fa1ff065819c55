#!/usr/bin/env bash
# The reliability and security suite (docs/RELIABILITY.md, T01-T29), run by
# `make test-reliability`. Runs each tests/reliability binary, then each fuzz target briefly,
# and ends with the summary table, also written to BUILD/reliability-summary.txt.
# Usage: scripts/reliability.sh SIZE BUILD TEST... -- FUZZBIN...
set -uo pipefail
cd "$(dirname "$0")/.."
size=$1 build=$2
shift 2
tests=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do tests+=("$1"); shift; done
[ $# -gt 0 ] && shift
fuzzers=("$@")

case "$size" in
ci)    export REL_EVENTS=${REL_EVENTS:-2000} REL_KILLS=${REL_KILLS:-5} \
              REL_AGENCY_KILLS=${REL_AGENCY_KILLS:-2} REL_SEEDS=${REL_SEEDS:-1}
       fuzz_secs=${FUZZ_SECONDS_REL:-20} ;;
large) export REL_EVENTS=${REL_EVENTS:-10000} REL_KILLS=${REL_KILLS:-20} \
              REL_AGENCY_KILLS=${REL_AGENCY_KILLS:-5} REL_SEEDS=${REL_SEEDS:-3} \
              REL_SOAK_SECONDS=${REL_SOAK_SECONDS:-1800} REL_SOAK_KILL_S=${REL_SOAK_KILL_S:-180}
       fuzz_secs=${FUZZ_SECONDS_REL:-600} ;;
*)     echo "reliability.sh: REL_SIZE must be ci or large" >&2; exit 2 ;;
esac
# Storage (T05-T07): a 100,000-event journal for the startup walk, more bit flips, longer drill.
if [ "$size" = large ]; then
    export REL_WALK_EVENTS=${REL_WALK_EVENTS:-100000} REL_T06_FLIPS=${REL_T06_FLIPS:-20} \
           REL_T07_EVENTS=${REL_T07_EVENTS:-3000}
fi

export TACNET_BIN=${TACNET_BIN:-$PWD/$build/bin} TACNET_SRC=$PWD REL_SIZE=$size
stats=$PWD/$build/reliability-stats.txt
summary=$PWD/$build/reliability-summary.txt
: >"$stats"
export TACNET_REL_STATS=$stats
start=$(date +%s)
fail=0
for t in "${tests[@]}"; do
    log=$t.log
    if ! "$t" --jobs 1 --timeout 1200 --verbose >"$log" 2>&1; then
        fail=1
        echo "FAILED: $t (log $log)"
        grep -E '^\[----\]|seed=' "$log" | tail -30
    fi
    grep -E '^\[(PASS|FAIL|SKIP)\]|SKIPPED|^\[rel\]' "$log" | grep -v 'Test is disabled' || true
    if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error' "$log"; then
        echo "SANITIZER REPORT: $t"
        fail=1
    fi
done
if [ ${#fuzzers[@]} -gt 0 ]; then
    scripts/fuzz.sh "$fuzz_secs" "${fuzzers[@]}" || fail=1
fi
secs=$(( $(date +%s) - start ))

sum() { awk -v k="$1" '$1 == k { s += $2 } END { print s + 0 }' "$stats"; }
maxv() { awk -v k="$1" '$1 == k && $2 > m { m = $2 } END { print m + 0 }' "$stats"; }
{
    echo "tacnet reliability summary (REL_SIZE=$size, $(date -u +%Y-%m-%d), ${secs}s on $(nproc) cores)"
    echo
    printf '| %-44s | %12s |\n' "measure" "value"
    printf '|%s|%s|\n' "----------------------------------------------" "--------------"
    row() { printf '| %-44s | %12s |\n' "$1" "$2"; }
    row "events acknowledged (ledger)" "$(sum events_acked)"
    row "acknowledged events lost" "$(sum events_lost)"
    row "events applied twice" "$(sum events_duplicated)"
    row "events applied that nobody sent" "$(sum events_phantom)"
    row "per-sender order violations" "$(sum order_violations)"
    row "events delivered outside their recipients" "$(sum misdelivered)"
    row "audit chains that failed to verify" "$(sum audit_chains_broken)"
    row "faults: broker kill -9" "$(sum fault_broker_kill9)"
    row "faults: agency daemon kill -9" "$(sum fault_agency_kill9)"
    row "faults: crash at a FAULT_POINT" "$(sum fault_point_crash)"
    row "FAULT_POINTs in source / exercised" "$(maxv fault_points_in_source) / $(maxv fault_points_exercised)"
    row "slowest restart to ready (ms)" "$(maxv restart_ready_max_ms)"
    row "malformed inputs tried / accepted" "$(sum malformed_tried) / $(sum malformed_accepted)"
    row "attacks tried / accepted" "$(sum attacks_tried) / $(sum attacks_accepted)"
    row "broker's own key as a client / let in (T14)" "$(sum broker_key_attempts) / $(sum broker_key_accepted)"
    row "body of another kind / quarantined (T18)" "$(sum kind_mismatch_sent) / $(sum kind_mismatch_quarantined)"
    row "proxy connection cuts / stalls (T08)" "$(sum t08_proxy_cuts) / $(sum t08_proxy_stalls)"
    row "partitions / slowest marked down ms (T09)" "$(sum t09_partitions) / $(maxv t09_down_detect_max_ms)"
    row "non-delivery reports, long partition (T09)" "$(sum t09_non_delivery_reports)"
    row "same-msg_id retries / late ones (T10)" "$(sum t10_retries) / $(sum t10_late_retries)"
    row "revoked key refused after ms (T15)" "$(maxv t15_refused_after_ms)"
    row "key rotations / refused in overlap (T16)" "$(sum t16_rotations) / $(sum t16_refused_in_overlap)"
    row "retention: cases shredded / held and kept" "$(sum retention_cases_shredded) / $(sum retention_held_kept)"
    row "retention: canary, key or ciphertext hits" "$(sum retention_residue_hits)"
    row "unsafe storage starts refused (T04)" "$(sum t04_unsafe_starts_refused)"
    row "storage-full refusals, none acked (T05)" "$(sum storage_full_refusals)"
    row "corrupt copies tried / refused / served bad" "$(sum corruption_cases) / $(sum corruption_refused) / $(sum corruption_served_corrupt)"
    row "startup walk: events / first / next (ms)" "$(maxv walk_events) / $(maxv walk_ms_first) / $(maxv walk_ms_next)"
    row "restore to caught up (ms, T07)" "$(maxv restore_ms)"
    row "canary events / hits (T19)" "$(sum canary_events) / $(sum canary_hits)"
    row "soak seconds / p99 latency ms (T24)" "$(maxv soak_seconds) / $(maxv soak_p99_ms)"
    row "soak flood E_QUOTA / unanswered (T24)" "$(sum soak_flood_quota_nacks) / $(sum soak_flood_silent)"
    row "soak broker RSS drift % / fd change (T24)" "$(awk '$1 == "soak_rss_drift_pct10" { printf "%.1f", $2 / 10 }' "$stats") / $(maxv soak_fd_change)"
    row "soak unauthenticated attempts / crashes" "$(sum soak_unauth_attempts) / $(sum soak_broker_crashes)"
    row "failed log-ins + bad tokens / view KiB (T26)" "$(sum t26_failed_auth) / $(maxv t26_view_growth_kib)"
    row "audit records for them (T26)" "$(maxv t26_audit_records)"
    row "failed log-in ms known / unknown (T26)" "$(awk '$1 == "t26_known_ms10" { k = $2 } $1 == "t26_unknown_ms10" { u = $2 } END { printf "%.1f / %.1f", k / 10, u / 10 }' "$stats")"
    row "owner in from elsewhere / lock audits (T27)" "$(sum t27_owner_login_ok) / $(sum t27_lock_audits)"
    row "slow conns / GET /login elsewhere ms (T28)" "$(sum t28_slow_connections) / $(maxv t28_login_page_max_ms)"
    row "trickling connections cut after s (T28)" "$(maxv t28_trickle_cut_s)"
    row "fuzz targets / executions" "$(sum fuzz_targets) / $(sum fuzz_execs)"
    row "fuzz crashes" "$(sum fuzz_crashes)"
    row "tests SKIPPED (never counted as passed)" "$(grep -c '^skipped' "$stats")"
    grep '^skipped' "$stats" | sed 's/^skipped /  SKIPPED: /'
    echo
    if [ $fail = 0 ]; then echo "result: all run tests passed"; else echo "result: FAILED"; fi
} | tee "$summary"
exit $fail
