#!/bin/bash
# e2e: tunnels between our nodes, and between ours and the real Nebula
# 1.6.1, in network namespaces: ping both ways and a TCP transfer whose
# sha256 matches on both ends, for both ciphers and each side initiating.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
command -v nebula >/dev/null || { echo "not ok 1 - nebula is not installed"; exit 1; }

"$CT" ca -name e2e-ca -duration 10h >/dev/null
for h in a b; do "$CT" sign -name "$h" -ip "192.168.77.$([ $h = a ] && echo 1 || echo 2)/24" -groups test; done
A=$(ns a); B=$(ns b)
link "$A" 10.55.0.1/24 "$B" 10.55.0.2/24
head -c 20000000 /dev/urandom >blob
SUM=$(sha256sum <blob | cut -d' ' -f1)

# transfer FROM_NS TO_NS TO_IP: send blob over TCP, compare checksums.
transfer() {
	local from=$1 to=$2 ip=$3 port=$((20000 + RANDOM % 10000)) got
	rm -f recv
	ip netns exec "$to" timeout 30 nc -l -d "$ip" "$port" >recv &
	local lp=$!
	E2E_PIDS+=("$lp")
	wait_for 5 ip netns exec "$to" ss -ltn "sport = :$port" | grep -q LISTEN
	sleep 0.2
	ip netns exec "$from" timeout 30 nc -N "$ip" "$port" <blob
	wait "$lp"
	got=$(sha256sum <recv | cut -d' ' -f1)
	[ "$got" = "$SUM" ]
}

# run_pair IMPL_A IMPL_B CIPHER: start both, test both directions, stop.
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
	# a stops first, so that b is there to receive a's closeTunnel.
	kill -TERM "$pa"; wait "$pa" 2>/dev/null; sleep 0.3
	kill -TERM "$pb"; wait "$pb" 2>/dev/null
	# Now b initiates (fresh processes, b pings first).
	pa=$(spawn "$A" "a2-$na-$c.log" "$ia" -config a.yml)
	pb=$(spawn "$B" "b2-$nb-$c.log" "$ib" -config b.yml)
	sleep 1
	check "$tag: ping b->a (b initiates)" ip netns exec "$B" ping -c 3 -i 0.2 -W 2 192.168.77.1
	check "$tag: ping a->b" ip netns exec "$A" ping -c 3 -i 0.2 -W 2 192.168.77.2
	kill -TERM "$pa" "$pb"
	wait "$pa" "$pb" 2>/dev/null
}

run_pair "$NODE" "$NODE" aes
run_pair "$NODE" "$NODE" chachapoly
run_pair "$NODE" /usr/bin/nebula aes
run_pair /usr/bin/nebula "$NODE" aes
run_pair "$NODE" /usr/bin/nebula chachapoly

# A clean shutdown sends closeTunnel: the real Nebula logs it.
check "our node's SIGTERM sends closeTunnel to Nebula" grep -q "Close tunnel received" b-nebula-chachapoly.log
if [ "$E2E_FAIL" -ne 0 ]; then for f in *.log; do echo "# --- $f"; tail -15 "$f" | diag; done; fi
e2e_done
