# Linux on two vCPUs (minutes on a software KVM): the SMP guest kernel (out/vmlinux-smp, built by
# `make -C guest -f linux.mk smp`, not by `make guest`) starts its second CPU through the MP table
# and INIT/SIPI, both are online in /proc/cpuinfo, the IO smoke test passes, and the guest reboots.
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
start=$(date +%s)
timeout 1200 $KVMSCOPE run --kernel guest/out/vmlinux-smp --initrd guest/out/initrd.img \
	--disk "$out/disk.img" --smp 2 --trace "$out/t.kvt" >"$out/console" 2>"$out/err" </dev/null
rc=$?
echo "linux_smp: kvmscope exited $rc after $(($(date +%s) - start)) s"
check "linux_smp: the kernel brought up 2 CPUs" grep -q "Brought up 1 node, 2 CPUs" "$out/console"
check "linux_smp: /proc/cpuinfo lists 2 CPUs (KVMSCOPE-CPUS 2 online)" \
	grep -q "KVMSCOPE-CPUS 2 online" "$out/console"
check "linux_smp: the IO smoke test passed (KVMSCOPE-IO-OK)" grep -q "KVMSCOPE-IO-OK" "$out/console"
check "linux_smp: guest rebooted and kvmscope exited 0 ($rc)" [ "$rc" = 0 ]
$KVMSCOPE trace stats "$out/t.kvt" >"$out/s"
check "linux_smp: trace stats counts 2 vCPUs" grep -q "^  vcpus: 2$" "$out/s"
if [ "$failed" != 0 ]; then
	echo "linux_smp: console tail:"; tail -20 "$out/console"; cat "$out/err"
fi
exit $failed
