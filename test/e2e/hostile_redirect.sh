#!/bin/bash
# e2e: an unauthenticated stranger X must not move a tunnel.  A has
# preferred_ranges covering X's link, not B's.  Two paths:
#  1. A initiated the tunnel to B.  X sends A a bare handshake header
#     with counter 2 and A's local index (a "late message 2"): before the
#     fix A moved the tunnel to X without any authentication.
#  2. A responded to B's handshake and keeps B's message 1 until B's
#     first data packet.  B's outbound firewall passes only ICMP, so the
#     UDP datagram that starts B's handshake is dropped after it and A
#     keeps message 1; X replays a sniffed copy of it.
# Either way, while A then pings B, X must receive no data packet (type
# 1) and the pings must succeed.  A may probe X with a test request.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
STRANGER="$E2E_TOP/test/e2e/stranger.py"

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.83.1/24
"$CT" sign -name b -ip 192.168.83.2/24
A=$(ns a); B=$(ns b); X=$(ns x)
link "$A" 10.83.1.1/24 "$B" 10.83.1.2/24
link "$A" 10.83.2.1/24 "$X" 10.83.2.2/24
AIP=192.168.83.1 BIP=192.168.83.2
aif=$(ip -n "$A" -o -4 addr show | awk '$4 == "10.83.1.1/24" { print $2 }')

pa= pb=
restart() { # A_LOG B_LOG
	[ -n "$pa$pb" ] && stop_pids $pa $pb
	pa=$(spawn "$A" "$1" "$NODE" -config a.yml)
	pb=$(spawn "$B" "$2" "$NODE" -config b.yml)
	wait_for 5 grep -q "Nebula interface is active" "$1" &&
		wait_for 5 grep -q "Nebula interface is active" "$2"
}
# stranger_run OUT MODE ARGS...: X sends, then listens for 4 s.
stranger_run() {
	local out=$1; shift
	spawn "$X" "$out" python3 "$STRANGER" "$@" >/dev/null
	wait_for 5 grep -q "^sent " "$out"
}
# no_data OUT: X received no type-1 packet.
no_data() { wait_for 8 grep -q "^done" "$1" && grep -qx "type1 0" "$1"; }
show() { # OUT ALOG
	diag "$1"
	grep -v "Handshake message sent" "$2" | tail -12 | diag
}

# 1. A is the initiator: a forged late message 2.
node_config a.yml a 4242 aes "$BIP=10.83.1.2:4242"
echo 'preferred_ranges: ["10.83.2.0/24"]' >>a.yml
node_config b.yml b 4242 aes
check "initiator: nodes started" restart a1.log b1.log
check "initiator: A pings B (A starts the tunnel)" ip netns exec "$A" ping -c 2 -i 0.2 -W 2 $BIP
idx=$(sed -n 's/.*msg="Handshake message received" certName=b .*stage:2 .*initiatorIndex=\([0-9]*\) .*/\1/p' a1.log | tail -1)
check "initiator: A logged its local index for the tunnel (${idx:-none})" test -n "$idx"
check "initiator: X sent the forged header (type 0, counter 2, index ${idx:-?})" \
	stranger_run x1.out forge 10.83.2.2 10.83.2.1:4242 "${idx:-0}" 4
sleep 0.3
check "initiator: A still pings B" ip netns exec "$A" ping -c 5 -i 0.2 -W 1 $BIP
check "initiator: X received no data packet from A" no_data x1.out
check_not "initiator: A did not roam the tunnel to X" grep -q 'msg="Host roamed to new udp ip/port." .*newAddr="10.83.2.2:' a1.log
[ "$E2E_FAIL" -ne 0 ] && show x1.out a1.log
fails=$E2E_FAIL

# 2. A is the responder: B's message 1 replayed from X's address.
node_config a.yml a 4242 aes
echo 'preferred_ranges: ["10.83.2.0/24"]' >>a.yml
node_config b.yml b 4242 aes "$AIP=10.83.1.1:4242"
sed -i '/^firewall:/,$d' b.yml
cat >>b.yml <<'EOF'
firewall:
  outbound: [{port: any, proto: icmp, host: any}]
  inbound: [{port: any, proto: icmp, host: any}]
EOF
check "responder: nodes started" restart a2.log b2.log
spawn "$A" sniff.out python3 "$STRANGER" sniff "$aif" 4242 msg1.bin 10 >/dev/null
check "responder: sniffer ready on A's link to B" wait_for 5 grep -qx ready sniff.out
# B's handshake starts for a UDP datagram that B's firewall then drops
ip netns exec "$B" bash -c "echo start >/dev/udp/$AIP/9"
check "responder: B's message 1 captured" wait_for 5 grep -q "^captured" sniff.out
check "responder: A answered B (A is the responder)" \
	wait_for 5 grep -q 'msg="Handshake message sent" certName=b .*stage:2 ' a2.log
check "responder: X replayed B's message 1" \
	stranger_run x2.out replay 10.83.2.2 10.83.2.1:4242 msg1.bin 4
sleep 0.3
check "responder: A pings B" ip netns exec "$A" ping -c 5 -i 0.2 -W 1 $BIP
check "responder: X received no data packet from A" no_data x2.out
check_not "responder: A did not roam the tunnel to X" grep -q 'msg="Host roamed to new udp ip/port." .*newAddr="10.83.2.2:' a2.log
[ "$E2E_FAIL" -gt "$fails" ] && show x2.out a2.log
stop_pids $pa $pb
e2e_done
