/* tests/unit/test_blk.c - the virtio-blk device on synthetic guest memory with a temp disk file
 * and a fake transport, in each IO path (vcpu, iothread, uring), no /dev/kvm. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "blk/blk.h"
#include "tests/check.h"

#define RAM_SIZE  (4 << 20)
#define QSIZE	  256 /* room for more 3-descriptor reads than uring has slots */
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x3000
#define USED_GPA  0x4000
#define HDR_GPA	  0x10000  /* 64 bytes a slot: header, status at +32, discard segments at +40 */
#define DATA_GPA  0x100000 /* 16 KiB a slot */
#define SLOTS	  32
#define MANY	  80 /* > BLK_URING_DEPTH (64) */
#define DISK_SECT 2048
#define SERIAL	  "kvmscope-test-serial" /* exactly 20 bytes: no NUL in GET_ID */

static struct vm vm;
static struct virtio_dev *vdev;
static struct virtqueue *vq;
static const char *label;
static enum blk_io cur_io;
static int disk_fd;
static uint16_t avail_idx;
static int signals, host_fd = -1, guest_fd = -1;
static bool quiet; /* the driver does not want interrupts (used_event far ahead, or the flag) */

static void *gp(uint64_t gpa)
{
	return guest_ptr(&vm.mem, gpa, 1);
}

/* --- A fake transport: counts interrupts; optionally takes eventfds as KVM would. --- */
static void fake_signal(struct virtio_dev *d, struct virtqueue *q)
{
	(void)d;
	(void)q;
	__atomic_fetch_add(&signals, 1, __ATOMIC_SEQ_CST);
}

static void fake_config(struct virtio_dev *d)
{
	(void)d;
}

static int fake_host(struct virtio_dev *d, struct virtqueue *q, int fd)
{
	(void)d;
	(void)q;
	host_fd = fd;
	return 0;
}

static int fake_guest(struct virtio_dev *d, struct virtqueue *q, int fd)
{
	(void)d;
	(void)q;
	guest_fd = fd;
	return 0;
}

static int irqfd_traced; /* traced_guest_notifier calls: one per irqfd write */
static void fake_traced(struct virtio_dev *d, struct virtqueue *q)
{
	(void)d;
	(void)q;
	__atomic_fetch_add(&irqfd_traced, 1, __ATOMIC_SEQ_CST);
}

static const struct virtio_transport_ops plain = {"fake", fake_signal, fake_config,
						  NULL,	  NULL,	       NULL};
static const struct virtio_transport_ops wired = {"fake-eventfd", fake_signal, fake_config,
						  fake_host,	  fake_guest,  fake_traced};

/* Interrupts seen so far, through signal_vq or the irqfd. */
static int interrupts(void)
{
	eventfd_t v;

	if (guest_fd >= 0 && eventfd_read(guest_fd, &v) == 0)
		__atomic_fetch_add(&signals, (int)v, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&signals, __ATOMIC_SEQ_CST);
}

/* --- The driver's side. --- */
struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static uint64_t hdr_gpa(int k)
{
	return HDR_GPA + 64 * k;
}

static uint64_t data_gpa(int k)
{
	return DATA_GPA + 16384 * k;
}

static uint8_t status_of(int k)
{
	return *(uint8_t *)gp(hdr_gpa(k) + 32);
}

/* Put the chain of slot k (descriptors first..) in the avail ring; status preset to 0xff. */
static void drv_chain_at(int first, int k, const struct seg *s, int n)
{
	struct vring_desc *d = gp(DESC_GPA);
	struct vring_avail *a = gp(AVAIL_GPA);
	uint16_t used_event;
	int i;

	*(uint8_t *)gp(hdr_gpa(k) + 32) = 0xff;
	for (i = 0; i < n; i++) {
		d[first + i].addr = htole64(s[i].gpa);
		d[first + i].len = htole32(s[i].len);
		d[first + i].flags = htole16((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
					     (s[i].write ? VRING_DESC_F_WRITE : 0));
		d[first + i].next = htole16(first + i + 1);
	}
	a->ring[avail_idx % QSIZE] = htole16(first);
	/* used_event (§2.7.7): like Linux, ask for an interrupt at the next used entry. The
	 * device reads these two words whenever it completes: atomic, as a vCPU's stores are. */
	used_event = le16toh(((struct vring_used *)gp(USED_GPA))->idx) + (quiet ? 1000 : 0);
	__atomic_store_n(&a->ring[QSIZE], htole16(used_event), __ATOMIC_RELAXED);
	__atomic_store_n(&a->flags, htole16(quiet ? VRING_AVAIL_F_NO_INTERRUPT : 0),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&a->idx, htole16(++avail_idx), __ATOMIC_RELEASE);
}

static void drv_chain(int k, const struct seg *s, int n)
{
	drv_chain_at(4 * k, k, s, n);
}

/* A request in slot k: header, data of len bytes (written by the device for IN and GET_ID),
 * then the status byte. */
static void drv_req(int k, uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr *h = gp(hdr_gpa(k));
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct seg s[3] = {
	    {hdr_gpa(k), 16, false}, {data_gpa(k), len, in}, {hdr_gpa(k) + 32, 1, 1}};

	h->type = htole32(type);
	h->ioprio = 0;
	h->sector = htole64(sector);
	if (len)
		drv_chain(k, s, 3);
	else
		drv_chain(k, (struct seg[]){s[0], s[2]}, 2);
}

static void drv_kick(void)
{
	if (host_fd >= 0)
		eventfd_write(host_fd, 1); /* what KVM's ioeventfd does on the notify write */
	else
		vdev->ops->queue_notify(vdev, vq); /* what the transport does on the notify write */
}

/* Wait (5 s at most) until the device has used every chain made available. */
static bool drv_wait(void)
{
	struct vring_used *u = gp(USED_GPA);
	int i;

	for (i = 0; i < 5000; i++) {
		if (le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE)) == avail_idx)
			return true;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return false;
}

/* The used length the device reported for the chain of slot k (its latest use). */
static uint32_t used_len(int k)
{
	struct vring_used *u = gp(USED_GPA);
	int i;

	for (i = (uint16_t)(le16toh(u->idx) - 1); i >= 0; i--)
		if (le32toh(u->ring[i % QSIZE].id) == 4u * k)
			return le32toh(u->ring[i % QSIZE].len);
	return ~0u;
}

/* Run one request in slot 0 and return its status. */
static uint8_t run_req(uint32_t type, uint64_t sector, uint32_t len)
{
	drv_req(0, type, sector, len);
	drv_kick();
	return drv_wait() ? status_of(0) : 0xee;
}

static void fill(void *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		((uint8_t *)p)[i] = (uint8_t)(i * 7 + seed);
}

static bool disk_is(uint64_t off, const void *expect, size_t len)
{
	uint8_t buf[16384];

	return pread(disk_fd, buf, len, off) == (ssize_t)len && memcmp(buf, expect, len) == 0;
}

static uint8_t dev_status(void)
{
	uint8_t s;

	pthread_mutex_lock(&vdev->lock);
	s = vdev->status;
	pthread_mutex_unlock(&vdev->lock);
	return s;
}

static void set_status(uint8_t s)
{
	pthread_mutex_lock(&vdev->lock);
	virtio_set_status(vdev, s);
	pthread_mutex_unlock(&vdev->lock);
}

/* Make the temp disk, create the device, negotiate, set up queue 0, DRIVER_OK. */
static int bring_up(const char *path, bool ro, enum blk_io io, const struct virtio_transport_ops *t,
		    uint64_t drop_features)
{
	struct blk_config cfg = {.path = path, .ro = ro, .io = io, .serial = SERIAL};
	int r;

	memset(vm.mem.lo, 0, RAM_SIZE);
	avail_idx = 0;
	signals = 0;
	host_fd = guest_fd = -1;
	r = blk_create(&vm, &cfg, &vdev);
	if (r < 0)
		return r;
	vdev->transport = t;
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	/* As Linux: NOTIFY_ON_EMPTY (a legacy driver's request) and the bit-30 trap never acked. */
	vdev->driver_features = vdev->host_features & ~drop_features &
				~(1ULL << VIRTIO_F_NOTIFY_ON_EMPTY | 1ULL << VIRTIO_F_BAD_FEATURE);
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK);
	vq = &vdev->vqs[0];
	vq->size = QSIZE;
	vq->desc = DESC_GPA;
	vq->avail = AVAIL_GPA;
	vq->used = USED_GPA;
	vq->ready = true;
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return 0;
}

static void tear_down(void)
{
	set_status(0);
	blk_destroy(vdev);
	vdev = NULL;
}

static char *make_disk(void)
{
	static char path[64];
	uint8_t buf[DISK_SECT * 512];
	int fd;

	strcpy(path, "/tmp/kvmscope-test-blk-XXXXXX");
	fd = mkstemp(path);
	fill(buf, sizeof(buf), 1);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return NULL;
	close(fd);
	return path;
}

static void check_rw(void)
{
	uint8_t pat[4096], *data = gp(data_gpa(0));
	struct seg split[5] = {{hdr_gpa(0), 8, false},
			       {hdr_gpa(0) + 8, 8, false}, /* the header in two pieces */
			       {data_gpa(0), 1000, true},
			       {data_gpa(0) + 1000, 3096, true},
			       {hdr_gpa(0) + 32, 1, 1}};
	struct virtio_blk_outhdr *h = gp(hdr_gpa(0));
	uint8_t st;

	fill(pat, sizeof(pat), 99);
	memcpy(data, pat, sizeof(pat));
	st = run_req(VIRTIO_BLK_T_OUT, 8, 4096);
	CHECK(st == VIRTIO_BLK_S_OK && used_len(0) == 1, "%s: OUT 4 KiB: OK, used len 1", label);
	CHECK(disk_is(8 * 512, pat, 4096), "%s: OUT reached the file", label);

	memset(data, 0, 4096);
	st = run_req(VIRTIO_BLK_T_IN, 8, 4096);
	CHECK(st == VIRTIO_BLK_S_OK && used_len(0) == 4097 && memcmp(data, pat, 4096) == 0,
	      "%s: IN 4 KiB reads it back, used len 4097", label);

	memset(data, 0, 4096);
	h->type = htole32(VIRTIO_BLK_T_IN);
	h->sector = htole64(8);
	drv_chain(0, split, 5);
	drv_kick();
	st = drv_wait() ? status_of(0) : 0xee;
	CHECK(st == VIRTIO_BLK_S_OK && memcmp(data, pat, 4096) == 0,
	      "%s: IN with the header and the data split across descriptors", label);

	st = run_req(VIRTIO_BLK_T_FLUSH, 0, 0);
	CHECK(st == VIRTIO_BLK_S_OK && used_len(0) == 1, "%s: FLUSH", label);

	memset(data, 0xaa, 32);
	st = run_req(VIRTIO_BLK_T_GET_ID, 0, 32);
	CHECK(st == VIRTIO_BLK_S_OK && memcmp(data, SERIAL, 20) == 0 && data[20] == 0xaa &&
		  used_len(0) == 21,
	      "%s: GET_ID: 20 bytes, used len 21", label);
}

static void check_errors(void)
{
	uint8_t st;

	st = run_req(VIRTIO_BLK_T_IN, DISK_SECT - 1, 1024);
	CHECK(st == VIRTIO_BLK_S_IOERR, "%s: IN past the end: IOERR", label);
	st = run_req(VIRTIO_BLK_T_OUT, DISK_SECT, 512);
	CHECK(st == VIRTIO_BLK_S_IOERR, "%s: OUT at capacity: IOERR", label);
	st = run_req(VIRTIO_BLK_T_IN, ~0ULL, 512);
	CHECK(st == VIRTIO_BLK_S_IOERR, "%s: IN at sector 2^64-1: IOERR", label);
	st = run_req(VIRTIO_BLK_T_IN, 0, 100);
	CHECK(st == VIRTIO_BLK_S_IOERR, "%s: IN of 100 bytes (not whole sectors): IOERR", label);
	st = run_req(VIRTIO_BLK_T_IN, DISK_SECT - 1, 512);
	CHECK(st == VIRTIO_BLK_S_OK, "%s: IN of the last sector: OK", label);
	st = run_req(99, 0, 512);
	CHECK(st == VIRTIO_BLK_S_UNSUPP && used_len(0) == 1, "%s: unknown type: UNSUPP", label);

	/* A header of 8 bytes still ends with a status byte: IOERR, and the device goes on. */
	drv_chain(0, (struct seg[]){{hdr_gpa(0), 8, false}, {hdr_gpa(0) + 32, 1, true}}, 2);
	drv_kick();
	st = drv_wait() ? status_of(0) : 0xee;
	CHECK(st == VIRTIO_BLK_S_IOERR && !(dev_status() & VIRTIO_CONFIG_S_NEEDS_RESET),
	      "%s: header too short: IOERR, no reset", label);
}

/* DISCARD / WRITE_ZEROES with one segment in slot 0. */
static uint8_t run_dwz(uint32_t type, uint64_t sector, uint32_t n, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes *s = gp(hdr_gpa(0) + 40);
	struct virtio_blk_outhdr *h = gp(hdr_gpa(0));

	h->type = htole32(type);
	h->sector = 0;
	s->sector = htole64(sector);
	s->num_sectors = htole32(n);
	s->flags = htole32(flags);
	drv_chain(0,
		  (struct seg[]){{hdr_gpa(0), 16, false},
				 {hdr_gpa(0) + 40, sizeof(*s), false},
				 {hdr_gpa(0) + 32, 1, true}},
		  3);
	drv_kick();
	return drv_wait() ? status_of(0) : 0xee;
}

static void check_discard_wz(void)
{
	static const uint8_t zero[4096];
	uint8_t st;

	st = run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0);
	CHECK(st == VIRTIO_BLK_S_OK && disk_is(8 * 512, zero, 4096),
	      "%s: WRITE_ZEROES: OK, the range reads zeroes", label);
	st = run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 16, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	CHECK(st == VIRTIO_BLK_S_OK && disk_is(16 * 512, zero, 4096),
	      "%s: WRITE_ZEROES with unmap: OK, zeroes", label);
	st = run_dwz(VIRTIO_BLK_T_DISCARD, 24, 8, 0);
	CHECK(st == VIRTIO_BLK_S_OK, "%s: DISCARD: OK", label);
	st = run_dwz(VIRTIO_BLK_T_DISCARD, 24, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	CHECK(st == VIRTIO_BLK_S_UNSUPP, "%s: DISCARD with unmap: UNSUPP", label);
	st = run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 24, 8, 4);
	CHECK(st == VIRTIO_BLK_S_UNSUPP, "%s: WRITE_ZEROES with a reserved flag: UNSUPP", label);
	st = run_dwz(VIRTIO_BLK_T_DISCARD, DISK_SECT - 4, 8, 0);
	CHECK(st == VIRTIO_BLK_S_IOERR, "%s: DISCARD past the end: IOERR", label);
}

/* Many requests made available at once, one kick: all served (uring: several in flight). */
static void check_batch(void)
{
	struct blk_stats s;
	uint8_t pat[4096];
	int k, ok = 1;

	for (k = 0; k < 24; k++)
		drv_req(k, VIRTIO_BLK_T_IN, 64 + 8 * k, 4096);
	drv_kick();
	CHECK(drv_wait(), "%s: 24 requests, one kick: all used", label);
	for (k = 0; k < 24; k++) {
		fill(pat, sizeof(pat), 1);
		ok &= status_of(k) == VIRTIO_BLK_S_OK;
		ok &= pread(disk_fd, pat, 4096, (64 + 8 * k) * 512) == 4096;
		ok &= memcmp(pat, gp(data_gpa(k)), 4096) == 0;
	}
	CHECK(ok, "%s: 24 requests: every status OK, every buffer right", label);
	blk_get_stats(vdev, &s);
	/* The synchronous paths serve one at a time; uring has several in flight at once. */
	CHECK(cur_io == BLK_IO_URING ? s.max_inflight > 1 && s.max_inflight <= 24
				     : s.max_inflight == 1,
	      "%s: %llu in flight at most", label, (unsigned long long)s.max_inflight);
}

/* More reads made available at once than uring has slots, one kick: the thread stops popping
 * when every slot is in flight and must come back for the rest as reads complete (the page
 * cache completes them inside the submit, with no poll() wakeup after). */
static void check_beyond_slots(void)
{
	struct blk_stats s;
	uint8_t pat[4096];
	int k, ok = 1;

	for (k = 0; k < MANY; k++) {
		struct virtio_blk_outhdr *h = gp(hdr_gpa(k));

		*h = (struct virtio_blk_outhdr){htole32(VIRTIO_BLK_T_IN), 0, htole64(8 * (k % 32))};
		drv_chain_at(3 * k, k,
			     (struct seg[]){{hdr_gpa(k), 16, false},
					    {data_gpa(k), 4096, true},
					    {hdr_gpa(k) + 32, 1, true}},
			     3);
	}
	drv_kick();
	CHECK(drv_wait(), "%s: %d reads, one kick: all used", label, MANY);
	for (k = 0; k < MANY; k++) {
		ok &= status_of(k) == VIRTIO_BLK_S_OK;
		ok &= pread(disk_fd, pat, 4096, 8 * (k % 32) * 512) == 4096;
		ok &= memcmp(pat, gp(data_gpa(k)), 4096) == 0;
	}
	blk_get_stats(vdev, &s);
	CHECK(ok && s.max_inflight <= 64,
	      "%s: %d reads: every status OK, every buffer right, %llu in flight at most", label,
	      MANY, (unsigned long long)s.max_inflight);
}

static void check_interrupts(void)
{
	struct blk_stats s0, s1;
	int before;

	before = interrupts();
	run_req(VIRTIO_BLK_T_FLUSH, 0, 0);
	CHECK(interrupts() > before, "%s: a completion raises an interrupt", label);
	blk_get_stats(vdev, &s0);
	quiet = true;
	before = interrupts();
	run_req(VIRTIO_BLK_T_FLUSH, 0, 0);
	blk_get_stats(vdev, &s1);
	CHECK(interrupts() == before && s1.irqs_suppressed == s0.irqs_suppressed + 1,
	      "%s: %s: no interrupt, counted as suppressed", label,
	      vq->event_idx ? "used_event ahead" : "VRING_AVAIL_F_NO_INTERRUPT");
	quiet = false;
}

static void check_guest_error(void)
{
	struct blk_stats s;

	/* A chain with no writable byte has nowhere to put a status. */
	drv_chain(0, (struct seg[]){{hdr_gpa(0), 16, false}}, 1);
	drv_kick();
	for (int i = 0; i < 5000 && !(dev_status() & VIRTIO_CONFIG_S_NEEDS_RESET); i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	blk_get_stats(vdev, &s);
	CHECK((dev_status() & VIRTIO_CONFIG_S_NEEDS_RESET) && s.guest_errors == 1,
	      "%s: no status byte: DEVICE_NEEDS_RESET", label);
}

static void run_suite(const char *name, enum blk_io io, const struct virtio_transport_ops *t,
		      uint64_t drop_features)
{
	char *path = make_disk();
	struct blk_stats s;
	int r;

	label = name;
	cur_io = io;
	r = bring_up(path, false, io, t, drop_features);
	if (r == -ENOTSUP && io == BLK_IO_URING) {
		printf("SKIP %s: kvmscope was built without liburing\n", name);
		unlink(path);
		return;
	}
	CHECK(r == 0 && !(dev_status() & VIRTIO_CONFIG_S_NEEDS_RESET), "%s: device up", name);
	if (r < 0)
		return;
	disk_fd = open(path, O_RDONLY);
	check_rw();
	check_errors();
	check_discard_wz();
	check_batch();
	check_beyond_slots();
	check_interrupts();
	blk_get_stats(vdev, &s);
	if (t->traced_guest_notifier)
		CHECK(s.irqs_signalled > 0 &&
			  (uint64_t)__atomic_load_n(&irqfd_traced, __ATOMIC_SEQ_CST) ==
			      s.irqs_signalled,
		      "%s: every irqfd interrupt is traced by the transport (%d of %llu)", name,
		      __atomic_load_n(&irqfd_traced, __ATOMIC_SEQ_CST),
		      (unsigned long long)s.irqs_signalled);
	__atomic_store_n(&irqfd_traced, 0, __ATOMIC_SEQ_CST);
	CHECK(s.requests == s.reads + s.writes + s.flushes + s.discards + s.write_zeroes +
				s.get_ids + 2 &&
		  s.bytes_read >= 3 * 4096 && s.bytes_written == 4096 && s.notifies > 0,
	      "%s: counters add up (%llu requests, %llu notifies, %llu interrupts)", name,
	      (unsigned long long)s.requests, (unsigned long long)s.notifies,
	      (unsigned long long)s.irqs_signalled);
	check_guest_error();
	tear_down();
	close(disk_fd);
	unlink(path);
}

/* A guest error on the IO thread while a reset holds vdev->lock and joins that thread: the IO
 * thread must not block on the lock (it would never be joined). */
static void run_reset_race(void)
{
	char *path = make_disk();
	struct blk_stats s;
	int r;

	label = "reset-race";
	r = bring_up(path, false, BLK_IO_IOTHREAD, &wired, 0);
	CHECK(r == 0 && host_fd >= 0, "reset-race: device up with an ioeventfd");
	if (r < 0)
		return;
	pthread_mutex_lock(&vdev->lock); /* as a transport does around a status write */
	drv_chain(0, (struct seg[]){{hdr_gpa(0), 16, false}}, 1);
	drv_kick();
	/* the IO thread counts the error, then tries the lock we hold: reset once it has counted
	 * (a fixed 20 ms wait reset first on a loaded host, and the error was never seen) */
	for (int ms = 0; ms < 10000; ms++) {
		blk_get_stats(vdev, &s); /* takes no lock */
		if (s.guest_errors)
			break;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	nanosleep(&(struct timespec){0, 1000000}, NULL); /* into its trylock loop */
	virtio_set_status(vdev, 0);
	pthread_mutex_unlock(&vdev->lock);
	blk_get_stats(vdev, &s);
	CHECK(dev_status() == 0 && s.guest_errors == 1,
	      "reset-race: the reset completes, the guest error was seen");
	blk_destroy(vdev);
	unlink(path);
}

static void reset_hung(int sig)
{
	static const char m[] =
	    "FAIL idle-reset: a reset with the IO thread asleep never returned\n";

	(void)sig;
	if (write(1, m, sizeof(m) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* A reset while the IO thread sleeps and no notify follows: the stop must wake the thread
 * itself (a thread with one queue sleeps in read() on that queue's eventfd), and that wakeup
 * is no guest notify. */
static void run_idle_reset(const char *name, enum blk_io io, const struct virtio_transport_ops *t)
{
	char *path = make_disk();
	struct blk_stats s0, s1;
	uint8_t st;
	int r;

	label = name;
	r = bring_up(path, false, io, t, 0);
	if (r == -ENOTSUP && io == BLK_IO_URING) {
		printf("SKIP %s: kvmscope was built without liburing\n", name);
		unlink(path);
		return;
	}
	CHECK(r == 0, "%s: device up", name);
	if (r < 0)
		return;
	st = run_req(VIRTIO_BLK_T_GET_ID, 0, 20);
	nanosleep(&(struct timespec){0, 20000000}, NULL); /* the thread is back asleep */
	blk_get_stats(vdev, &s0);
	signal(SIGALRM, reset_hung);
	alarm(5);
	set_status(0);
	alarm(0);
	blk_get_stats(vdev, &s1);
	CHECK(st == VIRTIO_BLK_S_OK && dev_status() == 0,
	      "%s: a reset with the IO thread asleep returns", name);
	CHECK(s1.notifies == s0.notifies,
	      "%s: the stop's wakeup is not counted as a notify (%llu, then %llu)", name,
	      (unsigned long long)s0.notifies, (unsigned long long)s1.notifies);
	blk_destroy(vdev);
	unlink(path);
}

/* A read-only disk: RO offered, every write IOERR, the file untouched. */
static void run_ro(void)
{
	char *path = make_disk();
	uint8_t orig[4096];
	uint8_t st;
	int r;

	label = "ro";
	r = bring_up(path, true, BLK_IO_VCPU, &plain, 0);
	CHECK(r == 0, "ro: device up");
	if (r < 0)
		return;
	disk_fd = open(path, O_RDONLY);
	CHECK(pread(disk_fd, orig, sizeof(orig), 0) == (ssize_t)sizeof(orig), "ro: disk read");
	CHECK((vdev->host_features & (1ULL << VIRTIO_BLK_F_RO)) &&
		  !(vdev->host_features & (1ULL << VIRTIO_BLK_F_DISCARD)),
	      "ro: VIRTIO_BLK_F_RO offered, DISCARD not");
	memset(gp(data_gpa(0)), 0x5a, 4096);
	st = run_req(VIRTIO_BLK_T_OUT, 0, 4096);
	CHECK(st == VIRTIO_BLK_S_IOERR && disk_is(0, orig, 4096), "ro: OUT: IOERR, file unchanged");
	st = run_dwz(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0);
	CHECK(st == VIRTIO_BLK_S_IOERR && disk_is(0, orig, 4096), "ro: WRITE_ZEROES: IOERR");
	st = run_dwz(VIRTIO_BLK_T_DISCARD, 0, 8, 0);
	CHECK(st == VIRTIO_BLK_S_IOERR, "ro: DISCARD: IOERR");
	st = run_req(VIRTIO_BLK_T_IN, 0, 4096);
	CHECK(st == VIRTIO_BLK_S_OK && memcmp(gp(data_gpa(0)), orig, 4096) == 0, "ro: IN works");
	tear_down();
	close(disk_fd);
	unlink(path);
}

static uint64_t cfg_read(uint32_t off, uint32_t len)
{
	uint64_t v = 0;

	vdev->ops->config_access(vdev, off, &v, len, false);
	return le64toh(v);
}

/* The configuration space, and the writeback switch (§5.2.5, §5.2.6.2). */
static void run_config(void)
{
	char *path = make_disk();
	uint8_t zero = 0, st;
	int r;

	label = "config";
	r = bring_up(path, false, BLK_IO_VCPU, &plain, 1ULL << VIRTIO_RING_F_EVENT_IDX);
	CHECK(r == 0 && vdev->ops->config_size == sizeof(struct virtio_blk_config),
	      "config: device up, config size %u", vdev->ops->config_size);
	if (r < 0)
		return;
	CHECK(cfg_read(offsetof(struct virtio_blk_config, capacity), 8) == DISK_SECT,
	      "config: capacity in sectors");
	CHECK(cfg_read(offsetof(struct virtio_blk_config, seg_max), 4) == VQ_MAX_SEGS - 2 &&
		  cfg_read(offsetof(struct virtio_blk_config, blk_size), 4) == 512,
	      "config: seg_max, blk_size");
	CHECK(cfg_read(offsetof(struct virtio_blk_config, max_discard_seg), 4) >= 1 &&
		  cfg_read(offsetof(struct virtio_blk_config, write_zeroes_may_unmap), 1) == 1,
	      "config: discard and write-zeroes limits");
	CHECK(cfg_read(offsetof(struct virtio_blk_config, wce), 1) == 1,
	      "config: writeback after FLUSH was negotiated");
	vdev->ops->config_access(vdev, offsetof(struct virtio_blk_config, wce), &zero, 1, true);
	CHECK(cfg_read(offsetof(struct virtio_blk_config, wce), 1) == 0,
	      "config: the driver switches to writethrough");
	memset(gp(data_gpa(0)), 0x11, 512);
	st = run_req(VIRTIO_BLK_T_OUT, 0, 512);
	CHECK(st == VIRTIO_BLK_S_OK, "config: a writethrough OUT (RWF_DSYNC)");
	tear_down();
	unlink(path);
}

static void run_create_errors(void)
{
	struct blk_config cfg = {.path = "/nonexistent/disk.img", .io = BLK_IO_VCPU};
	struct virtio_dev *d;
	enum blk_io io;
	int r;

	r = blk_io_parse("iothread", &io);
	CHECK(r == 0 && io == BLK_IO_IOTHREAD, "blk_io_parse(\"iothread\")");
	r = blk_io_parse("vhost", &io);
	CHECK(r == -EINVAL, "blk_io_parse(\"vhost\"): -EINVAL");
	r = blk_create(&vm, &cfg, &d);
	CHECK(r == -ENOENT, "blk_create of a missing file: -ENOENT");
	cfg.path = "/tmp";
	cfg.ro = true;
	r = blk_create(&vm, &cfg, &d);
	CHECK(r == -EINVAL, "blk_create of a directory: -EINVAL");
}

int main(void)
{
	vm.mem.lo = aligned_alloc(4096, RAM_SIZE);
	vm.mem.lo_size = RAM_SIZE;
	run_create_errors();
	run_suite("vcpu", BLK_IO_VCPU, &plain, 0);
	run_suite("vcpu-no-event-idx", BLK_IO_VCPU, &plain, 1ULL << VIRTIO_RING_F_EVENT_IDX);
	run_suite("iothread", BLK_IO_IOTHREAD, &plain, 0);
	run_suite("iothread+eventfds", BLK_IO_IOTHREAD, &wired, 0);
	run_suite("uring", BLK_IO_URING, &wired, 0);
	run_suite("uring-no-event-idx", BLK_IO_URING, &plain, 1ULL << VIRTIO_RING_F_EVENT_IDX);
	run_reset_race();
	run_idle_reset("idle-reset iothread", BLK_IO_IOTHREAD, &plain);
	run_idle_reset("idle-reset iothread+eventfds", BLK_IO_IOTHREAD, &wired);
	run_idle_reset("idle-reset uring", BLK_IO_URING, &wired);
	run_ro();
	run_config();
	free(vm.mem.lo);
	return CHECK_DONE();
}
