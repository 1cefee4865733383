# roles/cairn/files/ca-state.sh: what the role needs from the CA machine,
# read in one go: the trusted CA certificates (cairn-cert print -json),
# the ledger's blocklist (cairn-cert ledger -blocklist -json) and the CA
# bundle the nodes get.  Arguments: cairn-cert, bundle, ledger.  Reads
# only.
set -eu
cert_bin=$1 bundle=$2 ledger=$3
printf '{"cas": ['
"$cert_bin" print -json -path "$bundle" | sed '$!s/$/,/'
printf '], "blocklist": '
if [ -s "$ledger" ]; then "$cert_bin" ledger -path "$ledger" -blocklist -json; else printf '[]'; fi
printf ', "bundle": "%s", "bundle_sha256": "%s"}\n' "$(base64 -w0 "$bundle")" \
	"$(sha256sum <"$bundle" | cut -d' ' -f1)"
