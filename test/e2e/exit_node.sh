#!/bin/bash
# e2e: an exit node.  Client C reaches the "internet" only through exit
# X: C's underlay (10.57.0.0/24) has a default route via gateway G,
# which knows X's underlay (198.51.100.0/24) and nothing of the internet
# host I (203.0.113.9, behind X).  With exit.via, C's internet-bound
# traffic goes through the tunnel to X, which forwards and masquerades;
# C's own datagrams to X keep G's default route (the socket's fwmark and
# the policy rules), so the tunnel does not route into itself.  Checked:
# ping and a TCP transfer with matching sha256 C -> I, pings inside the
# overlay, the rules and table while running, everything removed at stop
# (C can no longer reach I; X's masquerade table gone and forwarding put
# back), a client killed with -9 leaves rules its restart replaces; and
# the same client through a Nebula 1.6.1 exit (forwarding and masquerade
# set up by hand, as Nebula needs).
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
command -v nebula >/dev/null || { echo "not ok 1 - nebula is not installed"; exit 1; }
command -v nft >/dev/null || { echo "not ok 1 - nft is not installed"; exit 1; }

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name c -ip 192.168.79.1/24
"$CT" sign -name x -ip 192.168.79.2/24 -subnets 0.0.0.0/0
C=$(ns c); G=$(ns g); X=$(ns x); I=$(ns i)
link "$C" 10.57.0.1/24 "$G" 10.57.0.254/24
link "$G" 198.51.100.254/24 "$X" 198.51.100.2/24
link "$X" 203.0.113.1/24 "$I" 203.0.113.9/24
ip -n "$C" route add default via 10.57.0.254
ip -n "$X" route add 10.57.0.0/24 via 198.51.100.254
ip netns exec "$G" sysctl -qw net.ipv4.ip_forward=1
head -c 3000000 /dev/urandom >blob

client_config() {
	node_config c.yml c 4242 aes "192.168.79.2=198.51.100.2:4242"
	printf 'exit:\n  via: 192.168.79.2\n' >>c.yml
}
exit_config() {
	node_config x.yml x 4242 aes "192.168.79.1=10.57.0.1:4242"
	printf 'exit:\n  serve: true\n' >>x.yml
}
rules_of() { ip -n "$C" rule show | grep -c "^3200[01]:"; }
tun_gone() { ! ip -n "$1" link show | grep -q neb; }

# config-examples/exit-node.yml and exit-client.yml load, in ours and in
# Nebula 1.6.1 (which ignores the exit section)
mkdir ex
"$CT" ca -name ex-ca -duration 10h -out-crt ex/ca.crt -out-key ex/ca.key >/dev/null
"$CT" sign -ca-crt ex/ca.crt -ca-key ex/ca.key -name exit1 -ip 10.42.0.50/16 \
	-subnets 0.0.0.0/0 -out-crt ex/exit1.crt -out-key ex/exit1.key
"$CT" sign -ca-crt ex/ca.crt -ca-key ex/ca.key -name laptop1 -ip 10.42.0.31/16 \
	-groups laptops -out-crt ex/laptop1.crt -out-key ex/laptop1.key
for x in exit-node exit-client; do
	sed "s|/etc/cairn/|$E2E_DIR/ex/|" "$E2E_TOP/config-examples/$x.yml" >"ex/$x.yml"
	check "config-examples/$x.yml is valid for our node" "$NODE" -config "ex/$x.yml" -test
	check "config-examples/$x.yml is valid for Nebula 1.6.1" nebula -config "ex/$x.yml" -test
done

check_not "before: C cannot reach I" ip netns exec "$C" ping -c 1 -W 1 203.0.113.9
fwd0=$(ip netns exec "$X" sysctl -n net.ipv4.ip_forward)

exit_config
client_config
px=$(spawn "$X" x.log "$NODE" -config x.yml)
wait_for 5 grep -q "Exit node: forwarding" x.log
check "X: forwarding on and the masquerade table made" \
	sh -c "[ \$(ip netns exec $X sysctl -n net.ipv4.ip_forward) = 1 ] && ip netns exec $X nft list tables | grep -q cairn_exit"
pc=$(spawn "$C" c.log "$NODE" -config c.yml)
wait_for 5 grep -q "Exit: 1 route via 192.168.79.2" c.log
check "C: the two rules and the table are in place" \
	sh -c "[ \$(ip -n $C rule show | grep -c '^3200[01]:') = 2 ] && ip -n $C route show table 51842 | grep -q '^default dev neb'"
check "C pings X in the overlay" ip netns exec "$C" ping -c 3 -i 0.2 -W 2 192.168.79.2
check "C pings I through the exit" ip netns exec "$C" ping -c 3 -i 0.2 -W 2 203.0.113.9
check "3 MB TCP C -> I through the exit, sha256 matches" tcp_transfer "$C" "$I" 203.0.113.9 blob
check "C's datagrams to X kept G's default route (one tunnel, up)" grep -Eq "$(up_re x)" c.log
check "C's underlay default route is untouched" sh -c "ip -n $C route show | grep -q '^default via 10.57.0.254'"

stop_pids "$pc"
check "C stopped: rules removed" [ "$(rules_of)" = 0 ]
check "C stopped: the exit table is empty" sh -c "! ip -n $C route show table 51842 2>/dev/null | grep -q ."
check_not "C stopped: I is out of reach again" ip netns exec "$C" ping -c 1 -W 1 203.0.113.9
wait_for 5 tun_gone "$C"

# kill -9 leaves the rules; the restart replaces them, once each
pc=$(spawn "$C" c2.log "$NODE" -config c.yml)
wait_for 5 grep -q "Exit: 1 route" c2.log
kill -KILL "$pc"
wait_for 5 tun_gone "$C"
check "killed with -9: its rules are left" [ "$(rules_of)" = 2 ]
pc=$(spawn "$C" c3.log "$NODE" -config c.yml)
wait_for 5 grep -q "Exit: 1 route" c3.log
check "the restart replaced them (two rules, not four)" [ "$(rules_of)" = 2 ]
check "and I is reached again" ip netns exec "$C" ping -c 2 -i 0.2 -W 2 203.0.113.9
stop_pids "$pc"
stop_pids "$px"
check "X stopped: the masquerade table is gone" sh -c "! ip netns exec $X nft list tables | grep -q cairn_exit"
check "X stopped: forwarding is as it was ($fwd0)" [ "$(ip netns exec "$X" sysctl -n net.ipv4.ip_forward)" = "$fwd0" ]
wait_for 5 tun_gone "$C"
wait_for 5 tun_gone "$X"

# a Nebula 1.6.1 exit: its certificate holds 0.0.0.0/0; forwarding and
# the masquerade are the administrator's
node_config x.yml x 4242 aes "192.168.79.1=10.57.0.1:4242"
ip netns exec "$X" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$X" nft -f - <<'EOT'
table ip byhand {
  chain post {
    type nat hook postrouting priority srcnat;
    ip saddr 192.168.79.0/24 oifname != "neb*" masquerade
  }
}
EOT
px=$(spawn "$X" xn.log nebula -config x.yml)
pc=$(spawn "$C" c4.log "$NODE" -config c.yml)
wait_for 5 grep -q "Exit: 1 route" c4.log
check "through a Nebula exit: C pings I" ip netns exec "$C" ping -c 3 -i 0.2 -W 2 203.0.113.9
check "through a Nebula exit: 3 MB TCP C -> I, sha256 matches" tcp_transfer "$C" "$I" 203.0.113.9 blob
stop_pids "$pc" "$px"
if [ "$E2E_FAIL" -ne 0 ]; then for f in c*.log x*.log; do echo "# $f"; grep -v "Handshake message sent" "$f" | tail -8 | diag; done; fi
e2e_done
