# Each pop's chain in a recorded trace (the DESCS chunk, docs/trace-format.md): the mini guest's
# requests on the split and packed rings, on the vcpu and iothread paths, as `trace dump` prints
# them (text and json) and as `trace stats` counts them per queue; and Linux's indirect chains
# in the Linux boot's trace when tests/integration/linux.sh left one.
. tests/lib.sh
need_kvm descs
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
truncate -s 1M "$out/disk.img"
failed=0

# mini RING IO: test=blk on the modern transport, traced into $out/RING-IO.kvt
mini() {
	$KVMSCOPE run --kernel $MINI --disk "$out/disk.img" --virtio modern --ring "$1" --blk-io "$2" \
		--append "test=blk ring=$1" --trace "$out/$1-$2.kvt" >"$out/run" 2>&1 </dev/null
}

for io in vcpu iothread; do
	check "descs: the split ring's test=blk on $io runs" mini split $io
	$KVMSCOPE trace dump "$out/split-$io.kvt" --events split_pop,used_push >"$out/d" 2>&1
	# the mini guest's request: a 16-byte header, the data, the 1-byte status the device writes
	check "descs ($io): split_pop carries header, data and status as walked" \
		grep -q ":split_pop .* descs=3 chain=\[desc\[[0-9]*\] 0x[0-9a-f]* len=16 NEXT, desc\[[0-9]*\] 0x[0-9a-f]* len=[0-9]* NEXT\(|WRITE\)\{0,1\}, desc\[[0-9]*\] 0x[0-9a-f]* len=1 WRITE\]" "$out/d"
	check "descs ($io): every split_pop and used_push carries its chain" \
		sh -c "! grep -v 'chain=\[' '$out/d' | grep -q ':\(split_pop\|used_push\) '"
	$KVMSCOPE trace dump "$out/split-$io.kvt" --events split_pop --format json >"$out/j" 2>&1
	check "descs ($io): json, each descriptor with its words" \
		python3 -c "
import json, sys
recs = [json.loads(l) for l in open('$out/j')]
d = recs[0]['descs']
sys.exit(not (recs and d['walked'] == 3 and d['not_recorded'] == 0 and
              d['recorded'][2]['len'] == 1 and d['recorded'][2]['text'].endswith('WRITE')))"
done

check "descs: the packed ring's test=blk runs" mini packed vcpu
$KVMSCOPE trace dump "$out/packed-vcpu.kvt" --events packed_pop >"$out/d" 2>&1
check "descs: packed_pop carries the list's slots with their AVAIL flags" \
	grep -q ":packed_pop .* chain=\[slot\[0\] 0x[0-9a-f]* len=16 NEXT|AVAIL, slot\[1\] .*, slot\[2\] .* len=1 WRITE|AVAIL\]" "$out/d"

$KVMSCOPE trace stats "$out/split-vcpu.kvt" >"$out/s" 2>&1
reqs=$(sed -n 's/^requests: \([0-9]*\) completed/\1/p' "$out/s")
check "descs: trace stats counts the queue's requests ($reqs)" \
	grep -q "^virtio-blk q0 *$reqs " "$out/s"

# two queues (VIRTIO_BLK_F_MQ): each queue's pops carry their chains, stats count each queue
$KVMSCOPE run --kernel $MINI --disk "$out/disk.img" --blk-queues 2 --append "test=blk queues=2" \
	--trace "$out/mq.kvt" >"$out/run" 2>&1 </dev/null
$KVMSCOPE trace dump "$out/mq.kvt" --events split_pop >"$out/d" 2>&1
$KVMSCOPE trace stats "$out/mq.kvt" >"$out/s" 2>&1
check "descs: --blk-queues 2: split_pop on queue 1 carries its chain" \
	grep -q ":split_pop .* queue=1 .* chain=\[desc\[" "$out/d"
check "descs: --blk-queues 2: trace stats has a line for each queue, with requests" \
	sh -c "grep -q '^virtio-blk q0 *[1-9]' '$out/s' && grep -q '^virtio-blk q1 *[1-9]' '$out/s'"

linux=tests/out/linux.kvt
if [ -s "$linux" ] && $KVMSCOPE trace dump "$linux" --events split_pop 2>/dev/null | grep -q split_pop; then
	$KVMSCOPE trace dump "$linux" --events split_pop >"$out/l" 2>&1
	check "descs: Linux's requests come as an INDIRECT descriptor and its table" \
		grep -q "chain=\[desc\[[0-9]*\] 0x[0-9a-f]* len=[0-9]* INDIRECT, table\[0\] " "$out/l"
else
	echo "SKIP descs: no Linux boot trace with split_pop (tests/out/linux.kvt comes from tests/integration/linux.sh)"
fi
exit $failed
