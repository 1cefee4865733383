#!/bin/bash
# e2e: a lighthouse under bad input from authenticated hosts (made by the
# load generator, each with its own certificate): updates claiming
# another host's overlay IP, queries for unknown hosts, messages a
# lighthouse should not get, and a flood of updates and of
# unauthenticated recvError packets.  All refused or bounded and
# counted; the registry stays correct and keeps answering.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
LHLOAD="$E2E_TOP/build/rel/lhload"
[ -x "$LHLOAD" ] || (cd "$E2E_TOP" && make -s build/rel/lhload) || {
	echo "not ok 1 - cannot build lhload"; exit 1; }

"$CT" ca -name lh-ca -duration 10h >/dev/null
"$CT" sign -name lh -ip 10.200.0.1/16
L=$(ns lh)
cat >lh.yml <<YAML
pki: {ca: $E2E_DIR/ca.crt, cert: $E2E_DIR/lh.crt, key: $E2E_DIR/lh.key}
lighthouse: {am_lighthouse: true}
listen: {host: 127.0.0.1, port: 4242}
tun: {disabled: true}
logging: {level: info}
firewall:
  inbound: [{port: any, proto: icmp, host: any}]
  outbound: [{port: any, proto: any, host: any}]
YAML
plh=$(spawn "$L" lh.log "$LIGHTHOUSE" -config lh.yml)
wait_for 5 grep -q "Nebula interface is active" lh.log
load() { # MODE HOSTS [more flags]
	local mode=$1 hosts=$2; shift 2
	ip netns exec "$L" timeout 120 "$LHLOAD" -ca ca.crt -ca-key ca.key \
		-lighthouse 127.0.0.1:4242 -lh-vpn 10.200.0.1 -net 10.200.0.0/16 \
		-hosts "$hosts" -mode "$mode" -timeout 100s "$@"
}
stats() { # print the lighthouse's counters line
	: >stats.tmp
	kill -USR1 "$plh"
	wait_for 3 bash -c "grep 'stats:' lh.log | wc -l | grep -qx $1"
	grep 'stats:' lh.log | tail -1
}

load evil 300 >evil.log 2>&1
check "evil: every check of the load generator passes (exit 0)" test $? -eq 0
grep -E "PASS|FAIL" evil.log | sed 's/^/# /'
check_not "evil: no FAIL line" grep -q FAIL evil.log
s=$(stats 1)
r=$(echo "$s" | sed -n 's/.* lhRefused=\([0-9]*\).*/\1/p')
v=$(sed -n 's/.*mass impersonation: \([0-9]*\)\/.*/\1/p' evil.log)
[ -n "$v" ] && [ "${r:-0}" -ge "$v" ] &&
	ok "evil: updates claiming another host's IP refused and counted (lhRefused=$r >= $v claims)" ||
	not_ok "evil: lhRefused=${r:-none}, claims=${v:-none}"
check "evil: refusals logged" grep -q 'msg="Host sent invalid update" answer=' lh.log

load flood 50 -duration 3s >flood.log 2>&1
check "flood: the generator ran (exit 0)" test $? -eq 0
# After the flood the lighthouse still registers and answers at once.
load query 200 -queries 2000 -probes 200 >query.log 2>&1
check "after the flood: 200 new hosts register and every query is answered" test $? -eq 0
grep -E "registered|missing|p99" query.log | head -4 | sed 's/^/# /'
check_not "after the flood: no reply missing" grep -Eq "missing[: =]+[1-9]" query.log
check "the lighthouse is still running" kill -0 "$plh"
if [ "$E2E_FAIL" -ne 0 ]; then for f in evil.log flood.log query.log lh.log; do echo "# --- $f"; tail -15 "$f" | cut -c1-200 | diag; done; fi
e2e_done
