#!/usr/bin/env bash
# Play a scenario file (deploy/scenarios/*.txt) through the tacnet command: one line a step,
# "[@label] AGENCY args...", with {label} replaced by the msg_id a labelled publish returned.
# What is still to come when the scenario is played is written relative to that day, since
# a wish or schedule for a day gone is refused: {date+N} is the date N days on (YYYY-MM-DD)
# and {ms+N@HH:MM} that day's HH:MM UTC in ms since the epoch.
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
    while [[ $line =~ \{date\+([0-9]+)\} ]]; do
        line=${line//"${BASH_REMATCH[0]}"/$(date -u -d "+${BASH_REMATCH[1]} days" +%F)}
    done
    while [[ $line =~ \{ms\+([0-9]+)@([0-9][0-9]:[0-9][0-9])\} ]]; do
        day=$(date -u -d "+${BASH_REMATCH[1]} days" +%F)
        line=${line//"${BASH_REMATCH[0]}"/$(($(date -u -d "$day ${BASH_REMATCH[2]}" +%s) * 1000))}
    done
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
