# roles/cairn/files/config-diff.sh: compare the staged configuration
# (already checked by cairn -test) with the live one.  First line: "same",
# "new" (no live file) or "changed"; for "changed", cairn -test
# -restart-keys then prints the keys whose change needs a restart, one a
# line (none: SIGHUP is enough), and its exit status is this script's.
# Arguments: cairn, staged file, live file.
set -u
bin=$1 staged=$2 live=$3
if [ ! -e "$live" ]; then echo new; exit 0; fi
if cmp -s "$staged" "$live"; then echo same; exit 0; fi
echo changed
exec "$bin" -test -config "$staged" -restart-keys "$live"
