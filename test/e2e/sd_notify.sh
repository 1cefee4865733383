#!/bin/bash
# e2e: the node under systemd's Type=notify, without systemd: NOTIFY_SOCKET
# names a datagram socket of ours, and the messages must come, from the
# node's own PID, in order: READY=1 with STATUS= once the device is up;
# around a SIGHUP RELOADING=1 with MONOTONIC_USEC, then READY=1 with the
# tunnel counted (also when the reload is refused); STOPPING=1 at SIGTERM,
# then exit 0.  A NOTIFY_SOCKET where nobody listens changes nothing.
# Last, systemd-analyze verify on the units of config-examples/systemd/.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$CT" "$NODE" "$LIGHTHOUSE"

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.79.1/24 -groups test
"$CT" sign -name b -ip 192.168.79.2/24 -groups test
A=$(ns a); B=$(ns b)
link "$A" 10.57.0.1/24 "$B" 10.57.0.2/24
node_config a.yml a 4242 aes "192.168.79.2=10.57.0.2:4242"
node_config b.yml b 4242 aes "192.168.79.1=10.57.0.1:4242"
DEV=$(sed -n 's/^  dev: //p' a.yml)

# The listener: one line per datagram in notify.log, "pid=PID usec=NOW
# MSG" with the sender's PID (SO_PASSCRED, as systemd reads it), the
# receiver's CLOCK_MONOTONIC in microseconds, and the message's lines
# joined by ';'.  It stops after STOPPING=1, or after 60 s.
python3 - "$E2E_DIR/notify.sock" "$E2E_DIR/notify.log" <<'PY' &
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
end = time.monotonic() + 60
with open(sys.argv[2], "w") as out:
    while time.monotonic() < end:
        s.settimeout(end - time.monotonic())
        try:
            msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            break
        pid = -1
        for lvl, typ, data in anc:
            if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        text = msg.decode().replace("\n", ";")
        out.write("pid=%d usec=%d %s\n" % (pid, now, text))
        out.flush()
        if "STOPPING=1" in text.split(";"):
            break
PY
LPID=$!
E2E_PIDS+=("$LPID")
wait_for 5 test -S notify.sock

# The node is this shell's child (not spawn's), so that wait gives its
# exit status; ip netns exec and env exec it, so $! is its PID.
ip netns exec "$A" env NOTIFY_SOCKET="$E2E_DIR/notify.sock" \
	"$NODE" -config a.yml >a.log 2>&1 &
PA=$!
E2E_PIDS+=("$PA")
PB=$(spawn "$B" b.log "$NODE" -config b.yml)

# nmsg: how many messages so far; msg N: the Nth, without pid and usec.
nmsg() { [ -f notify.log ] && wc -l <notify.log || echo 0; }
msg() { sed -n "${1}p" notify.log | cut -d' ' -f3-; }
has_msgs() { [ "$(nmsg)" -ge "$1" ]; }
STATUS_RE='STATUS=[0-9]+ tunnels?, [0-9]+ pending handshakes?'

check "READY=1 arrives after start-up" wait_for 10 has_msgs 1
check "the first message is READY=1 with STATUS=" \
	grep -Eq "^READY=1;$STATUS_RE\$" <(msg 1)
check "READY=1 came after \"Nebula interface is active\"" \
	grep -q "Nebula interface is active" a.log
check "the TUN device is up by then" ip -n "$A" link show dev "$DEV" up
check "a tunnel comes up" ip netns exec "$A" ping -c 2 -i 0.2 -W 2 192.168.79.2

kill -HUP "$PA"
check "SIGHUP: two more messages" wait_for 10 has_msgs 3
check "SIGHUP: RELOADING=1 with MONOTONIC_USEC first" \
	grep -Eq '^RELOADING=1;MONOTONIC_USEC=[0-9]+$' <(msg 2)
# MONOTONIC_USEC is CLOCK_MONOTONIC at the sender, just before it arrived
mono_ok() {
	local sent got
	sent=$(msg 2 | sed 's/.*MONOTONIC_USEC=//')
	got=$(sed -n 2p notify.log | sed 's/^pid=[0-9-]* usec=\([0-9]*\) .*/\1/')
	[ "$sent" -le "$got" ] && [ $((got - sent)) -lt 5000000 ]
}
check "SIGHUP: MONOTONIC_USEC is the monotonic clock of the moment" mono_ok
check "SIGHUP: then READY=1 with the tunnel counted" \
	grep -Eq '^READY=1;STATUS=1 tunnel, 0 pending handshakes$' <(msg 3)
check "SIGHUP: the reload happened" grep -q "configuration reloaded" a.log

# A refused reload: the running configuration stays, and so does READY.
cp a.yml a.yml.good
echo "tun: [" >>a.yml
kill -HUP "$PA"
check "refused reload: two more messages" wait_for 10 has_msgs 5
check "refused reload: RELOADING=1, then READY=1" \
	grep -Eq "^RELOADING=1;MONOTONIC_USEC=[0-9]+;READY=1;$STATUS_RE\$" \
	<(echo "$(msg 4);$(msg 5)")
check "refused reload: the node said why" grep -q "Error occurred while reloading config" a.log
cp a.yml.good a.yml
check "refused reload: the tunnel still carries traffic" \
	ip netns exec "$A" ping -c 2 -i 0.2 -W 2 192.168.79.2

kill -TERM "$PA"
check "SIGTERM: STOPPING=1 arrives" wait_for 10 has_msgs 6
check "SIGTERM: STOPPING=1 is the last message" \
	grep -qx 'STOPPING=1' <(msg 6)
for ((i = 0; i < 100; i++)); do alive "$PA" || break; sleep 0.1; done
alive "$PA" && kill -KILL "$PA"
wait "$PA"
rc=$?
check "SIGTERM: the node exits 0 (got $rc)" [ "$rc" -eq 0 ]
sleep 0.3
check "nothing after STOPPING=1" [ "$(nmsg)" -eq 6 ]
check "every message came from the node's PID ($PA)" \
	[ "$(grep -c "^pid=$PA " notify.log)" -eq 6 ]
wait "$LPID"

# Nobody listening: the node runs and stops as without NOTIFY_SOCKET.
ip netns exec "$A" env NOTIFY_SOCKET="$E2E_DIR/nobody.sock" \
	"$NODE" -config a.yml >a2.log 2>&1 &
PA=$!
E2E_PIDS+=("$PA")
check "no listener: the node starts" wait_for 10 grep -q "Nebula interface is active" a2.log
kill -HUP "$PA"
check "no listener: SIGHUP still reloads" wait_for 10 grep -q "configuration reloaded" a2.log
kill -TERM "$PA"
for ((i = 0; i < 100; i++)); do alive "$PA" || break; sleep 0.1; done
alive "$PA" && kill -KILL "$PA"
wait "$PA"
rc=$?
check "no listener: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check_not "no listener: nothing about it above debug" grep -qi "notify" a2.log
stop_pids "$PB"

# The unit files: systemd-analyze verify on copies whose ExecStart names
# the programs just built (it wants them executable), with our man pages
# where man(1) finds them for Documentation=.  Any complaint fails.
UNITS="$E2E_TOP/config-examples/systemd"
if ! command -v systemd-analyze >/dev/null; then
	for u in cairn.service cairn@.service cairn-lighthouse.service; do
		E2E_N=$((E2E_N + 1))
		echo "ok $E2E_N - systemd-analyze verify $u # SKIP systemd-analyze is not installed"
	done
else
	mkdir -p units man/man5 man/man8
	cp "$E2E_TOP"/man/*.8 man/man8/
	cp "$E2E_TOP"/man/*.5 man/man5/
	for u in cairn.service cairn@.service cairn-lighthouse.service; do
		sed -e "s|/usr/local/bin/|$E2E_TOP/bin/|" "$UNITS/$u" >"units/$u"
	done
	verify() { # UNIT: true when verify exits 0 and says nothing
		local out
		out=$(cd units && MANPATH="$E2E_DIR/man" systemd-analyze verify "$@" 2>&1) ||
			{ echo "$out"; return 1; }
		[ -z "$out" ] || { echo "$out"; return 1; }
	}
	check "systemd-analyze verify cairn.service" verify "$E2E_DIR/units/cairn.service"
	check "systemd-analyze verify cairn@.service (instance e2e)" \
		verify "$E2E_DIR/units/cairn@.service" "$E2E_DIR/units/cairn@e2e.service"
	check "systemd-analyze verify cairn-lighthouse.service" verify "$E2E_DIR/units/cairn-lighthouse.service"
	check "the units start the installed programs" \
		grep -q "^ExecStart=/usr/local/bin/cairn -config /etc/cairn/config.yml$" "$UNITS/cairn.service"
fi

if [ "$E2E_FAIL" -ne 0 ]; then
	echo "# --- notify.log"; diag notify.log
	echo "# --- check.log"; tail -20 check.log | diag
	for f in a.log a2.log; do echo "# --- $f"; tail -15 "$f" | diag; done
fi
e2e_done
