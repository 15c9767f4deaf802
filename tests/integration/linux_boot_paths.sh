# real-kvm-only: bzImage boots for about 90 s on kvm_pvm (its decompressor runs in the host's
# emulator), so tests/run.sh sends this script to L1 there (docs/platform.md).
# The two other ways into the Linux guest, beside linux.sh's 64-bit ELF entry: the bzImage
# (decompressor, then the 64-bit boot protocol) and the ELF's PVH note (32-bit, paging off).
# Each boot reaches /init, passes the IO smoke test and reboots with status 0.
. tests/lib.sh
need_kvm linux_boot_paths
if [ "$(kvm_here)" = kvm_pvm ]; then
	echo "SKIP linux_boot_paths: kvm_pvm runs the bzImage's decompressor for about 90 s; L1 runs this (L1=1)"
	exit 77
fi
for f in guest/out/vmlinux guest/out/bzImage guest/out/initrd.img guest/out/disk.img; do
	[ -f "$f" ] || { fail "linux_boot_paths: $f is missing (make guest-linux)"; exit 1; }
done
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for how in "bzImage" "vmlinux --pvh"; do
	set -- $how
	kernel=guest/out/$1; shift
	cp guest/out/disk.img "$out/disk.img"
	start=$(date +%s)
	timeout 600 $KVMSCOPE run --kernel "$kernel" --initrd guest/out/initrd.img --disk "$out/disk.img" \
		"$@" >"$out/console" 2>"$out/err" </dev/null
	rc=$?
	echo "linux_boot_paths: $how: kvmscope exited $rc after $(($(date +%s) - start)) s"
	check "linux $how: /init ran and its IO smoke test passed" \
		sh -c "grep -q KVMSCOPE-INIT '$out/console' && grep -q KVMSCOPE-IO-OK '$out/console'"
	check "linux $how: the guest rebooted, kvmscope exited 0 ($rc)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || { tail -n 5 "$out/console"; cat "$out/err"; }
done
exit $failed
