#!/bin/bash
# e2e: process.user (not a Nebula key), running unprivileged.  Node A
# runs with process.user: nobody, B as root, with a LAN namespace L
# (172.30.6.0/24) behind B.  Checked: -test accepts a real user and
# refuses an unknown one (file:line: key: reason), also without -test
# and before any device is made; A logs the drop and /proc shows uid and
# gid nobody, CapEff/CapPrm/CapInh/CapAmb/CapBnd cap_net_admin only
# (0000000000001000) and NoNewPrivs 1; pings both ways; a SIGHUP that
# adds a tun.unsafe_routes entry puts the kernel route in as nobody and
# L answers; a reload whose key nobody cannot read is refused and the
# tunnel stays; SIGTERM exits 0 and the TUN device is gone.  Then A as
# an unprivileged exit node (exit.serve): the masquerade table is made
# at start, and at stop nft(8) (ambient CAP_NET_ADMIN) deletes it and
# IPv4 forwarding is turned back off.  Last a lighthouse serving DNS on
# port 53 as nobody: it keeps CAP_NET_BIND_SERVICE too (effective and
# permitted only), and its responder answers.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$NODE" "$CT"
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null ||
	{ echo "not ok 1 - no user nobody or group nogroup"; echo "1..1"; exit 1; }

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.80.1/24
"$CT" sign -name b -ip 192.168.80.2/24 -subnets 172.30.6.0/24
# what A reads again on SIGHUP must be readable by nobody
chmod 755 "$E2E_DIR"
chmod 644 ca.crt
chown nobody a.crt a.key
A=$(ns a); B=$(ns b); L=$(ns l)
link "$A" 10.58.0.1/24 "$B" 10.58.0.2/24
link "$B" 172.30.6.1/24 "$L" 172.30.6.7/24
ip -n "$L" route add default via 172.30.6.1
ip netns exec "$B" sysctl -qw net.ipv4.ip_forward=1

# a_config [EXTRA]: A's configuration, as nobody, with EXTRA appended
a_config() {
	NODE_TUN_EXTRA=${UNSAFE:-} node_config a.yml a 4242 aes "192.168.80.2=10.58.0.2:4242"
	printf 'process:\n  user: nobody\n  group: nogroup\n' >>a.yml
	[ -n "${1:-}" ] && printf '%s\n' "$1" >>a.yml
	chmod 644 a.yml
}
unsafe() {
	echo "  unsafe_routes:"
	echo "    - route: 172.30.6.0/24"
	echo "      via: 192.168.80.2"
}
dev_of() { ip -n "$1" -o link show | grep -o 'neb[0-9]*' | head -1; }
tun_gone() { ! ip -n "$1" link show | grep -q neb; }
# status PID FIELD: a field of /proc/PID/status, blanks made one space
status() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }
# run_a LOG: A in the background of this shell, so that its exit status
# can be waited for; the PID in PA
run_a() {
	ip netns exec "$A" "$NODE" -config a.yml >"$1" 2>&1 &
	PA=$!
	E2E_PIDS+=("$PA")
}
# stop_a: SIGTERM, at most 5 s; true when A exited 0
stop_a() {
	kill -TERM "$PA"
	wait_for 5 eval '! alive $PA' || kill -KILL "$PA"
	wait "$PA"
}

# --- loading ----------------------------------------------------------
a_config
check "-test accepts process.user: nobody" "$NODE" -config a.yml -test
cp a.yml bad.yml
sed -i 's/  user: nobody/  user: e2e-no-such-user/' bad.yml
line=$(grep -n 'e2e-no-such-user' bad.yml | cut -d: -f1)
"$NODE" -config bad.yml -test >bad-test.log 2>&1
rc=$?
check "-test refuses an unknown user (exit 1)" [ "$rc" -eq 1 ]
check "with file:line: key: reason" \
	grep -q "bad.yml:$line: process.user: no such user in /etc/passwd: e2e-no-such-user" bad-test.log
ip netns exec "$A" "$NODE" -config bad.yml >bad-run.log 2>&1
rc=$?
check "the daemon refuses it too, before any device (exit 1)" \
	sh -c "[ $rc -eq 1 ] && grep -q 'msg=\"Failed to load config\" .*no such user' bad-run.log && ! ip -n $A link show | grep -q neb"
sed 's/  group: nogroup/  group: e2e-no-such-group/' a.yml >badg.yml
check_not "-test refuses an unknown group" "$NODE" -config badg.yml -test
check "and names process.group" sh -c "'$NODE' -config badg.yml -test 2>&1 | grep -q 'process.group: no such group in /etc/group: e2e-no-such-group'"

# --- running as nobody ------------------------------------------------
node_config b.yml b 4242 aes "192.168.80.1=10.58.0.1:4242"
pb=$(spawn "$B" b.log "$NODE" -config b.yml)
run_a a.log
wait_for 5 grep -q "Dropped privileges" a.log
check "A logs the drop" grep -q 'msg="Dropped privileges" capabilities=cap_net_admin group=nogroup user=nobody$' a.log
check "A runs as nobody (Uid)" [ "$(status "$PA" Uid)" = "65534 65534 65534 65534" ]
check "and nogroup (Gid)" [ "$(status "$PA" Gid)" = "65534 65534 65534 65534" ]
check "with no other group (Groups)" [ "$(status "$PA" Groups)" = 65534 ]
for s in CapEff CapPrm CapInh CapAmb CapBnd; do
	check "$s holds cap_net_admin only" [ "$(status "$PA" $s)" = 0000000000001000 ]
done
check "NoNewPrivs: 1" [ "$(status "$PA" NoNewPrivs)" = 1 ]
check "ping A -> B" ip netns exec "$A" ping -c 3 -i 0.2 -W 2 192.168.80.2
check "ping B -> A" ip netns exec "$B" ping -c 3 -i 0.2 -W 2 192.168.80.1
check_not "no route to L yet" sh -c "ip -n $A route show 172.30.6.0/24 | grep -q ."

UNSAFE=$(unsafe) a_config
kill -HUP "$PA"
check "SIGHUP adds the unsafe route to the kernel as nobody" \
	wait_for 3 sh -c "ip -n $A route show 172.30.6.0/24 | grep -q 'dev neb'"
check "and the reload said so" grep -q "added route 172.30.6.0/24" a.log
check "ping A -> L through B" ip netns exec "$A" ping -c 3 -i 0.2 -W 2 172.30.6.7
UNSAFE=$(unsafe) a_config
sed -i 's/  user: nobody/  user: daemon/; s/  group: nogroup/  group: daemon/' a.yml
kill -HUP "$PA"
check "process.user is kept until a restart" \
	wait_for 3 grep -q 'msg="Setting needs a restart, keeping the running value" key=process.user new=daemon old=nobody$' a.log
check "process.group too" grep -q 'msg="Setting needs a restart, keeping the running value" key=process.group new=daemon old=nogroup$' a.log
check "still nobody" [ "$(status "$PA" Uid)" = "65534 65534 65534 65534" ]

chown root a.key
chmod 600 a.key
kill -HUP "$PA"
check "a reload with a key nobody cannot read is refused" \
	wait_for 3 grep -q 'msg="Error occurred while reloading config" .*error=".*pki.key' a.log
check "and the tunnel stays" ip netns exec "$A" ping -c 2 -i 0.2 -W 2 192.168.80.2
chown nobody a.key

check "SIGTERM: A exits 0" stop_a
check "its TUN device is gone" wait_for 5 tun_gone "$A"
check_not "no other privilege error in its log" \
	sh -c "grep -v 'Error occurred while reloading config' a.log | grep -Eiq 'operation not permitted|permission denied'"

# --- an unprivileged exit node ----------------------------------------
if command -v nft >/dev/null; then
	ip netns exec "$A" sysctl -qw net.ipv4.ip_forward=0
	UNSAFE='' a_config "exit:
  serve: true"
	run_a a-exit.log
	wait_for 5 grep -q "Dropped privileges" a-exit.log
	dev=$(dev_of "$A")
	check "exit node as nobody: started and dropped" grep -q 'msg="Dropped privileges" .*user=nobody$' a-exit.log
	check "its masquerade table is there" ip netns exec "$A" nft list table ip "cairn_exit_$dev"
	check "forwarding is on" [ "$(ip netns exec "$A" sysctl -n net.ipv4.ip_forward)" = 1 ]
	check "SIGTERM: the exit node exits 0" stop_a
	check "nft (ambient CAP_NET_ADMIN) deleted the table" \
		sh -c "! ip netns exec $A nft list table ip cairn_exit_$dev"
	check "forwarding is back off" [ "$(ip netns exec "$A" sysctl -n net.ipv4.ip_forward)" = 0 ]
	check_not "no warning at stop" grep -q "could not" a-exit.log
else
	ok "# SKIP nft is not installed: no exit-node check"
fi

# --- a lighthouse serving DNS on port 53, as nobody -------------------
"$CT" sign -name h -ip 192.168.80.9/24
chown nobody h.crt h.key
H=$(ns h)
node_config h.yml h 4242 aes
printf 'lighthouse:\n  am_lighthouse: true\n  serve_dns: true\n  dns:\n    host: 127.0.0.1\n    port: 53\nprocess:\n  user: nobody\n' >>h.yml
chmod 644 h.yml
ph=$(spawn "$H" h.log "$LIGHTHOUSE" -config h.yml)
wait_for 5 grep -q "Dropped privileges" h.log
check "lighthouse with serve_dns: logs the drop, keeping cap_net_bind_service" \
	grep -q 'msg="Dropped privileges" capabilities="cap_net_admin,cap_net_bind_service" group=nogroup user=nobody$' h.log
check "CapEff: cap_net_admin and cap_net_bind_service (0000000000001400)" \
	[ "$(status "$ph" CapEff)" = 0000000000001400 ]
check "CapInh/CapAmb/CapBnd: cap_net_admin only" \
	[ "$(status "$ph" CapInh) $(status "$ph" CapAmb) $(status "$ph" CapBnd)" = "0000000000001000 0000000000001000 0000000000001000" ]
check "its DNS responder on port 53 answers" \
	ip netns exec "$H" python3 "$E2E_TOP/test/e2e/dnsq.py" 127.0.0.1 53 h.example A
stop_pids "$ph"

stop_pids "$pb"
if [ "$E2E_FAIL" -ne 0 ]; then for f in a.log a-exit.log b.log bad-test.log bad-run.log; do [ -f "$f" ] || continue; echo "# $f"; grep -v "Handshake message sent" "$f" | tail -12 | diag; done; fi
e2e_done
