#!/bin/sh
# tests/deps.sh PKG... [-- OPTIONAL_PKG...]: install the Debian packages that are missing.
# A required package that cannot be installed stops with its name; an optional one only warns.
required=""; optional=""; opt=0
for p in "$@"; do
	if [ "$p" = "--" ]; then opt=1; continue; fi
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" && continue
	if [ $opt = 1 ]; then optional="$optional $p"; else required="$required $p"; fi
done
[ -z "$required$optional" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$required$optional; run as root or: sudo apt-get install$required$optional" >&2
	[ -z "$required" ] && exit 0
	exit 1
fi
echo "deps: installing$required$optional with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || echo "deps: apt-get update failed; trying the cached lists" >&2
for p in $required; do
	apt-get install -y -q "$p" >/dev/null || { echo "deps: could not install required package $p" >&2; exit 1; }
done
for p in $optional; do
	apt-get install -y -q "$p" >/dev/null || echo "deps: optional package $p not installed; going on without it" >&2
done
exit 0
