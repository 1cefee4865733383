#!/bin/bash
# e2e: the Debian packages.  make deb builds them (lintian: no error),
# then they are installed, used, removed and purged with dpkg in a
# throwaway root, never on this machine: an overlay whose lower layer is
# the host's / and whose upper layer is a tmpfs, mounted in a private
# mount namespace held by one process (HOLD) and entered with chroot.
# Killing HOLD (lib.sh's cleanup) drops the namespace and every mount in
# it; the host never sees them.  The real Nebula package is installed on
# the host (deps.sh), so the root starts with it: cairn-nebula-compat
# must be refused until it is removed there.  Last, the host must be as
# it was.  DEB_DIR=DIR tests the packages already in DIR instead, as
# make check does (it builds them first, lintian included).
# e2e: no-san
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
T0=$SECONDS
for c in dpkg-buildpackage lintian unshare nsenter chroot; do
	command -v "$c" >/dev/null ||
		{ echo "not ok 1 - $c is missing (scripts/deps.sh installs it)"; echo "1..1"; exit 1; }
done
VERSION=$(sed -n 's/^VERSION := //p' "$E2E_TOP/Makefile")

# --- the packages ----------------------------------------------------
if [ -n "${DEB_DIR:-}" ]; then
	DEBS=$DEB_DIR
else
	DEBS=$E2E_DIR/debs
	# nocheck: the unit tests, which make check runs anyway, are not run
	# again inside the package build
	check "make deb builds the packages and lintian reports no error" \
		env DEB_BUILD_OPTIONS=nocheck timeout 420 make -s -C "$E2E_TOP" deb DEBDIR="$DEBS"
fi
DEB=$(ls "$DEBS"/cairn_"$VERSION"-*.deb 2>/dev/null | head -1)
COMPAT=$(ls "$DEBS"/cairn-nebula-compat_"$VERSION"-*.deb 2>/dev/null | head -1)
if [ -z "$DEB" ] || [ -z "$COMPAT" ]; then
	not_ok "cairn and cairn-nebula-compat $VERSION in $DEBS"
	tail -40 check.log | diag
	e2e_done
	exit 1
fi
DEBVER=$(dpkg-deb -f "$DEB" Version)
# depends_on DEB PKG...: each PKG is named in DEB's Depends
depends_on() {
	local d p
	d=$(dpkg-deb -f "$1" Depends); shift
	for p in "$@"; do
		grep -Eq "(^|, )$p( |,|\$)" <<<"$d" || { echo "no $p in: $d"; return 1; }
	done
}
check "cairn depends on adduser and the libraries its programs link" \
	depends_on "$DEB" adduser libc6 libssl3 libqrencode4 libssh-4
# the daemons are linked dynamically in the package (debian/rules
# STATIC=0): Debian's security updates of these reach them
check "cairn depends on the libraries of its dynamically linked daemons" \
	depends_on "$DEB" libyaml-0-2 libevent-core-2.1-7 libevent-extra-2.1-7 libnl-3-200
check "no Built-Using: the package carries no copy of a library" \
	[ -z "$(dpkg-deb -f "$DEB" Built-Using Static-Built-Using)" ]
check "cairn-nebula-compat depends on cairn (= $DEBVER)" \
	[ "$(dpkg-deb -f "$COMPAT" Depends)" = "cairn (= $DEBVER)" ]
# Conflicts without Replaces: dpkg -i refuses while nebula is installed
# (with Replaces it would remove nebula by itself); apt removes it, asked.
check "cairn-nebula-compat conflicts with nebula, does not replace it" \
	eval '[ "$(dpkg-deb -f "$COMPAT" Conflicts)" = nebula ] &&
		[ -z "$(dpkg-deb -f "$COMPAT" Replaces)" ]'
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles >conffiles 2>/dev/null
check "the one conffile is /etc/cairn/config.yml.example" \
	[ "$(cat conffiles)" = /etc/cairn/config.yml.example ]

# --- the host before ---------------------------------------------------
host_state() {
	echo "bin: $(ls -d /usr/bin/cairn* /etc/cairn /usr/libexec/cairn \
		/lib/systemd/system/cairn* 2>/dev/null)"
	echo "pkgs: $(dpkg-query -W -f '${Package} ${Status}\n' cairn \
		cairn-nebula-compat nebula 2>/dev/null)"
	echo "user: $(getent passwd cairn)"
	echo "nebula: $(readlink -f /usr/bin/nebula) $(sha256sum </usr/bin/nebula)"
	echo "dpkg: $(grep -A1 -E '^Package: (cairn|cairn-nebula-compat|nebula)$' /var/lib/dpkg/status)"
}
host_state >host.before

# --- the throwaway root --------------------------------------------------
ROOT=$E2E_DIR/root
mkdir -p "$ROOT" ovl
unshare --mount --propagation private sleep 540 &
HOLD=$!
E2E_PIDS+=("$HOLD")
ns_differs() { [ "$(readlink "/proc/$HOLD/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]; }
wait_for 5 ns_differs
# on_root CMD...: a host program in HOLD's mount namespace (paths under
# $ROOT reach the throwaway root); in_root CMD...: a program of the root,
# chrooted there, with a clean environment.
on_root() { nsenter -t "$HOLD" -m -- "$@"; }
in_root() {
	on_root env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive HOME=/root chroot "$ROOT" "$@"
}
setup_root() {
	mount -t tmpfs -o mode=0755 e2e-deb "$E2E_DIR/ovl" &&
		mkdir "$E2E_DIR/ovl/upper" "$E2E_DIR/ovl/work" &&
		mount -t overlay e2e-deb -o "lowerdir=/,upperdir=$E2E_DIR/ovl/upper,workdir=$E2E_DIR/ovl/work" "$ROOT" &&
		mount -t proc proc "$ROOT/proc" &&
		mount --rbind /dev "$ROOT/dev" &&
		mount -t tmpfs -o mode=0755 e2e-run "$ROOT/run" &&
		mount -t tmpfs -o mode=1777 e2e-tmp "$ROOT/tmp" &&
		mkdir -p "$ROOT/root/debs" &&
		cp "$DEB" "$COMPAT" "$ROOT/root/debs/"
}
export -f setup_root
export E2E_DIR ROOT DEB COMPAT
if ! on_root bash -c setup_root >>check.log 2>&1; then
	not_ok "a throwaway root: overlay of / on a tmpfs, in a private mount namespace"
	tail -20 check.log | diag
	e2e_done
	exit 1
fi
ok "a throwaway root: overlay of / on a tmpfs, in a private mount namespace"
check "the host does not see the throwaway root's mounts" \
	eval '! grep -q " $ROOT " /proc/self/mounts && [ -z "$(ls -A "$ROOT")" ]'
# Not the host's dpkg database but the root's copy of it from here on.
in_root dpkg-query -W -f '${Status}\n' nebula >neb.status 2>&1
check "the root starts with Debian's nebula installed" grep -qx 'install ok installed' neb.status

# Processes whose root is the throwaway root: none should be left after
# a maintainer script.
in_root_procs() {
	on_root bash -c 'for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$1" ] && echo "${p#/proc/} $(tr "\0" " " <"$p/cmdline")"
	done; true' _ "$ROOT"
}

# --- install -------------------------------------------------------------
in_root dpkg -i /root/debs/"${DEB##*/}" /root/debs/"${COMPAT##*/}" >install1.log 2>&1
rc=$?
check "dpkg -i of both with nebula installed fails (exit $rc)" [ "$rc" -ne 0 ]
check "dpkg refuses cairn-nebula-compat: it conflicts with nebula" \
	grep -q 'conflicting packages - not installing cairn-nebula-compat' install1.log
in_root dpkg-query -W -f '${Package} ${Status}\n' cairn cairn-nebula-compat nebula \
	>status1 2>/dev/null
check "cairn installed, cairn-nebula-compat not, nebula kept" \
	eval 'grep -qx "cairn install ok installed" status1 &&
		! grep -q "cairn-nebula-compat install ok installed" status1 &&
		grep -qx "nebula install ok installed" status1'
check "/usr/bin/nebula is still Nebula's" \
	in_root bash -c '[ ! -L /usr/bin/nebula ] && nebula -version | grep -qx "Version: 1.6.1"'
check "dpkg -r nebula (in the root)" in_root dpkg -r nebula
in_root dpkg -i /root/debs/"${COMPAT##*/}" >install2.log 2>&1
check "then cairn-nebula-compat installs" [ $? -eq 0 ]
check "nebula and nebula-cert are links to cairn and cairn-cert" \
	in_root bash -c '[ "$(readlink /usr/bin/nebula)" = cairn ] &&
		[ "$(readlink /usr/bin/nebula-cert)" = cairn-cert ] &&
		[ "$(readlink /usr/share/man/man8/nebula.8.gz)" = cairn.8.gz ]'
in_root_procs >procs.after
check "nothing was started: no process runs in the root" [ ! -s procs.after ]
check "no unit was enabled" \
	in_root bash -c '! ls /etc/systemd/system/*.wants/cairn* 2>/dev/null | grep -q .'
in_root dpkg -L cairn cairn-nebula-compat | sort -u >files.list
cp conffiles files.conf

# --- what postinst made ---------------------------------------------------
in_root getent passwd cairn >pw 2>&1
IFS=: read -r _ _ CUID CGID _ CHOME CSHELL <pw
check "the system user cairn (uid ${CUID:-?} < 1000, /usr/sbin/nologin, no home)" \
	eval '[ -n "$CUID" ] && [ "$CUID" -lt 1000 ] && [ "$CSHELL" = /usr/sbin/nologin ] &&
		[ "$CHOME" = /nonexistent ] && in_root test ! -e /nonexistent'
check "the group cairn is the user's group" \
	[ "$(in_root getent group cairn | cut -d: -f3)" = "$CGID" ]
check "/etc/cairn is root:cairn 0750" \
	[ "$(in_root stat -c '%U:%G %a' /etc/cairn)" = "root:cairn 750" ]
check "the units are installed, ExecStart in /usr/bin, User=cairn" \
	in_root bash -c 'cd /lib/systemd/system &&
		grep -qx "ExecStart=/usr/bin/cairn -config /etc/cairn/config.yml" cairn.service &&
		grep -qx "ExecStart=/usr/bin/cairn -config /etc/cairn/%i.yml" cairn@.service &&
		grep -q "^ExecStart=/usr/bin/cairn-lighthouse " cairn-lighthouse.service &&
		[ "$(grep -hx "User=cairn" cairn.service cairn@.service cairn-lighthouse.service | wc -l)" = 3 ]'
if in_root test -x /usr/bin/systemd-analyze; then
	in_root bash -c 'cd /lib/systemd/system && systemd-analyze verify cairn.service \
		cairn@.service cairn@e2e.service cairn-lighthouse.service' >verify.log 2>&1
	rc=$?
	check "systemd-analyze verify passes on the three units, says nothing" \
		eval '[ $rc -eq 0 ] && [ ! -s verify.log ]'
else
	E2E_N=$((E2E_N + 1))
	echo "ok $E2E_N - systemd-analyze verify # SKIP systemd is not installed"
fi
check "the daemons look for cairn-sshd in /usr/libexec/cairn, nothing in /usr/local" \
	in_root bash -c 'test -x /usr/libexec/cairn/cairn-sshd &&
		grep -aq /usr/libexec/cairn /usr/bin/cairn && ! grep -aq /usr/local/ /usr/bin/cairn'

# --- the programs ----------------------------------------------------------
# -version's first line is ours; under Nebula's names the output is
# Nebula's line alone, our version on the error stream (cairn(8)).
first() { in_root "$@" -version 2>/dev/null | head -1; }
check "cairn-cert -version: Version: $VERSION" [ "$(first cairn-cert)" = "Version: $VERSION" ]
check "cairn -version: Version: $VERSION" [ "$(first cairn)" = "Version: $VERSION" ]
check "cairn-lighthouse -version and cairnctl -version: Version: $VERSION" \
	eval '[ "$(first cairn-lighthouse)" = "Version: $VERSION" ] &&
		[ "$(first cairnctl)" = "Version: $VERSION" ]'
for p in nebula nebula-cert; do
	check "$p -version: exactly Version: 1.6.1" \
		[ "$(in_root "$p" -version 2>/dev/null)" = "Version: 1.6.1" ]
	check "$p -version: cairn $VERSION on the error stream" \
		eval "in_root $p -version 2>&1 >/dev/null | grep -qx 'cairn $VERSION, compatible with Nebula 1.6.1'"
done

# A CA and certificates made with the installed cairn-cert, in /etc/cairn
# as an administrator would put them; config.yml from the example, its
# pki paths pointed at them.  The daemons' user must be able to check it.
in_root bash -c 'set -e; cd /etc/cairn
	cairn-cert ca -name "e2e deb CA" -duration 2h
	cairn-cert sign -name web1 -ip 10.42.0.11/16 -groups web,prod
	cairn-cert sign -name lh1 -ip 10.42.0.1/16
	chgrp cairn ca.crt web1.* lh1.* && chmod 0640 ca.crt web1.* lh1.*
	rm ca.key
	ex=/usr/share/doc/cairn/examples
	sed -e "s|^  ca: .*|  ca: /etc/cairn/ca.crt|" -e "s|^  cert: .*|  cert: /etc/cairn/web1.crt|" \
		-e "s|^  key: .*|  key: /etc/cairn/web1.key|" $ex/node.yml >config.yml
	sed -e "s|^  ca: .*|  ca: /etc/cairn/ca.crt|" -e "s|^  cert: .*|  cert: /etc/cairn/lh1.crt|" \
		-e "s|^  key: .*|  key: /etc/cairn/lh1.key|" $ex/lighthouse.yml >lighthouse.yml
	sed "s|^  port: 4242$|  port: 424242|" config.yml >broken.yml
	cmp -s config.yml broken.yml && exit 1
	true' >pki.log 2>&1
check "a CA and certificates by the installed cairn-cert, configurations from the examples" [ $? -eq 0 ]
as_cairn() { in_root setpriv --reuid=cairn --regid=cairn --init-groups "$@"; }
as_cairn cairn -test -config /etc/cairn/config.yml >test-ok.log 2>&1
check "cairn -test on the example node.yml, as the user cairn: exit 0" [ $? -eq 0 ]
as_cairn cairn-lighthouse -test -config /etc/cairn/lighthouse.yml >test-lh.log 2>&1
check "cairn-lighthouse -test on the example lighthouse.yml, as the user cairn: exit 0" [ $? -eq 0 ]
as_cairn cairn -test -config /etc/cairn/broken.yml >test-bad.log 2>&1
rc=$?
check "cairn -test on a broken configuration (listen.port 424242): exit $rc, not 0" \
	eval '[ $rc -ne 0 ] && grep -q "listen.port" test-bad.log'
in_root setpriv --reuid=nobody --regid=nogroup --clear-groups \
	cairn -test -config /etc/cairn/config.yml >test-nobody.log 2>&1
rc=$?
# (/etc/cairn cannot be searched: the daemon says, as Nebula does, that
# it found no configuration file there)
check "another user cannot read /etc/cairn/config.yml (exit $rc)" \
	eval '[ $rc -ne 0 ] && grep -Eqi "permission denied|no config files found" test-nobody.log'
in_root_procs >procs.after2
check "no process left in the root" [ ! -s procs.after2 ]

# --- remove, purge -----------------------------------------------------------
in_root install -d -o cairn -g cairn /run/cairn
in_root sha256sum /etc/cairn/ca.crt /etc/cairn/config.yml /etc/cairn/web1.key >admin.sums
check "dpkg -r cairn-nebula-compat cairn" in_root dpkg -r cairn-nebula-compat cairn
# left EXCLUDED...: the paths dpkg -L listed that are still there, but the
# EXCLUDED ones and the directories other packages share
left() {
	in_root bash -c 'own=" /etc/cairn /usr/libexec/cairn /usr/share/doc/cairn
		/usr/share/doc/cairn/examples /usr/share/doc/cairn-nebula-compat "
		while read -r f; do
			case " $* " in *" $f "*) continue ;; esac
			if [ -d "$f" ]; then # (/lib is a link to usr/lib, merged /usr)
				case $own in *" $f"[[:space:]]*) echo "$f" ;; esac
			elif [ -e "$f" ] || [ -L "$f" ]; then
				echo "$f"
			fi
		done' _ "$@" <files.list
}
status_of() { in_root dpkg-query -W -f '${Status}\n' "$@" 2>/dev/null; }
left /etc/cairn /etc/cairn/config.yml.example >left.remove
check "after remove: every file of the packages but the conffile is gone" [ ! -s left.remove ]
check "after remove: the conffile is kept, cairn is in state config-files" \
	eval 'in_root test -f /etc/cairn/config.yml.example &&
		[ "$(status_of cairn)" = "deinstall ok config-files" ]'
check "dpkg -P cairn" in_root dpkg -P cairn
left /etc/cairn >left.purge
check "after purge: every file of the packages is gone" [ ! -s left.purge ]
check "after purge: dpkg knows neither package" \
	eval '! status_of cairn cairn-nebula-compat | grep -qv " not-installed$"'
check "after purge: /run/cairn is gone" in_root test ! -e /run/cairn
check "after purge: the administrator's files in /etc/cairn are kept, unchanged" \
	in_root sha256sum -c --quiet - <admin.sums
check "after purge: nothing of the package's is left in /etc/cairn" \
	[ -z "$(in_root find /etc/cairn -name 'config.yml.example*' -o -name '*.dpkg-*')" ]
check "after purge: the user and group cairn are kept (uid $CUID)" \
	eval '[ "$(in_root id -u cairn)" = "$CUID" ] && in_root getent group cairn'

# Again from a purged state with the user left over and nothing of the
# administrator's: postinst takes the user as it is, and purge leaves
# no /etc/cairn at all.
in_root rm -rf /etc/cairn
check "reinstall over the kept user" in_root dpkg -i /root/debs/"${DEB##*/}"
check "the same uid, /etc/cairn root:cairn 0750 again" \
	eval '[ "$(in_root id -u cairn)" = "$CUID" ] &&
		[ "$(in_root stat -c "%U:%G %a" /etc/cairn)" = "root:cairn 750" ]'
# The same version again runs postinst as an upgrade does (configure
# with the old version): a dpkg-statoverride of /etc/cairn must stand.
in_root dpkg-statoverride --update --add root root 0700 /etc/cairn
check "dpkg -i again over the installed package" in_root dpkg -i /root/debs/"${DEB##*/}"
check "postinst leaves a dpkg-statoverride of /etc/cairn alone (root:root 700)" \
	[ "$(in_root stat -c '%U:%G %a' /etc/cairn)" = "root:root 700" ]
in_root dpkg-statoverride --remove /etc/cairn
check "dpkg -P cairn again" in_root dpkg -P cairn
check "purge with no file of the administrator's: no /etc/cairn at all" in_root test ! -e /etc/cairn
left >left.purge2
check "and no file of the package anywhere" [ ! -s left.purge2 ]

# --- the host after -------------------------------------------------------------
stop_pids "$HOLD"
host_state >host.after
check "the host is untouched (no cairn files, packages, user; nebula as it was)" \
	diff host.before host.after
check "the host has no /usr/bin/cairn and no package cairn" \
	eval '[ ! -e /usr/bin/cairn ] && ! dpkg-query -W -f "\${Status}" cairn 2>/dev/null | grep -q "ok installed"'

if [ "$E2E_FAIL" -ne 0 ]; then
	for f in check.log install1.log install2.log verify.log pki.log test-ok.log test-nobody.log \
		test-bad.log left.remove left.purge left.purge2 host.before host.after; do
		[ -s "$f" ] && { echo "# --- $f"; tail -15 "$f" | diag; }
	done
fi
echo "# $((SECONDS - T0)) s"
e2e_done
