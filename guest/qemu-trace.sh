#!/bin/sh
# guest/qemu-trace.sh [legacy|modern|modern-only] [-o LOG] [--smp N] [--ioeventfd=off] [--packed] [--tcg]
#   [--no-status] [--timeout S]:
# a reference trace. Boots the kvmscope guest (guest/out/vmlinux, initrd.img, a copy of disk.img)
# under Debian's qemu-system-x86_64 through guest/qemu-run.sh (one flag list for both scripts)
# with QEMU's `log` trace backend on for the events `kvmscope import qemu` maps, and writes the
# log to LOG (default tests/out/qemu-MODE.log; the console goes to LOG.console).
#   legacy           virtio-blk-pci,disable-modern=on: the 0.9.5 transport in BAR0 I/O ports
#   modern           QEMU's default transitional device: Linux drives its virtio 1.x transport
#   modern-only      virtio-blk-pci,disable-legacy=on: a virtio 1.x device with no legacy BAR0
#   --smp N          N vCPUs and guest/out/vmlinux-smp (CONFIG_SMP); QEMU 7.2 gives the device N queues
#   --ioeventfd=off  the device takes every notify as an exit, so virtio_queue_notify shows them
#   --packed         packed=on: the device offers the packed virtqueue too (modern only)
#   --tcg            no KVM: QEMU's own CPU emulator; the same log but no kvm_set_ioeventfd lines
#   --no-status      reboot right after the guest's IO test, without the status snapshot below
#   --timeout S      give up after S seconds (default 900; a boot takes about a minute here)
# QEMU 7.2 logs no feature negotiation and no queue setup, so once the guest's IO test is done
# this asks QEMU's monitor (info virtio-status, info virtio-queue-status) what was negotiated,
# for the device and each of its queues, and keeps the answers in STEM-status.log beside LOG;
# kvmscope import reads it (docs/compare.md).
dir=$(cd "$(dirname "$0")" && pwd)
mode=legacy log="" ioeventfd="" timeout=900 status=1 tcg= packed= smp=1
while [ $# -gt 0 ]; do
	case "$1" in
	legacy | modern | modern-only) mode=$1 ;;
	--smp) smp=$2; shift ;;
	-o) log=$2; shift ;;
	-o*) log=${1#-o} ;;
	--ioeventfd=off) ioeventfd=off ;;
	--ioeventfd=on) ioeventfd="" ;;
	--tcg) tcg=1 ;;
	--packed) packed=1 ;;
	--no-status) status="" ;;
	--timeout) timeout=$2; shift ;;
	-h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "qemu-trace.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$log" ] || log=$dir/../tests/out/qemu-$mode.log
mkdir -p "$(dirname "$log")" || exit 2
[ -r "$dir/out/disk.img" ] || { echo "qemu-trace.sh: $dir/out/disk.img missing; build it with: make guest-linux" >&2; exit 2; }
snap=${log%.log}-status.log
case "$smp" in
[1-9] | [1-9][0-9]) ;;
*) echo "qemu-trace.sh: --smp takes a vCPU count from 1 to 99, not '$smp'" >&2; exit 2 ;;
esac
kernel=$dir/out/vmlinux
if [ "$smp" != 1 ]; then
	kernel=$dir/out/vmlinux-smp
	[ -r "$kernel" ] || { echo "qemu-trace.sh: $kernel missing; build it with: make -C guest -f linux.mk smp" >&2; exit 2; }
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cp "$dir/out/disk.img" "$tmp/disk.img" || exit 1 # the guest writes to its disk

# qemu-run.sh --trace enables virtio_* and pci_cfg_*; the rest of what the importer maps:
set -- --disk "$tmp/disk.img" --kernel "$kernel" --smp "$smp" --trace "$log" --
for ev in 'virtqueue_*' 'pci_update_mappings_*' 'msix_*' 'kvm_set_ioeventfd_*'; do
	set -- "$@" -trace "enable=$ev"
done
[ "$mode" = legacy ] && set -- --legacy "$@"
[ "$mode" = modern-only ] && set -- --modern-only "$@"
[ "$tcg" ] && set -- --tcg "$@"
[ "$status" ] && set -- --shell "$@" # /init waits in a shell instead of rebooting
[ "$ioeventfd" = off ] && set -- "$@" -global virtio-blk-pci.ioeventfd=off
[ "$packed" ] && set -- "$@" -global virtio-blk-pci.packed=on

rm -f "$log" "$snap"
start=$(date +%s)
echo "qemu-trace.sh: booting $mode${ioeventfd:+ (ioeventfd=off)}$([ "$smp" = 1 ] || echo " with $smp vCPUs") under QEMU${tcg:+ (TCG, no KVM)}; trace to $log (minutes here)" >&2
mkfifo "$tmp/in" || exit 1
timeout "$timeout" sh "$dir/qemu-run.sh" "$@" >"$log.console" 2>&1 <"$tmp/in" &
qemu=$!
exec 3>"$tmp/in" # QEMU's console and monitor (-serial mon:stdio): Ctrl-A c switches
if [ "$status" ]; then
	waited=0
	until grep -q "shell on the console" "$log.console" 2>/dev/null; do
		kill -0 $qemu 2>/dev/null && [ $waited -lt "$timeout" ] || break
		sleep 1
		waited=$((waited + 1))
	done
	sleep 1
	printf '\001c' >&3
	sleep 1
	printf 'info virtio\n' >&3
	sleep 2
	path=$(tr -d '\r' <"$log.console" | sed -n 's/^\(\/machine\/[^ ]*\) \[virtio-blk\]$/\1/p' | head -n 1)
	if [ -n "$path" ]; then
		printf 'info virtio-status %s\n' "$path" >&3
		sleep 2
		# one queue-status answer per queue the device has (num_vqs: one per vCPU by default)
		nvq=$(tr -d '\r' <"$log.console" | sed -n 's/^  num_vqs: *\([0-9][0-9]*\)$/\1/p' | tail -n 1)
		q=0
		while [ "$q" -lt "${nvq:-1}" ]; do
			printf 'info virtio-queue-status %s %d\n' "$path" "$q" >&3
			sleep 2
			q=$((q + 1))
		done
	else
		echo "qemu-trace.sh: warning: the monitor named no virtio-blk device; no status snapshot" >&2
	fi
	printf '\001c' >&3
	sleep 1
	printf 'reboot -f\n' >&3
fi
wait $qemu
rc=$?
exec 3>&-
secs=$(($(date +%s) - start))
if [ "$rc" = 124 ]; then
	echo "qemu-trace.sh: QEMU still running after $timeout s; killed (console: $log.console)" >&2
	exit 1
fi
if [ ! -s "$log" ]; then
	echo "qemu-trace.sh: QEMU exited $rc after $secs s and wrote no trace (console: $log.console)" >&2
	exit 1
fi
grep -q KVMSCOPE-IO-OK "$log.console" || echo "qemu-trace.sh: warning: the guest's IO test did not pass (console: $log.console)" >&2
# the monitor's answers, cut from the console: each from its "/machine/...:" line to the prompt
if [ "$status" ]; then
	sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log.console" | tr -d '\r' |
		awk '/^\/machine\/.*:$/ { on = 1 } /^\(qemu\)/ { on = 0 } on' >"$snap"
	if [ -s "$snap" ]; then
		echo "qemu-trace.sh: QEMU's virtio status after the IO test in $snap" >&2
	else
		rm -f "$snap"
		echo "qemu-trace.sh: warning: no status snapshot (console: $log.console)" >&2
	fi
fi
echo "qemu-trace.sh: QEMU exited $rc after $secs s; $(wc -l <"$log") trace lines in $log" >&2
