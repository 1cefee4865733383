#!/bin/bash
# e2e: a node that never runs as root, as config-examples/systemd's units
# start it (User=, AmbientCapabilities=CAP_NET_ADMIN, the bounding set
# CAP_NET_ADMIN alone, NoNewPrivileges), here with setpriv(1).  The TUN
# device node is 0666 on Debian; in this test's private mount namespace a
# copy with that mode is bound over /dev/net/tun, so nothing of the
# machine changes.  Checked: uid nobody and CAP_NET_ADMIN alone in every
# capability set; tunnels both ways with a TCP transfer (sha256); the
# control socket in a directory nobody may write (the units'
# RuntimeDirectory); a SIGHUP reload applies a firewall change; SIGTERM
# ends it cleanly ("Goodbye") and removes the device.  Without CAP_NET_ADMIN the node refuses
# to start, says why and exits non-zero.  The example units pass
# systemd-analyze verify (when systemd is installed).
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$NODE" "$CT"
CTL="$E2E_TOP/bin/cairnctl"
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null ||
	{ echo "not ok 1 - no user nobody or group nogroup"; echo "1..1"; exit 1; }

"$CT" ca -name lp-ca -duration 2h >/dev/null
"$CT" sign -name a -ip 192.168.67.1/24
"$CT" sign -name b -ip 192.168.67.2/24
chmod 755 "$E2E_DIR"
chmod 644 ca.crt a.crt
chown nobody a.key
mkdir -m 0755 run && chown nobody run # as RuntimeDirectory= makes it
A=$(ns a); B=$(ns b)
link "$A" 10.67.0.1/24 "$B" 10.67.0.2/24
node_config a.yml a 4242 aes "192.168.67.2=10.67.0.2:4242"
cat >>a.yml <<EOF
control:
  listen: $E2E_DIR/run/a.sock
EOF
node_config b.yml b 4242 aes "192.168.67.1=10.67.0.1:4242"
chmod 644 a.yml
DEV_A=$(awk '/^  dev:/ {print $2}' a.yml)
head -c 2000000 /dev/urandom >blob

# unpriv CAPS CMD...: CMD as nobody with CAPS (e.g. +net_admin, or empty)
# as its inheritable, ambient and bounding sets, in a private mount
# namespace whose /dev/net/tun is mode 0666.
cat >unpriv.sh <<'EOF'
#!/bin/bash
caps=$1; shift
rm -f "$E2E_DIR/tun"
mknod -m 0666 "$E2E_DIR/tun" c 10 200 || exit 70
mount --bind "$E2E_DIR/tun" /dev/net/tun || exit 70
exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all$caps --ambient-caps=-all$caps \
	--bounding-set=-all$caps --no-new-privs "$@"
EOF
chmod 755 unpriv.sh
export E2E_DIR

pa=$(spawn "$A" a.log unshare -m --propagation private ./unpriv.sh ,+net_admin "$NODE" -config a.yml)
pb=$(spawn "$B" b.log "$NODE" -config b.yml)
check "a is up as nobody" wait_for 10 ip -n "$A" link show "$DEV_A"
npid=$(ip netns pids "$A" | while read -r p; do grep -qx "$(basename "$NODE")" "/proc/$p/comm" 2>/dev/null && echo "$p"; done | head -1)
check "a runs as uid nobody" test "$(awk '/^Uid:/ {print $2 $3 $4 $5}' "/proc/$npid/status")" = \
	"$(id -u nobody)$(id -u nobody)$(id -u nobody)$(id -u nobody)"
for s in CapEff CapPrm CapInh CapAmb CapBnd; do
	check "a: $s is CAP_NET_ADMIN alone" \
		test "$(awk -v k="$s:" '$1 == k {print $2}' "/proc/$npid/status")" = 0000000000001000
done
check "a: NoNewPrivs" grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$npid/status"
check "ping b -> a" wait_for 10 ip netns exec "$B" ping -c 1 -W 1 192.168.67.1
check "ping a -> b" ip netns exec "$A" ping -c 2 -W 1 192.168.67.2
check "2 MB TCP b -> a, sha256 matches" tcp_transfer "$B" "$A" 192.168.67.1 blob
check "the control socket where nobody may write" \
	bash -c "\"$CTL\" -socket $E2E_DIR/run/a.sock show | grep -q '^name: *a$'"
check_not "no error or fatal line" grep -Eq 'level=(error|fatal)' a.log

# a reload: inbound TCP only -> pings refused
sed -i '/^  inbound:/,$d' a.yml
cat >>a.yml <<EOF
  inbound:
    - port: any
      proto: tcp
      host: any
control:
  listen: $E2E_DIR/run/a.sock
EOF
kill -HUP "$npid"
check "a reloads as nobody" wait_for 10 grep -q 'msg="configuration reloaded"' a.log
check_not "the new firewall applies: ping b -> a refused" \
	ip netns exec "$B" ping -c 2 -W 1 192.168.67.1
check "TCP still allowed after the reload" tcp_transfer "$B" "$A" 192.168.67.1 blob
kill -TERM "$npid"
check "SIGTERM: a exits" wait_for 10 eval '! alive '"$npid"
check "a said goodbye (a clean exit)" grep -q 'msg=Goodbye' a.log
check "the TUN device is gone" wait_for 5 eval "! ip -n $A link show $DEV_A"

# without CAP_NET_ADMIN: refused, said, non-zero
ip netns exec "$A" unshare -m --propagation private ./unpriv.sh "" "$NODE" -config a.yml >nocap.log 2>&1
rc=$?
check "without CAP_NET_ADMIN: exit non-zero ($rc)" test "$rc" -ne 0
check "without CAP_NET_ADMIN: the log says why" grep -Eq 'level=(error|fatal).*(tun|TUN|not permitted|denied)' nocap.log

if command -v systemd-analyze >/dev/null; then
	for u in cairn.service cairn@.service cairn-lighthouse.service; do
		cp "$E2E_TOP/config-examples/systemd/$u" "$E2E_DIR/$u"
		# the paths it names need not exist here
		check "systemd-analyze verify $u" bash -c \
			"systemd-analyze verify --man=no '$E2E_DIR/$u' 2>&1 | grep -v -e 'is not executable' -e 'No such file' -e 'Command .* is not' | grep -q . && exit 1 || exit 0"
	done
else
	E2E_N=$((E2E_N + 1)); echo "ok $E2E_N # SKIP systemd-analyze not installed"
fi
[ "$E2E_FAIL" -eq 0 ] || { echo "# a.log:"; tail -20 a.log | diag; echo "# nocap.log:"; tail -5 nocap.log | diag; }
e2e_done
