# One Linux boot (minutes on a software KVM): the guest reaches its /init, does its IO smoke test
# on /dev/vda, and reboots; kvmscope exits 0. Every Linux check reads this one run; a second boot
# at the end offers the packed ring over the modern transport, which Linux takes.
. tests/lib.sh
need_kvm linux
for f in guest/out/vmlinux guest/out/initrd.img guest/out/disk.img; do
	[ -f "$f" ] || { fail "linux: $f is missing (make guest-linux)"; exit 1; }
done
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cp guest/out/disk.img "$out/disk.img"
# The trace stays for the viewer and comparison tests, which read it instead of booting again.
mkdir -p tests/out
trace=tests/out/linux.kvt
rm -f "$trace"

start=$(date +%s)
timeout 1200 $KVMSCOPE run --kernel guest/out/vmlinux --initrd guest/out/initrd.img \
	--disk "$out/disk.img" --trace "$trace" ${LINUX_ARGS:-} >"$out/console" 2>"$out/err" </dev/null
rc=$?
elapsed=$(($(date +%s) - start))
echo "linux: kvmscope exited $rc after $elapsed s"
check "linux: kernel booted (printk on the UART)" grep -q "Linux version" "$out/console"
check "linux: /init ran (KVMSCOPE-INIT)" grep -q "KVMSCOPE-INIT" "$out/console"
check "linux: guest found /dev/vda and its IO smoke test passed (KVMSCOPE-IO-OK)" \
	grep -q "KVMSCOPE-IO-OK" "$out/console"
check "linux: guest rebooted and kvmscope exited 0 ($rc)" [ "$rc" = 0 ]
# kvmscope gives the guest its TSC rate on every KVM: no calibration against a PIT or HPET it
# cannot use (docs/platform.md)
# (the fast PIT calibration of the CPU's rate may still fail on kvm_amd: the rate it is told wins)
check "linux: the guest's TSC rate is known (tsc: Detected ..., no failed TSC calibration)" \
	sh -c "grep -q 'tsc: Detected [0-9.]* MHz' '$out/console' &&
		! grep -E 'Unable to calibrate|could not calculate TSC khz' '$out/console'"
# A clock that holds on every KVM (docs/platform.md): no clocksource marked unstable by the
# watchdog (on kvm_amd in L1 it did so about a second after boot, against L1's irregular ticks),
# and /init's last look finds the TSC or kvmclock, not the jiffies it falls back to. Nor may the
# guest's clock run faster than the host's (a wrong TSC rate made it run 36 times too fast).
check "linux: the guest's clocksource held (KVMSCOPE-CLOCK tsc or kvm-clock, none marked unstable)" \
	sh -c "grep -Eq 'KVMSCOPE-CLOCK (tsc|kvm-clock)' '$out/console' &&
		! grep -E 'Marking TSC unstable|as unstable' '$out/console'"
guest_s=$(sed -n 's/^\[ *\([0-9]*\)\.[0-9]*\].*/\1/p' "$out/console" | tail -n 1)
check "linux: the guest's clock ran no faster than the host's (${guest_s:-?} s in $elapsed s)" \
	[ "${guest_s:-999999}" -le $((elapsed + 1)) ]
# Hardware KVM (and L1's kvm_amd) describes its paravirtual clock in CPUID leaves 0x40000000..,
# which the guest reads once kvmscope sets the hypervisor bit; on kvm_pvm the guest reads the
# host's CPUID instead, so there it depends on what runs the host.
if [ "$(kvm_here)" != kvm_pvm ]; then
	check "linux: the guest found KVM's paravirtual clock (kvm-clock: Using msrs)" \
		grep -q "kvm-clock: Using msrs" "$out/console"
fi
# The trace tells the virtio-blk init in the spec's order (virtio 1.2 §3.1.1), then the IO path.
$KVMSCOPE trace dump "$trace" --events virtio-status,features,queue-setup,notify,irq \
	>"$out/dump" 2>"$out/dump.err"
check "linux: trace dump reads the boot's trace" [ -s "$out/dump" ]
# in_order PATTERN...: each pattern (no spaces) matches a line after the previous one's line.
in_order() {
	awk -v pats="$*" 'BEGIN { n = split(pats, p, " "); i = 1 }
		i <= n && $0 ~ p[i] { line[i] = NR; i++ }
		END { if (i <= n) { print "missing after the others: " p[i]; exit 1 } }' "$out/dump"
}
check "linux: trace has reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queue setup, DRIVER_OK, first notify, its interrupt, in that order" \
	in_order ":device_reset." "new=ACKNOWLEDGE.[[{]" "new=ACKNOWLEDGE[|]DRIVER.[[{]" \
	":device_features_read." ":driver_features_write." ":features_ok." ":queue_desc." \
	":queue_enable.*enable=1" "new=ACKNOWLEDGE[|]DRIVER[|]FEATURES_OK[|]DRIVER_OK.[[{]" \
	":queue_notify." ":irq_raise."
check "linux: the ACKNOWLEDGE write is symbolized to the guest's virtio-pci probe" \
	grep -q "new=ACKNOWLEDGE .*guest=.*vp_set_status.*virtio_pci_probe" "$out/dump"
check "linux: the DRIVER_OK write is symbolized to virtblk_probe" \
	grep -q "DRIVER_OK .*guest=.*virtblk_probe" "$out/dump"
if [ "$failed" != 0 ]; then
	echo "--- last console lines"; tail -n 30 "$out/console"
	echo "--- kvmscope stderr"; cat "$out/err"
fi

# The packed ring (virtio 1.2 §2.8): Linux 6.1 negotiates VIRTIO_F_RING_PACKED when offered.
cp guest/out/disk.img "$out/disk.img"
start=$(date +%s)
rm -f tests/out/linux-packed.kvt # compare.sh diffs it against QEMU's packed=on log
timeout 1200 $KVMSCOPE run --kernel guest/out/vmlinux --initrd guest/out/initrd.img \
	--disk "$out/disk.img" --virtio modern --ring packed --trace tests/out/linux-packed.kvt \
	>"$out/console" 2>"$out/err" </dev/null
rc=$?
echo "linux --ring packed: kvmscope exited $rc after $(($(date +%s) - start)) s"
check "linux --ring packed: IO smoke test passed (KVMSCOPE-IO-OK) and the guest rebooted ($rc)" \
	sh -c "grep -q KVMSCOPE-IO-OK '$out/console' && [ $rc = 0 ]"
$KVMSCOPE trace dump tests/out/linux-packed.kvt --events features_ok,packed_pop,used_push \
	>"$out/dump"
check "linux --ring packed: the driver accepted F_RING_PACKED" \
	grep -q ":features_ok .*F_RING_PACKED" "$out/dump"
check "linux --ring packed: requests came through the packed ring (packed_pop, used_push with wrap)" \
	sh -c "grep -q ':packed_pop .*wrap=1' '$out/dump' && grep -q ':used_push .*used_idx=[0-9]*(wrap' '$out/dump'"
if [ "$failed" != 0 ]; then
	echo "--- last console lines"; tail -n 30 "$out/console"
	echo "--- kvmscope stderr"; cat "$out/err"
fi
exit $failed
