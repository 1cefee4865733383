#!/bin/bash
# e2e: two nodes, each behind its own NAT (a router namespace with an
# nftables masquerade), and a lighthouse on the "public" side.  The nodes
# learn each other's public address from the lighthouse, punch, and their
# tunnel runs directly between the two NAT routers (the lighthouse never
# relays: it is not a relay, and its packet counters show it).
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
command -v nft >/dev/null || { echo "not ok 1 - nft is not installed"; exit 1; }

"$CT" ca -name nat-ca -duration 10h >/dev/null
"$CT" sign -name lh -ip 192.168.91.1/24
"$CT" sign -name a -ip 192.168.91.10/24
"$CT" sign -name b -ip 192.168.91.20/24
lab_switch                     # the public network 10.70.0.0/24
LH=$(ns lh); RA=$(ns ra); RB=$(ns rb); A=$(ns a); B=$(ns b)
attach "$LH" 10.70.0.1/24
attach "$RA" 10.70.0.2/24
attach "$RB" 10.70.0.3/24
link "$RA" 10.71.0.1/24 "$A" 10.71.0.10/24
link "$RB" 10.72.0.1/24 "$B" 10.72.0.10/24
ip -n "$A" route add default via 10.71.0.1
ip -n "$B" route add default via 10.72.0.1
for r in "$RA" "$RB"; do
	ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
	pub=$(ip -n "$r" -o addr show | awk '/10\.70\.0\./{print $2}')
	# A home router: masquerade outbound, drop what nobody asked for.
	# (Dropped in input, an unsolicited packet leaves no conntrack entry
	# that would later force the masquerade onto another port.)
	ip netns exec "$r" nft -f - <<NFT
table ip nat {
	chain post {
		type nat hook postrouting priority 100;
		oifname "$pub" masquerade
	}
}
table ip filter {
	chain in {
		type filter hook input priority 0;
		iifname "$pub" ct state new drop
	}
}
NFT
done

mesh_config lh.yml lh "" "" true
for h in a b; do
	mesh_config "$h.yml" "$h" 192.168.91.1 10.70.0.1:4242
	sed -i 's/^punchy:/punchy:\n  respond: true\n  delay: 200ms/' "$h.yml"
done
plh=$(spawn "$LH" lh.log "$LIGHTHOUSE" -config lh.yml)
sleep 0.3
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
pb=$(spawn "$B" b.log "$NODE" -config b.yml)
sleep 1.5
check_not "a cannot reach b's private address directly" \
	ip netns exec "$A" ping -c 1 -W 1 10.72.0.10
check "a pings b through both NATs" ip netns exec "$A" ping -c 3 -i 0.3 -W 3 192.168.91.20
check "b pings a" ip netns exec "$B" ping -c 3 -i 0.3 -W 3 192.168.91.10
check "a's tunnel to b goes to b's public (NAT) address" \
	grep -Eq "$(up_re b).*udpAddr=\"10.70.0.3:[0-9]+\" vpnIp=192.168.91.20" a.log
check "the lighthouse registered both behind their NAT addresses" \
	grep -Eq "$(up_re a).*udpAddr=\"10.70.0.2:[0-9]+\" vpnIp=192.168.91.10" lh.log
kill -USR1 "$plh"
wait_for 3 grep -q "stats:" lh.log
before=$(sed -n 's/.*stats:.* udpRx=\([0-9]*\).*/\1/p' lh.log | tail -1)
head -c 3000000 /dev/urandom >blob
ip netns exec "$B" timeout 20 nc -l -d 192.168.91.20 5001 >got &
lp=$!
sleep 0.3
ip netns exec "$A" timeout 20 nc -N 192.168.91.20 5001 <blob
wait "$lp"
check "3 MB crossed the punched tunnel intact" cmp -s blob got
kill -USR1 "$plh"
sleep 0.5
after=$(sed -n 's/.*stats:.* udpRx=\([0-9]*\).*/\1/p' lh.log | tail -1)
if [ $((after - before)) -lt 100 ]; then
	ok "the data did not pass through the lighthouse (it received $((after - before)) datagrams meanwhile)"
else
	not_ok "the lighthouse received $((after - before)) datagrams during the transfer"
fi
kill -USR1 "$pa"
wait_for 3 grep -q "stats:" a.log
check "a asked the lighthouse and got answers" grep -Eq 'lhReplies=|msg="Handshake message sent" .*udpAddrs="\[([^]]* )?10\.70\.0\.3:[0-9]+[] ].*vpnIp=192\.168\.91\.20' a.log
if [ "$E2E_FAIL" -ne 0 ]; then for f in *.log; do echo "# --- $f"; tail -12 "$f" | sed "s/^time=[^ ]* //" | cut -c1-600 | diag; done; fi
e2e_done
