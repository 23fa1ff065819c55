#!/usr/bin/env bash
# Play a scenario file (deploy/scenarios/*.txt) through the tacnet command: one line a step,
# "[@label] AGENCY args...", with {label} replaced by the msg_id a labelled publish returned.
set -euo pipefail
TACNET=$1
FILE=$2
declare -A IDS
n=0
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    label=
    if [[ $line == @* ]]; then
        label=${line%% *}; label=${label#@}; line=${line#* }
    fi
    for k in "${!IDS[@]}"; do line=${line//\{$k\}/${IDS[$k]}}; done
    eval "set -- $line"
    agency=$1; shift
    n=$((n + 1))
    out=$("$TACNET" --agency "$agency" --json "$@") || {
        echo "scenario step $n ($agency $1) was refused:" >&2
        echo "$out" >&2
        exit 1
    }
    if [ -n "$label" ]; then
        IDS[$label]=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["published"]["msg_id"])')
    fi
    printf 'step %2d: %-16s %s\n' "$n" "$agency" "$1 $2"
    # Let the event reach every member before the next step depends on it.
    sleep 0.3
done < "$FILE"
