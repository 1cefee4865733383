#!/bin/bash
# The table after `make fuzz-run`: per target, executions, executions per
# second, coverage (libFuzzer's cov: edges and ft: features, from its last
# status line), corpus entries (and how many this run added), and the
# result.  Exits 1 when a target crashed (or leaked, timed out, ran out
# of memory), naming the input that did it.
#   scripts/fuzz-report.sh LOGDIR CRASHDIR
# LOGDIR holds <target>.log (libFuzzer's output, run with
# -print_final_stats=1) and <target>.rc (its exit status); CRASHDIR holds
# <target>/ (its -artifact_prefix).
set -u
logs=${1:-build/fuzz-logs}
crashes=${2:-build/fuzz-crashes}
failed=()
stat() { # name logfile
	sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -1
}

printf '%-20s %12s %8s %6s %7s %12s  %s\n' target execs exec/s cov ft \
	corpus/new result
for lf in "$logs"/*.log; do
	[ -f "$lf" ] || continue
	t=$(basename "$lf" .log)
	rc=$(cat "$logs/$t.rc" 2>/dev/null || echo '?')
	last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$lf" | tail -1)
	execs=$(stat number_of_executed_units "$lf")
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
	eps=$(stat average_exec_per_sec "$lf")
	new=$(stat new_units_added "$lf")
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
	art=$(find "$crashes/$t" -type f 2>/dev/null | head -1)
	if [ "$rc" = 0 ] && [ -z "$art" ]; then
		result=ok
	else
		[ -n "$art" ] || art=$(sed -n \
			's/.*Test unit written to \(.*\)/\1/p' "$lf" | tail -1)
		result="FAIL rc=$rc ${art:-(no input saved; see $lf)}"
		failed+=("$t")
	fi
	printf '%-20s %12s %8s %6s %7s %12s  %s\n' "$t" "${execs:--}" \
		"${eps:--}" "${cov:--}" "${ft:--}" "${corp:--}/${new:--}" \
		"$result"
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "crashed: ${failed[*]} (logs in $logs)"
	exit 1
fi
