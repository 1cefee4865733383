#!/bin/bash
# e2e: hostile traffic at a small mesh while it works.  On one switched
# underlay: a lighthouse L (our node, am_lighthouse, with its DNS
# responder), nodes A and B, and an attacker X.  L and A run the ASan +
# UBSan build.  B sends A a TCP stream of random bytes through the
# overlay, paced at 1 MiB/s from before the first attack until after the
# last (some 50 MiB), and meanwhile X sends, each in bounded numbers and
# paced (hostile_traffic.py):
#   1. replays of datagrams captured on A's link (AF_PACKET in A's
#      namespace: B<->A data with pings among them, A<->L), at once and
#      again once they are old: none is accepted (rxReplay; the replayed
#      pings reach no kernel: IcmpInEchos / IcmpInEchoReps stay put);
#   2. random datagrams of 0-1472 bytes (A: 20,000, L: 8,000);
#   3. every length 0..32, random and cut from a real header;
#   4. datagrams of 9,002-65,507 bytes;
#   5. recvError and closeTunnel forgeries naming the real tunnels'
#      indexes (taken from the capture): no tunnel goes down;
#   6. HostQuery for random IPs: unauthenticated (L's real index with a
#      forged tag, random indexes, the bare protobuf) and from an
#      authenticated peer (evilpeer, its own certificate);
#   7. DNS queries of every malformed shape at L's responder.
# After each, the daemons' counters (cairnctl counters) must have grown
# by what was sent, by reason: the sum of the reason counters named is
# at least the datagrams sent minus what the kernel of the receiving
# namespace dropped (Udp InErrors and Ip ReasmFails in its
# /proc/net/snmp: a socket buffer overflow or a datagram whose fragments
# did not all arrive never reaches the daemon), so a silent drop shows.
# Throughout, the TCP stream must keep moving; at the end its sha256
# matches, no tunnel went down or was made again, each daemon's RSS grew
# by less than 8 MiB, and the ASan daemons' logs are clean (also of
# leaks, at exit).  ASan's quarantine is held to 2 MiB: it keeps every
# freed block, and the node allocates and frees an AEAD context for each
# message other than data (lib/crypto.c, aead_once), forged ones
# included, so that with the default 256 MiB the RSS of L would grow by
# about 2 KiB for each of the thousands of messages sent here.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
CTL="$E2E_TOP/bin/cairnctl"
HT="$E2E_TOP/test/e2e/hostile_traffic.py"
need "$NODE" "$ASAN_NODE" "$EVIL" "$CTL"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:quarantine_size_mb=2
export UBSAN_OPTIONS=print_stacktrace=1
RSS_SLACK_KB=8192
T_START=$SECONDS

"$CT" ca -name e2e-hostile-ca -duration 10h >/dev/null
"$CT" sign -name lh -ip 192.168.86.1/24
"$CT" sign -name a -ip 192.168.86.2/24
"$CT" sign -name b -ip 192.168.86.3/24
"$CT" sign -name e -ip 192.168.86.66/24
LV=192.168.86.1 AV=192.168.86.2 BV=192.168.86.3
LU=10.86.0.1 AU=10.86.0.2 BU=10.86.0.3 XU=10.86.0.66
lab_switch
L=$(ns l); A=$(ns a); B=$(ns b); X=$(ns x)
attach "$L" $LU/24
attach "$A" $AU/24
attach "$B" $BU/24
attach "$X" $XU/24
declare -A NSOF=([l]=$L [a]=$A [b]=$B)

# conf NAME: NAME.yml (the lighthouse is "lh"); the control socket is
# X.sock, X the name's first letter
conf() {
	{
		echo "pki: {ca: $E2E_DIR/ca.crt, cert: $E2E_DIR/$1.crt, key: $E2E_DIR/$1.key}"
		if [ "$1" = lh ]; then
			echo "lighthouse: {am_lighthouse: true, serve_dns: true, dns: {host: $LU, port: 53}}"
			echo "tun: {disabled: true}"
		else
			echo "static_host_map: {\"$LV\": [\"$LU:4242\"]}"
			echo "lighthouse: {am_lighthouse: false, interval: 5, hosts: [\"$LV\"]}"
			echo "tun: {dev: neb$RANDOM}"
		fi
		echo "listen: {host: 0.0.0.0, port: 4242, read_buffer: 4194304}"
		echo "punchy: {punch: true}"
		echo "logging: {level: info}"
		echo "control: {listen: $E2E_DIR/${1:0:1}.sock}"
		echo "firewall:"
		echo "  outbound: [{port: any, proto: any, host: any}]"
		echo "  inbound: [{port: any, proto: any, host: any}]"
	} >"$1.yml"
}
conf lh; conf a; conf b
pl=$(spawn "$L" l.log "$ASAN_NODE" -config lh.yml)
pa=$(spawn "$A" a.log "$ASAN_NODE" -config a.yml)
pb=$(spawn "$B" b.log "$NODE" -config b.yml)
for f in l a b; do wait_for 20 grep -q "Nebula interface is active" $f.log; done
all_alive() { alive "$pl" && alive "$pa" && alive "$pb"; }
check "L, A (ASan) and B started" all_alive
declare -A NAME=([$pl]=L [$pa]=A [$pb]=B)
check "A reaches B through the overlay (found through L)" \
	wait_for 15 ip netns exec "$A" ping -c 1 -W 1 $BV
check "DNS: L answers A's name" bash -c "ip netns exec $X python3 $E2E_TOP/test/e2e/dnsq.py $LU 53 a A | grep -qx $AV"

# --- helpers -------------------------------------------------------------
ctl() { "$CTL" -socket "$E2E_DIR/$1.sock" "${@:2}"; }
# snap TAG: every daemon's counters, every namespace's /proc/net/snmp,
# the bytes of the stream received so far; the daemons' RSS to rss.txt
snap() {
	local n
	for n in l a b; do
		ctl "$n" counters -json >"$1.$n.json" 2>/dev/null
		ip netns exec "${NSOF[$n]}" cat /proc/net/snmp >"$1.$n.snmp"
	done
	echo "$1 L $(rss_kb $pl) A $(rss_kb $pa) B $(rss_kb $pb)" >>rss.txt
	stat -c %s stream.recv >"$1.size" 2>/dev/null || echo 0 >"$1.size"
}
cv() { grep -o "\"$3\": *[0-9]*" "$1.$2.json" | grep -o '[0-9]*$'; } # TAG NODE KEY
d() { echo $(($(cv "$4" "$1" "$2") - $(cv "$3" "$1" "$2"))); }         # NODE KEY T1 T2
# snmp TAG NODE GROUP FIELD: a figure of /proc/net/snmp
snmp() {
	awk -v g="$3:" -v f="$4" '$1 == g { if (!h) { for (i = 2; i <= NF; i++) if ($i == f) c = i; h = 1 } else print $c }' "$1.$2.snmp"
}
# kd NODE T1 T2: datagrams NODE's kernel dropped in between
kd() {
	echo $(($(snmp "$3" "$1" Udp InErrors) - $(snmp "$2" "$1" Udp InErrors) +
		$(snmp "$3" "$1" Ip ReasmFails) - $(snmp "$2" "$1" Ip ReasmFails)))
}
# counted DESC NODE KEYS T1 T2 N: the counters KEYS (k1+k2+...) of NODE
# grew by at least N minus its kernel's drops; figures.txt gets the
# counters that moved
counted() {
	local desc=$1 n=$2 keys=$3 t1=$4 t2=$5 want=${6:-0} k v sum=0 drops moved=
	for k in ${keys//+/ }; do
		v=$(d "$n" "$k" "$t1" "$t2")
		sum=$((sum + v))
		[ "$v" != 0 ] && moved="$moved $k+$v"
	done
	drops=$(kd "$n" "$t1" "$t2")
	echo "$desc ($n): $want; kernel drops $drops; counted$moved" >>figures.txt
	if [ "$want" -gt 0 ] && [ "$sum" -ge $((want - drops)) ]; then
		ok "$desc: $want, counted (+$sum in $keys; kernel drops $drops)"
	else
		not_ok "$desc: $want, counted (+$sum in $keys; kernel drops $drops)"
	fi
}
# same_snmp DESC NODE GROUP FIELD T1 T2: a kernel figure did not move
same_snmp() {
	local a b
	a=$(snmp "$5" "$2" "$3" "$4") b=$(snmp "$6" "$2" "$3" "$4")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "$1 ($3 $4 $a)"; else not_ok "$1 ($3 $4 ${a:-?} -> ${b:-?})"; fi
}
# same DESC NODE KEY T1 T2: KEY did not move
same() {
	local v
	v=$(d "$2" "$3" "$4" "$5")
	if [ "$v" = 0 ]; then ok "$1 ($2 $3 +0)"; else not_ok "$1 ($2 $3 +$v)"; fi
}
# few DESC NODE KEY T1 T2: KEY grew by 5 at most.  For L's lhQueries
# and lhReplies: A and B ask L about each other every 5000th packet they
# send in their tunnel (wire.md 8.3), one query every few seconds.
few() {
	local v
	v=$(d "$2" "$3" "$4" "$5")
	if [ -n "$v" ] && [ "$v" -le 5 ]; then ok "$1 ($2 $3 +$v, at most 5: A's and B's own)"; else not_ok "$1 ($2 $3 +${v:-?}, at most 5)"; fi
}
# moved T1 T2: the stream went on between the snapshots
moved() {
	local a b
	a=$(cat "$2.size") b=$(cat "$3.size")
	if [ "$b" -gt "$a" ]; then ok "$1: the TCP stream kept moving (+$((b - a)) bytes)"; else not_ok "$1: the TCP stream kept moving ($a -> $b bytes)"; fi
}
sent() { sed -n "s/^sent $2 \([0-9]*\).*/\1/p" "$1" | tail -1; } # OUT KIND
val() { sed -n "s/^$2 \([0-9]*\).*/\1/p" "$1" | tail -1; }        # OUT KEY
ht() { ip netns exec "$X" timeout 60 python3 "$HT" "$@"; }       # as X
plus() { echo $((${1:-0} + ${2:-0})); }
settle() { sleep 1; }
# DROPS: every counter of a datagram the node received and dropped
DROPS=rxShort+rxOwnNet+rxUnknownType+rxUnknownIndex+rxReplay+rxAuthFail+rxBadInner+hsBad+hsRefused+hsStray+lhBad+lhRefused+rxOversize+rxTruncated+rxRecvErrIgnored+relayFwdDropped+relayRefused
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
sane() { ! grep -Eq "ERROR: .*Sanitizer|runtime error|LeakSanitizer" "$1"; }

# --- the stream ----------------------------------------------------------
SPORT=$((20000 + RANDOM % 10000))
ip netns exec "$A" timeout 170 nc -l -d $AV $SPORT >stream.recv &
pnc=$!
E2E_PIDS+=("$pnc")
wait_for 5 bash -c "ip netns exec $A ss -Hltn 'sport = :$SPORT' | grep -q ."
# 1 MiB/s until told to stop (at most 150 MiB)
ip netns exec "$B" timeout 170 python3 "$HT" sender $AV $SPORT $((1 << 20)) stop $((150 << 20)) >sender.out 2>&1 &
psend=$!
E2E_PIDS+=("$psend")
sleep 3
snap s0
check "the stream is flowing B -> A" test "$(cat s0.size)" -gt 500000
idx0=$(ctl a tunnels -json | python3 -c "import json,sys; print([t['localIndex'] for t in json.load(sys.stdin) if t['name']=='b'][0])")
declare -A RSS0
for p in $pl $pa $pb; do RSS0[$p]=$(rss_kb "$p"); done

# --- 1. capture, then replay at once -------------------------------------
aif=$(ip -n "$A" -o link show | awk -F': ' '$2 ~ /^p/ { print $2 }' | cut -d@ -f1)
spawn "$A" cap.out timeout 20 python3 "$HT" capture "$aif" 4242 3 6000 cap.bin >/dev/null
wait_for 5 grep -qx ready cap.out
# 777 bytes of ICMP data: 837-byte datagrams, told apart from the stream's
ip netns exec "$B" ping -c 10 -i 0.2 -s 777 -W 1 $AV >/dev/null &
pping=$!
E2E_PIDS+=("$pping")
ip netns exec "$A" ping -c 5 -i 0.2 -W 1 $LV >/dev/null
wait "$pping"
check "capture: datagrams of A's link recorded" wait_for 10 grep -q "^captured [1-9]" cap.out
python3 "$HT" flows cap.bin >flows.txt
diag flows.txt
fl() { awk -v s="$1:4242" -v d="$2:4242" -v k="$3" '$2 == s && $3 == d { for (i = 4; i < NF; i++) if ($i == k) print $(i + 1) }' flows.txt; }
IBA=$(fl $BU $AU idx) IAB=$(fl $AU $BU idx) IAL=$(fl $AU $LU idx) ILA=$(fl $LU $AU idx)
have_idx() { local i; for i; do [ -n "$i" ] && [ "$i" != None ] || return 1; done; }
check "capture: B>A, A>B, A>L and L>A transport packets with their indexes" \
	have_idx "$IBA" "$IAB" "$IAL" "$ILA"
check "capture: the indexes are A's tunnel to B's (cairnctl tunnels: local $IBA, remote $IAB)" \
	bash -c "\"$CTL\" -socket $E2E_DIR/a.sock tunnels -json | python3 -c \"import json,sys; t=[t for t in json.load(sys.stdin) if t['name']=='b'][0]; sys.exit(0 if (t['localIndex'], t['remoteIndex']) == ($IBA, $IAB) else 1)\""
PINGS=$(python3 "$HT" count cap.bin $BU $AU 837)
check "capture: B's 10 pings to A among them ($PINGS datagrams of 837 bytes)" test "${PINGS:-0}" -ge 10
snap r0
ht replay $AU:4242 cap.bin $BU $AU >rep.a.out
ht replay $BU:4242 cap.bin $AU $BU >rep.b.out
ht replay $LU:4242 cap.bin $AU $LU >rep.l.out
ht replay $AU:4242 cap.bin $LU $AU >rep.la.out
settle
snap r1
counted "replay B>A and L>A to A at once" a rxReplay r0 r1 "$(plus "$(val rep.a.out transport)" "$(val rep.la.out transport)")"
counted "replay A>B to B at once" b rxReplay r0 r1 "$(val rep.b.out transport)"
counted "replay A>L to L at once" l rxReplay r0 r1 "$(val rep.l.out transport)"
same_snmp "replayed pings reach no kernel" a Icmp InEchos r0 r1
same_snmp "replayed echo replies reach no kernel" b Icmp InEchoReps r0 r1
moved "replay" r0 r1

# --- 2. random datagrams -------------------------------------------------
ht flood $AU:4242 20000 >flood.a.out
ht flood $LU:4242 8000 >flood.l.out
settle
snap f1
counted "random datagrams to A" a $DROPS r1 f1 "$(sent flood.a.out flood)"
counted "random datagrams to L" l $DROPS r1 f1 "$(sent flood.l.out flood)"
moved "random datagrams" r1 f1

# --- 3. truncated --------------------------------------------------------
ht trunc $AU:4242 cap.bin $BU $AU 10 >trunc.a.out
ht trunc $LU:4242 cap.bin $AU $LU 5 >trunc.l.out
settle
snap t1
counted "truncated to A, under 16 bytes" a rxShort f1 t1 "$(val trunc.a.out short)"
counted "truncated to A, a real header and under 17 bytes more" a rxAuthFail f1 t1 "$(val trunc.a.out auth)"
counted "truncated to A, all" a $DROPS f1 t1 "$(sent trunc.a.out trunc)"
counted "truncated to L, under 16 bytes" l rxShort f1 t1 "$(val trunc.l.out short)"
counted "truncated to L, a real header and under 17 bytes more" l rxAuthFail f1 t1 "$(val trunc.l.out auth)"
moved "truncated" f1 t1

# --- 4. oversized --------------------------------------------------------
ht oversize $AU:4242 120 >over.a.out
ht oversize $LU:4242 40 >over.l.out
settle
snap o1
counted "oversized to A" a rxOversize t1 o1 "$(sent over.a.out oversize)"
counted "oversized to L" l rxOversize t1 o1 "$(sent over.l.out oversize)"
moved "oversized" t1 o1

# --- 5. recvError and closeTunnel forgeries ------------------------------
ht forge $AU:4242 cap.bin $AU $BU recverror 400 >re.a.out
ht forge $BU:4242 cap.bin $BU $AU recverror 400 >re.b.out
ht forge $AU:4242 cap.bin $AU $LU recverror 100 >re.al.out
ht forge $AU:4242 cap.bin $BU $AU close 300 >cl.a.out
ht forge $AU:4242 cap.bin $BU $AU closeold 300 >clo.a.out
ht forge $BU:4242 cap.bin $AU $BU close 300 >cl.b.out
ht forge $BU:4242 cap.bin $AU $BU closeold 300 >clo.b.out
settle
snap c1
counted "forged recvError to A (A>B and A>L indexes)" a rxRecvErrIgnored o1 c1 \
	"$(plus "$(sent re.a.out recverror)" "$(sent re.al.out recverror)")"
counted "forged recvError to B" b rxRecvErrIgnored o1 c1 "$(sent re.b.out recverror)"
counted "forged closeTunnel to A, fresh counters" a rxAuthFail o1 c1 "$(sent cl.a.out close)"
counted "forged closeTunnel to A, captured counters" a rxReplay o1 c1 "$(sent clo.a.out closeold)"
counted "forged closeTunnel to B, fresh counters" b rxAuthFail o1 c1 "$(sent cl.b.out close)"
counted "forged closeTunnel to B, captured counters" b rxReplay o1 c1 "$(sent clo.b.out closeold)"
check "the tunnels stand: A and B each still have theirs" \
	test "$(cv c1 a tunnels)" -ge 2 -a "$(cv c1 b tunnels)" -ge 2
moved "forgeries" o1 c1

# --- 5b. recvError with B's address and port forged ----------------------
# Nebula closes a tunnel after four recvErrors from the peer's address;
# ours ignores those that come while the peer's packets flow.  X takes
# B's address (without answering ARP for it, so nothing else changes).
XIF=$(ip -n "$X" -o -4 addr show | awk -v a="$XU/24" '$4 == a {print $2}')
ip netns exec "$X" sysctl -qw net.ipv4.conf.all.arp_ignore=8 net.ipv4.conf.all.arp_announce=2
ip -n "$X" addr add "$BU/32" dev "$XIF" nodad
HT_SRC=$BU:4242 ht forge $AU:4242 cap.bin $AU $BU recverror 40 >re.spoof.out
ip -n "$X" addr del "$BU/32" dev "$XIF"
settle
snap c2
counted "recvError forged from B's own address: ignored while the stream runs" a rxRecvErrIgnored c1 c2 \
	"$(sent re.spoof.out recverror)"
check "the tunnel A-B stands after the forged recvErrors" test "$(cv c2 a tunnels)" -ge 2
moved "recvError forged from B's address" c1 c2

# --- 6. lighthouse queries for random IPs --------------------------------
ht forge $LU:4242 cap.bin $AU $LU lhquery 500 >lq.out
ht forge $LU:4242 cap.bin - - lhqueryrand 500 >lqr.out
ht forge $LU:4242 cap.bin - - lhquerybare 500 >lqb.out
settle
snap q1
counted "HostQuery to L under A's index, forged tag" l rxAuthFail c1 q1 "$(sent lq.out lhquery)"
counted "HostQuery to L under random indexes" l rxUnknownIndex c1 q1 "$(sent lqr.out lhqueryrand)"
counted "HostQuery to L without a header" l rxShort c1 q1 "$(sent lqb.out lhquerybare)"
few "unauthenticated queries are not taken for queries" l lhQueries c1 q1
ip netns exec "$X" timeout 60 "$EVIL" -ca ca.crt -cert e.crt -key e.key \
	-target $LU:4242 lhquery 2000 >evil.out 2>&1
check "evilpeer (e, authenticated) completed its handshake with L" grep -q "^handshake ok peer=lh " evil.out
settle
snap q2
counted "HostQuery for random IPs from an authenticated peer" l lhQueries q1 q2 "$(sent evil.out lhquery)"
few "none is answered" l lhReplies q1 q2
check "evilpeer got no HostQueryReply" grep -qx "sent lhquery 2000 replies 0" evil.out
moved "lighthouse queries" c1 q2

# --- 7. DNS --------------------------------------------------------------
ht dns $LU:53 20 >dns.out
settle
snap n1
diag dns.out
check_not "DNS: every malformed shape got the answer lib/dns.h promises" grep -q "^mismatch" dns.out
check "DNS: the legitimate query was answered each time" grep -qx "legit answered 20 of 20" dns.out
counted "DNS queries" l dnsQueries q2 n1 "$(sent dns.out dns)"
counted "DNS datagrams not answered (short, or a response)" l dnsShort+dnsNotQuery q2 n1 "$(val dns.out noreply)"
counted "DNS FORMERR answers" l dnsFormErr q2 n1 "$(sed -n 's/^rcode 1 //p' dns.out)"
counted "DNS NOTIMP answers" l dnsNotImp q2 n1 "$(sed -n 's/^rcode 4 //p' dns.out)"
moved "DNS" q2 n1

# --- 1b. the captured datagrams again, now far behind --------------------
ht replay $AU:4242 cap.bin $BU $AU >rep2.a.out
ht replay $BU:4242 cap.bin $AU $BU >rep2.b.out
settle
snap r2
counted "replay B>A to A, later" a rxReplay n1 r2 "$(val rep2.a.out transport)"
counted "replay A>B to B, later" b rxReplay n1 r2 "$(val rep2.b.out transport)"
same_snmp "replayed pings reach no kernel" a Icmp InEchos n1 r2
moved "late replay" n1 r2

# --- afterwards ----------------------------------------------------------
for p in $pl $pa $pb; do
	r=$(rss_kb "$p")
	echo "RSS ${NAME[$p]}: ${RSS0[$p]} -> $r kB" >>figures.txt
	if [ -n "$r" ] && [ "$r" -le $((${RSS0[$p]} + RSS_SLACK_KB)) ]; then
		ok "RSS of ${NAME[$p]}: ${RSS0[$p]} -> $r kB (bound +$RSS_SLACK_KB)"
	else
		not_ok "RSS of ${NAME[$p]}: ${RSS0[$p]} -> ${r:-?} kB (bound +$RSS_SLACK_KB)"
	fi
done
same "no new tunnel between A and B: A's hsCompleted" a hsCompleted s0 r2
same "nor on B" b hsCompleted s0 r2
check "A's tunnel to B is the one from before ($idx0)" \
	bash -c "\"$CTL\" -socket $E2E_DIR/a.sock tunnels -json | grep -q '\"localIndex\": *$idx0[,}]'"
check_not "no tunnel went down on A, B or L" grep -Eq "$DOWN_RE" a.log b.log l.log
touch stop
check "the stream completed" wait "$psend"
wait "$pnc"
check "its sha256 matches ($(sed -n 's/^sent \([0-9]*\) .*/\1/p' sender.out) bytes)" \
	test "$(sed -n 's/.* sha256 //p' sender.out)" = "$(sha256sum <stream.recv | cut -d' ' -f1)"
ctl a query $BV >/dev/null
check "L still answers A's queries" wait_for 5 bash -c "[ \$(\"$CTL\" -socket $E2E_DIR/l.sock counters -json | grep -o '\"lhReplies\": *[0-9]*' | grep -o '[0-9]*\$') -gt $(cv r2 l lhReplies) ]"
stop_pids "$pa" "$pb" "$pl"
check "no sanitizer report in A's log (ASan, leaks at exit)" sane a.log
check "no sanitizer report in L's log (ASan, leaks at exit)" sane l.log
diag figures.txt
diag rss.txt
T=$((SECONDS - T_START))
if [ "$T" -lt 180 ]; then ok "done in ${T}s (bound 180)"; else not_ok "done in ${T}s (bound 180)"; fi
if [ "$E2E_FAIL" -ne 0 ]; then
	for f in a.log l.log b.log; do
		echo "# --- $f"
		grep -m1 -A20 "ERROR: .*Sanitizer\|runtime error" "$f" | diag || true
		grep -v "Handshake message" "$f" | tail -8 | cut -c1-240 | diag
	done
fi
e2e_done
