#!/usr/bin/env bash
# make run: provision a partnership under run/ (deploy/agencies.conf: the four named agencies and
# family_support), start the broker, the four named agency daemons and the generic daemon
# tacnet-agency for family_support on loopback (each its own process), play the scenario, print
# each agency's view, and keep everything running until Ctrl-C, which stops all of them cleanly.
set -euo pipefail
# Nothing under the run directory is for other users: configs, logs and state are 0640 or
# tighter, directories 0750 (the daemons narrow their own umask the same way).
umask 027
BIN=${1:-build/default/bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${TACNET_RUN:-$ROOT/run}
SCENARIO=${TACNET_SCENARIO:-$ROOT/deploy/scenarios/attendance-to-escalation.txt}
AGENCIES=(camhs school health_visiting social_care family_support)
# Dashboards: one port per agency from TACNET_HTTP_BASE (8400: camhs 8401 ... social_care 8404,
# family_support 8405).
HTTP_BASE=${TACNET_HTTP_BASE:-8400}
declare -A HTTP_PORT=([camhs]=$((HTTP_BASE + 1)) [school]=$((HTTP_BASE + 2)) [health_visiting]=$((HTTP_BASE + 3)) [social_care]=$((HTTP_BASE + 4)) [family_support]=$((HTTP_BASE + 5)))
# Demo log-ins: the named contacts of the scenario. The password is invented for the demo.
declare -A DEMO_USER=([camhs]="RK practitioner" [school]="DL dsl" [health_visiting]="PD practitioner" [social_care]="AW lead_professional" [family_support]="JM practitioner")
DEMO_PASSWORD=${TACNET_DEMO_PASSWORD:-demo-tacnet-2026}
# family_support has no daemon of its own: the generic one serves it (agencies.conf, profile
# generic), told which agency it is by [agency] name.
declare -A DAEMON=([camhs]=tacnet-camhs [school]=tacnet-school [health_visiting]=tacnet-hv [social_care]=tacnet-social-care [family_support]=tacnet-agency)
PIDS=()

stop_all() {
    trap - INT TERM EXIT
    echo
    echo "run: stopping..."
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "run: stopped; state kept under $RUN (rm -rf it to start afresh)"
}
trap stop_all INT TERM EXIT

mkdir -p "$RUN/conf" "$RUN/log"
if [ ! -f "$RUN/partnership/roster.bin" ]; then
    TACNET_DEPLOY="$ROOT/deploy" "$BIN/tacnet" provision --out "$RUN/partnership"
fi
cat > "$RUN/conf/broker.conf" <<CONF
[broker]
bind = tcp://127.0.0.1:${TACNET_BROKER_PORT:-7750}
data_dir = $RUN/broker
roster = $RUN/partnership/roster.bin
root_key = $RUN/partnership/root.pub
key = $RUN/partnership/keys/broker.key
holidays = $ROOT/deploy/bank-holidays-england-wales.txt
CONF
"$BIN/tacnet-broker" --config "$RUN/conf/broker.conf" 2>"$RUN/log/broker.log" &
PIDS+=($!)
for i in $(seq 50); do [ -f "$RUN/broker/endpoint" ] && break; sleep 0.1; done
[ -f "$RUN/broker/endpoint" ] || { echo "run: broker did not start:"; cat "$RUN/log/broker.log"; exit 1; }

for a in "${AGENCIES[@]}"; do
    cat > "$RUN/conf/$a.conf" <<CONF
[agency]
name = $a
data_dir = $RUN/$a
broker_endpoint_file = $RUN/broker/endpoint
roster = $RUN/partnership/roster.bin
root_key = $RUN/partnership/root.pub
key = $RUN/partnership/keys/$a.key
gazetteer = $ROOT/deploy/gazetteer
holidays = $ROOT/deploy/bank-holidays-england-wales.txt
[http]
port = ${HTTP_PORT[$a]}
time_zone = Europe/London
CONF
    "$BIN/${DAEMON[$a]}" --config "$RUN/conf/$a.conf" 2>"$RUN/log/$a.log" &
    PIDS+=($!)
done
for a in "${AGENCIES[@]}"; do
    for i in $(seq 50); do [ -S "$RUN/$a/api.sock" ] && break; sleep 0.1; done
    [ -S "$RUN/$a/api.sock" ] || { echo "run: $a did not start:"; cat "$RUN/log/$a.log"; exit 1; }
done
echo "run: broker $(cat "$RUN/broker/endpoint") and ${#AGENCIES[@]} agencies up; logs in $RUN/log"

export TACNET_HOME=$RUN
# The password goes to the command through a file (0600), never on a command line.
umask 077
printf '%s\n' "$DEMO_PASSWORD" > "$RUN/conf/demo-password"
for a in "${AGENCIES[@]}"; do
    set -- ${DEMO_USER[$a]}
    "$BIN/tacnet" user add --replace --agency "$a" --initials "$1" --role "$2" \
        --password-file "$RUN/conf/demo-password" >/dev/null
done
if [ -f "$SCENARIO" ] && [ ! -f "$RUN/scenario.done" ]; then
    "$ROOT/scripts/play-scenario.sh" "$BIN/tacnet" "$SCENARIO"
    touch "$RUN/scenario.done"
fi
sleep 1
for a in "${AGENCIES[@]}"; do
    echo
    echo "================ what $a sees ================"
    for ref in $("$BIN/tacnet" --agency "$a" --json cases | python3 -c 'import json,sys; [print(c["case_ref"]) for c in json.load(sys.stdin).get("cases",[])]' 2>/dev/null); do
        "$BIN/tacnet" --agency "$a" case "$ref" || true
    done
done
"$BIN/tacnet" broker status --data-dir "$RUN/broker" || true
echo
"$BIN/tacnet" broker report --data-dir "$RUN/broker" || true
"$BIN/tacnet" broker report --data-dir "$RUN/broker" --html "$RUN/partnership-report.html" &&
    echo "run: the partnership's page: $RUN/partnership-report.html" || true
echo
echo "run: dashboards (demo password: $DEMO_PASSWORD, invented for this demo):"
for a in "${AGENCIES[@]}"; do
    set -- ${DEMO_USER[$a]}
    printf 'run:   %-16s http://127.0.0.1:%s/   log in as %s (%s)\n' "$a" "${HTTP_PORT[$a]}" "$1" "$2"
done
echo
echo "run: everything is up. Try: TACNET_HOME=$RUN $BIN/tacnet --agency school cases"
echo "run: Ctrl-C stops the broker and the ${#AGENCIES[@]} daemons."
wait
