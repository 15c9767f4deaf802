#!/bin/bash
# tests/tools/mini-blk.sh [kvmscope|qemu] - mini.elf's test=blk over every transport x irq x
# event_idx on the split ring, and over irq x event_idx on the packed ring (modern transport
# only: VIRTIO_F_RING_PACKED is bit 34; not over vhost-user), each on a fresh zeroed image
# checked afterwards by patcheck; event_idx=0 runs with one queue and event_idx=1 with two
# (queues=2, VIRTIO_BLK_F_MQ, on one IO thread or two by turns; vhost-user: one queue); then
# test=load on each, and with two queues on the first and last transport/ring pair; then
# test=smp on two CPUs (QEMU's default -smp 2 topology: its firmware's MP table lists one CPU,
# the ACPI MADT both); under kvmscope on the iothread and uring paths, test=load with in_order=1
# (VIRTIO_F_IN_ORDER, kvmscope --in-order) on the split and the packed ring.
# BLK_IO=vcpu|iothread|uring|vhost-user picks kvmscope's IO path (default vcpu); vhost-user
# starts qemu-storage-daemon on each image (guest/vhost-user-blk.sh). TRANSPORTS: the guest's
# transports to run (default "legacy modern"). MINI_TESTS: which of blk, load, smp, inorder to
# run (default all four).
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

# run_guest TRANSPORT IRQ APPEND [RING [QUEUES [CPUS]]]: boots mini.elf on $out/disk.img, sets
# $status and $log.
run_guest() {
	local transport=$1 irq=$2 append=$3 ring=${4:-split} queues=${5:-1} cpus=${6:-1} rc
	log=$out/log
	if [ "$vmm" = qemu ]; then
		local dev=virtio-blk-pci,drive=d0,serial=mini
		[ "$transport" = legacy ] && dev=$dev,disable-modern=on
		[ "$transport" = modern ] && dev=$dev,disable-legacy=on
		[ "$ring" = packed ] && dev=$dev,packed=on
		dev=$dev,num-queues=$queues
		timeout 120 qemu-system-x86_64 -enable-kvm -M pc -m 64 -smp "$cpus" -display none \
			-serial stdio -no-reboot -kernel "$MINI" -append "$append" \
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
		# two queues on an IO-thread path: on one thread or two, by turns
		local threads=
		[ "$queues" = 2 ] && [ "$io" = iothread -o "$io" = uring ] &&
			threads="--iothreads $((n % 2 + 1))"
		timeout 60 "$KVMSCOPE" run --kernel "$MINI" $disk --blk-queues "$queues" $threads \
			--smp "$cpus" ${IN_ORDER:+--in-order} \
			--virtio "$transport" --irq "$virq" --blk-io "$io" --ring "$ring" \
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

# TRANSPORT/RING pairs: each transport with the split ring, and the packed ring on modern.
pairs=
for transport in ${TRANSPORTS:-legacy modern}; do pairs="$pairs $transport/split"; done
case " ${TRANSPORTS:-legacy modern} " in
*" modern "*) [ "${BLK_IO:-}" = vhost-user ] || pairs="$pairs modern/packed" ;;
esac
# runs NAME: whether MINI_TESTS asks for NAME.
runs() { case " ${MINI_TESTS:-blk load smp inorder} " in *" $1 "*) return 0 ;; esac; return 1; }
n=0
runs blk && for tr in $pairs; do
	transport=${tr%/*} ring=${tr#*/}
	for irq in msix intx poll; do
		# event_idx 0 on one queue, event_idx 1 on two (queue 0 of a two-queue device runs the
		# same code as the only queue of one); vhost-user: one queue, event_idx 0 and 1
		for evq in 0/1 1/2; do
			ev=${evq%/*} q=${evq#*/}
			[ "$q" = 2 ] && [ "${BLK_IO:-}" = vhost-user ] && q=1
			n=$((n + 1))
			sector=$((n * 13)) seed=$((n * 101)) sectors=$((40 + n))
			rm -f "$out/disk.img"; truncate -s 8M "$out/disk.img"
			run_guest "$transport" "$irq" "test=blk transport=$transport irq=$irq event_idx=$ev ring=$ring queues=$q sector=$sector sectors=$sectors seed=$seed" "$ring" "$q"
			name="$vmm${BLK_IO:+ blk-io=$BLK_IO} test=blk transport=$transport ring=$ring irq=$irq event_idx=$ev queues=$q"
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
set -- $pairs
runs load && for tr in $pairs $1/2 ${pairs##* }/2; do
	q=1
	case $tr in */*/2) q=2 tr=${tr%/2} ;; esac
	[ "$q" = 2 ] && [ "${BLK_IO:-}" = vhost-user ] && continue
	transport=${tr%/*} ring=${tr#*/} load="depth=8 count=500 queues=$q"
	# packed: a ring of 100 (no power of 2, §2.8) with 32 requests out, completed out of order
	# on the uring path
	[ "$ring" = packed ] && load="qsize=100 depth=32 count=600 queues=$q"
	run_guest "$transport" msix "test=load transport=$transport ring=$ring $load" "$ring" "$q"
	result "$vmm${BLK_IO:+ blk-io=$BLK_IO} test=load transport=$transport ring=$ring $load"
	grep -a '^load:' "$log"
done
# Two CPUs, each writing and reading back its own sectors through the one queue. The guest finds
# them in ACPI's MADT where there is one (QEMU), else in the MP table (kvmscope).
if runs smp; then
	transport=${TRANSPORTS:-modern}; transport=${transport##* }
	run_guest "$transport" msix "test=smp count=4 transport=$transport" split 1 2
	name="$vmm${BLK_IO:+ blk-io=$BLK_IO} test=smp on 2 CPUs, transport=$transport"
	result "$name"
	grep -a '^smp:' "$log"
	grep -aq "^smp: ok: 2 CPUs started, requests per CPU: 8 8" "$log" ||
		{ echo "FAIL $name: not both CPUs did their 8 requests"; failed=1; }
fi
# VIRTIO_F_IN_ORDER, where requests can finish out of order (QEMU 7.2 has no in-order device):
# two queues, 24 requests out, every fourth a GET_ID that the device answers at once while the
# reads before it are in flight. The guest fails on a buffer used out of order; kvmscope never
# writes a batched used entry (docs/packed.md), so the guest must count none.
case "$vmm/${BLK_IO:-vcpu}" in kvmscope/iothread | kvmscope/uring) runs inorder ;; *) false ;; esac &&
	for ring in split packed; do
		load="test=load transport=modern ring=$ring in_order=1 depth=24 count=400 queues=2"
		IN_ORDER=1 run_guest modern msix "$load" "$ring" 2
		name="$vmm blk-io=$BLK_IO $load"
		result "$name"
		grep -a '^in_order:' "$log"
		grep -aq "^in_order: [0-9]* buffers used in the order made available, 0 batched" "$log" ||
			{ echo "FAIL $name: no in-order summary with 0 batched used entries"; failed=1; }
	done
exit $failed
