#!/bin/sh
# tests/demo.sh (make demo): boot the Linux guest with a virtio-blk disk, its console on this
# terminal and a trace recorded, then show what kvmscope saw. Where /dev/kvm is missing or
# unusable, the guest boots in L1 (guest/l1/run.sh: a real KVM, kvm_amd, in a machine QEMU
# emulates) and the trace comes back into guest/out. L1=0: no L1, stop instead.
# tests/demo.sh --where: print "here" or "l1" (where the guest will boot), or say in one line why
# it cannot boot anywhere and exit 2; make demo asks this before any long build.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
kvm=$(kvm_here)
if [ -n "$kvm" ]; then
	where=here
elif [ "${L1:-1}" != 0 ]; then
	where=l1
else
	echo "demo: /dev/kvm is missing or not usable here, and L1=0 turns off the emulated machine that would stand in for it" >&2
	exit 2
fi
if [ "$1" = --where ]; then
	if [ $where = here ]; then
		echo "demo: booting on this machine's KVM ($kvm)" >&2
	else
		echo "demo: /dev/kvm is missing or not usable here: the guest will boot in L1, a machine QEMU emulates with AMD SVM, on its real KVM (kvm_amd); slower, but real" >&2
	fi
	echo $where
	exit 0
fi

trace=guest/out/demo.kvt
rm -f "$trace"
echo "demo: booting guest/out/vmlinux with guest/out/disk.img as /dev/vda, tracing to $trace"
set -- ./kvmscope run --kernel guest/out/vmlinux --initrd guest/out/initrd.img \
	--disk guest/out/disk.img --trace "$trace" $DEMO_ARGS
start=$(date +%s)
if [ $where = here ]; then
	[ "$kvm" = kvm_pvm ] && echo "demo: on a software KVM (kvm_pvm) the guest needs 20-40 s to reach its /init"
	"$@"
	rc=$?
else
	echo "demo: L1 takes 10-30 s to start (its kernel is emulated), then the guest boots in it in about 5-20 s"
	tty=""
	[ -t 0 ] && [ -t 1 ] && tty=--tty
	# guest/out is shared read-write: the trace (and the disk's writes) land here
	sh guest/l1/run.sh $tty --rw guest/out -- "$@"
	rc=$?
fi
echo
[ $where = l1 ] && where=" (in L1; host time, L1's start included)" || where=""
echo "demo: kvmscope exited with status $rc after $(($(date +%s) - start)) s$where"
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
