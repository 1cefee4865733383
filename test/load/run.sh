#!/usr/bin/env bash
# test/load/run.sh - drive a lighthouse with build/lhload at several sizes
# and print a table: hosts registered, lighthouse memory per host, its CPU
# per handshake and per query, queries/s and query latency.  Ours, Nebula
# 1.6.1, or both side by side.
#
# Usage: test/load/run.sh [options]             (as root)
#
#   --sizes LIST      comma-separated host counts (default 1000,10000,100000)
#   --nebula          measure /usr/bin/nebula instead of bin/cairn-lighthouse
#   --both            measure both (ours first, then Nebula, per size)
#   --queries Q       HostQuery messages per size (default 100000)
#   --cipher C        aes | chachapoly (default aes)
#   --sockets S       lhload -sockets (default 64)
#   --rate R          handshakes/s, 0 = as fast as possible (default 0)
#   --pin             lighthouse on CPU 0, lhload on the other CPUs
#   --evil N          also run lhload -mode evil with N hosts per implementation
#   --flood N         also run lhload -mode flood with N hosts per implementation
#                     (updates, then recvError packets, 5 s each)
#   --frate R         packets/s of the flood (default 0 = as fast as possible)
#   --timeout S       lhload wall-clock limit per run, seconds (default 300)
#   --max-seconds S   hard bound of the whole script (default 3600)
#   --keep            keep the scratch directory (configs, logs, JSON, cache)
#   -h, --help
#
# Everything runs on 127.0.0.1 inside one fresh network namespace
# lhl<pid> (lo up), removed on exit; the daemons are killed by PID.  A
# fresh lighthouse is started for every size and implementation.  Minted
# hosts are cached in the scratch directory, so the second implementation
# and smaller sizes do not mint again.  Exit: 0 all runs finished, 1 a
# run failed or a lighthouse died, 64 usage.

set -u -o pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIZES=1000,10000,100000
IMPLS=(ours)
QUERIES=100000
CIPHER=aes
SOCKETS=64
RATE=0
PIN=0
EVIL=0
FLOOD=0
FRATE=0
TIMEOUT=300
MAX_SECONDS=3600
KEEP=0

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0" | sed '/^!/d'; }
while [ $# -gt 0 ]; do
	case $1 in
	--sizes) SIZES=$2; shift ;;
	--nebula) IMPLS=(nebula) ;;
	--both) IMPLS=(ours nebula) ;;
	--queries) QUERIES=$2; shift ;;
	--cipher) CIPHER=$2; shift ;;
	--sockets) SOCKETS=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--pin) PIN=1 ;;
	--evil) EVIL=$2; shift ;;
	--flood) FLOOD=$2; shift ;;
	--frate) FRATE=$2; shift ;;
	--timeout) TIMEOUT=$2; shift ;;
	--max-seconds) MAX_SECONDS=$2; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 64 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (network namespace)" >&2; exit 64; }
for v in QUERIES SOCKETS RATE EVIL FLOOD FRATE TIMEOUT MAX_SECONDS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: --${v,,} wants a number" >&2; exit 64; }
done
[[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "run.sh: --sizes wants N,N,..." >&2; exit 64; }
command -v jq >/dev/null || { echo "run.sh: needs jq" >&2; exit 64; }

LHLOAD=$TOP/build/lhload
if [ ! -x "$LHLOAD" ] || [ "$TOP/test/load/lhload.c" -nt "$LHLOAD" ]; then
	"$TOP/test/load/build.sh" >/dev/null || { echo "run.sh: build failed" >&2; exit 64; }
fi
for i in "${IMPLS[@]}"; do
	case $i in
	ours) [ -x "$TOP/bin/cairn-lighthouse" ] || { echo "run.sh: no bin/cairn-lighthouse (make)" >&2; exit 64; } ;;
	nebula) command -v nebula >/dev/null || { echo "run.sh: no nebula binary" >&2; exit 64; } ;;
	esac
done

DIR=$(mktemp -d /tmp/lhload.XXXXXX)
NS=lhl$$
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	if [ "$KEEP" -eq 1 ]; then echo "scratch kept: $DIR" >&2; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The hard bound: a watchdog that ends this script.  Its sleep gets no
# copy of our stdout/stderr and is killed with it, so that nothing is
# left behind holding a pipe open.
(
	sleep "$MAX_SECONDS" </dev/null >/dev/null 2>&1 &
	sp=$!
	trap 'kill $sp 2>/dev/null; exit 0' TERM
	wait "$sp" || exit 0
	echo "run.sh: --max-seconds $MAX_SECONDS reached" >&2
	# what runs in our namespace was started by us: stop it first, as
	# bash runs our TERM trap only once the foreground child is gone
	for p in $(ip netns pids "$NS" 2>/dev/null); do kill -TERM "$p"; done
	kill -TERM $$
) &
PIDS+=("$!")

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up

# One overlay network for every size: large enough for the largest.
MAX=$(tr , '\n' <<<"$SIZES" | sort -n | tail -1)
if [ "$MAX" -le 65000 ]; then NET=10.200.0.0/16; LHVPN=10.200.0.1; PFX=16
elif [ "$MAX" -le 262000 ]; then NET=10.200.0.0/14; LHVPN=10.200.0.1; PFX=14
elif [ "$MAX" -le 1040000 ]; then NET=10.192.0.0/12; LHVPN=10.192.0.1; PFX=12
else echo "run.sh: at most 1040000 hosts" >&2; exit 64; fi

cd "$DIR" || exit 1
# Copy the binaries: a rebuild during the run must not swap them.
cp "$TOP/bin/cairn-lighthouse" ./lighthouse-ours 2>/dev/null
"$TOP/bin/cairn-cert" ca -name lhload-ca -duration 48h -out-crt ca.crt -out-key ca.key >/dev/null || exit 1
"$TOP/bin/cairn-cert" sign -ca-crt ca.crt -ca-key ca.key -name lighthouse \
	-ip "$LHVPN/$PFX" -out-crt lh.crt -out-key lh.key >/dev/null || exit 1

lh_config() { # LEVEL
	cat <<EOF
pki:
  ca: $DIR/ca.crt
  cert: $DIR/lh.crt
  key: $DIR/lh.key
lighthouse:
  am_lighthouse: true
listen:
  host: 0.0.0.0
  port: 4242
  read_buffer: 67108864
  write_buffer: 67108864
tun:
  disabled: true
# ours only (Nebula ignores them): no handshake budget, and lhload's hosts
# share one source address, so no per-source limit either
handshakes:
  cpu_percent: 100
  per_source_rate: 1000000
cipher: $CIPHER
logging:
  level: $1
EOF
}

LHPID=
start_lh() { # IMPL TAG
	local bin=./lighthouse-ours pin=()
	[ "$1" = nebula ] && bin=$(command -v nebula)
	[ "$PIN" -eq 1 ] && pin=(taskset -c 0)
	lh_config warning >"lh-$2.yml"
	ip netns exec "$NS" "${pin[@]}" "$bin" -config "$DIR/lh-$2.yml" >"lh-$2.log" 2>&1 &
	LHPID=$!
	PIDS+=("$LHPID")
	local i
	for ((i = 0; i < 50; i++)); do
		ip netns exec "$NS" ss -Hlun 2>/dev/null | grep -q ':4242 ' && return 0
		kill -0 "$LHPID" 2>/dev/null || break
		sleep 0.1
	done
	echo "run.sh: the $1 lighthouse did not start:" >&2
	tail -5 "lh-$2.log" >&2
	return 1
}

# Our counters: SIGUSR1 logs at info level, so switch the level with a
# reload first (the load itself ran at warning).
our_stats() { # TAG
	lh_config info >"lh-$1.yml"
	kill -HUP "$LHPID"
	sleep 0.3
	kill -USR1 "$LHPID"
	local i
	for ((i = 0; i < 30; i++)); do
		grep -q 'msg="stats:' "lh-$1.log" && break
		sleep 0.1
	done
	grep -o 'msg="stats:[^"]*' "lh-$1.log" | tail -1 | sed 's/^msg="//'
}

stop_lh() {
	kill -TERM "$LHPID" 2>/dev/null
	local i
	for ((i = 0; i < 30; i++)); do kill -0 "$LHPID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$LHPID" 2>/dev/null
	wait "$LHPID" 2>/dev/null
}

LHL_PIN=()
if [ "$PIN" -eq 1 ]; then
	NCPU=$(nproc)
	if [ "$NCPU" -gt 1 ]; then LHL_PIN=(taskset -c "1-$((NCPU - 1))"); fi
fi

FAILED=0
declare -A ROW
# run IMPL SIZE MODE EXTRA...: one lighthouse, one lhload; sets RES (JSON)
run() {
	local impl=$1 n=$2 mode=$3 tag="$1-$2-$3" t0 rc stats
	shift 3
	t0=$(date +%s.%N)
	start_lh "$impl" "$tag" || { FAILED=1; RES=; return 1; }
	ip netns exec "$NS" "${LHL_PIN[@]}" "$LHLOAD" -ca ca.crt -ca-key ca.key \
		-lighthouse 127.0.0.1:4242 -lh-vpn "$LHVPN" -net "$NET" \
		-hosts "$n" -sockets "$SOCKETS" -cipher "$CIPHER" -rate "$RATE" \
		-mode "$mode" -pid "$LHPID" -timeout "${TIMEOUT}s" \
		-cache "$DIR/hosts.cache" -rehandshake -json "$@" \
		>"lhload-$tag.json" 2>"lhload-$tag.txt"
	rc=$?
	RES=$(tail -1 "lhload-$tag.json")
	[ -n "$RES" ] || RES='{}'
	if ! kill -0 "$LHPID" 2>/dev/null; then
		echo "!! $impl lighthouse DIED during $mode n=$n; log tail:" >&2
		tail -20 "lh-$tag.log" >&2
		FAILED=1
		RES=$(jq -c '. + {"lh_died":true}' <<<"$RES")
	elif [ "$impl" = ours ]; then
		stats=$(our_stats "$tag")
		echo "$stats" >"stats-$tag.txt"
		RES=$(jq -c --arg s "$stats" '. + {"lh_stats":$s}' <<<"$RES")
	fi
	stop_lh
	RES=$(jq -c --argjson rc "$rc" --argjson w "$(echo "$(date +%s.%N) - $t0" | bc)" \
		'. + {"lhload_rc":$rc,"wall_s":$w}' <<<"$RES")
	echo "$RES" >"result-$tag.json"
	[ "$rc" -eq 0 ] || { FAILED=1; echo "!! lhload $mode n=$n against $impl exited $rc:" >&2; tail -5 "lhload-$tag.txt" >&2; }
	sed 's/^/   /' "lhload-$tag.txt" >&2
	grep -v 'firewall rules are not enforced' "lh-$tag.log" | grep -E 'level=(warning|error|fatal)|panic|SIG' | head -5 | sed 's/^/   lh: /' | cut -c1-250 >&2
	return 0
}

stat_field() { # STATS NAME
	grep -o "$2=[0-9]*" <<<"$1" | head -1 | cut -d= -f2
}

echo "lighthouse load: sizes $SIZES, $QUERIES queries each, cipher $CIPHER, $SOCKETS sockets, net $NET, $(nproc) CPUs$([ "$PIN" -eq 1 ] && echo ', pinned')" >&2
for n in ${SIZES//,/ }; do
	for impl in "${IMPLS[@]}"; do
		echo "== $impl, $n hosts" >&2
		run "$impl" "$n" query -queries "$QUERIES"
		ROW[$impl,$n]=$RES
	done
done
for impl in "${IMPLS[@]}"; do
	if [ "$EVIL" -gt 0 ]; then
		echo "== $impl, evil with $EVIL hosts" >&2
		run "$impl" "$EVIL" evil
		ROW[$impl,evil]=$RES
	fi
	if [ "$FLOOD" -gt 0 ]; then
		echo "== $impl, flood with $FLOOD hosts" >&2
		run "$impl" "$FLOOD" flood -frate "$FRATE"
		ROW[$impl,flood]=$RES
	fi
done

# The table.
mb() { awk -v b="$1" 'BEGIN { if (b < 0) print "-"; else printf "%.1f", b / 1048576 }'; }
printf '\n%-7s %7s %7s %7s %7s %6s %7s %8s %8s %8s %9s %7s %8s %8s %8s %8s %7s %7s\n' \
	impl hosts regd lh_regd hs/s us/hs us/rehs rss0_MB rss1_MB B/host queries/s us/qry p50_us p99_us max_us idle_p50 missing wall_s
for n in ${SIZES//,/ }; do
	for impl in "${IMPLS[@]}"; do
		r=${ROW[$impl,$n]:-'{}'}
		lhreg=-
		if [ "$impl" = ours ]; then
			s=$(jq -r '.lh_stats // ""' <<<"$r")
			lhreg=$(stat_field "$s" registered)
			[ -n "$lhreg" ] || lhreg=-
		fi
		jq -r --arg impl "$impl" --arg lhreg "$lhreg" \
			--arg r0 "$(mb "$(jq -r '.rss_before // -1' <<<"$r")")" \
			--arg r1 "$(mb "$(jq -r '.rss_after // -1' <<<"$r")")" '
			def f(x): if x == null then "-" else (x * 10 | round / 10 | tostring) end;
			def i(x): if x == null then "-" else (x | round | tostring) end;
			[$impl, i(.hosts), i(.registered), $lhreg, i(.hs_per_s),
			 (if .lh_cpu_register_s == null or .registered == null or .registered == 0 then "-"
			  else i(.lh_cpu_register_s * 1e6 / .registered) end),
			 i(.rehs_cpu_us), $r0, $r1, i(.bytes_per_host), i(.qps),
			 (if .lh_cpu_query_s == null or .answered == null or .answered == 0 then "-"
			  else f(.lh_cpu_query_s * 1e6 / .answered) end),
			 i(.lat_p50_us), i(.lat_p99_us), i(.lat_max_us), i(.probe_p50_us),
			 i((.query_missing // 0) + (.probe_missing // 0)), f(.wall_s)] | @tsv' <<<"$r" |
			awk -F'\t' '{ printf "%-7s %7s %7s %7s %7s %6s %7s %8s %8s %8s %9s %7s %8s %8s %8s %8s %7s %7s\n", $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18 }'
	done
done
echo "regd = hosts that completed the handshake and sent their update; lh_regd = the lighthouse's own count (ours only)"
echo "us/hs, us/qry = lighthouse CPU time (all threads) per handshake / per answered query; us/rehs = the same per"
echo "handshake of a second round (every host again, same certificate: a reconnect); p50/p99/max = latency under"
echo "full load (-qinflight 256 outstanding); idle_p50 = latency of 1000 queries at 1000/s afterwards"
for impl in "${IMPLS[@]}"; do
	for m in evil flood; do
		r=${ROW[$impl,$m]:-}
		[ -n "$r" ] || continue
		jq -r --arg impl "$impl" --arg m "$m" '
			def mb(x): if x == null or x < 0 then "-" else (x / 1048576 * 10 | round / 10 | tostring) end;
			def fl(p): if .[p + "_sent"] == null then "" else
				"\n  \(p): \(.[p + "_sent"]) packets from one host in \(.[p + "_s"] * 100 | round / 100) s, " +
				"lighthouse CPU \(.[p + "_lh_cpu_s"]) s, RSS \(mb(.[p + "_rss_before"])) -> \(mb(.[p + "_rss_after"])) MB, " +
				"another host meanwhile \(.[p + "_probe_answered"])/\(.[p + "_probes"]) answered, p99 \(.[p + "_probe_p99_us"] | round) us" end;
			"\($impl) \($m): \(.checks_passed // 0) PASS, \(.checks_failed // 0) FAIL" + fl("flood") + fl("recverr")' <<<"$r"
	done
done
exit "$FAILED"
