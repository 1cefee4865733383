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
			check "$tag: offload on" grep -q "msg=Offload tun=tso4+csum udpGro=true udpGso=true" "$la"
			check "$tag: a cut super-segments" [ "$(stat "$la" tunSuper)" -gt 0 ]
			check "$tag: a sent UDP_SEGMENT runs" [ "$(stat "$la" udpTxMsgs)" -lt "$(stat "$la" udpTx)" ]
			check "$tag: b joined segments" [ "$(stat "$lb" groJoined)" -gt 0 ]
			check "$tag: b read GRO messages" [ "$(stat "$lb" udpRxMsgs)" -lt "$(stat "$lb" udpRx)" ]
		else
			check "$tag: offload off" grep -q "msg=Offload tun=off udpGro=false udpGso=false" "$la"
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
check "busy_poll: SIGTERM stops the polling loop" grep -q 'msg="Caught signal, shutting down" signal=terminated' "a2-$(basename "$NODE")-chachapoly.log"
NODE_TUN_EXTRA="  offload: false" NODE_LISTEN_EXTRA="  offload: false" \
	OFFLOAD=off run_pair "$NODE" "$NODE" aes
run_pair "$NODE" /usr/bin/nebula aes
run_pair /usr/bin/nebula "$NODE" aes
run_pair "$NODE" /usr/bin/nebula chachapoly

# logging.format: json (cairn(8), LOGGING), ours and Nebula's, each in
# both roles (a initiates): every line of ours is one JSON object; the
# handshake's lines have vpnIp, certName and handshake.stage as keys of
# their own, and the lines of a tunnel's life have the keys (and the
# types) of Nebula's own lines for the same events.  The misspelled key
# in a's file is warned about in JSON too, though it is read before the
# format is known.
JL="python3 $E2E_TOP/test/e2e/jsonlog.py"
json_pair() { # IMPL_A IMPL_B TAG
	local pa pb
	node_config a.yml a 4242 aes "192.168.77.2=10.55.0.2:4242"
	node_config b.yml b 4242 aes "192.168.77.1=10.55.0.1:4242"
	sed -i 's/^  level: info$/&\n  format: json/' a.yml b.yml
	echo "firwall: {}" >>a.yml
	pa=$(spawn "$A" "a-json-$3.log" "$1" -config a.yml)
	pb=$(spawn "$B" "b-json-$3.log" "$2" -config b.yml)
	wait_for 5 ip netns exec "$A" ip link show | grep -q neb
	wait_for 5 ip netns exec "$B" ip link show | grep -q neb
	sleep 0.5
	check "json $3: ping a->b" ip netns exec "$A" ping -c 2 -i 0.2 -W 2 192.168.77.2
	# a stops first: b logs its closeTunnel
	stop_pids "$pa"; sleep 0.3
	stop_pids "$pb"
	wait_for 5 tun_gone "$A"
	wait_for 5 tun_gone "$B"
}
json_pair "$NODE" /usr/bin/nebula 1 # ours initiates, Nebula responds
json_pair /usr/bin/nebula "$NODE" 2 # and the other way round
check "json: every line of ours parses (initiator)" $JL parse a-json-1.log
check "json: every line of ours parses (responder)" $JL parse b-json-2.log
check "json: the config warning is a JSON line with file, line, key" \
	$JL has a-json-1.log "Unknown configuration key" key=firwall didYouMean=firewall "line=$(grep -n '^firwall:' a.yml | cut -d: -f1)"
check "json: the handshake line: vpnIp, certName, handshake.stage as keys" \
	$JL has a-json-1.log "Handshake message received" vpnIp=192.168.77.2 certName=b handshake.stage=2 handshake.style=ix_psk0 udpAddr.ip=10.55.0.2 udpAddr.port=4242
for m in "Handshake message sent:1" "Handshake message received:2"; do
	check "json: initiator's \"${m%:*}\" (stage ${m#*:}) has Nebula's keys" \
		$JL same a-json-1.log a-json-2.log "${m%:*}" "${m#*:}"
done
for m in "Handshake message received:1" "Handshake message sent:2"; do
	check "json: responder's \"${m%:*}\" (stage ${m#*:}) has Nebula's keys" \
		$JL same b-json-2.log b-json-1.log "${m%:*}" "${m#*:}"
done
check "json: \"Close tunnel received, tearing down.\" has Nebula's keys" \
	$JL same b-json-2.log b-json-1.log "Close tunnel received, tearing down."
check "json: \"Caught signal, shutting down\" has Nebula's keys" \
	$JL same a-json-1.log a-json-2.log "Caught signal, shutting down"
check "json: \"Nebula interface is active\" has Nebula's keys (and cipher)" \
	$JL covers a-json-1.log a-json-2.log "Nebula interface is active"

# A clean shutdown sends closeTunnel: the real Nebula logs it.
check "our node's SIGTERM sends closeTunnel to Nebula" grep -q "Close tunnel received" b-nebula-chachapoly.log
if [ "$E2E_FAIL" -ne 0 ]; then for f in *.log; do echo "# --- $f"; tail -15 "$f" | diag; done; fi
e2e_done
