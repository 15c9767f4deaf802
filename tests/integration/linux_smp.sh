# Linux on two vCPUs (minutes on a software KVM): the SMP guest kernel (out/vmlinux-smp, built by
# `make -C guest -f linux.mk smp`, not by `make guest`) starts its second CPU through the MP table
# and INIT/SIPI, both are online in /proc/cpuinfo, the IO smoke test passes, and the guest reboots.
# The same boot checks multi-queue virtio-blk on the packed ring and the IO thread: two queues
# (VIRTIO_BLK_F_MQ), blk-mq maps one CPU to each, a read from each CPU, and the trace shows both
# queues served.
# `make check` builds vmlinux-smp; skipped only where it is not built (`make test` alone).
. tests/lib.sh
need_kvm linux_smp
for f in guest/out/vmlinux-smp guest/out/initrd.img guest/out/disk.img; do
	if [ ! -f "$f" ]; then
		echo "SKIP linux_smp: $f is missing (make -C guest -f linux.mk smp)"
		exit 77
	fi
done
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cp guest/out/disk.img "$out/disk.img"
# boot: one run of the guest; rc is kvmscope's status, 124 on the timeout or when the console
# stays silent for $silence seconds (only in L1: see below)
boot() {
	start=$(date +%s)
	timeout 1200 $KVMSCOPE run --kernel guest/out/vmlinux-smp --initrd guest/out/initrd.img \
		--disk "$out/disk.img" --smp 2 --blk-queues 2 --ring packed --blk-io iothread \
		--trace "$out/t.kvt" >"$out/console" 2>"$out/err" </dev/null &
	pid=$!
	last=0 quiet=0
	while kill -0 $pid 2>/dev/null; do
		sleep 5
		size=$(wc -c <"$out/console")
		if [ "$size" = "$last" ]; then quiet=$((quiet + 5)); else quiet=0 last=$size; fi
		if [ -n "$silence" ] && [ $quiet -ge "$silence" ]; then
			kill $pid 2>/dev/null
			break
		fi
	done
	wait $pid
	rc=$?
	[ -n "$silence" ] && [ $quiet -ge "$silence" ] && rc=124
	echo "linux_smp: kvmscope exited $rc after $(($(date +%s) - start)) s"
}
# In L1 (kvm_amd on QEMU's emulated SVM) a 2-vCPU Linux guest stops for good now and then, under
# QEMU as under kvmscope (2 of 14 and 6 of 12 boots, docs/platform.md): its boot CPU stays on one OUT to the
# serial port that its VMM already served, and nothing reaches user space again. There a boot
# whose console is silent for 120 s is that hang: say so and boot once more.
silence=""
[ -n "$L1_INSIDE" ] && silence=${SMP_SILENCE:-120}
boot
if [ "$rc" = 124 ] && [ -n "$silence" ]; then
	echo "linux_smp: the guest stopped (console silent ${silence} s) after: $(grep -v '^$' "$out/console" | tail -1)"
	echo "linux_smp: the known hang of SMP guests in L1 (QEMU's too); booting again, once"
	cp guest/out/disk.img "$out/disk.img"
	boot
fi
check "linux_smp: the kernel brought up 2 CPUs" grep -q "Brought up 1 node, 2 CPUs" "$out/console"
check "linux_smp: /proc/cpuinfo lists 2 CPUs (KVMSCOPE-CPUS 2 online)" \
	grep -q "KVMSCOPE-CPUS 2 online" "$out/console"
check "linux_smp: the IO smoke test passed (KVMSCOPE-IO-OK)" grep -q "KVMSCOPE-IO-OK" "$out/console"
check "linux_smp: guest rebooted and kvmscope exited 0 ($rc)" [ "$rc" = 0 ]
$KVMSCOPE trace stats "$out/t.kvt" >"$out/s"
check "linux_smp: trace stats counts 2 vCPUs" grep -q "^  vcpus: 2$" "$out/s"
check "linux_smp: the guest sees 2 virtio-blk queues, one CPU each (KVMSCOPE-MQ)" \
	grep -q "KVMSCOPE-MQ 2 queue(s), queue:cpus 0:0 1:1" "$out/console"
check "linux_smp: a read from each CPU (KVMSCOPE-MQ-IO)" \
	sh -c "grep -q 'KVMSCOPE-MQ-IO read from CPU 0' '$out/console' &&
	grep -q 'KVMSCOPE-MQ-IO read from CPU 1' '$out/console'"
$KVMSCOPE trace dump "$out/t.kvt" >"$out/d"
check "linux_smp: the driver negotiated VIRTIO_BLK_F_MQ and the packed ring" \
	sh -c "grep 'driver_features' '$out/d' | grep -q 'BLK_F_MQ' && grep 'driver_features' '$out/d' | grep -q 'RING_PACKED'"
for q in 0 1; do
	check "linux_smp: queue $q: requests popped and completed on the IO thread, its own interrupts" \
		sh -c "grep -q '^io0@.*packed_pop.* queue=$q ' '$out/d' &&
		grep -q '^io0@.*req_complete.* queue=$q ' '$out/d' && grep -q '^io0@.*irq_raise.* queue=$q ' '$out/d'"
done
if [ "$failed" != 0 ]; then
	echo "linux_smp: console tail:"; tail -20 "$out/console"; cat "$out/err"
fi
exit $failed
