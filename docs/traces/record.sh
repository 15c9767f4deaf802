#!/bin/sh
# docs/traces/record.sh: records docs/traces/demo.kvt, the trace `kvmscope view` opens when given no
# file (make install puts it in $(DATADIR)/traces/). The Linux guest boots once with kvmscope's
# defaults (transitional transport, MSI-X, requests served on the vCPU thread) on a fresh copy of
# its disk: PCI enumeration, the Linux driver's whole virtio-blk handshake with the guest functions
# behind each step, and /init's IO test. About 400 records, 50 KB; a minute or two here. Its
# handshake is the one tests/fixtures/qemu-modern.log shows QEMU 7.2 doing with the same guest,
# so `kvmscope diff` of the two matches. Run from anywhere: sh docs/traces/record.sh
set -e
cd "$(dirname "$0")/../.."
make -s kvmscope guest-linux
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp --sparse=always guest/out/disk.img "$dir/disk.img" # the GET_ID answer is the file's name
./kvmscope run --kernel guest/out/vmlinux --initrd guest/out/initrd.img --disk "$dir/disk.img" \
	--trace docs/traces/demo.kvt.tmp | grep KVMSCOPE-
mv docs/traces/demo.kvt.tmp docs/traces/demo.kvt
./kvmscope trace stats docs/traces/demo.kvt | head -n 1
./kvmscope diff docs/traces/demo.kvt tests/fixtures/qemu-modern.log >/dev/null &&
	echo "record: its handshake matches tests/fixtures/qemu-modern.log"
