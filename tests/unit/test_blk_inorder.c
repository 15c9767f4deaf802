/* tests/unit/test_blk_inorder.c - VIRTIO_F_IN_ORDER (virtio 1.2 §2.7.9, §2.8.8) in the
 * virtio-blk device, on synthetic guest memory and a fake transport, no /dev/kvm: who offers
 * the feature, and that with it negotiated every queue uses its buffers in the order the driver
 * made them available, on the split and the packed ring and on each IO path. The uring path is
 * where order is at stake: a GET_ID is answered at once while the read made available before
 * it is still in the kernel, so the device must hold the GET_ID back. Without IN_ORDER the same
 * requests do come back out of order there, which shows the check can fail. */
#include <endian.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blk/blk.h"
#include "tests/check.h"
#include "tests/unit/test_queue.h"

#define RAM_SIZE (2 << 20)
#define NQ	 2
#define QSIZE	 32 /* a power of 2 for the split ring; 3 descriptors a request */
#define NREQ	 8  /* requests made available at once on each queue */
/* Queue q: its ring at RING_GPA + q * 0x4000, driver area +0x1000, device area +0x2000; its
 * request k: header at BUF_GPA + (q * NREQ + k) * 0x2000, status at +32, data at +0x1000. */
#define RING_GPA  0x10000
#define BUF_GPA	  0x100000
#define DISK_SECT 256
#define F_AVAIL	  (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED	  (1u << VRING_PACKED_DESC_F_USED)

static struct vm vm;
static struct virtio_dev *vdev;
static bool packed;

static void *gp(uint64_t gpa)
{
	return guest_ptr(&vm.mem, gpa, 1);
}

static void fake_signal(struct virtio_dev *d, struct virtqueue *q)
{
	(void)d;
	(void)q;
}

static void fake_config(struct virtio_dev *d)
{
	(void)d;
}

/* No ioeventfd, no irqfd: queue_notify kicks the IO thread's eventfd itself. */
static const struct virtio_transport_ops plain = {"fake", fake_signal, fake_config,
						  NULL,	  NULL,	       NULL};

static uint64_t ring(unsigned q)
{
	return RING_GPA + q * 0x4000;
}

static uint64_t buf(unsigned q, unsigned k)
{
	return BUF_GPA + (q * NREQ + k) * 0x2000;
}

static void set_status(uint8_t s)
{
	pthread_mutex_lock(&vdev->lock);
	virtio_set_status(vdev, s);
	pthread_mutex_unlock(&vdev->lock);
}

#define STATUS_UP                                                                                  \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK)

/* The device with NQ queues on io, offering IN_ORDER; the driver takes it when in_order, the
 * packed ring when packed (a file-wide choice), and no EVENT_IDX. */
static int bring_up(const char *path, enum blk_io io, bool in_order)
{
	struct blk_config cfg = {.path = path, .io = io, .queues = NQ, .iothreads = 1};
	uint64_t drop = 1ULL << VIRTIO_F_NOTIFY_ON_EMPTY | 1ULL << VIRTIO_F_BAD_FEATURE |
			1ULL << VIRTIO_RING_F_EVENT_IDX;
	int r;

	memset(vm.mem.lo, 0, RAM_SIZE);
	r = blk_create(&vm, &cfg, &vdev);
	if (r < 0)
		return r;
	virtio_dev_set_ring(vdev, packed ? VIRTIO_RING_PACKED : VIRTIO_RING_SPLIT, true);
	vdev->transport = &plain;
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	if (!in_order)
		drop |= 1ULL << VIRTIO_F_IN_ORDER;
	vdev->driver_features = vdev->host_features & ~drop;
	set_status(STATUS_UP);
	for (unsigned q = 0; q < NQ; q++)
		test_queue_place(&vdev->vqs[q], QSIZE, ring(q));
	set_status(STATUS_UP | VIRTIO_CONFIG_S_DRIVER_OK);
	return 0;
}

/* Request k of queue q in descriptors (slots) 3k..3k+2, in ring order as §2.7.5 asks of an
 * in-order driver: header, data (512 bytes, device-writable for IN and GET_ID), status. */
static void drv_req(unsigned q, unsigned k, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr *h = gp(buf(q, k));
	uint64_t gpas[3] = {buf(q, k), buf(q, k) + 0x1000, buf(q, k) + 32};
	uint32_t lens[3] = {16, 512, 1};
	bool w[3] = {false, type != VIRTIO_BLK_T_OUT, true};
	uint16_t head_flags = 0;

	h->type = htole32(type);
	h->sector = htole64(sector);
	*(uint8_t *)gp(buf(q, k) + 32) = 0xff;
	for (unsigned i = 0; i < 3; i++) {
		uint16_t flags = (w[i] ? VRING_DESC_F_WRITE : 0) | (i < 2 ? VRING_DESC_F_NEXT : 0);
		unsigned x = 3 * k + i;

		if (packed) {
			struct vring_packed_desc *d = (struct vring_packed_desc *)gp(ring(q)) + x;

			d->addr = htole64(gpas[i]);
			d->len = htole32(lens[i]);
			d->id = htole16(k);
			flags |= F_AVAIL; /* first lap: wrap counter 1 */
			if (i == 0)
				head_flags = flags; /* the first one's flags last (§2.8.21.1) */
			else
				d->flags = htole16(flags);
		} else {
			struct vring_desc *d = (struct vring_desc *)gp(ring(q)) + x;

			d->addr = htole64(gpas[i]);
			d->len = htole32(lens[i]);
			d->flags = htole16(flags);
			d->next = htole16(x + 1);
		}
	}
	if (packed) {
		struct vring_packed_desc *d = (struct vring_packed_desc *)gp(ring(q)) + 3 * k;

		__atomic_store_n(&d->flags, htole16(head_flags), __ATOMIC_RELEASE);
	} else {
		struct vring_avail *a = gp(ring(q) + 0x1000);

		a->ring[k] = htole16(3 * k);
		__atomic_store_n(&a->idx, htole16(k + 1), __ATOMIC_RELEASE);
	}
}

/* The k-th used entry of queue q: the request it names, or -1 while it is not there.
 * Split: used->ring[k]; packed: the used descriptor at the slot of request k's first one. */
static int drv_used(unsigned q, unsigned k)
{
	if (packed) {
		struct vring_packed_desc *d = (struct vring_packed_desc *)gp(ring(q)) + 3 * k;
		uint16_t f = le16toh(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE));

		return (f & (F_AVAIL | F_USED)) == (F_AVAIL | F_USED) ? le16toh(d->id) : -1;
	}
	struct vring_used *u = gp(ring(q) + 0x2000);

	if (le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE)) <= k)
		return -1;
	return (int)le32toh(u->ring[k].id) / 3;
}

/* Per queue: reads and GET_IDs by turns, all made available before one notify; true when
 * every queue used them all within 2 s. order[q][k]: the request named by used entry k. */
static bool run_burst(int order[NQ][NREQ])
{
	for (unsigned q = 0; q < NQ; q++) {
		for (unsigned k = 0; k < NREQ; k++)
			drv_req(q, k, k % 2 ? VIRTIO_BLK_T_GET_ID : VIRTIO_BLK_T_IN, 8 * k + q);
		vdev->ops->queue_notify(vdev, &vdev->vqs[q]);
	}
	for (int i = 0; i < 2000; i++) {
		bool all = true;

		for (unsigned q = 0; q < NQ; q++)
			for (unsigned k = 0; k < NREQ; k++)
				all &= (order[q][k] = drv_used(q, k)) >= 0;
		if (all)
			return true;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return false;
}

static bool in_pop_order(int order[NQ][NREQ])
{
	for (unsigned q = 0; q < NQ; q++)
		for (unsigned k = 0; k < NREQ; k++)
			if (order[q][k] != (int)k)
				return false;
	return true;
}

static bool statuses_ok(void)
{
	for (unsigned q = 0; q < NQ; q++)
		for (unsigned k = 0; k < NREQ; k++)
			if (*(uint8_t *)gp(buf(q, k) + 32) != VIRTIO_BLK_S_OK)
				return false;
	return true;
}

static void run_path(const char *path, const char *name, enum blk_io io)
{
	int order[NQ][NREQ];
	bool done;

	if (bring_up(path, io, true) < 0) {
		printf("SKIP %s %s ring: the device cannot be created (no liburing?)\n", name,
		       packed ? "packed" : "split");
		return;
	}
	CHECK(vdev->vqs[0].in_order && vdev->vqs[1].in_order,
	      "%s %s: IN_ORDER negotiated marks both queues", name, packed ? "packed" : "split");
	done = run_burst(order);
	CHECK(done && statuses_ok(), "%s %s: %u reads and GET_IDs on each of %u queues served",
	      name, packed ? "packed" : "split", NREQ, NQ);
	CHECK(done && in_pop_order(order),
	      "%s %s: IN_ORDER: each queue's used entries in the order made available (queue 0: "
	      "%d %d %d %d ...)",
	      name, packed ? "packed" : "split", order[0][0], order[0][1], order[0][2],
	      order[0][3]);
	set_status(0);
	blk_destroy(vdev);
}

/* Without IN_ORDER the uring path is free to answer a GET_ID before the read ahead of it: it
 * does, so the check above would see the difference if the holding back were gone. */
static void run_uring_unordered(const char *path)
{
	int order[NQ][NREQ];
	bool done;

	if (bring_up(path, BLK_IO_URING, false) < 0)
		return;
	done = run_burst(order);
	CHECK(done && statuses_ok() && !in_pop_order(order),
	      "uring %s without IN_ORDER: requests served, a GET_ID used before the read made "
	      "available ahead of it (queue 0: %d %d %d %d ...)",
	      packed ? "packed" : "split", order[0][0], order[0][1], order[0][2], order[0][3]);
	set_status(0);
	blk_destroy(vdev);
}

/* A reset while finished requests wait for earlier ones, and NEEDS_RESET (a chain without a
 * writable status byte) behind held ones: both drain, and the device serves again. */
static void run_reset(const char *path)
{
	int order[NQ][NREQ];
	struct vring_packed_desc *pd;
	struct vring_desc *sd;

	if (bring_up(path, BLK_IO_URING, true) < 0)
		return;
	for (unsigned k = 0; k < NREQ; k++)
		drv_req(0, k, k % 2 ? VIRTIO_BLK_T_GET_ID : VIRTIO_BLK_T_IN, 8 * k);
	vdev->ops->queue_notify(vdev, &vdev->vqs[0]);
	set_status(0);
	CHECK(vdev->status == 0, "uring %s IN_ORDER: a reset with requests held back completes",
	      packed ? "packed" : "split");
	set_status(0);
	blk_destroy(vdev);

	if (bring_up(path, BLK_IO_URING, true) < 0)
		return;
	for (unsigned k = 0; k < 3; k++)
		drv_req(0, k, k % 2 ? VIRTIO_BLK_T_GET_ID : VIRTIO_BLK_T_IN, 8 * k);
	/* request 2's status byte made device-readable: the device must need a reset */
	if (packed) {
		pd = (struct vring_packed_desc *)gp(ring(0)) + 3 * 2 + 2;
		pd->flags &= ~htole16(VRING_DESC_F_WRITE);
	} else {
		sd = (struct vring_desc *)gp(ring(0)) + 3 * 2 + 2;
		sd->flags &= ~htole16(VRING_DESC_F_WRITE);
	}
	vdev->ops->queue_notify(vdev, &vdev->vqs[0]);
	CHECK(test_wait_needs_reset(vdev, 2000),
	      "uring %s IN_ORDER: a bad chain behind held requests: NEEDS_RESET",
	      packed ? "packed" : "split");
	set_status(0);
	blk_destroy(vdev);

	if (bring_up(path, BLK_IO_URING, true) < 0)
		return;
	CHECK(run_burst(order) && in_pop_order(order) && statuses_ok(),
	      "uring %s IN_ORDER: after the resets, served in order again",
	      packed ? "packed" : "split");
	set_status(0);
	blk_destroy(vdev);
}

/* Bit 35 is offered with --in-order only, and only where the transport has a modern side. */
static void run_offer(const char *path)
{
	struct blk_config cfg = {.path = path, .io = BLK_IO_VCPU};
	const uint64_t bit = 1ULL << VIRTIO_F_IN_ORDER;

	if (blk_create(&vm, &cfg, &vdev) < 0)
		return;
	CHECK(!(vdev->host_features & bit), "IN_ORDER not offered by default");
	virtio_dev_set_ring(vdev, VIRTIO_RING_SPLIT, true);
	CHECK(vdev->host_features & bit, "--in-order offers IN_ORDER (bit 35)");
	virtio_dev_plugged(vdev, false);
	CHECK(!(vdev->host_features & bit), "a legacy-only transport does not offer it");
	virtio_dev_plugged(vdev, true);
	/* A driver that does not take it gets the device as before. */
	vdev->transport = &plain;
	vdev->driver_features = vdev->host_features & ~bit;
	set_status(STATUS_UP);
	CHECK(!vdev->vqs[0].in_order, "IN_ORDER not taken: the queue is not in order");
	set_status(0);
	blk_destroy(vdev);
}

static char *make_disk(void)
{
	static char path[64];
	static uint8_t zeroes[DISK_SECT * 512];
	int fd;

	strcpy(path, "/tmp/kvmscope-test-inorder-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, zeroes, sizeof(zeroes)) != (ssize_t)sizeof(zeroes))
		return NULL;
	close(fd);
	return path;
}

int main(void)
{
	char *path = make_disk();

	if (!path)
		SKIP("test_blk_inorder: cannot make a disk image in /tmp");
	vm.mem.lo = aligned_alloc(4096, RAM_SIZE);
	vm.mem.lo_size = RAM_SIZE;
	run_offer(path);
	for (int p = 0; p < 2; p++) {
		packed = p;
		run_path(path, "vcpu", BLK_IO_VCPU);
		run_path(path, "iothread", BLK_IO_IOTHREAD);
		run_path(path, "uring", BLK_IO_URING);
		run_uring_unordered(path);
		run_reset(path);
	}
	unlink(path);
	free(vm.mem.lo);
	return CHECK_DONE();
}
