# The mini guest's virtio-blk driver against kvmscope: {legacy, modern} x {msix, intx, poll} x
# event_idx {0, 1} on the split ring, and modern x the same on the packed ring, on each IO path,
# event_idx=0 with one queue, event_idx=1 with two (VIRTIO_BLK_F_MQ); test=load also with two;
# the host finds exactly the guest's pattern in the image; on iothread and uring, test=load with
# VIRTIO_F_IN_ORDER (--in-order) on both rings.
. tests/lib.sh
need_kvm mini_blk
probe=$(mktemp); trap 'rm -f "$probe"' EXIT
truncate -s 1M "$probe"
for io in vcpu iothread uring; do
	if [ $io = uring ] && ! $KVMSCOPE run --kernel $MINI --disk "$probe" --blk-io uring \
		--append exit=0 2>&1 </dev/null | grep -q "exit 0"; then
		echo "SKIP mini_blk: kvmscope was built without liburing (--blk-io=uring unavailable)"
		continue
	fi
	BLK_IO=$io bash tests/tools/mini-blk.sh kvmscope || failed=1
done
exit $failed
