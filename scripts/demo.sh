#!/bin/bash
# make demo: the air-gapped CA flow with cert-tool, step by step, in a
# scratch directory that is removed afterwards.  Later issues extend it to
# a running mesh in network namespaces.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ct="$top/bin/cert-tool"
work=$(mktemp -d /tmp/cert-tool-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/laptop" "$work/node"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { # show the command, then run it in the given directory
	local dir=$1; shift
	printf '%s$ %s\n' "$(basename "$dir")" "$*"
	(cd "$dir" && "$@")
}

step "On the air-gapped laptop: create a CA whose key is encrypted at rest"
export NEBULA_CA_PASSPHRASE="demo passphrase (normally typed at the prompt)"
run "$work/laptop" "$ct" ca -name "Demo Org" -duration 8760h \
	-groups "web,db,ops" -ips 10.42.0.0/16 -encrypt
run "$work/laptop" head -n1 ca.key

step "On the node: make a key pair; only the public key leaves the node"
run "$work/node" "$ct" keygen -out-key host.key -out-pub host.pub
cp "$work/node/host.pub" "$work/laptop/web1.pub"

step "On the laptop: sign the node's public key and record it in the ledger"
run "$work/laptop" "$ct" sign -name web1 -ip 10.42.0.11/16 -groups web \
	-in-pub web1.pub -ledger issued.ledger
run "$work/laptop" ls -l
cp "$work/laptop/web1.crt" "$work/laptop/ca.crt" "$work/node/"

step "Print the certificate (text, then the JSON nebula-cert prints)"
run "$work/node" "$ct" print -path web1.crt
run "$work/node" "$ct" print -json -path web1.crt

step "Verify it on the node against the CA"
run "$work/node" "$ct" verify -ca ca.crt -crt web1.crt
echo "verify: exit $? (silent means valid)"
if command -v nebula-cert >/dev/null; then
	run "$work/node" nebula-cert verify -ca ca.crt -crt web1.crt
	echo "the real nebula-cert 1.6.1 accepts it too"
fi

step "The CA refuses what its constraints do not allow"
run "$work/laptop" "$ct" sign -name rogue -ip 10.43.0.9/16 -groups web ||
	echo "(refused, exit $?)"
run "$work/laptop" "$ct" sign -name rogue -ip 10.42.0.9/16 -groups admin ||
	echo "(refused, exit $?)"

step "Later: find the fingerprint to blocklist from the ledger"
run "$work/laptop" "$ct" ledger -path issued.ledger -name web1
echo
echo "Demo done; scratch files removed."
