#!/bin/bash
# tests/bench/smp-boot.sh [-n N] [-t SECONDS]: a benchmark, not a test. What CONFIG_SMP costs at
# boot: the uniprocessor guest (vmlinux), the SMP guest on one vCPU (vmlinux-smp --smp 1) and on
# two (vmlinux-smp --smp 2), all three started at the same moment under ./kvmscope, N rounds
# (default 1), so that a loaded machine slows all three alike. Prints the seconds from start to
# `KVMSCOPE-INIT` and to the reboot, and the CPUs /init saw. Console logs, each line with its
# time: tests/out/bench/smp-boot-{up,smp1,smp2}-ROUND.log. Build first: make kvmscope guest-linux
# and make -C guest -f linux.mk smp. Only the ratios within one round mean anything.
cd "$(dirname "$0")/../.." || exit 2
rounds=1 timeout=1200
while [ $# -gt 0 ]; do
	case "$1" in
	-n) rounds=$2; shift ;;
	-t) timeout=$2; shift ;;
	-h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "smp-boot.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
case "$rounds" in '' | *[!0-9]* | 0) echo "smp-boot.sh: -n wants a positive number" >&2; exit 2 ;; esac
for f in ./kvmscope guest/out/vmlinux guest/out/vmlinux-smp guest/out/initrd.img guest/out/disk.img; do
	[ -r "$f" ] || { echo "smp-boot.sh: $f missing (make kvmscope guest-linux; make -C guest -f linux.mk smp)" >&2; exit 2; }
done
logdir=tests/out/bench
mkdir -p "$logdir"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# boot NAME ROUND KERNEL SMP: one boot on its own copy of the disk, each console line stamped
# with the seconds since start.
boot() {
	local log=$logdir/smp-boot-$1-$2.log start line
	cp guest/out/disk.img "$work/$1.img"
	start=$(date +%s.%N)
	timeout "$timeout" ./kvmscope run --kernel "$3" --smp "$4" --initrd guest/out/initrd.img \
		--disk "$work/$1.img" 2>&1 </dev/null | while IFS= read -r line; do
		printf '%.2f %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
	done >"$log"
	printf '%.2f END\n' "$(echo "$(date +%s.%N) - $start" | bc)" >>"$log"
}

# at LOG PATTERN: the time of the first line matching PATTERN, or "-".
at() { awk -v p="$2" '$0 ~ p { print $1; f = 1; exit } END { if (!f) print "-" }' "$1"; }

printf '%-6s %-5s %-28s %8s %8s  %s\n' round guest "kernel --smp" init end cpus
for r in $(seq 1 "$rounds"); do
	boot up "$r" guest/out/vmlinux 1 &
	boot smp1 "$r" guest/out/vmlinux-smp 1 &
	boot smp2 "$r" guest/out/vmlinux-smp 2 &
	wait
	for g in up:"vmlinux --smp 1" smp1:"vmlinux-smp --smp 1" smp2:"vmlinux-smp --smp 2"; do
		log=$logdir/smp-boot-${g%%:*}-$r.log
		cpus=$(sed -n 's/.*KVMSCOPE-CPUS \([0-9]*\) online.*/\1/p' "$log" | head -1)
		printf '%-6s %-5s %-28s %8s %8s  %s\n' "$r" "${g%%:*}" "${g#*:}" \
			"$(at "$log" KVMSCOPE-INIT)" "$(at "$log" ' END$')" "${cpus:--}"
	done
done
