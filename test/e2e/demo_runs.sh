#!/bin/bash
# e2e: make demo's walk-through (scripts/demo.sh), the README's first
# command, runs to its end: exit 0, the transfer identical, the firewall's
# refusal counted, and nothing of it left behind.
# e2e: no-san
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$E2E_TOP/bin/cairn" "$E2E_TOP/bin/cairn-lighthouse" "$E2E_TOP/bin/cairn-cert"

# its namespaces are e2e<its pid>-* (lib.sh); at most 120 s
"$E2E_TOP/scripts/demo.sh" >demo.log 2>&1 &
dpid=$!
(sleep 120 && kill -TERM "$dpid") 2>/dev/null &
watchdog=$!
E2E_PIDS+=("$dpid" "$watchdog")
wait "$dpid"
rc=$?
kill "$watchdog" 2>/dev/null
check "demo.sh exits 0 (got $rc)" [ "$rc" -eq 0 ]
check "the 10 MB transfer arrived identical" grep -qx identical demo.log
check "db1 counted the refused connections" grep -q "^db1 counted: fwInDrop=[1-9]" demo.log
check "the peer heard the closeTunnel" grep -q "Close tunnel received" demo.log
check "it says it is done" grep -q "^Demo done" demo.log
check "no namespace of its left behind" bash -c "! ip netns list | grep -q '^e2e$dpid-'"
[ "$E2E_FAIL" -eq 0 ] || tail -40 demo.log | diag
e2e_done
