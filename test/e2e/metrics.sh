#!/bin/bash
# e2e: the stats section on two of our nodes in network namespaces.  a
# (a lighthouse, b registers with it) serves Prometheus' text format at :9100/metrics: its series are there,
# well formed, and move with traffic (tunnels, handshakes, bytes, message
# types); a real Prometheus server, when installed, scrapes it from a
# third namespace and answers queries about it; a reload that changes
# stats.listen keeps the endpoint.  b sends Graphite lines, over TCP and
# then over UDP, to listeners in its namespace.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$NODE" "$CT"
command -v curl >/dev/null || { echo "not ok 1 - curl is not installed"; exit 1; }

"$CT" ca -name e2e-metrics-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.78.1/24 -groups test
"$CT" sign -name b -ip 192.168.78.2/24 -groups test
A=$(ns a); B=$(ns b); P=$(ns prom)
link "$A" 10.56.0.1/24 "$B" 10.56.0.2/24
link "$A" 10.57.0.1/24 "$P" 10.57.0.2/24
head -c 3000000 /dev/urandom >blob

node_config a.yml a 4242 aes "192.168.78.2=10.56.0.2:4242"
cat >>a.yml <<EOF
stats:
  type: prometheus
  listen: ":9100"
  path: /metrics
  interval: 1s
  message_metrics: true
  lighthouse_metrics: true
lighthouse:
  am_lighthouse: true
EOF
# graphite_config FILE PROTOCOL PORT
graphite_config() {
	node_config "$1" b 4242 aes "192.168.78.1=10.56.0.1:4242"
	cat >>"$1" <<EOF
stats:
  type: graphite
  protocol: $2
  host: 127.0.0.1:$3
  prefix: e2e.b
  interval: 1s
lighthouse:
  hosts: ["192.168.78.1"]
  interval: 1
EOF
}
graphite_config b.yml tcp 2003

check "node -test accepts the stats section" "$NODE" -config a.yml -test
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
wait_for 5 grep -q "Prometheus stats listening on \[::\]:9100 at /metrics" a.log
check "a: endpoint logged" grep -q "Prometheus stats listening on \[::\]:9100 at /metrics" a.log

scrape() { ip netns exec "$A" curl -sf --max-time 5 "http://127.0.0.1:9100/metrics"; }
# value NAME: the value of the sample NAME (no labels) in a scrape now.
value() { scrape | awk -v n="$1" '$1 == n { print $2 }'; }
# at_least NAME MIN
at_least() { local v; v=$(value "$1"); [ -n "$v" ] && [ "$v" -ge "$2" ]; }
equals() { [ "$(value "$1")" = "$2" ]; }

check "a: scrape answers" scrape
scrape >first.txt
check "a: text format 0.0.4 header" \
	bash -c "ip netns exec $A curl -sfI --max-time 5 http://127.0.0.1:9100/metrics | grep -qi 'content-type: text/plain; version=0.0.4'"
check "a: no tunnel yet" equals mesh_tunnels 0
check "a: Nebula's hostmap gauge" equals hostmap_main_hosts 0
check "a: typed counters of ours" grep -q "^# TYPE mesh_udp_rx_total counter$" first.txt
check "a: Nebula's series as gauges" grep -q "^# TYPE handshake_manager_initiated gauge$" first.txt
check "a: message metrics on" grep -q "^messages_tx_handshake_ixpsk0 " first.txt
check "a: lighthouse metrics on" grep -q "^lighthouse_rx_HostQuery " first.txt
# the CA made above expires in 10 hours, as does a's certificate
ca_ttl_ok() { scrape | awk '/^mesh_ca_ttl_seconds\{ca="e2e-metrics-ca",fingerprint="[0-9a-f]+"\} / && length($1) == 119 { v = $2 } END { exit !(v > 35000 && v <= 36000) }'; }
check "a: the CA's seconds to expiry" ca_ttl_ok
check "a: our certificate's seconds to expiry" bash -c "v=\$(awk '\$1 == \"certificate_ttl_seconds\" { print \$2 }' first.txt); [ \"\$v\" -gt 35000 ] && [ \"\$v\" -le 36000 ]"
check "a: 404 elsewhere" bash -c "[ \"\$(ip netns exec $A curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9100/other)\" = 404 ]"
if command -v promtool >/dev/null; then
	# promtool lints names too (Nebula's remoteIndexes is camelCase):
	# only what does not parse counts here
	check "a: promtool parses the exposition" \
		bash -c "! promtool check metrics <first.txt 2>&1 | grep -qi 'error while linting\|text format parsing error'"
fi

# traffic: a tunnel, handshakes, bytes
pb=$(spawn "$B" b.log "$NODE" -config b.yml)
check "a: ping b" ip netns exec "$A" ping -c 3 -i 0.2 -W 2 192.168.78.2
tx0=$(value mesh_udp_tx_bytes_total)
check "3 MB TCP a->b" tcp_transfer "$A" "$B" 192.168.78.2 blob
check "a: one tunnel" equals mesh_tunnels 1
check "a: hostmap_main_hosts follows" equals hostmap_main_hosts 1
check "a: handshake messages sent, by type" at_least messages_tx_handshake_ixpsk0 1
check "a: handshake messages received" at_least messages_rx_handshake_ixpsk0 1
check "a: tunnels set up" at_least mesh_hs_completed_total 1
check "a: bytes sent grew by the transfer" at_least mesh_udp_tx_bytes_total $((tx0 + 3000000))
check "a: datagrams received" at_least mesh_udp_rx_total 10
check "a (lighthouse): registrations received, by type" at_least lighthouse_rx_HostUpdateNotification 1
check "a (lighthouse): recorded as ours too" at_least mesh_lh_updates_total 1
check "a: the socket's memory (udp.0.*)" bash -c "ip netns exec $A curl -sf --max-time 5 http://127.0.0.1:9100/metrics | grep -q '^udp_0_rcvbuf [1-9]'"

# a real Prometheus server scraping a from another namespace
if command -v prometheus >/dev/null; then
	cat >prom.yml <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: nebula
    static_configs:
      - targets: ["10.57.0.1:9100"]
EOF
	spawn "$P" prom.log prometheus --config.file=prom.yml \
		--storage.tsdb.path="$E2E_DIR/promdata" \
		--web.listen-address=127.0.0.1:9090 >/dev/null
	# query EXPR: the value of the first result of an instant query
	query() {
		ip netns exec "$P" curl -sf --max-time 5 -G \
			--data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query |
			python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
	}
	prom_is() { [ "$(query "$1")" = "$2" ]; }
	check "prometheus: scrapes a (up == 1)" wait_for 30 prom_is 'up{job="nebula"}' 1
	check "prometheus: mesh_tunnels is 1" wait_for 10 prom_is mesh_tunnels 1
	check "prometheus: hostmap_main_hosts is 1" wait_for 10 prom_is hostmap_main_hosts 1
	check "prometheus: bytes sent, a counter" wait_for 10 prom_is "mesh_udp_tx_bytes_total > bool $tx0" 1
	check "prometheus: CA expiry by label" wait_for 10 prom_is 'count(mesh_ca_ttl_seconds{ca="e2e-metrics-ca"})' 1
	# every query of the example Grafana dashboard is valid and finds
	# series of a's
	dash_ok() {
		python3 - "$E2E_TOP/config-examples/grafana-dashboard.json" <<'PY' |
import json, sys
for p in json.load(open(sys.argv[1]))["panels"]:
    for t in p["targets"]:
        print(t["expr"].replace("$instance", ".*"))
PY
		while read -r e; do
			ip netns exec "$P" curl -sf --max-time 5 -G --data-urlencode "query=$e" \
				http://127.0.0.1:9090/api/v1/query >q.json || { echo "refused: $e"; return 1; }
			python3 -c 'import json, sys
d = json.load(open("q.json"))
sys.exit(0 if d["status"] == "success" and d["data"]["result"] else 1)' ||
				{ echo "nothing: $e"; return 1; }
		done
	}
	check "prometheus: the Grafana dashboard's queries" dash_ok
else
	E2E_N=$((E2E_N + 1)); echo "ok $E2E_N # SKIP prometheus not installed"
fi

# a reload that changes stats.listen: kept until a restart
sed -i 's/listen: ":9100"/listen: ":9200"/' a.yml
kill -HUP "$pa"
wait_for 5 grep -q "configuration reloaded" a.log
check "reload: stats.listen kept until a restart" \
	grep -q 'msg="Setting needs a restart, keeping the running value" key=stats.listen new=":9200" old=":9100"' a.log
check "reload: the endpoint still answers" scrape

# graphite over TCP: a connection per round, lines with the prefix
ip netns exec "$B" timeout 60 python3 - tcp 2003 gtcp.txt <<'PY' &
import socket, sys
proto, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
f = open(out, "ab", buffering=0)
if proto == "tcp":
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4)
    while True:
        c, _ = s.accept()
        while True:
            d = c.recv(65536)
            if not d:
                break
            f.write(d)
        c.close()
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    while True:
        f.write(s.recv(65536))
PY
E2E_PIDS+=("$!")
lines_ok() { # FILE: every line "e2e.b.<name>.(count|value) <int> <time>"
	[ -s "$1" ] && ! grep -Evq '^e2e\.b\.[A-Za-z0-9_.]+\.(count|value) -?[0-9]+ [0-9]{10}$' "$1"
}
# b was started before its listener: the first rounds failed; the next
# ones must arrive
check "graphite tcp: b's tunnel arrives" wait_for 15 grep -q "^e2e\.b\.mesh\.tunnels\.value 1 " gtcp.txt
check "graphite tcp: Nebula's names, b's handshake" grep -q "^e2e\.b\.handshake_manager\.initiated\.count [1-9]" gtcp.txt
check "graphite tcp: recv_error always, message types not asked for" \
	bash -c "grep -q '^e2e\.b\.messages\.rx\.recv_error\.count ' gtcp.txt && ! grep -q 'handshake_ixpsk0' gtcp.txt"
check "graphite tcp: every line well formed" lines_ok gtcp.txt
check "graphite tcp: a failure was logged" grep -q "stats: graphite sending to 127.0.0.1:2003" b.log

# graphite over UDP
stop_pids "$pb"
wait_for 5 bash -c "! ip -n $B link show | grep -q neb"
graphite_config b2.yml udp 2004
ip netns exec "$B" timeout 60 python3 - udp 2004 gudp.txt <<'PY' &
import socket, sys
port, out = int(sys.argv[2]), sys.argv[3]
f = open(out, "ab", buffering=0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
while True:
    d = s.recv(65536)
    if len(d) > 1400 or not d.endswith(b"\n"):
        f.write(b"BAD DATAGRAM\n")
    f.write(d)
PY
E2E_PIDS+=("$!")
sleep 0.3
pb=$(spawn "$B" b2.log "$NODE" -config b2.yml)
check "b: graphite start logged" wait_for 5 grep -q "Starting graphite. Interval: 1s, prefix: e2e.b, addr: 127.0.0.1:2004 (udp)" b2.log
check "graphite udp: rounds arrive" wait_for 10 grep -q "^e2e\.b\.mesh\.udp_rx\.count " gudp.txt
check "b: tunnel again" ip netns exec "$B" ping -c 2 -i 0.2 -W 2 192.168.78.1
check "graphite udp: b's tunnel" wait_for 5 grep -q "^e2e\.b\.mesh\.tunnels\.value 1 " gudp.txt
check "graphite udp: datagrams of whole lines" lines_ok gudp.txt

stop_pids "$pa" "$pb"
check "a: clean stop" grep -q 'msg="Caught signal, shutting down" signal=terminated' a.log
if [ "$E2E_FAIL" -ne 0 ]; then
	for f in a.log b.log b2.log prom.log; do [ -f "$f" ] && { echo "# --- $f"; tail -20 "$f" | diag; }; done
	tail -20 "$E2E_DIR/check.log" | diag
fi
e2e_done
