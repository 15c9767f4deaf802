#!/bin/sh
# tests/demo.sh (make demo): boot the Linux guest with a virtio-blk disk, its console on this
# terminal, then show what kvmscope saw.
cd "$(dirname "$0")/.." || exit 2
[ -c /dev/kvm ] || { echo "demo: /dev/kvm is missing: kvmscope needs KVM" >&2; exit 2; }
trace=guest/out/demo.kvt
echo "demo: booting guest/out/vmlinux with guest/out/disk.img as /dev/vda"
echo "demo: on this machine's software KVM the guest needs a minute or two to reach /init"
start=$(date +%s)
./kvmscope run --kernel guest/out/vmlinux --initrd guest/out/initrd.img \
	--disk guest/out/disk.img $DEMO_ARGS
rc=$?
echo "demo: kvmscope exited with status $rc after $(($(date +%s) - start)) s"
exit $rc
