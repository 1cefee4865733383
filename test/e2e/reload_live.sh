#!/bin/bash
# e2e: what SIGHUP applies live, with a tunnel up.  A lighthouse serving
# DNS on port 5353 with a node registered: a reload moves the responder
# to 5354 (the old port stops answering, the new one answers with the
# records it had) and gives the UDP socket a new receive buffer (ss's
# skmem rb), while a restart-only change in the same file (listen.port)
# is logged "needs a restart, keeping" and the tunnel goes on over the
# old port.  Then a DNS address that cannot be bound: an error, and the
# responder stays where it was.  And on the node: tun.tx_queue set on
# its device, punchy.punch turned off, the tunnel up; its log lines
# stamped in RFC 3339 until a reload turns them into JSON with
# milliseconds, and a misspelled section in that file is warned about.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$NODE" "$CT"
DNSQ="$E2E_TOP/test/e2e/dnsq.py"

"$CT" ca -name e2e-ca -duration 10h >/dev/null
"$CT" sign -name lh -ip 192.168.99.1/24
"$CT" sign -name a -ip 192.168.99.2/24
L=$(ns lh); A=$(ns a)
link "$L" 10.67.0.1/24 "$A" 10.67.0.2/24

# lh_config PORT DNSHOST DNSPORT READ_BUFFER: the lighthouse's file.
lh_config() {
	cat >lh.yml <<EOF
pki: {ca: $E2E_DIR/ca.crt, cert: $E2E_DIR/lh.crt, key: $E2E_DIR/lh.key}
lighthouse:
  am_lighthouse: true
  serve_dns: true
  dns: {host: $2, port: $3}
listen:
  host: 0.0.0.0
  port: $1
  read_buffer: $4
tun: {disabled: true}
logging: {level: info}
firewall:
  outbound: [{port: any, proto: any, host: any}]
  inbound: [{port: any, proto: any, host: any}]
EOF
}
# dns PORT: the lighthouse's answer for "a." A, asked from its namespace.
dns() { ip netns exec "$L" timeout 5 python3 "$DNSQ" 127.0.0.1 "$1" a A; }
# rb: the receive buffer of the lighthouse's socket on 4242, as ss says.
rb() { ip netns exec "$L" ss -uamn 'sport = :4242' | grep -o 'rb[0-9]*' | head -1; }

lh_config 4242 0.0.0.0 5353 1048576
mesh_config a.yml a 192.168.99.1 10.67.0.1:4242
plh=$(spawn "$L" lh.log "$NODE" -config lh.yml)
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
served() { [ "$(dns "$1")" = 192.168.99.2 ]; }
check "a registers: its A record is served on 5353" wait_for 10 served 5353
# with CAP_NET_ADMIN the size is used as given; the kernel doubles it
check "receive buffer at start: rb2097152" [ "$(rb)" = rb2097152 ]

lh_config 4343 0.0.0.0 5354 4194304
kill -HUP "$plh"
check "reload logged" wait_for 5 grep -q "configuration reloaded" lh.log
check "dns.port applied live" grep -q 'msg="Setting changed" key=lighthouse.dns.port new=5354 old=5353 owner=dnsresp$' lh.log
check "read_buffer applied live" grep -q 'msg="Setting changed" key=listen.read_buffer new=4194304 old=1048576 owner=worker$' lh.log
check "listen.port kept" grep -q 'msg="Setting needs a restart, keeping the running value" key=listen.port new=4343 old=4242$' lh.log
check "the new port answers, records kept" served 5354
check_not "the old port no longer answers" dns 5353
check "receive buffer after reload: rb8388608" [ "$(rb)" = rb8388608 ]
check "still on port 4242" bash -c "ip netns exec $L ss -uan 'sport = :4242' | grep -q 4242"
check_not "nothing on port 4343" bash -c "ip netns exec $L ss -uan 'sport = :4343' | grep -q 4343"
check "the tunnel goes on over the old port" \
	ip netns exec "$A" ping -c 2 -i 0.2 -W 2 192.168.99.1
check "no second handshake" [ "$(grep -Ec "$(up_re '[^ ]+')" lh.log)" -eq 1 ]

# an address that is not the machine's: logged, the responder stays
lh_config 4242 10.99.99.99 5355 4194304
kill -HUP "$plh"
check "reload logged" wait_for 5 bash -c "[ \$(grep -c 'configuration reloaded' lh.log) -ge 2 ]"
check "the bind failure is logged" grep -q "Failed to start DNS server on 10.99.99.99:5355.*keeping the DNS responder at 0.0.0.0:5354" lh.log
check "the responder still answers on 5354" served 5354

# a: the device's queue length and punchy.punch, live
check "a's device starts with qlen 500" bash -c "ip -n $A link show | grep -q 'qlen 500'"
sed -i 's/^  dev: neb.*/&\n  tx_queue: 1000/; s/^  punch: true/  punch: false/' a.yml
kill -HUP "$pa"
check "a: reload logged" wait_for 5 grep -q "configuration reloaded" a.log
check "a: tun.tx_queue applied live" grep -q 'msg="Setting changed" key=tun.tx_queue new=1000 old=500 owner=routes$' a.log
check "a's device has qlen 1000" bash -c "ip -n $A link show | grep -q 'qlen 1000'"
check "a: punchy.punch applied live" grep -q 'msg="Setting changed" key=punchy.punch new=false old=true owner=punch$' a.log
check "a: the tunnel is still up" ip netns exec "$A" ping -c 2 -i 0.2 -W 2 192.168.99.1

# a's log: time.RFC3339, as Nebula's logrus writes it; then live, JSON
# with a Go layout with milliseconds
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
zone='(Z|[+-][0-9]{2}:[0-9]{2})'
check "a: log lines start with an RFC 3339 time" grep -qE "^time=\"$ts$zone\" level=info msg=" a.log
check_not "a: and no other kind of time" bash -c "grep '^time=' a.log | grep -qvE '^time=\"$ts$zone\" '"
sed -i 's/^  level: info/&\n  format: JSON\n  timestamp_format: "2006-01-02T15:04:05.000Z07:00"/' a.yml
echo "firwall: {}" >>a.yml
kill -HUP "$pa"
check "a: second reload logged" wait_for 5 bash -c "[ \$(grep -c 'configuration reloaded' a.log) -ge 2 ]"
# said while the file loads, before its format is known: in JSON too
check "a: the misspelled section is warned about, in the new format" \
	grep -qE "^\{\"didYouMean\":\"firewall\",\"file\":\"[^\"]*a.yml\",\"key\":\"firwall\",\"level\":\"warning\",\"line\":[0-9]+,\"msg\":\"Unknown configuration key\",\"time\":\"$ts\.[0-9]{3}$zone\"\}\$" a.log
check "a: logging.timestamp_format applied live" \
	grep -qF '"key":"logging.timestamp_format","level":"info","msg":"Setting changed","new":"2006-01-02T15:04:05.000Z07:00","old":"\"\"","owner":"log"' a.log
check "a: then JSON lines, the time with milliseconds" grep -qE "^\{.*\"msg\":\"configuration reloaded\",.*\"time\":\"$ts\.[0-9]{3}$zone\"\}\$" a.log

stop_pids "$pa" "$plh"
[ "$E2E_FAIL" -eq 0 ] || diag lh.log a.log
e2e_done
