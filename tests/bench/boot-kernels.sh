#!/bin/bash
# tests/bench/boot-kernels.sh [-n N] [-t SECONDS] [NAME=KERNEL[:CPUS] ...]: a benchmark, not a
# test. Boots each Linux guest variant under ./kvmscope (initrd guest/out/initrd.img, a copy of
# guest/out/disk.img, --smp CPUS, default 1) one after the other, N rounds (default 3), the order
# rotated each round so that no variant always goes first on a machine whose load drifts. Prints,
# per boot, the seconds from start to `KVMSCOPE-INIT` and to the end, the CPUs and the clocksource
# /init saw; then each variant's median and its ratio to the first variant's. Without variants:
# up=guest/out/vmlinux smp1=guest/out/vmlinux-smp:1 smp2=guest/out/vmlinux-smp:2, what
# CONFIG_SMP costs at boot (docs/guest.md). Console logs, each line with its time:
# tests/out/bench/boot-NAME-ROUND.log. Only ratios within one run mean anything.
cd "$(dirname "$0")/../.." || exit 2
rounds=3 timeout=1200
while [ $# -gt 0 ]; do
	case "$1" in
	-n) rounds=$2; shift ;;
	-t) timeout=$2; shift ;;
	-h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "boot-kernels.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
case "$rounds" in '' | *[!0-9]* | 0) echo "boot-kernels.sh: -n wants a positive number" >&2; exit 2 ;; esac
[ $# -gt 0 ] || set -- up=guest/out/vmlinux smp1=guest/out/vmlinux-smp:1 smp2=guest/out/vmlinux-smp:2
names=() kernels=() cpus=()
for v in "$@"; do
	case $v in *=*) ;; *) echo "boot-kernels.sh: '$v' is not NAME=KERNEL[:CPUS]" >&2; exit 2 ;; esac
	k=${v#*=} c=1
	case $k in *:*) c=${k##*:} k=${k%:*} ;; esac
	case $c in '' | *[!0-9]*) echo "boot-kernels.sh: '$v': CPUS must be a number" >&2; exit 2 ;; esac
	names+=("${v%%=*}") kernels+=("$k") cpus+=("$c")
done
for f in ./kvmscope "${kernels[@]}" guest/out/initrd.img guest/out/disk.img; do
	[ -r "$f" ] || { echo "boot-kernels.sh: $f missing (make kvmscope guest-linux; make -C guest -f linux.mk smp)" >&2; exit 2; }
done
logdir=tests/out/bench
mkdir -p "$logdir"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# boot I ROUND: variant I once, on its own copy of the disk, each console line stamped with the
# seconds since start.
boot() {
	local log=$logdir/boot-${names[$1]}-$2.log start line
	cp guest/out/disk.img "$work/disk.img"
	start=$(date +%s.%N)
	timeout "$timeout" ./kvmscope run --kernel "${kernels[$1]}" --smp "${cpus[$1]}" \
		--initrd guest/out/initrd.img --disk "$work/disk.img" 2>&1 </dev/null |
		while IFS= read -r line; do
			printf '%.2f %s\n' "$(echo "$(date +%s.%N) - $start" | bc)" "$line"
		done >"$log"
	printf '%.2f END\n' "$(echo "$(date +%s.%N) - $start" | bc)" >>"$log"
}

# at LOG PATTERN: the time of the first line matching PATTERN, or "-".
at() { awk -v p="$2" '$0 ~ p { print $1; f = 1; exit } END { if (!f) print "-" }' "$1"; }
median() { tr ' ' '\n' | grep -v '^-\?$' | sort -n | awk '{v[NR]=$1} END {if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2); else print "-"}'; }

echo "boot-kernels.sh: $rounds round(s), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
printf '%-6s %-8s %-36s %8s %8s  %-4s %s\n' round name "kernel --smp" init end cpus clock
n=${#names[@]}
declare -a inits
for r in $(seq 1 "$rounds"); do
	for j in $(seq 0 $((n - 1))); do
		i=$(((j + r - 1) % n))
		boot "$i" "$r"
		log=$logdir/boot-${names[$i]}-$r.log
		c=$(sed -n 's/.*KVMSCOPE-CPUS \([0-9]*\) online.*/\1/p' "$log" | head -1)
		clock=$(sed -n 's/.*KVMSCOPE-CLOCK \([^ \r]*\).*/\1/p' "$log" | head -1)
		t=$(at "$log" KVMSCOPE-INIT)
		inits[$i]="${inits[$i]} $t"
		printf '%-6s %-8s %-36s %8s %8s  %-4s %s\n' "$r" "${names[$i]}" \
			"${kernels[$i]} --smp ${cpus[$i]}" "$t" "$(at "$log" ' END$')" "${c:--}" "${clock:--}"
	done
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
first=$(echo "${inits[0]}" | median)
for i in $(seq 0 $((n - 1))); do
	m=$(echo "${inits[$i]}" | median)
	printf '%-8s KVMSCOPE-INIT median %s s (of:%s)' "${names[$i]}" "$m" "${inits[$i]}"
	[ "$m" != - ] && [ "$first" != - ] && awk -v m="$m" -v f="$first" 'BEGIN { printf ", %.2f x %s", m / f, "'"${names[0]}"'" }'
	echo
done
