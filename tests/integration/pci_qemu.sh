# kvmscope's virtio-blk-pci against QEMU 7.2's, as guests read them: the committed dumps
# (tests/fixtures/qemu-pci-*.txt) made again from QEMU, where it is installed, must be the same
# bytes; and the mini guest's test=pcidump under kvmscope, where KVM is, differs from them only
# in the bytes docs/pci.md's table allows (the unit test test_pci_qemu.c checks that without KVM).
. tests/lib.sh
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
if ! command -v qemu-system-x86_64 >/dev/null || [ ! -f "$MINI" ]; then
	echo "SKIP pci_qemu: no qemu-system-x86_64 or no $MINI (make mini) to read QEMU's config space"
else
	check "pci_qemu: tests/tools/qemu-pcidump.sh under TCG" \
		sh -c "sh tests/tools/qemu-pcidump.sh '$out' 2>'$out/log'"
	for m in legacy transitional modern; do
		grep -v '^#' tests/fixtures/qemu-pci-$m.txt >"$out/want-$m"
		check "pci_qemu: QEMU's $m config space and sizing are still the committed ones" \
			sh -c "grep -v '^#' '$out/qemu-pci-$m.txt' | cmp - '$out/want-$m'"
	done
fi
need_kvm pci_qemu
[ -f "$MINI" ] || { echo "SKIP pci_qemu: $MINI is missing (make mini)"; exit $failed; }
: >"$out/disk.img"
truncate -s 1M "$out/disk.img"
for m in legacy transitional modern; do
	timeout 60 $KVMSCOPE run --kernel "$MINI" --disk "$out/disk.img" --virtio $m \
		--append test=pcidump >"$out/$m.console" 2>&1 </dev/null
	grep -a '^pcidump ' "$out/$m.console" | tr -d '\r' | sed 's/^pcidump //' >"$out/$m.k"
	grep -v '^#' tests/fixtures/qemu-pci-$m.txt >"$out/$m.q"
	check "pci_qemu: the guest reads kvmscope's $m function as QEMU's but for docs/pci.md's table" \
		python3 - "$out/$m.k" "$out/$m.q" docs/pci.md <<'PY'
import re, sys
def dump(path):
    cfg, sizing = {}, {}
    for line in open(path):
        m = re.match(r"^([0-9a-f]{2}): ((?:[0-9a-f]{2} ?){16})$", line.strip())
        if m:
            for i, b in enumerate(m.group(2).split()):
                cfg[int(m.group(1), 16) + i] = int(b, 16)
        m = re.match(r"^sizing ([0-9a-f]{2}): ([0-9a-f]{8})$", line.strip())
        if m:
            sizing[m.group(1)] = m.group(2)
    return cfg, sizing
mask, table = [0] * 256, False
for line in open(sys.argv[3]):
    if line.startswith("<!-- config-differences"):
        table = True
        continue
    if table and not line.startswith("|"):
        break
    m = re.match(r"^\| `0x([0-9a-f]+)(?:-0x([0-9a-f]+))?` \| `0x([0-9a-f]+)` \|", line)
    if table and m:
        for o in range(int(m.group(1), 16), int(m.group(2) or m.group(1), 16) + 1):
            mask[o] |= int(m.group(3), 16)
(k, ks), (q, qs) = dump(sys.argv[1]), dump(sys.argv[2])
bad = [o for o in range(256) if (k.get(o, -1) ^ q.get(o, -2)) & ~mask[o] & 0xff or o not in k]
bad += [r for r in qs if ks.get(r) != qs[r]]
for o in bad:
    print("  differs:", o if isinstance(o, str) else "0x%02x kvmscope %s QEMU %s" % (o, k.get(o), q.get(o)))
sys.exit(1 if bad or len(qs) != 6 else 0)
PY
done
exit $failed
