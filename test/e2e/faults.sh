#!/bin/bash
# e2e: faults a mesh lives through.  A lighthouse and nodes a, b (and c
# later) on one switch, all ours; a's underlay link runs through a "wan"
# namespace whose wire can be made bad.  In turn:
#  - the wire loses 5 % of the frames, delays them 20 ms +- 10 ms,
#    duplicates 5 % and sends 25 % at once, ahead of those held: numbered
#    UDP datagrams through the tunnel each arrive at most once (b's replay
#    window drops the copies and counts them) though many out of order
#    (the window takes what was overtaken), and a 4 MB TCP transfer
#    arrives intact; a's tunnel to b is never torn down (b does not
#    answer the copies with recvError, four of which would end it while
#    a's datagrams get no answer);
#  - b killed with SIGKILL and started again: a's tunnel to b is a new
#    one (new indexes on both sides) and carries traffic within a bound;
#  - the lighthouse killed: tunnels go on; started again, a and b are
#    registered again within a bound, and c, new, finds a through it;
#  - b's, then a's underlay address changes: the tunnel follows the
#    mover when it speaks first, and is made again through the
#    lighthouse when it is silent;
#  - b's configuration replaced by broken ones and SIGHUP: b runs on with
#    the old one, logs file, line, key and reason, a TCP transfer goes on;
#    a good one with a change then applies;
#  - c's TUN device deleted under it: c logs the error, tells its peers
#    and exits 2, as Nebula does (cairn(8), EXIT STATUS), without spinning;
#  - cert-tool sign -ledger with the ledger on a full file system (a
#    small tmpfs in a private mount namespace): refused with the reason,
#    no key or certificate written, the ledger unchanged and readable.
# The lighthouse, b and c run under ASan and UBSan when built
# (make build/asan/bin/cairn): no sanitizer report may appear.
#
# The bad wire is test/e2e/impair.py, an AF_PACKET bridge doing what
# tc-netem does, seeded, so that the test also runs on kernels built
# without sch_netem (such as the test machines' own).  FAULTS_KEEP=DIR
# keeps a copy of the scratch directory, logs included, in DIR.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
CTL="$E2E_TOP/bin/cairnctl"
IMPAIR="$E2E_TOP/test/e2e/impair.py"
need "$NODE" "$CT" "$CTL"
SAN=$NODE
[ -x "$ASAN_NODE" ] && SAN=$ASAN_NODE
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
T0=$SECONDS

"$CT" ca -name faults-ca -duration 10h >/dev/null
for h in lh:1 a:10 b:20 c:30; do
	"$CT" sign -name "${h%%:*}" -ip "192.168.113.${h#*:}/24"
done
lab_switch
LH=$(ns lh); A=$(ns a); B=$(ns b); C=$(ns c); W=$(ns wan)
attach "$LH" 10.113.0.1/24
attach "$B" 10.113.0.20/24
attach "$C" 10.113.0.30/24
# a <-> wan <-> switch.  The devices sending into the wan segment their
# UDP (GSO) before it, so that the bridge gets frames no longer than the
# MTU.
veth() { # NS1 NAME1 NS2 NAME2
	local i="q$RANDOM$RANDOM" j
	i=${i:0:12}
	j="${i}w"
	ip link add "$i" type veth peer name "$j" || return 1
	ip link set "$i" netns "$1"
	ip link set "$j" netns "$3"
	ip -n "$1" link set "$i" name "$2"
	ip -n "$3" link set "$j" name "$4"
}
veth "$A" u0 "$W" wa
veth "$W" ws "$E2E_SW" wsb
ip -n "$E2E_SW" link set wsb master br0
ip -n "$A" link set u0 gso_max_segs 1
ip -n "$E2E_SW" link set wsb gso_max_segs 1
ip -n "$A" addr add 10.113.0.10/24 dev u0
for d in "$A u0" "$W wa" "$W ws" "$E2E_SW wsb"; do
	set -- $d
	ip -n "$1" link set "$2" up
done
pw=$(spawn "$W" impair.log python3 "$IMPAIR" wa ws "$E2E_DIR/wire.json" \
	--loss 5 --delay 20 --jitter 10 --dup 5 --reorder 25 --seed 113)

# node_yml NAME: a node (or the lighthouse) with its control socket in
# our directory and short liveness timers.
node_yml() {
	if [ "$1" = lh ]; then
		mesh_config lh.yml lh "" "" true
	else
		mesh_config "$1.yml" "$1" 192.168.113.1 10.113.0.1:4242
		printf 'timers:\n  connection_alive_interval: 2\n  pending_deletion_interval: 3\n' >>"$1.yml"
	fi
	printf 'control:\n  listen: %s/%s.sock\n' "$E2E_DIR" "$1" >>"$1.yml"
}
for h in lh a b c; do node_yml "$h"; done
cp b.yml b.good.yml

ctl() { "$CTL" -timeout 5s -socket "$E2E_DIR/$1.sock" "${@:2}"; }
# jq-ish: js NAME PYEXPR CMD...: the -json answer of NAME's socket, as j,
# printed through PYEXPR (an expression).
js() {
	local n=$1 e=$2; shift 2
	ctl "$n" "$@" | python3 -c "import json,sys; j=json.load(sys.stdin); print($e)"
}
ip_of() { echo "192.168.113.$(case $1 in lh) echo 1;; a) echo 10;; b) echo 20;; c) echo 30;; esac)"; }
# pings FROM TO SECONDS: FROM reaches TO within SECONDS.
pings() { wait_for "$3" ip netns exec "$(ns_of "$1")" ping -c 1 -W 1 "$(ip_of "$2")"; }
ns_of() { case $1 in lh) echo "$LH";; a) echo "$A";; b) echo "$B";; c) echo "$C";; esac; }
# since T: seconds since the stamp T (from $SECONDS)
since() { echo $((SECONDS - $1)); }

plh=$(spawn "$LH" lh.log "$SAN" -config lh.yml)
sleep 0.3
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
pb=$(spawn "$B" b.log "$SAN" -config b.yml)
check "a reaches b through the lighthouse" pings a b 15
check "b reaches a" pings b a 5
[ "$SAN" = "$NODE" ] || check "b runs the sanitizer build" [ "$(readlink "/proc/$pb/exe")" = "$SAN" ]

# ---------------------------------------------------------------- wire --
head -c 4000000 /dev/urandom >blob
rep0=$(js b "j['rxReplay']" counters -json)
idx0=$(js a "j['localIndex']" peer -json 192.168.113.20)
kill -USR1 "$pw"
sleep 0.2
# numbered datagrams a -> b, 1 every 0.5 ms or so
N=3000
port=$((20000 + RANDOM % 10000))
ip netns exec "$B" timeout 40 python3 - 192.168.113.20 "$port" seq.json <<'PY' &
import json, socket, sys
ip, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind((ip, port))
open(out + ".ready", "w").close()
s.settimeout(30)
got = []
try:
    while True:
        got.append(int(s.recv(2048).split(b" ")[0]))
        s.settimeout(2)  # the end: 2 s without any
except socket.timeout:
    pass
seen, dup, ooo, hi = set(), 0, 0, -1
for x in got:
    if x in seen:
        dup += 1
        continue
    seen.add(x)
    if x < hi:
        ooo += 1  # overtaken by a later one, and still taken
    hi = max(hi, x)
json.dump({"received": len(got), "distinct": len(seen), "dup": dup,
           "ooo": ooo}, open(out, "w"))
PY
lp=$!
E2E_PIDS+=("$lp")
wait_for 5 test -e seq.json.ready
ip netns exec "$A" timeout 30 python3 - 192.168.113.20 "$port" "$N" <<'PY'
import socket, sys, time
ip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
pad = b"x" * 200
for i in range(n):
    s.sendto(b"%d " % i + pad, (ip, port))
    if i % 10 == 9:
        time.sleep(0.005)
PY
wait "$lp"
seqv() { python3 -c "import json; print(json.load(open('seq.json'))['$1'])" 2>/dev/null || echo -1; }
rep1=$(js b "j['rxReplay']" counters -json)
echo "# datagrams: $(cat seq.json 2>/dev/null); b's rxReplay $rep0 -> $rep1"
check "bad wire: at least 85 % of $N datagrams arrive" [ "$(seqv distinct)" -ge $((N * 85 / 100)) ]
check "bad wire: none arrives twice (the copies are dropped)" [ "$(seqv dup)" -eq 0 ]
# about 5 % of the frames are copied: at least 2 % of N counted
check "bad wire: b's replay window counted the copies (rxReplay)" [ "$rep1" -ge $((rep0 + N * 2 / 100)) ]
# A window that took only counters above the highest seen would leave
# none out of order; reordering on this wire is for about a third.
check "bad wire: overtaken datagrams are taken (>= 5 % arrive out of order)" \
	[ "$(seqv ooo)" -ge $((N * 5 / 100)) ]
t=$SECONDS
xfer() { # FROM TO SECONDS: blob over TCP, sha256 compared
	local port=$((20000 + RANDOM % 10000)) lp
	rm -f got
	ip netns exec "$(ns_of "$2")" timeout "$3" nc -l -d "$(ip_of "$2")" "$port" >got &
	lp=$!
	E2E_PIDS+=("$lp")
	wait_for 5 bash -c "ip netns exec $(ns_of "$2") ss -ltn 'sport = :$port' | grep -q LISTEN"
	ip netns exec "$(ns_of "$1")" timeout "$3" nc -N "$(ip_of "$2")" "$port" <blob
	wait "$lp"
	[ "$(sha256sum <got)" = "$(sha256sum <blob)" ]
}
check "bad wire: 4 MB over TCP a -> b, sha256 matches" xfer a b 100
echo "# 4 MB through the bad wire in $(since $t) s"
check "bad wire: a's tunnel to b is the one it had (never torn down)" \
	[ "$(js a "j['localIndex']" peer -json 192.168.113.20)" = "$idx0" ]
kill -USR2 "$pw"
wait_for 3 grep -q '"impaired": false' wire.json
echo "# the wire: $(cat wire.json)"
check "bad wire: the bridge lost, duplicated and reordered frames" python3 -c "
import json; w = json.load(open('wire.json'))
assert w['lost'] > 0 and w['duplicated'] > 0 and w['reordered'] > 0 and w['oversize'] == 0, w"

# ------------------------------------------------------- b killed (-9) --
old=$(js a "j['localIndex'], j['remoteIndex']" peer -json 192.168.113.20)
bdev=$(awk '/^  dev:/{print $2}' b.yml)
kill -KILL "$pb"
wait_for 5 bash -c "! ip -n $B link show $bdev"
pb=$(spawn "$B" b2.log "$SAN" -config b.yml)
t=$SECONDS
check "after b's SIGKILL and restart: a reaches b within 15 s" pings a b 15
echo "# a reached the restarted b after $(since $t) s"
new=$(js a "j['localIndex'], j['remoteIndex']" peer -json 192.168.113.20)
echo "# a's tunnel to b: indexes (local, remote) $old -> $new"
read -r ol or <<<"$old"
read -r nl nr <<<"$new"
check "a's tunnel to b is a new one: both indexes changed" \
	bash -c "[ '$ol' != '$nl' ] && [ '$or' != '$nr' ] && [ -n '$nl$nr' ]"
check "b's side: its tunnel with a has a's new index" \
	[ "$(js b "j['remoteIndex']" peer -json 192.168.113.10)" = "$(js a "j['localIndex']" peer -json 192.168.113.20)" ]

# ------------------------------------------------ the lighthouse killed --
kill -KILL "$plh"
check "lighthouse down: a -> b still works" ip netns exec "$A" ping -c 2 -i 0.3 -W 2 192.168.113.20
check "lighthouse down: b -> a still works" ip netns exec "$B" ping -c 2 -i 0.3 -W 2 192.168.113.10
sleep 1
plh=$(spawn "$LH" lh2.log "$SAN" -config lh.yml)
t=$SECONDS
registered() { js lh "sorted(h['vpnIp'] for h in j)" hosts -json | grep -q "'192.168.113.10', '192.168.113.20'"; }
check "lighthouse back: a and b registered again within 20 s" wait_for 20 registered
echo "# a and b registered with the new lighthouse after $(since $t) s"
pc=$(spawn "$C" c.log "$SAN" -config c.yml)
check "lighthouse back: c, new, reaches a through it" pings c a 10
check "c's tunnel with a was made from the lighthouse's answer" \
	bash -c "grep -Eq '$(up_re a)' c.log && ! grep -q 192.168.113.10 c.yml"

# ------------------------------------------- underlay addresses change --
# b moves and speaks first: a's tunnel follows it
bif=$(ip -n "$B" -o addr show | awk '/10\.113\.0\.20/{print $2}')
ip netns exec "$B" sysctl -qw "net.ipv4.conf.$bif.promote_secondaries=1"
ip -n "$B" addr add 10.113.0.21/24 dev "$bif"
ip -n "$B" addr del 10.113.0.20/24 dev "$bif"
check "b moved: b reaches a within 5 s" pings b a 5
check "b moved: a's tunnel follows b (roamed)" wait_for 3 bash -c \
	"grep -q 'msg=\"Host roamed to new udp ip/port.\" certName=b newAddr=\"10.113.0.21:4242\"' a.log"
check "b moved: a reaches b" pings a b 3
check "b moved: the lighthouse has b's new address within 5 s" wait_for 5 bash -c \
	"$CTL -socket $E2E_DIR/lh.sock lookup 192.168.113.20 | grep -q 10.113.0.21"
# a moves and stays silent; b speaks to a's old address, finds out
ip netns exec "$A" sysctl -qw net.ipv4.conf.u0.promote_secondaries=1
ip -n "$A" addr add 10.113.0.11/24 dev u0
ip -n "$A" addr del 10.113.0.10/24 dev u0
t=$SECONDS
check "a moved silently: b reaches a again within 20 s" pings b a 20
echo "# b reached the moved, silent a after $(since $t) s"
check "a moved: b's tunnel goes to a's new address" \
	[ "$(js b "j['endpoint']" peer -json 192.168.113.10)" = 10.113.0.11:4242 ]

# ------------------------------------------------- a broken config, HUP --
head -c 2500000 /dev/urandom >slowblob
slow_start "$A" "$B" 192.168.113.20 slowblob
sleep 0.5
# a YAML syntax error, the file replaced by rename
sed 's/^  inbound: \[.*/  inbound: [{port: any, proto: any, host: any}/' b.good.yml >b.new
mv b.new b.yml
kill -HUP "$pb"
check "broken YAML: the reload error is logged" \
	wait_for 5 grep -q 'msg="Error occurred while reloading config"' b2.log
check "broken YAML: the error names the file and line" \
	grep -Eq "msg=\"Error occurred while reloading config\" config_path=b.yml error=\"$E2E_DIR/b.yml:[0-9]+: did not find expected ',' or ']'" b2.log
# a bad value
sed 's/^  port: 4242$/&\nhandshakes:\n  try_interval: soon/' b.good.yml >b.new
mv b.new b.yml
line=$(grep -n 'try_interval: soon' b.yml | cut -d: -f1)
kill -HUP "$pb"
check "bad value: the error names file, line, key and reason" wait_for 5 \
	grep -q "error=\"$E2E_DIR/b.yml:$line: handshakes.try_interval: expected a duration such as 500ms or 2s, got \\\\\"soon\\\\\"\"" b2.log
check "bad value: b is still running" alive "$pb"
check "broken configs: the TCP transfer through b went on (sha256 matches)" slow_done
check "broken configs: a reaches b" ip netns exec "$A" ping -c 2 -i 0.3 -W 2 192.168.113.20
check_not "broken configs: nothing was applied" grep -q 'msg="configuration reloaded"' b2.log
# a good one with a change: b's firewall takes TCP and ICMP only.  UDP
# to a new port each time (no flow remembered): passes, then refused.
udp3() { # PORT: three datagrams a -> b
	ip netns exec "$A" python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
[s.sendto(b'x', ('192.168.113.20', $1)) for _ in range(3)]"
	sleep 0.5
}
fw0=$(js b "j['fwInDrop']" counters -json)
udp3 7001
fw1=$(js b "j['fwInDrop']" counters -json)
sed 's/^  inbound: .*/  inbound: [{port: any, proto: tcp, host: any}, {port: any, proto: icmp, host: any}]/' b.good.yml >b.new
mv b.new b.yml
kill -HUP "$pb"
check "good config: applied" wait_for 5 grep -q 'msg="configuration reloaded" .*config_path=b.yml inboundRules=2 ' b2.log
udp3 7002
fw2=$(js b "j['fwInDrop']" counters -json)
echo "# b's fwInDrop: $fw0, after UDP before the reload $fw1, after it $fw2"
check "good config: UDP passed before it" [ "$fw1" = "$fw0" ]
check "good config: b's new firewall refuses UDP (fwInDrop)" [ "$fw2" -ge $((fw1 + 3)) ]
check "good config: ping a -> b passes" ip netns exec "$A" ping -c 2 -i 0.3 -W 1 192.168.113.20
head -c 500000 /dev/urandom >blob
check "good config: TCP a -> b still passes (sha256 matches)" xfer a b 20

# --------------------------------------------------- c's TUN deleted --
# c, run here so that its exit status can be read
stop_pids "$pc"
cdev=$(awk '/^  dev:/{print $2}' c.yml)
wait_for 5 bash -c "! ip -n $C link show $cdev"
ip netns exec "$C" "$SAN" -config c.yml >c2.log 2>&1 &
pc=$!
E2E_PIDS+=("$pc")
check "c (again) reaches a" pings c a 10
ip -n "$C" link del "$cdev"
t=$SECONDS
rc=0
for ((i = 0; i < 50; i++)); do alive "$pc" || break; sleep 0.1; done
if ! alive "$pc"; then
	wait "$pc" || rc=$?
	ok "TUN deleted: c exits within 5 s (after $(since $t) s)"
else
	ps -o pid,stat,time,pcpu -p "$pc" | diag
	not_ok "TUN deleted: c exits within 5 s (it is still running)"
	kill -KILL "$pc" 2>/dev/null
	wait "$pc"
	rc=-1
fi
check "TUN deleted: c exits 2" [ "$rc" = 2 ]
check "TUN deleted: c logs why" grep -Eq \
	'level=error msg="Error while reading outbound packet" error="read /dev/net/tun: .+"$' c2.log
check "TUN deleted: a was told (closeTunnel)" wait_for 3 grep -q \
	'msg="Close tunnel received, tearing down." certName=c ' a.log
check_not "TUN deleted: no Goodbye (not a clean stop)" grep -q 'msg=Goodbye' c2.log

# ------------------------------------------------- the ledger, disk full --
# In a private mount namespace: a 64 KiB tmpfs, full.  1: the ledger
# there, its last page full, the outputs elsewhere: the record cannot be
# written.  2: the ledger's page has room, the outputs on the full file
# system: the key cannot be written, and the record is taken back.
# 3: with room again, the ledger takes a new record.
mkdir -p disk out
cat >ledger.sh <<EOF
set -u
cd "$E2E_DIR"
mount -t tmpfs -o size=64k tmpfs disk || exit 9
"$CT" sign -name h1 -ip 10.9.0.1/24 -ledger disk/L -out-crt disk/h1.crt -out-key disk/h1.key
s=\$(stat -c %s disk/L)
gap=\$((4096 - s % 4096))
[ \$gap -lt 2 ] && gap=\$((gap + 4096))
{ printf '#'; head -c \$((gap - 2)) /dev/zero | tr '\0' x; echo; } >>disk/L
cp disk/L out/L.before
dd if=/dev/zero of=disk/fill bs=4096 2>/dev/null
df -k disk | tail -1 | awk '{print \$4}' >out/avail
"$CT" sign -name h2 -ip 10.9.0.2/24 -ledger disk/L -out-crt out/h2.crt -out-key out/h2.key 2>out/err1
echo \$? >out/rc1
cp disk/L out/L.after1
"$CT" ledger -path disk/L >out/list1 2>&1
rm disk/fill
# leave the ledger's last page some room, fill the rest
echo '# room' >>disk/L
cp disk/L out/L.before2
dd if=/dev/zero of=disk/fill bs=4096 2>/dev/null
"$CT" sign -name h3 -ip 10.9.0.3/24 -ledger disk/L -out-crt disk/h3.crt -out-key disk/h3.key 2>out/err2
echo \$? >out/rc2
cp disk/L out/L.after2
ls disk >out/ls2
rm disk/fill
"$CT" sign -name h4 -ip 10.9.0.4/24 -ledger disk/L -out-crt disk/h4.crt -out-key disk/h4.key 2>out/err3
echo \$? >out/rc3
"$CT" ledger -path disk/L >out/list3 2>&1
EOF
timeout 30 unshare -m --propagation private bash ledger.sh >ledger.log 2>&1
check "full disk: the file system was full" [ "$(cat out/avail)" = 0 ]
check "full disk, ledger: sign fails (exit 1)" [ "$(cat out/rc1)" = 1 ]
check "full disk, ledger: the error names the ledger and the reason" \
	grep -qx "Error: error while writing ledger: write disk/L: no space left on device" out/err1
check "full disk, ledger: no key or certificate written" bash -c "! ls out/h2.* 2>/dev/null | grep -q ."
check "full disk, ledger: the ledger is unchanged" cmp out/L.before out/L.after1
check "full disk, ledger: its record of h1 reads back" grep -q "name=h1 .*ips=10.9.0.1/24" out/list1
check "full disk, outputs: sign fails (exit 1)" [ "$(cat out/rc2)" = 1 ]
check "full disk, outputs: the error names the key file and the reason" \
	grep -qx "Error: error while writing out-key: write disk/h3.key: no space left on device" out/err2
check "full disk, outputs: no key or certificate left" bash -c "! grep -q h3 out/ls2"
check "full disk, outputs: the record was taken back" cmp out/L.before2 out/L.after2
check "room again: the ledger takes the next record" bash -c \
	"[ \$(cat out/rc3) = 0 ] && grep -q 'name=h1 ' out/list3 && grep -q 'name=h4 ' out/list3 && ! grep -q 'name=h[23] ' out/list3"
check_not "the tmpfs stayed in its mount namespace" mountpoint -q disk

# ------------------------------------------------------------- the end --
stop_pids "$pa" "$pb" "$plh" "$pw"
for f in *.log; do
	if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error:" "$f"; then
		not_ok "$f: sanitizer report"
		grep -A20 "Sanitizer\|runtime error:" "$f" | head -40 | diag
	fi
done
if [ "$SAN" = "$NODE" ]; then
	echo "# build/asan/bin/cairn is not built: no sanitizer run"
else
	echo "# under ASan and UBSan: the lighthouse, b and c (lh.log lh2.log b.log b2.log c.log c2.log)"
fi
echo "# wall time $(since "$T0") s"
[ -n "${FAULTS_KEEP:-}" ] && cp -r "$E2E_DIR" "$FAULTS_KEEP"
[ "$E2E_FAIL" -eq 0 ] || for f in a b b2 c c2 lh lh2 impair ledger; do
	echo "# --- $f.log"
	grep -v "Handshake message sent" "$f.log" | tail -12 | cut -c1-300 | diag
done
e2e_done
