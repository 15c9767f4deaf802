#!/bin/sh
# tests/fuzz/seeds.sh: makes the committed seed corpus (tests/fuzz/corpus/TARGET/) from what the
# repository has: a mini-guest run traced by kvmscope (needs /dev/kvm and guest/out/mini.elf),
# slices of the QEMU log fixtures, the bpftrace sample, and kernels. Small files only: libFuzzer
# mutates them. Run from the top folder after `make kvmscope mini`.

KVMSCOPE=${KVMSCOPE:-./kvmscope}
C=tests/fuzz/corpus
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p $C/trace $C/import_qemu $C/import_bpftrace $C/boot $C/pci $C/blk

# trace: the mini guest's virtio-blk test (legacy and modern), handshake and requests
truncate -s 1M "$tmp/disk.img"
for v in legacy modern; do
	$KVMSCOPE run --kernel guest/out/mini.elf --disk "$tmp/disk.img" --virtio $v \
		--append "test=blk transport=$v sectors=8 seed=7" --trace "$C/trace/mini-blk-$v.kvt" \
		--trace-events 'virtio-status,features,queue-setup,request,irq,guest-marker' \
		>/dev/null 2>&1 </dev/null
done
# import_qemu: the fixtures' virtio lines in slices, one with its -status.log after a form feed
for f in legacy modern legacy-ioeventfd-off; do
	grep -v kvm_set_ioeventfd tests/fixtures/qemu-$f.log | head -c 6000 >"$C/import_qemu/$f-head"
	grep virt tests/fixtures/qemu-$f.log | tail -n 40 >"$C/import_qemu/$f-tail"
done
{ grep virt tests/fixtures/qemu-modern.log | head -n 60; printf '\f'
  cat tests/fixtures/qemu-modern-status.log; } >"$C/import_qemu/modern-with-status"
# import_bpftrace: the sample in the unit test
sed -n 's/^    "\(.*\)\\n"$/\1/p' tests/unit/test_import_bpftrace.c >"$C/import_bpftrace/sample"
# boot: the mini guest (ELF with a PVH note) and the first bytes of a bzImage-shaped header
cp guest/out/mini.elf $C/boot/mini.elf
head -c 1024 /dev/zero >"$tmp/bz"
printf '\125\252' | dd of="$tmp/bz" bs=1 seek=510 conv=notrunc 2>/dev/null
printf 'HdrS\014\002' | dd of="$tmp/bz" bs=1 seek=514 conv=notrunc 2>/dev/null
cp "$tmp/bz" $C/boot/bzimage-header
ls -l $C/*/ | awk '{s += $5} END {print "seeds: " NR " lines, " s " bytes"}'
