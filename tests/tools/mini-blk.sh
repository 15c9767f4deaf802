#!/bin/bash
# tests/tools/mini-blk.sh [kvmscope|qemu] - mini.elf's test=blk over every transport x irq x
# event_idx, each on a fresh zeroed image checked afterwards by patcheck; then test=load.
# BLK_IO=vcpu|iothread|uring|vhost-user picks kvmscope's IO path (default vcpu); vhost-user
# starts qemu-storage-daemon on each image (guest/vhost-user-blk.sh). TRANSPORTS: the guest's
# transports to run (default "legacy modern").
# Prints "ok"/"FAIL" lines as tests/run.sh counts them. Run from the repository root after
# `make -C guest/mini && make -C tests/tools`. qemu is the reference device: a failure there is
# the guest's, a failure only under kvmscope is the VMM's.
vmm=${1:-kvmscope}
KVMSCOPE=${KVMSCOPE:-./kvmscope}
MINI=guest/out/mini.elf
PATCHECK=tests/out/patcheck
failed=0
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT

if [ ! -c /dev/kvm ]; then echo "SKIP mini-blk: no /dev/kvm"; exit 77; fi
for f in "$MINI" "$PATCHECK"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "FAIL mini-blk: $f not built"; exit 1; }
done

# run_guest TRANSPORT IRQ APPEND: boots mini.elf on $out/disk.img, sets $status and $log.
run_guest() {
	local transport=$1 irq=$2 append=$3 rc
	log=$out/log
	if [ "$vmm" = qemu ]; then
		local dev=virtio-blk-pci,drive=d0,serial=mini
		[ "$transport" = legacy ] && dev=$dev,disable-modern=on
		[ "$transport" = modern ] && dev=$dev,disable-legacy=on
		timeout 120 qemu-system-x86_64 -enable-kvm -M pc -m 64 -display none -serial stdio \
			-no-reboot -kernel "$MINI" -append "$append" \
			-device isa-debug-exit,iobase=0xf4,iosize=1 \
			-drive if=none,id=d0,file="$out/disk.img",format=raw,cache=unsafe \
			-device "$dev" >"$log" 2>&1 </dev/null
		rc=$?
		status=$((rc >> 1)) # isa-debug-exit exits with (N << 1) | 1
	else
		local virq=$irq
		[ "$irq" = poll ] && virq=msix # the device side is the same; the guest just polls
		local disk="--disk $out/disk.img" io=${BLK_IO:-vcpu}
		if [ "$io" = vhost-user ]; then # the image is the backend's, kvmscope has a socket
			backend_start || { status=1; return; }
			disk= io=vhost-user,socket=$out/vu.sock
		fi
		timeout 60 "$KVMSCOPE" run --kernel "$MINI" $disk \
			--virtio "$transport" --irq "$virq" --blk-io "$io" \
			--append "$append" >"$log" 2>&1 </dev/null
		status=$?
		[ "${BLK_IO:-}" = vhost-user ] && backend_stop
	fi
}

# BLK_IO=vhost-user: qemu-storage-daemon serves $out/disk.img on $out/vu.sock for one run.
backend_start() {
	sh guest/vhost-user-blk.sh "$out/disk.img" "$out/vu.sock" --pidfile "$out/vu.pid" \
		>"$out/vu.log" 2>&1 || { echo "# backend: $(cat "$out/vu.log")"; return 1; }
}
backend_stop() { # and wait for it to go: the image is complete after that
	local pid; pid=$(cat "$out/vu.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
}

result() { # NAME: ok when $status is 0, else FAIL with the guest's last line
	if [ "$status" = 0 ]; then
		echo "ok $1"
	else
		echo "FAIL $1: status $status: $(grep -a 'FAIL\|kvmscope:' "$log" | tail -1)"
		failed=1
	fi
}

n=0
for transport in ${TRANSPORTS:-legacy modern}; do
	for irq in msix intx poll; do
		for ev in 0 1; do
			n=$((n + 1))
			sector=$((n * 13)) seed=$((n * 101)) sectors=$((40 + n))
			rm -f "$out/disk.img"; truncate -s 8M "$out/disk.img"
			run_guest "$transport" "$irq" "test=blk transport=$transport irq=$irq event_idx=$ev sector=$sector sectors=$sectors seed=$seed"
			name="$vmm${BLK_IO:+ blk-io=$BLK_IO} test=blk transport=$transport irq=$irq event_idx=$ev"
			result "$name"
			if "$PATCHECK" "$out/disk.img" sector=$sector sectors=$sectors seed=$seed >"$out/pc"; then
				echo "ok $name: image holds the pattern"
			else
				echo "FAIL $name: $(cat "$out/pc")"; failed=1
			fi
		done
	done
done
rm -f "$out/disk.img"; truncate -s 8M "$out/disk.img"
for transport in ${TRANSPORTS:-legacy modern}; do
	run_guest "$transport" msix "test=load transport=$transport depth=8 count=500"
	result "$vmm${BLK_IO:+ blk-io=$BLK_IO} test=load transport=$transport depth=8 count=500"
	grep -a '^load:' "$log"
done
exit $failed
