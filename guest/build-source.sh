#!/bin/sh
# guest/build-source.sh TARBALL SRCDIR PATCH...: extract Debian's linux-source tarball into SRCDIR
# (replacing what is there) and apply our patches in order. tar keeps the files' own mtimes, so
# after a patch changes only the patched files look new to the (separate, O=) kernel build; files
# an earlier patch set touched are touched too, so that dropping a patch also rebuilds its files.
set -e
tarball=$1; src=$2; shift 2
[ -r "$tarball" ] || { echo "guest: $tarball missing (package linux-source-6.1)" >&2; exit 1; }
parent=$(dirname "$src")
touched=$src.patched-files
mkdir -p "$parent"
old=$(cat "$touched" 2>/dev/null || true)
rm -rf "$src" "$src.tmp"
echo "guest: extracting $tarball (about 10 s)"
mkdir "$src.tmp"
tar -xf "$tarball" -C "$src.tmp"
top=$(ls "$src.tmp")
[ "$(echo "$top" | wc -l)" = 1 ] || { echo "guest: unexpected layout in $tarball" >&2; exit 1; }
mv "$src.tmp/$top" "$src"
rmdir "$src.tmp"
for p in "$@"; do
	echo "guest: applying $(basename "$p")"
	patch -s -p1 -N -d "$src" <"$p" || { echo "guest: patch $p does not apply to $tarball" >&2; exit 1; }
done
new=$(for p in "$@"; do sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p"; done | sort -u)
for f in $old $new; do
	if [ -f "$src/$f" ]; then touch "$src/$f"; fi
done
echo "$new" >"$touched"
touch "$src/.kvmscope-patched"
