# Every fuzz target once on each committed input: the seed corpus and the regression inputs of
# bugs found before (tests/fuzz/regress/), under AddressSanitizer and UBSan (make fuzz-replay
# builds build-asan/fuzz/replay_*). Fast: no fuzzing here; `make fuzz` does that.
. tests/lib.sh
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
targets=$(sed -n 's/^FUZZ_TARGETS *:= *//p' tests/fuzz/fuzz.mk)
for t in $targets; do
	bin=build-asan/fuzz/replay_$t
	if [ ! -x "$bin" ]; then
		echo "SKIP fuzz replay $t: $bin not built (make fuzz-replay)"
		continue
	fi
	dirs=""
	for d in tests/fuzz/corpus/$t tests/fuzz/regress/$t; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	n=$(find $dirs -type f | wc -l)
	if ASAN_OPTIONS=detect_leaks=1 "$bin" $dirs >"$out/$t.log" 2>&1; then
		ok "fuzz replay $t: $n inputs (corpus and regressions) pass ASan and UBSan"
	else
		fail "fuzz replay $t: $(grep -m1 'ERROR\|runtime error\|replay:' "$out/$t.log")"
		grep -A12 -m1 'ERROR\|runtime error' "$out/$t.log" | head -20
	fi
done
[ "$failed" = 0 ]
