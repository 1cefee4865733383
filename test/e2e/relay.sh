#!/bin/bash
# e2e: relays (wire.md 9) with the direct path blocked.  A lighthouse, a
# relay R and two nodes A and B on one switch; nftables in A's and B's
# namespaces drop everything between A and B, so they can only talk
# through R, which B names in relay.relays.  Each combination of ours
# and Nebula 1.6.1 in the roles of lighthouse, relay and ends: ping and
# a TCP transfer with a matching sha256 both ways.  The relay, ours and
# then Nebula's (between our ends), is restarted in the middle of a
# transfer: the relay is set up again and the transfer completes.  With
# ours at every role (the ASan+UBSan build), when the direct path opens
# the tunnel leaves the relay.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
command -v nft >/dev/null || { echo "not ok 1 - nft is not installed"; exit 1; }
NEB=$(command -v nebula) || { echo "not ok 1 - nebula is not installed"; exit 1; }
need "$NODE" "$CT" "$ASAN_NODE"

"$CT" ca -name relay-ca -duration 10h >/dev/null
"$CT" sign -name lh -ip 192.168.95.1/24
"$CT" sign -name r -ip 192.168.95.5/24
"$CT" sign -name a -ip 192.168.95.10/24
"$CT" sign -name b -ip 192.168.95.20/24
lab_switch
LH=$(ns lh); R=$(ns r); A=$(ns a); B=$(ns b)
attach "$LH" 10.80.0.1/24
attach "$R" 10.80.0.5/24
attach "$A" 10.80.0.10/24
attach "$B" 10.80.0.20/24
# The direct path between A and B is cut, both ways, in both.
block() { # NS OTHER
	ip netns exec "$1" nft -f - <<NFT
table inet cut {
	chain in { type filter hook input priority 0; ip saddr $2 counter drop; }
	chain out { type filter hook output priority 0; ip daddr $2 counter drop; }
}
NFT
}
block "$A" 10.80.0.20
block "$B" 10.80.0.10

mesh_config lh.yml lh "" "" true
for h in r a b; do
	mesh_config "$h.yml" "$h" 192.168.95.1 10.80.0.1:4242
done
printf 'relay:\n  am_relay: true\n' >>r.yml
printf 'relay:\n  relays: ["192.168.95.5"]\n' >>b.yml
printf 'timers:\n  connection_alive_interval: 2\n  pending_deletion_interval: 3\n' >>a.yml
printf 'timers:\n  connection_alive_interval: 2\n  pending_deletion_interval: 3\n' >>b.yml
head -c 2000000 /dev/urandom >blob

# bin IMPL: the program for ours or nebula.
# The all-ours run uses the ASan+UBSan build: finish() fails on a report.
OURS=$NODE
bin() { if [ "$1" = ours ]; then echo "$OURS"; else echo "$NEB"; fi; }

PIDS=()
start_all() { # LH R A B: implementations
	local tag="$1-$2-$3-$4"
	PIDS=()
	PIDS+=("$(spawn "$LH" "lh.$tag.log" "$(bin "$1")" -config lh.yml)")
	sleep 0.3
	PIDS+=("$(spawn "$R" "r.$tag.log" "$(bin "$2")" -config r.yml)")
	PIDS+=("$(spawn "$B" "b.$tag.log" "$(bin "$4")" -config b.yml)")
	PIDS+=("$(spawn "$A" "a.$tag.log" "$(bin "$3")" -config a.yml)")
	sleep 2.5 # all registered (lighthouse.interval: 2)
}

combo() { # LH R A B
	local tag="lh=$1 relay=$2 a=$3 b=$4" t="$1-$2-$3-$4"
	start_all "$@"
	check "$tag: a pings b through the relay" \
		wait_for 15 ip netns exec "$A" ping -c 1 -W 1 192.168.95.20
	check "$tag: b pings a" ip netns exec "$B" ping -c 3 -i 0.2 -W 2 192.168.95.10
	check "$tag: a to b: 2 MB over TCP, sha256 matches" \
		tcp_transfer "$A" "$B" 192.168.95.20 blob
	check "$tag: b to a: 2 MB over TCP, sha256 matches" \
		tcp_transfer "$B" "$A" 192.168.95.10 blob
	check "$tag: nothing crossed the cut directly" \
		bash -c "ip netns exec $A nft list table inet cut | grep -q 'counter packets [1-9]'"
	if [ "$2" = ours ]; then
		kill -USR1 "${PIDS[1]}"
		wait_for 3 grep -q "stats:" "r.$t.log"
		check "$tag: the relay forwarded the traffic (relayForwarded)" \
			bash -c "grep 'stats:' r.$t.log | tail -1 | grep -Eq 'relayForwarded=[0-9]{4,}'"
	else
		check "$tag: the Nebula relay set up the relay" \
			grep -q "handleCreateRelayResponse" "r.$t.log"
	fi
	if [ "$3" = ours ]; then
		check "$tag: our a reaches b through the relay" \
			grep -Eq "$(up_re b).* relay=192.168.95.5 .*vpnIp=192.168.95.20" "a.$t.log"
	fi
	if [ "$4" = ours ]; then
		check "$tag: our b reaches a through the relay" \
			grep -Eq "$(up_re a).* relay=192.168.95.5 .*vpnIp=192.168.95.10" "b.$t.log"
	fi
}

finish() {
	stop_pids "${PIDS[@]}"
	for f in *.log; do
		if grep -q "ERROR: AddressSanitizer\|runtime error:" "$f"; then
			not_ok "$f: sanitizer report"
			diag "$f"
		fi
	done
	ip netns exec "$A" nft reset counters table inet cut >/dev/null 2>&1
}

# The relay (implementation $1) restarted in the middle of a slow
# transfer from A to B: the ends set the relay up again and the transfer
# completes intact.
restart_mid_transfer() { # IMPL TAG
	head -c 3000000 /dev/urandom >slow
	slow_start "$A" "$B" 192.168.95.20 slow
	sleep 2
	stop_pids "${PIDS[1]}"
	sleep 1
	PIDS[1]=$(spawn "$R" "r.restarted.$2.log" "$(bin "$1")" -config r.yml)
	check "relay=$1 restarted mid-transfer: 3 MB arrived, sha256 matches" \
		slow_done
	check "relay=$1 restarted: a made a new relayed tunnel to b" \
		bash -c "[ \$(grep -Ec '$(up_re b).* relay=192.168.95.5 ' a.$2.log) -ge 2 ]"
}

OURS=$ASAN_NODE
# The examples config-examples/relay.yml and relayed-node.yml load, with
# our node and with Nebula 1.6.1 (certificates of their network).
mkdir ex
"$CT" ca -name ex-ca -duration 10h -out-crt ex/ca.crt -out-key ex/ca.key >/dev/null
for x in relay1:10.42.0.40 nas1:10.42.0.60; do
	"$CT" sign -ca-crt ex/ca.crt -ca-key ex/ca.key -name "${x%%:*}" -ip "${x#*:}/16" \
		-out-crt "ex/${x%%:*}.crt" -out-key "ex/${x%%:*}.key"
done
for x in relay relayed-node; do
	sed "s|/etc/cairn/|$E2E_DIR/ex/|" "$E2E_TOP/config-examples/$x.yml" >"ex/$x.yml"
	check "config-examples/$x.yml is valid for our node" "$NODE" -config "ex/$x.yml" -test
	check "config-examples/$x.yml is valid for Nebula 1.6.1" "$NEB" -config "ex/$x.yml" -test
done

combo ours ours ours ours
t=ours-ours-ours-ours
restart_mid_transfer ours "$t"
check "relay restarted: the new relay forwarded" \
	bash -c "kill -USR1 ${PIDS[1]}; sleep 0.5; grep 'stats:' r.restarted.$t.log | tail -1 | grep -Eq 'relayForwarded=[1-9]'"
# The direct path opens: the tunnel leaves the relay.
ip netns exec "$A" nft delete table inet cut
ip netns exec "$B" nft delete table inet cut
ip netns exec "$A" ping -c 30 -i 0.2 -W 1 192.168.95.20 >/dev/null 2>&1 &
E2E_PIDS+=("$!")
check "direct path open: a's tunnel to b roams off the relay" \
	wait_for 20 grep -q 'msg="Host roamed to new udp ip/port." certName=b newAddr="10.80.0.20:4242" relay=192.168.95.5 ' "a.$t.log"
check "direct path open: b's tunnel to a roams off the relay" \
	wait_for 10 grep -q 'msg="Host roamed to new udp ip/port." certName=a newAddr="10.80.0.10:4242" relay=192.168.95.5 ' "b.$t.log"
kill -USR1 "${PIDS[1]}"
sleep 0.5
before=$(grep 'stats:' r.restarted.$t.log | tail -1 | sed -n 's/.*relayForwarded=\([0-9]*\).*/\1/p')
check "direct path: a pings b" ip netns exec "$A" ping -c 5 -i 0.2 -W 1 192.168.95.20
kill -USR1 "${PIDS[1]}"
sleep 0.5
after=$(grep 'stats:' r.restarted.$t.log | tail -1 | sed -n 's/.*relayForwarded=\([0-9]*\).*/\1/p')
check "direct path: the relay forwards nothing more ($before then $after)" \
	test "$before" = "$after"
finish
OURS=$NODE
block "$A" 10.80.0.20
block "$B" 10.80.0.10

combo ours ours nebula nebula # our relay between Nebula nodes
finish
combo nebula nebula ours ours # a Nebula relay and lighthouse between ours
restart_mid_transfer nebula nebula-nebula-ours-ours
finish
combo ours nebula ours nebula # mixed ends, Nebula relay
finish
combo nebula ours nebula ours # mixed ends the other way, our relay
finish

e2e_done
