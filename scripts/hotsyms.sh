#!/usr/bin/env bash
# scripts/hotsyms.sh - write node/hot.syms, the functions our node runs from
# start-up to an idle tunnel (then those of the data path), for lld's
# --symbol-ordering-file: laid out together they fill few 64 KiB fault-around
# windows, which is most of the daemons' idle RSS (see the Makefile).
#
# Usage: scripts/hotsyms.sh [OUT]     (as root; needs bin/cairn, bin/cairn-cert,
#                                      valgrind, iperf3; default OUT node/hot.syms)
#
# Lab: namespaces hs<pid>-a and hs<pid>-b joined by one veth pair (underlay
# 10.79.0.1/24 and .2, overlay 10.80.0.1/24 and .2), removed at exit.  Node B
# runs plainly, node A under callgrind: one dump once the tunnel is up and
# idle, one at exit after a few pings and a short TCP transfer.  A static
# host given by name (localhost, never contacted) brings in getaddrinfo.
# The list holds the first dump's functions, then the ones only the second
# has (in the order callgrind names them).
# A stale list costs only memory: symbols it names that no longer exist are
# ignored, functions it misses are laid out after the listed ones.
set -u -o pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$TOP/node/hot.syms}
NODE=${NODE_BIN:-$TOP/bin/cairn}
CT=${CERT_TOOL:-$TOP/bin/cairn-cert}
NS_A="hs$$-a" NS_B="hs$$-b"
WD=$(mktemp -d /tmp/hotsyms.XXXXXX)
PA='' PB=''

[[ $(id -u) == 0 ]] || { echo "hotsyms: must run as root" >&2; exit 1; }
for t in valgrind callgrind_control iperf3 ip ping python3; do
	command -v "$t" >/dev/null || { echo "hotsyms: '$t' missing" >&2; exit 1; }
done
[[ -x $NODE && -x $CT ]] || { echo "hotsyms: build first (make)" >&2; exit 1; }

stop() { # pid: TERM, wait up to 30 s (callgrind writes at exit), KILL
	local t
	[[ -n $1 ]] || return 0
	kill -TERM "$1" 2>/dev/null
	for ((t = 0; t < 300; t++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
cleanup() {
	local ns pid
	stop "$PA"; stop "$PB"
	for ns in "$NS_A" "$NS_B"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$WD"
}
trap cleanup EXIT
trap 'exit 130' INT HUP TERM

for ns in "$NS_A" "$NS_B"; do
	ip netns add "$ns" || exit 1
	ip -n "$ns" link set lo up
done
ip -n "$NS_A" link add eth0 type veth peer name eth0 netns "$NS_B" || exit 1
ip -n "$NS_A" addr add 10.79.0.1/24 dev eth0
ip -n "$NS_B" addr add 10.79.0.2/24 dev eth0
ip -n "$NS_A" link set eth0 up
ip -n "$NS_B" link set eth0 up

mkdir "$WD/pki"
{
	"$CT" ca -name hotsyms-ca -out-crt "$WD/pki/ca.crt" -out-key "$WD/pki/ca.key" &&
	"$CT" sign -ca-crt "$WD/pki/ca.crt" -ca-key "$WD/pki/ca.key" -name a \
		-ip 10.80.0.1/24 -out-crt "$WD/pki/a.crt" -out-key "$WD/pki/a.key" &&
	"$CT" sign -ca-crt "$WD/pki/ca.crt" -ca-key "$WD/pki/ca.key" -name b \
		-ip 10.80.0.2/24 -out-crt "$WD/pki/b.crt" -out-key "$WD/pki/b.key"
} >"$WD/pki/log" 2>&1 || { cat "$WD/pki/log" >&2; exit 1; }

config() { # name peer_overlay peer_underlay
	cat >"$WD/$1.yml" <<EOF
pki:
  ca: $WD/pki/ca.crt
  cert: $WD/pki/$1.crt
  key: $WD/pki/$1.key
static_host_map:
  "$2": ["$3:4242"]
  "10.80.0.3": ["localhost:4242"]
lighthouse:
  am_lighthouse: false
listen:
  host: 0.0.0.0
  port: 4242
punchy:
  punch: true
cipher: aes
tun:
  dev: nebula1
  mtu: 1300
logging:
  level: info
firewall:
  outbound:
    - port: any
      proto: any
      host: any
  inbound:
    - port: any
      proto: any
      host: any
EOF
}
config a 10.80.0.2 10.79.0.2
config b 10.80.0.1 10.79.0.1

ip netns exec "$NS_B" "$NODE" -config "$WD/b.yml" >"$WD/b.log" 2>&1 </dev/null &
PB=$!
ip netns exec "$NS_A" valgrind -q --tool=callgrind --vgdb=yes \
	--callgrind-out-file="$WD/cg.out" "$NODE" -config "$WD/a.yml" \
	>"$WD/a.log" 2>&1 </dev/null &
PA=$!
up=0
for ((t = 0; t < 600; t++)); do
	ip netns exec "$NS_A" ping -c1 -W1 -q 10.80.0.2 >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$PA" 2>/dev/null || break
	sleep 0.1
done
((up)) || { echo "hotsyms: no tunnel" >&2; tail -n 20 "$WD/a.log" "$WD/b.log" >&2; exit 1; }
sleep 3
timeout 60 callgrind_control -d "$PA" >"$WD/ctl.log" 2>&1 ||
	{ echo "hotsyms: callgrind_control -d failed" >&2; cat "$WD/ctl.log" >&2; exit 1; }
ip netns exec "$NS_A" ping -c 20 -i 0.05 -q 10.80.0.2 >/dev/null 2>&1
ip netns exec "$NS_B" iperf3 -s -1 -p 5201 >/dev/null 2>&1 </dev/null &
sp=$!
sleep 0.5
ip netns exec "$NS_A" timeout 120 iperf3 -c 10.80.0.2 -p 5201 -n 2M >/dev/null 2>&1
wait "$sp" 2>/dev/null
stop "$PA"; PA=''

# callgrind names a function once as "fn=(id) name", then "fn=(id)".
python3 - "$OUT" "$WD"/cg.out.1 "$WD"/cg.out <<'PY'
import re, sys
out, parts = sys.argv[1], sys.argv[2:]
seen, order, counts = set(), [], []
for p in parts:
    n0 = len(order)
    for line in open(p):
        m = re.match(r'^c?fn=\(\d+\) (\S+)$', line.rstrip('\n'))
        if not m:
            continue
        name = m.group(1)
        # skip unnamed code and callgrind's recursion/cycle suffixes
        if name.startswith('0x') or "'" in name or name in seen:
            continue
        seen.add(name)
        order.append(name)
    counts.append(len(order) - n0)
with open(out, 'w') as f:
    f.write("# Functions our node runs up to an idle tunnel, then on its data\n"
            "# path: lld --symbol-ordering-file (see the Makefile).\n"
            "# Written by scripts/hotsyms.sh; regenerate after large changes.\n")
    for n in order:
        f.write(n + "\n")
print("hotsyms: %d functions up to an idle tunnel, %d more on the data "
      "path -> %s" % (counts[0], counts[1], out))
PY
