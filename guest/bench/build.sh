#!/bin/sh
# guest/bench/build.sh OUT.img GEN_INIT_CPIO BUSYBOX FIO: the fio bench initrd. The normal initrd
# (guest/build-initrd.sh) with guest/bench/init as /init, plus FIO at /usr/bin/fio. FIO is the
# static fio of guest/bench/build-fio.sh by default; a dynamically linked one (FIO=/usr/bin/fio,
# Debian's) comes with exactly the shared objects `ldd FIO` resolves, the dynamic loader included,
# each at the path ldd names. Run from guest/ (guest/linux.mk, target bench). Used by
# tests/bench/fio.sh.
set -e
out=$1; gen=$2; busybox=$3; fio=$4
[ -x "$fio" ] || { echo "guest/bench: $fio missing (package fio, installed by tests/deps.sh)" >&2; exit 1; }
list=$out.fio-list
trap 'rm -f "$list" "$list.paths"' EXIT

# One "guest-path host-path" per line: fio, then every library. "not found" is a broken fio: stop.
if ! readelf -l "$fio" | grep -q INTERP; then
	deps=""
elif ! deps=$(ldd "$fio"); then
	echo "guest/bench: ldd $fio failed" >&2
	exit 1
fi
if echo "$deps" | grep "not found" >&2; then
	echo "guest/bench: $fio needs libraries this host lacks" >&2
	exit 1
fi
{
	echo "/usr/bin/fio $fio"
	# "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
	echo "$deps" | awk '$2 == "=>" && $3 ~ /^\// { print $3, $3 } $1 ~ /^\// { print $1, $1 }'
} >"$list.paths"
[ -z "$deps" ] || grep -q '^/lib64/ld-linux' "$list.paths" ||
	{ echo "guest/bench: ldd named no dynamic loader" >&2; exit 1; }

# Parent directories first (the kernel's cpio unpacker does not make them), each once; then the
# files, copied from their real paths (ldd's names are often symlinks).
{
	while read -r p _; do
		d=${p%/*}
		while [ -n "$d" ]; do echo "$d"; d=${d%/*}; done
	done <"$list.paths" | sort -u | while read -r d; do
		case "$d" in /bin | /etc | /proc | /sys | /tmp | /root | /dev) continue ;; esac
		echo "dir $d 0755 0 0"
	done
	while read -r p h; do echo "file $p $(readlink -f "$h") 0755 0 0"; done <"$list.paths"
} >"$list"
n=$(grep -c '^file' "$list")
bytes=$(grep '^file' "$list" | awk '{ print $3 }' | xargs du -cbL | tail -1 | cut -f1)
echo "guest/bench: fio and $((n - 1)) shared objects, $((bytes / 1024)) KiB"
sh build-initrd.sh "$out" "$gen" bench "$busybox" "$list"
