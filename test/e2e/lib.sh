# test/e2e/lib.sh: shared helpers for the network-namespace tests.
# Source it; it sets up TAP counting, a scratch dir, unique namespace
# names and a cleanup trap that kills every process we started (by PID)
# and deletes every namespace we made, whatever happens.
set -u
E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CT="$E2E_TOP/bin/cairn-cert"
NODE="$E2E_TOP/bin/cairn"
ASAN_NODE="$E2E_TOP/build/asan/bin/cairn" # make build/asan/bin/cairn
ASAN_LH="$E2E_TOP/build/asan/bin/cairn-lighthouse"
LIGHTHOUSE="$E2E_TOP/bin/cairn-lighthouse"
EVIL="$E2E_TOP/build/rel/evilpeer"       # make build/rel/evilpeer
PROBE="$E2E_TOP/test/e2e/udpprobe.py"
E2E_PREFIX="e2e$$"            # unique per run: namespaces are e2e<pid>-<name>
E2E_DIR=$(mktemp -d "/tmp/${E2E_PREFIX}.XXXXXX")
E2E_N=0
E2E_FAIL=0
E2E_PIDS=()
E2E_NETNS=()
# E2E_SAN=1 (make check's second pass, scripts/run-tests.sh e2e-san): the
# daemons under test are the ASan+UBSan builds, and any report of theirs
# fails the test (e2e_cleanup).  Reports go to files in $E2E_DIR/san as
# well as to the daemons' logs.
if [ "${E2E_SAN:-0}" = 1 ]; then
	if [ ! -x "$ASAN_NODE" ] || [ ! -x "$ASAN_LH" ]; then
		echo "not ok 1 - E2E_SAN=1 needs $ASAN_NODE and $ASAN_LH"; echo "1..1"; exit 1
	fi
	NODE=$ASAN_NODE LIGHTHOUSE=$ASAN_LH
	mkdir -p "$E2E_DIR/san"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$E2E_DIR/san/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$E2E_DIR/san/ubsan"
fi
SAN_RE='ERROR: (AddressSanitizer|LeakSanitizer)|\.[ch]:[0-9]+:[0-9]+: runtime error:|SUMMARY: UndefinedBehaviorSanitizer'

# Our namespaces, by their unique prefix: ns() is often called as $(ns x),
# in a subshell whose additions to E2E_NETNS do not come back (nor do
# spawn()'s to E2E_PIDS), so cleanup looks them up.
e2e_netns() {
	{ printf '%s\n' "${E2E_NETNS[@]}"; ip netns list | awk '{print $1}'; } |
		grep "^$E2E_PREFIX-" | sort -u
}
e2e_cleanup() {
	local p ns nss pids i
	# a script with set -e (scripts/demo.sh) must not stop here at the
	# kill of a process already gone
	set +e
	nss=$(e2e_netns)
	# every process we started: by the PIDs we kept, and by the PIDs
	# living in our namespaces
	pids="${E2E_PIDS[*]} $(for ns in $nss; do ip netns pids "$ns" 2>/dev/null; done)"
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	# a sanitized daemon checks for leaks as it exits: give it time
	for p in $pids; do
		for ((i = 0; i < 30; i++)); do
			[ -d "/proc/$p" ] || break
			sleep 0.1
		done
	done
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	for ns in $nss; do ip netns del "$ns" 2>/dev/null; done
	# any sanitizer report, in the report files or a daemon's log,
	# fails the test
	local reports rc=0
	reports=$(grep -rlE "$SAN_RE" "$E2E_DIR" --include='*.log' \
		--include='*.txt' --include='asan.*' --include='ubsan.*' 2>/dev/null)
	if [ -n "$reports" ]; then
		echo "not ok $((E2E_N + 1)) - sanitizer report in: $(echo $reports | sed "s|$E2E_DIR/||g")"
		for p in $reports; do grep -E -A25 "$SAN_RE" "$p" | head -40 | sed 's/^/# /'; done
		rc=1
	fi
	rm -rf "$E2E_DIR"
	[ "$rc" -eq 0 ] || exit 1
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

ok() { E2E_N=$((E2E_N + 1)); echo "ok $E2E_N - $*"; }
not_ok() { E2E_N=$((E2E_N + 1)); E2E_FAIL=$((E2E_FAIL + 1)); echo "not ok $E2E_N - $*"; }
# check DESC CMD...: one TAP line for the command's success.
check() {
	local d=$1; shift
	if "$@" >>"$E2E_DIR/check.log" 2>&1; then ok "$d"; else not_ok "$d"; fi
}
check_not() {
	local d=$1; shift
	if "$@" >>"$E2E_DIR/check.log" 2>&1; then not_ok "$d"; else ok "$d"; fi
}
e2e_done() {
	echo "1..$E2E_N"
	[ "$E2E_FAIL" -eq 0 ]
}
diag() { sed 's/^/# /' "$@"; }

# The log lines of a tunnel's life, as Nebula 1.6.1 writes them (text
# format; cairn(8), LOGGING), for grep -E:
# up_re NAME: the tunnel with NAME came up (the handshake's stage 2:
# "received" on the initiator, "sent" on the responder).
up_re() { echo "msg=\"Handshake message (received|sent)\" certName=$1 .*stage:2 "; }
# DOWN_RE: a tunnel went down, whyever (with certName=NAME in the line).
DOWN_RE='msg="(Tunnel down|Close tunnel received, tearing down\.|Remote certificate is no longer valid, tearing down the tunnel)"|msg="Tunnel status" .*state:dead'

# ns NAME: create namespace $E2E_PREFIX-NAME with loopback up; prints it.
ns() {
	local n="$E2E_PREFIX-$1"
	ip netns add "$n" || return 1
	E2E_NETNS+=("$n")
	ip -n "$n" link set lo up
	echo "$n"
}
# link NS1 ADDR1 NS2 ADDR2: a veth pair between two namespaces (CIDR addrs).
link() {
	local a=$1 aa=$2 b=$3 ba=$4 ia="v$RANDOM$RANDOM" ib="v$RANDOM$RANDOM"
	ip link add "${ia:0:15}" type veth peer name "${ib:0:15}" || return 1
	ip link set "${ia:0:15}" netns "$a"
	ip link set "${ib:0:15}" netns "$b"
	ip -n "$a" addr add "$aa" dev "${ia:0:15}"
	ip -n "$b" addr add "$ba" dev "${ib:0:15}"
	ip -n "$a" link set "${ia:0:15}" up
	ip -n "$b" link set "${ib:0:15}" up
}
# spawn NS LOG CMD...: run a daemon in a namespace, remember its PID.
spawn() {
	local n=$1 log=$2; shift 2
	ip netns exec "$n" "$@" >"$log" 2>&1 &
	E2E_PIDS+=("$!")
	echo "$!"
}
# stop_pids PID...: SIGTERM, then wait until each has exited (SIGKILL
# after 5 s).  Daemons come from $(spawn), so they are not this shell's
# children and `wait` returns at once: a restart right after it would
# find the old process still holding its TUN device name.
alive() { local s; s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ "$s" != Z ]; }
stop_pids() {
	local p i
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for p in "$@"; do
		for ((i = 0; i < 50; i++)); do
			alive "$p" || break
			sleep 0.1
		done
		if alive "$p"; then kill -KILL "$p" 2>/dev/null; sleep 0.2; fi
	done
	return 0
}
# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	local t=$1 i; shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# node_config FILE NAME VPNIP LISTENPORT CIPHER [static entries "ip=addr:port"...]
# NODE_TUN_EXTRA / NODE_LISTEN_EXTRA: more lines for those sections.
node_config() {
	local f=$1 name=$2 port=$3 cipher=$4; shift 4
	{
		echo "pki:"
		echo "  ca: $E2E_DIR/ca.crt"
		echo "  cert: $E2E_DIR/$name.crt"
		echo "  key: $E2E_DIR/$name.key"
		echo "static_host_map:"
		local e
		for e in "$@"; do echo "  \"${e%%=*}\": [\"${e#*=}\"]"; done
		echo "listen:"
		echo "  host: 0.0.0.0"
		echo "  port: $port"
		[ -n "${NODE_LISTEN_EXTRA:-}" ] && echo "$NODE_LISTEN_EXTRA"
		echo "punchy:"
		echo "  punch: true"
		echo "cipher: $cipher"
		echo "tun:"
		echo "  dev: neb$RANDOM"
		echo "  mtu: 1300"
		[ -n "${NODE_TUN_EXTRA:-}" ] && echo "$NODE_TUN_EXTRA"
		echo "logging:"
		echo "  level: info"
		echo "handshakes:"
		echo "  try_interval: 100ms"
		echo "  retries: 10"
		echo "firewall:"
		echo "  outbound:"
		echo "    - port: any"
		echo "      proto: any"
		echo "      host: any"
		echo "  inbound:"
		echo "    - port: any"
		echo "      proto: any"
		echo "      host: any"
	} >"$f"
}

# A switched lab: lab_switch creates a bridge namespace; attach NS ADDR
# plugs a namespace into it with the given underlay address (CIDR).
lab_switch() {
	E2E_SW=$(ns sw) || return 1
	ip -n "$E2E_SW" link add br0 type bridge
	ip -n "$E2E_SW" link set br0 up
}
attach() {
	local n=$1 addr=$2 i="p$RANDOM$RANDOM" j
	i=${i:0:12}
	j="${i}b"
	ip link add "$i" type veth peer name "$j" || return 1
	ip link set "$i" netns "$n"
	ip link set "$j" netns "$E2E_SW"
	ip -n "$E2E_SW" link set "$j" master br0
	ip -n "$E2E_SW" link set "$j" up
	ip -n "$n" addr add "$addr" dev "$i"
	ip -n "$n" link set "$i" up
}
# mesh_config FILE NAME LH_VPN LH_UNDERLAY [am_lighthouse]: a node that
# finds its peers through one lighthouse.
mesh_config() {
	local f=$1 name=$2 lh=$3 lhaddr=$4 am=${5:-false}
	{
		echo "pki:"
		echo "  ca: $E2E_DIR/ca.crt"
		echo "  cert: $E2E_DIR/$name.crt"
		echo "  key: $E2E_DIR/$name.key"
		if [ "$am" = true ]; then
			echo "lighthouse:"
			echo "  am_lighthouse: true"
		else
			echo "static_host_map:"
			echo "  \"$lh\": [\"$lhaddr\"]"
			echo "lighthouse:"
			echo "  am_lighthouse: false"
			echo "  interval: 2"
			echo "  hosts: [\"$lh\"]"
		fi
		echo "listen:"
		echo "  host: 0.0.0.0"
		echo "  port: 4242"
		echo "punchy:"
		echo "  punch: true"
		echo "tun:"
		echo "  dev: neb$RANDOM"
		echo "logging:"
		echo "  level: info"
		echo "firewall:"
		echo "  outbound: [{port: any, proto: any, host: any}]"
		echo "  inbound: [{port: any, proto: any, host: any}]"
	} >"$f"
}

# tcp_transfer FROM_NS TO_NS TO_IP FILE: send FILE over TCP from one
# namespace to a listener in the other; true when what arrived has the
# same sha256.
tcp_transfer() {
	local from=$1 to=$2 ip=$3 file=$4 port=$((20000 + RANDOM % 10000))
	local lp got want
	rm -f "$file.recv"
	ip netns exec "$to" timeout 30 nc -l -d "$ip" "$port" >"$file.recv" &
	lp=$!
	E2E_PIDS+=("$lp")
	wait_for 5 ip netns exec "$to" ss -ltn "sport = :$port" | grep -q LISTEN
	sleep 0.2
	ip netns exec "$from" timeout 30 nc -N "$ip" "$port" <"$file"
	wait "$lp"
	got=$(sha256sum <"$file.recv" | cut -d' ' -f1)
	want=$(sha256sum <"$file" | cut -d' ' -f1)
	[ -n "$got" ] && [ "$got" = "$want" ]
}

# slow_start FROM_NS TO_NS TO_IP FILE: a TCP transfer of FILE that takes
# its time (50 kB every 0.1 s), in the background, for what must happen
# while a connection is open; slow_done waits for it and is true when
# what arrived has the same sha256.
slow_start() {
	local from=$1 to=$2 ip=$3 file=$4
	E2E_SLOW_PORT=$((20000 + RANDOM % 10000))
	E2E_SLOW_FILE=$file
	rm -f "$file.recv"
	ip netns exec "$to" timeout 120 nc -l -d "$ip" "$E2E_SLOW_PORT" >"$file.recv" &
	E2E_SLOW_L=$!
	E2E_PIDS+=("$E2E_SLOW_L")
	wait_for 5 bash -c "ip netns exec $to ss -ltn 'sport = :$E2E_SLOW_PORT' | grep -q LISTEN"
	ip netns exec "$from" timeout 120 python3 - "$ip" "$E2E_SLOW_PORT" "$file" <<'PY' &
import socket, sys, time
ip, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
s = socket.create_connection((ip, port), timeout=60)
for i in range(0, len(data), 50000):
    s.sendall(data[i:i + 50000])
    time.sleep(0.1)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
PY
	E2E_SLOW_S=$!
	E2E_PIDS+=("$E2E_SLOW_S")
}
slow_done() {
	local got want
	wait "$E2E_SLOW_S" || return 1
	wait "$E2E_SLOW_L"
	got=$(sha256sum <"$E2E_SLOW_FILE.recv" | cut -d' ' -f1)
	want=$(sha256sum <"$E2E_SLOW_FILE" | cut -d' ' -f1)
	[ -n "$got" ] && [ "$got" = "$want" ]
}

# need BINARY...: stop the test (one failure) if a program is not built.
need() {
	local b
	for b in "$@"; do
		[ -x "$b" ] || { echo "not ok 1 - $b is missing (make check builds it)"; echo "1..1"; exit 1; }
	done
}
