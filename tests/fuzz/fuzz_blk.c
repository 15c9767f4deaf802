/* tests/fuzz/fuzz_blk.c - the virtio-blk device over guest memory the fuzzer writes: descriptor
 * table, avail ring, headers and data are the input's bytes, on each IO path (vcpu, iothread,
 * uring), with the features, the ring layout (split or packed), the queue size and the number
 * of queues (1, or 2 with VIRTIO_BLK_F_MQ, on one or two IO threads) the input picks; queue 1's
 * rings sit QUEUE1 bytes above queue 0's. The device must answer every
 * chain (IOERR, UNSUPP or NEEDS_RESET for a broken one) without touching memory outside RAM. */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include "blk/blk.h"
#include "tests/fuzz/fuzz.h"

#define RAM	 (1u << 20)
#define DESC_GPA 0x0
#define AVAIL	 0x1000
#define USED	 0x2000
#define DISK	 (64u << 10)
#define QUEUE1	 0x4000 /* queue 1's descriptors, avail and used rings: above queue 0's */

static struct vm vm;
static int host_fd[2] = {-1, -1};

static void no_signal(struct virtio_dev *d, struct virtqueue *q)
{
	(void)d, (void)q;
}

static void no_config(struct virtio_dev *d)
{
	(void)d;
}

/* The iothread and uring paths take the notify eventfd as KVM's ioeventfd would. */
static int take_host(struct virtio_dev *d, struct virtqueue *q, int fd)
{
	(void)d;
	host_fd[q->index] = fd;
	return 0;
}

static int no_guest(struct virtio_dev *d, struct virtqueue *q, int fd)
{
	(void)d, (void)q, (void)fd;
	return -ENOTSUP; /* INTx-like: the device signals through signal_vq */
}

static const struct virtio_transport_ops transport = {"fuzz",	 no_signal, no_config,
						      take_host, no_guest,  NULL};

static void set_status(struct virtio_dev *v, uint8_t s)
{
	pthread_mutex_lock(&v->lock);
	virtio_set_status(v, s);
	pthread_mutex_unlock(&v->lock);
}

/* A packed ring is done when nothing is in flight and the slot the device looks at next is not
 * available (virtio 1.2 §2.8.1); the device's fields are read as they move, so loosely. */
static bool packed_done(const struct virtqueue *q)
{
	uint16_t slot = __atomic_load_n(&q->last_avail, __ATOMIC_RELAXED);
	bool wrap = __atomic_load_n(&q->avail_wrap, __ATOMIC_RELAXED);
	const struct vring_packed_desc *d = guest_ptr(&vm.mem, q->desc + 16ULL * slot, 16);
	uint16_t f = d ? le16toh(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE)) : 0;
	bool avail = !!(f & 1 << VRING_PACKED_DESC_F_AVAIL) == wrap &&
		     !!(f & 1 << VRING_PACKED_DESC_F_USED) != wrap;

	return __atomic_load_n(&q->inflight, __ATOMIC_RELAXED) == 0 && (!d || !avail);
}

/* Until the device used what queue q's avail ring offers, or stopped (NEEDS_RESET), 20 ms at
 * most. */
static void wait_used(struct virtio_dev *v, struct virtqueue *q)
{
	const struct vring_avail *a = guest_ptr(&vm.mem, q->avail, 4);
	const struct vring_used *u = guest_ptr(&vm.mem, q->used, 4);
	for (int i = 0; i < 200; i++) {
		uint16_t used = __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
		pthread_mutex_lock(&v->lock);
		bool stopped = v->status & VIRTIO_CONFIG_S_NEEDS_RESET;
		pthread_mutex_unlock(&v->lock);
		if (stopped || (q->packed ? packed_done(q)
					  : used == __atomic_load_n(&a->idx, __ATOMIC_RELAXED)))
			return;
		nanosleep(&(struct timespec){0, 100000}, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *disk;
	struct fuzz_in in = {data, size};
	struct virtio_dev *v;

	if (!vm.mem.lo) {
		static uint8_t zeros[DISK];
		vm.mem.lo = calloc(1, RAM);
		vm.mem.lo_size = RAM;
		disk = fuzz_file("disk.img", zeros, sizeof(zeros));
		if (!vm.mem.lo)
			abort();
	}
	unsigned pick = fuzz_take(&in, 1);
	/* bit 4: two queues (MQ); bit 5: on two IO threads (iothread, uring) */
	unsigned nq = pick & 16 ? 2 : 1;
	struct blk_config cfg = {.path = disk,
				 .ro = pick & 4,
				 .io = (enum blk_io)(pick % 3), /* vcpu, iothread, uring */
				 .serial = "fuzz",
				 .queues = nq,
				 .iothreads = nq == 2 && pick % 3 && pick & 32 ? 2 : 1};
	uint64_t features = fuzz_take(&in, 8);
	uint16_t qsize = fuzz_take(&in, 2);
	uint8_t kicks = 1 + fuzz_take(&in, 1) % 4;
	/* the rest is guest RAM from address 0: descriptors, avail ring, headers, data */
	memset(vm.mem.lo, 0, RAM);
	memcpy(vm.mem.lo, in.p, in.left < RAM ? in.left : RAM);
	/* used flags and idx start at 0, as a driver sets them */
	memset(vm.mem.lo + USED, 0, 8);
	memset(vm.mem.lo + QUEUE1 + USED, 0, 8);
	host_fd[0] = host_fd[1] = -1;
	if (blk_create(&vm, &cfg, &v) < 0)
		return 0; /* uring in a build without liburing */
	/* bit 3: offer the packed ring, bit 6 IN_ORDER; the input's features say whether the
	 * driver takes them */
	virtio_dev_set_ring(v, pick & 8 ? VIRTIO_RING_PACKED : VIRTIO_RING_SPLIT, pick & 64);
	v->transport = &transport;
	set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	v->driver_features = v->host_features & features;
	set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned i = 0; i < nq; i++) {
		struct virtqueue *q = &v->vqs[i];
		q->size = qsize;
		q->desc = DESC_GPA + i * QUEUE1;
		q->avail = AVAIL + i * QUEUE1;
		q->used = USED + i * QUEUE1;
		q->ready = true;
	}
	set_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	/* Each queue kicked in turn, both before either is waited for: two threads may serve. */
	for (unsigned k = 0; k < kicks; k++) {
		for (unsigned i = 0; i < nq; i++)
			if (host_fd[i] >= 0)
				eventfd_write(host_fd[i], 1);
			else
				v->ops->queue_notify(v, &v->vqs[i]);
		for (unsigned i = 0; i < nq; i++)
			wait_used(v, &v->vqs[i]);
	}
	set_status(v, 0);
	blk_destroy(v);
	return 0;
}
