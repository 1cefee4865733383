#!/bin/bash
# e2e: garbage datagrams, short headers, an unknown index, a truncated
# handshake, an unknown type and a replayed data packet are counted and
# dropped, and the established tunnel keeps carrying traffic.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.77.1/24
"$CT" sign -name b -ip 192.168.77.2/24
A=$(ns a); B=$(ns b)
link "$A" 10.55.0.1/24 "$B" 10.55.0.2/24
node_config a.yml a 4242 aes "192.168.77.2=10.55.0.2:4242"
node_config b.yml b 4242 aes "192.168.77.1=10.55.0.1:4242"
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
pb=$(spawn "$B" b.log "$NODE" -config b.yml)
sleep 0.5
check "tunnel is up" ip netns exec "$B" ping -c 2 -i 0.2 -W 1 192.168.77.1
veth=$(ip -n "$A" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1)
ip netns exec "$B" ping -c 40 -i 0.1 192.168.77.1 >/dev/null &
E2E_PIDS+=("$!")
check "bad datagrams sent, a real data packet replayed" \
	ip netns exec "$A" python3 "$E2E_TOP/test/e2e/badpackets.py" 10.55.0.1 4242 "$veth"
sleep 0.3
check "the tunnel still carries traffic" ip netns exec "$B" ping -c 3 -i 0.2 -W 1 192.168.77.1
check "and the other way" ip netns exec "$A" ping -c 3 -i 0.2 -W 1 192.168.77.2
kill -USR1 "$pa"
wait_for 3 grep -q "stats:" a.log
stat() { sed -n "s/.*stats:.* $1=\([0-9]*\).*/\1/p" a.log | tail -1; }
for c in rxShort rxUnknownIndex rxReplay hsBad rxUnknownType; do
	v=$(stat "$c")
	if [ "${v:-0}" -ge 1 ]; then ok "counted: $c=$v"; else not_ok "counted: $c=${v:-none}"; fi
done
check "still running" kill -0 "$pa"
check_not "no tunnel went down" grep -Eq "$DOWN_RE" a.log

# Liveness (wire.md 10): b stops answering; a, still sending, tests the
# tunnel and then drops it.  Short timers make it quick.
stop_pids "$pa"
printf 'timers:\n  connection_alive_interval: 1\n  pending_deletion_interval: 2\n' >>a.yml
pa=$(spawn "$A" a2.log "$NODE" -config a.yml)
sleep 0.5
check "liveness: tunnel up again" ip netns exec "$A" ping -c 2 -i 0.2 -W 1 192.168.77.2
kill -STOP "$pb"
ip netns exec "$A" ping -c 30 -i 0.2 -W 1 192.168.77.2 >/dev/null &
E2E_PIDS+=("$!")
check "liveness: a silent peer's tunnel is dropped after the test packets" \
	wait_for 15 grep -q 'msg="Tunnel status" certName=b tunnelCheck="map\[method:active state:dead\]"' a2.log
kill -CONT "$pb"
if [ "$E2E_FAIL" -ne 0 ]; then diag a.log; diag check.log; fi
e2e_done
