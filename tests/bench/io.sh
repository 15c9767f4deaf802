#!/bin/bash
# tests/bench/io.sh - random 4 KiB reads from the mini guest (test=load) through each of
# kvmscope's virtio-blk IO paths and through QEMU's virtio-blk, side by side in one run.
# Prints TSC ticks per read (the guest's own clock, median of REPEAT runs taken round-robin so
# host noise spreads over every path) and each row as a ratio of kvmscope's vcpu path at the
# same depth: quote the ratios, never the absolute numbers (docs/platform.md).
#
#   sh tests/bench/io.sh          # COUNT=2000 DEPTHS="1 8" VMMS="kvmscope qemu" REPEAT=3
#   COUNT=500 DEPTHS=4 VMMS=kvmscope sh tests/bench/io.sh
#
# Needs /dev/kvm, ./kvmscope (KVMSCOPE=...) and guest/out/mini.elf; QEMU rows need
# qemu-system-x86_64; the kvmscope-vhost-user row qemu-storage-daemon (guest/vhost-user-blk.sh).
# Not part of tests/run.sh: it takes minutes on a software KVM.
cd "$(dirname "$0")/../.." || exit 2
KVMSCOPE=${KVMSCOPE:-./kvmscope}
MINI=guest/out/mini.elf
COUNT=${COUNT:-2000}
DEPTHS=${DEPTHS:-"1 8"}
VMMS=${VMMS:-"kvmscope qemu"}
REPEAT=${REPEAT:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

[ -c /dev/kvm ] || { echo "SKIP io bench: no /dev/kvm"; exit 77; }
[ -f "$MINI" ] || { echo "io bench: $MINI not built (make mini)"; exit 2; }
# 64 MiB, sparse: reads come from the page cache, so the VMM's cost per request dominates.
truncate -s 64M "$out/disk.img"
# kvmscope's vhost-user path: one qemu-storage-daemon for every run, on an image of its own.
vhost=0
if [[ " $VMMS " == *" kvmscope "* ]] && command -v qemu-storage-daemon >/dev/null; then
	truncate -s 64M "$out/vu.img"
	sh guest/vhost-user-blk.sh "$out/vu.img" "$out/vu.sock" --pidfile "$out/vu.pid" && vhost=1
	trap 'kill $(cat "$out/vu.pid" 2>/dev/null) 2>/dev/null; rm -rf "$out"' EXIT
fi

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

for rep in $(seq "$REPEAT"); do
for depth in $DEPTHS; do
	for vmm in $VMMS; do
		case $vmm in
		kvmscope)
			for io in vcpu iothread uring; do
				run "kvmscope-$io" "$depth" timeout 600 "$KVMSCOPE" run --kernel "$MINI" \
					--disk "$out/disk.img" --blk-io "$io" \
					--append "test=load count=$COUNT depth=$depth"
			done
			[ $vhost = 1 ] && run kvmscope-vhost-user "$depth" timeout 600 "$KVMSCOPE" run \
				--kernel "$MINI" --blk-io "vhost-user,socket=$out/vu.sock" \
				--append "test=load count=$COUNT depth=$depth"
			;;
		qemu)
			command -v qemu-system-x86_64 >/dev/null || continue
			run qemu-mainloop "$depth" run_qemu "$depth" "" ""
			run qemu-iothread-uring "$depth" run_qemu "$depth" ",aio=io_uring" \
				",iothread=io0" -object iothread,id=io0
			;;
		esac
	done
done
done >"$out/rows"

echo "io bench: $COUNT random 4 KiB reads per run, median of $REPEAT; ticks from the guest's TSC"
printf '%-22s %5s %12s %8s %9s %8s %12s\n' path depth ticks/read ratio irqs/read wall_s \
	min-max
# Median per (path, depth) of ticks/read; irqs and wall time of the median run.
sort -k1,1 -k2,2n -k3,3n "$out/rows" | awk -v count="$COUNT" '
	function flush() {
		if (!n) return
		m = int((n + 1) / 2)
		key[++k] = name " " depth
		med[k] = t[m]; irq[k] = q[m]; wall[k] = w[m]; lo[k] = t[1]; hi[k] = t[n]
		if (name == "kvmscope-vcpu") base[depth] = t[m]
		n = 0
	}
	$1 " " $2 != name " " depth { flush(); name = $1; depth = $2 }
	{ n++; t[n] = $3; q[n] = $4; w[n] = $5 }
	END {
		flush()
		for (i = 1; i <= k; i++) {
			split(key[i], f, " ")
			r = (f[2] in base) ? sprintf("%.2f", med[i] / base[f[2]]) : "-"
			printf "%-22s %5s %12d %8s %9.3f %8.1f %12s\n", f[1], f[2], med[i], r,
				irq[i] / count, wall[i], lo[i] "-" hi[i]
		}
	}'
