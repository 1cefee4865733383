#!/bin/bash
# e2e: tun.unsafe_routes.  A LAN namespace (172.30.5.0/24, host L at
# .7) sits behind router R, whose certificate holds that subnet; client
# A reaches it by an unsafe route via R's overlay IP, and L reaches A's
# overlay IP back through R.  For each of ours/Nebula 1.6.1 as client and
# as router: ping A->L, a TCP transfer each way with matching sha256.
# With ours as the client: the kernel route carries the route's MTU and
# metric; a reload removes it (and L is unreachable), another brings it
# back with a new metric; a packet for a network with no route is
# counted (txNoRoute).
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
command -v nebula >/dev/null || { echo "not ok 1 - nebula is not installed"; exit 1; }

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.78.1/24
"$CT" sign -name r -ip 192.168.78.2/24 -subnets 172.30.5.0/24
A=$(ns a); R=$(ns r); L=$(ns l)
link "$A" 10.56.0.1/24 "$R" 10.56.0.2/24
link "$R" 172.30.5.1/24 "$L" 172.30.5.7/24
ip -n "$L" route add default via 172.30.5.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
head -c 5000000 /dev/urandom >blob

route_extra() { # METRIC: client A's unsafe route
	echo "  unsafe_routes:"
	echo "    - route: 172.30.5.0/24"
	echo "      via: 192.168.78.2"
	echo "      mtu: 1280"
	echo "      metric: $1"
}
tun_gone() { ! ip -n "$1" link show | grep -q neb; }
stat() { grep -o " $2=[0-9]*" "$1" | tail -1 | cut -d= -f2; }

# run_pair IMPL_A IMPL_R
run_pair() {
	local ia=$1 ir=$2 pa pr na nr tag
	na=$(basename "$ia") nr=$(basename "$ir") tag="client $(basename "$ia"), router $(basename "$ir")"
	NODE_TUN_EXTRA=$(route_extra 7) node_config a.yml a 4242 aes "192.168.78.2=10.56.0.2:4242"
	node_config r.yml r 4242 aes "192.168.78.1=10.56.0.1:4242"
	pr=$(spawn "$R" "r-$na-$nr.log" "$ir" -config r.yml)
	pa=$(spawn "$A" "a-$na-$nr.log" "$ia" -config a.yml)
	wait_for 5 ip netns exec "$A" ip link show | grep -q neb
	wait_for 5 ip netns exec "$R" ip link show | grep -q neb
	sleep 0.5
	check "$tag: ping A -> L (172.30.5.7) through R" ip netns exec "$A" ping -c 3 -i 0.2 -W 2 172.30.5.7
	check "$tag: 5 MB TCP A -> L, sha256 matches" tcp_transfer "$A" "$L" 172.30.5.7 blob
	check "$tag: 5 MB TCP L -> A, sha256 matches" tcp_transfer "$L" "$A" 192.168.78.1 blob
	if [ "$na" = node ]; then
		local la="a-$na-$nr.log" before
		check "$tag: the kernel route has the route's MTU and metric" \
			sh -c "ip -n $A route show 172.30.5.0/24 | grep 'metric 7' | grep -q 'mtu 1280'"
		before=$(stat "$la" txNoRoute 2>/dev/null)
		ip -n "$A" route add 172.31.0.0/16 dev "$(ip -n "$A" -o link show | grep -o 'neb[0-9]*' | head -1)"
		ip netns exec "$A" ping -c 1 -W 1 172.31.0.1 >/dev/null 2>&1
		kill -USR1 "$pa"; sleep 0.3
		check "$tag: a packet for a network without an unsafe route is counted" \
			[ "$(stat "$la" txNoRoute)" -ge $(( ${before:-0} + 1 )) ]
		node_config a.yml a 4242 aes "192.168.78.2=10.56.0.2:4242"
		kill -HUP "$pa"
		check "$tag: reload without the route: the kernel route is gone" \
			wait_for 3 sh -c "! ip -n $A route show 172.30.5.0/24 | grep -q ."
		check_not "$tag: and L is out of reach" ip netns exec "$A" ping -c 1 -W 1 172.30.5.7
		NODE_TUN_EXTRA=$(route_extra 9) node_config a.yml a 4242 aes "192.168.78.2=10.56.0.2:4242"
		kill -HUP "$pa"
		check "$tag: reload with the route back: in the kernel with metric 9" \
			wait_for 3 sh -c "ip -n $A route show 172.30.5.0/24 | grep -q 'metric 9'"
		check "$tag: and L answers again" ip netns exec "$A" ping -c 3 -i 0.2 -W 2 172.30.5.7
		check "$tag: the reload said what it did" grep -q "added route 172.30.5.0/24 mtu 1280 metric 9" "$la"
		# a route with a larger MTU: the device grows, the overlay's
		# own route keeps tun.mtu; without it, the device shrinks back
		local dev
		dev=$(ip -n "$A" -o link show | grep -o 'neb[0-9]*' | head -1)
		NODE_TUN_EXTRA="$(route_extra 9)
  routes:
    - {route: 192.168.78.128/25, mtu: 1400}" \
			node_config a.yml a 4242 aes "192.168.78.2=10.56.0.2:4242"
		kill -HUP "$pa"
		check "$tag: reload with a 1400-byte route: the device MTU is 1400" \
			wait_for 3 sh -c "ip -n $A link show $dev | grep -q 'mtu 1400'"
		check "$tag: and the overlay's route keeps mtu 1300" \
			sh -c "ip -n $A route show 192.168.78.0/24 | grep -q 'mtu 1300'"
		check "$tag: the 1400-byte route is in" \
			sh -c "ip -n $A route show 192.168.78.128/25 | grep -q 'mtu 1400'"
		check "$tag: L still answers" ip netns exec "$A" ping -c 2 -i 0.2 -W 2 172.30.5.7
		NODE_TUN_EXTRA=$(route_extra 9) node_config a.yml a 4242 aes "192.168.78.2=10.56.0.2:4242"
		kill -HUP "$pa"
		check "$tag: reload without it: the device MTU is 1300 again" \
			wait_for 3 sh -c "ip -n $A link show $dev | grep -q 'mtu 1300'"
	fi
	if [ "$nr" = node ]; then
		# the router's firewall tells itself from the LAN (local_cidr):
		# pings to the router, TCP to the LAN, nothing else
		node_config r.yml r 4242 aes "192.168.78.1=10.56.0.1:4242"
		sed -i '/^  inbound:/,$d' r.yml
		cat >>r.yml <<-EOT
		  inbound:
		    - {port: any, proto: icmp, host: any, local_cidr: 192.168.78.2/32}
		    - {port: any, proto: tcp, host: any, local_cidr: 172.30.5.0/24}
		EOT
		kill -HUP "$pr"
		wait_for 3 grep -q "configuration reloaded" "r-$na-$nr.log"
		check "$tag: local_cidr: A pings the router itself" ip netns exec "$A" ping -c 2 -i 0.2 -W 2 192.168.78.2
		check_not "$tag: local_cidr: but not L behind it" ip netns exec "$A" ping -c 2 -i 0.2 -W 1 172.30.5.7
		check "$tag: local_cidr: TCP to L passes" tcp_transfer "$A" "$L" 172.30.5.7 blob
	fi
	stop_pids "$pa"; sleep 0.3
	stop_pids "$pr"
	wait_for 5 tun_gone "$A"
	wait_for 5 tun_gone "$R"
}

# The examples config-examples/router.yml and client-of-router.yml load,
# with our node and with Nebula 1.6.1 (certificates of their network).
mkdir ex
"$CT" ca -name ex-ca -duration 10h -out-crt ex/ca.crt -out-key ex/ca.key >/dev/null
"$CT" sign -ca-crt ex/ca.crt -ca-key ex/ca.key -name router1 -ip 10.42.0.20/16 \
	-subnets 192.168.1.0/24 -groups routers -out-crt ex/router1.crt -out-key ex/router1.key
"$CT" sign -ca-crt ex/ca.crt -ca-key ex/ca.key -name laptop1 -ip 10.42.0.31/16 \
	-groups laptops -out-crt ex/laptop1.crt -out-key ex/laptop1.key
for x in router client-of-router; do
	sed "s|/etc/cairn/|$E2E_DIR/ex/|" "$E2E_TOP/config-examples/$x.yml" >"ex/$x.yml"
	check "config-examples/$x.yml is valid for our node" "$NODE" -config "ex/$x.yml" -test
	check "config-examples/$x.yml is valid for Nebula 1.6.1" nebula -config "ex/$x.yml" -test
done

run_pair "$NODE" "$NODE"
run_pair "$NODE" /usr/bin/nebula
run_pair /usr/bin/nebula "$NODE"
if [ "$E2E_FAIL" -ne 0 ]; then for f in a-*.log r-*.log; do echo "# $f"; grep -v "Handshake message sent" "$f" | tail -8 | diag; done; fi
e2e_done
