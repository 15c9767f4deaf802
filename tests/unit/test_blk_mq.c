/* tests/unit/test_blk_mq.c - multi-queue virtio-blk (virtio 1.2 §5.2.3, VIRTIO_BLK_F_MQ) on
 * synthetic guest memory and a fake transport, no /dev/kvm: what one queue and several offer,
 * requests on every queue on each IO path (one and several IO threads), a guest error on one
 * queue and the reset after it, and the counts blk_create refuses. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "blk/blk.h"
#include "tests/check.h"
#include "tests/unit/test_queue.h"

#define RAM_SIZE (2 << 20)
#define QSIZE	 16
#define NQ	 3
#define RING_GPA                                                                                   \
	0x10000 /* queue q's rings at RING_GPA + q * 0x4000: desc, avail +0x1000, used +0x2000 */
#define BUF_GPA	  0x100000 /* queue q's header at + q * 0x2000, status at +32, data at +0x1000 */
#define DISK_SECT 256

static struct vm vm;
static struct virtio_dev *vdev;
static int host_fd[NQ], irqs[NQ];
static uint16_t avail_idx[NQ];

static void *gp(uint64_t gpa)
{
	return guest_ptr(&vm.mem, gpa, 1);
}

static void fake_signal(struct virtio_dev *d, struct virtqueue *q)
{
	(void)d;
	__atomic_fetch_add(&irqs[q->index], 1, __ATOMIC_SEQ_CST);
}

static void fake_config(struct virtio_dev *d)
{
	(void)d;
}

/* Each queue's ioeventfd, as KVM would take it at the queue's own notify address. */
static int fake_host(struct virtio_dev *d, struct virtqueue *q, int fd)
{
	(void)d;
	host_fd[q->index] = fd;
	return 0;
}

static const struct virtio_transport_ops plain = {"fake", fake_signal, fake_config,
						  NULL,	  NULL,	       NULL};
static const struct virtio_transport_ops wired = {"fake-ioeventfd", fake_signal, fake_config,
						  fake_host,	    NULL,	 NULL};

static void set_status(uint8_t s)
{
	pthread_mutex_lock(&vdev->lock);
	virtio_set_status(vdev, s);
	pthread_mutex_unlock(&vdev->lock);
}

static uint64_t ring(unsigned q)
{
	return RING_GPA + q * 0x4000;
}

static uint64_t buf(unsigned q)
{
	return BUF_GPA + q * 0x2000;
}

/* Negotiate everything offered but the legacy-only bits, set up nq queues, DRIVER_OK. */
static int bring_up(const char *path, enum blk_io io, unsigned nq, unsigned nt,
		    const struct virtio_transport_ops *t)
{
	struct blk_config cfg = {.path = path, .io = io, .queues = nq, .iothreads = nt};
	int r;

	memset(vm.mem.lo, 0, RAM_SIZE);
	memset(avail_idx, 0, sizeof(avail_idx));
	memset(irqs, 0, sizeof(irqs));
	for (unsigned q = 0; q < NQ; q++)
		host_fd[q] = -1;
	r = blk_create(&vm, &cfg, &vdev);
	if (r < 0)
		return r;
	vdev->transport = t;
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vdev->driver_features =
	    vdev->host_features & ~(1ULL << VIRTIO_F_NOTIFY_ON_EMPTY |
				    1ULL << VIRTIO_F_BAD_FEATURE | 1ULL << VIRTIO_RING_F_EVENT_IDX);
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < vdev->nr_vqs; q++)
		test_queue_place(&vdev->vqs[q], QSIZE, ring(q));
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return 0;
}

/* One request on queue q: header, 512 bytes of data (none with len 0), status. writable_status
 * false leaves the chain without a device-writable byte: a guest error. */
static void drv_req(unsigned q, uint32_t type, uint64_t sector, uint32_t len, bool writable_status)
{
	struct vring_desc *d = gp(ring(q));
	struct vring_avail *a = gp(ring(q) + 0x1000);
	struct virtio_blk_outhdr *h = gp(buf(q));
	uint64_t gpas[3] = {buf(q), buf(q) + 0x1000, buf(q) + 32};
	uint32_t lens[3] = {16, len, 1};
	bool w[3] = {false, type == VIRTIO_BLK_T_IN, writable_status};
	unsigned n = 0;

	h->type = htole32(type);
	h->sector = htole64(sector);
	*(uint8_t *)gp(buf(q) + 32) = 0xff;
	for (unsigned i = 0; i < 3; i++) {
		if (lens[i] == 0)
			continue;
		d[n].addr = htole64(gpas[i]);
		d[n].len = htole32(lens[i]);
		d[n].flags = htole16(w[i] ? VRING_DESC_F_WRITE : 0);
		d[n].next = htole16(n + 1);
		if (n)
			d[n - 1].flags |= htole16(VRING_DESC_F_NEXT);
		n++;
	}
	a->ring[avail_idx[q] % QSIZE] = 0;
	__atomic_store_n(&a->idx, htole16(++avail_idx[q]), __ATOMIC_RELEASE);
	if (host_fd[q] >= 0)
		eventfd_write(host_fd[q], 1);
	else
		vdev->ops->queue_notify(vdev, &vdev->vqs[q]);
}

/* Until queue q used all it was given (2 s at most); its status byte, or 0xee on a timeout. */
static uint8_t drv_wait(unsigned q)
{
	struct vring_used *u = gp(ring(q) + 0x2000);

	for (int i = 0; i < 2000; i++) {
		if (le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE)) == avail_idx[q])
			return *(uint8_t *)gp(buf(q) + 32);
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return 0xee;
}

static char *make_disk(void)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/kvmscope-test-blkmq-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, DISK_SECT * 512) < 0)
		return NULL;
	close(fd);
	return path;
}

static uint16_t cfg16(uint32_t off)
{
	uint16_t v = 0;

	vdev->ops->config_access(vdev, off, &v, 2, false);
	return le16toh(v);
}

/* One queue is today's device: no MQ; num_queues reads 1, as QEMU 7.2 fills it. */
static void run_offer(const char *path)
{
	int r = bring_up(path, BLK_IO_VCPU, 0, 0, &plain);

	CHECK(r == 0 && vdev->nr_vqs == 1 && !(vdev->host_features & 1ULL << VIRTIO_BLK_F_MQ) &&
		  cfg16(offsetof(struct virtio_blk_config, num_queues)) == 1,
	      "1 queue: no VIRTIO_BLK_F_MQ, num_queues 1");
	if (r == 0) {
		set_status(0);
		blk_destroy(vdev);
	}
	r = bring_up(path, BLK_IO_VCPU, NQ, 0, &plain);
	CHECK(r == 0 && vdev->nr_vqs == NQ && (vdev->host_features & 1ULL << VIRTIO_BLK_F_MQ) &&
		  cfg16(offsetof(struct virtio_blk_config, num_queues)) == NQ,
	      "%d queues: VIRTIO_BLK_F_MQ offered, num_queues %d", NQ, NQ);
	if (r == 0) {
		set_status(0);
		blk_destroy(vdev);
	}
}

/* A write then a read on every queue, each at its own sector; the interrupt of each queue. */
static void run_path(const char *path, const char *label, enum blk_io io, unsigned nt,
		     const struct virtio_transport_ops *t)
{
	int r = bring_up(path, io, NQ, nt, t);
	bool ok = r == 0;

	CHECK(ok, "%s: %d queues, %u IO threads: up", label, NQ, nt);
	if (!ok)
		return;
	for (unsigned q = 0; q < NQ; q++)
		memset(gp(buf(q) + 0x1000), 'A' + q, 512);
	for (unsigned q = 0; q < NQ; q++)
		drv_req(q, VIRTIO_BLK_T_OUT, 8 * q, 512, true);
	for (unsigned q = 0; q < NQ; q++)
		ok &= drv_wait(q) == VIRTIO_BLK_S_OK;
	CHECK(ok, "%s: a write on each queue completes OK on that queue", label);
	for (unsigned q = 0; q < NQ; q++) {
		memset(gp(buf(q) + 0x1000), 0, 512);
		drv_req(q, VIRTIO_BLK_T_IN, 8 * q, 512, true);
	}
	ok = true;
	for (unsigned q = 0; q < NQ; q++)
		ok &= drv_wait(q) == VIRTIO_BLK_S_OK &&
		      ((uint8_t *)gp(buf(q) + 0x1000))[511] == 'A' + q;
	CHECK(ok, "%s: each queue reads back its own sector", label);
	ok = true;
	for (unsigned q = 0; q < NQ; q++)
		for (int i = 0; i < 1000 && __atomic_load_n(&irqs[q], __ATOMIC_SEQ_CST) < 2; i++)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
	for (unsigned q = 0; q < NQ; q++)
		ok &= __atomic_load_n(&irqs[q], __ATOMIC_SEQ_CST) == 2;
	CHECK(ok, "%s: each queue's interrupts are its own (2 each: %d %d %d)", label, irqs[0],
	      irqs[1], irqs[2]);

	/* A chain without a writable status byte on the last queue: the device needs a reset,
	 * and after it every queue serves again. */
	drv_req(NQ - 1, VIRTIO_BLK_T_IN, 0, 0, false);
	CHECK(test_wait_needs_reset(vdev, 1000),
	      "%s: a broken chain on queue %d: DEVICE_NEEDS_RESET", label, NQ - 1);
	set_status(0);
	blk_destroy(vdev);
	r = bring_up(path, io, NQ, nt, t);
	ok = r == 0;
	for (unsigned q = 0; ok && q < NQ; q++)
		drv_req(q, VIRTIO_BLK_T_FLUSH, 0, 0, true);
	for (unsigned q = 0; ok && q < NQ; q++)
		ok &= drv_wait(q) == VIRTIO_BLK_S_OK;
	CHECK(ok, "%s: after the reset every queue serves again", label);
	if (r == 0) {
		set_status(0);
		blk_destroy(vdev);
	}
}

/* Counts an IO path cannot have: refused with -EINVAL before anything is opened. */
static void run_refusals(const char *path)
{
	struct {
		enum blk_io io;
		unsigned nq, nt;
		const char *what;
	} bad[] = {
	    {BLK_IO_VCPU, VIRTIO_MAX_QUEUES + 1, 0, "more queues than VIRTIO_MAX_QUEUES"},
	    {BLK_IO_VCPU, 2, 2, "IO threads on the vcpu path"},
	    {BLK_IO_IOTHREAD, 2, 3, "more IO threads than queues"},
	    {BLK_IO_VHOST_USER, 2, 0, "several queues over vhost-user"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct blk_config cfg = {.path = path,
					 .io = bad[i].io,
					 .socket = "/nonexistent.sock",
					 .queues = bad[i].nq,
					 .iothreads = bad[i].nt};
		struct virtio_dev *d = NULL;

		CHECK(blk_check(&cfg) == -EINVAL && blk_create(&vm, &cfg, &d) == -EINVAL,
		      "refused: %s", bad[i].what);
	}
}

int main(void)
{
	char *path = make_disk();

	vm.mem.lo = aligned_alloc(4096, RAM_SIZE);
	vm.mem.lo_size = RAM_SIZE;
	if (!path || !vm.mem.lo)
		return 1;
	run_offer(path);
	run_path(path, "vcpu", BLK_IO_VCPU, 1, &plain);
	run_path(path, "iothread", BLK_IO_IOTHREAD, 1, &wired);
	run_path(path, "iothread-2", BLK_IO_IOTHREAD, 2, &wired);
	run_path(path, "iothread-3-no-ioeventfd", BLK_IO_IOTHREAD, 3, &plain);
	run_path(path, "uring-2", BLK_IO_URING, 2, &wired);
	run_refusals(path);
	unlink(path);
	free(vm.mem.lo);
	return CHECK_DONE();
}
