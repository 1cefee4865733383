#!/bin/bash
# e2e: the control socket and cairnctl(8).  a (a lighthouse, under ASan
# and UBSan when built) and b (registers with a) in namespaces; b's
# socket is at its default place (/run/cairn/DEV.sock), a's configured.
# Every command, human and -json (parsed), with Nebula's console names
# and their texts; exit statuses; the socket's mode and group; the
# protocol's refusals (version, framing, limits) from a raw client; a
# client that does not read its answers and sixteen idle ones while
# cairnctl and a TCP transfer go on; a stale socket replaced, a live one
# left alone.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
CTL="$E2E_TOP/bin/cairnctl"
need "$NODE" "$CT" "$CTL"
NODE_A=$NODE
[ -x "$ASAN_NODE" ] && NODE_A=$ASAN_NODE
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

"$CT" ca -name e2e-ctl-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.81.1/24 -groups lh,ops
"$CT" sign -name b -ip 192.168.81.2/24 -groups web
A=$(ns a); B=$(ns b)
link "$A" 10.81.0.1/24 "$B" 10.81.0.2/24
head -c 3000000 /dev/urandom >blob

SA=$E2E_DIR/a.sock
getent group nogroup >/dev/null && GRP=nogroup || GRP=nobody
mesh_config a.yml a 192.168.81.1 10.81.0.1:4242 true
cat >>a.yml <<EOF
control:
  listen: $SA
  group: $GRP
EOF
mesh_config b.yml b 192.168.81.1 10.81.0.1:4242
DEV_B=$(awk '/^  dev:/ {print $2}' b.yml)
SB=/run/cairn/$DEV_B.sock

pa=$(spawn "$A" a.log "$NODE_A" -config a.yml)
pb=$(spawn "$B" b.log "$NODE" -config b.yml)
wait_for 10 test -S "$SA"
wait_for 10 test -S "$SB"
check "a: socket where control.listen says" test -S "$SA"
check "b: socket at the default place $SB" test -S "$SB"
check "a: logged" grep -q "Control socket listening\" path=\"\?$SA" a.log
check "b: mode 0600" test "$(stat -c %a "$SB")" = 600
check "a: control.group makes it 0660 and $GRP's" \
	test "$(stat -c '%a %G' "$SA")" = "660 $GRP"
ip netns exec "$B" ping -c 3 -i 0.2 -W 2 192.168.81.1 >/dev/null 2>&1
check "ping b -> a through the tunnel" ip netns exec "$B" ping -c 2 -W 2 192.168.81.1

ca() { "$CTL" -socket "$SA" "$@"; }
cb() { "$CTL" -socket "$SB" "$@"; }
# js SOCKET PYEXPR ARGS...: the -json answer, as j, makes PYEXPR true.
js() {
	local s=$1 e=$2; shift 2
	"$CTL" -socket "$s" "$@" | python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($e) else 1)"
}

# --- ours --------------------------------------------------------------
check "show" bash -c "\"$CTL\" -socket $SB show | grep -q '^name: *b$'"
check "show: overlay and role" bash -c "\"$CTL\" -socket $SA show | grep -q '^overlay: *192.168.81.1/24' && \"$CTL\" -socket $SA show | grep -q '^role: *lighthouse'"
check "show -json" js "$SB" "j['name']=='b' and j['vpnIp']=='192.168.81.2' and j['groups']==['web'] and j['listenPort']==4242 and j['cipher']=='aes' and j['tunnels']>=1 and 35000 < j['certSecondsLeft'] <= 36000" show -json
check "show -json on the lighthouse" js "$SA" "j['lighthouse'] and j['registeredHosts']==1" show -json
check "tunnels: b's line on a" bash -c "\"$CTL\" -socket $SA tunnels | grep -Eq '^192\.168\.81\.2 +b +10\.81\.0\.2:4242 '"
check "tunnels -json: counts and bytes move" js "$SA" "len(j)==1 and j[0]['name']=='b' and j[0]['groups']==['web'] and j[0]['endpoint']=='10.81.0.2:4242' and not j[0]['relayed'] and j[0]['rxPackets']>=5 and j[0]['rxBytes']>=400 and j[0]['txBytes']>=400 and j[0]['lastRxSecondsAgo']<10" tunnels -json
check "peer: detail and certificate" bash -c "\"$CTL\" -socket $SA peer 192.168.81.2 | grep -q 'Name: b' && \"$CTL\" -socket $SA peer 192.168.81.2 | grep -q '^endpoint: *10.81.0.2:4242'"
check "peer -json: the certificate inside" js "$SA" "j['cert']['details']['name']=='b' and j['certFingerprint']==j['cert']['fingerprint']" peer -json 192.168.81.2
check "peer: no such tunnel is status 1" bash -c "\"$CTL\" -socket $SA peer 192.168.81.77 >out.txt; [ \$? = 1 ] && grep -q 'Could not find tunnel for vpn ip: 192.168.81.77' out.txt"
check "peer: a bad IP is status 2" bash -c "\"$CTL\" -socket $SA peer nonsense >/dev/null 2>&1; [ \$? = 2 ]"
check "hosts on the lighthouse" bash -c "\"$CTL\" -socket $SA hosts | grep -Eq '^192\.168\.81\.2 +learned=10\.81\.0\.2:4242 reported=.*10\.81\.0\.2:4242'"
check "hosts -json" js "$SA" "len(j)==1 and j[0]['vpnIp']=='192.168.81.2' and {'ip':'10.81.0.2','port':4242} in j[0]['reported']" hosts -json
check "hosts on a node: status 1" bash -c "\"$CTL\" -socket $SB hosts >/dev/null; [ \$? = 1 ]"
check "lookup" js "$SA" "j['vpnIp']=='192.168.81.2' and j['learned']==[{'ip':'10.81.0.2','port':4242}]" lookup -json 192.168.81.2
check "lookup: not registered" bash -c "\"$CTL\" -socket $SA lookup 192.168.81.9 | grep -q 'is not registered'"
# b asks a about a host that is not there, then about a (which a
# answers for itself only when registered: nothing), then waits
check "query from b" bash -c "\"$CTL\" -socket $SB query 192.168.81.1 | grep -q 'Asked the lighthouses'"
check "counters" bash -c "\"$CTL\" -socket $SA counters | grep -Eq '^tunnels +1$'"
check "counters -json" js "$SA" "j['tunnels']==1 and j['hsCompleted']>=1" counters -json
check "handshake to a host nobody knows" bash -c "\"$CTL\" -socket $SB handshake 192.168.81.9 | grep -qx Created"
check "pending shows it" js "$SB" "any(p['vpnIp']=='192.168.81.9' and p['attempts']>=0 for p in j)" pending -json
check "pending, human" bash -c "\"$CTL\" -socket $SB pending | grep -q '^192.168.81.9 '"
check "handshake again: already handshaking, status 1" bash -c "\"$CTL\" -socket $SB handshake 192.168.81.9 >out.txt; [ \$? = 1 ] && grep -qx 'Tunnel already handshaking' out.txt"
check "help lists the commands" bash -c "\"$CTL\" -socket $SA help | grep -q 'list-hostmap' && \"$CTL\" -socket $SA help | grep -q 'log-level'"
check "help -json" js "$SA" "len(j)>=20 and all('name' in c and 'usage' in c for c in j)" help -json
check "an unknown command is status 2" bash -c "\"$CTL\" -socket $SA frobnicate 2>err.txt; [ \$? = 2 ] && grep -q 'unknown command: frobnicate' err.txt"
check "an unknown flag is status 2" bash -c "\"$CTL\" -socket $SA tunnels -bogus 2>err.txt; [ \$? = 2 ] && grep -q 'flag provided but not defined: -bogus' err.txt"

# --- Nebula's debug-console names and texts ----------------------------
check "list-hostmap" bash -c "\"$CTL\" -socket $SA list-hostmap | grep -qx '192.168.81.2: \[10.81.0.2:4242\]'"
check "list-hostmap -json" js "$SA" "j[0]['vpnIp']=='192.168.81.2' and j[0]['currentRemote']=={'ip':'10.81.0.2','port':4242} and j[0]['cert']['details']['name']=='b' and j[0]['messageCounter']>0 and j[0]['currentRelaysToMe']==[]" list-hostmap -json
check "list-hostmap -pretty indents by four" bash -c "\"$CTL\" -socket $SA list-hostmap -pretty | grep -q '^        \"vpnIp\": \"192.168.81.2\",$'"
check "list-pending-hostmap" js "$SB" "any(p['vpnIp']=='192.168.81.9' and p['cert'] is None for p in j)" list-pending-hostmap -json
check "list-lighthouse-addrmap on the lighthouse" bash -c "\"$CTL\" -socket $SA list-lighthouse-addrmap | grep -q '^192.168.81.2: {\"192.168.81.2\":{\"learned\":\[{\"ip\":\"10.81.0.2\",\"port\":4242}\]'"
check "print-cert: our own" bash -c "\"$CTL\" -socket $SA print-cert | grep -q 'Name: a'"
check "print-cert -json of a peer" js "$SA" "j['details']['name']=='b' and j['details']['groups']==['web']" print-cert -json 192.168.81.2
check "print-cert -raw is PEM" bash -c "\"$CTL\" -socket $SA print-cert -raw | head -1 | grep -qx -- '-----BEGIN NEBULA CERTIFICATE-----'"
check "print-tunnel" js "$SA" "j['vpnIp']=='192.168.81.2' and j['localIndex']>0" print-tunnel 192.168.81.2
check "query-lighthouse: JSON as Nebula's" js "$SA" "j['192.168.81.2']['reported'][0]['port']==4242" query-lighthouse 192.168.81.2
check "create-tunnel: already exists" bash -c "\"$CTL\" -socket $SB create-tunnel 192.168.81.1 | grep -qx 'Tunnel already exists'"
check "change-remote needs -address" bash -c "\"$CTL\" -socket $SA change-remote 192.168.81.2 2>&1 | grep -qx 'No address was provided'"
check "change-remote" bash -c "\"$CTL\" -socket $SA change-remote -address 10.81.0.2:4242 192.168.81.2 | grep -qx Changed"
check "log-format" bash -c "\"$CTL\" -socket $SB log-format | grep -qx 'Log format is: \*logrus.TextFormatter'"
check "version" bash -c "\"$CTL\" -socket $SB version | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+'"

# --- log level, for a while ---------------------------------------------
check "log-level shows" bash -c "\"$CTL\" -socket $SB log-level | grep -qx 'Log level is: info'"
check "log-level debug for 2s" bash -c "\"$CTL\" -socket $SB log-level debug 2s | grep -qx 'Log level is: debug for 2s, then info'"
check "debug now" bash -c "\"$CTL\" -socket $SB log-level | grep -qx 'Log level is: debug'"
check "a bad duration is status 2" bash -c "\"$CTL\" -socket $SB log-level debug forever >/dev/null 2>&1; [ \$? = 2 ]"
check "back to info after 2s" wait_for 5 bash -c "\"$CTL\" -socket $SB log-level | grep -qx 'Log level is: info'"
check "the return logged" grep -q "Log level is back to info" b.log

# --- reload ---------------------------------------------------------------
check "reload" bash -c "\"$CTL\" -socket $SB reload >out.txt && head -1 out.txt | grep -qx 'Reloading config' && grep -q 'configuration reloaded' out.txt"
cp b.yml b.yml.good
echo "firewall: [this is not a map" >>b.yml
check "reload of a broken file: status 1, the reason" bash -c "\"$CTL\" -socket $SB reload >out.txt; [ \$? = 1 ] && grep -q 'reload failed, keeping the running configuration' out.txt"
cp b.yml.good b.yml
check "still serving after it" bash -c "\"$CTL\" -socket $SB show >/dev/null"

# --- close -------------------------------------------------------------------
check "close-tunnel" bash -c "\"$CTL\" -socket $SA close-tunnel 192.168.81.2 | grep -qx Closed"
check "the tunnel is gone from a" bash -c "! \"$CTL\" -socket $SA tunnels | grep -q '^192.168.81.2 '"
check "b heard the close" wait_for 5 bash -c "! \"$CTL\" -socket $SB tunnels -json | python3 -c 'import json,sys; sys.exit(0 if any(t[\"vpnIp\"]==\"192.168.81.1\" for t in json.load(sys.stdin)) else 1)'"
ip netns exec "$B" ping -c 3 -i 0.2 -W 2 192.168.81.1 >/dev/null 2>&1
check "traffic brings it back" ip netns exec "$B" ping -c 2 -W 2 192.168.81.1

# --- the protocol from a raw client ----------------------------------------
cat >raw.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
        if out.count(b"R1 ") >= int(sys.argv[3]) and out.endswith(b"\n"):
            break
except socket.timeout:
    pass
sys.stdout.write(out.decode("utf-8", "replace"))
PY
# raw SOCKET REQUEST [ANSWERS]: what the server says to REQUEST (with
# \n escapes), once ANSWERS responses are in or it closes
raw() { python3 raw.py "$1" "$2" "${3:-1}"; }
export -f raw
check "raw: a version 1 request" bash -c "[ \"\$(raw $SA 'C1 1\n7 version\n' | head -1 | cut -d' ' -f1-2)\" = 'R1 0' ]"
check "raw: two requests on one connection" bash -c "[ \"\$(raw $SA 'C1 1\n7 version\nC1 1\n7 version\n' 2 | grep -c '^R1 0 ')\" = 2 ]"
check "raw: another version refused, status 3" bash -c "raw $SA 'C2 1\n7 version\n' | grep -q '^R1 3 '"
check "raw: an argument longer than it says" bash -c "raw $SA 'C1 1\n3 version\n' | grep -q '^R1 3 '"
check "raw: leading zeros refused" bash -c "raw $SA 'C1 01\n7 version\n' | grep -q '^R1 3 '"
check "raw: too many arguments" bash -c "raw $SA 'C1 33\n' | grep -q '^R1 3 '"
check "raw: NUL in an argument" bash -c "raw $SA 'C1 1\n7 vers\x00on\n' | grep -q '^R1 3 '"
python3 - "$SA" >big.txt <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b"C1 1\n9000 " + b"x" * 9000 + b"\n")
print(s.recv(100).decode(errors="replace"))
PY
check "raw: a request over 8192 bytes" grep -q '^R1 3 ' big.txt

# --- slow and idle clients do not hold the node up ------------------------
# a client that asks and never reads, then sixteen that say nothing
python3 - "$SA" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
for i in range(200):
    try:
        s.send(b"C1 2\n4 help\n5 -json\n", socket.MSG_DONTWAIT)
    except BlockingIOError:
        break
time.sleep(8)
PY
E2E_PIDS+=("$!")
check "a client that does not read: others are served" bash -c "\"$CTL\" -socket $SA show >/dev/null"
slow_start "$B" "$A" 192.168.81.1 blob
ok_calls=0
for i in $(seq 1 40); do "$CTL" -socket "$SA" tunnels -json >/dev/null && ok_calls=$((ok_calls + 1)); done
check "40 tunnels -json during a transfer" test "$ok_calls" = 40
check "the transfer arrives intact meanwhile" slow_done
python3 - "$SA" <<'PY' &
import socket, sys, time
socks = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); socks.append(s)
time.sleep(4)
PY
idle=$!
E2E_PIDS+=("$idle")
sleep 1.5
check_not "with 16 idle clients a 17th is turned away" "$CTL" -socket "$SA" -timeout 2s version
check "a logged it" grep -q "control socket: more than 16 clients at once" a.log
wait "$idle"
check "once they go, served again" wait_for 5 "$CTL" -socket "$SA" version
check "data plane untouched" ip netns exec "$B" ping -c 2 -W 2 192.168.81.1

# --- stale and live sockets ----------------------------------------------
kill -KILL "$pb"
sleep 0.3
check "b's socket is left behind by kill -9" test -S "$SB"
check "cairnctl says the node is not running" bash -c "\"$CTL\" -socket $SB show 2>err.txt; [ \$? = 3 ] && grep -q 'connect' err.txt"
pb=$(spawn "$B" b2.log "$NODE" -config b.yml)
check "a new b replaces the stale socket" wait_for 10 bash -c "\"$CTL\" -socket $SB show | grep -q '^name: *b$'"
sed "s/dev: .*/dev: neb$RANDOM/; s/port: 4242/port: 4343/" a.yml >a2.yml
pa2=$(spawn "$A" a2.log "$NODE" -config a2.yml)
check "a second node on a's socket path leaves it alone" wait_for 10 grep -q "is served by another running node" a2.log
check "a still answers" bash -c "\"$CTL\" -socket $SA show | grep -q '^name: *a$'"
stop_pids "$pa2"
check "a's socket survives the other's exit" bash -c "\"$CTL\" -socket $SA version >/dev/null"

stop_pids "$pa" "$pb"
check "a's socket is removed at exit" test ! -e "$SA"
check "b's socket is removed at exit" test ! -e "$SB"
check "no sanitizer report" bash -c "! grep -q 'ERROR: AddressSanitizer\|runtime error:' a.log"
[ "$E2E_FAIL" -gt 0 ] && { diag a.log | tail -30; diag b.log | tail -20; }
echo "1..$E2E_N"
exit $((E2E_FAIL > 0))
