#!/usr/bin/env bash
# make run-ha: `make run` with a replicated journal. Provisions a partnership under run-ha/,
# starts a three-server NATS cluster with JetStream and two brokers with [replication] on
# loopback (a takes the lease and serves, b follows the stream as standby), the five agency
# daemons listing both brokers, plays the scenario, then kills broker a with SIGKILL and shows
# b taking over and a coming back as the standby. Everything keeps running until Ctrl-C.
# TACNET_HA_FAILOVER=0 skips the failover; TACNET_NATS_BASE (14220) and TACNET_BROKER_PORT (7750)
# move the ports (NATS clients base+1..3, routes base+11..13; brokers port and port+1).
set -euo pipefail
umask 027
BIN=${1:-build/default/bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN=${TACNET_RUN:-$ROOT/run-ha}
SCENARIO=${TACNET_SCENARIO:-$ROOT/deploy/scenarios/attendance-to-escalation.txt}
AGENCIES=(camhs school health_visiting social_care family_support)
HTTP_BASE=${TACNET_HTTP_BASE:-8400}
declare -A HTTP_PORT=([camhs]=$((HTTP_BASE + 1)) [school]=$((HTTP_BASE + 2)) [health_visiting]=$((HTTP_BASE + 3)) [social_care]=$((HTTP_BASE + 4)) [family_support]=$((HTTP_BASE + 5)))
declare -A DEMO_USER=([camhs]="RK practitioner" [school]="DL dsl" [health_visiting]="PD practitioner" [social_care]="AW lead_professional" [family_support]="JM practitioner")
DEMO_PASSWORD=${TACNET_DEMO_PASSWORD:-demo-tacnet-2026}
declare -A DAEMON=([camhs]=tacnet-camhs [school]=tacnet-school [health_visiting]=tacnet-hv [social_care]=tacnet-social-care [family_support]=tacnet-agency)
NATS_BASE=${TACNET_NATS_BASE:-14220}
BROKER_PORT=${TACNET_BROKER_PORT:-7750}
declare -A BROKER_EP=([a]=tcp://127.0.0.1:$BROKER_PORT [b]=tcp://127.0.0.1:$((BROKER_PORT + 1)))
declare -A BROKER_PID=() LOG_FROM=()
PIDS=()

command -v nats-server >/dev/null || {
    echo "run-ha: nats-server is not installed (scripts/deps.sh test installs it)"
    exit 1
}

stop_all() {
    trap - INT TERM EXIT
    echo
    echo "run-ha: stopping..."
    for pid in "${PIDS[@]}" "${BROKER_PID[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    echo "run-ha: stopped; state kept under $RUN (rm -rf it to start afresh)"
}
trap stop_all INT TERM EXIT

# Wait up to $3 tenths of a second for file $1 to contain $2.
wait_for() {
    for _ in $(seq "$3"); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

mkdir -p "$RUN/conf" "$RUN/log"
if [ ! -f "$RUN/partnership/roster.bin" ]; then
    TACNET_DEPLOY="$ROOT/deploy" "$BIN/tacnet" provision --out "$RUN/partnership"
fi

# Three NATS servers, one cluster, JetStream on each; loopback only.
# Every config first, then the three servers started together: nats-server 2.9 can leave a
# server that starts after the other two have chosen a leader out of the JetStream metadata
# group for good ("Waiting for routing to be established..."). A server that has seen no
# leader in 15 s is restarted, which lets it join (twice at most).
NATS_URLS=""
for i in 1 2 3; do
    NATS_URLS="$NATS_URLS${NATS_URLS:+,}nats://127.0.0.1:$((NATS_BASE + i))"
    ROUTES=""
    for j in 1 2 3; do
        [ "$j" = "$i" ] || ROUTES="$ROUTES${ROUTES:+, }nats-route://127.0.0.1:$((NATS_BASE + 10 + j))"
    done
    mkdir -p "$RUN/nats-$i"
    cat > "$RUN/conf/nats-$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$((NATS_BASE + i))
max_payload: 8MB
jetstream { store_dir: "$RUN/nats-$i" }
cluster {
  name: tacnet
  listen: 127.0.0.1:$((NATS_BASE + 10 + i))
  routes: [$ROUTES]
}
CONF
done
declare -A NATS_PID=()
start_nats() {
    nats-server -c "$RUN/conf/nats-$1.conf" >>"$RUN/log/nats-$1.log" 2>&1 &
    NATS_PID[$1]=$!
    PIDS+=($!)
}
for i in 1 2 3; do : >"$RUN/log/nats-$i.log"; done
for i in 1 2 3; do start_nats "$i"; done
for i in 1 2 3; do
    for attempt in 1 2 3; do
        wait_for "$RUN/log/nats-$i.log" "metadata leader" 150 && break
        [ "$attempt" = 3 ] && {
            echo "run-ha: NATS server $i did not join the cluster:"
            tail -20 "$RUN/log/nats-$i.log"
            exit 1
        }
        echo "run-ha: NATS server $i saw no metadata leader in 15 s: restarting it"
        kill -TERM "${NATS_PID[$i]}" 2>/dev/null || true
        wait "${NATS_PID[$i]}" 2>/dev/null || true
        mv "$RUN/log/nats-$i.log" "$RUN/log/nats-$i.log.$attempt"
        start_nats "$i"
    done
done
echo "run-ha: NATS cluster up ($NATS_URLS)"

# Start broker $1 (a or b), its log appended to run-ha/log/broker-$1.log.
start_broker() {
    cat > "$RUN/conf/broker-$1.conf" <<CONF
[broker]
bind = ${BROKER_EP[$1]}
data_dir = $RUN/broker-$1
roster = $RUN/partnership/roster.bin
root_key = $RUN/partnership/root.pub
key = $RUN/partnership/keys/broker.key
holidays = $ROOT/deploy/bank-holidays-england-wales.txt
[replication]
nats = $NATS_URLS
node = broker-$1
CONF
    touch "$RUN/log/broker-$1.log"
    LOG_FROM[$1]=$(($(wc -l <"$RUN/log/broker-$1.log") + 1))
    "$BIN/tacnet-broker" --config "$RUN/conf/broker-$1.conf" 2>>"$RUN/log/broker-$1.log" &
    BROKER_PID[$1]=$!
}
# Wait for broker $1 to log role $2 since its latest start (its log from line LOG_FROM).
wait_role() {
    for _ in $(seq 300); do
        tail -n "+${LOG_FROM[$1]}" "$RUN/log/broker-$1.log" | grep -qF "role: $2" && return 0
        kill -0 "${BROKER_PID[$1]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "run-ha: broker $1 did not become $2:"
    tail -20 "$RUN/log/broker-$1.log"
    exit 1
}
start_broker a
wait_role a active
start_broker b
wait_role b standby
echo "run-ha: broker a active on ${BROKER_EP[a]}, broker b standby for ${BROKER_EP[b]}"

for a in "${AGENCIES[@]}"; do
    cat > "$RUN/conf/$a.conf" <<CONF
[agency]
name = $a
data_dir = $RUN/$a
broker = ${BROKER_EP[a]},${BROKER_EP[b]}
roster = $RUN/partnership/roster.bin
root_key = $RUN/partnership/root.pub
key = $RUN/partnership/keys/$a.key
gazetteer = $ROOT/deploy/gazetteer
holidays = $ROOT/deploy/bank-holidays-england-wales.txt
heartbeat_ms = 500
[http]
port = ${HTTP_PORT[$a]}
time_zone = Europe/London
CONF
    "$BIN/${DAEMON[$a]}" --config "$RUN/conf/$a.conf" 2>"$RUN/log/$a.log" &
    PIDS+=($!)
done
for a in "${AGENCIES[@]}"; do
    for _ in $(seq 50); do [ -S "$RUN/$a/api.sock" ] && break; sleep 0.1; done
    [ -S "$RUN/$a/api.sock" ] || { echo "run-ha: $a did not start:"; cat "$RUN/log/$a.log"; exit 1; }
done
echo "run-ha: ${#AGENCIES[@]} agencies up, each listing both brokers; logs in $RUN/log"

export TACNET_HOME=$RUN
umask 077
printf '%s\n' "$DEMO_PASSWORD" > "$RUN/conf/demo-password"
for a in "${AGENCIES[@]}"; do
    set -- ${DEMO_USER[$a]}
    "$BIN/tacnet" user add --agency "$a" --initials "$1" --role "$2" \
        --password-file "$RUN/conf/demo-password" >/dev/null 2>&1 || true
done
if [ -f "$SCENARIO" ] && [ ! -f "$RUN/scenario.done" ]; then
    "$ROOT/scripts/play-scenario.sh" "$BIN/tacnet" "$SCENARIO"
    touch "$RUN/scenario.done"
fi

if [ "${TACNET_HA_FAILOVER:-1}" = 1 ]; then
    echo
    echo "run-ha: kill -9 broker a (pid ${BROKER_PID[a]})"
    t0=$(date +%s%N)
    kill -KILL "${BROKER_PID[a]}"
    wait "${BROKER_PID[a]}" 2>/dev/null || true
    wait_role b active
    t1=$(date +%s%N)
    echo "run-ha: broker b took over in $(((t1 - t0) / 1000000)) ms"
    start_broker a
    wait_role a standby
    echo "run-ha: broker a is back as the standby"
    for a in "${AGENCIES[@]}"; do
        wait_for "$RUN/log/$a.log" "switching to ${BROKER_EP[b]}" 100 &&
            echo "run-ha:   $a follows broker b" ||
            echo "run-ha:   $a has not switched yet (log $RUN/log/$a.log)"
    done
fi
sleep 1
for a in "${AGENCIES[@]}"; do
    echo
    echo "================ what $a sees ================"
    for ref in $("$BIN/tacnet" --agency "$a" --json cases | python3 -c 'import json,sys; [print(c["case_ref"]) for c in json.load(sys.stdin).get("cases",[])]' 2>/dev/null); do
        "$BIN/tacnet" --agency "$a" case "$ref" || true
    done
done
for b in a b; do
    echo
    echo "================ broker $b ================"
    "$BIN/tacnet" broker status --data-dir "$RUN/broker-$b" || true
done
echo
echo "run-ha: dashboards (demo password: $DEMO_PASSWORD, invented for this demo):"
for a in "${AGENCIES[@]}"; do
    set -- ${DEMO_USER[$a]}
    printf 'run-ha:   %-16s http://127.0.0.1:%s/   log in as %s (%s)\n' "$a" "${HTTP_PORT[$a]}" "$1" "$2"
done
echo
echo "run-ha: try kill -9 on the active broker (pids: a ${BROKER_PID[a]}, b ${BROKER_PID[b]}) and watch $RUN/log"
echo "run-ha: Ctrl-C stops the brokers, the daemons and NATS."
wait
