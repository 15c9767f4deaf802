#!/bin/sh
# guest/l1/build.sh OUTDIR: the L1 machine's kernel and initramfs, from Debian packages.
#   OUTDIR/vmlinuz   Debian's generic kernel (linux-image-amd64's current flavour), unmodified
#   OUTDIR/l1.cpio   static busybox, guest/l1/init, and the modules it loads (KVM, 9p, overlay)
# The kernel package is fetched with `apt-get download` and unpacked here (dpkg-deb -x, depmod):
# nothing is installed on the host. Needs the packages in the Makefile's L1_PKGS.
set -e
out=$1
[ -n "$out" ] || { echo "usage: guest/l1/build.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}
# kvm_amd's dependencies (irqbypass, ccp, kvm), the virtio PCI transport, 9p and its helpers,
# overlay: loaded in this order's dependency closure by /init.
MODULES="virtio_pci kvm-amd 9pnet_virtio 9p overlay"
for tool in dpkg-deb depmod cpio apt-get; do
	command -v $tool >/dev/null || { echo "l1: $tool is missing (Makefile L1_PKGS)" >&2; exit 1; }
done
[ -x "$BUSYBOX" ] || { echo "l1: $BUSYBOX missing (package busybox-static)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# linux-image-amd64 is a metapackage: the kernel is the linux-image-* it depends on.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1)
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
	echo "l1: apt has no linux-image-amd64 yet; apt-get update" >&2
	apt-get update -q >/dev/null || true
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n1)
fi
[ -n "$pkg" ] || { echo "l1: apt-cache knows no linux-image-amd64 (apt-get update as root first)" >&2; exit 1; }
deb=$(ls "$out/$pkg"_*.deb 2>/dev/null | head -n1)
if [ -z "$deb" ]; then
	echo "l1: downloading $pkg (about 70 MB) with apt-get download" >&2
	(cd "$out" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
		{ echo "l1: apt-get download $pkg failed" >&2; exit 1; }
	deb=$(ls "$out/$pkg"_*.deb | head -n1)
fi
root=$out/root
rm -rf "$root" "$out/initramfs"
echo "l1: unpacking $(basename "$deb")" >&2
dpkg-deb -x "$deb" "$root"
ver=$(ls "$root/lib/modules" | head -n1)
[ -f "$root/boot/vmlinuz-$ver" ] || { echo "l1: $deb holds no boot/vmlinuz-$ver" >&2; exit 1; }
depmod -b "$root" "$ver"
mdir=$root/lib/modules/$ver

# Each wanted module after its dependencies (modules.dep lists them nearest first).
ird=$out/initramfs
mkdir -p "$ird/bin" "$ird/dev" "$ird/proc" "$ird/sys" "$ird/lib/modules"
: >"$ird/modules.order"
for m in $MODULES; do
	line=$(grep -E "/$m\.ko:" "$mdir/modules.dep") ||
		{ echo "l1: $pkg has no module $m" >&2; exit 1; }
	for ko in $(echo "$line" | tr -d : | awk '{ for (i = NF; i >= 2; i--) print $i; print $1 }'); do
		name=$(basename "$ko")
		grep -qx "$name" "$ird/modules.order" && continue
		cp "$mdir/$ko" "$ird/lib/modules/$name"
		echo "$name" >>"$ird/modules.order"
	done
done
cp "$BUSYBOX" "$ird/bin/busybox"
cp "$here/init" "$ird/init"
chmod 755 "$ird/init" "$ird/bin/busybox"
(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out/l1.cpio.tmp"
cp "$root/boot/vmlinuz-$ver" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/l1.cpio.tmp" "$out/l1.cpio"
echo "$ver" >"$out/version"
mods=$(sed 's/\.ko$//' "$ird/modules.order" | tr '\n' ' ')
rm -rf "$root" "$ird"
echo "l1: built $out/vmlinuz ($ver) and l1.cpio (modules: $mods)" >&2
