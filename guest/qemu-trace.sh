#!/bin/sh
# guest/qemu-trace.sh [legacy|modern] [-o LOG] [--ioeventfd=off] [--timeout S]: a reference trace.
# Boots the kvmscope guest (guest/out/vmlinux, initrd.img, a copy of disk.img) under Debian's
# qemu-system-x86_64 through guest/qemu-run.sh (one flag list for both scripts) with QEMU's `log`
# trace backend on for the events `kvmscope import qemu` maps, and writes the log to LOG
# (default tests/out/qemu-MODE.log; the console goes to LOG.console).
#   legacy           virtio-blk-pci,disable-modern=on: the 0.9.5 transport in BAR0 I/O ports
#   modern           QEMU's default transitional device: Linux drives its virtio 1.x transport
#   --ioeventfd=off  the device takes every notify as an exit, so virtio_queue_notify shows them
#   --timeout S      give up after S seconds (default 900; a boot takes 2-3 minutes here)
# Compare the result with a kvmscope trace: kvmscope diff RUN.kvt LOG (docs/compare.md).
dir=$(cd "$(dirname "$0")" && pwd)
mode=legacy log="" ioeventfd="" timeout=900
while [ $# -gt 0 ]; do
	case "$1" in
	legacy | modern) mode=$1 ;;
	-o) log=$2; shift ;;
	-o*) log=${1#-o} ;;
	--ioeventfd=off) ioeventfd=off ;;
	--ioeventfd=on) ioeventfd="" ;;
	--timeout) timeout=$2; shift ;;
	-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "qemu-trace.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$log" ] || log=$dir/../tests/out/qemu-$mode.log
mkdir -p "$(dirname "$log")" || exit 2
[ -r "$dir/out/disk.img" ] || { echo "qemu-trace.sh: $dir/out/disk.img missing; build it with: make guest-linux" >&2; exit 2; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cp "$dir/out/disk.img" "$tmp/disk.img" || exit 1 # the guest writes to its disk

# qemu-run.sh --trace enables virtio_* and pci_cfg_*; the rest of what the importer maps:
set -- --disk "$tmp/disk.img" --trace "$log" --
for ev in 'virtqueue_*' 'pci_update_mappings_*' 'msix_*' 'kvm_set_ioeventfd_*'; do
	set -- "$@" -trace "enable=$ev"
done
[ "$mode" = legacy ] && set -- --legacy "$@"
[ "$ioeventfd" = off ] && set -- "$@" -global virtio-blk-pci.ioeventfd=off

rm -f "$log"
start=$(date +%s)
echo "qemu-trace.sh: booting $mode${ioeventfd:+ (ioeventfd=off)} under QEMU; trace to $log (minutes here)" >&2
timeout "$timeout" sh "$dir/qemu-run.sh" "$@" >"$log.console" 2>&1 </dev/null
rc=$?
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
echo "qemu-trace.sh: QEMU exited $rc after $secs s; $(wc -l <"$log") trace lines in $log" >&2
