/*
 * tests/unit/test_mini_virtio.c - the mini guest's split-virtqueue driver (guest/mini/virtio.c,
 * compiled here for the host) against a device that follows virtio 1.2 §2.7.10 to the letter
 * but looks at used_event as late as the spec allows: after the driver may already have polled
 * the completion. The driver's promise under test: when vq_arm() says an interrupt is owed, the
 * device's check sends it, whatever the interleaving. Before the fix the driver moved
 * used_event past each completion it polled, so a late check sent nothing while the mini
 * guest waited for an interrupt ("FAIL 41 (no interrupt)" on real KVM with an IO thread).
 */
/* Also its VIRTIO_F_IN_ORDER checks on both rings (§2.7.9, §2.8.8): batches taken as the
 * spec allows, a buffer used out of order refused. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* The guest is built with -fno-strict-aliasing: ring fields are read through the uapi macros'
 * casts (vring_used_event). */
#pragma GCC optimize("no-strict-aliasing")
#pragma GCC diagnostic ignored "-Wstrict-aliasing"
#include "guest/mini/virtio.c"
#include "guest/mini/vq_packed.c"
#include "tests/check.h"

/* What virtio.c needs from the rest of the mini guest. */
void kprintf(const char *fmt, ...)
{
	(void)fmt;
}

void vfail(int status, const char *fmt, __builtin_va_list ap)
{
	printf("FAIL the guest driver failed with status %d: ", status);
	vprintf(fmt, ap);
	printf("\n");
	exit(1);
}

void fail(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(status, fmt, ap);
}

static struct vq q;
static uint8_t buf[64];

/* The device: take the next avail entry, publish it as used (no interrupt decision yet). */
static void dev_complete(uint16_t *old, uint16_t *new)
{
	uint16_t head = q.vr.avail->ring[q.vr.used->idx % q.size];
	struct vring_used_elem *e = &q.vr.used->ring[q.vr.used->idx % q.size];

	e->id = head;
	e->len = 1;
	*old = q.vr.used->idx;
	__atomic_store_n(&q.vr.used->idx, (uint16_t)(*old + 1), __ATOMIC_SEQ_CST);
	*new = q.vr.used->idx;
}

/* The device's interrupt decision for old..new, from used_event as it reads now (§2.7.10). */
static bool dev_signals(uint16_t old, uint16_t new)
{
	if (!q.event_idx)
		return !(q.vr.avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
	return vring_need_event(vring_used_event(&q.vr), new, old);
}

static void add_one(void)
{
	struct vq_buf b = {buf, sizeof(buf), true};
	uint16_t head;

	if (!vq_add(&q, &b, 1, &head))
		fail(0, "vq_add: no room");
}

/* One request, the device checking used_event before (late=0) or after (late=1) the driver
 * polled the completion; returns false if the driver was owed an interrupt it did not get. */
static bool one_request(bool late)
{
	uint16_t old, new, head;
	uint32_t len;
	bool owed, sent = false;

	add_one();
	owed = vq_arm(&q);
	dev_complete(&old, &new);
	if (!late)
		sent = dev_signals(old, new);
	if (!vq_get_used(&q, &head, &len))
		fail(0, "completion not seen");
	if (late)
		sent = dev_signals(old, new);
	return !owed || sent;
}

static void test_owed_interrupts_come(bool event_idx)
{
	int lost_early = 0, lost_late = 0;

	vq_init(&q, 0, 8, event_idx, false);
	/* more than 2^16 requests: used->idx and used_event wrap */
	for (int i = 0; i < 70000; i++) {
		lost_early += !one_request(false);
		lost_late += !one_request(true);
	}
	CHECK(lost_early == 0, "event_idx=%d: device checks before the driver polls: no owed "
	      "interrupt lost (%d lost)", event_idx, lost_early);
	CHECK(lost_late == 0, "event_idx=%d: device checks after the driver polled: no owed "
	      "interrupt lost (%d lost)", event_idx, lost_late);
}

/* A completion already in the used ring when the driver arms: the device may have checked
 * before the arm, so no interrupt is owed and vq_arm() must say so. */
static void test_pending_not_owed(void)
{
	uint16_t old, new, head;
	uint32_t len;
	bool owed;

	vq_init(&q, 0, 8, true, false);
	add_one();
	add_one();
	dev_complete(&old, &new);
	owed = vq_arm(&q);
	CHECK(!owed, "a completion already waiting: vq_arm() owes no interrupt");
	while (vq_get_used(&q, &head, &len))
		;
	owed = vq_arm(&q);
	dev_complete(&old, &new);
	CHECK(owed && dev_signals(old, new),
	      "ring drained, armed, then a completion: the interrupt is owed and sent");
}

static void test_polling_queue(void)
{
	vq_init(&q, 0, 8, true, true);
	CHECK(!vq_arm(&q), "a polling queue (irq=poll) is never owed an interrupt");
	vq_init(&q, 0, 8, false, true);
	CHECK(!vq_arm(&q), "polling without EVENT_IDX: never owed either");
}

/* Three requests of two descriptors (16 bytes out, 32 in) on an in-order queue. */
static void add_three(uint16_t heads[3])
{
	struct vq_buf b[2] = {{buf, 16, false}, {buf + 16, 32, true}};

	for (int i = 0; i < 3; i++)
		if (!vq_add(&q, b, 2, &heads[i]))
			fail(0, "vq_add: no room");
}

/* VIRTIO_F_IN_ORDER, split ring (§2.7.5, §2.7.9): descriptors in ring order, and a used entry
 * naming the last buffer of a batch, the used idx moved by the batch, gives all of it back in
 * order: the skipped buffers with their whole writable length, the named one with its len. */
static void test_in_order_split(void)
{
	uint16_t heads[3], head, old, new;
	uint32_t lens[3];
	bool got = true;

	vq_init(&q, 0, 8, false, false);
	q.in_order = true;
	add_three(heads);
	CHECK(heads[0] == 0 && heads[1] == 2 && heads[2] == 4 && q.vr.desc[0].next == 1 &&
		  q.vr.desc[3].next == 4,
	      "in order: chains take descriptors in ring order, next = x + 1 (heads %u %u %u)",
	      heads[0], heads[1], heads[2]);
	q.vr.used->ring[0] = (struct vring_used_elem){.id = 4, .len = 5};
	q.vr.used->idx = 3;
	for (int i = 0; i < 3; i++)
		got &= vq_get_used(&q, &head, &lens[i]) && head == heads[i];
	CHECK(got && lens[0] == 32 && lens[1] == 32 && lens[2] == 5 && q.in_order_batches == 1 &&
		  !vq_get_used(&q, &head, &lens[0]),
	      "in order: one used entry for a batch of 3: all three back in order, lens %u %u %u",
	      lens[0], lens[1], lens[2]);
	/* the next chain wraps round the table: 6, 7, then 0 */
	add_three(heads);
	CHECK(heads[0] == 6 && heads[1] == 0 && q.vr.desc[7].next == 0,
	      "in order: past the end of the table the chains go on at 0 (heads %u %u)", heads[0],
	      heads[1]);
	dev_complete(&old, &new);
	CHECK(vq_get_used(&q, &head, &lens[0]) && head == 6 && lens[0] == 1,
	      "in order: a used entry for the oldest buffer alone is taken as it is");
}

/* A used entry naming the second buffer out while the used idx moved by one: the device used a
 * buffer out of order (or a batch it did not count): the driver fails with ST_USED_RING. */
static void test_in_order_split_refused(void)
{
	uint16_t heads[3], head;
	uint32_t len;
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(2);
		vq_init(&q, 0, 8, false, false);
		q.in_order = true;
		add_three(heads);
		q.vr.used->ring[0] = (struct vring_used_elem){.id = heads[1], .len = 1};
		q.vr.used->idx = 1;
		vq_get_used(&q, &head, &len);
		_exit(0);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 1,
	      "in order: the second buffer used first (used idx + 1): the driver fails");
}

/* The packed ring (§2.8.8): the used descriptor at the oldest buffer's first slot, naming the
 * last of a batch; the driver goes on past every list of the batch. */
static void test_in_order_packed(void)
{
	struct vring_packed_desc *r;
	uint16_t heads[3], head;
	uint32_t lens[3];
	bool got = true;

	vq_packed_init(&q, 0, 8, false, false);
	q.in_order = true;
	r = (struct vring_packed_desc *)q.desc_pa;
	add_three(heads);
	r[0].id = heads[1];
	r[0].len = 7;
	r[0].flags = F_AVAIL | F_USED;
	for (int i = 0; i < 2; i++)
		got &= vq_get_used(&q, &head, &lens[i]) && head == heads[i];
	CHECK(got && lens[0] == 32 && lens[1] == 7 && q.next_used == 4 && q.num_free == 6 &&
		  q.in_order_batches == 1 && !vq_get_used(&q, &head, &lens[2]),
	      "packed in order: one used descriptor for two lists: both back, next used slot %u",
	      q.next_used);
}

int main(void)
{
	test_in_order_split();
	test_in_order_split_refused();
	test_in_order_packed();
	test_owed_interrupts_come(true);
	test_owed_interrupts_come(false);
	test_pending_not_owed();
	test_polling_queue();
	return CHECK_DONE();
}
