#!/bin/sh
# guest/bench/build.sh OUT.img GEN_INIT_CPIO BUSYBOX FIO: the fio bench initrd. The normal initrd
# (guest/build-initrd.sh) with guest/bench/init as /init, plus FIO (Debian's dynamically linked
# fio) and exactly the shared objects `ldd FIO` resolves, the dynamic loader included, each at
# the path ldd names. Run from guest/ (guest/linux.mk, target bench). Used by tests/bench/fio.sh.
set -e
out=$1; gen=$2; busybox=$3; fio=$4
[ -x "$fio" ] || { echo "guest/bench: $fio missing (package fio, installed by tests/deps.sh)" >&2; exit 1; }
list=$out.fio-list
trap 'rm -f "$list" "$list.paths"' EXIT

# One path-in-guest per line: fio, then every library. "not found" is a broken fio: stop.
deps=$(ldd "$fio") || { echo "guest/bench: ldd $fio failed" >&2; exit 1; }
if echo "$deps" | grep "not found" >&2; then
	echo "guest/bench: $fio needs libraries this host lacks" >&2
	exit 1
fi
{
	echo "$fio"
	# "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
	echo "$deps" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
} >"$list.paths"
grep -q '^/lib64/ld-linux' "$list.paths" || { echo "guest/bench: ldd named no dynamic loader" >&2; exit 1; }

# Parent directories first (the kernel's cpio unpacker does not make them), each once; then the
# files, copied from their real paths (ldd's names are often symlinks).
{
	while read -r p; do
		d=${p%/*}
		while [ -n "$d" ]; do echo "$d"; d=${d%/*}; done
	done <"$list.paths" | sort -u | while read -r d; do
		case "$d" in /bin | /etc | /proc | /sys | /tmp | /root | /dev) continue ;; esac
		echo "dir $d 0755 0 0"
	done
	while read -r p; do echo "file $p $(readlink -f "$p") 0755 0 0"; done <"$list.paths"
} >"$list"
n=$(grep -c '^file' "$list")
bytes=$(grep '^file' "$list" | awk '{ print $3 }' | xargs du -cbL | tail -1 | cut -f1)
echo "guest/bench: fio and $((n - 1)) shared objects, $((bytes / 1048576)) MiB"
sh build-initrd.sh "$out" "$gen" bench "$busybox" "$list"
