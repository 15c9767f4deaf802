/*
 * tests/unit/test_mini_virtio.c - the mini guest's split-virtqueue driver (guest/mini/virtio.c,
 * compiled here for the host) against a device that follows virtio 1.2 §2.7.10 to the letter
 * but looks at used_event as late as the spec allows: after the driver may already have polled
 * the completion. The driver's promise under test: when vq_arm() says an interrupt is owed, the
 * device's check sends it, whatever the interleaving. Before the fix the driver moved
 * used_event past each completion it polled, so a late check sent nothing while the mini
 * guest waited for an interrupt ("FAIL 41 (no interrupt)" on real KVM with an IO thread).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

int main(void)
{
	test_owed_interrupts_come(true);
	test_owed_interrupts_come(false);
	test_pending_not_owed();
	test_polling_queue();
	return CHECK_DONE();
}
