#!/bin/sh
# guest/build-initrd.sh OUT.img GEN_INIT_CPIO INITDIR BUSYBOX [EXTRA_LIST]: write an uncompressed
# newc cpio with a static busybox, the applet links /init uses, INITDIR/init and INITDIR/fstab, and
# two 64 KiB test patterns (their md5 sums in /etc/kvmscope-io) for /init's virtio-blk smoke test.
# EXTRA_LIST: more gen_init_cpio lines (dir, file, slink) to add, e.g. fio and its libraries
# (guest/bench/build.sh).
# Uses the kernel's usr/gen_init_cpio, so no root is needed for /dev/console and the output is
# the same bytes for the same inputs.
set -e
out=$1; gen=$2; initdir=$3; busybox=$4; extra=$5
tmp=$out.d
rm -rf "$tmp"; mkdir -p "$tmp"
[ -x "$busybox" ] || { echo "guest: $busybox missing (package busybox-static)" >&2; exit 1; }
# static: an ELF without a program interpreter (readelf comes with gcc's binutils; file(1) may
# not be on a fresh machine)
readelf -l "$busybox" 2>/dev/null | grep -q 'LOAD' && ! readelf -l "$busybox" | grep -q 'INTERP' ||
	{ echo "guest: $busybox is not statically linked (want package busybox-static)" >&2; exit 1; }

# pattern TAG: 128 sectors of 512 bytes, each naming its tag and index, so a lost, stale or
# misplaced sector changes the sum.
pattern() {
	awk -v tag="$1" 'BEGIN {
		fill = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
		for (i = 0; i < 128; i++) {
			s = sprintf("KVMSCOPE pattern %s sector %03d ", tag, i);
			while (length(s) < 511) s = s substr(fill, 1 + (i + length(s)) % 62, 1);
			printf "%s\n", s;
		}
	}'
}
pattern A >"$tmp/pattern-a"
pattern B >"$tmp/pattern-b"
[ "$(wc -c <"$tmp/pattern-a")" = 65536 ] || { echo "guest: pattern is not 64 KiB" >&2; exit 1; }
{
	echo "# written by guest/build-initrd.sh: md5 sums of /pattern-a and /pattern-b"
	echo "MD5_A=$(md5sum <"$tmp/pattern-a" | cut -d' ' -f1)"
	echo "MD5_B=$(md5sum <"$tmp/pattern-b" | cut -d' ' -f1)"
} >"$tmp/kvmscope-io"

# Applets /init runs through PATH; the shell finds the others itself (busybox "standalone shell").
applets="sh mount dd md5sum reboot setsid cttyhack taskset"
{
	echo "dir /dev 0755 0 0"
	echo "nod /dev/console 0600 0 0 c 5 1"
	for d in /bin /etc /proc /sys /tmp /root; do echo "dir $d 0755 0 0"; done
	echo "file /bin/busybox $busybox 0755 0 0"
	for a in $applets; do echo "slink /bin/$a busybox 0777 0 0"; done
	echo "file /etc/fstab $initdir/fstab 0644 0 0"
	echo "file /etc/kvmscope-io $tmp/kvmscope-io 0644 0 0"
	echo "file /pattern-a $tmp/pattern-a 0644 0 0"
	echo "file /pattern-b $tmp/pattern-b 0644 0 0"
	echo "file /init $initdir/init 0755 0 0"
	[ -z "$extra" ] || cat "$extra"
} >"$tmp/list"
"$gen" -t 0 "$tmp/list" >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$tmp"
echo "guest: wrote $out ($(wc -c <"$out") bytes, uncompressed newc cpio)"
