#!/bin/sh
# guest/qemu-run.sh [options] [-- QEMU-ARGS...]: boot guest/out/vmlinux + initrd.img + disk.img under
# Debian's qemu-system-x86_64 with KVM, console on stdio. The guest's `reboot -f` ends QEMU.
#   --legacy        virtio-blk-pci with disable-modern=on (legacy 0.9.5 transport only)
#   --modern-only   virtio-blk-pci with disable-legacy=on (virtio 1.x transport only)
#   --smp N         N vCPUs (give an SMP kernel with --kernel; QEMU 7.2 gives the device N queues)
#   --shell         add kvmscope.shell: /init gives an interactive shell instead of rebooting
#   --append STR    more kernel command line
#   --cmdline STR   the kernel command line to start from instead of this script's own
#                   (console=ttyS0 reboot=k noxsave clearcpuid=smap,smep,popcnt); --append adds to it
#   --trace FILE    QEMU's virtio_* and pci_cfg_* trace events, timestamped, into FILE
#   --tcg           no KVM (QEMU's emulator): for machines without /dev/kvm
#   --cpu MODEL     QEMU's CPU model (default qemu64,+xsaveerptr; host: what KVM offers, as
#                   kvmscope gives its guest on a hardware KVM)
#   --kernel F, --initrd F, --disk F   other files than guest/out/{vmlinux,initrd.img,disk.img}
#   --vhost-user SOCK  no disk image: a vhost-user-blk-pci device (one queue) on the backend
#                   listening at SOCK (guest/vhost-user-blk.sh IMAGE SOCK); guest RAM becomes a
#                   shared memfd, which the backend maps
# Command line and flags: docs/guest.md (kvm_pvm needs noxsave clearcpuid=smap,smep,popcnt and a
# CPU model with XSAVEERPTR; the ELF vmlinux boots through its PVH note, a bzImage stalls here).
dir=$(cd "$(dirname "$0")" && pwd)
kernel=$dir/out/vmlinux initrd=$dir/out/initrd.img disk=$dir/out/disk.img
modern="" smp=1 extra="" accel="-enable-kvm" trace="" cpu="qemu64,+xsaveerptr" vu=""
cmdline="console=ttyS0 reboot=k noxsave clearcpuid=smap,smep,popcnt"
while [ $# -gt 0 ]; do
	case "$1" in
	--legacy) modern=",disable-modern=on" ;;
	--modern-only) modern=",disable-legacy=on" ;;
	--smp)
		case "$2" in
		[1-9] | [1-9][0-9]) smp=$2 ;;
		*) echo "qemu-run.sh: --smp takes a vCPU count from 1 to 99, not '$2'" >&2; exit 2 ;;
		esac
		shift ;;
	--shell) extra="$extra kvmscope.shell" ;;
	--append) extra="$extra $2"; shift ;;
	--cmdline) cmdline=$2; shift ;;
	--trace) trace=$2; shift ;;
	--tcg) accel="-accel tcg" ;;
	--cpu) cpu=$2; shift ;;
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--disk) disk=$2; shift ;;
	--vhost-user) vu=$2; shift ;;
	--) shift; break ;;
	-h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "qemu-run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$vu" ] && disk="" # the backend has the image
for f in "$kernel" "$initrd" ${disk:+"$disk"}; do
	[ -r "$f" ] || { echo "qemu-run.sh: $f missing; build it with: make guest-linux" >&2; exit 2; }
done
[ -z "$vu" ] || [ -S "$vu" ] || { echo "qemu-run.sh: --vhost-user $vu: no socket there (is the backend running?)" >&2; exit 2; }
if ! command -v qemu-system-x86_64 >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		echo "qemu-run.sh: installing qemu-system-x86 with apt-get" >&2
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-system-x86; } >/dev/null ||
			{ echo "qemu-run.sh: could not install package qemu-system-x86" >&2; exit 1; }
	else
		echo "qemu-run.sh: qemu-system-x86_64 missing: sudo apt-get install qemu-system-x86" >&2
		exit 1
	fi
fi
if [ "$accel" = "-enable-kvm" ] && [ ! -w /dev/kvm ]; then
	echo "qemu-run.sh: /dev/kvm missing or not writable; use --tcg" >&2
	exit 1
fi
# cache=none opens the image with O_DIRECT, which some file systems refuse at open (tmpfs, and
# overlayfs over it, before Linux 6.6: where L1 keeps its writes); QEMU would then stop at once.
# There the image goes through the page cache instead, and we say so.
cache=none
if [ -n "$disk" ] && ! perl -MFcntl -e 'sysopen(my $f, $ARGV[0], O_RDWR | O_DIRECT) or exit 1' "$disk" 2>/dev/null; then
	cache=writeback
	echo "qemu-run.sh: $disk cannot be opened with O_DIRECT here: cache=writeback" >&2
fi
# The disk first: QEMU-ARGS may -set the drive's options (drive.vda...), which needs it defined.
if [ -n "$vu" ]; then
	set -- -object memory-backend-memfd,id=ram0,size=256M,share=on -machine memory-backend=ram0 \
		-chardev "socket,id=vu0,path=$vu" -device "vhost-user-blk-pci,chardev=vu0,num-queues=1$modern" "$@"
else
	set -- -drive "file=$disk,format=raw,if=none,id=vda,cache=$cache" -device "virtio-blk-pci,drive=vda$modern" "$@"
fi
# One vCPU per socket: SeaBIOS's MP table lists the first CPU of each package only, and the guest
# has no ACPI to find the others (QEMU 7.2 makes -smp 2 one socket of two cores).
set -- -M pc $accel -cpu "$cpu" -m 256M -smp "$smp,sockets=$smp,cores=1,threads=1" \
	-nodefaults -no-user-config -display none -serial mon:stdio -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "$cmdline$extra" \
	${trace:+-msg timestamp=on -trace enable=virtio_* -trace enable=pci_cfg_* -D "$trace"} \
	"$@"
exec qemu-system-x86_64 "$@"
