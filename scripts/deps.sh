#!/usr/bin/env bash
# Install the Debian packages one part of tacnet needs, by set:
#   build        compile the binaries (`make`)
#   run          build + what `make run` uses (python3 for the scenario scripts)
#   test         build + Criterion and what the integration tests start (`make test`: python3
#                with zmq and protobuf, and protoc, for the Python example)
#   format       clang-format (`make format`, `make format-check`)
#   browser      build + Chromium and node/npm (`make test-browser`)
#   bench        build + mosquitto and its client library, python3 for the report (`make bench`)
#   fuzz         build + clang with libFuzzer (`make fuzz-build`, `make fuzz`)
#   valgrind     test + valgrind and mdb_stat (`make test-valgrind`)
#   reliability  test + fuzz + tcpdump, tc/ip (network namespaces) and mdb_stat, openssl and
#                curl (T29 makes a certificate and speaks HTTPS to a daemon)
#                (`make test-reliability`)
#   all          every set (CI)
# Usage: scripts/deps.sh [SET...] (no set: all).
# Idempotent: does nothing when every package is present. When not root and something is
# missing, prints the exact apt-get command and exits 1.
set -euo pipefail

# The dashboard's HTTPS ([http] cert, key) is libmicrohttpd's own: Debian builds it with GnuTLS
# (libmicrohttpd12 depends on libgnutls30), so no further package is needed to build or run it.
BUILD=(build-essential pkg-config libzmq3-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev
    libsodium-dev libmicrohttpd-dev libjansson-dev libinih-dev libnats-dev)
# tzdata: the zones [http] time_zone names (the dashboard and the CLI; test_zone reads London's).
RUN=(python3 tzdata)
# systemd: make test verifies the installed units with systemd-analyze (test_install).
TEST=(libcriterion-dev tzdata python3 python3-zmq python3-protobuf protobuf-compiler systemd nats-server)
FORMAT=(clang-format)
BROWSER=(chromium)
BENCH=(mosquitto libmosquitto-dev python3)
FUZZ=(clang)
VALGRIND=(valgrind lmdb-utils)
RELIABILITY=(tcpdump iproute2 lmdb-utils openssl curl)

PKGS=()
node=0
add_set() {
    case "$1" in
    build) PKGS+=("${BUILD[@]}") ;;
    run) PKGS+=("${BUILD[@]}" "${RUN[@]}") ;;
    test) PKGS+=("${BUILD[@]}" "${TEST[@]}") ;;
    format) PKGS+=("${FORMAT[@]}") ;;
    browser)
        PKGS+=("${BUILD[@]}" "${BROWSER[@]}")
        node=1
        ;;
    bench) PKGS+=("${BUILD[@]}" "${BENCH[@]}") ;;
    fuzz) PKGS+=("${BUILD[@]}" "${FUZZ[@]}") ;;
    valgrind) PKGS+=("${BUILD[@]}" "${TEST[@]}" "${VALGRIND[@]}") ;;
    reliability) PKGS+=("${BUILD[@]}" "${TEST[@]}" "${FUZZ[@]}" "${RELIABILITY[@]}") ;;
    all)
        for s in build run test format browser bench fuzz valgrind reliability; do
            add_set "$s"
        done
        ;;
    *)
        echo "deps.sh: unknown set '$1' (build run test format browser bench fuzz valgrind reliability all)" >&2
        exit 2
        ;;
    esac
}
if [ $# -eq 0 ]; then
    add_set all
fi
for s in "$@"; do
    add_set "$s"
done
# make test-browser runs playwright-core from npm: Debian's nodejs and npm, unless a node and
# npm are already installed (another nodejs package conflicts with Debian's npm).
if [ $node = 1 ] && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
    PKGS+=(nodejs npm)
fi

missing=()
for p in $(printf '%s\n' "${PKGS[@]}" | sort -u); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
    echo "deps.sh: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh package lists once if they are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
    apt-get update -q >&2
fi
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
