#!/bin/sh
# tests/demo.sh (make demo): boot the Linux guest with a virtio-blk disk, its console on this
# terminal and a trace recorded, then show what kvmscope saw. Where /dev/kvm is missing or
# unusable, the guest boots in L1 (guest/l1/run.sh: a real KVM, kvm_amd, in a machine QEMU
# emulates) and the trace comes back into guest/out. Where L1 cannot run either (L1=0, no
# qemu-system-x86_64 and no root to install it, or L1 fails to start), it shows the shipped trace
# of a Linux boot instead (docs/traces/demo.kvt): the viewer on a terminal, its handshake and
# statistics otherwise; and says how to record one's own.
# tests/demo.sh --where: print "here", "l1" or "trace" (where the guest will boot; trace: nowhere,
# the shipped trace is shown) with one line on stderr saying why; make demo asks this before any
# long build.
cd "$(dirname "$0")/.." || exit 2
. tests/lib.sh
shipped=docs/traces/demo.kvt
kvm=$(kvm_here)
if [ -n "$kvm" ]; then
	where=here
	why="booting on this machine's KVM ($kvm)"
elif [ "${L1:-1}" = 0 ]; then
	where=trace
	why="/dev/kvm is missing or not usable here, and L1=0 turns off the emulated machine that would stand in for it"
elif ! command -v qemu-system-x86_64 >/dev/null && [ "$(id -u)" != 0 ]; then
	where=trace
	why="/dev/kvm is missing or not usable here, and L1 needs qemu-system-x86_64 (package qemu-system-x86), which only root can install"
else
	where=l1
	why="/dev/kvm is missing or not usable here: the guest will boot in L1, a machine QEMU emulates with AMD SVM, on its real KVM (kvm_amd); slower, but real"
fi
if [ "$1" = --where ]; then
	echo "demo: $why" >&2
	echo $where
	exit 0
fi

# What a trace shows: its handshake as the guest drove it, then its statistics.
show() {
	echo "demo: the virtio-blk handshake as the guest drove it (kvmscope trace dump, one line each):"
	./kvmscope trace dump "$1" --events device_reset,virtio_status,features_ok,queue_enable \
		| sed -e 's/ \[[a-z_]*\] guest=/  <- /' | cut -c1-160
	echo
	./kvmscope trace stats "$1" | sed -n '/^drops/,$p'
	echo
}
# No guest can boot here: the shipped trace of one that did, and how to record one's own.
show_shipped() {
	echo "demo: $1"
	echo "demo: showing instead $shipped, recorded by docs/traces/record.sh when the same Linux guest booted under kvmscope with its defaults (transitional virtio-pci, MSI-X, requests served on the vCPU thread)"
	[ -r "$shipped" ] || { echo "demo: $shipped is missing from this checkout" >&2; exit 1; }
	if [ -t 0 ] && [ -t 1 ]; then
		echo "demo: opening the viewer on it: n walks the init one spec step at a time, ? lists the keys, q quits"
		sleep 2
		./kvmscope view "$shipped"
		rc=$?
		[ $rc = 0 ] || exit $rc
	else
		show "$shipped"
		echo "demo: walk it step by step:  ./kvmscope view $shipped"
	fi
	echo "demo: more traces (legacy, modern, INTx, the iothread and io_uring paths) and the QEMU 7.2 logs they pair with: docs/traces/README.md; a lecture on them: docs/tour.md"
	echo "demo: to record your own you need a usable /dev/kvm, or L1 (qemu-system-x86_64; as root make demo installs it): then make demo, or"
	echo "demo:   ./kvmscope run --kernel guest/out/vmlinux --initrd guest/out/initrd.img --disk guest/out/disk.img --trace my.kvt"
	exit 0
}
[ $where = trace ] && show_shipped "$why"

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
	[ $rc = 125 ] && show_shipped "L1 could not start here (guest/l1/run.sh said why above)"
fi
echo
[ $where = l1 ] && where=" (in L1; host time, L1's start included)" || where=""
echo "demo: kvmscope exited with status $rc after $(($(date +%s) - start)) s$where"
[ -f "$trace" ] || exit $rc
echo
show "$trace"
echo "demo: walk it step by step:  ./kvmscope view $trace"
echo "demo: every event:            ./kvmscope trace dump $trace | less"
exit $rc
