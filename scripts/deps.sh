#!/usr/bin/env bash
# Install the Debian packages tacnet needs to build, test and run.
# Idempotent: does nothing when every package is present. When not root and
# something is missing, prints the exact apt-get command and exits 1.
set -euo pipefail

PKGS=(
    build-essential pkg-config clang-format
    libzmq3-dev libprotobuf-c-dev protobuf-c-compiler
    liblmdb-dev lmdb-utils libsodium-dev libcriterion-dev
    libmicrohttpd-dev libjansson-dev libinih-dev
    python3 python3-zmq python3-protobuf protobuf-compiler
    chromium
    mosquitto libmosquitto-dev
    tcpdump valgrind iproute2
)
# make test-browser runs playwright-core from npm: Debian's nodejs and npm, unless a node and
# npm are already installed (another nodejs package conflicts with Debian's npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
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
