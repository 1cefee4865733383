#!/bin/bash
# e2e: peers that must get no tunnel, and the log line that says why:
# a certificate from another CA, an expired one, a blocklisted one, and
# one whose IP is not the one we asked for.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1

"$CT" ca -name good-ca -duration 10h >/dev/null
"$CT" ca -name other-ca -duration 10h -out-crt other.crt -out-key other.key >/dev/null
cat ca.crt other.crt >bundle.crt
"$CT" sign -name a -ip 192.168.77.1/24
"$CT" sign -name foreign -ip 192.168.77.2/24 -ca-crt other.crt -ca-key other.key
"$CT" sign -name blocked -ip 192.168.77.2/24
"$CT" sign -name imposter -ip 192.168.77.5/24
A=$(ns a); B=$(ns b)
link "$A" 10.55.0.1/24 "$B" 10.55.0.2/24

# peer_case CERT DESC EXPECTED_LOG [FINGERPRINT]: b runs CERT and pings a;
# a must refuse, with EXPECTED_LOG in its log.  A FINGERPRINT goes into
# a's pki.blocklist.
peer_case() {
	local cert=$1 desc=$2 want=$3 extra=${4:-} pa pb
	node_config a.yml a 4242 aes "192.168.77.2=10.55.0.2:4242"
	[ -n "$extra" ] && sed -i "s|^pki:|pki:\n  blocklist: [\"$extra\"]|" a.yml
	node_config b.yml "$cert" 4242 aes "192.168.77.1=10.55.0.1:4242"
	sed -i "s|ca: .*/ca.crt|ca: $E2E_DIR/bundle.crt|" b.yml
	pa=$(spawn "$A" "a-$cert.log" "$NODE" -config a.yml)
	pb=$(spawn "$B" "b-$cert.log" "$NODE" -config b.yml)
	sleep 0.5
	check_not "$desc: no traffic passes" ip netns exec "$B" ping -c 2 -i 0.3 -W 1 192.168.77.1
	check "$desc: a's log says \"$want\"" \
		grep -q "msg=\"Invalid certificate from host\" .*error=\"certificate validation failed: $want" "a-$cert.log"
	check_not "$desc: no tunnel came up on a" grep -Eq "$(up_re '[^ ]+')" "a-$cert.log"
	stop_pids "$pa" "$pb"
}

peer_case foreign "cert from another CA" "could not find ca for the certificate"
fp=$("$CT" print -json -path blocked.crt | sed 's/.*"fingerprint":"\([0-9a-f]*\)".*/\1/')
peer_case blocked "blocklisted cert" "certificate has been blocked" "$fp"

# Expired: b's certificate lasts 3 s; b starts while it is valid.
"$CT" sign -name expiring -ip 192.168.77.2/24 -duration 3s
node_config a.yml a 4242 aes "192.168.77.2=10.55.0.2:4242"
node_config b.yml expiring 4242 aes "192.168.77.1=10.55.0.1:4242"
pa=$(spawn "$A" a-expiring.log "$NODE" -config a.yml)
pb=$(spawn "$B" b-expiring.log "$NODE" -config b.yml)
sleep 4
check_not "expired cert: no traffic passes" ip netns exec "$B" ping -c 2 -i 0.3 -W 1 192.168.77.1
check "expired cert: a's log says \"certificate is expired\"" grep -q "certificate is expired" a-expiring.log
stop_pids "$pa" "$pb"

# Wrong IP: a believes 192.168.77.9 is at b's address; b is .5.
node_config a.yml a 4242 aes "192.168.77.9=10.55.0.2:4242"
node_config b.yml imposter 4242 aes "192.168.77.1=10.55.0.1:4242"
pa=$(spawn "$A" a-imposter.log "$NODE" -config a.yml)
pb=$(spawn "$B" b-imposter.log "$NODE" -config b.yml)
sleep 0.5
check_not "wrong IP: ping to .9 gets no answer" ip netns exec "$A" ping -c 2 -i 0.3 -W 1 192.168.77.9
check "wrong IP: a's log says \"Incorrect host responded to handshake\"" grep -q "Incorrect host responded to handshake" a-imposter.log
check "wrong IP: the line names both IPs" \
	grep -q 'msg="Incorrect host responded to handshake" certName=imposter handshake="map\[stage:2 style:ix_psk0\]" haveVpnIp=192.168.77.5 intendedVpnIp=192.168.77.9 udpAddr="10.55.0.2:4242"$' a-imposter.log
check_not "wrong IP: no tunnel came up on a" grep -Eq "$(up_re '[^ ]+')" a-imposter.log
stop_pids "$pa" "$pb"

# The same refusals by the real Nebula of our node's bad certificates.
if command -v nebula >/dev/null; then
	node_config a.yml a 4242 aes "192.168.77.2=10.55.0.2:4242"
	node_config b.yml foreign 4242 aes "192.168.77.1=10.55.0.1:4242"
	sed -i "s|ca: .*/ca.crt|ca: $E2E_DIR/bundle.crt|" b.yml
	pa=$(spawn "$A" a-neb.log nebula -config a.yml)
	pb=$(spawn "$B" b-neb.log "$NODE" -config b.yml)
	sleep 1
	check_not "nebula refuses our foreign-CA peer too" ip netns exec "$B" ping -c 2 -i 0.3 -W 1 192.168.77.1
	check "nebula's log says why" grep -q "could not find ca for the certificate" a-neb.log
	stop_pids "$pa" "$pb"
fi
if [ "$E2E_FAIL" -ne 0 ]; then for f in *.log; do echo "# --- $f"; tail -8 "$f" | diag; done; fi
e2e_done
