#!/bin/sh
# tests/deb.sh (make deb): builds the Debian package from a copy of this tree in build/deb/ with
# `dpkg-buildpackage -b -us -uc`, then runs lintian on it; a lintian error fails. The copy's
# VERSION file gets this checkout's version (git describe), so the packaged binary's --version
# says which commit it was built from. Needs DEB_PKGS (the Makefile's: dpkg-dev debhelper
# lintian), installed here as root; otherwise a SKIP line names them (status 0 when CI=true).
cd "$(dirname "$0")/.." || exit 2
unset MAKEFLAGS MFLAGS MAKELEVEL
DEB_PKGS=${DEB_PKGS:-dpkg-dev debhelper lintian}
missing=""
for p in $DEB_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
	sh tests/deps.sh $missing || exit 1
elif [ -n "$missing" ]; then
	echo "SKIP deb: the package build tools are missing:$missing (apt-get install$missing)"
	[ "$CI" = true ] && exit 0
	exit 1
fi
if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
	echo "deb: installing the Build-Depends of debian/control"
	sh tests/deps.sh $(dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p' |
		sed 's/([^)]*)//g') || exit 1
fi

version=$(make -s version)
out=build/deb
src=$out/kvmscope-$version
rm -rf "$out"
mkdir -p "$src"
# The tree as it is (uncommitted changes too), without what builds leave in it.
tar --exclude=./.git --exclude=./build --exclude=./build-asan --exclude=./guest/out \
	--exclude=./tests/out --exclude=./kvmscope --exclude=./kvmscope-asan \
	--exclude='./kvmscope-*.tar.gz' --exclude=./debian/kvmscope --exclude=./debian/.debhelper \
	-cf - . | tar -C "$src" -xf -
echo "$version" >"$src/VERSION"
echo "deb: dpkg-buildpackage -b -us -uc in $src (log: $out/build.log)"
if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1; then
	tail -n 30 "$out/build.log"
	echo "FAIL deb: dpkg-buildpackage failed (whole log: $out/build.log)"
	exit 1
fi
deb=$(ls "$out"/kvmscope_*.deb)
echo "ok deb: built $deb ($(du -k "$deb" | cut -f1) KiB)"
lintian --info "$out"/kvmscope_*.changes >"$out/lintian.log" 2>&1
cat "$out/lintian.log"
errors=$(grep -c '^E: ' "$out/lintian.log")
if [ "$errors" != 0 ]; then
	echo "FAIL deb: lintian reports $errors errors"
	exit 1
fi
echo "ok deb: lintian reports no errors ($(grep -c '^W: ' "$out/lintian.log") warnings)"
echo "deb: install it with: apt-get install ./$deb"
