#!/bin/sh
# tests/tools/qemu-pcidump.sh [--kvm] [OUTDIR]: QEMU 7.2's virtio-blk-pci config space, read by
# the guest. Boots guest/out/mini.elf with test=pcidump under Debian's qemu-system-x86_64 (TCG
# unless --kvm: the device model is the same, and it takes well under a second) once per mode:
#   legacy        virtio-blk-pci,disable-modern=on
#   transitional  virtio-blk-pci (QEMU's default)
#   modern        virtio-blk-pci,disable-legacy=on
# and writes OUTDIR/qemu-pci-MODE.txt (default tests/fixtures): a header saying where each byte
# comes from, then the guest's 16 dump lines and its 6 BAR sizing answers. tests/unit/
# test_pci_qemu.c compares kvmscope's function with these files, byte for byte, allowing only
# the differences docs/pci.md lists. Build mini.elf first: make mini.
cd "$(dirname "$0")/../.." || exit 2
accel="-accel tcg" out=tests/fixtures
while [ $# -gt 0 ]; do
	case "$1" in
	--kvm) accel="-enable-kvm" ;;
	-h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "qemu-pcidump.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	*) out=$1 ;;
	esac
	shift
done
mini=guest/out/mini.elf
[ -r "$mini" ] || { echo "qemu-pcidump.sh: $mini missing; build it with: make mini" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "qemu-pcidump.sh: qemu-system-x86_64 missing: apt-get install qemu-system-x86" >&2; exit 1; }
version=$(qemu-system-x86_64 --version | sed -n '1s/^QEMU emulator version //p')
case "$version" in
7.2*) ;;
*) echo "qemu-pcidump.sh: warning: QEMU $version, not 7.2: the files will say so" >&2 ;;
esac
mkdir -p "$out" || exit 2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/disk.img"
truncate -s 1M "$tmp/disk.img" || exit 1

for mode in legacy transitional modern; do
	case $mode in
	legacy) opt=",disable-modern=on" ;;
	transitional) opt="" ;;
	modern) opt=",disable-legacy=on" ;;
	esac
	# shellcheck disable=SC2086 # $accel is two words
	timeout 60 qemu-system-x86_64 $accel -M pc -m 64 -nodefaults -no-user-config -display none \
		-serial stdio -no-reboot -kernel "$mini" -append "test=pcidump" \
		-device isa-debug-exit,iobase=0xf4,iosize=1 \
		-drive "if=none,id=d0,file=$tmp/disk.img,format=raw" \
		-device "virtio-blk-pci,drive=d0$opt" </dev/null >"$tmp/console" 2>&1
	rc=$?
	# isa-debug-exit: QEMU's status is (guest status << 1) | 1, so 1 is the guest's 0
	if [ "$rc" != 1 ] || [ "$(grep -ac '^pcidump ' "$tmp/console")" != 23 ]; then
		echo "qemu-pcidump.sh: $mode: QEMU exited $rc without a whole dump:" >&2
		cat "$tmp/console" >&2
		exit 1
	fi
	{
		cat <<EOF
# QEMU $version, -M pc, -device virtio-blk-pci$opt ($mode), one queue, so 2 MSI-X vectors.
# Read by guest/out/mini.elf test=pcidump after SeaBIOS ran; made by tests/tools/qemu-pcidump.sh.
# Where the bytes come from in QEMU 7.2's source (docs/pci.md says the same in prose):
#  00-03 vendor 1af4, device 1000+2 (legacy-capable, virtio 1.2 4.1.2.3) or 1040+2 (modern only)
#  04-05 command: SeaBIOS's (I/O, memory, bus master; SERR#); 06-07 status: CAP_LIST only
#  08    revision 0 legacy-capable, 1 modern only; 09-0b class 01 00 00 (virtio-blk-pci's)
#  0c-0f cache line, latency, header type 0, BIST: all 0 (pci.c)
#  10    BAR0 I/O: registers + config (virtio-pci.c, a power of two: 128); 14 BAR1: MSI-X table
#        and PBA, 4 KiB 32-bit (msix.c msix_init_exclusive_bar); 20-27 BAR4/5: 16 KiB 64-bit
#        prefetchable, 4 structures of 4 KiB each (virtio-pci.c); addresses are SeaBIOS's
#  2c-2f subsystem 1af4:0002 (virtio id, legacy-capable) or 1af4:1100 (QEMU's default, pci.c)
#  34    first capability: the last one added (pci_add_capability links at the head)
#  3c-3d interrupt line (SeaBIOS's PIRQ routing), pin INTA
#  40-   capabilities at the first free bytes in the order added: modern ones (common, ISR,
#        device, notify, pci-cfg; each structure's length 0x1000, notify_off_multiplier 4),
#        then MSI-X (12 bytes: 2 vectors, table BAR1+0, PBA BAR1+0x800)
# "sizing" lines: what each BAR reads after the guest wrote all ones (decoding off), restored.
EOF
		grep -a '^pcidump ' "$tmp/console" | tr -d '\r' | sed 's/^pcidump //'
	} >"$out/qemu-pci-$mode.txt"
	echo "qemu-pcidump.sh: $mode: $out/qemu-pci-$mode.txt" >&2
done
