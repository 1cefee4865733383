#!/bin/bash
# make demo: the air-gapped CA flow with cert-tool, step by step, then two
# nodes in network namespaces talking through a tunnel.  Everything it
# makes (scratch files, namespaces, processes) is removed at the end.
set -eo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# Namespaces, veth links, processes and their cleanup come from the e2e
# test library (its EXIT trap kills what it started and deletes the
# namespaces and $E2E_DIR).
source "$top/test/e2e/lib.sh"
ct="$top/bin/cert-tool"
work="$E2E_DIR"
mkdir "$work/laptop" "$work/node"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { # show the command, then run it in the given directory
	local dir=$1; shift
	printf '%s$ %s\n' "$(basename "$dir")" "$*"
	(cd "$dir" && "$@")
}

step "On the air-gapped laptop: create a CA whose key is encrypted at rest"
export NEBULA_CA_PASSPHRASE="demo passphrase (normally typed at the prompt)"
run "$work/laptop" "$ct" ca -name "Demo Org" -duration 8760h \
	-groups "web,db,ops" -ips 10.42.0.0/16 -encrypt
run "$work/laptop" head -n1 ca.key

step "On the node: make a key pair; only the public key leaves the node"
run "$work/node" "$ct" keygen -out-key host.key -out-pub host.pub
cp "$work/node/host.pub" "$work/laptop/web1.pub"

step "On the laptop: sign the node's public key and record it in the ledger"
run "$work/laptop" "$ct" sign -name web1 -ip 10.42.0.11/16 -groups web \
	-in-pub web1.pub -ledger issued.ledger
run "$work/laptop" ls -l
cp "$work/laptop/web1.crt" "$work/laptop/ca.crt" "$work/node/"

step "Print the certificate (text, then the JSON nebula-cert prints)"
run "$work/node" "$ct" print -path web1.crt
run "$work/node" "$ct" print -json -path web1.crt

step "Verify it on the node against the CA"
run "$work/node" "$ct" verify -ca ca.crt -crt web1.crt
echo "verify: exit 0 (silent means valid)"
if command -v nebula-cert >/dev/null; then
	run "$work/node" nebula-cert verify -ca ca.crt -crt web1.crt
	echo "the real nebula-cert 1.6.1 accepts it too"
fi

step "The CA refuses what its constraints do not allow"
run "$work/laptop" "$ct" sign -name rogue -ip 10.43.0.9/16 -groups web ||
	echo "(refused, exit $?)"
run "$work/laptop" "$ct" sign -name rogue -ip 10.42.0.9/16 -groups admin ||
	echo "(refused, exit $?)"

step "Later: find the fingerprint to blocklist from the ledger"
run "$work/laptop" "$ct" ledger -path issued.ledger -name web1

step "A second node, db1, gets its certificate the same way"
run "$work/node" "$ct" keygen -out-key db1.key -out-pub db1.pub
cp "$work/node/db1.pub" "$work/laptop/"
run "$work/laptop" "$ct" sign -name db1 -ip 10.42.0.12/16 -groups db \
	-in-pub db1.pub -ledger issued.ledger
cp "$work/laptop/db1.crt" "$work/node/"
mv "$work/node/host.key" "$work/node/web1.key"

step "Two machines, as network namespaces joined by a virtual cable"
A=$(ns web1)
B=$(ns db1)
link "$A" 192.0.2.11/24 "$B" 192.0.2.12/24
echo "web1: underlay 192.0.2.11, overlay 10.42.0.11"
echo "db1:  underlay 192.0.2.12, overlay 10.42.0.12"
for h in web1 db1; do
	peer=$([ $h = web1 ] && echo "10.42.0.12: [\"192.0.2.12:4242\"]" ||
		echo "10.42.0.11: [\"192.0.2.11:4242\"]")
	cat >"$work/node/$h.yml" <<YAML
pki:
  ca: $work/node/ca.crt
  cert: $work/node/$h.crt
  key: $work/node/$h.key
static_host_map:
  $peer
listen:
  host: 0.0.0.0
  port: 4242
tun:
  dev: demo$h
  mtu: 1300
firewall:
  outbound: [{port: any, proto: any, host: any}]
  inbound: [{port: any, proto: any, host: any}]
YAML
done
run "$work/node" cat web1.yml
pa=$(spawn "$A" "$work/web1.log" "$top/bin/node" -config "$work/node/web1.yml")
pb=$(spawn "$B" "$work/db1.log" "$top/bin/node" -config "$work/node/db1.yml")
wait_for 5 ip netns exec "$A" ip link show demoweb1 || {
	echo "node did not start:"; cat "$work/web1.log"; exit 1; }
echo "started node web1 (pid $pa) and node db1 (pid $pb)"

step "Ping across the tunnel: the first packet triggers the handshake"
ip netns exec "$A" ping -c 4 -i 0.3 10.42.0.12

step "A 10 MB transfer over TCP through the tunnel, checked with sha256"
head -c 10000000 /dev/urandom >"$work/blob"
ip netns exec "$B" timeout 20 nc -l -d 10.42.0.12 5001 >"$work/got" &
lp=$!
sleep 0.5
ip netns exec "$A" timeout 20 nc -N 10.42.0.12 5001 <"$work/blob"
wait "$lp"
echo "sent:     $(sha256sum <"$work/blob" | cut -c1-64)"
echo "received: $(sha256sum <"$work/got" | cut -c1-64)"
cmp -s "$work/blob" "$work/got" && echo "identical"

step "What the nodes logged"
grep -h "Tunnel up\|Handshake message sent" "$work/web1.log" "$work/db1.log" |
	sed 's/^time="[^"]*" //'

step "Stop: SIGTERM sends closeTunnel to the peer"
kill -TERM "$pa"
wait "$pa" 2>/dev/null || true
sleep 0.3
grep -h "Tunnel down" "$work/db1.log" | sed 's/^time="[^"]*" //'
echo
echo "Demo done; namespaces, processes and scratch files are removed."
