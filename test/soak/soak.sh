#!/bin/bash
# soak: a small mixed mesh under traffic and trouble for a while, then a
# verdict on whether our daemons stayed flat.  `make soak SOAK_TIME=10m`
# (or test/soak/soak.sh 600; 600, 600s, 10m, 1h30m; at least 120 s).
#
# Mesh, in network namespaces on one bridge: our lighthouse (lh, with a
# TUN) and nodes a, b, c, and Nebula 1.6.1 nodes n1, n2, certificates
# from bin/cairn-cert.  During SOAK_TIME:
#   - every ordered pair pings once a second (30 pingers);
#   - TCP transfers of 4 MB, sha256-checked, repeat between c and n1
#     (ours and Nebula) and between a and c (ours), alternating direction;
#   - after a warm-up, an event every 10-20 s, in rotation: SIGHUP of our
#     daemons with a firewall change, restart of one of our nodes (a or
#     b), roaming (a node's underlay address moves), SIGHUP without a
#     change, restart of a Nebula node, roaming, restart of the
#     lighthouse; restarts alternate SIGTERM and kill -9.  c is never
#     restarted, so one node lives through the whole run;
#   - every 10 s, each daemon's VmRSS (with RssAnon and RssFile), open
#     fds and (ours, from cairnctl show -json over its control socket)
#     tunnel count.  A restarted daemon starts a new series.
# No events in the last stretch (cool-down), so the end state is settled.
#
# Verdict (test/soak/report.py), TAP lines and a table per daemon life:
#   - of each series of ours with 8 or more samples after its warm-up
#     (the run's warm-up, or 30 s after a restart): RSS median of the
#     last quarter <= median of the first quarter + max(1 MiB, 10 %);
#     fds at the end within 2 of the first sample after warm-up;
#   - no ordered ping pair without replies for more than 10 s outside the
#     planned disruption windows of its two nodes (a restart: from the
#     signal to 10 s after the new start; roaming and reloads have none);
#   - every transfer's sha256 matches, except that one overlapping a
#     disruption window of its ends may fail (but never deliver wrong
#     bytes);
#   - no daemon (ours or Nebula) logged a tunnel going down but in a
#     restart window of one of its ends;
#   - every reload was logged by each of our daemons, with the expected
#     inbound rule count; no daemon (ours or Nebula) died unasked; ours
#     exit 0 on SIGTERM; at the end each of ours holds 5 tunnels.
# The samples, events, transfers, ping gaps and lives are written as CSV
# to build/soak/, with the daemons' logs and summary.txt.  Exit status
# non-zero on any failure.  Needs root; the whole run is bounded by
# SOAK_TIME + 180 s.
source "$(dirname "$0")/../e2e/lib.sh"
# shellcheck disable=SC2034 # lib.sh's ns() and cleanup use it
E2E_PREFIX="soak$$" # namespaces soak<pid>-<name>
CTL="$E2E_TOP/bin/cairnctl"
LHBIN="$E2E_TOP/bin/cairn-lighthouse"
NEB=${NEBULA:-/usr/bin/nebula}
OUT="$E2E_TOP/build/soak"
need "$NODE" "$LHBIN" "$CT" "$CTL" "$NEB"

# --- the duration ------------------------------------------------------
# secs DURATION: 600, 600s, 10m, 1h30m, ... as seconds.
secs() {
	local s=$1 t=0
	[[ $s =~ ^[0-9]+$ ]] && { echo $((10#$s)); return 0; }
	[[ -n $s && $s =~ ^([0-9]+h)?([0-9]+m)?([0-9]+s)?$ ]] || return 1
	[ -n "${BASH_REMATCH[1]}" ] && t=$((t + 3600 * 10#${BASH_REMATCH[1]%h}))
	[ -n "${BASH_REMATCH[2]}" ] && t=$((t + 60 * 10#${BASH_REMATCH[2]%m}))
	[ -n "${BASH_REMATCH[3]}" ] && t=$((t + 10#${BASH_REMATCH[3]%s}))
	echo "$t"
}
SOAK=$(secs "${1:-${SOAK_TIME:-600}}") || {
	echo "soak: bad duration '${1:-${SOAK_TIME:-}}' (600, 600s, 10m, 1h30m)" >&2
	exit 2
}
# below 120 s no life of a daemon has enough samples after its warm-up
[ "$SOAK" -ge 120 ] || { echo "soak: at least 120 s, got $SOAK" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "soak: needs root (network namespaces)" >&2; exit 2; }
clamp() { local v=$1; ((v < $2)) && v=$2; ((v > $3)) && v=$3; echo "$v"; }
WARM=$(clamp $((SOAK / 10)) 20 60) # no events, no RSS baseline yet
COOL=$(clamp $((SOAK / 10)) 20 45) # no events at the end
EVERY=$(clamp $(((SOAK - WARM - COOL) / 8)) 10 20)
SAMPLE=10     # seconds between samples
GRACE=10      # a restart's window lasts this long after the new start
GAP=10        # longest ping silence allowed outside the windows
MARGIN=180    # setup and teardown, beyond SOAK

# A watchdog: the whole run ends by SOAK + MARGIN whatever hangs.
(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep $((SOAK + MARGIN)) &
	sp=$!
	wait "$sp"
	echo "# soak: over SOAK_TIME + ${MARGIN}s, stopping" >&2
	kill -TERM $$
) &
E2E_PIDS+=("$!")

rm -rf "$OUT"
mkdir -p "$OUT/logs" "$OUT/pings" || exit 1
cd "$E2E_DIR" || exit 1

# --- the mesh ------------------------------------------------------------
ALL="lh a b c n1 n2"
OURS="lh a b c"
declare -A NS IP UL ALT DEV IMPL BIN PID GEN BORN FWV
for h in lh:1 a:11 b:12 c:13 n1:21 n2:22; do
	n=${h%:*} o=${h#*:}
	IP[$n]=192.168.77.$o
	UL[$n]=10.77.0.$o # underlay; roaming swaps it with ALT
	ALT[$n]=10.77.1.$o
	DEV[$n]=neb$((20000 + RANDOM % 10000))
	case $n in
	lh) IMPL[$n]=ours BIN[$n]=$LHBIN ;;
	n*) IMPL[$n]=nebula BIN[$n]=$NEB ;;
	*) IMPL[$n]=ours BIN[$n]=$NODE ;;
	esac
	FWV[$n]=0
done
# a year: no expiry warnings (pki.expiry_warning) in the logs
"$CT" ca -name soak-ca -duration 8760h >/dev/null || exit 1
for n in $ALL; do "$CT" sign -name "$n" -ip "${IP[$n]}/24" || exit 1; done
lab_switch || exit 1
for n in $ALL; do
	NS[$n]=$(ns "$n") || exit 1
	attach "${NS[$n]}" "${UL[$n]}/16" || exit 1
done

# conf NAME: NAME's configuration, its firewall in variant FWV[NAME]
# (0: one inbound rule; 1: three, still letting everything through).
# Written aside and renamed, so that a SIGHUP never reads half a file.
conf() {
	local n=$1
	{
		echo "pki: {ca: $E2E_DIR/ca.crt, cert: $E2E_DIR/$n.crt, key: $E2E_DIR/$n.key}"
		if [ "$n" = lh ]; then
			echo "lighthouse: {am_lighthouse: true}"
		else
			echo "static_host_map: {\"${IP[lh]}\": [\"${UL[lh]}:4242\"]}"
			echo "lighthouse: {am_lighthouse: false, interval: 2, hosts: [\"${IP[lh]}\"]}"
		fi
		echo "listen: {host: 0.0.0.0, port: 4242}"
		echo "punchy: {punch: true}"
		echo "tun: {dev: ${DEV[$n]}}"
		echo "logging: {level: info}"
		[ "${IMPL[$n]}" = ours ] && echo "control: {listen: $E2E_DIR/$n.sock}"
		echo "firewall:"
		echo "  outbound: [{port: any, proto: any, host: any}]"
		if [ "${FWV[$n]}" = 0 ]; then
			echo "  inbound: [{port: any, proto: any, host: any}]"
		else
			echo "  inbound:"
			echo "    - {port: any, proto: icmp, host: any}"
			echo "    - {port: any, proto: tcp, host: any}"
			echo "    - {port: any, proto: udp, host: any}"
		fi
	} >"$n.yml.new" && mv "$n.yml.new" "$n.yml"
}
for n in $ALL; do conf "$n"; done

# --- daemons: each start is a new life (series) -------------------------
echo "daemon,impl,pid,series,born,ended,how,status" >"$OUT/lives.csv"
start_d() { # NAME
	local n=$1
	GEN[$n]=$((${GEN[$n]:-0} + 1))
	ip netns exec "${NS[$n]}" "${BIN[$n]}" -config "$E2E_DIR/$n.yml" \
	    >"$E2E_DIR/$n.${GEN[$n]}.log" 2>&1 &
	PID[$n]=$!
	E2E_PIDS+=("$!")
	BORN[$n]=$EPOCHREALTIME
}
# end_life NAME HOW STATUS: the life of NAME's current process is over.
end_life() {
	echo "$1,${IMPL[$1]},${PID[$1]},${GEN[$1]},${BORN[$1]},$EPOCHREALTIME,$2,$3" >>"$OUT/lives.csv"
	PID[$1]=""
}
# stop_d NAME TERM|KILL: stop it, reap it (the daemons are this shell's
# children) and record how it ended; SIGTERM that takes over 5 s
# becomes SIGKILL ("TERM+KILL").
stop_d() {
	local n=$1 p=${PID[$1]} how=$2 i
	[ -n "$p" ] || return 0
	kill "-$2" "$p" 2>/dev/null
	if [ "$2" = TERM ]; then
		for ((i = 0; i < 50; i++)); do alive "$p" || break; sleep 0.1; done
		alive "$p" && { kill -KILL "$p"; how=TERM+KILL; }
	fi
	wait "$p" 2>/dev/null # no "Killed" from bash
	end_life "$n" "$how" $?
}
DIED=0
# reap_dead: a daemon that is gone without being asked is a failure; it
# is started again so that the run goes on.
reap_dead() {
	local n p st
	for n in $ALL; do
		p=${PID[$n]}
		if [ -z "$p" ] || alive "$p"; then continue; fi
		wait "$p" 2>/dev/null
		st=$?
		echo "# soak: $n (pid $p) died unasked, status $st; last lines:"
		tail -5 "$E2E_DIR/$n.${GEN[$n]}.log" | cut -c1-200 | diag
		end_life "$n" died "$st"
		DIED=$((DIED + 1))
		start_d "$n"
	done
}

start_d lh
sleep 0.5
for n in a b c n1 n2; do start_d "$n"; done

# PAIRS: every ordered pair "x:y".
PAIRS=()
for x in $ALL; do for y in $ALL; do
	[ "$x" != "$y" ] && PAIRS+=("$x:$y")
done; done
# Every pair pings at least once (which makes every tunnel), within 60 s.
formed() {
	local p todo left=("${PAIRS[@]}") i
	for ((i = 0; i < 60; i++)); do
		todo=("${left[@]}")
		left=()
		for p in "${todo[@]}"; do
			ip netns exec "${NS[${p%:*}]}" ping -n -c 1 -W 1 "${IP[${p#*:}]}" >/dev/null 2>&1 ||
				left+=("$p")
		done
		[ "${#left[@]}" -eq 0 ] && return 0
		sleep 1
	done
	echo "never answered: ${left[*]}"
	return 1
}
tunnels() { # NAME: the tunnel count of one of ours, from its control socket
	"$CTL" -timeout 3s -socket "$E2E_DIR/$1.sock" show -json 2>/dev/null |
		grep -o '"tunnels":[0-9]*' | cut -d: -f2
}
all_tunnels() { local n; for n in $OURS; do [ "$(tunnels "$n")" = 5 ] || return 1; done; }
check "mesh formed: every ordered pair of $ALL pings" formed
check "mesh formed: each of ours ($OURS) holds 5 tunnels" wait_for 20 all_tunnels
if [ "$E2E_FAIL" -ne 0 ]; then
	for n in $ALL; do echo "# --- $n"; tail -5 "$n.1.log" | cut -c1-200 | diag; done
	e2e_done
	exit 1
fi

# --- traffic ---------------------------------------------------------------
T0=$EPOCHSECONDS
T_END=$((T0 + SOAK))
for p in "${PAIRS[@]}"; do
	x=${p%:*} y=${p#*:}
	# restarted when ping gives up (its device went away with a restart)
	ip netns exec "${NS[$x]}" bash -c '
		while [ "$EPOCHSECONDS" -lt "$1" ]; do
			ping -D -n -i 1 -W 1 -w $(($1 - EPOCHSECONDS)) "$2"
			sleep 1
		done' _ "$T_END" "${IP[$y]}" >"$OUT/pings/$x-$y.log" 2>&1 &
	E2E_PIDS+=("$!")
done

head -c 4000000 /dev/urandom >blob
BLOB_SHA=$(sha256sum <blob | cut -c1-64)
echo "pair,n,from,to,begin,end,send_status,recv_status,bytes,sha_ok,prefix_ok" >"$OUT/transfers.csv"
listening() { # NS PORT
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$1" ss -ltnH "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
# xfer_loop PAIR X Y BASEPORT: 4 MB over TCP, X to Y then Y to X, ...,
# each checked by sha256, until T_END.
xfer_loop() {
	local pair=$1 x=$2 y=$3 i=0 from to port lp rc lrc t0 bytes sha prefix
	while [ "$EPOCHSECONDS" -lt "$T_END" ]; do
		if ((i % 2 == 0)); then from=$x to=$y; else from=$y to=$x; fi
		port=$(($4 + i % 1000))
		rm -f "$pair.recv"
		t0=$EPOCHREALTIME
		ip netns exec "${NS[$to]}" timeout 60 nc -n -l -d "${IP[$to]}" "$port" \
		    >"$pair.recv" 2>>"$pair.err" &
		lp=$!
		listening "${NS[$to]}" "$port"
		ip netns exec "${NS[$from]}" timeout 60 nc -n -N "${IP[$to]}" "$port" \
		    <blob 2>>"$pair.err"
		rc=$?
		[ "$rc" -ne 0 ] && kill "$lp" 2>/dev/null
		wait "$lp"
		lrc=$?
		bytes=$(stat -c %s "$pair.recv" 2>/dev/null || echo 0)
		sha=no prefix=no
		[ "$(sha256sum <"$pair.recv" | cut -c1-64)" = "$BLOB_SHA" ] && sha=yes
		# what arrived of an interrupted transfer must still be right
		cmp -s -n "$bytes" blob "$pair.recv" && prefix=yes
		echo "$pair,$i,$from,$to,$t0,$EPOCHREALTIME,$rc,$lrc,$bytes,$sha,$prefix" >>"$OUT/transfers.csv"
		i=$((i + 1))
		sleep 2
	done
}
xfer_loop c-n1 c n1 21000 &
XF1=$!
xfer_loop a-c a c 23000 &
XF2=$!
E2E_PIDS+=("$XF1" "$XF2")

# rss_kib is VmRSS, the sum of anon_kib (heap, stacks: where a leak
# shows) and file_kib (the program's pages, which grow as code runs for
# the first time) and shmem
echo "time,daemon,impl,pid,series,rss_kib,anon_kib,file_kib,fds,tunnels" >"$OUT/samples.csv"
sample() {
	local t=$EPOCHREALTIME n p rss fds tun
	for n in $ALL; do
		p=${PID[$n]}
		[ -n "$p" ] || continue
		rss=$(awk '/^(VmRSS|RssAnon|RssFile):/ {printf "%s%s", s, $2; s = ","}' \
		    "/proc/$p/status" 2>/dev/null)
		fds=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
		[ -n "$rss" ] || continue
		tun=""
		[ "${IMPL[$n]}" = ours ] && tun=$(tunnels "$n")
		echo "$t,$n,${IMPL[$n]},$p,${GEN[$n]},$rss,$fds,$tun" >>"$OUT/samples.csv"
	done
}

# --- events ------------------------------------------------------------------
echo "n,kind,target,detail,begin,end,win_begin,win_end,result" >"$OUT/events.csv"
EVN=0
event() { # KIND TARGET DETAIL BEGIN WIN_BEGIN WIN_END RESULT
	echo "$EVN,$1,$2,$3,$4,$EPOCHREALTIME,$5,$6,$7" >>"$OUT/events.csv"
	echo "# $(date +%T) event $EVN: $1 $2 $3: $7"
	EVN=$((EVN + 1))
}
reloaded() { # NAME COUNT: NAME's log has COUNT reloads
	[ "$(grep -c 'msg="configuration reloaded"' "$E2E_DIR/$1.${GEN[$1]}.log")" -ge "$2" ]
}
NRELOAD=0
# ev_reload: SIGHUP to each of ours, every other time with the firewall
# changed; each must log the reload with the inbound rules it now has.
ev_reload() {
	local b=$EPOCHREALTIME n want detail=none res=ok
	declare -A before
	if ((NRELOAD % 2 == 0)); then
		for n in $OURS; do FWV[$n]=$((1 - FWV[$n])); conf "$n"; done
		detail="firewall variant ${FWV[a]}"
	fi
	NRELOAD=$((NRELOAD + 1))
	for n in $OURS; do
		before[$n]=$(grep -c 'msg="configuration reloaded"' "$E2E_DIR/$n.${GEN[$n]}.log")
		kill -HUP "${PID[$n]}"
	done
	for n in $OURS; do
		want=1
		[ "${FWV[$n]}" = 1 ] && want=3
		if ! wait_for 5 reloaded "$n" $((before[$n] + 1)); then
			res="fail:$n-not-reloaded"
		elif ! grep 'msg="configuration reloaded"' "$E2E_DIR/$n.${GEN[$n]}.log" |
		    tail -1 | grep -q "inboundRules=$want "; then
			res="fail:$n-inboundRules-not-$want"
		fi
	done
	event reload "$OURS" "$detail" "$b" "" "" "$res"
}
# ev_restart NAME SIGNAL: stop, 1 s down, start; its window runs from the
# signal to GRACE s after the start.
ev_restart() {
	local n=$1 b=$EPOCHREALTIME res=ok st e
	stop_d "$n" "$2"
	st=$(tail -1 "$OUT/lives.csv" | cut -d, -f7-8)
	# ours must exit 0 on SIGTERM, in time
	[ "$2" = TERM ] && [ "${IMPL[$n]}" = ours ] && [ "$st" != TERM,0 ] && res="fail:exit-$st"
	sleep 1
	start_d "$n"
	e=$EPOCHREALTIME
	event restart "$n" "${st/,/ status }" "$b" "$b" "$((${e%.*} + GRACE)).${e#*.}" "$res"
}
# ev_roam NAME: its underlay address moves between 10.77.0.x and
# 10.77.1.x (deleted, then the other added: a new address, not a second).
ev_roam() {
	local n=$1 b=$EPOCHREALTIME dev old=${UL[$1]} res=ok
	dev=$(ip -n "${NS[$n]}" -o -4 addr show | awk -v a="$old/16" '$4 == a {print $2; exit}')
	if [ -z "$dev" ]; then
		res="fail:no-device-with-$old"
	else
		UL[$n]=${ALT[$n]}
		ALT[$n]=$old
		ip -n "${NS[$n]}" addr del "$old/16" dev "$dev" &&
			ip -n "${NS[$n]}" addr add "${UL[$n]}/16" dev "$dev" || res="fail:ip"
	fi
	event roam "$n" "$old->${UL[$n]}" "$b" "" "" "$res"
}
NOURS=0 NNEB=0 NLH=0 NROAM=0
ROAMERS=(a n1 c n2 b)
# run_event K: the K-th event of the rotation.
run_event() {
	local j
	case $(($1 % 7)) in
	0 | 3) ev_reload ;;
	1)
		j=$NOURS NOURS=$((NOURS + 1))
		# a TERM, b KILL, a KILL, b TERM, ...
		ev_restart "$( ((j % 2)) && echo b || echo a)" \
		    "$( (((j + j / 2) % 2)) && echo KILL || echo TERM)" ;;
	4)
		j=$NNEB NNEB=$((NNEB + 1))
		ev_restart "$( ((j % 2)) && echo n2 || echo n1)" \
		    "$( (((j + j / 2) % 2)) && echo KILL || echo TERM)" ;;
	2 | 5)
		ev_roam "${ROAMERS[$((NROAM % ${#ROAMERS[@]}))]}"
		NROAM=$((NROAM + 1)) ;;
	6)
		j=$NLH NLH=$((NLH + 1))
		ev_restart lh "$( ((j % 2)) && echo KILL || echo TERM)" ;;
	esac
}

echo "# soak: ${SOAK}s: warm-up ${WARM}s, an event every ${EVERY}s until ${COOL}s before the end, samples every ${SAMPLE}s"
next_sample=$T0
next_event=$((T0 + WARM))
k=0
while [ "$EPOCHSECONDS" -lt "$T_END" ]; do
	reap_dead
	if [ "$EPOCHSECONDS" -ge "$next_sample" ]; then
		sample
		next_sample=$((next_sample + SAMPLE))
	fi
	if [ "$EPOCHSECONDS" -ge "$next_event" ] &&
	    [ "$EPOCHSECONDS" -lt $((T_END - COOL)) ]; then
		run_event "$k"
		k=$((k + 1))
		next_event=$((next_event + EVERY))
	fi
	sleep 0.5
done
reap_dead
sample

# --- the end ---------------------------------------------------------------
# transfers under way finish (each is bounded by its 60 s timeouts)
for p in "$XF1" "$XF2"; do
	for ((i = 0; i < 700; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
FINAL=""
for n in $OURS; do FINAL="$FINAL $n=$(tunnels "$n")"; done
for n in $ALL; do stop_d "$n" TERM; done
for n in $ALL; do for ((g = 1; g <= ${GEN[$n]}; g++)); do
	cp "$E2E_DIR/$n.$g.log" "$OUT/logs/"
done; done
cp "$E2E_DIR"/*.yml "$OUT/logs/"

check "no daemon died unasked ($DIED did)" [ "$DIED" -eq 0 ]
fin_ok() { local n; for n in $OURS; do [[ " $FINAL " == *" $n=5 "* ]] || return 1; done; }
if fin_ok; then ok "at the end, each of ours holds 5 tunnels:$FINAL"
else not_ok "at the end, each of ours holds 5 tunnels:$FINAL"; fi
fin_exit() { # the last lives (stopped by the run's end): ours exited 0
	awk -F, -v ours="$OURS" 'BEGIN { split(ours, o, " "); for (i in o) want[o[i]] = 1 }
		$1 in want { last[$1] = $7 "," $8 } END { for (n in want) if (last[n] != "TERM,0") exit 1 }' "$OUT/lives.csv"
}
check "at the end, ours exit 0 on SIGTERM within 5 s" fin_exit

while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok }" ;;
	"not ok "*) not_ok "${line#not ok }" ;;
	*) echo "$line" ;;
	esac
done < <(python3 "$E2E_TOP/test/soak/report.py" --out "$OUT" --t0 "$T0" \
    --t-end "$T_END" --warm "$WARM" --gap "$GAP" --grace "$GRACE" --ours "$OURS" --all "$ALL" ||
    echo "not ok report.py failed")
echo "# soak: $((E2E_N - E2E_FAIL)) of $E2E_N passed; samples, events, transfers, pings and logs in $OUT"
e2e_done
