#!/bin/sh
# tests/bench/trace.sh - the cost of recording a trace event: instructions per TRACE() under
# valgrind --tool=callgrind (goal <= 150), counted inside the emitting loop only, with tracing
# on and off; and per event including the writer thread's share (drain, CRC, write).
#
#   sh tests/bench/trace.sh          # N=200000
#
# Not a timed test and not part of tests/run.sh. Under valgrind clock_gettime() is a system call
# whose kernel side callgrind does not count; natively it is a vDSO call, so the native ns line
# is printed too (this machine's figure: quote it only next to the "off" figure of the same run).
cd "$(dirname "$0")/../.." || exit 2
N=${N:-200000}
command -v valgrind >/dev/null || { echo "SKIP trace bench: no valgrind"; exit 77; }
# the trace layer alone, as an archive: only what the driver uses is linked in
mkdir -p build/bench
rm -f build/bench/libtrace.a
for f in trace/*.c; do make -s "build/${f%.c}.o" 2>/dev/null; done
ar rcs build/bench/libtrace.a build/trace/*.o || exit 2
cc -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread -I. -o build/bench/trace_bench \
	tests/bench/trace_bench.c build/bench/libtrace.a -lelf -lpthread || exit 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# ir FILE: the total instruction count callgrind collected
ir() { sed -n 's/^summary: *//p; s/^totals: *//p' "$1" | head -1; }

valgrind --tool=callgrind --callgrind-out-file="$out/on" --toggle-collect=bench_on \
	build/bench/trace_bench "$N" >/dev/null 2>"$out/log" || { cat "$out/log"; exit 1; }
valgrind --tool=callgrind --callgrind-out-file="$out/off" --toggle-collect=bench_off \
	build/bench/trace_bench "$N" >/dev/null 2>>"$out/log" || { cat "$out/log"; exit 1; }
# whole program at N and 2N: the difference is N events' cost with the writer's share
valgrind --tool=callgrind --callgrind-out-file="$out/all1" build/bench/trace_bench "$N" \
	>/dev/null 2>>"$out/log" || exit 1
valgrind --tool=callgrind --callgrind-out-file="$out/all2" build/bench/trace_bench $((2 * N)) \
	>/dev/null 2>>"$out/log" || exit 1

on=$(ir "$out/on"); off=$(ir "$out/off"); a1=$(ir "$out/all1"); a2=$(ir "$out/all2")
# bench_on runs once with 1 event before the N measured ones
awk -v on="$on" -v off="$off" -v a1="$a1" -v a2="$a2" -v n="$N" 'BEGIN {
	printf "callgrind, %d events: %.1f instructions per recorded event (goal <= 150)\n", n, on / (n + 1)
	printf "callgrind: %.1f instructions per TRACE() while tracing is off\n", off / n
	printf "callgrind: %.1f instructions per event with the writer thread'"'"'s share\n", (a2 - a1) / n
}'
build/bench/trace_bench "$N"
