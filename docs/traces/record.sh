#!/bin/sh
# docs/traces/record.sh: records docs/traces/demo.kvt, the trace `kvmscope view` opens when given no
# file (make install puts it in $(DATADIR)/traces/). The mini guest's virtio-blk test (a
# transitional device driven as modern, MSI-X): PCI enumeration, the whole handshake, the queue
# set-up, then writes, a flush, reads and GET_ID; about 260 records, 20 KB. Run from anywhere: sh docs/traces/record.sh
set -e
cd "$(dirname "$0")/../.."
make -s kvmscope mini
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
disk=$dir/demo.img # its name is the device's serial number (GET_ID) in the trace
truncate -s 1M "$disk"
./kvmscope run --kernel guest/out/mini.elf --disk "$disk" --append "test=blk sectors=64" \
	--trace docs/traces/demo.kvt.tmp
mv docs/traces/demo.kvt.tmp docs/traces/demo.kvt
./kvmscope trace stats docs/traces/demo.kvt | head -n 3
