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
# trace: pops carrying their chains (DESCS chunks), on the split and the packed ring
for r in split packed; do
	$KVMSCOPE run --kernel guest/out/mini.elf --disk "$tmp/disk.img" --virtio modern --ring $r \
		--append "test=blk ring=$r sectors=8 seed=7" --trace "$C/trace/mini-descs-$r.kvt" \
		--trace-events 'request,queue_notify' >/dev/null 2>&1 </dev/null
done
# import_qemu: the fixtures' virtio lines in slices, one with its -status.log after a form feed
for f in legacy modern legacy-ioeventfd-off modern-only modern-smp2; do
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
# blk: one request of each kind on each IO path, laid out as tests/fuzz/fuzz_blk.c reads them
python3 - "$C/blk" <<'PY'
import struct, sys
def seed(name, pick, kind, sector, data_len, write_data, indirect=False, packed=False, queue=0):
    # packed (pick bit 3 offers it, the all-ones features take it): the descriptors in ring
    # order with AVAIL set for wrap counter 1 and the id in each (virtio 1.2 §2.8); split: a
    # table linked by next, and the head in the avail ring. queue=1: two queues (pick bit 4),
    # the chain on queue 1, whose rings sit 0x4000 above queue 0's (fuzz_blk.c's QUEUE1)
    ram = bytearray(0x7400 if queue else 0x3400)
    q = 0x4000 * queue
    hdr, status, data = 0x3000, 0x3010, 0x3100
    chain = [(hdr, 16, 0), (data, data_len, 2 if write_data else 0), (status, 1, 2)]
    chain = [c for c in chain if c[1]]
    table = 0x2800 if indirect else 0
    avail = 0x80 if packed else 0
    for i, (addr, ln, fl) in enumerate(chain):
        nxt = 1 if i + 1 < len(chain) and not (packed and indirect) else 0
        flags = fl | nxt | (0 if indirect else avail)
        word = (7, flags) if packed else (flags, i + 1)
        struct.pack_into("<QIHH", ram, (table or q) + 16 * i, addr, ln, *word)
    if indirect:
        struct.pack_into("<QIHH", ram, q, table, 16 * len(chain), *((7, 4 | avail) if packed else (4, 0)))
    if not packed:
        struct.pack_into("<HHH", ram, q + 0x1000, 0, 1, 0)  # avail: flags, idx 1, ring[0] = 0
    struct.pack_into("<IIQ", ram, hdr, kind, 0, sector)
    head = struct.pack("<BQHB", pick | (8 if packed else 0) | (16 if queue else 0), (1 << 64) - 1, 128, 0)
    open("%s/%s" % (sys.argv[1], name), "wb").write(head + bytes(ram))
seed("in-vcpu", 0, 0, 0, 512, True)
seed("out-iothread", 1, 1, 8, 512, False)
seed("flush-uring", 2, 4, 0, 0, False)
seed("get-id-vcpu", 0, 8, 0, 20, True)
seed("out-indirect-uring", 2, 1, 4, 512, False, True)
seed("out-readonly-iothread", 4, 1, 0, 512, False)
seed("packed-in-vcpu", 0, 0, 0, 512, True, packed=True)
seed("packed-out-indirect-uring", 2, 1, 4, 512, False, True, packed=True)
seed("mq-in-vcpu", 0, 0, 0, 512, True, queue=1)
seed("mq-out-iothread2", 1 | 32, 1, 8, 512, False, queue=1)
seed("mq-packed-out-indirect-uring2", 2 | 32, 1, 4, 512, False, True, packed=True, queue=1)
PY
# pci: access sequences as tests/fuzz/fuzz_pci.c reads them (op, slot, log2 len, operands)
python3 - "$C/pci" <<'PY'
import struct, sys
def cfg_rd(slot, reg, ln=2): return struct.pack("<BBBB", 0, slot, ln, reg)
def cfg_wr(slot, reg, val, ln=2): return struct.pack("<BBBBI", 1, slot, ln, reg, val)
def bar_rd(slot, bar, off, ln=2): return struct.pack("<BBBBH", 2, slot, ln, bar, off)
def bar_wr(slot, bar, off, val, ln=2): return struct.pack("<BBBBHQ", 3, slot, ln, bar, off, val)
def ram(gpa, val): return struct.pack("<BBB", 4, 0, 3) + gpa.to_bytes(3, "little") + struct.pack("<Q", val)
enum = b"".join(cfg_rd(s, r) for s in range(4) for r in range(0, 0x100, 4))
# legacy function (slot 3, BAR0 I/O): reset, ACK|DRIVER, features, queue 0 at PFN 0x10, DRIVER_OK, notify
legacy = enum + b"".join([bar_wr(3, 0, 18, 0, 0), bar_wr(3, 0, 18, 3, 0), bar_rd(3, 0, 0, 2),
    bar_wr(3, 0, 4, 0, 2), bar_wr(3, 0, 14, 0, 1), bar_rd(3, 0, 12, 1), bar_wr(3, 0, 8, 0x10, 2),
    ram(0x11000, 0x0001000000000000), bar_wr(3, 0, 18, 7, 0), bar_wr(3, 0, 16, 0, 1), bar_rd(3, 0, 19, 0)])
# MSI-X: table entries in BAR1 of slot 1 and 2, then the capability's control word
msix = enum + b"".join(bar_wr(s, 1, e * 16 + f, v, 2) for s in (1, 2) for e in range(3)
    for f, v in ((0, 0xfee00000), (8, 0x4020 + e), (12, 0))) + b"".join(
    cfg_wr(s, r, 0xc000, 1) for s in (1, 2) for r in range(0x40, 0x100, 2))
# modern function (slot 2, BAR4): the common config window, word by word
modern = enum + b"".join(bar_rd(2, 4, off, 2) for off in range(0, 0x40, 4)) + b"".join(
    bar_wr(2, 4, off, 1, 2) for off in range(0, 0x40, 4))
for name, data in (("enumerate", enum), ("legacy-handshake", legacy), ("msix", msix),
                   ("modern-common", modern)):
    open("%s/%s" % (sys.argv[1], name), "wb").write(data)
PY
