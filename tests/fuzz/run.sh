#!/bin/sh
# tests/fuzz/run.sh SECONDS TARGET...: runs each libFuzzer target (build-fuzz/fuzz/fuzz_TARGET) for
# SECONDS from the committed seeds (tests/fuzz/corpus/TARGET) plus what earlier runs found
# (build-fuzz/corpus/TARGET), and prints one line per target: executions, coverage, findings.
# A finding is saved as build-fuzz/crash-TARGET-*; replay it with build-asan/fuzz/replay_TARGET.
cd "$(dirname "$0")/../.." || exit 2
secs=$1; shift
report=build-fuzz/fuzz-report.txt
: >"$report"
status=0
for t in "$@"; do
	bin=build-fuzz/fuzz/fuzz_$t
	mkdir -p "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t"
	echo "fuzz: $t for ${secs}s ..." >&2
	log=build-fuzz/fuzz-$t.log
	"$bin" -max_total_time="$secs" -close_fd_mask=3 -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="build-fuzz/crash-$t-" \
		"build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	units=$(ls "build-fuzz/corpus/$t" | wc -l)
	crashes=$(ls build-fuzz/crash-"$t"-* 2>/dev/null | wc -l)
	line="$t: ${execs:-?} executions in ${secs}s, coverage ${cov:-?} edges (${ft:-?} features), corpus $units inputs, findings $crashes (exit $rc)"
	echo "$line" | tee -a "$report"
	if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then
		status=1
		grep -m1 -A12 "ERROR\|runtime error\|deadly signal" "$log" >&2
	fi
done
echo "fuzz: report in $report" >&2
exit $status
