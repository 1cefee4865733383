# roles/cairn/files/host-state.sh: what the role needs to know about a
# host, read in one go, as one JSON object on standard output.  Run by
# /bin/sh -c with the arguments: cairn, cairn-cert, user, group,
# configuration directory, key, public key, certificate, CA file.
# Reads only; the role's tasks make the changes.
set -u
bin=$1 cert_bin=$2 user=$3 group=$4 dir=$5 key=$6 pub=$7 crt=$8 ca=$9
js() { printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"; }
b() { if "$@" >/dev/null 2>&1; then echo true; else echo false; fi; }
pkg=$(dpkg-query -W -f '${Status} ${Version}' cairn 2>/dev/null |
	sed -n 's/^install ok installed //p')
pubhex="" pem="" cert=null
if [ -s "$pub" ]; then
	pubhex=$(sed -e '/-----/d' "$pub" | base64 -d | od -An -v -tx1 | tr -d ' \n')
	pem=$(base64 -w0 "$pub")
fi
if [ -s "$crt" ] && [ -x "$cert_bin" ]; then
	cert=$("$cert_bin" print -json -path "$crt" 2>/dev/null | head -n 1)
	[ -n "$cert" ] || cert=null
fi
printf '{"package": %s, "programs": %s, "user": %s,' "$(js "$pkg")" \
	"$(b test -x "$bin" -a -x "$cert_bin")" "$(b getent passwd "$user")"
printf ' "dir_mode": %s, "key": %s, "key_mode": %s,' \
	"$(js "$(stat -c '%a %U:%G' "$dir" 2>/dev/null)")" "$(b test -s "$key")" \
	"$(js "$(stat -c '%a %U:%G' "$key" 2>/dev/null)")"
printf ' "pub": %s, "pem": %s, "ca_sha256": %s, "cert": %s}\n' "$(js "$pubhex")" \
	"$(js "$pem")" "$(js "$(sha256sum <"$ca" 2>/dev/null | cut -d' ' -f1)")" "$cert"
