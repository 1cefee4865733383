#!/bin/bash
# e2e: the installed names and what tooling reads from them.
#  - Run under Nebula's names (nebula, nebula-cert: make install COMPAT=1)
#    -version prints Nebula's line for 1.6.1 alone on the output, ours on
#    the error stream; under ours, our version first.  Nebula's usage has
#    only Nebula's flags.
#  - -test -restart-keys OLD: the keys whose change needs a restart, one
#    per line, nothing else on the output; exit 0 for a valid NEW, not 0
#    for a broken one; "*" when OLD does not load.
#  - make install (PREFIX, DESTDIR, COMPAT=1) and make uninstall into a
#    scratch root: the files, the links, the units' ExecStart, a foreign
#    nebula left alone.
# No namespaces: nothing here touches the network.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
need "$E2E_TOP/bin/cairn" "$E2E_TOP/bin/cairn-cert"
WANT_VER=$(sed -n 's/^VERSION := //p' "$E2E_TOP/Makefile")

mkdir -p names
ln -s "$E2E_TOP/bin/cairn" names/nebula
ln -s "$E2E_TOP/bin/cairn-cert" names/nebula-cert
# ver PROG: its -version output and error stream in ver.out, ver.err
ver() { "$@" -version >ver.out 2>ver.err; }
for p in nebula nebula-cert; do
	check "$p -version exits 0" ver "names/$p"
	check "$p -version prints exactly Nebula's 'Version: 1.6.1'" \
		[ "$(cat ver.out)" = "Version: 1.6.1" ]
	check "$p -version names cairn $WANT_VER on the error stream" \
		grep -qx "cairn $WANT_VER, compatible with Nebula 1.6.1" ver.err
done
# the binaries themselves, not by a link: the name decides
cp "$E2E_TOP/bin/cairn" ./nebula
check "a copy named nebula prints Nebula's version too" \
	bash -c "[ \"\$(./nebula -version 2>/dev/null)\" = 'Version: 1.6.1' ]"
for p in cairn cairn-cert; do
	check "$p -version: 'Version: $WANT_VER' first" ver "$E2E_TOP/bin/$p"
	check "$p -version: its first line is ours" \
		[ "$(head -1 ver.out)" = "Version: $WANT_VER" ]
	check "$p -version: then the Nebula release" \
		[ "$(sed -n 2p ver.out)" = "Compatible with Nebula 1.6.1" ]
	check "$p -version: nothing on the error stream" [ ! -s ver.err ]
done
names/nebula -h >/dev/null 2>usage.nebula
"$E2E_TOP/bin/cairn" -h >/dev/null 2>usage.cairn
check "nebula -h shows Nebula's three flags" \
	bash -c "[ \"\$(grep -c '^  -' usage.nebula)\" = 3 ]"
check_not "nebula -h does not show -restart-keys" grep -q restart-keys usage.nebula
check "cairn -h shows -restart-keys" grep -q '^  -restart-keys' usage.cairn

# -restart-keys
"$CT" ca -name names-ca -duration 10h >/dev/null
"$CT" sign -name a -ip 192.168.90.1/24
"$CT" sign -name a2 -ip 192.168.90.2/24
node_config old.yml a 4242 aes
# restart_keys NEW: the output and status of -test -restart-keys old.yml
restart_keys() {
	"$NODE" -config "$1" -test -restart-keys old.yml \
		>rk.out 2>rk.err
}
same_as() { [ "$(cat rk.out)" = "$1" ]; }
sed 's/^  level: info/  level: debug/' old.yml >live.yml
sed -i 's/^    - port: any$/    - port: 22/' live.yml
check "a live change: exit 0" restart_keys live.yml
check "a live change (firewall, logging.level): no key printed" same_as ""
sed 's/^  port: 4242/  port: 4343/' old.yml >port.yml
check "listen.port changed: exit 0" restart_keys port.yml
check "listen.port changed: 'listen.port' alone" same_as "listen.port"
sed 's/^cipher: aes/cipher: chachapoly/; s/^  mtu: 1300/  mtu: 1400/' old.yml >two.yml
check "cipher and tun.mtu changed: exit 0" restart_keys two.yml
check "cipher and tun.mtu changed: both, one per line" \
	same_as "$(printf 'cipher\ntun.mtu')"
sed 's|/a\.crt$|/a2.crt|; s|/a\.key$|/a2.key|' old.yml >ip.yml
check "a certificate with another IP: exit 0" restart_keys ip.yml
check "a certificate with another IP: 'pki.cert'" same_as "pki.cert"
sed 's/^  mtu: 1300/  mtu: 100/' old.yml >bad.yml
check_not "a broken NEW: exit not 0" restart_keys bad.yml
check "a broken NEW: the reason, with file, line and key" \
	grep -q "bad.yml:[0-9]*: tun.mtu" rk.err
check "a broken NEW: nothing on the output" same_as ""
mv old.yml old.keep && printf 'pki: [\n' >old.yml
check "an OLD that does not load: exit 0" restart_keys live.yml
check "an OLD that does not load: '*'" same_as "*"
check "an OLD that does not load: says why" grep -q "old.yml does not load" rk.err
mv old.keep old.yml
check_not "-restart-keys without -test: refused" \
	"$NODE" -config live.yml -restart-keys old.yml
check "plain -test still shows the merged configuration" \
	bash -c "'$E2E_TOP/bin/cairn' -config live.yml -test | grep -q 'config is valid'"

# make install and uninstall, into a scratch root
R=$E2E_DIR/root
inst() { make -s -C "$E2E_TOP" "$@" DESTDIR="$R" PREFIX=/usr >inst.log 2>&1; }
check "make install PREFIX=/usr COMPAT=1 into DESTDIR" inst install COMPAT=1
for f in bin/cairn bin/cairn-cert bin/cairn-lighthouse bin/cairnctl \
	libexec/cairn/cairn-sshd share/man/man8/cairn.8 share/man/man1/cairn-cert.1 \
	share/man/man5/cairn.yml.5 share/man/man8/cairn-lighthouse.8 \
	share/man/man8/cairnctl.8 lib/systemd/system/cairn.service \
	lib/systemd/system/cairn@.service lib/systemd/system/cairn-lighthouse.service; do
	check "installed: /usr/$f" [ -e "$R/usr/$f" ]
done
check "nebula is a link to cairn" [ "$(readlink "$R/usr/bin/nebula")" = cairn ]
check "nebula-cert is a link to cairn-cert" [ "$(readlink "$R/usr/bin/nebula-cert")" = cairn-cert ]
check "the installed nebula prints Nebula's version" \
	bash -c "[ \"\$('$R/usr/bin/nebula' -version 2>/dev/null)\" = 'Version: 1.6.1' ]"
check "cairn.service runs /usr/bin/cairn -config /etc/cairn/config.yml" \
	grep -qx "ExecStart=/usr/bin/cairn -config /etc/cairn/config.yml" "$R/usr/lib/systemd/system/cairn.service"
check "cairn-lighthouse.service runs /usr/bin/cairn-lighthouse" \
	grep -q "^ExecStart=/usr/bin/cairn-lighthouse " "$R/usr/lib/systemd/system/cairn-lighthouse.service"
check_not "no unit names /usr/local" grep -rq /usr/local "$R/usr/lib/systemd/system"
check "make install again (COMPAT=1): fine" inst install COMPAT=1
check "make uninstall" inst uninstall
left=$(find "$R" -type f -o -type l)
check "uninstall leaves no file or link" [ -z "$left" ]
[ -z "$left" ] || echo "$left" | diag
# a foreign nebula (Nebula's own) is neither replaced nor removed
mkdir -p "$R/usr/bin" && printf '#!/bin/sh\necho real\n' >"$R/usr/bin/nebula"
check_not "COMPAT=1 over Nebula's own nebula: refused" inst install COMPAT=1
check "and says why" grep -q "exists and is not our link" inst.log
check "Nebula's nebula is untouched" grep -q real "$R/usr/bin/nebula"
check "make install without COMPAT beside Nebula's nebula" inst install
check "make uninstall beside it" inst uninstall
check "Nebula's nebula is still there after uninstall" grep -q real "$R/usr/bin/nebula"

if [ "$E2E_FAIL" -ne 0 ]; then
	for f in rk.out rk.err inst.log; do echo "# --- $f"; diag "$f"; done
fi
e2e_done
