# roles/cairn/files/sign.sh: sign a host's public key on the CA machine,
# recorded in the ledger, and print the certificate.  The passphrase of an
# encrypted CA key is read from standard input (one line; empty for a
# plain key) and reaches cairn-cert only through its environment
# (NEBULA_CA_PASSPHRASE), never a command line.  Arguments: work
# directory, name, public key (PEM), then cairn-cert and its sign flags
# (without -in-pub and -out-crt).  cairn-cert never overwrites a file:
# the previous request of this name is removed first.
set -eu
IFS= read -r p || :
if [ -n "$p" ]; then NEBULA_CA_PASSPHRASE=$p; export NEBULA_CA_PASSPHRASE; fi
unset p
work=$1 name=$2 pem=$3
shift 3
mkdir -p -m 0700 "$work"
rm -f -- "$work/$name.pub" "$work/$name.crt"
printf '%s\n' "$pem" >"$work/$name.pub"
"$@" -in-pub "$work/$name.pub" -out-crt "$work/$name.crt" </dev/null
cat -- "$work/$name.crt"
