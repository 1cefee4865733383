#!/bin/bash
# Run the test suites and print one closing line: "N passed, N failed".
#   scripts/run-tests.sh            every suite
#   scripts/run-tests.sh unit|asan|fuzz|e2e|e2e-san|man   one suite
# e2e-san is every e2e test again with the daemons under ASan and UBSan
# (E2E_SAN=1, test/e2e/lib.sh).  E2E_JOBS (default 3) e2e tests run at
# once: they mostly wait, each in namespaces of its own.
# Unit tests are cmocka binaries (their cases are counted one by one);
# e2e tests are scripts that print TAP lines ("ok N - ..." / "not ok N - ...").
set -u
cd "$(dirname "$0")/.."
suites=${*:-"unit asan fuzz man e2e e2e-san"}
pass=0 fail=0 failed_names=() e2e_suites=()
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

# e2e_one SCRIPT LOG ENV...: one e2e test; its exit status and seconds
# go to LOG.rc
e2e_one() {
	local t=$1 lf=$2 t0=$SECONDS
	shift 2
	env "$@" timeout 600 "$t" >"$lf" 2>&1
	echo "$? $((SECONDS - t0))" >"$lf.rc"
}

# e2e_count NAME LOG: fold a finished test's TAP lines into the totals
e2e_count() {
	local n=$1 lf=$2 rc dt p f
	read -r rc dt <"$lf.rc"
	p=$(grep -c '^ok ' "$lf"); f=$(grep -c '^not ok ' "$lf")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)) fail=$((fail + f))
	if [ "$f" -ne 0 ]; then
		failed_names+=("$n")
		echo "FAIL $n (log: $lf, ${dt}s)"; grep -E '^(not ok|#)' "$lf" | tail -40
	else
		echo "ok   $n ($p, ${dt}s)"
	fi
}

# run_e2e SUITE...: every test of each suite (e2e, e2e-san), E2E_JOBS at
# a time, reported in order.  A test whose script has a line "# e2e:
# alone" (it loads the CPUs, or measures) runs with no other; one with a
# line "# e2e: no-san" (it tests packaging or deployment, not the
# daemons' code) runs in the e2e suite only.
run_e2e() {
	local jobs=${E2E_JOBS:-3} suite t n lf done_=() env
	for suite in "$@"; do
		env=E2E_SAN=0
		[ "$suite" = e2e-san ] && env=E2E_SAN=1
		for t in test/e2e/*.sh; do
			[ -x "$t" ] || continue
			n=$(basename "$t" .sh)
			[ "$n" = lib ] && continue # the shared helpers
			if [ "$suite" = e2e-san ] && grep -q '^# e2e: no-san' "$t"; then
				continue
			fi
			lf="$log/${suite}_$n.log"
			rm -f "$lf.rc"
			if grep -q '^# e2e: alone' "$t"; then
				wait
				e2e_one "$t" "$lf" "$env"
			else
				while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
					wait -n
				done
				e2e_one "$t" "$lf" "$env" &
			fi
			done_+=("$suite/$n")
		done
	done
	wait
	for n in "${done_[@]}"; do
		e2e_count "$n" "$log/${n%%/*}_${n#*/}.log"
	done
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
	e2e | e2e-san) e2e_suites+=("$s") ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done
[ ${#e2e_suites[@]} -gt 0 ] && run_e2e "${e2e_suites[@]}"
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
