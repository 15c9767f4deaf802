#!/bin/bash
# guest/build-linux.sh SRCDIR BUILDDIR JOBS TARGET...: run the kernel build, output to BUILDDIR/build.log,
# printing a progress line every 30 s. On failure prints the log's errors and its tail.
set -o pipefail
src=$1; build=$2; jobs=$3; shift 3
log=$build/build.log
start=$SECONDS
echo "guest: building Linux $* with -j$jobs (first build about 3 minutes; log: $log)"
make -C "$src" O="$(cd "$build" && pwd)" ARCH=x86_64 -j"$jobs" "$@" >"$log" 2>&1 &
pid=$!
last=$SECONDS
while kill -0 $pid 2>/dev/null; do
	sleep 1
	if [ $((SECONDS - last)) -ge 30 ]; then
		last=$SECONDS
		n=$(grep -c '^  [A-Z]' "$log")
		echo "guest: ... $((SECONDS - start)) s, $n build steps, last: $(grep '^  [A-Z]' "$log" | tail -1 | sed 's/^ *//')"
	fi
done
wait $pid
rc=$?
if [ $rc != 0 ]; then
	echo "guest: kernel build failed (exit $rc); errors from $log:" >&2
	grep -E 'error|Error' "$log" | head -20 >&2
	tail -15 "$log" >&2
	exit 1
fi
echo "guest: kernel build done in $((SECONDS - start)) s"
