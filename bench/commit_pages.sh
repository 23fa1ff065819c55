#!/bin/bash
# commit_pages.sh: how many 4 KiB pages each synced LMDB commit writes, per process, while
# `tacnet-bench e2e` offers 500 ev/s (the latency target's rate). Every page a commit dirties is
# written before its fdatasync, and on this disk the flush time grows with them, so this is the
# figure to watch when changing what the broker or a daemon stores per event.
#
#   make BUILD=build/bench OPT="-O2 -DNDEBUG" all build/bench/bench/tacnet-bench
#   bench/commit_pages.sh [tacnet-broker tacnet-school tacnet-hv tacnet-social-care]     (needs strace)
#
# It attaches strace to each named process for 3 s during the 500 ev/s phase and counts the
# bytes written to data.mdb between consecutive fdatasync calls.
set -euo pipefail
cd "$(dirname "$0")/.."
procs=("$@")
[ ${#procs[@]} -gt 0 ] || procs=(tacnet-broker tacnet-school)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
TACNET_BIN=$PWD/build/bench/bin TACNET_SRC=$PWD \
    build/bench/bench/tacnet-bench e2e --runs 1 --seconds 4 >"$out/e2e.json" 2>"$out/e2e.err" &
bench=$!
for _ in $(seq 1 120); do
    pgrep -P "$bench" -f "tacnet-broker --config" >/dev/null && break
    sleep 0.5
done
# The saturation phase and the 100 ev/s one take longer on a busy machine: wait for the bench
# to say it is offering 500 ev/s, then give the daemons a second to settle into it.
for _ in $(seq 1 240); do
    grep -q "lat500: offering" "$out/e2e.err" && break
    sleep 0.25
done
sleep 1
for p in "${procs[@]}"; do
    # Only the bench's own children: other brokers and daemons may be running on the machine.
    pid=$(pgrep -P "$bench" -f "$p --config" | head -1 || true)
    if [ -z "$pid" ]; then
        echo "$p: not running (the daemons are tacnet-school, tacnet-hv, tacnet-social-care)" >&2
        continue
    fi
    timeout 3 strace -f -e trace=pwrite64,writev,fdatasync -p "$pid" -o "$out/$p.strace" \
        2>/dev/null &
done
wait $bench || true
for p in "${procs[@]}"; do
    [ -s "$out/$p.strace" ] || continue
    # data.mdb is the first file LMDB opens (fd 3 or 4); the meta page goes through another fd.
    fd=$(grep -m1 -o 'fdatasync([0-9]*' "$out/$p.strace" | tr -dc 0-9)
    # The median, not the mean: the store's occasional run of zeros ahead of the last page
    # (store.c, s_extend_ahead) is written before an fdatasync too.
    awk -v fd="$fd" -v name="$p" '
        /fdatasync\(/ && !/resumed/ { if (n++) print cur; cur = 0; next }
        ($0 ~ "(pwrite64|writev)\\(" fd ",") && match($0, /= [0-9]+/) {
            cur += substr($0, RSTART + 2, RLENGTH - 2) / 4096 }' "$out/$p.strace" |
        sort -n | awk -v name="$p" '{ v[NR] = $1 }
            END { if (NR < 1) { print name ": no commits seen"; exit }
                  printf "%s: %d commits, median %d pages per commit (max %d)\n", name, NR,
                         v[int((NR + 1) / 2)], v[NR] }'
done
