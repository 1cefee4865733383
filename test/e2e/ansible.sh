#!/bin/bash
# e2e: the Ansible role (config-examples/ansible/roles/cairn) deploying a
# mesh onto five machines, each a container with its own systemd as PID 1:
# a CA machine with no network at all, a lighthouse and three nodes on a
# switched underlay.  ansible-playbook reaches them through a test-only
# connection plugin (test/e2e/ansible/connection_plugins/cairn_nsenter.py)
# that runs each command in the container's namespaces, so the role runs
# as on real machines: keys made on the hosts, certificates signed on the
# CA machine with an encrypted CA key whose passphrase is in a vault, the
# real units (Type=notify, User=cairn, their sandboxing) under the
# containers' systemd.  Checked: a first run works and a second changes
# nothing; the mesh carries pings; a firewall change reloads (same PID) and
# a listen.port change restarts; a bad value is refused before it reaches
# the host; a host removed from the inventory and revoked is blocklisted
# by every node, which closes its tunnels.
# e2e: no-san
# (Ansible is CPU-hungry: it runs alone, not beside tests that measure
# stalls.)
# e2e: alone
#
# A container: an overlayfs whose lower layers are the host's root (and,
# without a .deb, a "make install" of the tree), whose upper layer is in
# the scratch directory, booted with systemd-nspawn --boot in a network
# namespace of ours.  What differs from a real machine (and why):
#  - /dev/net/tun is a node of our own, mode 0666 as udev makes it on
#    Debian (the host's may be 0600), bound in;
#  - the containers boot to basic.target and timers.target is masked (the
#    host's own services and timers must not start in them);
#  - nspawn is told to keep CAP_NET_ADMIN (it drops it by default).
# The units are the shipped ones, unchanged, and their sandboxing works in
# the containers (ProtectSystem, ProtectHome, PrivateTmp,
# ProtectKernelTunables, ProtectProc=invisible, NoNewPrivileges,
# SystemCallFilter, RestrictAddressFamilies, ...) with one exception:
# DeviceAllow= is not enforced.  nspawn, without a systemd on the host to
# give it a delegated cgroup, hands the container the cgroup v1
# controllers read-only, so the container's systemd cannot put a unit in
# a devices cgroup; it leaves it in the root one and says nothing.
source "$(dirname "$0")/lib.sh"
cd "$E2E_DIR" || exit 1
T0=$SECONDS
ANS="$E2E_TOP/config-examples/ansible"
PLUGINS="$E2E_TOP/test/e2e/ansible/connection_plugins"
for p in ansible-playbook ansible-vault systemd-nspawn nsenter; do
	command -v "$p" >/dev/null || { echo "not ok 1 - $p is missing (scripts/deps.sh installs it)"; echo "1..1"; exit 1; }
done

# the shipped example: its inventory parses and the playbook with it
check "the example inventory parses" \
	ansible-inventory -i "$ANS/inventory.example.yml" --list
check "site.yml with the example inventory passes --syntax-check" \
	env ANSIBLE_ROLES_PATH="$ANS/roles" ansible-playbook \
	-i "$ANS/inventory.example.yml" --syntax-check "$ANS/site.yml"

declare -A NS PID1 NSPAWN UIP VIP
HOSTS="ca lh a b c"
ans_cleanup() {
	local h p i
	for h in $HOSTS; do
		p=${PID1[$h]:-}
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	for h in $HOSTS; do
		p=${NSPAWN[$h]:-}
		[ -n "$p" ] || continue
		for ((i = 0; i < 50; i++)); do alive "$p" || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	for h in $HOSTS; do
		mountpoint -q "$E2E_DIR/c/$h/root" && umount -l "$E2E_DIR/c/$h/root"
		rmdir "/run/systemd/nspawn/propagate/$E2E_PREFIX-$h" 2>/dev/null
	done
	mountpoint -q "$E2E_DIR/stage" && umount -l "$E2E_DIR/stage"
	e2e_cleanup
}
trap ans_cleanup EXIT

# --- the software: the package from DEB_DIR (make check builds it there
# first), else "make install" of the tree ---------------------------------
DEB=
[ -n "${DEB_DIR:-}" ] &&
	DEB=$(ls "$DEB_DIR"/cairn_*_amd64.deb 2>/dev/null | sort -V | tail -1)
LOWER=/
if [ -n "$DEB" ]; then
	INSTALL="the package $(basename "$DEB")"
else
	INSTALL="make install DESTDIR"
	# its own file system: overlayfs refuses a lower layer inside another
	mkdir -p stage && mount -t tmpfs -o mode=0755 e2e-stage stage
	make -s -C "$E2E_TOP" install DESTDIR="$E2E_DIR/stage" PREFIX=/usr \
	    UNITDIR=/usr/lib/systemd/system >install.log 2>&1 || { diag install.log; }
	# Debian 12 has a merged /usr: /lib is a link to usr/lib, which a
	# directory lib in the upper layer would hide.
	[ -d stage/lib ] && [ ! -L stage/lib ] && { echo "not ok 1 - make install wrote /lib"; echo 1..1; exit 1; }
	LOWER="$E2E_DIR/stage:/"
fi
echo "# installing with $INSTALL"

# --- the machines ---------------------------------------------------------
lab_switch
i=0
for h in $HOSTS; do
	NS[$h]=$(ns "$h")
	case $h in
	ca) ;; # air-gapped: no link at all
	lh) UIP[$h]=10.66.0.1 VIP[$h]=10.77.0.1 ;;
	*) i=$((i + 1)); UIP[$h]=10.66.0.1$i VIP[$h]=10.77.0.1$i ;;
	esac
	[ -n "${UIP[$h]:-}" ] && attach "${NS[$h]}" "${UIP[$h]}/24"
done

# boot HOST: the container of HOST, in the background
boot() {
	local h=$1 d="$E2E_DIR/c/$1" u
	mkdir -p "$d/upper" "$d/work" "$d/root"
	if ! mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$d/upper,workdir=$d/work" \
	    "$d/root" 2>"$d/mount.err"; then
		diag "$d/mount.err"; return 1
	fi
	mkdir -p "$d/root/etc/systemd/system"
	for u in timers.target getty.target console-getty.service; do
		ln -sf /dev/null "$d/root/etc/systemd/system/$u"
	done
	echo "$E2E_PREFIX-$h" >"$d/root/etc/hostname"
	systemd-id128 new >"$d/root/etc/machine-id"
	rm -rf "$d/root/etc/cairn" "$d/root/var/lib/cairn-ca"
	# no man-db index rebuild when the package is installed (seconds of
	# CPU per container, nothing to do with what is tested)
	rm -f "$d/root/var/lib/man-db/auto-update"
	mknod -m 0666 "$d/tun" c 10 200
	systemd-nspawn --quiet --boot --register=no --keep-unit --link-journal=no \
	    --directory="$d/root" --machine="$E2E_PREFIX-$h" \
	    --network-namespace-path="/run/netns/${NS[$h]}" \
	    --capability=CAP_NET_ADMIN --bind="$d/tun:/dev/net/tun" \
	    --console=read-only systemd.unit=basic.target \
	    </dev/null >"$d/console.log" 2>&1 &
	NSPAWN[$h]=$!
	E2E_PIDS+=("$!")
}
# in HOST CMD...: run CMD in HOST's container, as the plugin does
cin() {
	local h=$1; shift
	nsenter --target "${PID1[$h]}" --all -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
# state HOST: what its systemd says once its boot is over (60 s at most)
state() {
	timeout 60 bash -c "$(declare -f cin); $(declare -p PID1); cin $1 systemctl is-system-running --wait" 2>&1
}
booted=0
for h in $HOSTS; do boot "$h" || echo "# boot $h failed"; done
for h in $HOSTS; do
	for ((i = 0; i < 100; i++)); do
		PID1[$h]=$(ps --ppid "${NSPAWN[$h]}" -o pid=,comm= | awk '$2 == "systemd" {print $1}')
		[ -n "${PID1[$h]}" ] && break
		sleep 0.1
	done
	[ -n "${PID1[$h]}" ] || continue
	# systemctl talks to PID 1 over /run/systemd/private, which
	# systemd makes a moment after it starts: asked before, it fails
	# at once ("Failed to connect to bus")
	wait_for 30 cin "$h" test -S /run/systemd/private
	state "$h" >"c/$h/state"
	# Under cgroup v1, nspawn's systemd now and then fails to put an
	# early one-shot unit into its compat cgroup (status 219/CGROUP,
	# "Failed to attach ... to compat systemd cgroup"): such a unit,
	# and only such, is started again, and said
	if [ "$(cat "c/$h/state")" = degraded ]; then
		for u in $(cin "$h" systemctl --failed --no-legend --plain | awk '{print $1}'); do
			[ "$(cin "$h" systemctl show -p ExecMainStatus --value "$u")" = 219 ] || continue
			echo "# $h: $u failed at boot with 219/CGROUP; started again"
			cin "$h" timeout 30 systemctl start "$u"
		done
		state "$h" >"c/$h/state"
	fi
	[ "$(cat "c/$h/state")" = running ] && booted=$((booted + 1))
done
if [ "$booted" -eq 5 ]; then
	ok "5 containers booted systemd ($(cat c/a/state)) in $((SECONDS - T0)) s"
else
	not_ok "only $booted of 5 containers booted"
	for h in $HOSTS; do echo "# --- $h"; tail -5 "c/$h/console.log" | diag; cat "c/$h/state" | diag; done
	e2e_done; exit 1
fi

# The CA, made by hand on the CA machine as an operator would: an
# encrypted key, whose passphrase the playbook gets from a vault.
PASS="e2e-$RANDOM-$RANDOM-passphrase"
if [ -n "$DEB" ]; then
	cp "$DEB" c/ca/root/root/
	check "package installed by hand on the CA machine" cin ca dpkg -i "/root/$(basename "$DEB")"
fi
cin ca mkdir -p -m 0700 /var/lib/cairn-ca
check "CA made on the CA machine, key encrypted" cin ca env NEBULA_CA_PASSPHRASE="$PASS" \
    cairn-cert ca -name "e2e ansible CA" -duration 17520h -encrypt \
    -out-crt /var/lib/cairn-ca/ca.crt -out-key /var/lib/cairn-ca/ca.key
printf 'cairn_ca_passphrase: "%s"\n' "$PASS" >vault.yml
echo "vault-$RANDOM$RANDOM" >vault.pw
ansible-vault encrypt --vault-password-file vault.pw vault.yml >/dev/null 2>&1

# inventory FILE [EXCLUDED_HOST]: the test's inventory, with the
# per-host settings in $B_INBOUND (b's inbound rules), $C_PORT (c's
# listen.port), $C_EXTRA (more of c's variables), $REVOKED.
B_INBOUND='[{port: any, proto: icmp, host: any}]'
C_PORT=4242 C_EXTRA='' REVOKED='[]'
inventory() {
	local out=$1 skip=${2:-} h g
	{
		echo "all:"
		echo "  vars:"
		echo "    ansible_connection: cairn_nsenter"
		echo "    ansible_python_interpreter: /usr/bin/python3"
		[ -n "$DEB" ] && echo "    cairn_deb: $DEB"
		echo "    cairn_lighthouse_interval: 2"
		echo "    cairn_revoked: $REVOKED"
		echo "    cairn_config_extra: {handshakes: {try_interval: 100ms}}"
		echo "  children:"
		echo "    cairn_ca:"
		echo "      hosts:"
		echo "        ca: {ansible_nsenter_pid: ${PID1[ca]}}"
		echo "    cairn_nodes:"
		echo "      children:"
		echo "        cairn_lighthouses:"
		echo "          hosts:"
		echo "            lh:"
		echo "              ansible_nsenter_pid: ${PID1[lh]}"
		echo "              cairn_ip: ${VIP[lh]}/24"
		echo "              cairn_underlay_ip: ${UIP[lh]}"
		echo "              cairn_groups: [lighthouse]"
		echo "      hosts:"
		for h in a b c; do
			[ "$h" = "$skip" ] && continue
			case $h in a) g='[web]' ;; b) g='[db]' ;; c) g='[ops, web]' ;; esac
			echo "        $h:"
			echo "          ansible_nsenter_pid: ${PID1[$h]}"
			echo "          cairn_ip: ${VIP[$h]}/24"
			echo "          cairn_groups: $g"
			case $h in
			b) echo "          cairn_firewall_inbound: $B_INBOUND" ;;
			c) echo "          cairn_listen_port: $C_PORT"
			   [ -n "$C_EXTRA" ] && echo "          $C_EXTRA" ;;
			esac
		done
	} >"$out"
}

# play NAME [ARGS...]: run site.yml; its output in NAME.log, the recap
# line of each host in NAME.recap
play() {
	local n=$1; shift
	ANSIBLE_CONNECTION_PLUGINS="$PLUGINS" ANSIBLE_PIPELINING=1 ANSIBLE_FORKS=6 \
	    ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 \
	    ANSIBLE_LOCAL_TEMP="$E2E_DIR/ansible-tmp" ANSIBLE_HOME="$E2E_DIR/ansible-home" \
	    timeout 240 ansible-playbook -i inventory.yml -e @vault.yml \
	    --vault-password-file vault.pw "$@" "$ANS/site.yml" >"$n.log" 2>&1
	local rc=$?
	sed -n '/^PLAY RECAP/,$p' "$n.log" | grep -E '^[a-z]+ +:' >"$n.recap"
	return $rc
}
# recap NAME HOST FIELD: a number of HOST's recap line
recap() { sed -n "s/^$2 .* $3=\([0-9]*\).*/\1/p" "$1.recap"; }
# mainpid HOST: the daemon's PID (in the container's PID namespace)
mainpid() { cin "$1" systemctl show -p MainPID --value cairn.service; }
# ping_ok FROM TO: overlay ping
ping_ok() { ip netns exec "${NS[$1]}" ping -c 2 -i 0.2 -W 2 "${VIP[$2]}" >/dev/null 2>&1; }
# ping_eventually FROM TO [SECONDS]: until a ping gets through (10 s)
ping_eventually() {
	local end=$((SECONDS + ${3:-10}))
	until ping_ok "$1" "$2"; do [ "$SECONDS" -lt "$end" ] || return 1; done
}
dump_on_fail() {
	local n=$1
	[ "$E2E_FAIL" -eq 0 ] && return
	echo "# --- $n.log (tail)"; grep -E 'fatal|FAILED|ERROR|msg' "$n.log" | tail -15 | cut -c1-300 | diag
}

# --- 1: the first run ------------------------------------------------------
inventory inventory.yml
PT0=$SECONDS
play run1
rc=$?
[ "$rc" -eq 0 ] && ok "first run succeeds ($((SECONDS - PT0)) s, $INSTALL)" ||
	{ not_ok "first run failed (exit $rc)"; tail -40 run1.log | cut -c1-300 | diag; e2e_done; exit 1; }
for h in lh a b c; do
	st=$(cin "$h" stat -c '%a %U:%G' /etc/cairn/host.key 2>&1)
	[ "$st" = "640 root:cairn" ] && ok "$h: private key made on the host, 0640 root:cairn" ||
		not_ok "$h: private key: $st"
done
left=$(cin ca sh -c 'ls /var/lib/cairn-ca/requests; grep -l "PRIVATE KEY" -r /var/lib/cairn-ca | grep -v "/ca.key$"' | grep -vE '\.(pub|crt)$' | tr '\n' ' ')
[ -z "$left" ] && ok "CA machine got public keys only, no private key but its own" || not_ok "CA machine holds: $left"
n=$(cin ca cairn-cert ledger -path /var/lib/cairn-ca/issued.ledger -json | grep -c '"issued"')
[ "$n" = 4 ] && ok "4 certificates recorded in the CA's ledger" || not_ok "ledger has $n records, not 4"
grep -q "$PASS" run1.log && not_ok "the CA passphrase is in the playbook's output" ||
	ok "the CA passphrase is not in the playbook's output"
# Ansible's modules log their arguments to the journal, unless no_log.
n=$(cin ca journalctl -b -o cat --no-pager | grep -c "Invoked with")
cin ca journalctl -b -o cat --no-pager | grep -q "$PASS" &&
	not_ok "the CA passphrase is in the CA machine's journal" ||
	ok "the CA passphrase is not in the CA machine's journal ($n module calls logged)"
for h in lh a b c; do
	st=$(for p in ActiveState SubState User UnitFileState; do cin "$h" systemctl show -p $p --value cairn.service; done | tr '\n' ' ')
	[ "$st" = "active running cairn enabled " ] && ok "$h: cairn.service active, running as cairn, enabled" ||
		not_ok "$h: cairn.service: $st"
done
p=$(mainpid a)
caps=$(cin a grep -E '^Cap(Eff|Amb)' "/proc/$p/status" | awk '{print $2}' | tr '\n' ' ')
[ "$caps" = "0000000000001000 0000000000001000 " ] && ok "a: the daemon has CAP_NET_ADMIN alone (effective, ambient)" ||
	not_ok "a: daemon capabilities: $caps"
dump_on_fail run1

# --- 2: nothing to do --------------------------------------------------------
PT0=$SECONDS
play run2
rc=$?
bad=""
for h in lh a b c; do
	[ "$(recap run2 "$h" changed)" = 0 ] && [ "$(recap run2 "$h" failed)" = 0 ] || bad="$bad $h"
done
[ "$(recap run2 ca changed)" = "" ] || bad="$bad ca(in the play?)"
[ "$rc" -eq 0 ] && [ -z "$bad" ] && [ "$(wc -l <run2.recap)" -eq 4 ] &&
	ok "second run: changed=0 on every host ($((SECONDS - PT0)) s)" ||
	{ not_ok "second run: rc $rc, changed on:$bad"; diag run2.recap; grep -B2 '^changed:' run2.log | head -30 | diag; }

# --- 3: the mesh -------------------------------------------------------------
check "a pings b through the lighthouse's discovery" ping_eventually a b
check "b pings c" ping_eventually b c
check "c pings a" ping_eventually c a
check "a pings the lighthouse" ping_ok a lh
check_not "a's configuration has no static_host_map entry for b" grep -q "${VIP[b]}" "c/a/upper/etc/cairn/config.yml"

# --- 4: a firewall change is a reload, a listen.port change a restart ------------
# b's inbound rules change (a SIGHUP key), c's listen.port (read at start
# only), and c's certificate is renewed (it has less than
# cairn_cert_renew_days left).
pa=$(mainpid a) pb=$(mainpid b) pc=$(mainpid c) pl=$(mainpid lh)
fp_c=$(cin c cairn-cert print -json -path /etc/cairn/host.crt)
B_INBOUND='[{port: any, proto: icmp, groups: [ops]}]'
C_PORT=4343 C_EXTRA='cairn_cert_renew_days: 400'
inventory inventory.yml
PT0=$SECONDS
play run3
rc=$?
[ "$rc" -eq 0 ] && [ "$(recap run3 b changed)" -gt 0 ] && [ "$(recap run3 c changed)" -gt 0 ] &&
	[ "$(recap run3 a changed)" = 0 ] && [ "$(recap run3 lh changed)" = 0 ] &&
	ok "b's firewall, c's port and certificate changed: only b and c changed ($((SECONDS - PT0)) s)" ||
	{ not_ok "change run: rc $rc"; diag run3.recap; }
[ "$(mainpid b)" = "$pb" ] && cin b journalctl -u cairn.service -o cat | grep -q '^Reload' &&
	ok "b reloaded (SIGHUP, same PID $pb), not restarted" ||
	not_ok "b: PID $pb -> $(mainpid b), or no reload in its journal"
pc2=$(mainpid c)
[ -n "$pc2" ] && [ "$pc2" != 0 ] && [ "$pc2" != "$pc" ] &&
	ok "listen.port change restarted c (PID $pc -> $pc2)" || not_ok "c: PID $pc -> $pc2"
[ "$(mainpid a)" = "$pa" ] && [ "$(mainpid lh)" = "$pl" ] && ok "a and the lighthouse untouched (same PIDs)" ||
	not_ok "a or the lighthouse restarted"
check "c listens on 4343" bash -c "ip netns exec ${NS[c]} ss -Hlun 'sport = :4343' | grep -q 4343"
fp_c2=$(cin c cairn-cert print -json -path /etc/cairn/host.crt)
[ -n "$fp_c2" ] && [ "$fp_c2" != "$fp_c" ] && ok "c's certificate renewed (less than cairn_cert_renew_days left)" ||
	not_ok "c's certificate was not renewed"
n=$(cin ca cairn-cert ledger -path /var/lib/cairn-ca/issued.ledger -json | grep -c '"issued"')
[ "$n" = 5 ] && ok "the renewal is in the ledger (5 records)" || not_ok "ledger has $n records, not 5"
check_not "a can no longer ping b (icmp now from group ops only)" ping_ok a b
check "c (group ops) still pings b" ping_eventually c b 15
check "c pings a after its restart" ping_eventually c a 15
dump_on_fail run3
C_EXTRA=''

# --- 5: a bad value is refused before it reaches the host -----------------------
pc=$(mainpid c)
C_PORT=70000
inventory inventory.yml
PT0=$SECONDS
play run4 --limit c
rc=$?
[ "$rc" -ne 0 ] && grep -q 'listen.port: must be between 0 and 65535' run4.log &&
	ok "listen.port 70000 refused by cairn -test (exit $rc, $((SECONDS - PT0)) s)" ||
	{ not_ok "a bad listen.port: exit $rc"; grep -E 'fatal|msg' run4.log | tail -5 | cut -c1-400 | diag; }
check "the live configuration kept its port" grep -q 'port: 4343' c/c/upper/etc/cairn/config.yml
[ "$(mainpid c)" = "$pc" ] && ok "c still runs the same daemon" || not_ok "c restarted on a refused change"
C_PORT=4343

# --- 6: a removed and revoked host ---------------------------------------------------
fp_a=$(cin a cairn-cert print -json -path /etc/cairn/host.crt | python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprint"])')
check "before the revocation: a pings c" ping_eventually a c
REVOKED='[a]'
inventory inventory.yml a
pb=$(mainpid b) pc=$(mainpid c)
PT0=$SECONDS
play run5
rc=$?
[ "$rc" -eq 0 ] && ok "run without a, a revoked ($((SECONDS - PT0)) s)" || { not_ok "revocation run: rc $rc"; diag run5.recap; }
for h in lh b c; do
	check "$h: a's fingerprint in pki.blocklist" grep -q "$fp_a" "c/$h/upper/etc/cairn/config.yml"
done
check "the ledger records a's revocation" bash -c "$(declare -f cin); $(declare -p PID1); cin ca cairn-cert ledger -path /var/lib/cairn-ca/issued.ledger -blocklist | grep -q $fp_a"
[ "$(mainpid b)" = "$pb" ] && [ "$(mainpid c)" = "$pc" ] && ok "b and c reloaded, not restarted" ||
	not_ok "b or c restarted for a blocklist change"
check_not "c can no longer reach a" ping_ok c a
check_not "a can no longer reach c" ping_ok a c
check "c still pings b" ping_eventually c b
check "b still pings the lighthouse" ping_eventually b lh
dump_on_fail run5

# --- 7: and again, nothing to do ------------------------------------------------------
PT0=$SECONDS
play run6
rc=$?
bad=""
for h in lh b c; do [ "$(recap run6 "$h" changed)" = 0 ] || bad="$bad $h"; done
[ "$rc" -eq 0 ] && [ -z "$bad" ] && ok "after the revocation a run changes nothing ($((SECONDS - PT0)) s)" ||
	{ not_ok "run after revocation: rc $rc, changed on:$bad"; diag run6.recap; }

echo "# total $((SECONDS - T0)) s"
if [ "$E2E_FAIL" -ne 0 ]; then
	for h in lh a b c; do echo "# --- $h journal"; cin "$h" journalctl -u cairn.service -o cat --no-pager 2>/dev/null | tail -8 | cut -c1-240 | diag; done
fi
e2e_done
