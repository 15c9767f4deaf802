#!/usr/bin/env python3
"""tests/fuzz/regress.py: writes the regression inputs of tests/fuzz/regress/ (the files that
crashed or tripped a sanitizer before their fix; docs/reliability.md lists them). Run from the
top folder; the trace ones derive from the committed seed corpus."""
import struct

HEADER = struct.pack("<8sIIIIQ", b"KVMTRACE", 1, 32, 64, 1, 0)
STACKS, RECORDS = 5, 7
EV_QUEUE_NOTIFY, EV_CHAIN_POP = 35, 36  # enum trace_event (trace/trace.h)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def chunk(kind, payload, count):
    pad = b"\0" * (-len(payload) % 8)
    return struct.pack("<IIII", kind, len(payload), crc32c(payload), count) + payload + pad


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# 1. a STACKS entry claiming 2^28 return addresses (the 56-byte file) and one claiming 9
write("tests/fuzz/regress/trace/stacks-huge-n.kvt",
      HEADER + chunk(STACKS, struct.pack("<II", 1, 0x10000000), 1)[:24])
write("tests/fuzz/regress/trace/stacks-n9.kvt",
      HEADER + chunk(STACKS, struct.pack("<II", 1, 9) + b"\1" * 72, 1))

# 3. a req_complete after DRIVER_OK with no chain_pop before it: the mini guest's modern run with
# every chain_pop turned into a queue_notify (diff's model searched req + nreq with req NULL)
src = open("tests/fuzz/corpus/trace/mini-blk-modern.kvt", "rb").read()
out, off = bytearray(src[:32]), 32
while off + 16 <= len(src):
    kind, length, crc, count = struct.unpack_from("<IIII", src, off)
    payload = bytearray(src[off + 16:off + 16 + length])
    if kind == RECORDS:
        for r in range(count):
            if struct.unpack_from("<H", payload, r * 64 + 12)[0] == EV_CHAIN_POP:
                struct.pack_into("<H", payload, r * 64 + 12, EV_QUEUE_NOTIFY)
    out += chunk(kind, bytes(payload), count)
    off += 16 + length + (-length % 8)
write("tests/fuzz/regress/trace/complete-without-pop.kvt", bytes(out))

# 2. more queues than the QEMU importer's arrays first hold: requests kept pointers into them
log = ["virtio_queue_notify vdev 0x%x n 0 vq 0x%x" % (0x1000 + d, 0x5000 + d) for d in range(20)]
log += ["virtio_set_status vdev 0x1000 val 15", "virtio_blk_data_plane_start dataplane 0x9000"]
log += ["virtqueue_pop vq 0x%x elem 0x%x in_num 2 out_num 1" % (0x7000 + q, 0x8000 + q)
        for q in range(20)]
for q in range(20):
    log += ["virtio_blk_req_complete vdev 0x2000 req 0x%x status 0" % (0x8000 + q),
            "virtqueue_fill vq 0x%x elem 0x%x len 1 idx 0" % (0x7000 + q, 0x8000 + q),
            "virtqueue_flush vq 0x%x count 1" % (0x7000 + q)]
write("tests/fuzz/regress/import_qemu/twenty-queues.log", ("\n".join(log) + "\n").encode())
