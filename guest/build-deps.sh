#!/bin/sh
# guest/build-deps.sh PKG...: install the Debian packages the guest build needs, when missing.
# Runs `apt-get update` once before the first install; stops naming the package that failed.
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "guest: missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "guest: installing$missing with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || echo "guest: apt-get update failed; trying the cached package lists" >&2
for p in $missing; do
	apt-get install -y -q "$p" >/dev/null || { echo "guest: could not install package $p (apt-get install -y $p failed)" >&2; exit 1; }
done
