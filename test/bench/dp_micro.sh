#!/bin/bash
# Instructions per packet of the data path under callgrind, for each
# scenario of dp_micro, against the tracked baseline
# (test/bench/dp_micro.baseline).  Exit 1 if any scenario costs more than
# 10% over its baseline.
set -u
bin=${1:-build/rel/dp_micro}
dir=$(dirname "$0")
base="$dir/dp_micro.baseline"
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rc=0
printf '%-10s %12s %12s %8s\n' scenario instr/packet baseline ratio
for s in tx rx tx-small rx-small tx-chacha rx-chacha tx-tso rx-gro; do
	valgrind --tool=callgrind --collect-atstart=no \
		--callgrind-out-file="$out/cg.$s" "$bin" -n 4 -only "$s" \
		-fixtures "$dir/../fixtures/nebula-1.6.1" \
		>"$out/run.$s" 2>"$out/vg.$s" || {
		cat "$out/run.$s" "$out/vg.$s"; exit 1; }
	coll=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/vg.$s")
	pk=$(sed -n "s/.*(\\([0-9]*\\) packets.*/\\1/p" "$out/run.$s" | head -1)
	[ -n "$coll" ] && [ -n "$pk" ] && [ "$pk" -gt 0 ] || {
		echo "could not read the counts for $s"; cat "$out/run.$s"; exit 1; }
	ipp=$((coll / pk))
	b=$(awk -v s="$s" '$1 == s {print $2}' "$base" 2>/dev/null)
	if [ -n "$b" ]; then
		ratio=$(awk -v a="$ipp" -v b="$b" 'BEGIN {printf "%.3f", a / b}')
		awk -v r="$ratio" 'BEGIN {exit !(r > 1.10)}' && rc=1
	else
		b=- ratio=-
	fi
	printf '%-10s %12d %12s %8s\n' "$s" "$ipp" "$b" "$ratio"
done
[ "$rc" -eq 0 ] || echo "regression: more than 10% over the baseline"
exit $rc
