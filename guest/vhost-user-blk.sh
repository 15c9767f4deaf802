#!/bin/sh
# guest/vhost-user-blk.sh IMAGE SOCKET [--ro] [--pidfile FILE]
# Serve the raw disk IMAGE as a vhost-user-blk backend on the unix socket SOCKET with QEMU's
# qemu-storage-daemon (Debian package qemu-system-common), for
#   kvmscope run ... --blk-io=vhost-user,socket=SOCKET
# Without --pidfile it stays in the foreground (Ctrl-C stops it); with it, it returns once the
# socket is listening and FILE holds the daemon's pid. Status 2: bad arguments; 1: the daemon
# did not start (its own message says why).
set -u
usage() { echo "usage: $0 IMAGE SOCKET [--ro] [--pidfile FILE]" >&2; exit 2; }
[ $# -ge 2 ] || usage
image=$1 sock=$2; shift 2
writable=on pidfile=
while [ $# -gt 0 ]; do
	case $1 in
	--ro) writable=off ;;
	--pidfile) [ $# -ge 2 ] || usage; pidfile=$2; shift ;;
	*) usage ;;
	esac
	shift
done
daemon=$(command -v qemu-storage-daemon) || {
	echo "$0: qemu-storage-daemon not found (apt-get install qemu-system-common)" >&2; exit 1; }
[ -f "$image" ] || [ -b "$image" ] || { echo "$0: $image: no such disk image" >&2; exit 2; }
case $image in *,*) echo "$0: $image: a comma in the path is not supported" >&2; exit 2 ;; esac
rm -f "$sock"
ro=off; [ $writable = off ] && ro=on
set -- --blockdev "driver=file,node-name=disk0,filename=$image,read-only=$ro" \
	--export "type=vhost-user-blk,id=export0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=$writable"
if [ -z "$pidfile" ]; then
	exec "$daemon" "$@"
fi
"$daemon" --daemonize --pidfile "$pidfile" "$@" || exit 1
# --daemonize returns once the export is set up; the socket is there by then.
[ -S "$sock" ] || { echo "$0: $sock did not appear" >&2; exit 1; }
