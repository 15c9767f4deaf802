#!/bin/sh
# guest/bench/build-fio.sh OUT WORK: a static fio for the bench initrd, from Debian's own source
# package of the fio that `apt-get install fio` gives (bookworm: 3.33), with the libaio, psync and
# io_uring engines and no others. Debian's binary needs 63 shared objects (81 MiB): the guest
# spent about 140 s unpacking them and 30 s per fio start binding them (docs/bench.md).
# The source comes through a private deb-src list, so the host's apt configuration is untouched.
# Run from guest/ (guest/linux.mk, target bench).
set -e
out=$1; work=$2
mkdir -p "$work/lists/partial"
work=$(cd "$work" && pwd)

# The deb-src line mirrors the host's first Debian "deb" source (deb822 or one-line format).
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb  *\(http[^ ]*debian\)\/* .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
echo "deb-src $mirror $suite main" >"$work/sources.list"
apt="-o Dir::Etc::SourceList=$work/sources.list -o Dir::Etc::SourceParts=/nonexistent
	-o Dir::State::Lists=$work/lists -o APT::Sandbox::User=root"

if ! ls "$work"/fio_*.dsc >/dev/null 2>&1; then
	echo "guest/bench: fetching Debian's fio source ($mirror $suite)"
	# shellcheck disable=SC2086
	apt-get -q $apt update >"$work/apt.log" 2>&1 &&
		(cd "$work" && apt-get -q $apt source --download-only fio >>"$work/apt.log" 2>&1) ||
		{ echo "guest/bench: apt-get source fio failed; see $work/apt.log" >&2; exit 1; }
fi
dsc=$(ls "$work"/fio_*.dsc | tail -1)
src=$work/src
rm -rf "$src"
dpkg-source --no-check -x "$dsc" "$src" >"$work/dpkg-source.log" 2>&1 ||
	{ echo "guest/bench: dpkg-source -x $dsc failed; see $work/dpkg-source.log" >&2; exit 1; }

# --disable-native: the guest runs without XSAVE (docs/platform.md), so no AVX in fio's own code.
echo "guest/bench: building a static fio ($(basename "$dsc" .dsc))"
(
	cd "$src"
	./configure --build-static --disable-native --disable-numa --disable-rdma --disable-rados \
		--disable-rbd --disable-http --disable-gfapi --disable-pmem --disable-xnvme \
		--disable-libzbc --disable-tcmalloc --disable-dfs --disable-libnfs
) >"$work/configure.log" 2>&1 ||
	{ echo "guest/bench: fio's configure failed; see $work/configure.log" >&2; exit 1; }
grep -q '^CONFIG_LIBAIO=y' "$src/config-host.mak" 2>/dev/null ||
	{ echo "guest/bench: fio's configure found no libaio (package libaio-dev); see $work/configure.log" >&2; exit 1; }
make -C "$src" -j"${JOBS:-2}" fio >"$work/make.log" 2>&1 ||
	{ echo "guest/bench: building fio failed; see $work/make.log" >&2; exit 1; }
! readelf -l "$src/fio" | grep -q 'INTERP' ||
	{ echo "guest/bench: $src/fio is not static" >&2; exit 1; }
strip -o "$out.tmp" "$src/fio"
mv "$out.tmp" "$out"
echo "guest/bench: $out: $("$out" --version), $(($(stat -c %s "$out") / 1024)) KiB, static"
