#!/bin/bash
# e2e: source spoofing through conntrack.  Victim V has a UDP flow
# (V:5000 -> A:7000) and has pinged A, so its conntrack holds both.  A
# second certificate holder B (evilpeer) sends V, through B's own
# tunnel, a UDP datagram from A:7000 to V:5000 and an ICMP echo reply
# from A to V.  V's firewall must check that an inbound packet's source
# belongs to the sending peer's certificate before any conntrack hit: the
# spoofed packets are dropped (fwInDrop), A's real packets still pass.
# V's inbound rules are empty, so only conntrack lets anything in.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$EVIL"

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name v -ip 192.168.82.1/24
"$CT" sign -name a -ip 192.168.82.2/24
"$CT" sign -name b -ip 192.168.82.3/24
lab_switch
V=$(ns v); A=$(ns a); B=$(ns b)
attach "$V" 10.82.0.1/24
attach "$A" 10.82.0.2/24
attach "$B" 10.82.0.3/24
VIP=192.168.82.1 AIP=192.168.82.2

node_config v.yml v 4242 aes "$AIP=10.82.0.2:4242"
sed -i '/^  inbound:/,$d' v.yml
echo "  inbound: []" >>v.yml # replies to V's own flows only
node_config a.yml a 4242 aes "$VIP=10.82.0.1:4242"
pv=$(spawn "$V" v.log "$NODE" -config v.yml)
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
wait_for 5 grep -q "Nebula interface is active" v.log
wait_for 5 grep -q "Nebula interface is active" a.log

stat() { grep "stats:" v.log | tail -1 | grep -o " $1=[0-9]*" | cut -d= -f2; }
stats_now() {
	local before
	before=$(grep -c "stats:" v.log)
	kill -USR1 "$pv"
	wait_for 3 test "$(grep -c "stats:" v.log)" -gt "$before"
}
# IcmpInEchoReps of V's kernel: echo replies that reached its IP stack.
echo_reps() {
	ip netns exec "$V" awk '/^Icmp:/ {
		if (!h) { for (i = 2; i <= NF; i++) if ($i == "InEchoReps") c = i; h = 1 }
		else print $c }' /proc/net/snmp
}
check "V pings A (the reply enters by conntrack)" ip netns exec "$V" ping -c 2 -i 0.2 -W 2 $AIP
spawn "$A" echo.log python3 "$PROBE" echo $AIP:7000 >/dev/null
listening() { ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .; }
wait_for 5 listening "$A" 7000
spawn "$V" probe.out python3 "$PROBE" probe $VIP:5000 $AIP:7000 4 ready >/dev/null
check "V's UDP flow to A:7000 is answered (conntrack)" \
	wait_for 6 grep -qx "legit 1 reply" probe.out
check "V pings A once more just before the attack" ip netns exec "$V" ping -c 1 -W 2 $AIP
reps0=$(echo_reps)
stats_now
drop0=$(stat fwInDrop)
spoof0=$(stat rxSpoofed)

ip netns exec "$B" timeout 30 "$EVIL" -ca ca.crt -cert b.crt -key b.key \
	-target 10.82.0.1:4242 udp $AIP:7000 $VIP:5000 SPOOFED-UDP \
	icmpreply $AIP $VIP 4321 1 sleep 500 >evil.out 2>&1
check "evilpeer (b, 192.168.82.3) completed its handshake with V" grep -q "^handshake ok peer=v " evil.out
check "evilpeer sent the spoofed packets" grep -qx "sent icmpreply" evil.out
reps1=$(echo_reps)
stats_now
drop1=$(stat fwInDrop)
spoof1=$(stat rxSpoofed)

wait_for 8 grep -q "^legit 2 " probe.out
check_not "V's socket did not get the UDP datagram spoofed from A:7000" grep -q SPOOFED probe.out
if [ "${reps1:-x}" = "${reps0:-y}" ]; then
	ok "V's kernel got no spoofed echo reply (IcmpInEchoReps $reps0 -> $reps1)"
else
	not_ok "V's kernel got no spoofed echo reply (IcmpInEchoReps ${reps0:-?} -> ${reps1:-?})"
fi
if [ $(( ${drop1:-0} - ${drop0:-0} )) -ge 2 ]; then
	ok "V's firewall dropped both (fwInDrop $drop0 -> $drop1)"
else
	not_ok "V's firewall dropped both (fwInDrop ${drop0:-?} -> ${drop1:-?})"
fi
if [ $(( ${spoof1:-0} - ${spoof0:-0} )) -eq 2 ]; then
	ok "both counted as spoofed (rxSpoofed $spoof0 -> $spoof1)"
else
	not_ok "both counted as spoofed (rxSpoofed ${spoof0:-?} -> ${spoof1:-?})"
fi
check "A's real datagrams still pass after the attack" grep -qx "legit 2 reply" probe.out
check "V still pings A" ip netns exec "$V" ping -c 2 -i 0.2 -W 2 $AIP
check "V is still running" alive "$pv"
if [ "$E2E_FAIL" -ne 0 ]; then diag evil.out; diag probe.out; grep -v "Handshake message sent" v.log | tail -15 | diag; fi
stop_pids "$pv" "$pa"
e2e_done
