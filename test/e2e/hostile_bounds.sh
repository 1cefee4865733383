#!/bin/bash
# e2e: bounds on what peers and local traffic can make a node hold.
#  a. handshakes.max_pending: a node that can reach nobody gets packets
#     for 2,000 distinct overlay IPs from its own TUN; at most 200
#     handshakes are pending, the rest are refused (hsPendingFull=, a
#     rate-limited "pending handshake limit" warning), and its RSS stays
#     small.
#  b. firewall.conntrack.max_per_tunnel: an authenticated peer (evilpeer)
#     opens 2,000 UDP flows to V, whose share is 500: V's table stays
#     near 500 (conntrack=), the rest are refused (fwPeerFull=), and a
#     legitimate peer's new flow still gets through.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$EVIL"

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name p -ip 172.20.0.1/16
"$CT" sign -name v -ip 172.21.0.1/24
"$CT" sign -name a -ip 172.21.0.2/24
"$CT" sign -name e -ip 172.21.0.66/24

# stat LOG KEY: KEY's value in LOG's last stats line (empty if none).
stat() { grep "stats:" "$1" | tail -1 | grep -o " $2=[0-9]*" | cut -d= -f2; }
stats_now() { # PID LOG
	local before
	before=$(grep -c "stats:" "$2")
	kill -USR1 "$1" 2>/dev/null || return 1
	wait_for 3 test "$(grep -c "stats:" "$2")" -gt "$before"
}
# cmp_stat LOG KEY OP N DESC: one TAP line for KEY OP N.
cmp_stat() {
	local v
	v=$(stat "$1" "$2")
	if [ -n "$v" ] && [ "$v" "$3" "$4" ]; then ok "$5 ($2=$v)"; else not_ok "$5 ($2=${v:-absent})"; fi
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
listening() { ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .; }
logged() { grep -q "$2" "$1"; }

# a. Pending handshakes.
P=$(ns p)
node_config p.yml p 4242 aes
sed -i 's/^  retries: 10$/&\n  max_pending: 200/' p.yml
check "max_pending: config accepted" ip netns exec "$P" "$NODE" -config p.yml -test
pp=$(spawn "$P" p.log "$NODE" -config p.yml)
wait_for 5 grep -q "Nebula interface is active" p.log
check "max_pending: node started" alive "$pp"
check "max_pending: 2000 datagrams to 2000 overlay IPs sent into the TUN" \
	ip netns exec "$P" timeout 20 python3 "$PROBE" flood 2000 172.20.1.0 9
sleep 0.5
check "max_pending: stats dumped on SIGUSR1" stats_now "$pp" p.log
cmp_stat p.log pending -le 200 "max_pending: at most 200 handshakes pending"
cmp_stat p.log hsPendingFull -ge 1 "max_pending: the others were refused and counted"
cmp_stat p.log hsStarted -ge 100 "max_pending: handshakes did start"
check "max_pending: the limit was logged" logged p.log "pending handshake limit"
r=$(rss_kb "$pp")
if [ -n "$r" ] && [ "$r" -lt 65536 ]; then ok "max_pending: RSS under 64 MiB (${r} kB)"; else not_ok "max_pending: RSS under 64 MiB (${r:-?} kB)"; fi
check "max_pending: node still running" alive "$pp"
[ "$E2E_FAIL" -ne 0 ] && grep -v "Handshake message sent" p.log | tail -8 | diag
stop_pids "$pp"
fails=$E2E_FAIL

# b. The conntrack share of one tunnel.
lab_switch
V=$(ns v); A=$(ns a); E=$(ns e)
attach "$V" 10.84.0.1/24
attach "$A" 10.84.0.2/24
attach "$E" 10.84.0.66/24
node_config v.yml v 4242 aes "172.21.0.2=10.84.0.2:4242"
printf '  conntrack:\n    max_per_tunnel: 500\n' >>v.yml
node_config a.yml a 4242 aes "172.21.0.1=10.84.0.1:4242"
check "max_per_tunnel: config accepted" ip netns exec "$V" "$NODE" -config v.yml -test
pv=$(spawn "$V" v.log "$NODE" -config v.yml)
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
wait_for 5 grep -q "Nebula interface is active" v.log
wait_for 5 grep -q "Nebula interface is active" a.log
spawn "$V" echo.log python3 "$PROBE" echo 172.21.0.1:7000 >/dev/null
wait_for 5 listening "$V" 7000
ip netns exec "$E" timeout 40 "$EVIL" -ca ca.crt -cert e.crt -key e.key \
	-target 10.84.0.1:4242 flows 172.21.0.1:9 2000 sleep 300 >evil.out 2>&1
check "max_per_tunnel: evilpeer completed its handshake with V" grep -q "^handshake ok peer=v " evil.out
check "max_per_tunnel: evilpeer sent 2000 flows" grep -qx "sent flows 2000" evil.out
ip netns exec "$A" timeout 20 python3 "$PROBE" probe 172.21.0.2:5000 172.21.0.1:7000 0 ready >probe.out 2>&1
check "max_per_tunnel: a legitimate peer's new flow still gets through" grep -qx "legit 1 reply" probe.out
check "max_per_tunnel: stats dumped on SIGUSR1" stats_now "$pv" v.log
cmp_stat v.log conntrack -le 520 "max_per_tunnel: V's conntrack holds about 500 entries at most"
cmp_stat v.log fwPeerFull -ge 1 "max_per_tunnel: the peer's flows beyond its share were refused and counted"
check "max_per_tunnel: V still running" alive "$pv"
if [ "$E2E_FAIL" -gt "$fails" ]; then diag evil.out; diag probe.out; grep "stats:" v.log | tail -1 | diag; fi
stop_pids "$pv" "$pa"
e2e_done
