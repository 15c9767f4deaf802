#!/bin/sh
# tests/demo.sh (make demo): boot the Linux guest with a virtio-blk disk, its console on this
# terminal and a trace recorded, then show what kvmscope saw.
cd "$(dirname "$0")/.." || exit 2
[ -c /dev/kvm ] || { echo "demo: /dev/kvm is missing: kvmscope needs KVM" >&2; exit 2; }
trace=guest/out/demo.kvt
echo "demo: booting guest/out/vmlinux with guest/out/disk.img as /dev/vda, tracing to $trace"
echo "demo: on a software KVM (kvm_pvm) the guest needs 20-40 s to reach its /init"
start=$(date +%s)
./kvmscope run --kernel guest/out/vmlinux --initrd guest/out/initrd.img \
	--disk guest/out/disk.img --trace "$trace" $DEMO_ARGS
rc=$?
echo
echo "demo: kvmscope exited with status $rc after $(($(date +%s) - start)) s"
[ -f "$trace" ] || exit $rc
echo
echo "demo: the virtio-blk handshake as the guest drove it (kvmscope trace dump, one line each):"
./kvmscope trace dump "$trace" --events device_reset,virtio_status,features_ok,queue_enable \
	| sed -e 's/ \[[a-z_]*\] guest=/  <- /' | cut -c1-160
echo
./kvmscope trace stats "$trace" | sed -n '/^drops/,$p'
echo
echo "demo: walk it step by step:  ./kvmscope view $trace"
echo "demo: every event:            ./kvmscope trace dump $trace | less"
exit $rc
