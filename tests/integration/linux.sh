# One Linux boot (minutes on a software KVM): the guest reaches its /init, does its IO smoke test
# on /dev/vda, and reboots; kvmscope exits 0. Every Linux check reads this one run.
. tests/lib.sh
need_kvm linux
for f in guest/out/vmlinux guest/out/initrd.img guest/out/disk.img; do
	[ -f "$f" ] || { fail "linux: $f is missing (make guest-linux)"; exit 1; }
done
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cp guest/out/disk.img "$out/disk.img"

start=$(date +%s)
timeout 1200 $KVMSCOPE run --kernel guest/out/vmlinux --initrd guest/out/initrd.img \
	--disk "$out/disk.img" ${LINUX_ARGS:-} >"$out/console" 2>"$out/err" </dev/null
rc=$?
echo "linux: kvmscope exited $rc after $(($(date +%s) - start)) s"
check "linux: kernel booted (printk on the UART)" grep -q "Linux version" "$out/console"
check "linux: /init ran (KVMSCOPE-INIT)" grep -q "KVMSCOPE-INIT" "$out/console"
check "linux: guest found /dev/vda and its IO smoke test passed (KVMSCOPE-IO-OK)" \
	grep -q "KVMSCOPE-IO-OK" "$out/console"
check "linux: guest rebooted and kvmscope exited 0 ($rc)" [ "$rc" = 0 ]
if [ "$failed" != 0 ]; then
	echo "--- last console lines"; tail -n 30 "$out/console"
	echo "--- kvmscope stderr"; cat "$out/err"
fi
exit $failed
