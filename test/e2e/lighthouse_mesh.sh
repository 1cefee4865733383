#!/bin/bash
# e2e: a lighthouse and three nodes that have no static_host_map entry for
# each other: every pair finds the others through the lighthouse, pings
# and moves data.  Then mixed meshes (real Nebula nodes with our
# lighthouse, our nodes with a Nebula lighthouse), and a lighthouse
# restart: tunnels already up keep working while it is down, nodes
# re-register, and a new pair can still find each other.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
LHBIN="$LIGHTHOUSE"

"$CT" ca -name e2e-ca -duration 10h >/dev/null
for h in lh:1 a:11 b:12 c:13 d:14; do
	"$CT" sign -name "${h%:*}" -ip "192.168.88.${h#*:}/24"
done
lab_switch
declare -A NS IP
for h in lh:1 a:11 b:12 c:13 d:14; do
	n=${h%:*}
	NS[$n]=$(ns "$n")
	IP[$n]=192.168.88.${h#*:}
	attach "${NS[$n]}" "10.66.0.${h#*:}/24"
done
mesh_config lh.yml lh "" "" true
sed -i 's/^  am_lighthouse: true/  am_lighthouse: true\n  serve_dns: true\n  dns: {host: 0.0.0.0, port: 5353}/' lh.yml
for h in a b c d; do mesh_config "$h.yml" "$h" 192.168.88.1 10.66.0.1:4242; done

# small transfer FROM TO: 2 MB over TCP, compared with cmp.
head -c 2000000 /dev/urandom >blob
xfer() {
	local from=$1 to=$2 port=$((30000 + RANDOM % 10000)) lp
	rm -f got
	ip netns exec "${NS[$to]}" timeout 15 nc -l -d "${IP[$to]}" "$port" >got &
	lp=$!
	sleep 0.3
	ip netns exec "${NS[$from]}" timeout 15 nc -N "${IP[$to]}" "$port" <blob
	wait "$lp"
	cmp -s blob got
}
start() { # NAME BINARY
	PID[$1]=$(spawn "${NS[$1]}" "$1-$RUN.log" "$2" -config "$1.yml")
}
stop() { stop_pids "${PID[$1]}"; }
declare -A PID

# mesh LH_BIN NODE_BIN TAG: every ordered pair of a, b, c pings; each
# unordered pair moves data.
mesh() {
	local lhb=$1 nb=$2 tag=$3 x y
	RUN=$tag
	start lh "$lhb"
	sleep 0.3
	for x in a b c; do start "$x" "$nb"; done
	sleep 1.5
	for x in a b c; do for y in a b c; do
		[ "$x" = "$y" ] && continue
		check "$tag: $x pings $y through lighthouse discovery" \
			ip netns exec "${NS[$x]}" ping -c 2 -i 0.2 -W 2 "${IP[$y]}"
	done; done
	check "$tag: a->b 2 MB" xfer a b
	check "$tag: b->c 2 MB" xfer b c
	check "$tag: c->a 2 MB" xfer c a
	check "$tag: a pings the lighthouse" ip netns exec "${NS[a]}" ping -c 1 -W 2 "${IP[lh]}"
}

mesh "$LHBIN" "$NODE" ours
check "ours: no static_host_map entry for peers" bash -c "! grep -q 192.168.88.1[234] a.yml"
check "ours: a's tunnel to b was made from the lighthouse's answer" grep -Eq "$(up_re b)" a-ours.log

# serve_dns: A records for certificate names; TXT (certificate details)
# only for clients inside the overlay.
DNSQ="$E2E_TOP/test/e2e/dnsq.py"
out=$(ip netns exec "${NS[a]}" python3 "$DNSQ" 10.66.0.1 5353 b A)
[ "$out" = "${IP[b]}" ] && ok "dns: A b. -> ${IP[b]}" || not_ok "dns: A b. gave '$out'"
out=$(ip netns exec "${NS[a]}" python3 "$DNSQ" 10.66.0.1 5353 nosuch A)
[ "$out" = none ] && ok "dns: an unknown name has no answer" || not_ok "dns: unknown name gave '$out'"
out=$(ip netns exec "${NS[a]}" python3 "$DNSQ" 10.66.0.1 5353 "${IP[c]}" TXT)
[ "$out" = none ] && ok "dns: TXT refused from outside the overlay" || not_ok "dns: TXT from the underlay gave '$out'"
out=$(ip netns exec "${NS[a]}" python3 "$DNSQ" "${IP[lh]}" 5353 "${IP[c]}" TXT)
case $out in "Name: c|Ips: [192.168.88.13/24]|Subnets []|Groups []|NotBefore "*)
	ok "dns: TXT through the tunnel: $(echo "$out" | cut -c1-60)...";;
*) not_ok "dns: TXT through the tunnel gave '$out'";; esac

# Restart: the lighthouse goes away; tunnels already up keep working.
stop lh
check "lighthouse down: a->b still works" ip netns exec "${NS[a]}" ping -c 2 -i 0.2 -W 2 "${IP[b]}"
check "lighthouse down: b->c still works" ip netns exec "${NS[b]}" ping -c 2 -i 0.2 -W 2 "${IP[c]}"
RUN=ours-restart
start lh "$LHBIN"
start d "$NODE"
sleep 3 # > lighthouse.interval: everyone has re-registered
check "after restart: new node d finds a" ip netns exec "${NS[d]}" ping -c 2 -i 0.3 -W 3 "${IP[a]}"
check "after restart: c finds d" ip netns exec "${NS[c]}" ping -c 2 -i 0.3 -W 3 "${IP[d]}"
kill -USR1 "${PID[lh]}"
wait_for 3 grep -q "stats:" lh-ours-restart.log
check "after restart: all four nodes registered again" grep -q "registered=4" lh-ours-restart.log
for x in lh a b c d; do stop "$x"; done

if command -v nebula >/dev/null; then
	mesh "$LHBIN" /usr/bin/nebula "nebula nodes, our lighthouse"
	for x in lh a b c; do stop "$x"; done
	mesh /usr/bin/nebula "$NODE" "our nodes, nebula lighthouse"
	for x in lh a b c; do stop "$x"; done
	# One of each: Nebula a and b, our c, our lighthouse.
	RUN=mixed
	start lh "$LHBIN"; sleep 0.3
	start a /usr/bin/nebula; start b "$NODE"; start c /usr/bin/nebula
	sleep 1.5
	check "mixed: our b pings nebula a" ip netns exec "${NS[b]}" ping -c 2 -i 0.2 -W 2 "${IP[a]}"
	check "mixed: nebula c pings our b" ip netns exec "${NS[c]}" ping -c 2 -i 0.2 -W 2 "${IP[b]}"
	check "mixed: nebula a pings nebula c via our lighthouse" ip netns exec "${NS[a]}" ping -c 2 -i 0.2 -W 2 "${IP[c]}"
	for x in lh a b c; do stop "$x"; done
fi
if [ "$E2E_FAIL" -ne 0 ]; then for f in *.log; do echo "# --- $f"; tail -6 "$f" | cut -c1-240 | diag; done; fi
e2e_done
