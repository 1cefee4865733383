#!/bin/bash
# e2e: tunnels between our nodes, and between ours and the real Nebula
# 1.6.1, in network namespaces: ping both ways, a TCP transfer whose
# sha256 matches on both ends and a UDP datagram, for both ciphers and
# each side initiating; between our nodes with offload on (the stats must
# show TCP super-segments cut, UDP_SEGMENT sends and joined segments)
# and off.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
command -v nebula >/dev/null || { echo "not ok 1 - nebula is not installed"; exit 1; }

"$CT" ca -name e2e-ca -duration 10h >/dev/null
for h in a b; do "$CT" sign -name "$h" -ip "192.168.77.$([ $h = a ] && echo 1 || echo 2)/24" -groups test; done
A=$(ns a); B=$(ns b)
link "$A" 10.55.0.1/24 "$B" 10.55.0.2/24
head -c 20000000 /dev/urandom >blob

# transfer FROM_NS TO_NS TO_IP: send blob over TCP, compare checksums.
transfer() { tcp_transfer "$1" "$2" "$3" blob; }

# udp_check FROM_NS TO_NS TO_IP: one 1200-byte datagram crosses intact
# (its checksum, finished by the sender from the kernel's partial sum
# under offload, must satisfy the receiving kernel).
udp_check() {
	local from=$1 to=$2 ip=$3 port=$((30000 + RANDOM % 10000))
	rm -f urecv
	head -c 1200 blob >usent
	ip netns exec "$to" timeout 10 nc -u -l -W 1 "$ip" "$port" >urecv &
	local lp=$!
	E2E_PIDS+=("$lp")
	wait_for 5 ip netns exec "$to" ss -lun "sport = :$port" | grep -q "$port"
	ip netns exec "$from" timeout 5 nc -u -w 1 "$ip" "$port" <usent
	wait "$lp"
	cmp -s urecv usent
}

# tun_gone NS: no device of ours is left in the namespace.
tun_gone() { ! ip -n "$1" link show | grep -q neb; }

# stat LOG KEY: the last value of KEY in the node's stats lines.
stat() { grep -o "$2=[0-9]*" "$1" | tail -1 | cut -d= -f2; }

# run_pair IMPL_A IMPL_B CIPHER: start both, test both directions, stop.
# OFFLOAD=on|off: for two of our nodes, what their stats must show.
run_pair() {
	local ia=$1 ib=$2 c=$3 pa pb na nb
	na=$(basename "$ia") nb=$(basename "$ib")
	node_config a.yml a 4242 "$c" "192.168.77.2=10.55.0.2:4242"
	node_config b.yml b 4242 "$c" "192.168.77.1=10.55.0.1:4242"
	pa=$(spawn "$A" "a-$na-$c.log" "$ia" -config a.yml)
	pb=$(spawn "$B" "b-$nb-$c.log" "$ib" -config b.yml)
	local tag="$na->$nb $c"
	wait_for 5 ip netns exec "$A" ip link show | grep -q neb
	sleep 0.5
	check "$tag: ping a->b (a initiates)" ip netns exec "$A" ping -c 3 -i 0.2 -W 2 192.168.77.2
	check "$tag: ping b->a" ip netns exec "$B" ping -c 3 -i 0.2 -W 2 192.168.77.1
	check "$tag: 20 MB TCP a->b, sha256 matches" transfer "$A" "$B" 192.168.77.2
	check "$tag: 20 MB TCP b->a, sha256 matches" transfer "$B" "$A" 192.168.77.1
	check "$tag: UDP datagram a->b" udp_check "$A" "$B" 192.168.77.2
	check "$tag: UDP datagram b->a" udp_check "$B" "$A" 192.168.77.1
	if [ -n "${OFFLOAD:-}" ]; then
		kill -USR1 "$pa" "$pb"
		sleep 0.3
		local la="a-$na-$c.log" lb="b-$nb-$c.log"
		if [ "$OFFLOAD" = on ]; then
			check "$tag: offload on" grep -q "Offload: tun=tso4+csum udp_gso=on udp_gro=on" "$la"
			check "$tag: a cut super-segments" [ "$(stat "$la" tunSuper)" -gt 0 ]
			check "$tag: a sent UDP_SEGMENT runs" [ "$(stat "$la" udpTxMsgs)" -lt "$(stat "$la" udpTx)" ]
			check "$tag: b joined segments" [ "$(stat "$lb" groJoined)" -gt 0 ]
			check "$tag: b read GRO messages" [ "$(stat "$lb" udpRxMsgs)" -lt "$(stat "$lb" udpRx)" ]
		else
			check "$tag: offload off" grep -q "Offload: tun=off udp_gso=off udp_gro=off" "$la"
			check "$tag: no super-segments" [ "$(stat "$la" tunSuper)" -eq 0 ]
			check "$tag: one message per datagram" [ "$(stat "$la" udpTxMsgs)" -eq "$(stat "$la" udpTx)" ]
			check "$tag: nothing joined" [ "$(stat "$lb" groJoined)" -eq 0 ]
		fi
	fi
	# a stops first, so that b is there to receive a's closeTunnel.
	stop_pids "$pa"; sleep 0.3
	stop_pids "$pb"
	# The kernel removes a TUN device a moment after its owner exits;
	# the restart below takes the same name.
	wait_for 5 tun_gone "$A"
	wait_for 5 tun_gone "$B"
	# Now b initiates (fresh processes, b pings first).
	pa=$(spawn "$A" "a2-$na-$c.log" "$ia" -config a.yml)
	pb=$(spawn "$B" "b2-$nb-$c.log" "$ib" -config b.yml)
	sleep 1
	check "$tag: ping b->a (b initiates)" ip netns exec "$B" ping -c 3 -i 0.2 -W 2 192.168.77.1
	check "$tag: ping a->b" ip netns exec "$A" ping -c 3 -i 0.2 -W 2 192.168.77.2
	stop_pids "$pa" "$pb"
}

OFFLOAD=on run_pair "$NODE" "$NODE" aes
# with busy polling: the same traffic, and SIGTERM still stops the loop
NODE_LISTEN_EXTRA="  busy_poll: 500us" run_pair "$NODE" "$NODE" chachapoly
check "busy_poll: SIGTERM stops the polling loop" grep -q "Caught signal 15, shutting down" a2-node-chachapoly.log
NODE_TUN_EXTRA="  offload: false" NODE_LISTEN_EXTRA="  offload: false" \
	OFFLOAD=off run_pair "$NODE" "$NODE" aes
run_pair "$NODE" /usr/bin/nebula aes
run_pair /usr/bin/nebula "$NODE" aes
run_pair "$NODE" /usr/bin/nebula chachapoly

# A clean shutdown sends closeTunnel: the real Nebula logs it.
check "our node's SIGTERM sends closeTunnel to Nebula" grep -q "Close tunnel received" b-nebula-chachapoly.log
if [ "$E2E_FAIL" -ne 0 ]; then for f in *.log; do echo "# --- $f"; tail -15 "$f" | diag; done; fi
e2e_done
