/* tests/unit/test_virtqueue.c - the split virtqueue on synthetic guest memory, no /dev/kvm. */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_pci.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/check.h"
#include "tests/unit/test_vq_harness.h"

/* Guest layout: rings at fixed pages, buffers from BUF on. */
#define DESC_GPA  0x1000
#define AVAIL_GPA 0x3000
#define USED_GPA  0x4000
#define INDIR_GPA 0x8000
#define BUF_GPA	  0x10000

static struct vring_avail *avail(void)
{
	return gp(AVAIL_GPA);
}

static struct vring_used *used(void)
{
	return gp(USED_GPA);
}

/* The driver's side: put head in the next avail slot and publish it. */
static void drv_publish(uint16_t head)
{
	vq_drv_publish(AVAIL_GPA, head);
}

static void setup(uint16_t size)
{
	vq_setup(size, DESC_GPA, AVAIL_GPA, USED_GPA);
}

/* CHECK evaluates its condition twice: side effects go into these first. */
static struct vq_chain chain;
static int r;
static bool sig;

/* Complete the chain with this head (the split ring's used entry names the head alone). */
static int push(uint16_t head, uint32_t len)
{
	struct vq_chain c = {.head = head, .ndescs = 1};

	return vq_push(&vq, &c, len);
}

/* Publish head and expect the pop to report a guest error whose name contains fault. */
static void pop_fails(uint16_t head, const char *what, const char *fault)
{
	drv_publish(head);
	r = vq_pop(&vq, &chain);
	CHECK(r == -EINVAL, "%s", what);
	CHECK(chain.fault && strstr(chain.fault, fault), "%s: named '%s' (got '%s')", what, fault,
	      chain.fault ? chain.fault : "(none)");
}

static void test_simple(void)
{
	setup(8);
	r = vq_pop(&vq, &chain);
	CHECK(r == 0, "empty ring pops nothing");
	vq_set_desc(DESC_GPA, 3, BUF_GPA, 100, 0, 0);
	drv_publish(3);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1, "simple chain pops");
	CHECK(chain.head == 3 && chain.nr_out == 1 && chain.nr_in == 0,
	      "simple chain: one readable");
	CHECK(chain.iov[0].iov_base == gp(BUF_GPA) && chain.iov[0].iov_len == 100 &&
		  chain.out_bytes == 100,
	      "simple chain: iovec is the guest buffer itself");
	r = vq_pop(&vq, &chain);
	CHECK(r == 0, "ring empty after the pop");
	r = push(3, 7);
	CHECK(r == 0, "push");
	CHECK(le16toh(used()->idx) == 1 && le32toh(used()->ring[0].id) == 3 &&
		  le32toh(used()->ring[0].len) == 7,
	      "push: used elem and idx");
	r = push(8, 0);
	CHECK(r == -EINVAL, "push of a head outside the ring is refused");
}

static void test_out_in(void)
{
	setup(8);
	vq_set_desc(DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 5);
	vq_set_desc(DESC_GPA, 5, BUF_GPA + 0x100, 0, VRING_DESC_F_NEXT, 2); /* empty: skipped */
	vq_set_desc(DESC_GPA, 2, BUF_GPA + 0x200, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 7);
	vq_set_desc(DESC_GPA, 7, BUF_GPA + 0x1000, 1, VRING_DESC_F_WRITE, 0);
	drv_publish(0);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1, "out+in chain pops");
	CHECK(chain.nr_out == 1 && chain.nr_in == 2 && chain.out_bytes == 16 &&
		  chain.in_bytes == 513,
	      "out+in: 1 readable, 2 writable, empty descriptor dropped");
	CHECK(chain.iov[1].iov_base == gp(BUF_GPA + 0x200) && chain.iov[2].iov_len == 1,
	      "out+in: writable segments in chain order");

	setup(8);
	vq_set_desc(DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	vq_set_desc(DESC_GPA, 1, BUF_GPA, 16, 0, 0);
	pop_fails(0, "readable after writable is a guest error",
		  "device-readable descriptor after a device-writable");
}

static void test_indirect(void)
{
	setup(8);
	vq_set_desc(INDIR_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	vq_set_desc(INDIR_GPA, 1, BUF_GPA + 0x100, 4096, VRING_DESC_F_NEXT, 2);
	vq_set_desc(INDIR_GPA, 2, BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	vq_set_desc(DESC_GPA, 4, INDIR_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	drv_publish(4);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1, "indirect chain pops");
	CHECK(chain.head == 4 && chain.nr_out == 2 && chain.nr_in == 1 && chain.out_bytes == 4112 &&
		  chain.iov[2].iov_base == gp(BUF_GPA + 0x2000),
	      "indirect: the table's three segments");

	/* §2.7.5.3: zero or more direct descriptors, then one indirect. */
	vq_set_desc(DESC_GPA, 1, BUF_GPA + 0x300, 8, VRING_DESC_F_NEXT, 4);
	drv_publish(1);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1 && chain.nr_out == 3 && chain.iov[0].iov_len == 8,
	      "direct descriptor then indirect table");

	vq_set_desc(INDIR_GPA, 2, INDIR_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	pop_fails(4, "nested indirect is rejected", "indirect table inside an indirect table");

	setup(8);
	vq_set_desc(INDIR_GPA, 0, BUF_GPA, 16, 0, 0);
	vq_set_desc(DESC_GPA, 0, INDIR_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	pop_fails(0, "INDIRECT with NEXT is rejected", "indirect descriptor with NEXT");

	setup(8);
	vq_set_desc(DESC_GPA, 0, INDIR_GPA, 20, VRING_DESC_F_INDIRECT, 0);
	pop_fails(0, "indirect table length not a multiple of 16", "partial table");

	setup(8);
	vq_set_desc(DESC_GPA, 0, RAM_SIZE - 32, 64, VRING_DESC_F_INDIRECT, 0);
	pop_fails(0, "indirect table straddling the end of RAM",
		  "indirect table outside guest RAM");
}

/* Complete n chains (head 0), then ask whether the driver wants an interrupt. */
static bool signal_after(unsigned n)
{
	while (n--)
		push(0, 0);
	return vq_should_signal(&vq);
}

static void test_event_idx(void)
{
	uint16_t *used_event, *avail_event;

	setup(8);
	vq.event_idx = true;
	used_event = &avail()->ring[8];
	avail_event = (uint16_t *)&used()->ring[8];

	sig = signal_after(1);
	CHECK(sig, "event idx: the first interrupt is always sent");
	*used_event = htole16(5); /* the driver wants to hear when used idx passes 5 */
	sig = signal_after(1);
	CHECK(!sig, "event idx: used idx 2 < used_event 5: suppressed");
	sig = signal_after(3);
	CHECK(!sig, "event idx: used idx 5 does not cross used_event 5 yet");
	sig = signal_after(1);
	CHECK(sig, "event idx: used idx 6 crosses used_event 5: signal");
	sig = signal_after(0);
	CHECK(!sig, "event idx: nothing new pushed: no signal");
	*used_event = htole16(6);
	sig = signal_after(2);
	CHECK(sig, "event idx: two pushes crossing used_event at once: signal");

	avail()->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	*used_event = htole16(8);
	sig = signal_after(1);
	CHECK(sig, "event idx: NO_INTERRUPT flag is ignored when negotiated");

	vq.last_avail = 42;
	vq_set_notify(&vq, true);
	CHECK(le16toh(*avail_event) == 42, "event idx: enabling notifies writes avail_event");
	vq_set_notify(&vq, false);
	CHECK(le16toh(*avail_event) == 42 && used()->flags == 0,
	      "event idx: disabling leaves avail_event behind, flags untouched");
}

static void test_no_interrupt(void)
{
	setup(8);
	sig = signal_after(1);
	CHECK(sig, "no event idx: signal by default");
	avail()->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	sig = signal_after(1);
	CHECK(!sig, "no event idx: VRING_AVAIL_F_NO_INTERRUPT suppresses");
	vq_set_notify(&vq, false);
	CHECK(le16toh(used()->flags) == VRING_USED_F_NO_NOTIFY, "disable notify: NO_NOTIFY set");
	vq_set_notify(&vq, true);
	CHECK(used()->flags == 0, "enable notify: NO_NOTIFY cleared");
}

/* VIRTIO_F_NOTIFY_ON_EMPTY: once the avail ring is used up, an interrupt despite suppression. */
static void test_notify_on_empty(void)
{
	setup(8);
	vq.notify_on_empty = true;
	avail()->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	avail()->idx = htole16(2);
	vq.last_avail = 1; /* one buffer still available */
	sig = signal_after(1);
	CHECK(!sig, "notify on empty: buffers left, NO_INTERRUPT suppresses");
	vq.last_avail = 2; /* the device took the last one */
	sig = signal_after(1);
	CHECK(sig, "notify on empty: ring empty, interrupt despite NO_INTERRUPT");
	vq.event_idx = true;
	avail()->ring[8] = htole16(100); /* used_event far ahead */
	sig = signal_after(1);
	CHECK(sig, "notify on empty: ring empty, interrupt despite used_event");
	vq_reset(&vq);
	CHECK(!vq.notify_on_empty, "reset forgets NOTIFY_ON_EMPTY");
}

static void test_wrap(void)
{
	int i, ok = 1;

	setup(4);
	vq.last_avail = vq.used_idx = 0xfffe;
	avail()->idx = htole16(0xfffe);
	for (i = 0; i < 4; i++) {
		vq_set_desc(DESC_GPA, i, BUF_GPA + i * 0x100, 10 + i, 0, 0);
		drv_publish(i);
	}
	CHECK(le16toh(avail()->idx) == 2, "driver's avail idx wrapped to 2");
	for (i = 0; i < 4; i++) {
		ok &= vq_pop(&vq, &chain) == 1 && chain.head == i && chain.out_bytes == 10u + i;
		ok &= vq_push(&vq, &chain, i) == 0;
	}
	CHECK(ok, "wrap: four chains across 0xffff -> 0 pop in order");
	r = vq_pop(&vq, &chain);
	CHECK(r == 0 && vq.last_avail == 2, "wrap: empty after, last_avail 2");
	CHECK(le16toh(used()->idx) == 2 && le32toh(used()->ring[1].id) == 3,
	      "wrap: used idx wrapped to 2, slot 1 holds the 4th chain");

	vq.event_idx = true;
	vq.signalled_used = 0xfffe;
	vq.signalled_used_valid = true;
	avail()->ring[4] = htole16(0xffff); /* used_event just before the wrap */
	sig = vq_should_signal(&vq);
	CHECK(sig, "wrap: event idx crossing 0xffff -> 2 signals");
}

static void test_bad(void)
{
	int i;

	setup(8);
	vq_set_desc(DESC_GPA, 0, RAM_SIZE + 0x1000, 16, 0, 0);
	pop_fails(0, "buffer outside RAM", "buffer outside guest RAM");

	setup(8);
	vq_set_desc(DESC_GPA, 0, RAM_SIZE - 8, 16, 0, 0);
	pop_fails(0, "buffer straddling the end of RAM", "buffer outside guest RAM");

	setup(8);
	vq_set_desc(DESC_GPA, 0, 0xfffffffffffff000ULL, 0x2000, 0, 0);
	pop_fails(0, "buffer whose end overflows 64 bits", "buffer outside guest RAM");

	setup(8);
	vq.desc = RAM_SIZE - 64;
	pop_fails(0, "descriptor table straddling the end of RAM",
		  "rings misaligned or outside guest RAM");

	setup(8);
	vq.used = RAM_SIZE;
	r = push(0, 0);
	CHECK(r == -EINVAL, "used ring outside RAM");

	setup(8);
	vq.avail = AVAIL_GPA + 1;
	r = vq_pop(&vq, &chain);
	CHECK(r == -EINVAL && strstr(chain.fault, "rings misaligned"), "misaligned avail ring");

	setup(8);
	pop_fails(9, "head outside the descriptor table", "descriptor index beyond the queue");

	setup(8);
	vq_set_desc(DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	vq_set_desc(DESC_GPA, 1, BUF_GPA, 16, VRING_DESC_F_NEXT, 2);
	vq_set_desc(DESC_GPA, 2, BUF_GPA, 16, VRING_DESC_F_NEXT, 0);
	pop_fails(0, "descriptor loop returns -EINVAL", "chain longer than the queue (a loop)");

	setup(8);
	vq_set_desc(DESC_GPA, 0, BUF_GPA, 0, VRING_DESC_F_NEXT, 0); /* empty self-loop */
	pop_fails(0, "empty self-looping descriptor returns -EINVAL",
		  "chain longer than the queue (a loop)");

	setup(8);
	avail()->idx = htole16(9);
	r = vq_pop(&vq, &chain);
	CHECK(r == -EINVAL && strstr(chain.fault, "avail index ahead"),
	      "avail idx more than size ahead");
	avail()->idx = htole16(0xffff);
	r = vq_pop(&vq, &chain);
	CHECK(r == -EINVAL, "avail idx behind last_avail (wraps huge)");

	setup(8);
	vq.ready = false;
	drv_publish(0);
	r = vq_pop(&vq, &chain);
	CHECK(r == 0, "a queue not ready pops nothing");

	/* Chain length: VQ_MAX_SEGS descriptors are fine, one more is a guest error. */
	setup(8);
	for (i = 0; i < VQ_MAX_SEGS + 1; i++)
		vq_set_desc(INDIR_GPA, i, BUF_GPA, 1, VRING_DESC_F_NEXT, i + 1);
	vq_set_desc(INDIR_GPA, VQ_MAX_SEGS - 1, BUF_GPA, 1, 0, 0);
	vq_set_desc(DESC_GPA, 0, INDIR_GPA, VQ_MAX_SEGS * 16, VRING_DESC_F_INDIRECT, 0);
	drv_publish(0);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1 && chain.nr_out == VQ_MAX_SEGS, "a chain of VQ_MAX_SEGS descriptors pops");
	vq_set_desc(INDIR_GPA, VQ_MAX_SEGS - 1, BUF_GPA, 1, VRING_DESC_F_NEXT, VQ_MAX_SEGS);
	vq_set_desc(INDIR_GPA, VQ_MAX_SEGS, BUF_GPA, 1, 0, 0);
	vq_set_desc(DESC_GPA, 0, INDIR_GPA, (VQ_MAX_SEGS + 1) * 16, VRING_DESC_F_INDIRECT, 0);
	pop_fails(0, "a chain of VQ_MAX_SEGS + 1 descriptors: -EINVAL",
		  "more buffers than the device accepts");

	setup(512);
	for (i = 0; i < 300; i++)
		vq_set_desc(DESC_GPA, i, BUF_GPA, 0, VRING_DESC_F_NEXT, i + 1);
	vq_set_desc(DESC_GPA, 299, BUF_GPA, 1, 0, 0);
	pop_fails(0, "a direct chain of 300 (empty) descriptors: -EINVAL",
		  "more buffers than the device accepts");
}

static void test_reset(void)
{
	setup(8);
	vq.last_avail = vq.used_idx = 5;
	vq.size = 4;
	vq_reset(&vq);
	CHECK(!vq.ready && vq.size == 8 && vq.last_avail == 0 && vq.used_idx == 0 &&
		  vq.msix_vector == VIRTIO_MSI_NO_VECTOR && vq.mem == &mem,
	      "reset: size back to max, indices zero, memory kept");
}

/* virtio 1.2 §2.7.10 with two threads at once, as the iothread and uring paths run: a device
 * thread pops, pushes and decides (vq_should_signal) while the driver publishes a buffer, then
 * asks for an interrupt (used_event = its last_used, full fence, re-read used->idx) and waits
 * for one only when nothing had come yet. The device writes used->idx, fences, reads used_event:
 * one side always sees the other's store, so an interrupt the driver waits for is never lost. */
static struct {
	int stop;
	unsigned long irqs;
} race;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *race_device(void *arg)
{
	struct vq_chain c;

	(void)arg;
	while (!__atomic_load_n(&race.stop, __ATOMIC_ACQUIRE)) {
		if (vq_pop(&vq, &c) != 1) {
			sched_yield();
			continue;
		}
		vq_push(&vq, &c, 0);
		if (vq_should_signal(&vq))
			__atomic_add_fetch(&race.irqs, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void test_event_idx_concurrent(void)
{
	volatile uint16_t *used_event = &avail()->ring[8], *used_idx = &used()->idx;
	uint16_t last_used = 0;
	unsigned long done = 0, owed = 0, lost = 0;
	double end = now_s() + 3;
	pthread_t dev;

	setup(8);
	vq.event_idx = true;
	vq_set_desc(DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_WRITE, 0);
	race.stop = 0;
	race.irqs = 0;
	pthread_create(&dev, NULL, race_device, NULL);
	while (done < 100000 && now_s() < end && !lost) {
		unsigned long before = __atomic_load_n(&race.irqs, __ATOMIC_SEQ_CST);
		uint16_t idx = le16toh(avail()->idx);

		avail()->ring[idx & 7] = 0;
		__atomic_store_n(&avail()->idx, htole16(idx + 1), __ATOMIC_RELEASE);
		/* every other request the device has completed before the arm; the others race it,
		 * after a varying delay (a plain loop: QEMU's emulator yields the CPU on `pause`) */
		if (done & 1)
			while (le16toh(*used_idx) == last_used)
				sched_yield();
		for (volatile unsigned spin = (unsigned)rand() % 2000; spin; spin--)
			;
		*used_event = htole16(last_used);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		bool wait = le16toh(*used_idx) == last_used;

		while (le16toh(*used_idx) == last_used)
			sched_yield();
		last_used++;
		if (wait) {
			double give_up = now_s() + 2;

			owed++;
			while (__atomic_load_n(&race.irqs, __ATOMIC_SEQ_CST) == before &&
			       now_s() < give_up)
				sched_yield();
			lost += __atomic_load_n(&race.irqs, __ATOMIC_SEQ_CST) == before;
		}
		done++;
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELEASE);
	pthread_join(dev, NULL);
	CHECK(done >= 200 && lost == 0 && owed > 0,
	      "event idx, two threads: %lu requests, %lu of them armed before their completion "
	      "(interrupt owed, the others found it done), %lu owed interrupts lost",
	      done, owed, lost);
}

int main(void)
{
	ram_init();
	test_simple();
	test_out_in();
	test_indirect();
	test_event_idx();
	test_no_interrupt();
	test_notify_on_empty();
	test_wrap();
	test_event_idx_concurrent();
	test_bad();
	test_reset();
	free(mem.lo);
	return CHECK_DONE();
}
