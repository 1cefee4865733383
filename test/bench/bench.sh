#!/usr/bin/env bash
# test/bench/bench.sh - throughput, latency, memory and CPU cost of our node
# against the real Nebula 1.6.1 and against the bare underlay, measured in the
# same run on this machine, inside network namespaces made (and removed) here.
#
# Usage: test/bench/bench.sh [options]          (as root; `make bench` runs it)
#
#   --impl NAME        raw | nebula | ours; repeatable (default: all three)
#   --duration S       seconds per iperf3 test (default 5)
#   --pings N          pings for the RTT figures, 10 ms apart (default 50)
#   --runs N           repeat the whole comparison N times, alternating the order
#                      of the implementations; print median and min..max (default 1)
#   --tune KEY=VAL     extra config for both nodes, both implementations; repeatable.
#                      read_buffer, write_buffer, batch -> listen.*;
#                      mtu, tx_queue -> tun.*; routines -> top level;
#                      listen.X / tun.X -> that section; other words -> top level
#   --profile          instead of the comparison: run our node A and B under
#                      valgrind --tool=callgrind during a fixed transfer and print
#                      instructions per packet; output in build/bench/
#   --profile-bytes B  size of that transfer, iperf3 -n syntax (default 50M)
#   --max-seconds S    hard wall-clock bound of the whole script
#                      (default 600, more with --runs / --profile)
#   --keep             keep the scratch directory (PKI, configs, logs, iperf3 JSON)
#   -h, --help
#
# Output: a table (one column per implementation, then the ratios
# ours/nebula, ours/raw, nebula/raw), then one line "BENCH_JSON {...}".
# With --runs N every run prints its table and a "BENCH_RUN_JSON {...}"
# line; BENCH_JSON then holds the medians. Exit 0 ok, 1 a daemon failed
# (log tail printed), 2 some figure could not be measured, 64 usage.
#
# Lab: namespaces bn<pid>-a and bn<pid>-b joined by one veth pair,
# underlay 10.77.0.1/24 (A) and 10.77.0.2/24 (B), overlay 10.78.0.1/24 and
# 10.78.0.2/24. A is the client (ping, iperf3 -c), B the server. Nothing
# is attached to the root namespace; no traffic leaves the lab.

set -u -o pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OURS_BIN=${OURS_BIN:-$TOP/bin/cairn}
CERT_TOOL=${CERT_TOOL:-$TOP/bin/cairn-cert}
NEBULA_BIN=${NEBULA_BIN:-/usr/bin/nebula}
OUTDIR=$TOP/build/bench

DURATION=5
PINGS=50
RUNS=1
PROFILE=0
PROFILE_BYTES=50M
MAX_SECONDS=
KEEP=0
declare -a IMPLS=()
declare -a TUNE_KEYS=() TUNE_VALS=()

UL_A=10.77.0.1 UL_B=10.77.0.2
OV_A=10.78.0.1 OV_B=10.78.0.2
PORT=4242
IPERF_PORT=5201
TUN_DEV=nebula1
MTU=1300
TX_QUEUE=500

PFX="bn$$"
NS_A="$PFX-a" NS_B="$PFX-b"

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; }
usage_die() { echo "bench: $*" >&2; echo "bench: see --help" >&2; exit 64; }

while (($#)); do
	case $1 in
	--impl)
		case ${2:-} in raw | nebula | ours) IMPLS+=("$2") ;;
		*) usage_die "--impl takes raw, nebula or ours" ;; esac
		shift ;;
	--duration) DURATION=${2:-}; shift ;;
	--pings) PINGS=${2:-}; shift ;;
	--runs) RUNS=${2:-}; shift ;;
	--tune)
		[[ ${2:-} == ?*=?* ]] || usage_die "--tune takes KEY=VAL"
		TUNE_KEYS+=("${2%%=*}") TUNE_VALS+=("${2#*=}")
		shift ;;
	--profile) PROFILE=1 ;;
	--profile-bytes) PROFILE_BYTES=${2:-}; shift ;;
	--max-seconds) MAX_SECONDS=${2:-}; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage_die "unknown argument '$1'" ;;
	esac
	shift
done
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 ]] || usage_die "--duration: whole seconds >= 1"
[[ $PINGS =~ ^[0-9]+$ && $PINGS -ge 2 ]] || usage_die "--pings: a number >= 2"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 ]] || usage_die "--runs: a number >= 1"
[[ $PROFILE_BYTES =~ ^[0-9]+[KMG]?$ ]] || usage_die "--profile-bytes: e.g. 50M"
((${#IMPLS[@]})) || IMPLS=(raw nebula ours)
# de-duplicate, keep the canonical order raw nebula ours
declare -a SEL=()
for i in raw nebula ours; do
	for j in "${IMPLS[@]}"; do [[ $i == "$j" ]] && { SEL+=("$i"); break; }; done
done
IMPLS=("${SEL[@]}")
if [[ -z $MAX_SECONDS ]]; then
	MAX_SECONDS=$((120 + RUNS * (60 + 9 * DURATION)))
	((PROFILE)) && MAX_SECONDS=900
	((MAX_SECONDS < 600)) && MAX_SECONDS=600
fi
[[ $MAX_SECONDS =~ ^[0-9]+$ ]] || usage_die "--max-seconds: a number"

# Apply --tune: the tun knobs replace the defaults, the rest is written as is.
declare -a T_LISTEN=() T_TUN=() T_TOP=()
for ((i = 0; i < ${#TUNE_KEYS[@]}; i++)); do
	k=${TUNE_KEYS[i]} v=${TUNE_VALS[i]}
	[[ $k =~ ^[A-Za-z_][A-Za-z0-9_.]*$ ]] || usage_die "--tune: bad key '$k'"
	[[ $v =~ ^[A-Za-z0-9_.:/-]+$ ]] || usage_die "--tune: bad value '$v'"
	case $k in
	mtu | tun.mtu) MTU=$v ;;
	tx_queue | tun.tx_queue) TX_QUEUE=$v ;;
	read_buffer | write_buffer | batch) T_LISTEN+=("$k: $v") ;;
	listen.*) T_LISTEN+=("${k#listen.}: $v") ;;
	tun.*) T_TUN+=("${k#tun.}: $v") ;;
	*.*) usage_die "--tune: only listen.X and tun.X may be dotted ('$k')" ;;
	*) T_TOP+=("$k: $v") ;;
	esac
done

# ------------------------------------------------------------ preconditions
[[ $(id -u) == 0 ]] || { echo "bench: must run as root (namespaces, tun)" >&2; exit 1; }
need=(ip ping iperf3 python3 getconf timeout ss)
((PROFILE)) && need+=(valgrind callgrind_annotate callgrind_control)
for t in "${need[@]}"; do
	command -v "$t" >/dev/null || { echo "bench: '$t' missing (make deps installs it)" >&2; exit 1; }
done
[[ -x $CERT_TOOL ]] || { echo "bench: $CERT_TOOL not built (make)" >&2; exit 1; }
for i in "${IMPLS[@]}"; do
	case $i in
	ours) [[ -x $OURS_BIN ]] || { echo "bench: $OURS_BIN not built (make)" >&2; exit 1; } ;;
	nebula) [[ -x $NEBULA_BIN ]] || { echo "bench: $NEBULA_BIN missing (make deps)" >&2; exit 1; } ;;
	esac
done
((PROFILE)) && { [[ -x $OURS_BIN ]] || { echo "bench: $OURS_BIN not built" >&2; exit 1; }; }
[[ -c /dev/net/tun ]] || { echo "bench: /dev/net/tun missing" >&2; exit 1; }
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------ cleanup
WD=$(mktemp -d /tmp/bench.XXXXXX)
declare -a PIDS=()      # every process we started, stopped by PID
WATCHDOG=

alive() { # a live, non-zombie process
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[[ ${s:0:1} != Z ]]
}

stop_pid() { # pid [grace_seconds]: TERM, wait, then KILL
	local pid=$1 grace=${2:-3} t
	[[ -n $pid ]] || return 0
	if alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for ((t = 0; t < grace * 10; t++)); do alive "$pid" || break; sleep 0.1; done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

forget_pid() { # pids that are reaped: never signal them again (the PID may be reused)
	local left=() q r
	for q in "${PIDS[@]}"; do
		for r in "$@"; do [[ $q == "$r" ]] && continue 2; done
		left+=("$q")
	done
	PIDS=("${left[@]}")
}

cleanup() {
	local rc=$? p ns pid
	trap - EXIT INT TERM HUP
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	for ns in "$NS_A" "$NS_B"; do
		# anything still running inside our own namespaces was started by us
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	if [[ -n $WATCHDOG ]]; then kill "$WATCHDOG" 2>/dev/null; wait "$WATCHDOG" 2>/dev/null; fi
	if ((KEEP)); then log "scratch dir kept: $WD"; else rm -rf "$WD"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT HUP
trap 'log "terminated"; exit 143' TERM

(
	trap 'kill "$sp" 2>/dev/null; exit 0' TERM
	sleep "$MAX_SECONDS" &
	sp=$!
	wait "$sp"
	echo "[bench] wall-clock bound of ${MAX_SECONDS}s exceeded, stopping" >&2
	kill -TERM $$
) &
WATCHDOG=$!

T_START=$EPOCHREALTIME

# ------------------------------------------------------------ small helpers
in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

rss_kb() { # VmRSS of pid in KiB, no fork
	local k v _
	while read -r k v _; do
		[[ $k == VmRSS: ]] && { echo "$v"; return; }
	done 2>/dev/null <"/proc/$1/status"
}
hwm_kb() {
	local k v _
	while read -r k v _; do
		[[ $k == VmHWM: ]] && { echo "$v"; return; }
	done 2>/dev/null <"/proc/$1/status"
}
cpu_ticks() { # utime+stime (whole process) from /proc/pid/stat
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	read -r -a f <<<"$s"
	echo $((f[11] + f[12]))
}
tun_count() { # ns stat: a counter of the tun device inside ns
	ip netns exec "$1" cat "/sys/class/net/$TUN_DEV/statistics/$2" 2>/dev/null || echo 0
}
udp_counter() { # ns field of the Udp: line of /proc/net/snmp
	ip netns exec "$1" awk -v f="$2" '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) x[$i] = i; h = 1 }
		else { print $(x[f]) + 0; exit } }' /proc/net/snmp 2>/dev/null
}

# ------------------------------------------------------------ lab
lab_up() {
	local ns
	for ns in "$NS_A" "$NS_B"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	done
	# veth made inside A, its peer moved straight into B: never in the root ns
	ip -n "$NS_A" link add eth0 type veth peer name eth0 netns "$NS_B" || return 1
	ip -n "$NS_A" addr add "$UL_A/24" dev eth0
	ip -n "$NS_B" addr add "$UL_B/24" dev eth0
	ip -n "$NS_A" link set eth0 up
	ip -n "$NS_B" link set eth0 up
	local t
	for ((t = 0; t < 50; t++)); do
		in_a ping -c1 -W1 -q "$UL_B" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	log "underlay $UL_A -> $UL_B does not answer"
	return 1
}

make_pki() {
	mkdir -p "$WD/pki"
	"$CERT_TOOL" ca -name bench-ca -out-crt "$WD/pki/ca.crt" -out-key "$WD/pki/ca.key" \
		>"$WD/pki/log" 2>&1 || { cat "$WD/pki/log" >&2; return 1; }
	"$CERT_TOOL" sign -ca-crt "$WD/pki/ca.crt" -ca-key "$WD/pki/ca.key" -name a \
		-ip "$OV_A/24" -out-crt "$WD/pki/a.crt" -out-key "$WD/pki/a.key" \
		>>"$WD/pki/log" 2>&1 || { cat "$WD/pki/log" >&2; return 1; }
	"$CERT_TOOL" sign -ca-crt "$WD/pki/ca.crt" -ca-key "$WD/pki/ca.key" -name b \
		-ip "$OV_B/24" -out-crt "$WD/pki/b.crt" -out-key "$WD/pki/b.key" \
		>>"$WD/pki/log" 2>&1 || { cat "$WD/pki/log" >&2; return 1; }
}

write_config() { # name peer_overlay peer_underlay
	local n=$1 x
	{
		echo "# written by test/bench/bench.sh: node $n"
		echo "pki:"
		echo "  ca: $WD/pki/ca.crt"
		echo "  cert: $WD/pki/$n.crt"
		echo "  key: $WD/pki/$n.key"
		echo "static_host_map:"
		echo "  \"$2\": [\"$3:$PORT\"]"
		echo "lighthouse:"
		echo "  am_lighthouse: false"
		echo "  hosts: []"
		echo "listen:"
		echo "  host: 0.0.0.0"
		echo "  port: $PORT"
		for x in "${T_LISTEN[@]}"; do echo "  $x"; done
		echo "punchy:"
		echo "  punch: true"
		echo "cipher: aes"
		echo "tun:"
		echo "  disabled: false"
		echo "  dev: $TUN_DEV"
		echo "  drop_local_broadcast: false"
		echo "  drop_multicast: false"
		echo "  tx_queue: $TX_QUEUE"
		echo "  mtu: $MTU"
		echo "  routes: []"
		echo "  unsafe_routes: []"
		for x in "${T_TUN[@]}"; do echo "  $x"; done
		for x in "${T_TOP[@]}"; do echo "$x"; done
		echo "logging:"
		echo "  level: info"
		echo "  format: text"
		echo "firewall:"
		echo "  conntrack:"
		echo "    tcp_timeout: 12m"
		echo "    udp_timeout: 3m"
		echo "    default_timeout: 10m"
		echo "  outbound:"
		echo "    - port: any"
		echo "      proto: any"
		echo "      host: any"
		echo "  inbound:"
		echo "    - port: any"
		echo "      proto: any"
		echo "      host: any"
	} >"$WD/$n.yml"
}

# ------------------------------------------------------------ daemons
PID_A='' PID_B='' LOG_A='' LOG_B='' CUR=''

tail_logs() {
	local f
	for f in "$@"; do
		[[ -s $f ]] || continue
		echo "----- last lines of $f" >&2
		tail -n 20 "$f" >&2
	done
}

fail() { # message: print tails of the current daemons' logs, exit 1
	log "FAILED ($CUR): $*"
	tail_logs "$LOG_B" "$LOG_A"
	exit 1
}

start_daemon() { # ns logfile cmd... ; sets LAST_PID to the daemon itself
	# `ip netns exec` execs the command, so $! is the daemon's own PID.
	local ns=$1 lf=$2; shift 2
	ip netns exec "$ns" "$@" >"$lf" 2>&1 </dev/null &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

check_alive() {
	alive "$PID_B" || fail "node B (pid $PID_B) died"
	alive "$PID_A" || fail "node A (pid $PID_A) died"
}

# vpn_up impl tag bound_s prefix-cmd...: start B, then A, wait for an overlay ping
vpn_up() {
	local impl=$1 tag=$2 bound=$3 bin t0 t
	shift 3
	case $impl in nebula) bin=$NEBULA_BIN ;; ours) bin=$OURS_BIN ;; esac
	LOG_A=$WD/$tag.a.log LOG_B=$WD/$tag.b.log
	start_daemon "$NS_B" "$LOG_B" "$@" "$bin" -config "$WD/b.yml"; PID_B=$LAST_PID
	start_daemon "$NS_A" "$LOG_A" "$@" "$bin" -config "$WD/a.yml"; PID_A=$LAST_PID
	t0=$EPOCHREALTIME
	t=$((SECONDS + bound))
	until in_a ping -c1 -W1 -q "$OV_B" >/dev/null 2>&1; do
		check_alive
		((SECONDS < t)) || fail "no ping over the overlay $OV_A -> $OV_B within ${bound}s"
		sleep 0.05
	done
	UP_S=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN{printf "%.3f", a-b}')
}

vpn_down() { # [grace]
	local p
	stop_pid "$PID_A" "${1:-3}"
	stop_pid "$PID_B" "${1:-3}"
	forget_pid "$PID_A" "$PID_B"
	PID_A='' PID_B=''
}

# ------------------------------------------------------------ measurements
declare -A R=()   # this run: "impl.key" -> value

ping_stats() { # dst -> "avg p50 min loss%" from the per-packet times
	local out
	out=$(in_a timeout $((PINGS / 20 + 20)) ping -n -c "$PINGS" -i 0.01 -W 1 "$1" 2>&1)
	printf '%s\n' "$out" | awk -v n="$PINGS" '
		/ time=/ { for (i = 1; i <= NF; i++) if ($i ~ /^time=/) { sub(/^time=/, "", $i); t[c++] = $i + 0 } }
		END {
			if (c == 0) { print "- - - 100"; exit }
			for (i = 0; i < c; i++) for (j = i + 1; j < c; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
			s = 0; for (i = 0; i < c; i++) s += t[i]
			p50 = (c % 2) ? t[(c - 1) / 2] : (t[c / 2 - 1] + t[c / 2]) / 2
			printf "%.4f %.4f %.4f %.1f\n", s / c, p50, t[0], 100 * (n - c) / n
		}'
}

# iperf_json_field file -> "bps bytes retransmits" (or "" on error)
iperf_parse() {
	python3 - "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
if d.get("error"):
    print("ERR", d["error"].replace("\n", " "))
    sys.exit(0)
r = d["end"]["sum_received"]
s = d["end"].get("sum_sent", {})
print(int(r["bits_per_second"]), int(r["bytes"]), int(s.get("retransmits", 0) or 0))
PY
}

# iperf_run dst label iperf3-client-args... -> sets IPERF_RESULT "bps bytes retrans"
# While it runs, samples VmRSS of the daemons (if any) into RSS_MAX_A/B.
RSS_MAX_A=0 RSS_MAX_B=0
iperf_run() {
	local dst=$1 label=$2 spid cpid t json=$WD/iperf-$2.json
	shift 2
	IPERF_RESULT=
	in_b iperf3 -s -1 -p "$IPERF_PORT" >"$WD/iperf-server-$label.log" 2>&1 </dev/null &
	spid=$!; PIDS+=("$spid")
	for ((t = 0; t < 50; t++)); do
		in_b ss -Htln "sport = :$IPERF_PORT" 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	in_a timeout $((DURATION + 60)) iperf3 -c "$dst" -p "$IPERF_PORT" -J \
		--connect-timeout 5000 "$@" >"$json" 2>"$WD/iperf-client-$label.err" </dev/null &
	cpid=$!; PIDS+=("$cpid")
	local r
	while alive "$cpid"; do
		if [[ -n $PID_A ]]; then
			r=$(rss_kb "$PID_A"); ((${r:-0} > RSS_MAX_A)) && RSS_MAX_A=$r
			r=$(rss_kb "$PID_B"); ((${r:-0} > RSS_MAX_B)) && RSS_MAX_B=$r
		fi
		sleep 0.2
	done
	wait "$cpid" 2>/dev/null
	for ((t = 0; t < 30; t++)); do alive "$spid" || break; sleep 0.1; done
	stop_pid "$spid"
	forget_pid "$spid" "$cpid"
	IPERF_RESULT=$(iperf_parse "$json")
	if [[ -z $IPERF_RESULT || $IPERF_RESULT == ERR* ]]; then
		log "iperf3 $label failed: ${IPERF_RESULT:-no JSON} $(head -c 300 "$WD/iperf-client-$label.err")"
		IPERF_RESULT=
		return 1
	fi
}

measure_raw() {
	CUR=raw
	log "raw: underlay $UL_A -> $UL_B"
	local avg p50 mn loss b by rt
	read -r avg p50 mn loss <<<"$(ping_stats "$UL_B")"
	R[raw.rtt_avg_ms]=$avg R[raw.rtt_p50_ms]=$p50 R[raw.rtt_min_ms]=$mn R[raw.ping_loss_pct]=$loss
	if iperf_run "$UL_B" "r$RUN-raw-P1" -t "$DURATION"; then
		read -r b by rt <<<"$IPERF_RESULT"
		R[raw.tcp1_bps]=$b R[raw.tcp1_retrans]=$rt
	else MISSING=1; fi
	if iperf_run "$UL_B" "r$RUN-raw-P4" -t "$DURATION" -P 4; then
		read -r b by rt <<<"$IPERF_RESULT"
		R[raw.tcp4_bps]=$b R[raw.tcp4_retrans]=$rt
	else MISSING=1; fi
}

measure_vpn() { # impl
	local k=$1 avg p50 mn loss b by rt ca0 cb0 ca1 cb1 d0 d1
	CUR=$k
	log "$k: start B, then A; wait for the overlay"
	vpn_up "$k" "r$RUN-$k" 15
	R[$k.up_s]=$UP_S
	sleep 1
	check_alive
	R[$k.rss_idle_a_kb]=$(rss_kb "$PID_A") R[$k.rss_idle_b_kb]=$(rss_kb "$PID_B")

	read -r avg p50 mn loss <<<"$(ping_stats "$OV_B")"
	R[$k.rtt_avg_ms]=$avg R[$k.rtt_p50_ms]=$p50 R[$k.rtt_min_ms]=$mn R[$k.ping_loss_pct]=$loss
	check_alive

	RSS_MAX_A=0 RSS_MAX_B=0
	d0=$(udp_counter "$NS_B" RcvbufErrors)
	ca0=$(cpu_ticks "$PID_A") cb0=$(cpu_ticks "$PID_B")
	local ok1=0
	iperf_run "$OV_B" "r$RUN-$k-P1" -t "$DURATION" && ok1=1
	ca1=$(cpu_ticks "$PID_A") cb1=$(cpu_ticks "$PID_B")
	d1=$(udp_counter "$NS_B" RcvbufErrors)
	check_alive
	if ((ok1)); then
		read -r b by rt <<<"$IPERF_RESULT"
		R[$k.tcp1_bps]=$b R[$k.tcp1_retrans]=$rt R[$k.tcp1_bytes]=$by
		R[$k.cpu_a_s]=$(awk -v t=$((ca1 - ca0)) -v h="$CLK_TCK" 'BEGIN{printf "%.3f", t/h}')
		R[$k.cpu_b_s]=$(awk -v t=$((cb1 - cb0)) -v h="$CLK_TCK" 'BEGIN{printf "%.3f", t/h}')
		R[$k.udp_rcvbuf_drops_b]=$((${d1:-0} - ${d0:-0}))
	else
		MISSING=1
		tail_logs "$LOG_B" "$LOG_A"
	fi
	if iperf_run "$OV_B" "r$RUN-$k-P4" -t "$DURATION" -P 4; then
		read -r b by rt <<<"$IPERF_RESULT"
		R[$k.tcp4_bps]=$b R[$k.tcp4_retrans]=$rt
	else
		MISSING=1
		tail_logs "$LOG_B" "$LOG_A"
	fi
	check_alive
	R[$k.rss_load_a_kb]=$RSS_MAX_A R[$k.rss_load_b_kb]=$RSS_MAX_B
	R[$k.rss_hwm_a_kb]=$(hwm_kb "$PID_A") R[$k.rss_hwm_b_kb]=$(hwm_kb "$PID_B")
	vpn_down
	CUR=
}

# ------------------------------------------------------------ report (python)
report() { # mode(run|summary) results-file
	python3 - "$@" <<'PY'
import json, sys, statistics

mode, path = sys.argv[1], sys.argv[2]
runs = {}      # run -> impl -> key -> float
meta = {}
for line in open(path):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 4:
        continue
    run, impl, key, val = parts
    if impl == "meta":
        try:
            meta[key] = int(val) if val.isdigit() else float(val)
        except ValueError:
            meta[key] = val
        continue
    try:
        v = float(val)
    except ValueError:
        continue
    runs.setdefault(run, {}).setdefault(impl, {})[key] = v

IMPLS = [i for i in ("raw", "nebula", "ours") if any(i in r for r in runs.values())]

def derive(r):
    """Figures computed from the raw measurements of one run."""
    raw = r.get("raw", {})
    for k, f in r.items():
        for n in ("1", "4"):
            if "tcp%s_bps" % n in f:
                f["tcp%s_gbps" % n] = f["tcp%s_bps" % n] / 1e9
        if "tcp1_bytes" in f and f["tcp1_bytes"] > 0 and "cpu_a_s" in f:
            gb = f["tcp1_bytes"] / 1e9
            f["cpu_s_per_gb"] = (f["cpu_a_s"] + f["cpu_b_s"]) / gb
            f["cpu_a_s_per_gb"] = f["cpu_a_s"] / gb
            f["cpu_b_s_per_gb"] = f["cpu_b_s"] / gb
        if k != "raw":
            for m in ("avg", "p50"):
                if "rtt_%s_ms" % m in f and "rtt_%s_ms" % m in raw:
                    f["rtt_overhead_%s_ms" % m] = f["rtt_%s_ms" % m] - raw["rtt_%s_ms" % m]
    return r

# (label, key, decimals, "higher is better"?)
ROWS = [
    ("TCP 1 stream, Gbit/s", "tcp1_gbps", 3, True),
    ("TCP 4 streams, Gbit/s", "tcp4_gbps", 3, True),
    ("ping RTT avg, ms", "rtt_avg_ms", 3, False),
    ("ping RTT p50, ms", "rtt_p50_ms", 3, False),
    ("ping overhead avg (-raw), ms", "rtt_overhead_avg_ms", 3, False),
    ("ping overhead p50 (-raw), ms", "rtt_overhead_p50_ms", 3, False),
    ("idle RSS A, KiB", "rss_idle_a_kb", 0, False),
    ("idle RSS B, KiB", "rss_idle_b_kb", 0, False),
    ("load RSS A (max), KiB", "rss_load_a_kb", 0, False),
    ("load RSS B (max), KiB", "rss_load_b_kb", 0, False),
    ("CPU-s per GB, A+B (1 str)", "cpu_s_per_gb", 2, False),
    ("CPU-s per GB, A sender", "cpu_a_s_per_gb", 2, False),
    ("CPU-s per GB, B receiver", "cpu_b_s_per_gb", 2, False),
]
INFO = [
    ("TCP retransmits, 1 stream", "tcp1_retrans", 0),
    ("TCP retransmits, 4 streams", "tcp4_retrans", 0),
    ("B UDP rcvbuf drops (1 str)", "udp_rcvbuf_drops_b", 0),
    ("ping loss, %", "ping_loss_pct", 1),
    ("start -> overlay ping ok, s", "up_s", 3),
]
PAIRS = [("ours", "nebula"), ("ours", "raw"), ("nebula", "raw")]

def ratios(r):
    out = {}
    for a, b in PAIRS:
        if a not in r or b not in r:
            continue
        d = {}
        for _, key, _, _ in ROWS:
            x, y = r[a].get(key), r[b].get(key)
            if x is not None and y not in (None, 0):
                d[key] = x / y
        out["%s_over_%s" % (a, b)] = d
    return out

def fmt(v, dec):
    if v is None:
        return "-"
    return ("%.*f" % (dec, v)) if dec else "%d" % round(v)

def fr(v):
    return "-" if v is None else "%.3g" % v

def rnd(v, dec=4):
    return None if v is None else round(v, dec)

def table(fig, rat, spread=None, title=""):
    """fig: impl->key->value; rat: pair->key->ratio; spread: pair->key->(min,max)."""
    w0, w = 30, 11
    rw = 24 if spread else 12
    pairs = [p for p in PAIRS if "%s_over_%s" % p in rat]
    head = "%-*s" % (w0, title) + "".join("%*s" % (w, i) for i in IMPLS) + \
        "".join("%*s" % (rw, "%s/%s" % p) for p in pairs)
    print(head)
    print("-" * len(head))
    for label, key, dec, _ in ROWS:
        line = "%-*s" % (w0, label) + "".join("%*s" % (w, fmt(fig.get(i, {}).get(key), dec)) for i in IMPLS)
        for p in pairs:
            pk = "%s_over_%s" % p
            v = rat[pk].get(key)
            s = fr(v)
            if spread and v is not None and key in spread.get(pk, {}):
                lo, hi = spread[pk][key]
                s += " (%.3g..%.3g)" % (lo, hi)
            line += "%*s" % (rw, s)
        if line[w0:].strip(" -"):
            print(line)
    for label, key, dec in INFO:
        vals = [fig.get(i, {}).get(key) for i in IMPLS]
        if any(v is not None for v in vals):
            print("%-*s" % (w0, label) + "".join("%*s" % (w, fmt(v, dec)) for v in vals))

def json_out(prefix, fig, rat, extra):
    o = {"schema": "bench/1"}
    o.update(extra)
    o["meta"] = meta
    for i in IMPLS:
        o[i] = {k: rnd(v) for k, v in sorted(fig.get(i, {}).items())}
    o["ratio"] = {p: {k: rnd(v) for k, v in d.items()} for p, d in rat.items()}
    print(prefix + " " + json.dumps(o, sort_keys=False, separators=(",", ":")))

derived = {run: derive(r) for run, r in runs.items()}
order = sorted(derived, key=int)

if mode == "run":
    run = order[-1]
    r = derived[run]
    rat = ratios(r)
    print()
    print("run %s of %s  order: %s  (%s)" % (run, meta.get("runs", "?"),
          meta.get("order_%s" % run, "?"), meta.get("config", "")))
    table(r, rat, title="figure")
    nr = meta.get("runs", 1)
    print()
    print("ratios: ours/nebula > 1 is better for throughput, < 1 for RTT, RSS and CPU;")
    print("        on this shared machine compare ratios from one run, not absolute figures.")
    json_out("BENCH_RUN_JSON" if nr != 1 else "BENCH_JSON", r, rat,
             {"run": int(run), "order": str(meta.get("order_%s" % run, "")).split()})
else:
    # medians over runs of every figure and every ratio, with min..max of ratios
    fig, rat, spread = {}, {}, {}
    for i in IMPLS:
        keys = sorted({k for r in derived.values() for k in r.get(i, {})})
        for k in keys:
            vals = [derived[x][i][k] for x in order if k in derived[x].get(i, {})]
            fig.setdefault(i, {})[k] = statistics.median(vals)
    per_run = [ratios(derived[x]) for x in order]
    for pr in per_run:
        for p, d in pr.items():
            for k, v in d.items():
                rat.setdefault(p, {}).setdefault(k, []).append(v)
    for p, d in rat.items():
        spread[p] = {k: (min(v), max(v)) for k, v in d.items()}
        rat[p] = {k: statistics.median(v) for k, v in d.items()}
    print()
    print("=== %d runs: median of each figure; ratio = median of the per-run ratios (min..max)" % len(order))
    table(fig, rat, spread, title="figure (median)")
    extra = {"runs": len(order), "statistic": "median",
             "ratio_min": {p: {k: rnd(v[0]) for k, v in d.items()} for p, d in spread.items()},
             "ratio_max": {p: {k: rnd(v[1]) for k, v in d.items()} for p, d in spread.items()}}
    print()
    json_out("BENCH_JSON", fig, rat, extra)
PY
}

# ------------------------------------------------------------ profile mode
profile() {
	mkdir -p "$OUTDIR"
	local fa=$OUTDIR/callgrind.out.a fb=$OUTDIR/callgrind.out.b zeroed=1
	rm -f "$fa" "$fa".* "$fb" "$fb".*
	CUR="ours under callgrind"
	log "profile: our node A and B under valgrind --tool=callgrind"
	# --vgdb=yes lets callgrind_control zero the counters once the tunnel is up.
	LOG_A=$WD/prof.a.log LOG_B=$WD/prof.b.log
	start_daemon "$NS_B" "$LOG_B" valgrind --tool=callgrind --vgdb=yes \
		--callgrind-out-file="$fb" "$OURS_BIN" -config "$WD/b.yml"; PID_B=$LAST_PID
	start_daemon "$NS_A" "$LOG_A" valgrind --tool=callgrind --vgdb=yes \
		--callgrind-out-file="$fa" "$OURS_BIN" -config "$WD/a.yml"; PID_A=$LAST_PID
	local t=$((SECONDS + 60))
	until in_a ping -c1 -W2 -q "$OV_B" >/dev/null 2>&1; do
		check_alive
		((SECONDS < t)) || fail "no ping over the overlay within 60s under valgrind"
		sleep 0.2
	done
	sleep 0.5
	local p
	for p in "$PID_A" "$PID_B"; do
		timeout 20 callgrind_control -z "$p" >>"$WD/callgrind_control.log" 2>&1 || zeroed=0
	done
	((zeroed)) || log "callgrind_control -z failed: totals include start-up and handshake"
	local ta0 ra0 tb0 rb0 ta1 ra1 tb1 rb1 t0 t1
	ta0=$(tun_count "$NS_A" tx_packets) ra0=$(tun_count "$NS_A" rx_packets)
	tb0=$(tun_count "$NS_B" tx_packets) rb0=$(tun_count "$NS_B" rx_packets)
	t0=$EPOCHREALTIME
	log "profile: iperf3 -n $PROFILE_BYTES over the overlay (slow under valgrind)"
	local save=$DURATION
	DURATION=600
	iperf_run "$OV_B" prof -n "$PROFILE_BYTES" || fail "iperf3 over the profiled tunnel failed"
	DURATION=$save
	t1=$EPOCHREALTIME
	ta1=$(tun_count "$NS_A" tx_packets) ra1=$(tun_count "$NS_A" rx_packets)
	tb1=$(tun_count "$NS_B" tx_packets) rb1=$(tun_count "$NS_B" rx_packets)
	check_alive
	log "profile: stopping the nodes (callgrind writes its output at exit)"
	vpn_down 30
	local b by rt
	read -r b by rt <<<"$IPERF_RESULT"
	python3 - "$fa" "$fb" "$by" "$MTU" "$((ta1 - ta0))" "$((ra1 - ra0))" "$((tb1 - tb0))" \
		"$((rb1 - rb0))" "$(awk -v a="$t1" -v b="$t0" 'BEGIN{print a-b}')" "$b" "$zeroed" <<'PY'
import json, re, sys
fa, fb, nbytes, mtu, a_tx, a_rx, b_tx, b_rx, secs, bps, zeroed = sys.argv[1:]
nbytes, mtu = int(nbytes), int(mtu)
a_tx, a_rx, b_tx, b_rx = map(int, (a_tx, a_rx, b_tx, b_rx))

def total_ir(path):
    tot = None
    try:
        for line in open(path):
            m = re.match(r"(summary|totals):\s+(\d+)", line)
            if m:
                tot = int(m.group(2))
    except OSError:
        return None
    return tot

# TUN counters are the kernel's view: tx = handed to the node (it encrypts
# and sends), rx = written by the node (it received and decrypted).
ia, ib = total_ir(fa), total_ir(fb)
est = nbytes / (mtu - 40) if nbytes else 0
res = {"schema": "bench-profile/1", "bytes": nbytes, "seconds_under_valgrind": round(float(secs), 2),
       "gbps_under_valgrind": round(int(bps) / 1e9, 4), "counters_zeroed_before_transfer": zeroed == "1"}
print()
print("callgrind profile of our node, iperf3 -n %d bytes A -> B (mtu %d, %.1f s under valgrind)"
      % (nbytes, mtu, float(secs)))
print("%-4s %16s %12s %12s %14s %16s" % ("node", "instructions", "tun->node", "node->tun",
                                          "instr/packet", "instr/data-pkt*"))
for name, ir, tx, rx, f in (("A", ia, a_tx, a_rx, fa), ("B", ib, b_tx, b_rx, fb)):
    pk = tx + rx
    ipp = ir / pk if ir and pk else None
    ipd = ir / est if ir and est else None
    print("%-4s %16s %12d %12d %14s %16s" % (name, ir if ir is not None else "-", tx, rx,
          "%.0f" % ipp if ipp else "-", "%.0f" % ipd if ipd else "-"))
    res[name.lower()] = {"instructions": ir, "tun_tx_packets": tx, "tun_rx_packets": rx,
                         "instr_per_packet": round(ipp) if ipp else None,
                         "instr_per_data_packet_est": round(ipd) if ipd else None,
                         "callgrind_out": f}
both = (ia or 0) + (ib or 0)
if both and est:
    res["instr_per_data_packet_a_plus_b_est"] = round(both / est)
    print("A+B instructions per data packet (estimated %d data packets = bytes/(mtu-40)): %.0f"
          % (est, both / est))
print("packet = one tun read or write by the node (data and TCP ACKs), each one UDP datagram;")
print("*data-pkt = instructions / (bytes / (mtu-40)), i.e. ACK handling charged to data.")
print("BENCH_JSON " + json.dumps(res, separators=(",", ":")))
PY
	local f
	for f in "$fa" "$fb"; do
		[[ -s $f ]] || { log "no callgrind output $f"; continue; }
		echo
		echo "top functions by own instructions, node $(basename "$f" | sed 's/.*\.//'):"
		# Frames that were on the stack when the counters were zeroed show up
		# with (nearly) the whole total; they are skipped (>= 99 %).
		callgrind_annotate --threshold=100 "$f" 2>/dev/null |
			awk '/^-+$/ {d++; next}
				d >= 3 && /%\)/ { p = $0; sub(/^[^(]*\(/, "", p); sub(/%.*/, "", p)
					if (p + 0 >= 99) next; print; if (++n >= 15) exit }'
	done
}

# ------------------------------------------------------------ main
log "lab $PFX: namespaces $NS_A, $NS_B; scratch $WD; bound ${MAX_SECONDS}s"
lab_up || exit 1
make_pki || { log "cairn-cert failed"; exit 1; }
write_config a "$OV_B" "$UL_B"
write_config b "$OV_A" "$UL_A"

if ((PROFILE)); then
	profile
	log "done in $(awk -v a="$EPOCHREALTIME" -v b="$T_START" 'BEGIN{printf "%.0f", a-b}') s"
	exit 0
fi

RESULTS=$WD/results.tsv
: >"$RESULTS"
cfg="aes mtu=$MTU tx_queue=$TX_QUEUE duration=${DURATION}s pings=$PINGS"
for x in "${T_LISTEN[@]}" "${T_TUN[@]}" "${T_TOP[@]}"; do cfg+=" ${x/: /=}"; done
{
	printf '0\tmeta\truns\t%s\n' "$RUNS"
	printf '0\tmeta\tconfig\t%s\n' "$cfg"
	printf '0\tmeta\thost\t%s\n' "$(hostname)"
	printf '0\tmeta\tkernel\t%s\n' "$(uname -r)"
	printf '0\tmeta\tcpus\t%s\n' "$(nproc)"
	printf '0\tmeta\tnebula\t%s\n' "$("$NEBULA_BIN" -version 2>/dev/null | head -n1 | tr -d '\t')"
	printf '0\tmeta\tloadavg_start\t%s\n' "$(cut -d' ' -f1 /proc/loadavg)"
} >>"$RESULTS"

MISSING=0
for ((RUN = 1; RUN <= RUNS; RUN++)); do
	R=()
	order=("${IMPLS[@]}")
	if ((RUN % 2 == 0)); then
		order=()
		for ((j = ${#IMPLS[@]} - 1; j >= 0; j--)); do order+=("${IMPLS[j]}"); done
	fi
	log "run $RUN/$RUNS, order: ${order[*]}"
	for impl in "${order[@]}"; do
		if [[ $impl == raw ]]; then measure_raw; else measure_vpn "$impl"; fi
	done
	printf '0\tmeta\torder_%s\t%s\n' "$RUN" "${order[*]}" >>"$RESULTS"
	for key in "${!R[@]}"; do
		[[ -n ${R[$key]} && ${R[$key]} != - ]] || continue
		printf '%s\t%s\t%s\t%s\n' "$RUN" "${key%%.*}" "${key#*.}" "${R[$key]}" >>"$RESULTS"
	done
	printf '0\tmeta\twall_s\t%s\n' "$(awk -v a="$EPOCHREALTIME" -v b="$T_START" 'BEGIN{printf "%.1f", a-b}')" >>"$RESULTS"
	report run "$RESULTS"
done
printf '0\tmeta\tloadavg_end\t%s\n' "$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS"
printf '0\tmeta\twall_s\t%s\n' "$(awk -v a="$EPOCHREALTIME" -v b="$T_START" 'BEGIN{printf "%.1f", a-b}')" >>"$RESULTS"
((RUNS > 1)) && report summary "$RESULTS"
log "done in $(awk -v a="$EPOCHREALTIME" -v b="$T_START" 'BEGIN{printf "%.0f", a-b}') s"
((MISSING)) && { log "some figures could not be measured (see above)"; exit 2; }
exit 0
