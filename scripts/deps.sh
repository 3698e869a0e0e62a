#!/bin/sh
# Install the Debian packages libvmsim needs to build and test, if missing.
# As root this runs apt-get; otherwise it prints the command to run.
set -eu
pkgs="cmake gcc make pkg-config libjansson-dev uthash-dev libcmocka-dev zlib1g-dev parallel"
missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "libvmsim: missing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
else
    echo "run as root:  apt-get update && apt-get install -y$missing"
    exit 1
fi
