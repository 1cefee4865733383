#!/bin/bash
# Run the test suites and print one closing line: "N passed, N failed".
#   scripts/run-tests.sh            every suite
#   scripts/run-tests.sh unit|asan|fuzz|e2e|man   one suite
# Unit tests are cmocka binaries (their cases are counted one by one);
# e2e tests are scripts that print TAP lines ("ok N - ..." / "not ok N - ...").
set -u
cd "$(dirname "$0")/.."
suites=${1:-"unit asan fuzz man e2e"}
pass=0 fail=0 failed_names=()
log=build/test-logs
mkdir -p "$log"

count_cmocka() { # name logfile rc
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$2" | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed
	pass=$((pass + p)) fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		failed_names+=("$1")
		echo "FAIL $1 (log: $2)"; tail -30 "$2"
	else
		echo "ok   $1 ($p)"
	fi
}

run_units() { # dir label
	local t name
	for t in "$1"/test_*; do
		[ -x "$t" ] || continue
		name="$2/$(basename "$t")"
		(cd test && timeout 300 "../$t") >"$log/${name//\//_}.log" 2>&1
		count_cmocka "$name" "$log/${name//\//_}.log" $?
	done
}

one() { # name rc logfile
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok   $1"
	else
		fail=$((fail + 1)); failed_names+=("$1")
		echo "FAIL $1 (log: $3)"; tail -30 "$3"
	fi
}

for s in $suites; do
	case $s in
	unit) run_units build/rel/test unit ;;
	asan) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		run_units build/asan/test asan ;;
	fuzz)
		for f in build/fuzz/bin/fuzz_*; do
			[ -x "$f" ] || continue
			n=$(basename "$f")
			lf="$log/fuzz_$n.log"
			if [ -d "test/corpus/$n" ]; then
				timeout 300 "$f" -runs=0 test/corpus/"$n"/* >"$lf" 2>&1
				one "fuzz-replay/$n" $? "$lf"
			else
				echo "no corpus for $n" >"$lf"; one "fuzz-replay/$n" 1 "$lf"
			fi
		done ;;
	man)
		for m in man/*.[1-8]; do
			[ -f "$m" ] || continue
			lf="$log/man_$(basename "$m").log"
			mandoc -Tlint -Wwarning "$m" >"$lf" 2>&1
			one "man-lint/$(basename "$m")" $? "$lf"
		done ;;
	e2e)
		for t in test/e2e/*.sh; do
			[ -x "$t" ] || continue
			n=$(basename "$t" .sh)
			[ "$n" = lib ] && continue # the shared helpers
			lf="$log/e2e_$n.log"
			timeout 600 "$t" >"$lf" 2>&1
			rc=$?
			p=$(grep -c '^ok ' "$lf"); f=$(grep -c '^not ok ' "$lf")
			if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
			pass=$((pass + p)) fail=$((fail + f))
			if [ "$f" -ne 0 ]; then
				failed_names+=("e2e/$n")
				echo "FAIL e2e/$n (log: $lf)"; grep -E '^(not ok|#)' "$lf" | tail -40
			else
				echo "ok   e2e/$n ($p)"
			fi
		done ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
