#!/bin/bash
# tests/bench/io.sh - random 4 KiB reads from the mini guest (test=load) through each of
# kvmscope's virtio-blk IO paths and through QEMU's virtio-blk, side by side in one run.
# Prints TSC ticks per read (the guest's own clock) and each row as a ratio of kvmscope's vcpu
# path at the same depth: quote the ratios, never the absolute numbers (docs/platform.md).
#
#   sh tests/bench/io.sh                       # COUNT=2000 DEPTHS="1 8" VMMS="kvmscope qemu"
#   COUNT=500 DEPTHS=4 VMMS=kvmscope sh tests/bench/io.sh
#
# Needs /dev/kvm, ./kvmscope (KVMSCOPE=...) and guest/out/mini.elf; QEMU rows need
# qemu-system-x86_64. Not part of tests/run.sh: it takes minutes on a software KVM.
cd "$(dirname "$0")/../.." || exit 2
KVMSCOPE=${KVMSCOPE:-./kvmscope}
MINI=guest/out/mini.elf
COUNT=${COUNT:-2000}
DEPTHS=${DEPTHS:-"1 8"}
VMMS=${VMMS:-"kvmscope qemu"}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

[ -c /dev/kvm ] || { echo "SKIP io bench: no /dev/kvm"; exit 77; }
[ -f "$MINI" ] || { echo "io bench: $MINI not built (make mini)"; exit 2; }
# 64 MiB, sparse: reads come from the page cache, so the VMM's cost per request dominates.
truncate -s 64M "$out/disk.img"

# run NAME DEPTH CMD...: one guest run; prints "NAME DEPTH TICKS_PER_READ IRQS WALL_S".
# Failures go to stderr, so the table below has only rows that ran.
run() {
	local name=$1 depth=$2 t0 t1 line
	shift 2
	t0=$(date +%s.%N)
	"$@" >"$out/log" 2>&1 </dev/null
	t1=$(date +%s.%N)
	line=$(grep -a '^load: ' "$out/log" | tail -1)
	if [ -z "$line" ]; then
		echo "$name $depth FAILED: $(grep -a 'FAIL\|kvmscope' "$out/log" | tail -1)" >&2
		return
	fi
	# load: C reads done, depth D, T tsc ticks (P per read), I queue irqs
	echo "$line" | awk -v n="$name" -v d="$depth" -v w="$(echo "$t1 - $t0" | bc)" \
		'{ p = $10; sub(/^\(/, "", p); print n, d, p, $13, w }'
}

run_qemu() { # run_qemu DEPTH EXTRA_DRIVE EXTRA_DEVICE [OBJECT...]
	local depth=$1 drive=$2 dev=$3
	shift 3
	timeout 600 qemu-system-x86_64 -enable-kvm -M pc -m 64 -display none -serial stdio -no-reboot \
		-kernel "$MINI" -append "test=load count=$COUNT depth=$depth" \
		-device isa-debug-exit,iobase=0xf4,iosize=1 "$@" \
		-drive "if=none,id=d0,file=$out/disk.img,format=raw,cache=writeback$drive" \
		-device "virtio-blk-pci,drive=d0,serial=mini,disable-legacy=on$dev"
}

for depth in $DEPTHS; do
	for vmm in $VMMS; do
		case $vmm in
		kvmscope)
			for io in vcpu iothread uring; do
				run "kvmscope-$io" "$depth" timeout 600 "$KVMSCOPE" run --kernel "$MINI" \
					--disk "$out/disk.img" --blk-io "$io" \
					--append "test=load count=$COUNT depth=$depth"
			done
			;;
		qemu)
			command -v qemu-system-x86_64 >/dev/null || continue
			run qemu-mainloop "$depth" run_qemu "$depth" "" ""
			run qemu-iothread-uring "$depth" run_qemu "$depth" ",aio=io_uring" \
				",iothread=io0" -object iothread,id=io0
			;;
		esac
	done
done >"$out/rows"

echo "io bench: $COUNT random 4 KiB reads per run; ticks/read from the guest's TSC"
printf '%-22s %5s %12s %8s %9s %8s\n' path depth ticks/read ratio irqs/read wall_s
awk -v count="$COUNT" '
	{ rows[NR] = $0; if ($1 == "kvmscope-vcpu") base[$2] = $3 }
	END {
		for (i = 1; i <= NR; i++) {
			split(rows[i], f, " ")
			r = (f[2] in base) && base[f[2]] > 0 ? sprintf("%.2f", f[3] / base[f[2]]) : "-"
			printf "%-22s %5s %12s %8s %9.3f %8.1f\n", f[1], f[2], f[3], r, f[4] / count, f[5]
		}
	}' "$out/rows"
