# The unit tests whose device runs threads beside the test's own (IO threads, resets from another
# thread) and the trace's ring, writer and pause/resume (test_trace), once more under
# ThreadSanitizer: a data race fails them (make tsan-build builds build-tsan/tests/*; make check
# does). Their own check lines count as well.
. tests/lib.sh
out=$(mktemp); trap 'rm -f "$out"*' EXIT
tests=$(sed -n 's/^TSAN_TESTS *:= *//p' Makefile)
for t in $tests; do
	bin=build-tsan/tests/$t
	if [ ! -x "$bin" ]; then
		echo "SKIP $t under ThreadSanitizer: $bin not built (make tsan-build)"
		continue
	fi
	if TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$bin" >"$out.$t" 2>&1; then
		ok "$t under ThreadSanitizer: no data race ($(grep -c '^ok ' "$out.$t") checks)"
	else
		fail "$t under ThreadSanitizer: $(grep -m1 'WARNING: ThreadSanitizer\|^FAIL' "$out.$t")"
		grep -A14 -m1 'WARNING: ThreadSanitizer' "$out.$t" | head -20
	fi
	rm -f "$out.$t"
done
exit $failed
