#!/bin/bash
# e2e: the sshd section, Nebula's debug console, with OpenSSH's client.
# Node a (sshd on :2222) and b in namespaces, a tunnel between them.
#  - -test accepts the section (Nebula 1.6.1 too) and refuses port 22, a
#    missing host key and a bad authorized key with file:line: key: reason;
#  - the host key ssh sees is sshd.host_key's;
#  - the authorized key runs each Nebula command through exec, output as
#    the control socket's, exit status 0 (as Nebula), JSON that parses;
#    through the tunnel too;
#  - the shell, without and with a terminal: prompt, commands, logout;
#  - refused: another key, passwords and keyboard-interactive, an unknown
#    user, port forwarding, subsystems; the log says who got in and who
#    did not;
#  - a client that never logs in holds up nobody;
#  - reloads: an unchanged section keeps the server; a changed key
#    restarts it and takes effect; enabled: false stops it, true again
#    starts it; a reload run over SSH still answers;
#  - the helper killed with -9 is restarted;
#  - with process.user: nobody the helper runs as nobody, without
#    capabilities, no new privileges;
#  - SIGTERM: the helper goes with the node;
#  - the same basics under the ASan build of the node and the helper.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
HELPER="$E2E_TOP/bin/cairn-sshd"
need "$NODE" "$CT" "$HELPER"
for p in ssh ssh-keygen ssh-keyscan python3; do
	command -v "$p" >/dev/null || { echo "not ok 1 - $p is not installed (openssh-client)"; echo "1..1"; exit 1; }
done

"$CT" ca -name e2e-sshd-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.91.1/24 -groups ops
"$CT" sign -name b -ip 192.168.91.2/24
A=$(ns a); B=$(ns b)
link "$A" 10.61.0.1/24 "$B" 10.61.0.2/24
ssh-keygen -q -t ed25519 -N "" -C "" -f host
ssh-keygen -q -t ed25519 -N "" -C "alice@e2e" -f alice
ssh-keygen -q -t rsa -b 2048 -N "" -C "" -f mallory
ssh-keygen -q -t ecdsa -N "" -C "" -f bob

# a_config [USERS...]: a's configuration; USER=KEYFILE pairs authorized,
# SSHD_ENABLED (true), PROC_USER (none) as set
a_config() {
	local u
	node_config a.yml a 4242 aes "192.168.91.2=10.61.0.2:4242"
	{
		echo "sshd:"
		echo "  enabled: ${SSHD_ENABLED:-true}"
		echo "  listen: \":2222\""
		echo "  host_key: $E2E_DIR/host"
		echo "  authorized_users:"
		for u in "$@"; do
			echo "    - user: ${u%%=*}"
			echo "      keys:"
			echo "        - \"$(cat "${u#*=}.pub")\""
		done
		if [ -n "${PROC_USER:-}" ]; then
			echo "process:"
			echo "  user: $PROC_USER"
		fi
	} >>a.yml
}
a_config alice=alice
node_config b.yml b 4242 aes "192.168.91.1=10.61.0.1:4242"

# --- loading ----------------------------------------------------------
check "-test accepts the sshd section" "$NODE" -config a.yml -test
if NEB=$(command -v nebula); then
	check "Nebula 1.6.1 accepts it too" "$NEB" -config a.yml -test
fi
# bad VARIANT SED-EXPR WANT: -test refuses the edited file, exit 1,
# with file:line: key: reason
bad() {
	local line rc
	sed "$2" a.yml >bad.yml
	line=$(grep -n "$4" bad.yml | head -1 | cut -d: -f1)
	"$NODE" -config bad.yml -test >bad.log 2>&1
	rc=$?
	check "-test refuses $1 (exit 1)" [ "$rc" -eq 1 ]
	check "  with bad.yml:$line: $3" grep -qF "bad.yml:$line: $3" bad.log
}
bad "port 22" 's/":2222"/"127.0.0.1:22"/' \
	"sshd.listen: sshd.listen can not use port 22" '127.0.0.1:22'
bad "a missing host key" "s|host_key: .*|host_key: $E2E_DIR/nonexistent|" \
	"sshd.host_key: error while loading sshd.host_key file: open $E2E_DIR/nonexistent: no such file or directory" \
	nonexistent
bad "a public key as host key" "s|host_key: .*|host_key: $E2E_DIR/host.pub|" \
	"sshd.host_key: error while adding sshd.host_key: failed to parse private key: ssh: no key found" \
	host.pub
bad "a bad authorized key" 's/AAAAC3NzaC1lZDI1NTE5/AAAAC3NzaC1lZDI1NTE6/' \
	"sshd.authorized_users[0].keys[0]: the key inside is not of the type written before it" \
	AAAAC3NzaC1lZDI1NTE6

# --- running ----------------------------------------------------------
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
pb=$(spawn "$B" b.log "$NODE" -config b.yml)
listening() { [ "$(grep -c 'msg="SSH server is listening"' a.log)" -ge "${1:-1}" ]; }
check "a: the helper starts and listens" wait_for 10 listening
check "a: the helper logged its start" grep -q 'msg="sshd helper started" authorizedKeys=1 listen=":2222" pid=[0-9]*' a.log
check "a: its authorized key logged, by fingerprint" \
	grep -q "msg=\"Authorized ssh key\" sshFingerprint=\"$(ssh-keygen -lf alice.pub | cut -d' ' -f2)\" sshUser=alice subsystem=sshd" a.log
check "a reaches b" wait_for 10 ip netns exec "$A" ping -c 1 -W 1 192.168.91.2
helper() { pgrep -P "$pa" -x cairn-sshd; }
H1=$(helper)
check "the helper is a child of the node" [ -n "$H1" ]

SSHO=(-p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
	-o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -o IdentitiesOnly=yes)
# on NS KEY USER@HOST ARGS...: ssh from a namespace
on() { local n=$1 k=$2; shift 2; ip netns exec "$n" timeout 20 ssh "${SSHO[@]}" -i "$k" "$@"; }
# run CMD...: alice runs a command on a over loopback; output in out.txt
run() { on "$A" alice alice@127.0.0.1 "$@" >out.txt 2>err.txt; }
has() { grep -qF -- "$1" out.txt; }
# json PYEXPR CMD...: run CMD, its output JSON for which PYEXPR (of d)
# is true
json() {
	local e=$1
	shift
	run "$@" && python3 -c "import json, sys
d = json.load(open('out.txt'))
sys.exit(0 if ($e) else 1)"
}
answers() { run "$1" && has "$2"; }
VERSION=$("$NODE" -version | head -1 | awk '{print $NF}')

check "the host key presented is sshd.host_key's" bash -c \
	"[ \"\$(ip netns exec $A ssh-keyscan -p 2222 -t ed25519 127.0.0.1 2>/dev/null | ssh-keygen -lf - | cut -d' ' -f2)\" = \"\$(ssh-keygen -lf host.pub | cut -d' ' -f2)\" ]"
sed 's/^/[127.0.0.1]:2222 /' host.pub >known_hosts
check "and it verifies against known_hosts (StrictHostKeyChecking=yes)" \
	ip netns exec "$A" timeout 20 ssh -p 2222 -o StrictHostKeyChecking=yes \
	-o UserKnownHostsFile="$E2E_DIR/known_hosts" -o BatchMode=yes \
	-i alice alice@127.0.0.1 version

# --- exec: each command ---------------------------------------------------
check "exec version: the node's version, exit 0" run version
check "  prints $VERSION" has "$VERSION"
check "exec help: exit 0" run help
check "  lists Nebula's commands" bash -c 'for c in list-hostmap list-pending-hostmap list-lighthouse-addrmap print-cert print-tunnel query-lighthouse reload log-level log-format close-tunnel create-tunnel change-remote version; do grep -q -- "$c" out.txt || exit 1; done'
check "exec list-hostmap: exit 0" run list-hostmap
check "  shows the tunnel to b" has 192.168.91.2
check "exec list-hostmap -json: exit 0" run list-hostmap -json
check "  JSON, with b" json '"192.168.91.2" in json.dumps(d)' list-hostmap -json
check "exec list-hostmap -json -pretty parses" json 'True' list-hostmap -json -pretty
check "exec list-pending-hostmap: exit 0" run list-pending-hostmap
check "exec list-pending-hostmap -json parses" json 'True' list-pending-hostmap -json
check "exec list-lighthouse-addrmap: exit 0" run list-lighthouse-addrmap
check "exec print-cert: exit 0" run print-cert
cert_a() { has '"name":"a"' || has "Name: a"; }
check "  our certificate" cert_a
check "exec print-cert -json: our certificate as JSON" \
	json 'd["details"]["name"] == "a" and d["details"]["groups"] == ["ops"]' print-cert -json
check "exec print-cert -json 192.168.91.2: b's" \
	json 'd["details"]["name"] == "b"' print-cert -json 192.168.91.2
check "exec print-tunnel 192.168.91.2: JSON" \
	json '"192.168.91.2" in json.dumps(d)' print-tunnel 192.168.91.2
check "exec query-lighthouse 192.168.91.2: exit 0" run query-lighthouse 192.168.91.2
check "exec log-level: info" answers log-level info
check "exec log-level debug" run log-level debug
check "  takes effect" answers log-level debug
run log-level info
check "exec log-format: text (as Nebula words it)" answers log-format TextFormatter
check "exec reload: exit 0" run reload
check "  reloaded" grep -qi "reload" out.txt
check "  the helper is not restarted by an unchanged sshd section" [ "$(helper)" = "$H1" ]
check "exec close-tunnel 192.168.91.2: exit 0" run close-tunnel 192.168.91.2
no_tunnel() { run list-hostmap && ! has 192.168.91.2; }
check "  the tunnel is gone" wait_for 5 no_tunnel
check "exec create-tunnel -address 10.61.0.2:4242 192.168.91.2: exit 0" \
	run create-tunnel -address 10.61.0.2:4242 192.168.91.2
tunnel() { run list-hostmap && has 192.168.91.2; }
check "  the tunnel is back" wait_for 10 tunnel
check "exec change-remote -address 10.61.0.2:4242 192.168.91.2: exit 0" \
	run change-remote -address 10.61.0.2:4242 192.168.91.2
check "an unknown command: exit 0 (as Nebula), the server's text" run no-such-command
check "  says so" bash -c "[ -s out.txt ]"
check "quoted arguments reach the command as one" run "print-cert '-json'"
check "  (JSON)" python3 -c 'import json; json.load(open("out.txt"))'
via_tunnel() { on "$B" alice alice@192.168.91.1 list-hostmap >out.txt && has 192.168.91.2; }
check "through the tunnel: b runs list-hostmap on a's overlay address" via_tunnel

# --- the shell ------------------------------------------------------------
printf 'version\nprint-cert -json\n\nlogout\nversion\n' |
	ip netns exec "$A" timeout 20 ssh "${SSHO[@]}" -T -i alice alice@127.0.0.1 >shell.txt 2>&1
rc=$?
check "shell without a terminal: exit 0" [ "$rc" -eq 0 ]
check "  prompts alice@nebula >" grep -qF "alice@nebula > " shell.txt
check "  runs each line" bash -c "grep -qF '$VERSION' shell.txt && grep -qF '\"name\":\"a\"' shell.txt"
check "  an empty line lists the commands (as Nebula)" grep -q "list-hostmap" shell.txt
check "  logout ends it: Goodbye, nothing after" bash -c "tail -1 shell.txt | grep -qx 'alice@nebula > Goodbye'"
printf 'version' | ip netns exec "$A" timeout 20 ssh "${SSHO[@]}" -T -i alice alice@127.0.0.1 >shell2.txt 2>&1
check "  the end of input ends it, a last line without newline run" \
	grep -qF "$VERSION" shell2.txt
{ sleep 1; printf 'vers\177\177rsion\r'; sleep 0.5; printf 'bogus\025log-format\r'; sleep 0.5; printf '\033[A\033[A\r'; sleep 0.5; printf '\004'; } |
	ip netns exec "$A" timeout 20 ssh "${SSHO[@]}" -tt -i alice alice@127.0.0.1 >tty.txt 2>&1
rc=$?
tr -d '\r' <tty.txt >tty2.txt
check "shell with a terminal (-tt): exit 0" [ "$rc" -eq 0 ]
check "  erase: version ran" grep -qF "$VERSION" tty2.txt
check "  ^U dropped 'bogus': log-format ran" grep -q "TextFormatter" tty2.txt
check "  up arrow: history (version again)" bash -c "[ \$(grep -cxF '$VERSION' tty2.txt) -ge 2 ]"
check "  ^D: Goodbye" grep -q "Goodbye" tty2.txt

# --- refusals ---------------------------------------------------------------
on "$A" mallory alice@127.0.0.1 version >deny.txt 2>&1
rc=$?
check "another key: refused (255, Permission denied)" bash -c "[ $rc -eq 255 ] && grep -q 'Permission denied (publickey)' deny.txt"
ip netns exec "$A" timeout 20 ssh -p 2222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o BatchMode=yes -o PubkeyAuthentication=no \
	-o PreferredAuthentications=password,keyboard-interactive alice@127.0.0.1 version >deny.txt 2>&1
rc=$?
check "password and keyboard-interactive: refused, publickey only" bash -c "[ $rc -eq 255 ] && grep -q 'Permission denied (publickey)' deny.txt"
on "$A" alice bob@127.0.0.1 version >deny.txt 2>&1
rc=$?
check "an unknown user with a known key: refused" bash -c "[ $rc -eq 255 ] && grep -q 'Permission denied' deny.txt"
check_not "port forwarding (-W): refused" on "$A" alice -W 127.0.0.1:2222 alice@127.0.0.1 </dev/null
check_not "a subsystem (sftp): refused" on "$A" alice -s alice@127.0.0.1 sftp </dev/null
check "log: alice logged in, with her key's fingerprint" \
	grep -q "msg=\"ssh user logged in\" remoteAddress=\"127.0.0.1:[0-9]*\" sshFingerprint=\"$(ssh-keygen -lf alice.pub | cut -d' ' -f2)\" sshUser=alice subsystem=sshd" a.log
check "log: mallory's key refused" \
	grep -q "msg=\"failed to handshake\" error=\"unknown public key for alice ($(ssh-keygen -lf mallory.pub | cut -d' ' -f2))\"" a.log
check "log: the unknown user" grep -q 'msg="failed to handshake" error="unknown user bob"' a.log

# --- concurrency --------------------------------------------------------------
# a client that connects and says nothing holds one connection, not all
ip netns exec "$A" timeout 20 nc 127.0.0.1 2222 </dev/null >/dev/null 2>&1 &
E2E_PIDS+=("$!")
sleep 0.5
check "a silent client does not hold up the others" run version
par() {
	local i
	for i in 1 2 3 4 5 6; do
		on "$A" alice alice@127.0.0.1 list-hostmap >"par$i.txt" 2>&1 &
	done
	wait
	for i in 1 2 3 4 5 6; do grep -q 192.168.91.2 "par$i.txt" || return 1; done
}
check "six sessions at once all answer" par

# --- reloads ------------------------------------------------------------------
a_config bob=bob
kill -HUP "$pa"
check "a changed key: the helper restarts" wait_for 10 listening 2
check "  logged: authorized_users changed, restart" bash -c \
	"grep -q 'msg=\"sshd.authorized_users changed (sshd)\"' a.log && grep -q 'msg=\"sshd settings changed: restarting the helper\"' a.log"
check_not "  alice's key is refused now" run version
check "  bob's is taken" on "$A" bob bob@127.0.0.1 version
H2=$(helper)
check "  a new helper process" [ -n "$H2" -a "$H2" != "$H1" ]
# a reload run over SSH that restarts the server still answers
a_config alice=alice
on "$A" bob bob@127.0.0.1 reload >out.txt 2>&1
check "reload over SSH that changes the section: its answer arrives" grep -qi "reload" out.txt
check "  and alice is back" wait_for 10 on "$A" alice alice@127.0.0.1 version
SSHD_ENABLED=false a_config alice=alice
kill -HUP "$pa"
gone() { [ -z "$(helper)" ]; }
check "enabled: false: the helper stops" wait_for 10 gone
check "  logged" grep -q 'msg="sshd disabled: stopping the helper"' a.log
check "  nothing listens on 2222" bash -c "! ip netns exec $A ss -ltn 'sport = :2222' | grep -q LISTEN"
a_config alice=alice
kill -HUP "$pa"
check "enabled: true again: it starts" wait_for 10 on "$A" alice alice@127.0.0.1 version

# --- the helper killed --------------------------------------------------------
H3=$(helper)
kill -KILL "$H3"
check "kill -9: logged, restart in 1s" wait_for 5 grep -q 'msg="sshd helper was killed by signal 9; restarting it in 1s"' a.log
restarted() { local h; h=$(helper); [ -n "$h" ] && [ "$h" != "$H3" ]; }
check "  a new helper" wait_for 10 restarted
check "  serving" wait_for 10 run version

# --- stop ---------------------------------------------------------------------
H4=$(helper)
kill -TERM "$pa"
check "SIGTERM: the node exits" wait_for 10 eval '! alive $pa'
check_not "  and the helper with it" kill -0 "$H4"
check "  which said so" grep -q 'msg="SSH server stopped listening"' a.log
check_not "no helper left in a's namespace" bash -c "ip netns pids $A | xargs -r ps -o comm= -p | grep -q cairn-sshd"

# --- as nobody ---------------------------------------------------------------
if id nobody >/dev/null 2>&1; then
	chmod 755 "$E2E_DIR"
	chmod 644 ca.crt a.crt
	chown nobody a.key host
	PROC_USER=nobody a_config alice=alice
	chmod 644 a.yml
	pa=$(spawn "$A" a2.log "$NODE" -config a.yml)
	check "process.user nobody: the helper starts" wait_for 10 grep -q 'msg="SSH server is listening"' a2.log
	check "  and serves" wait_for 10 on "$A" alice alice@127.0.0.1 version
	h=$(pgrep -P "$pa" -x cairn-sshd)
	st() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
	check "  the helper runs as nobody" [ "$(st "$h" Uid)" = "$(id -u nobody)" ]
	caps() { [ "$(st "$h" CapEff)$(st "$h" CapPrm)$(st "$h" CapAmb)" = 000000000000000000000000000000000000000000000000 ] && [ "$(st "$pa" CapEff)" = 0000000000001000 ]; }
	check "  with no capabilities (the node keeps cap_net_admin)" caps
	check "  no new privileges" [ "$(st "$h" NoNewPrivs)" = 1 ]
	stop_pids "$pa"
fi

# --- under ASan -----------------------------------------------------------
if [ -x "$ASAN_NODE" ] && [ -x "$(dirname "$ASAN_NODE")/cairn-sshd" ]; then
	chown root a.key host
	PROC_USER= a_config alice=alice
	pa=$(spawn "$A" asan.log env ASAN_OPTIONS=detect_leaks=1 "$ASAN_NODE" -config a.yml)
	check "asan: the helper starts" wait_for 20 grep -q 'msg="SSH server is listening"' asan.log
	check "asan: exec list-hostmap" wait_for 10 run list-hostmap
	printf 'version\nprint-cert -json\nlogout\n' | on "$A" alice alice@127.0.0.1 -T >/dev/null 2>&1
	on "$A" mallory alice@127.0.0.1 version >/dev/null 2>&1
	a_config alice=alice bob=bob
	kill -HUP "$pa"
	n_listening() { [ "$(grep -c 'msg="SSH server is listening"' asan.log)" -ge "$1" ]; }
	check "asan: a reload restarts it" wait_for 20 n_listening 2
	check "asan: bob gets in" wait_for 10 on "$A" bob bob@127.0.0.1 version
	kill -KILL "$(pgrep -P "$pa" -x cairn-sshd)"
	check "asan: restarted after kill -9" wait_for 20 n_listening 3
	kill -TERM "$pa"
	check "asan: SIGTERM, the node exits" wait_for 20 eval '! alive $pa'
	check_not "asan: no sanitizer report" grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error" asan.log
else
	E2E_N=$((E2E_N + 1)); echo "ok $E2E_N # SKIP build/asan/bin/cairn and its cairn-sshd not built"
fi

stop_pids "$pb"
if [ "$E2E_FAIL" -ne 0 ]; then
	echo "# a.log (tail):"; tail -40 a.log | diag
	echo "# check.log (tail):"; tail -40 check.log | diag
	[ -f asan.log ] && { echo "# asan.log:"; grep -A30 "Sanitizer\|runtime error" asan.log | head -80 | diag; }
	echo "# out.txt, tty2.txt:"; cat out.txt tty2.txt | head -60 | diag
fi
e2e_done
