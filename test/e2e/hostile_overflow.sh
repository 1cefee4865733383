#!/bin/bash
# e2e: an authenticated peer (evilpeer) sends datagrams longer than the
# node's 9001-byte packet buffers: a test request with a 60,000-byte body
# (echoed as a test reply), and to a tun.disabled node an ICMP echo of
# 60,000 bytes (answered by the node itself).  The UDP socket reads with
# UDP_GRO into 64 KiB buffers and IP fragments reassemble, so such a
# datagram reaches the protocol; its answer must not be copied into a
# 9001-byte send slot.  With "hold" the victim is stopped while 60 small
# test requests and the oversized one are queued, so that one read batch
# holds them all and the oversized answer would land in the last send
# slots, past the end of the send buffers (ASan: heap-buffer-overflow).
#
# The victim is the node under ASan+UBSan.  Each case asserts: the node
# is alive and its log is clean, oversized datagrams get no answer and
# are counted (rxOversize= in the SIGUSR1 stats line), and normal-sized
# test requests and echoes are still answered.  Once more with
# listen.offload: false (9001-byte reads: the kernel truncates, the node
# must survive).
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$ASAN_NODE" "$EVIL"

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name v -ip 192.168.81.1/24
"$CT" sign -name e -ip 192.168.81.66/24
V=$(ns v); E=$(ns e)
link "$V" 10.81.0.1/24 "$E" 10.81.0.2/24
VIP=192.168.81.1
BIG=60000  # alone
BIG2=61000 # at the end of a held batch

# victim NAME TUN_EXTRA LISTEN_EXTRA: (re)start the ASan node as NAME.log;
# sets vpid and vlog.  A big socket buffer, so that a held node's queue
# keeps everything sent to it.
vpid=
victim() {
	[ -n "$vpid" ] && stop_pids "$vpid"
	NODE_TUN_EXTRA=$2 NODE_LISTEN_EXTRA="  read_buffer: 4194304${3:+
$3}" node_config v.yml v 4242 aes
	vlog=$1.log
	vpid=$(spawn "$V" "$vlog" env \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$ASAN_NODE" -config v.yml)
	wait_for 15 grep -q "Nebula interface is active" "$vlog"
}
# evil OUT CMD...: evilpeer against the victim, its output in OUT.
evil() {
	local out=$1; shift
	ip netns exec "$E" timeout 40 "$EVIL" -ca ca.crt -cert e.crt -key e.key \
		-target 10.81.0.1:4242 "$@" >"$out" 2>&1
}
# said OUT LINE...: evilpeer printed each LINE.
said() {
	local f=$1 l; shift
	for l in "$@"; do grep -qx "$l" "$f" || return 1; done
}
clean() { ! grep -Eq "AddressSanitizer|runtime error|LeakSanitizer" "$1"; }
# stat LOG KEY: KEY's value in the last stats line (empty if none).
stat() { grep "stats:" "$1" | tail -1 | grep -o " $2=[0-9]*" | cut -d= -f2; }
stats_now() { # dump the victim's stats, wait for the line
	local before
	before=$(grep -c "stats:" "$vlog")
	kill -USR1 "$vpid" 2>/dev/null || return 1
	wait_for 3 test "$(grep -c "stats:" "$vlog")" -gt "$before"
}
# counted KEY: the stats line shows KEY >= 1.
counted() {
	local v
	v=$(stat "$vlog" "$1")
	if [ "${v:-0}" -ge 1 ]; then ok "$2 ($1=$v)"; else not_ok "$2 ($1=${v:-absent})"; fi
}
# show OUT: evilpeer's output and the victim's log (from a sanitizer's
# report if there is one).
show() {
	diag "$1"
	if grep -q "ERROR: .*Sanitizer\|runtime error" "$vlog"; then
		grep -m1 -A14 "ERROR: .*Sanitizer\|runtime error" "$vlog" | diag
	else
		tail -20 "$vlog" | diag
	fi
}
# survived CASE: alive, clean log.
survived() {
	check "$1: the node is still running" alive "$vpid"
	check "$1: no AddressSanitizer/UBSan report in the node's log" clean "$vlog"
}

# 1. A node with a TUN device: oversized test requests.
check "tun node: started (ASan build)" victim tun "" ""
evil tun.out test 1000 test $BIG hold "$vpid" burst 60 test $BIG2 \
	sleep 300 test 1200
check "tun node: evilpeer completed its handshake" grep -q "^handshake ok peer=v " tun.out
check "tun node: a 1000-byte test request is answered" said tun.out "test 1000 reply"
check "tun node: a $BIG-byte test request is not answered" said tun.out "test $BIG noreply"
check "tun node: nor a $BIG2-byte one behind 60 small ones in one batch" said tun.out "test $BIG2 noreply"
survived "tun node"
check "tun node: a 1200-byte test request is still answered" said tun.out "test 1200 reply"
check "tun node: stats dumped on SIGUSR1" stats_now
counted rxOversize "tun node: oversized datagrams are counted"
[ "$E2E_FAIL" -ne 0 ] && show tun.out
fails=$E2E_FAIL

# 2. tun.disabled: the node answers echoes itself.
check "tun.disabled node: started" victim notun "  disabled: true" ""
evil notun.out test 1000 echo $VIP 100 echo $VIP $BIG hold "$vpid" burst 60 \
	echo $VIP $BIG2 sleep 300 test 1200 echo $VIP 1400
check "tun.disabled node: evilpeer completed its handshake" grep -q "^handshake ok peer=v " notun.out
check "tun.disabled node: a 100-byte echo is answered" said notun.out "echo 100 reply"
check "tun.disabled node: a $BIG-byte echo is not answered" said notun.out "echo $BIG noreply"
check "tun.disabled node: nor a $BIG2-byte one behind 60 test requests in one batch" said notun.out "echo $BIG2 noreply"
survived "tun.disabled node"
check "tun.disabled node: a 1200-byte test request is still answered" said notun.out "test 1200 reply"
check "tun.disabled node: a 1400-byte echo is still answered" said notun.out "echo 1400 reply"
check "tun.disabled node: stats dumped on SIGUSR1" stats_now
counted rxOversize "tun.disabled node: oversized datagrams are counted"
[ "$E2E_FAIL" -gt "$fails" ] && show notun.out
fails=$E2E_FAIL

# 3. listen.offload: false: 9001-byte reads, the kernel truncates.
check "offload off: started" victim nooffload "  disabled: true" "  offload: false"
evil nooffload.out test 1000 test $BIG echo $VIP $BIG hold "$vpid" burst 60 \
	echo $VIP $BIG2 sleep 300 test 1200 echo $VIP 1400
check "offload off: evilpeer completed its handshake" grep -q "^handshake ok peer=v " nooffload.out
check "offload off: a $BIG-byte test request is not answered" said nooffload.out "test $BIG noreply"
check "offload off: nor $BIG- and $BIG2-byte echoes" \
	said nooffload.out "echo $BIG noreply" "echo $BIG2 noreply"
survived "offload off"
check "offload off: a 1200-byte test request is answered" said nooffload.out "test 1200 reply"
check "offload off: a 1400-byte echo is answered" said nooffload.out "echo 1400 reply"
[ "$E2E_FAIL" -gt "$fails" ] && show nooffload.out
stop_pids "$vpid"
e2e_done
