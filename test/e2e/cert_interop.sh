#!/bin/bash
# End-to-end interoperability of bin/cairn-cert with the real nebula-cert
# 1.6.1 (/usr/bin/nebula-cert, Debian package "nebula"): certificates made
# by one tool must be accepted by the other, both tools must print the same
# thing and refuse the same bad input with the same "Error: ..." line, and
# cert-tool's own additions (encrypted CA keys, the ledger, -out-qr) must
# behave as documented.  Behaviour reference: shared/spec/certificate.md
# sections 7 and 9; fixtures: test/fixtures/nebula-1.6.1/.
#
# Output is TAP ("ok N - ...", "not ok N - ...", "# ..." diagnostics, then
# "1..N"); the exit status is non-zero if any check failed.  Runs from any
# directory, writes only into a mktemp -d scratch directory (removed on
# exit), starts no background process and needs no network.
#
# verdict's status argument is an unquoted $(...; echo $?) on purpose.
# shellcheck disable=SC2046
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
CT=$ROOT/bin/cairn-cert
NC=${NEBULA_CERT:-/usr/bin/nebula-cert}
FIX=$ROOT/test/fixtures/nebula-1.6.1

export TZ=UTC LC_ALL=C
unset NEBULA_CA_PASSPHRASE
umask 022

W=$(mktemp -d "${TMPDIR:-/tmp}/cert_interop.XXXXXX") || exit 1
trap 'cd /; chmod -R u+rwx "$W" 2>/dev/null; rm -rf "$W"' EXIT

N=0
FAILED=0

# --- TAP helpers -------------------------------------------------------

pass() { N=$((N + 1)); echo "ok $N - $1"; }

# fail DESC [DIAGNOSTIC...]: every diagnostic (may be multi-line) as "# ".
fail() {
	local l
	N=$((N + 1))
	FAILED=$((FAILED + 1))
	echo "not ok $N - $1"
	shift
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/#   /'
	done
}

skip() { N=$((N + 1)); echo "ok $N - # SKIP $1"; }

note() { printf '# note: %s\n' "$*"; }

# verdict DESC CONDITION-STATUS [DIAGNOSTIC...]: pass if status is 0.
verdict() {
	local d=$1 s=$2
	shift 2
	if [ "$s" -eq 0 ]; then pass "$d"; else fail "$d" "$@"; fi
}

# The first N lines of a file, shown in diagnostics.
show() { head -n "${2:-3}" "$1" 2>/dev/null | cut -c1-300; }

# run CMD...: run with no stdin; stdout, stderr and status in $W/last.*,
# $RC.  Never reads the terminal.
run() {
	"$@" </dev/null >"$W/last.out" 2>"$W/last.err"
	RC=$?
}

# The first "Error:" line of a file.
errline() { grep -m1 '^Error:' "$1" 2>/dev/null; }

# Digest of the current directory's file names and contents, to prove nothing was
# written or changed.
listing() { (ls -A && cat -- * 2>/dev/null) | sha256sum; }

# check DESC CMD...: CMD exits 0.
check() {
	local d=$1
	shift
	run "$@"
	verdict "$d" $([ "$RC" -eq 0 ]; echo $?) "command: $*" "exit $RC" \
	    "stderr: $(show "$W/last.err" 4)"
}

# check_fail_msg DESC SUBSTRING CMD...: CMD exits exactly 1 and its stderr
# contains SUBSTRING.
check_fail_msg() {
	local d=$1 want=$2
	shift 2
	run "$@"
	verdict "$d" $([ "$RC" -eq 1 ] && grep -qF -- "$want" "$W/last.err"
	    echo $?) "command: $*" "expected: exit 1, stderr containing: $want" \
	    "actual: exit $RC, stderr: $(show "$W/last.err" 4)"
}

# check_fail_line DESC LINE CMD...: CMD exits exactly 1 and its first
# "Error:" line is exactly LINE.
check_fail_line() {
	local d=$1 want=$2
	shift 2
	run "$@"
	verdict "$d" $([ "$RC" -eq 1 ] && [ "$(errline "$W/last.err")" = "$want" ]
	    echo $?) "command: $*" "expected: exit 1, $want" \
	    "actual: exit $RC, stderr: $(show "$W/last.err" 4)"
}

# same_fail DESC EXPECTED ARGS...: "nebula-cert ARGS" then "cert-tool ARGS"
# in the current directory; both exit 1 with the same first stderr line and
# the same "Error:" line, which is EXPECTED unless EXPECTED is empty.
# (Usage bodies differ by design, so only those lines are compared.)
same_fail() {
	local d=$1 want=$2 nrc crc n1 c1 ne ce ok=1
	shift 2
	"$NC" "$@" </dev/null >"$W/n.out" 2>"$W/n.err"
	nrc=$?
	"$CT" "$@" </dev/null >"$W/c.out" 2>"$W/c.err"
	crc=$?
	n1=$(head -n1 "$W/n.err") c1=$(head -n1 "$W/c.err")
	ne=$(errline "$W/n.err") ce=$(errline "$W/c.err")
	if [ "$nrc" -eq 1 ] && [ "$crc" -eq 1 ] && [ -n "$ce" ] &&
	    [ "$n1" = "$c1" ] && [ "$ne" = "$ce" ] &&
	    { [ -z "$want" ] || [ "$ce" = "$want" ]; }; then
		ok=0
	fi
	verdict "$d" $ok "arguments: $*" "expected: exit 1, ${want:-same Error line}" \
	    "nebula-cert: exit $nrc, stderr: $(show "$W/n.err" 2)" \
	    "cert-tool:   exit $crc, stderr: $(show "$W/c.err" 2)"
}

# same_stderr DESC ARGS...: both tools exit 1 with byte-identical stderr
# (for errors that print no usage: Go's flag package messages).
same_stderr() {
	local d=$1 nrc crc
	shift
	"$NC" "$@" </dev/null >/dev/null 2>"$W/n.err"
	nrc=$?
	"$CT" "$@" </dev/null >/dev/null 2>"$W/c.err"
	crc=$?
	verdict "$d" $([ "$nrc" -eq 1 ] && [ "$crc" -eq 1 ] &&
	    cmp -s "$W/n.err" "$W/c.err"; echo $?) "arguments: $*" \
	    "nebula-cert: exit $nrc, stderr: $(show "$W/n.err" 3)" \
	    "cert-tool:   exit $crc, stderr: $(show "$W/c.err" 3)"
}

# same_out DESC ARGS...: both tools exit 0 with byte-identical stdout.
same_out() {
	local d=$1 nrc crc
	shift
	"$NC" "$@" </dev/null >"$W/n.out" 2>"$W/n.err"
	nrc=$?
	"$CT" "$@" </dev/null >"$W/c.out" 2>"$W/c.err"
	crc=$?
	verdict "$d" $([ "$nrc" -eq 0 ] && [ "$crc" -eq 0 ] && [ -s "$W/c.out" ] &&
	    cmp -s "$W/n.out" "$W/c.out"; echo $?) "arguments: $*" \
	    "nebula-cert: exit $nrc, stderr: $(show "$W/n.err" 2)" \
	    "cert-tool:   exit $crc, stderr: $(show "$W/c.err" 2)" \
	    "diff (nebula-cert, cert-tool):" \
	    "$(diff "$W/n.out" "$W/c.out" 2>&1 | head -n 8)"
}

# out_equals DESC FILE CMD...: CMD exits 0 and its stdout equals FILE.
out_equals() {
	local d=$1 want=$2
	shift 2
	run "$@"
	verdict "$d" $([ "$RC" -eq 0 ] && cmp -s "$want" "$W/last.out"
	    echo $?) "command: $*" "exit $RC, stderr: $(show "$W/last.err" 2)" \
	    "diff (expected, actual):" \
	    "$(diff "$want" "$W/last.out" 2>&1 | head -n 8)"
}

# check_eq DESC EXPECTED ACTUAL: equal, and not both empty (an empty
# expectation means something upstream already went wrong).
check_eq() {
	verdict "$1" $([ -n "$2" ] && [ "$2" = "$3" ]; echo $?) \
	    "expected: ${2:-(empty: could not be computed)}" "actual:   $3"
}

# check_mode DESC FILE...: every FILE exists with mode 0600.
check_mode() {
	local d=$1 f bad=""
	shift
	for f in "$@"; do
		[ "$(stat -c %a "$f" 2>/dev/null)" = 600 ] ||
		    bad="$bad $f=$(stat -c %a "$f" 2>&1 | head -n1)"
	done
	verdict "$d" $([ -z "$bad" ]; echo $?) "not mode 0600:$bad"
}

# check_absent DESC FILE...: none of FILE exists.
check_absent() {
	local d=$1 f bad=""
	shift
	for f in "$@"; do
		[ -e "$f" ] && bad="$bad $f"
	done
	verdict "$d" $([ -z "$bad" ]; echo $?) "unexpectedly present:$bad"
}

# --- certificate helpers ------------------------------------------------

# The base64 body of the first PEM block of a file, on one line.
pem_b64() {
	awk 'f && /^-----END /{exit} f{printf "%s", $0} /^-----BEGIN /{f=1}' "$1"
}
pem_hex() { pem_b64 "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; }

# PEM "NEBULA CERTIFICATE" from DER on stdin, framed as Go writes it.
der_to_pem() {
	echo "-----BEGIN NEBULA CERTIFICATE-----"
	base64 -w 64
	echo "-----END NEBULA CERTIFICATE-----"
}

# json_str FILE KEY: the string value of "KEY" in a one-line JSON object.
json_str() { sed -n "1s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p" "$1"; }

# print -json of a certificate into FILE (by cert-tool).
pj() { "$CT" print -json -path "$1" </dev/null >"$2" 2>/dev/null; }

trim() { printf '%s' "$1" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }

epoch() { date -u -d "$1" +%s 2>/dev/null; }

# The X25519 public key (hex) of a nebula X25519 private key file.
x25519_pub_of() {
	{ printf '\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x6e\x04\x22\x04\x20'
	  pem_b64 "$1" | base64 -d; } |
	    openssl pkey -inform DER -pubout -outform DER 2>/dev/null |
	    tail -c 32 | od -An -v -tx1 | tr -d ' \n'
}

# flip IN OUT LINE COL: copy IN with the base64 character at LINE:COL
# replaced by another one.
flip() {
	awk -v L="$3" -v C="$4" 'NR == L {
		c = substr($0, C, 1); r = (c == "A") ? "B" : "A"
		$0 = substr($0, 1, C - 1) r substr($0, C + 1) } { print }' \
	    "$1" >"$2"
}

# flip_byte IN OUT OFFSET: flip the first base64 character that encodes
# only bits of DER byte OFFSET (and possibly the byte after it).
flip_byte() {
	local i=$(((8 * $3 + 5) / 6))
	flip "$1" "$2" $((2 + i / 64)) $((i % 64 + 1))
}

# --- prerequisites -------------------------------------------------------

if [ ! -x "$CT" ]; then
	echo "Bail out! $CT is missing: run make first"
	exit 1
fi
if [ ! -x "$NC" ] || ! "$NC" -version 2>/dev/null | grep -q '^Version: 1\.6\.1$'; then
	echo "Bail out! nebula-cert 1.6.1 not found at $NC (Debian package nebula)"
	exit 1
fi

# ======================================================================
# 1a. nebula-cert CA, cert-tool sign, nebula-cert verify
# ======================================================================
mkdir "$W/1a" && cd "$W/1a" || exit 1
"$NC" ca -name neb-ca -duration 100h </dev/null >/dev/null 2>&1 ||
    fail "1a: setup: nebula-cert ca"
check "1a: cert-tool sign (generated key) with a nebula-cert CA" \
    "$CT" sign -name h1 -ip 10.1.0.1/16 -groups g1,g2 -subnets 10.9.0.0/24
check "1a: nebula-cert verify accepts the cert-tool-signed cert" \
    "$NC" verify -ca ca.crt -crt h1.crt
pj h1.crt h1.json
check_eq "1a: the generated h1.key is the private half of h1.crt's public key" \
    "$(json_str h1.json publicKey)" "$(x25519_pub_of h1.key)"
"$NC" keygen -out-key kg.key -out-pub h2.pub </dev/null >/dev/null 2>&1 ||
    fail "1a: setup: nebula-cert keygen"
check "1a: cert-tool sign -in-pub (key from nebula-cert keygen)" \
    "$CT" sign -name h2 -ip 10.1.0.2/16 -in-pub h2.pub
check "1a: nebula-cert verify accepts the -in-pub cert" \
    "$NC" verify -ca ca.crt -crt h2.crt
pj h2.crt h2.json
check_eq "1a: the -in-pub cert carries the keygen public key" \
    "$(pem_hex h2.pub)" "$(json_str h2.json publicKey)"
check_absent "1a: sign -in-pub writes no private key (no h2.key)" h2.key
check_eq "1a: issuer of the signed cert is the nebula-cert CA's fingerprint" \
    "$("$NC" print -json -path ca.crt | sed -n 's/.*"fingerprint":"\([0-9a-f]*\)".*/\1/p')" \
    "$(json_str h1.json issuer)"

# ======================================================================
# 1b. cert-tool CA + certs, nebula-cert verify and print
# ======================================================================
mkdir "$W/1b" && cd "$W/1b" || exit 1
check "1b: cert-tool ca with groups/ips/subnets constraints" \
    "$CT" ca -name ct-ca -duration 200h -groups g1,g2,g3 -ips 10.2.0.0/16 \
    -subnets 10.3.0.0/16,10.4.0.0/16
check "1b: cert-tool sign a host cert with subnets and groups" \
    "$CT" sign -name host1 -ip 10.2.3.4/24 -groups g1,g3 \
    -subnets 10.3.1.0/24,10.4.0.0/20
check "1b: cert-tool ca (second CA, no constraints)" \
    "$CT" ca -name ct-ca2 -out-crt ca2.crt -out-key ca2.key
check "1b: cert-tool sign with the second CA" \
    "$CT" sign -ca-crt ca2.crt -ca-key ca2.key -name host2 -ip 192.168.7.9/24
cat ca.crt ca2.crt >bundle.crt
check "1b: nebula-cert verify accepts the cert-tool host cert" \
    "$NC" verify -ca ca.crt -crt host1.crt
check "1b: nebula-cert verify accepts it against a bundle of two cert-tool CAs" \
    "$NC" verify -ca bundle.crt -crt host1.crt
check "1b: nebula-cert verify accepts the second CA's cert via the bundle" \
    "$NC" verify -ca bundle.crt -crt host2.crt
for f in ca.crt host1.crt bundle.crt; do
	same_out "1b: print -json $f: nebula-cert and cert-tool byte-identical" \
	    print -json -path "$f"
	same_out "1b: print $f (text): nebula-cert and cert-tool byte-identical" \
	    print -path "$f"
done
if [ -f /usr/share/zoneinfo/Asia/Kolkata ]; then
	TZ=Asia/Kolkata same_out "1b: print -json in TZ=Asia/Kolkata identical" \
	    print -json -path host1.crt
	TZ=Asia/Kolkata same_out "1b: print (text) in TZ=Asia/Kolkata identical" \
	    print -path host1.crt
else
	skip "1b: no zoneinfo for Asia/Kolkata"
	skip "1b: no zoneinfo for Asia/Kolkata"
fi
check "1b: cert-tool verify accepts its own host cert" \
    "$CT" verify -ca bundle.crt -crt host1.crt
check "1b: cert-tool sign -groups ' a , ,b' (trimmed, empties dropped)" \
    "$CT" sign -ca-crt ca2.crt -ca-key ca2.key -name grp -ip 10.7.0.1/8 \
    -groups ' a , ,b'
pj grp.crt grp.json
check_eq "1b: groups stored as [\"a\",\"b\"]" '"groups":["a","b"]' \
    "$(grep -o '"groups":\[[^]]*\]' grp.json)"
same_out "1b: print -json of the -groups cert identical" print -json -path grp.crt

# ======================================================================
# 1c. Replay commands.log: every verify (and every failing command) of the
#     fixtures, same exit status and same first stderr line.
# ======================================================================
if [ "$(date +%s)" -lt 1795323946 ]; then
	note "the clock is before 2026-11-22T05:05:46Z, when the fixtures" \
	    "start being valid: their verify verdicts will not match commands.log"
fi
mkdir "$W/fx" && cp -p "$FIX"/*.crt "$FIX"/*.key "$FIX"/*.pub "$W/fx/" &&
    chmod 600 "$W/fx"/* && cd "$W/fx" || exit 1

# replay CMDLINE EXIT STDERR1
replay() {
	local -a a
	local before desc want_line got_line ok=1
	read -ra a <<<"$1"
	case ${a[0]} in
	verify) ;;
	*) [ "$2" -ne 0 ] || return 0 ;; # successful ca/sign/keygen create files
	esac
	desc="1c: commands.log: $1 -> exit $2${3:+, $3}"
	before=$(listing)
	run "$CT" "${a[@]}"
	want_line=$3
	got_line=$(head -n1 "$W/last.err")
	if [ "$RC" -eq "$2" ] && [ "$got_line" = "$want_line" ] &&
	    [ "$(listing)" = "$before" ]; then
		ok=0
	fi
	# shellcheck disable=SC2012 # plain names, for a diagnostic only
	verdict "$desc" $ok "expected: exit $2, stderr line 1: $want_line" \
	    "actual:   exit $RC, stderr line 1: $got_line" \
	    "files created: $(ls -A | sort | comm -13 <(ls -A "$FIX" | sort) - | tr '\n' ' ')"
}
cmd="" want_err="" nreplayed=0
while IFS= read -r line; do
	case $line in
	'$ /usr/bin/nebula-cert '*)
		cmd=${line#'$ /usr/bin/nebula-cert '} want_err="" ;;
	'[stderr] '*)
		[ -n "$want_err" ] || want_err=${line#'[stderr] '} ;;
	'[exit] '*)
		if [ -n "$cmd" ]; then
			replay "$cmd" "${line#'[exit] '}" "$want_err"
			nreplayed=$((nreplayed + 1))
		fi
		cmd="" ;;
	esac
done <"$FIX/commands.log"
verdict "1c: commands.log had commands to replay" $([ "$nreplayed" -ge 40 ]
    echo $?) "only $nreplayed commands found in $FIX/commands.log"

# The README's table: each host cert was issued by the CA whose fingerprint
# is its issuer; it verifies against that CA and the bundle, not the other.
readme_fp() { awk -F'|' -v f="$1" '$2 ~ "^ *"f" *$" {print $8}' "$FIX/README.md" | tr -d ' '; }
for c in lighthouse host-a host-b other-host; do
	pj "$c.crt" "$W/c.json"
	case $(json_str "$W/c.json" issuer) in
	"$(readme_fp ca.crt)") own=ca.crt other=ca2.crt ;;
	"$(readme_fp ca2.crt)") own=ca2.crt other=ca.crt ;;
	*) own=none other=none ;;
	esac
	check "1c: README table: cert-tool verify $c.crt against its issuer $own" \
	    "$CT" verify -ca "$own" -crt "$c.crt"
	check "1c: README table: cert-tool verify $c.crt against ca-bundle.crt" \
	    "$CT" verify -ca ca-bundle.crt -crt "$c.crt"
	same_fail "1c: README table: $c.crt against $other refused by both" \
	    "Error: could not find ca for the certificate" \
	    verify -ca "$other" -crt "$c.crt"
done

# ======================================================================
# 1d. Bad certificates and bad signing requests, refused alike by both
# ======================================================================
mkdir "$W/1d" && cd "$W/1d" || exit 1
"$NC" ca -name nca -out-crt nca.crt -out-key nca.key </dev/null >/dev/null 2>&1 ||
    fail "1d: setup: nebula-cert ca"
"$CT" ca -name cca -out-crt cca.crt -out-key cca.key </dev/null >/dev/null 2>&1 ||
    fail "1d: setup: cert-tool ca"
check "1d: cert-tool sign -duration 1s (to expire)" \
    "$CT" sign -ca-crt nca.crt -ca-key nca.key -name exp1 -ip 10.0.0.1/8 -duration 1s
check "1d: nebula-cert sign -duration 1s (to expire)" \
    "$NC" sign -ca-crt nca.crt -ca-key nca.key -name exp2 -ip 10.0.0.2/8 -duration 1s
check "1d: cert-tool ca -duration 1s (to expire)" \
    "$CT" ca -name cexp -duration 1s -out-crt cexp.crt -out-key cexp.key
check "1d: cert-tool sign a good cert with the nebula-cert CA" \
    "$CT" sign -ca-crt nca.crt -ca-key nca.key -name good -ip 10.0.0.3/8
sleep 2
same_fail "1d: expired cert-tool cert refused by both verify" \
    "Error: certificate is expired" verify -ca nca.crt -crt exp1.crt
same_fail "1d: expired nebula-cert cert refused by both verify" \
    "Error: certificate is expired" verify -ca nca.crt -crt exp2.crt
same_fail "1d: expired cert-tool CA refused by both verify" \
    "Error: error while adding ca cert to pool: cexp: certificate is expired" \
    verify -ca cexp.crt -crt good.crt
same_fail "1d: both refuse to sign with the expired CA" \
    "Error: ca certificate is expired" \
    sign -ca-crt cexp.crt -ca-key cexp.key -name late -ip 10.0.0.9/8
check_absent "1d: nothing written by the refused signs" late.crt late.key
same_fail "1d: wrong CA refused by both verify" \
    "Error: could not find ca for the certificate" verify -ca cca.crt -crt good.crt
same_fail "1d: a host cert given as -ca refused by both" \
    "Error: error while adding ca cert to pool: good: certificate is not a CA" \
    verify -ca good.crt -crt good.crt
same_fail "1d: a CA given as -crt refused by both" \
    "Error: no issuer in certificate" verify -ca nca.crt -crt nca.crt

# Constraints: a constrained CA made by nebula-cert.
"$NC" ca -name ncon -groups ops,dev -ips 10.50.0.0/16 -subnets 10.60.0.0/16 \
    -duration 1000h -out-crt con.crt -out-key con.key </dev/null >/dev/null 2>&1 ||
    fail "1d: setup: nebula-cert ca with constraints"
V="Error: refusing to sign, root certificate constraints violated:"
same_fail "1d: group outside the CA's groups refused alike" \
    "$V certificate contained a group not present on the signing ca: web" \
    sign -ca-crt con.crt -ca-key con.key -name bg -ip 10.50.1.6/16 -groups ops,web
same_fail "1d: ip outside the CA's ips refused alike" \
    "$V certificate contained an ip assignment outside the limitations of the signing ca: 10.51.1.6/16" \
    sign -ca-crt con.crt -ca-key con.key -name bi -ip 10.51.1.6/16
same_fail "1d: mask shorter than the CA's refused alike" \
    "$V certificate contained an ip assignment outside the limitations of the signing ca: 10.50.1.6/8" \
    sign -ca-crt con.crt -ca-key con.key -name bm -ip 10.50.1.6/8
same_fail "1d: subnet outside the CA's subnets refused alike" \
    "$V certificate contained a subnet assignment outside the limitations of the signing ca: 10.61.0.0/24" \
    sign -ca-crt con.crt -ca-key con.key -name bs -ip 10.50.1.6/16 -subnets 10.60.0.0/24,10.61.0.0/24
same_fail "1d: subnet wider than the CA's subnet refused alike" \
    "$V certificate contained a subnet assignment outside the limitations of the signing ca: 10.60.0.0/15" \
    sign -ca-crt con.crt -ca-key con.key -name bw -ip 10.50.1.6/16 -subnets 10.60.0.0/15
same_fail "1d: duration beyond the CA's end refused alike" \
    "$V certificate expires after signing certificate" \
    sign -ca-crt con.crt -ca-key con.key -name bd -ip 10.50.1.6/16 -duration 1001h
check_absent "1d: nothing written by the refused signs" \
    bg.crt bg.key bi.crt bi.key bm.crt bm.key bs.crt bs.key bw.crt bw.key bd.crt bd.key
check "1d: cert-tool signs inside the constraints (10.50.9.10/24, ops, 10.60.3.4/24)" \
    "$CT" sign -ca-crt con.crt -ca-key con.key -name inside -ip 10.50.9.10/24 \
    -groups ops -subnets 10.60.3.4/24
check "1d: nebula-cert verify accepts the constrained cert" \
    "$NC" verify -ca con.crt -crt inside.crt
pj inside.crt inside.json
check_eq "1d: subnet stored as its network address" '"subnets":["10.60.3.0/24"]' \
    "$(grep -o '"subnets":\[[^]]*\]' inside.json)"
# The same constraints on a CA made by cert-tool: both tools refuse alike.
"$CT" ca -name ccon -groups ops,dev -ips 10.50.1.2/16 -subnets 10.60.3.4/16 \
    -out-crt ccon.crt -out-key ccon.key </dev/null >/dev/null 2>&1 ||
    fail "1d: setup: cert-tool ca with constraints"
pj ccon.crt ccon.json
check_eq "1d: CA -ips kept as typed, -subnets reduced to the network" \
    '"ips":["10.50.1.2/16"] "subnets":["10.60.0.0/16"]' \
    "$(grep -o '"ips":\[[^]]*\]' ccon.json) $(grep -o '"subnets":\[[^]]*\]' ccon.json)"
same_fail "1d: cert-tool CA: ip outside refused alike" \
    "$V certificate contained an ip assignment outside the limitations of the signing ca: 10.49.0.1/16" \
    sign -ca-crt ccon.crt -ca-key ccon.key -name ci -ip 10.49.0.1/16
same_fail "1d: cert-tool CA: group outside refused alike" \
    "$V certificate contained a group not present on the signing ca: qa" \
    sign -ca-crt ccon.crt -ca-key ccon.key -name cg -ip 10.50.0.1/16 -groups dev,qa

# Tampered certificates: one base64 character flipped inside the body of a
# copy.  Flipping a character that encodes only public-key or signature
# bytes leaves a well-formed certificate whose signature no longer matches.
der_len() { pem_b64 "$1" | base64 -d | wc -c; }
good_len=$(der_len good.crt)
pj good.crt good.json
key_off=$(pem_hex good.crt | awk -v k="3a20$(json_str good.json publicKey)" \
    '{ i = index($0, k); print (i > 0) ? (i - 1) / 2 + 2 : -1 }')
flip_byte good.crt t-key.crt "$key_off"
flip_byte good.crt t-sig.crt $((good_len - 30))
for t in t-key t-sig; do
	verdict "1d: setup: $t.crt differs from good.crt" $(! cmp -s good.crt $t.crt; echo $?)
	same_fail "1d: tampered cert ($t) refused alike by verify" \
	    "Error: certificate signature did not match" verify -ca nca.crt -crt $t.crt
done
same_out "1d: tampered cert (t-key) printed alike" print -json -path t-key.crt
# A flip in the name's length byte (0x04 -> 0x00) breaks the structure.
flip good.crt t-len.crt 2 5
"$NC" verify -ca nca.crt -crt t-len.crt </dev/null >/dev/null 2>"$W/n.err"
nrc=$?
"$CT" verify -ca nca.crt -crt t-len.crt </dev/null >/dev/null 2>"$W/c.err"
crc=$?
want="Error: error while parsing crt: "
verdict "1d: structurally broken tampered cert refused alike by verify" \
    $([ $nrc -eq 1 ] && [ $crc -eq 1 ] && errline "$W/n.err" | grep -qF "$want" &&
    errline "$W/c.err" | grep -qF "$want"; echo $?) \
    "expected: both exit 1 with '$want...'" \
    "nebula-cert: exit $nrc, stderr: $(show "$W/n.err" 2)" \
    "cert-tool:   exit $crc, stderr: $(show "$W/c.err" 2)"
# Go's protobuf error text (with a no-break space after "proto:") is not
# reproduced; show the difference without failing on it.
if [ "$(errline "$W/n.err")" != "$(errline "$W/c.err")" ]; then
	note "t-len.crt: nebula-cert says '$(errline "$W/n.err")'," \
	    "cert-tool says '$(errline "$W/c.err")'"
fi
flip_byte nca.crt t-ca.crt $(($(der_len nca.crt) - 30))
same_fail "1d: tampered CA (signature) refused alike by verify" \
    "Error: error while adding ca cert to pool: nca: certificate is not self-signed" \
    verify -ca t-ca.crt -crt good.crt
same_fail "1d: CA key that does not match the CA cert refused alike" \
    "Error: refusing to sign, root certificate does not match private key" \
    sign -ca-crt nca.crt -ca-key cca.key -name mm -ip 10.0.0.5/8
same_fail "1d: a host key as CA key refused alike" "" \
    sign -ca-crt nca.crt -ca-key good.key -name mm -ip 10.0.0.5/8
check_absent "1d: nothing written by the refused signs" mm.crt mm.key

# ======================================================================
# 2. print of every fixture equals nebula-cert's recorded output
# ======================================================================
for x in ca ca2 ca-expired lighthouse host-a host-b expired other-host ca-bundle; do
	out_equals "2: print -json -path $x.crt equals print/$x.json" \
	    "$FIX/print/$x.json" "$CT" print -json -path "$FIX/$x.crt"
	if [ -f "$FIX/print/$x.txt" ]; then
		out_equals "2: print -path $x.crt equals print/$x.txt" \
		    "$FIX/print/$x.txt" "$CT" print -path "$FIX/$x.crt"
	fi
done
same_out "2: print ca-bundle.crt (text) identical to live nebula-cert" \
    print -path "$FIX/ca-bundle.crt"
same_out "2: print -json ca-bundle-with-expired.crt identical to live nebula-cert" \
    print -json -path "$FIX/ca-bundle-with-expired.crt"
# The README's name and fingerprint columns.
while IFS='|' read -r _ file name _ _ _ _ fp _; do
	file=$(trim "$file") name=$(trim "$name") fp=$(trim "$fp")
	case $file in *.crt) ;; *) continue ;; esac
	pj "$FIX/$file" "$W/readme.json"
	check_eq "2: README: $file has name $name and fingerprint ${fp:0:12}..." \
	    "$name $fp" "$(json_str "$W/readme.json" name) $(json_str "$W/readme.json" fingerprint)"
done <"$FIX/README.md"

# ======================================================================
# 3. Command line compatibility
# ======================================================================
mkdir "$W/3" && cd "$W/3" || exit 1
run "$CT" -version
# (under the name nebula-cert it is Nebula's line alone: cli_names.sh)
verdict "3: -version prints 'Version: X.Y.Z' first and exits 0" \
    $([ "$RC" -eq 0 ] && head -1 "$W/last.out" | grep -qE '^Version: [0-9]+\.[0-9]+\.[0-9]+$'; echo $?) \
    "exit $RC, stdout: $(show "$W/last.out")"
run "$CT"
verdict "3: no mode: exit 1, 'Error: No mode was provided', blank line, usage" \
    $([ "$RC" -eq 1 ] && [ "$(sed -n 1p "$W/last.err")" = "Error: No mode was provided" ] &&
    [ -z "$(sed -n 2p "$W/last.err")" ] && sed -n 3p "$W/last.err" | grep -q '^Usage of '
    echo $?) "exit $RC, stderr: $(show "$W/last.err")"
same_fail "3: no mode: same Error line as nebula-cert" "Error: No mode was provided"
same_fail "3: unknown mode" "Error: unknown mode: bogus" bogus
for m in "" ca keygen sign print verify ledger; do
	run "$CT" $m -h
	verdict "3: cert-tool ${m:+$m }-h: usage on stderr, exit 0" \
	    $([ "$RC" -eq 0 ] && grep -q '^Usage of ' "$W/last.err" && [ ! -s "$W/last.out" ]
	    echo $?) "exit $RC, stderr: $(show "$W/last.err" 2)"
done
check_absent "3: -h wrote nothing" ca.crt ca.key
run "$CT" ca
verdict "3: ca without -name: exit 1, 'Error: -name is required', then usage" \
    $([ "$RC" -eq 1 ] && [ "$(sed -n 1p "$W/last.err")" = "Error: -name is required" ] &&
    sed -n 2p "$W/last.err" | grep -q '^Usage of .* ca <flags>'; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
same_fail "3: ca: missing -name like nebula-cert" "Error: -name is required" ca
same_fail "3: sign: missing -name like nebula-cert" "Error: -name is required" sign -ip 10.0.0.1/8
same_fail "3: sign: missing -ip like nebula-cert" "Error: -ip is required" sign -name x
same_fail "3: keygen: missing -out-key like nebula-cert" "Error: -out-key is required" keygen -out-pub p
same_fail "3: keygen: missing -out-pub like nebula-cert" "Error: -out-pub is required" keygen -out-key k
same_fail "3: print: missing -path like nebula-cert" "Error: -path is required" print -json
same_fail "3: verify: missing -ca like nebula-cert" "Error: -ca is required" verify -crt x
same_fail "3: verify: missing -crt like nebula-cert" "Error: -crt is required" verify -ca x
same_fail "3: '--' ends the flags like Go" "Error: -name is required" ca -- -name x
check_absent "3: missing-flag errors wrote nothing" ca.crt ca.key k p
i=0
for form in "-name form0" "-name=form1" "--name form2" "--name=form3"; do
	mkdir "f$i"
	# shellcheck disable=SC2086 # the form is two words or one on purpose
	(cd "f$i" && "$CT" ca $form </dev/null >/dev/null 2>"$W/last.err")
	RC=$?
	pj "f$i/ca.crt" "$W/form.json"
	verdict "3: ca $form works" $([ "$RC" -eq 0 ] &&
	    [ "$(json_str "$W/form.json" name)" = "form$i" ]; echo $?) \
	    "exit $RC, stderr: $(show "$W/last.err")" "name: $(json_str "$W/form.json" name)"
	i=$((i + 1))
done
"$CT" print -json -path f0/ca.crt </dev/null >json.a 2>/dev/null
out_equals "3: print -json=true equals print -json" json.a "$CT" print -json=true -path f0/ca.crt
out_equals "3: print --json equals print -json" json.a "$CT" print --json -path f0/ca.crt
"$CT" print -path f0/ca.crt </dev/null >text.a 2>/dev/null
out_equals "3: print -json=false prints text" text.a "$CT" print -json=false -path f0/ca.crt
same_stderr "3: print -json=maybe: same stderr as nebula-cert" print -json=maybe -path f0/ca.crt
check_eq "3: print -json=maybe message" \
    'invalid boolean value "maybe" for -json: parse error|Error: invalid boolean value "maybe" for -json: parse error' \
    "$(head -n2 "$W/c.err" | paste -sd'|')"
for m in ca sign print verify keygen; do
	same_stderr "3: $m -bogus: same stderr as nebula-cert" $m -bogus
done
check_eq "3: unknown flag message" \
    'flag provided but not defined: -bogus|Error: flag provided but not defined: -bogus' \
    "$(head -n2 "$W/c.err" | paste -sd'|')"
same_stderr "3: ca -duration abc: same stderr as nebula-cert" ca -name x -duration abc
check_eq "3: bad duration message" \
    'invalid value "abc" for flag -duration: parse error|Error: invalid value "abc" for flag -duration: parse error' \
    "$(head -n2 "$W/c.err" | paste -sd'|')"
same_stderr "3: sign -duration 1d (no day unit in Go): same stderr" sign -name x -ip 10.0.0.1/8 -duration 1d
same_stderr "3: ca -name without a value: same stderr" ca -name
same_fail "3: ca -duration 0 refused like nebula-cert" \
    "Error: -duration must be greater than 0" ca -name x -duration 0
same_fail "3: ca -duration -5m refused like nebula-cert" \
    "Error: -duration must be greater than 0" ca -name x -duration -5m
check_absent "3: refused ca wrote nothing" ca.crt ca.key
# Go stops at the first non-flag argument: the rest is ignored.
for t in nc ct; do
	mkdir "extra-$t"
	tool=$NC
	[ $t = ct ] && tool=$CT
	(cd "extra-$t" && "$tool" ca -name extra extra-arg -duration 0 </dev/null \
	    >/dev/null 2>"$W/last.err")
	RC=$?
	pj "extra-$t/ca.crt" "$W/extra-$t.json"
	nb=$(epoch "$(json_str "$W/extra-$t.json" notBefore)")
	na=$(epoch "$(json_str "$W/extra-$t.json" notAfter)")
	verdict "3: $t: ca -name extra extra-arg -duration 0: extra args ignored (8760h CA)" \
	    $([ "$RC" -eq 0 ] && [ $((${na:-0} - ${nb:-0})) -eq 31536000 ]; echo $?) \
	    "exit $RC, stderr: $(show "$W/last.err")" "notBefore $nb notAfter $na"
done
"$NC" print -path f0/ca.crt </dev/null >text.n 2>/dev/null
out_equals "3: print -path F extra -json: -json ignored as in Go" text.n \
    "$CT" print -path f0/ca.crt extra -json

# ======================================================================
# 4. Files
# ======================================================================
mkdir "$W/4" && cd "$W/4" || exit 1
check "4: ca with default outputs" "$CT" ca -name fca
check "4: sign with default CA and outputs" "$CT" sign -name fh -ip 10.4.0.1/16
check "4: keygen" "$CT" keygen -out-key kg.key -out-pub kg.pub
check "4: sign -ledger creates the ledger" "$CT" sign -name fl -ip 10.4.0.2/16 -ledger led
check_mode "4: ca.crt ca.key fh.crt fh.key kg.key kg.pub led fl.* are mode 0600" \
    ca.crt ca.key fh.crt fh.key kg.key kg.pub led fl.crt fl.key
check_eq "4: keygen's key pair matches (X25519 of the private key)" \
    "$(pem_hex kg.pub)" "$(x25519_pub_of kg.key)"
check "4: nebula-cert verify accepts the default-path cert" "$NC" verify -ca ca.crt -crt fh.crt
# Default duration: one second before the CA's end.
pj ca.crt ca.json
pj fh.crt fh.json
ca_na=$(epoch "$(json_str ca.json notAfter)")
h_na=$(epoch "$(json_str fh.json notAfter)")
check_eq "4: default sign duration ends 1 s before the CA (cert-tool CA)" \
    "$((${ca_na:-0} - 1))" "${h_na:-?}"
ca_nb=$(epoch "$(json_str ca.json notBefore)")
check_eq "4: default ca duration is 8760h" 31536000 "$((${ca_na:-0} - ${ca_nb:-0}))"
mkdir nebca && (cd nebca && "$NC" ca -name n4 -duration 50h </dev/null >/dev/null 2>&1 &&
    "$CT" sign -name x -ip 10.0.0.1/8 </dev/null >/dev/null 2>&1)
pj nebca/ca.crt n4.json
pj nebca/x.crt n4x.json
check_eq "4: default sign duration ends 1 s before the CA (nebula-cert CA)" \
    "$(($(epoch "$(json_str n4.json notAfter)") - 1))" \
    "$(epoch "$(json_str n4x.json notAfter)")"
check_eq "4: ca -duration 50h gives exactly 50 h (nebula-cert, reference)" \
    180000 "$(($(epoch "$(json_str n4.json notAfter)") - $(epoch "$(json_str n4.json notBefore)")))"

# Refusing to overwrite: the existing file is left untouched.
mkdir ow && cd ow || exit 1
echo "precious key" >ca.key
sum=$(sha256sum ca.key)
same_fail "4: ca refuses an existing ca.key" \
    "Error: refusing to overwrite existing CA key: ca.key" ca -name o
check_eq "4: the existing ca.key is untouched" "$sum" "$(sha256sum ca.key)"
check_absent "4: no ca.crt written" ca.crt
rm ca.key
echo "precious cert" >ca.crt
sum=$(sha256sum ca.crt)
same_fail "4: ca refuses an existing ca.crt" \
    "Error: refusing to overwrite existing CA cert: ca.crt" ca -name o
check_eq "4: the existing ca.crt is untouched" "$sum" "$(sha256sum ca.crt)"
check_absent "4: no ca.key written (checked before writing)" ca.key
rm ca.crt
"$CT" ca -name o </dev/null >/dev/null 2>&1 || fail "4: setup: cert-tool ca"
echo "precious host cert" >h.crt
sum=$(sha256sum h.crt)
same_fail "4: sign refuses an existing <name>.crt" \
    "Error: refusing to overwrite existing cert: h.crt" sign -name h -ip 10.0.0.1/8
check_eq "4: the existing h.crt is untouched" "$sum" "$(sha256sum h.crt)"
check_absent "4: no h.key written" h.key
rm h.crt
echo "precious host key" >h.key
sum=$(sha256sum h.key)
same_fail "4: sign refuses an existing <name>.key" \
    "Error: refusing to overwrite existing key: h.key" sign -name h -ip 10.0.0.1/8
check_eq "4: the existing h.key is untouched" "$sum" "$(sha256sum h.key)"
check_absent "4: no h.crt written" h.crt
rm h.key
"$CT" keygen -out-key p.key -out-pub p.pub </dev/null >/dev/null 2>&1 ||
    fail "4: setup: cert-tool keygen"
same_fail "4: -in-pub with -out-key refused like nebula-cert" \
    "Error: cannot set both -in-pub and -out-key" \
    sign -name h -ip 10.0.0.1/8 -in-pub p.pub -out-key h.key
check_absent "4: nothing written" h.crt h.key
sum=$(sha256sum p.key p.pub)
check_fail_line "4: keygen refuses an existing -out-key (deliberate difference)" \
    "Error: refusing to overwrite existing key: p.key" \
    "$CT" keygen -out-key p.key -out-pub p2.pub
check_fail_msg "4: keygen refuses an existing -out-pub" \
    "refusing to overwrite existing public key: p.pub" \
    "$CT" keygen -out-key p2.key -out-pub p.pub
check_eq "4: the existing key pair is untouched" "$sum" "$(sha256sum p.key p.pub)"
check_absent "4: keygen wrote nothing new" p2.key p2.pub
same_fail "4: sign -ip fd00::1/64 refused like nebula-cert" \
    "Error: invalid ip definition: can only be ipv4, have fd00::1/64" \
    sign -name v6 -ip fd00::1/64
same_fail "4: sign -subnets fd00::/64 refused like nebula-cert" \
    "Error: invalid subnet definition: can only be ipv4, have fd00::/64" \
    sign -name v6 -ip 10.0.0.1/8 -subnets fd00::/64
same_fail "4: ca -ips fd00::/64 refused like nebula-cert" \
    "Error: invalid ip definition: can only be ipv4, have fd00::/64" \
    ca -name v6 -ips fd00::/64 -out-crt v6ca.crt -out-key v6ca.key
same_fail "4: sign -ip without /len refused like nebula-cert" \
    "Error: invalid ip definition: invalid CIDR address: 10.50.9.11" \
    sign -name nolen -ip 10.50.9.11
check_absent "4: refused commands wrote nothing" v6.crt v6.key v6ca.crt v6ca.key nolen.crt nolen.key

# ======================================================================
# 5. Beyond nebula-cert: encrypted CA keys and the ledger
# ======================================================================
mkdir "$W/5" && cd "$W/5" || exit 1
check "5: ca -encrypt with NEBULA_CA_PASSPHRASE" \
    env NEBULA_CA_PASSPHRASE=correct-horse "$CT" ca -name enc -encrypt
check_eq "5: the key file has the scrypt banner" \
    "-----BEGIN NEBULA ED25519 SCRYPT ENCRYPTED PRIVATE KEY-----" "$(head -n1 ca.key)"
check_mode "5: encrypted key is mode 0600" ca.key
verdict "5: the encrypted key file holds no plain private key block" \
    $([ -s ca.key ] && ! grep -q "NEBULA ED25519 PRIVATE KEY" ca.key; echo $?) \
    "$(show ca.key 1)"
check "5: sign with the same passphrase" \
    env NEBULA_CA_PASSPHRASE=correct-horse "$CT" sign -name e1 -ip 10.5.0.1/16
check "5: nebula-cert verify accepts the cert signed with the encrypted key" \
    "$NC" verify -ca ca.crt -crt e1.crt
before=$(listing)
run env NEBULA_CA_PASSPHRASE=wrong "$CT" sign -name e2 -ip 10.5.0.2/16
verdict "5: wrong passphrase: exit 1 with an Error line about the passphrase" \
    $([ "$RC" -eq 1 ] && errline "$W/last.err" | grep -qi passphrase; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
check_eq "5: wrong passphrase wrote no files" "$before" "$(listing)"
run env -u NEBULA_CA_PASSPHRASE setsid -w "$CT" sign -name e3 -ip 10.5.0.3/16
verdict "5: no passphrase and no terminal: sign fails clearly" \
    $([ "$RC" -eq 1 ] && errline "$W/last.err" | grep -q NEBULA_CA_PASSPHRASE; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
check_eq "5: no-terminal sign wrote no files" "$before" "$(listing)"
run env -u NEBULA_CA_PASSPHRASE setsid -w "$CT" ca -name enc2 -encrypt \
    -out-crt enc2.crt -out-key enc2.key
verdict "5: ca -encrypt with no passphrase and no terminal fails clearly" \
    $([ "$RC" -eq 1 ] && errline "$W/last.err" | grep -qi passphrase; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
check_eq "5: ... and writes no files" "$before" "$(listing)"
run env NEBULA_CA_PASSPHRASE=correct-horse "$NC" sign -name e4 -ip 10.5.0.4/16
verdict "5: nebula-cert cannot use the encrypted key (it is a new format)" \
    $([ "$RC" -eq 1 ]; echo $?) "exit $RC"

# Ledger.
mkdir "$W/5l" && cd "$W/5l" || exit 1
"$CT" ca -name lca </dev/null >/dev/null 2>&1 || fail "5: setup: cert-tool ca"
check "5: sign -ledger L (1st)" "$CT" sign -name la -ip 10.6.0.1/16 -groups x,y -ledger L
check "5: sign -ledger L (2nd)" "$CT" sign -name lb -ip 10.6.0.2/16 -subnets 10.7.0.0/24 -ledger L
run "$CT" ledger -path L
verdict "5: ledger -path L lists 2 records" \
    $([ "$RC" -eq 0 ] && [ "$(grep -c '^issued=' "$W/last.out")" -eq 2 ]; echo $?) \
    "exit $RC, stdout: $(show "$W/last.out" 4)" "stderr: $(show "$W/last.err")"
run "$CT" ledger -path L -json
cp "$W/last.out" ledger.json
verdict "5: ledger -json gives 2 lines" \
    $([ "$RC" -eq 0 ] && [ "$(wc -l <ledger.json)" -eq 2 ]; echo $?) \
    "exit $RC, stdout: $(show ledger.json 4)"
pj ca.crt lca.json
for h in la lb; do
	pj $h.crt $h.json
	grep "\"name\":\"$h\"" ledger.json >rec.json
	check_eq "5: ledger fingerprint of $h equals print -json's" \
	    "$(json_str $h.json fingerprint)" "$(json_str rec.json fingerprint)"
	check_eq "5: ledger ca of $h is the CA's fingerprint" \
	    "$(json_str lca.json fingerprint)" "$(json_str rec.json ca)"
done
run "$CT" ledger -path L -json -name lb
verdict "5: ledger -name lb gives only lb's record" \
    $([ "$RC" -eq 0 ] && [ "$(wc -l <"$W/last.out")" -eq 1 ] &&
    grep -q '"name":"lb"' "$W/last.out"; echo $?) "exit $RC, stdout: $(show "$W/last.out")"
run "$CT" ledger -path L -name nobody
verdict "5: ledger -name nobody lists nothing, exit 0" \
    $([ "$RC" -eq 0 ] && [ ! -s "$W/last.out" ]; echo $?) "exit $RC, stdout: $(show "$W/last.out")"
cp -p L L.before
run "$CT" sign -name lc -ip 10.6.0.3/16 -ledger L -out-crt no-such-dir/lc.crt
verdict "5: cert cannot be written: exit 1" $([ "$RC" -eq 1 ]; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
verdict "5: ... the ledger is byte-identical to before" \
    $(cmp -s L L.before; echo $?) "diff: $(diff L.before L | head -n 4)"
check_absent "5: ... and no key file is left" lc.key
run "$CT" sign -name ld -ip 10.6.0.4/16 -ledger L -out-key no-such-dir/ld.key
verdict "5: key cannot be written: exit 1, ledger unchanged, no cert" \
    $([ "$RC" -eq 1 ] && cmp -s L L.before && [ ! -e ld.crt ]; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
mkdir Ldir
run "$CT" sign -name le -ip 10.6.0.5/16 -ledger Ldir
verdict "5: ledger path is a directory: exit 1 with an Error line" \
    $([ "$RC" -eq 1 ] && [ -n "$(errline "$W/last.err")" ]; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
check_absent "5: ... no cert or key written" le.crt le.key
run "$CT" sign -name lf -ip 10.6.0.6/16 -ledger no-such-dir/L
verdict "5: ledger in a missing directory: exit 1" $([ "$RC" -eq 1 ]; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
check_absent "5: ... no cert or key written" lf.crt lf.key
if [ "$(id -u)" -ne 0 ]; then
	mkdir ro && chmod 555 ro
	run "$CT" sign -name lg -ip 10.6.0.7/16 -ledger ro/L
	verdict "5: ledger in a read-only directory: exit 1" $([ "$RC" -eq 1 ]; echo $?) \
	    "exit $RC, stderr: $(show "$W/last.err")"
	check_absent "5: ... no cert or key written" lg.crt lg.key
else
	skip "5: ledger in a read-only directory (running as root)"
	skip "5: ledger in a read-only directory, no files (running as root)"
fi
check_eq "5: the ledger still lists 2 records after the failures" 2 \
    "$("$CT" ledger -path L </dev/null 2>/dev/null | grep -c '^issued=')"

# ======================================================================
# 6. -out-qr
# ======================================================================
mkdir "$W/6" && cd "$W/6" || exit 1
check "6: ca -out-qr ca.png" "$CT" ca -name qr-ca -out-qr ca.png
check_eq "6: ca.png starts with the PNG signature" "89504e470d0a1a0a" \
    "$(head -c 8 ca.png 2>/dev/null | od -An -v -tx1 | tr -d ' \n')"
check_mode "6: ca.png is mode 0600" ca.png
check "6: sign -out-qr h.png" "$CT" sign -name h -ip 10.8.0.1/16 -out-qr h.png
cat ca.crt h.crt >both.crt
check "6: print -out-qr both.png of a two-cert file" "$CT" print -path both.crt -out-qr both.png
if command -v zbarimg >/dev/null 2>&1; then
	for p in ca:ca.crt h:h.crt both:both.crt; do
		zbarimg --raw -q "${p%%:*}.png" </dev/null >"${p%%:*}.dec" 2>/dev/null
		check_eq "6: zbarimg decodes ${p%%:*}.png to ${p#*:}" \
		    "$(cat "${p#*:}")" "$(cat "${p%%:*}.dec")"
	done
else
	skip "6: zbarimg (zbar-tools) not installed"
	skip "6: zbarimg (zbar-tools) not installed"
	skip "6: zbarimg (zbar-tools) not installed"
fi
check_fail_msg "6: -out-qr refuses to overwrite" "refusing to overwrite" \
    "$CT" ca -name q2 -out-crt q2.crt -out-key q2.key -out-qr ca.png
check_absent "6: ... and writes nothing" q2.crt q2.key

# ======================================================================
# 7. Bad input never crashes
# ======================================================================
mkdir "$W/7" && cd "$W/7" || exit 1
src=$FIX/host-a.crt
head -n 3 "$src" >truncated.crt
printf 'hello\000\377 garbage\n-----BEGIN NEBULA CERTIFICATE-----\n@@@@\n' >garbage.crt
head -c 4096 /dev/zero | tr '\0' 'Z' >zeds.crt
{ pem_b64 "$src" | base64 -d; printf '\000'; } | der_to_pem >trailing0.crt
{ pem_b64 "$src" | base64 -d; printf '\010'; } | der_to_pem >trailing8.crt
{ printf '\012\377\377\377\377\017'; pem_b64 "$src" | base64 -d | tail -c +4; } |
    der_to_pem >huge.crt
{ printf '\012\377\377\377\377\377\377\377\377\177'; pem_b64 "$src" | base64 -d | tail -c +4; } |
    der_to_pem >huge64.crt
printf '' | der_to_pem >emptyder.crt
: >empty.crt
for f in truncated garbage zeds trailing0 trailing8 huge huge64 emptyder empty; do
	run "$CT" print -path $f.crt
	verdict "7: print $f.crt: exit 1 with an Error line" \
	    $([ "$RC" -eq 1 ] && [ -n "$(errline "$W/last.err")" ]; echo $?) \
	    "exit $RC, stderr: $(show "$W/last.err")"
	run "$CT" verify -ca "$FIX/ca.crt" -crt $f.crt
	verdict "7: verify -crt $f.crt: exit 1 with an Error line" \
	    $([ "$RC" -eq 1 ] && [ -n "$(errline "$W/last.err")" ]; echo $?) \
	    "exit $RC, stderr: $(show "$W/last.err")"
	run "$CT" verify -ca $f.crt -crt "$src"
	verdict "7: verify -ca $f.crt: exit 1 with an Error line" \
	    $([ "$RC" -eq 1 ] && [ -n "$(errline "$W/last.err")" ]; echo $?) \
	    "exit $RC, stderr: $(show "$W/last.err")"
	# Not a check: Go's protobuf error texts are not reproduced verbatim.
	"$NC" print -path $f.crt </dev/null >/dev/null 2>"$W/n.err"
	"$CT" print -path $f.crt </dev/null >/dev/null 2>"$W/c.err"
	if [ "$(errline "$W/n.err")" != "$(errline "$W/c.err")" ]; then
		note "print $f.crt: nebula-cert says '$(errline "$W/n.err")'," \
		    "cert-tool says '$(errline "$W/c.err")'"
	fi
done
cat "$FIX/ca.crt" truncated.crt >ca-then-truncated.crt
run "$CT" verify -ca ca-then-truncated.crt -crt "$src"
verdict "7: verify -ca with a truncated second block: exit 1 with an Error line" \
    $([ "$RC" -eq 1 ] && [ -n "$(errline "$W/last.err")" ]; echo $?) \
    "exit $RC, stderr: $(show "$W/last.err")"
same_fail "7: a key file given to print is refused like nebula-cert" \
    "Error: error while unmarshaling cert: bytes did not contain a proper nebula certificate banner" \
    print -path "$FIX/host-a.key"
same_fail "7: missing file refused like nebula-cert" "" print -path no-such.crt
same_fail "7: a directory as -crt refused like nebula-cert" "" verify -ca "$FIX/ca.crt" -crt .

echo "1..$N"
[ "$FAILED" -eq 0 ]
