#!/bin/sh
# Install the Debian packages the build and the tests use, if missing.
# Idempotent and quiet when everything is already there.
set -eu
PKGS="build-essential pkg-config libssl-dev libyaml-dev libevent-dev
libcmocka-dev libqrencode-dev libnl-3-dev clang lld libclang-rt-14-dev mandoc nebula iproute2 iperf3
iputils-ping netcat-openbsd procps python3 valgrind nftables systemd
curl libssh-dev openssh-client ansible-core systemd-container python3-apt
debhelper dpkg-dev lintian"
# Debian's prometheus package enables and starts a server on port 9090
# where systemd runs: installed for the metrics test only where it does
# not (CI's containers); elsewhere that test skips the real-Prometheus
# part unless it is installed by hand.
[ -d /run/systemd/system ] || PKGS="$PKGS prometheus"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root; run: sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
