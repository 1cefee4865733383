#!/bin/bash
# make demo: the air-gapped CA flow with cairn-cert, step by step, then two
# nodes in network namespaces talking through a tunnel.  Everything it
# makes (scratch files, namespaces, processes) is removed at the end.
set -eo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# Namespaces, veth links, processes and their cleanup come from the e2e
# test library (its EXIT trap kills what it started and deletes the
# namespaces and $E2E_DIR).
source "$top/test/e2e/lib.sh"
ct="$top/bin/cairn-cert"
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
	-groups "web,db,staff,lighthouse" -ips 10.42.0.0/16 -encrypt
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

step "More machines get certificates the same way (keys made on each)"
mv "$work/node/host.key" "$work/node/web1.key"
for spec in db1:10.42.0.12:db laptop1:10.42.0.13:staff lh1:10.42.0.1:lighthouse; do
	IFS=: read -r name ip group <<<"$spec"
	"$ct" keygen -out-key "$work/node/$name.key" -out-pub "$work/laptop/$name.pub"
	(cd "$work/laptop" && "$ct" sign -name "$name" -ip "$ip/16" -groups "$group" \
		-in-pub "$name.pub" -ledger issued.ledger)
	cp "$work/laptop/$name.crt" "$work/node/"
	echo "signed $name ($ip, group $group)"
done
run "$work/laptop" "$ct" ledger -path issued.ledger

step "A network: a lighthouse and three machines on one switch"
lab_switch
declare -A NSOF UL
for spec in lh1:1 web1:11 db1:12 laptop1:13; do
	name=${spec%:*}
	NSOF[$name]=$(ns "$name")
	UL[$name]=192.0.2.${spec#*:}
	attach "${NSOF[$name]}" "${UL[$name]}/24"
	echo "$name: underlay ${UL[$name]}, overlay 10.42.0.${spec#*:}"
done
# Every machine knows only the lighthouse; db1 accepts PostgreSQL only
# from the web group, and everyone accepts ping.
for name in lh1 web1 db1 laptop1; do
	{
		echo "pki: {ca: $work/node/ca.crt, cert: $work/node/$name.crt, key: $work/node/$name.key}"
		if [ "$name" = lh1 ]; then
			echo "lighthouse: {am_lighthouse: true, serve_dns: true, dns: {host: 0.0.0.0, port: 5353}}"
		else
			echo "static_host_map: {\"10.42.0.1\": [\"192.0.2.1:4242\"]}"
			echo "lighthouse: {am_lighthouse: false, interval: 5, hosts: [\"10.42.0.1\"]}"
		fi
		echo "listen: {host: 0.0.0.0, port: 4242}"
		echo "punchy: {punch: true}"
		echo "tun: {dev: demo$name, mtu: 1300}"
		echo "firewall:"
		echo "  outbound: [{port: any, proto: any, host: any}]"
		echo "  inbound:"
		echo "    - {port: any, proto: icmp, host: any}"
		[ "$name" = db1 ] && echo "    - {port: 5432, proto: tcp, group: web}"
		[ "$name" = web1 ] && echo "    - {port: any, proto: tcp, host: any}"
	} >"$work/node/$name.yml"
done
run "$work/node" cat db1.yml
declare -A PIDOF
PIDOF[lh1]=$(spawn "${NSOF[lh1]}" "$work/lh1.log" "$top/bin/cairn-lighthouse" -config "$work/node/lh1.yml")
sleep 0.3
for name in web1 db1 laptop1; do
	PIDOF[$name]=$(spawn "${NSOF[$name]}" "$work/$name.log" "$top/bin/cairn" -config "$work/node/$name.yml")
done
wait_for 5 ip netns exec "${NSOF[web1]}" ip link show demoweb1 || {
	echo "node did not start:"; cat "$work/web1.log"; exit 1; }
sleep 1
echo "started: lighthouse (pid ${PIDOF[lh1]}), web1, db1, laptop1"

step "Who registered with the lighthouse"
grep -hE 'msg="Handshake message (received|sent)" certName=[^ ]+ .*stage:2 ' "$work/lh1.log" |
	sed 's/^time="[^"]*" level=info //; s/ durationNs=.*udpAddr=\| fingerprint=.*udpAddr=/ udpAddr=/'

step "web1 pings db1: it asks the lighthouse where db1 is, then goes direct"
ip netns exec "${NSOF[web1]}" ping -c 3 -i 0.3 10.42.0.12
grep -hE 'msg="Handshake message sent" .*vpnIp=10.42.0.12$|msg="Handshake message received" certName=db1 ' "$work/web1.log" |
	sed 's/^time="[^"]*" level=info //; s/ durationNs=.*udpAddr=/ udpAddr=/; s/ initiatorIndex=[0-9]*//'

step "The lighthouse also answers DNS for certificate names"
ip netns exec "${NSOF[web1]}" python3 "$top/test/e2e/dnsq.py" 192.0.2.1 5353 db1 A |
	sed 's/^/db1. A /'

step "A 10 MB transfer web1 -> db1 on the PostgreSQL port (allowed for group web)"
head -c 10000000 /dev/urandom >"$work/blob"
ip netns exec "${NSOF[db1]}" timeout 20 nc -l -d 10.42.0.12 5432 >"$work/got" &
lp=$!
sleep 0.5
ip netns exec "${NSOF[web1]}" timeout 20 nc -N 10.42.0.12 5432 <"$work/blob"
wait "$lp"
echo "sent:     $(sha256sum <"$work/blob" | cut -c1-64)"
echo "received: $(sha256sum <"$work/got" | cut -c1-64)"
cmp -s "$work/blob" "$work/got" && echo "identical"

step "laptop1 (group staff) may ping db1, but db1's firewall refuses its PostgreSQL"
ip netns exec "${NSOF[laptop1]}" ping -c 2 -i 0.3 10.42.0.12 | tail -2
if ip netns exec "${NSOF[laptop1]}" timeout 3 nc -z -w 2 10.42.0.12 5432; then
	echo "unexpected: connected"
else
	echo "laptop1 -> db1:5432: no connection (dropped by db1's firewall)"
fi
kill -USR1 "${PIDOF[db1]}"
sleep 0.3
grep -ho "fwInDrop=[0-9]*" "$work/db1.log" | tail -1 | sed 's/^/db1 counted: /'

step "Stop: SIGTERM sends closeTunnel to the peers"
kill -TERM "${PIDOF[web1]}"
wait "${PIDOF[web1]}" 2>/dev/null || true
sleep 0.3
grep -h "Close tunnel received" "$work/db1.log" | sed 's/^time="[^"]*" level=info //'
echo
echo "Demo done; namespaces, processes and scratch files are removed."
