#!/bin/bash
# e2e: what a node lives through without a restart.  Two lighthouses and
# nodes a, b, c on one switch, all ours.
#  - reloads under a running TCP transfer: a new firewall table and a
#    second lighthouse; the connection survives and the new rules apply;
#  - a reload that changes a restart-only key says so and keeps it;
#  - a blocklisted peer loses its tunnel within a second of the reload,
#    is told, and its retries are refused; unblocked, it is back;
#  - our certificate replaced under traffic: new handshakes with it, the
#    connection survives; a certificate for another IP is refused;
#  - a peer moves to another underlay address during a transfer: the
#    tunnel follows, the connection survives, it re-announces at once;
#  - a peer's certificate expires: its tunnel goes at expiry;
#  - a peer whose CA leaves pki.ca: a new handshake is tried for a newer
#    certificate, and without one the tunnel goes within a second;
#  - warnings ahead of our certificate's and CA's expiry;
#  - SIGTERM under load: closeTunnel sent, TUN device gone, exit 0.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$NODE" "$CT"

"$CT" ca -name life-ca -duration 10h >/dev/null
for h in lh1:1 lh2:2 a:10 b:20; do
	"$CT" sign -name "${h%%:*}" -ip "192.168.96.${h#*:}/24"
done
lab_switch
LH1=$(ns lh1); LH2=$(ns lh2); A=$(ns a); B=$(ns b); C=$(ns c)
attach "$LH1" 10.81.0.1/24
attach "$LH2" 10.81.0.2/24
attach "$A" 10.81.0.10/24
attach "$B" 10.81.0.20/24
attach "$C" 10.81.0.30/24

mesh_config lh1.yml lh1 "" "" true
mesh_config lh2.yml lh2 "" "" true
sed -i 's/^pki:$/pki:\n  expiry_warning: 0/' lh2.yml # no warnings there
for h in a b c; do
	mesh_config "$h.yml" "$h" 192.168.96.1 10.81.0.1:4242
	printf 'timers:\n  connection_alive_interval: 2\n  pending_deletion_interval: 3\n' >>"$h.yml"
done
sed -i 's/^  interval: 2$/  interval: 60/' b.yml # b's re-announce is the event's
head -c 3000000 /dev/urandom >blob

spawn "$LH1" lh1.log "$NODE" -config lh1.yml >/dev/null
spawn "$LH2" lh2.log "$NODE" -config lh2.yml >/dev/null
sleep 0.3
pa=$(spawn "$A" a.log "$NODE" -config a.yml)
ip netns exec "$B" "$NODE" -config b.yml >b.log 2>&1 &
pb=$!
E2E_PIDS+=("$pb")
check "a reaches b" wait_for 10 ip netns exec "$A" ping -c 1 -W 1 192.168.96.20

# --- expiry warnings (the CA and the certificates last 10 hours) ---
check "a warns that its certificate expires within pki.expiry_warning" \
	grep -q 'msg="Certificate (pki.cert) expires soon" certName=a expiresIn=0d' a.log
check "a warns that its CA expires soon" \
	grep -q 'msg="CA certificate (pki.ca) expires soon" certName=life-ca ' a.log
check_not "pki.expiry_warning: 0 turns the warnings off (lh2)" \
	grep -q "expires soon" lh2.log

# --- reloads under a running transfer ---
slow_start "$A" "$B" 192.168.96.20 blob
sleep 1
# b: only TCP and ICMP come in now; a: a second lighthouse
sed -i 's/^  inbound: .*/  inbound: [{port: any, proto: tcp, host: any}, {port: any, proto: icmp, host: any}]/' b.yml
kill -HUP "$pb"
sed -i 's/^  hosts: \["192.168.96.1"\]/  hosts: ["192.168.96.1", "192.168.96.2"]/' a.yml
sed -i 's/^  "192.168.96.1": \["10.81.0.1:4242"\]/&\n  "192.168.96.2": ["10.81.0.2:4242"]/' a.yml
kill -HUP "$pa"
check "the TCP connection survived both reloads (3 MB, sha256 matches)" slow_done
check "b reloaded its firewall" grep -q 'msg="configuration reloaded" .*inboundRules=2 ' b.log
check "a registers with the lighthouse it was given" \
	wait_for 5 grep -Eq "$(up_re a)" lh2.log
check_not "no tunnel went down meanwhile" \
	bash -c "grep -E '$DOWN_RE' a.log b.log | grep -Eq 'certName=[ab] '"
ip netns exec "$A" python3 -c '
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
[s.sendto(b"x", ("192.168.96.20", 9)) for _ in range(3)]'
kill -USR1 "$pb"
check "b's new rules refuse UDP (fwInDrop)" \
	wait_for 3 bash -c "grep 'stats:' b.log | tail -1 | grep -Eq 'fwInDrop=[1-9]'"

# --- a restart-only key ---
sed -i 's/^  port: 4242$/  port: 4343/' a.yml
kill -HUP "$pa"
check "listen.port: logged as needing a restart, old value kept" \
	wait_for 3 grep -q 'msg="Setting needs a restart, keeping the running value" key=listen.port new=4343 old=4242' a.log
check "a still listens on 4242" bash -c "ip netns exec $A ss -uln | grep -q ':4242 '"
sed -i 's/^  port: 4343$/  port: 4242/' a.yml

# --- revocation by blocklist ---
fpb=$("$CT" print -json -path b.crt | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')
sed -i "s/^  key: \(.*a.key\)$/  key: \1\n  blocklist: [\"$fpb\"]/" a.yml
kill -HUP "$pa"
check "blocklisted b's tunnel is gone within one second of the reload" \
	wait_for 1 grep -q 'msg="Remote certificate is no longer valid, tearing down the tunnel" certName=b ' a.log
check "a logs b's name and why" \
	grep -q 'msg="Remote certificate is no longer valid, tearing down the tunnel" certName=b error="certificate has been blocked" fingerprint=[0-9a-f]* vpnIp=192.168.96.20$' a.log
check "b was told (closeTunnel)" wait_for 2 grep -q 'msg="Close tunnel received, tearing down." certName=a ' b.log
check_not "b cannot reach a" ip netns exec "$B" ping -c 2 -W 1 192.168.96.10
check "b's retries are refused" grep -q 'msg="Invalid certificate from host" certName=b error="certificate validation failed: certificate has been blocked"' a.log
sed -i '/^  blocklist: /d' a.yml
kill -HUP "$pa"
check "unblocked, b reaches a again" wait_for 10 ip netns exec "$B" ping -c 1 -W 1 192.168.96.10

# --- our certificate replaced under traffic ---
n_up=$(grep -Ec "$(up_re a)" b.log)
mkdir new
"$CT" sign -name a -ip 192.168.96.10/24 -groups rotated -out-crt new/a.crt -out-key new/a.key
slow_start "$B" "$A" 192.168.96.10 blob
sleep 1
cp new/a.crt a.crt
cp new/a.key a.key
kill -HUP "$pa"
check "rotation: the TCP connection survived (sha256 matches)" slow_done
check "rotation: a said its certificate changed" grep -q 'msg="Client cert refreshed from disk" certName=a ' a.log
check "rotation: b made a new tunnel with a's new certificate" \
	bash -c "[ \$(grep -Ec '$(up_re a)' b.log) -gt $n_up ]"
"$CT" sign -name a -ip 192.168.96.11/24 -out-crt new/a11.crt -out-key new/a11.key
cp a.crt new/keep.crt
cp a.key new/keep.key
cp new/a11.crt a.crt
cp new/a11.key a.key
kill -HUP "$pa"
check "a certificate for another IP is refused on reload" \
	wait_for 3 grep -q 'msg="Reload refused, keeping the running configuration" .*error="IP in new cert was different from old' a.log
cp new/keep.crt a.crt
cp new/keep.key a.key
check "a keeps working with the certificate it runs" \
	ip netns exec "$A" ping -c 1 -W 2 192.168.96.20

# --- b moves to another underlay address during a transfer ---
dev=$(ip -n "$B" -o addr show | awk '/10\.81\.0\.20/{print $2}')
# the new address survives the old one's removal
ip netns exec "$B" sysctl -qw "net.ipv4.conf.$dev.promote_secondaries=1"
slow_start "$B" "$A" 192.168.96.10 blob
sleep 1
ip -n "$B" addr add 10.81.0.21/24 dev "$dev"
ip -n "$B" addr del 10.81.0.20/24 dev "$dev"
check "moved: the TCP connection survived (sha256 matches)" slow_done
check "moved: a's tunnel followed b" \
	grep -q 'msg="Host roamed to new udp ip/port." certName=b newAddr="10.81.0.21:4242" udpAddr="10.81.0.20:4242" vpnIp=192.168.96.20$' a.log
kill -USR1 "$pb"
check "moved: b re-announced at once (lhReaddressed; lighthouse.interval is 60 s)" \
	wait_for 3 bash -c "grep 'stats:' b.log | tail -1 | grep -Eq 'lhReaddressed=[1-9]'"

# --- a peer's certificate expires ---
"$CT" sign -name c -ip 192.168.96.30/24 -duration 12s
pc=$(spawn "$C" c.log "$NODE" -config c.yml)
check "c (its certificate valid for 12 s) reaches a" \
	wait_for 8 ip netns exec "$C" ping -c 1 -W 1 192.168.96.10
check "c's tunnel goes down when its certificate expires" \
	wait_for 14 grep -q 'msg="Remote certificate is no longer valid, tearing down the tunnel" certName=c error="certificate is expired"' a.log
stop_pids "$pc"

# --- a peer whose CA leaves pki.ca ---
"$CT" ca -name other-ca -duration 10h -out-crt other.crt -out-key other.key >/dev/null
"$CT" sign -ca-crt other.crt -ca-key other.key -name d -ip 192.168.96.31/24
cat ca.crt other.crt >bundle.crt
mesh_config d.yml d 192.168.96.1 10.81.0.1:4242
sed -i "s|^  ca: .*|  ca: $E2E_DIR/bundle.crt|" d.yml lh1.yml a.yml
kill -HUP "$pa"
pl=$(pgrep -f "lh1.yml" | head -1)
kill -HUP "$pl"
sleep 0.5
pd=$(spawn "$C" d.log "$NODE" -config d.yml)
check "d, of another CA in a's bundle, reaches a" \
	wait_for 8 ip netns exec "$C" ping -c 1 -W 1 192.168.96.10
sed -i "s|^  ca: .*|  ca: $E2E_DIR/ca.crt|" a.yml
kill -HUP "$pa"
check "d's CA removed: its tunnel is gone within one second of the reload" \
	wait_for 1 grep -q 'msg="Remote certificate is no longer valid, tearing down the tunnel" certName=d error="could not find ca' a.log
check "d's CA removed: a first tried a new handshake for a newer certificate" \
	grep -q 'msg="Peer certificate no longer verifies, handshaking again for a newer one" certName=d error="could not find ca' a.log
check "d's CA removed: d was told" wait_for 2 grep -q 'msg="Close tunnel received, tearing down." certName=a ' d.log
stop_pids "$pd"

# --- SIGTERM under load ---
bdev=$(awk '/^  dev:/{print $2}' b.yml)
ip netns exec "$A" ping -f -c 100000 -W 1 192.168.96.20 >/dev/null 2>&1 &
E2E_PIDS+=("$!")
sleep 1
kill -TERM "$pb"
rc=0
wait "$pb" || rc=$?
check "SIGTERM under load: b exits 0" test "$rc" = 0
check "SIGTERM: b's TUN device is gone" bash -c "! ip -n $B link show $bdev"
check "SIGTERM: a was told (closeTunnel)" grep -q 'msg="Close tunnel received, tearing down." certName=b ' a.log

for f in *.log; do
	grep -q "runtime error:\|AddressSanitizer" "$f" && { not_ok "$f: sanitizer report"; diag "$f"; }
done
[ "$E2E_FAIL" -eq 0 ] || for f in a b d lh2; do echo "# $f.log"; grep -v "Handshake message sent" "$f.log" | tail -15 | diag; done
e2e_done
