/* tests/unit/test_blk_reset.c - a device reset while other threads use the queues: virtio-blk
 * with two queues on the real virtio-pci transport (no /dev/kvm), two "vCPU" threads each
 * publishing requests on its queue and notifying through the notify region, and a third that
 * writes status 0 at a random moment, round after round, on each IO path (vcpu, iothread with
 * one and two threads, uring with two). What a driver relies on (virtio 1.2 §2.4.1: a reset is
 * done when the status write returns, and the device then uses nothing the driver gave it):
 * once the write of 0 has returned, the device writes nothing more into the rings or buffers,
 * however the notifies go on; and after each new DRIVER_OK every queue serves again. Some
 * rounds first break queue 0 (a chain without a writable status byte: NEEDS_RESET) while
 * queue 1 is busy. */
#include <endian.h>
#include <errno.h>
#include <sched.h>
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "blk/blk.h"
#include "tests/check.h"
#include "tests/unit/test_pci_harness.h"
#include "trace/trace.h"
#include "virtio/virtio.h"

#define SLOT	 1
#define RAM_SIZE (4 << 20)
#define NQ	 2
#define QSIZE	 64 /* 3 descriptors a request, NREQ requests a round */
#define NREQ	 16
#define ROUNDS	 150
#define S_UP	 (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER)

static struct virtio_dev *vdev;
static uint64_t notify_base, status_reg;
static bool stop, broken_round;

static void *gp(uint64_t gpa)
{
	return guest_ptr(&vm.mem, gpa, 1);
}

/* Queue q's rings: descriptors, avail at +0x1000, used at +0x2000. */
static uint64_t ring(unsigned q)
{
	return 0x10000 + q * 0x10000;
}

/* Request k of queue q: header, status byte at +32, 4 KiB of data at +0x1000. */
static uint64_t req(unsigned q, unsigned k)
{
	return 0x100000 + q * 0x80000 + k * 0x2000;
}

static uint16_t used_idx(unsigned q)
{
	struct vring_used *u = gp(ring(q) + 0x2000);

	return le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE));
}

static uint8_t byte(uint64_t gpa)
{
	return __atomic_load_n((uint8_t *)gp(gpa), __ATOMIC_RELAXED);
}

static void set_byte(uint64_t gpa, uint8_t v)
{
	__atomic_store_n((uint8_t *)gp(gpa), v, __ATOMIC_RELAXED);
}

/* Queue q's size, rings and enable, selected through queue_select. */
static void queue_up(unsigned q)
{
	mwr(common(SLOT, VIRTIO_PCI_COMMON_Q_SELECT), q, 2);
	mwr(common(SLOT, VIRTIO_PCI_COMMON_Q_SIZE), QSIZE, 2);
	mwr(common(SLOT, VIRTIO_PCI_COMMON_Q_DESCLO), ring(q), 8);
	mwr(common(SLOT, VIRTIO_PCI_COMMON_Q_AVAILLO), ring(q) + 0x1000, 8);
	mwr(common(SLOT, VIRTIO_PCI_COMMON_Q_USEDLO), ring(q) + 0x2000, 8);
	mwr(common(SLOT, VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
}

/* What a driver does (§3.1.1): features (VERSION_1, RING_PACKED with packed), nq queues,
 * DRIVER_OK. */
static void bring_up_queues(unsigned nq, bool packed)
{
	memset(vm.mem.lo, 0, RAM_SIZE);
	mwr(status_reg, S_UP, 1);
	mwr(common(SLOT, VIRTIO_PCI_COMMON_GFSELECT), 1, 4);
	mwr(common(SLOT, VIRTIO_PCI_COMMON_GF), 1 | (packed ? 1 << (VIRTIO_F_RING_PACKED - 32) : 0),
	    4);
	mwr(status_reg, S_UP | VIRTIO_CONFIG_S_FEATURES_OK, 1);
	for (unsigned q = 0; q < nq; q++)
		queue_up(q);
	mwr(status_reg, S_UP | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK, 1);
}

static void bring_up(void)
{
	bring_up_queues(NQ, false);
}

/* Publish request k on queue q: a 4 KiB read whose status byte and data start as 0xff (the
 * disk holds zeroes); broken: its status byte is device-readable, after the writable data (a
 * guest error: NEEDS_RESET). */
static void publish(unsigned q, unsigned k, bool broken)
{
	struct vring_desc *d = gp(ring(q));
	struct vring_avail *a = gp(ring(q) + 0x1000);
	struct virtio_blk_outhdr *h = gp(req(q, k));
	uint64_t gpa[3] = {req(q, k), req(q, k) + 0x1000, req(q, k) + 32};
	uint32_t len[3] = {16, 4096, 1};
	uint16_t flags[3] = {VRING_DESC_F_NEXT, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
			     broken ? 0 : VRING_DESC_F_WRITE};

	h->type = htole32(VIRTIO_BLK_T_IN);
	h->sector = htole64(8 * k);
	set_byte(req(q, k) + 32, 0xff);
	set_byte(req(q, k) + 0x1000, 0xff);
	set_byte(req(q, k) + 0x1fff, 0xff);
	for (unsigned i = 0; i < 3; i++) {
		d[3 * k + i].addr = htole64(gpa[i]);
		d[3 * k + i].len = htole32(len[i]);
		d[3 * k + i].flags = htole16(flags[i]);
		d[3 * k + i].next = htole16(3 * k + i + 1);
	}
	a->ring[k] = htole16(3 * k);
	__atomic_store_n(&a->idx, htole16(k + 1), __ATOMIC_RELEASE);
}

/* The same request on a packed ring (§2.8): slots 3k to 3k + 2 of the first lap (wrap counter
 * 1: AVAIL set, USED clear), the head's flags written last. */
static void publish_packed(unsigned q, unsigned k)
{
	struct vring_packed_desc *d = gp(ring(q));
	struct virtio_blk_outhdr *h = gp(req(q, k));
	uint64_t gpa[3] = {req(q, k), req(q, k) + 0x1000, req(q, k) + 32};
	uint32_t len[3] = {16, 4096, 1};
	uint16_t avail = 1 << VRING_PACKED_DESC_F_AVAIL;
	uint16_t flags[3] = {avail | VRING_DESC_F_NEXT,
			     avail | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
			     avail | VRING_DESC_F_WRITE};

	h->type = htole32(VIRTIO_BLK_T_IN);
	h->sector = htole64(8 * k);
	set_byte(req(q, k) + 32, 0xff);
	for (unsigned i = 3; i-- > 0;) {
		d[3 * k + i].addr = htole64(gpa[i]);
		d[3 * k + i].len = htole32(len[i]);
		d[3 * k + i].id = htole16(k);
		__atomic_store_n(&d[3 * k + i].flags, htole16(flags[i]), __ATOMIC_RELEASE);
	}
}

static bool packed_round;

/* A vCPU driving queue q: each request published then notified; then notifies alone, as a
 * driver that has not seen the reset yet would, until the round ends. */
static void *vcpu(void *arg)
{
	unsigned q = (uintptr_t)arg;

	for (unsigned k = 0; k < NREQ && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); k++) {
		bool broken = q == 0 && k == NREQ / 2 && broken_round;

		/* Both queues have served (the round checks that; NEEDS_RESET drops what is in
		 * flight on uring), and queue 1 may be busy still. */
		while (broken && (used_idx(0) == 0 || used_idx(1) == 0) &&
		       !__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
			sched_yield();
		if (packed_round)
			publish_packed(q, k);
		else
			publish(q, k, broken);
		mwr(notify_base + 4 * q, q, 2);
	}
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		mwr(notify_base + 4 * q, q, 2);
		sched_yield();
	}
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* What the device may have written: each queue's used index, and for each request whether its
 * status byte and the ends of its data still read 0xff. */
struct snapshot {
	uint16_t used[NQ];
	bool pending[NQ][NREQ];
};

static void snap(struct snapshot *s)
{
	for (unsigned q = 0; q < NQ; q++) {
		s->used[q] = used_idx(q);
		for (unsigned k = 0; k < NREQ; k++)
			s->pending[q][k] = byte(req(q, k) + 32) == 0xff &&
					   byte(req(q, k) + 0x1000) == 0xff &&
					   byte(req(q, k) + 0x1fff) == 0xff;
	}
}

/* Written by the device since before: a used index moved, or a request that was untouched is
 * no longer (the driver only ever writes 0xff there). */
static bool device_wrote(const struct snapshot *before, const struct snapshot *after)
{
	for (unsigned q = 0; q < NQ; q++) {
		if (after->used[q] != before->used[q])
			return true;
		for (unsigned k = 0; k < NREQ; k++)
			if (before->pending[q][k] && !after->pending[q][k])
				return true;
	}
	return false;
}

/* One round; false with *why set when the device broke a rule. */
static bool round_ok(unsigned n, const char **why)
{
	pthread_t t[NQ];
	struct snapshot before, after;
	uint64_t until;
	bool ok = true;

	broken_round = n % 3 == 2;
	__atomic_store_n(&stop, false, __ATOMIC_RELEASE);
	bring_up();
	for (unsigned q = 0; q < NQ; q++)
		pthread_create(&t[q], NULL, vcpu, (void *)(uintptr_t)q);
	/* Every queue serves after the last reset: its first request comes back. */
	until = now_ns() + 2000000000ULL;
	for (unsigned q = 0; q < NQ && ok; q++) {
		while (used_idx(q) == 0 && now_ns() < until)
			sched_yield();
		ok = used_idx(q) > 0;
	}
	if (!ok)
		*why = "a queue did not serve after the reset";
	/* The reset lands anywhere in the requests still coming, served or in flight. */
	until = now_ns() + rand() % 150000;
	while (now_ns() < until)
		;
	mwr(status_reg, 0, 1);
	snap(&before);
	if (ok && mrd(status_reg, 1) != 0) {
		ok = false;
		*why = "status does not read 0 after the reset";
	}
	until = now_ns() + 300000;
	while (now_ns() < until)
		sched_yield();
	snap(&after);
	if (ok && device_wrote(&before, &after)) {
		ok = false;
		*why = "the device wrote into the rings or buffers after the reset returned";
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (unsigned q = 0; q < NQ; q++)
		pthread_join(t[q], NULL);
	return ok;
}

/* Queue 1 left disabled at DRIVER_OK, then set up while the IO thread serves queue 0 (and
 * looks at queue 1 on each pass): the writes must not reach the queue the thread reads without
 * a lock (ThreadSanitizer saw that race in vq_pop before they were ignored). */
static void late_queue(void)
{
	pthread_t t;

	__atomic_store_n(&stop, false, __ATOMIC_RELEASE);
	broken_round = false;
	bring_up_queues(1, false);
	pthread_create(&t, NULL, vcpu, (void *)(uintptr_t)0);
	while (used_idx(0) < NREQ / 2) /* the IO thread is busy with queue 0 */
		sched_yield();
	queue_up(1);
	CHECK(!vdev->vqs[1].ready && mrd(common(SLOT, VIRTIO_PCI_COMMON_Q_ENABLE), 2) == 0,
	      "iothread: queue 1 set up after DRIVER_OK, while the IO thread serves queue 0: "
	      "ignored, it stays disabled");
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	mwr(status_reg, 0, 1);
}

/* A packed queue traced while an IO thread serves it: each notify that reaches kvmscope (here
 * all: the harness has no KVM to take them on the ioeventfd) is traced with where the driver
 * will write next, read on the notifying thread from the queue the IO thread is popping. */
static bool packed_traced_round(void)
{
	pthread_t t;
	bool ok = false;
	uint64_t until;

	__atomic_store_n(&stop, false, __ATOMIC_RELEASE);
	packed_round = true;
	bring_up_queues(1, true);
	pthread_create(&t, NULL, vcpu, (void *)(uintptr_t)0);
	until = now_ns() + 2000000000ULL;
	while (!ok && now_ns() < until) {
		struct vring_packed_desc *d = gp(ring(0));

		ok = true;
		/* Used in order, each in its head's slot (USED set on the first lap), then its
		 * status byte, which that flag publishes. */
		for (unsigned k = 0; k < NREQ && ok; k++)
			ok = le16toh(__atomic_load_n(&d[3 * k].flags, __ATOMIC_ACQUIRE)) &
				 1 << VRING_PACKED_DESC_F_USED &&
			     byte(req(0, k) + 32) == VIRTIO_BLK_S_OK;
	}
	ok &= vdev->vqs[0].packed;
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	packed_round = false;
	mwr(status_reg, 0, 1);
	return ok;
}

/* Five rounds: ThreadSanitizer saw the race in about three runs of four with one. */
static void packed_traced(void)
{
	char path[] = "/tmp/kvmscope-test-blkreset-trace-XXXXXX";
	struct trace_options o = {.path = path};
	unsigned n = 0;

	close(mkstemp(path));
	if (trace_start(&o) < 0)
		return;
	while (n < 5 && packed_traced_round())
		n++;
	CHECK(n == 5,
	      "iothread: %d reads on a packed queue, traced, each notify traced on the notifying "
	      "thread, 5 times",
	      NREQ);
	trace_stop();
	unlink(path);
}

static void run(const char *path, const char *label, enum blk_io io, unsigned nt)
{
	struct blk_config cfg = {.path = path, .io = io, .queues = NQ, .iothreads = nt};
	const char *why = NULL;
	unsigned n;
	int r = blk_create(&vm, &cfg, &vdev);

	if (r == -ENOTSUP && io == BLK_IO_URING) {
		printf("SKIP %s: kvmscope was built without liburing\n", label);
		return;
	}
	if (r == 0)
		virtio_dev_set_ring(vdev, VIRTIO_RING_PACKED,
				    false); /* offered; bring_up() takes split */
	CHECK(r == 0 && virtio_pci_create(&pci, vdev, VIRTIO_PCI_MODERN, false) == 0,
	      "%s: a 2-queue virtio-blk on the modern transport", label);
	if (r < 0)
		return;
	cfg_wr(SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	notify_base = region(SLOT, VIRTIO_PCI_CAP_NOTIFY_CFG);
	status_reg = common(SLOT, VIRTIO_PCI_COMMON_STATUS);
	if (io == BLK_IO_IOTHREAD && nt == 1) {
		late_queue();
		packed_traced();
	}
	for (n = 0; n < ROUNDS && round_ok(n, &why); n++)
		;
	CHECK(n == ROUNDS,
	      "%s: %d resets while two threads notify (a third of them after NEEDS_RESET on "
	      "queue 0): %s (round %u)",
	      label, ROUNDS, why ? why : "nothing written after any reset", n);
	pci_destroy(&pci);
	blk_destroy(vdev);
}

int main(void)
{
	char path[] = "/tmp/kvmscope-test-blkreset-XXXXXX";
	int fd = mkstemp(path);
	void *ram = aligned_alloc(4096, RAM_SIZE);

	if (fd < 0 || ftruncate(fd, 1 << 20) < 0 || !ram)
		return 1;
	close(fd);
	srand(1);
	const struct {
		const char *label;
		enum blk_io io;
		unsigned nt;
	} paths[] = {{"vcpu", BLK_IO_VCPU, 0},
		     {"iothread", BLK_IO_IOTHREAD, 1},
		     {"iothread-2", BLK_IO_IOTHREAD, 2},
		     {"uring-2", BLK_IO_URING, 2}};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		harness_init();
		vm.mem.lo = ram;
		vm.mem.lo_size = RAM_SIZE;
		run(path, paths[i].label, paths[i].io, paths[i].nt);
	}
	unlink(path);
	free(ram);
	return CHECK_DONE();
}
