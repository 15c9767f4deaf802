/* tests/unit/test_packed.c - the packed virtqueue (virtio 1.2 §2.8) on synthetic guest memory,
 * through the same vq_* calls a device makes; this file plays the driver. No /dev/kvm. */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "tests/unit/test_vq_harness.h"
#include "trace/trace.h"

#define DESC_GPA   0x1000
#define DRIVER_GPA 0x3000 /* driver event suppression (read by the device) */
#define DEVICE_GPA 0x3100 /* device event suppression (written by the device) */
#define INDIR_GPA  0x8000
#define BUF_GPA	   0x10000

#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED	(1u << VRING_PACKED_DESC_F_USED)

/* The driver's side of the ring (§2.8.21.1): its next slot and wrap counter. */
static uint16_t drv_next;
static bool drv_wrap;

static struct vring_packed_desc *slot(unsigned i)
{
	return (struct vring_packed_desc *)gp(DESC_GPA) + i;
}

static struct vring_packed_desc_event *driver_ev(void)
{
	return gp(DRIVER_GPA);
}

static struct vring_packed_desc_event *device_ev(void)
{
	return gp(DEVICE_GPA);
}

static void setup(uint16_t size)
{
	vq_setup(size, DESC_GPA, DRIVER_GPA, DEVICE_GPA);
	vq.packed = true;
	drv_next = 0;
	drv_wrap = true;
}

struct buf {
	uint64_t addr;
	uint32_t len;
	uint16_t flags; /* VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT */
};

/* Make a list available (§2.8.21.1): every descriptor with the driver's wrap flags, NEXT on all
 * but the last, the id in the last, the first one's flags written last. */
static void drv_add(const struct buf *b, unsigned n, uint16_t id)
{
	uint16_t first = drv_next, first_flags = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vring_packed_desc *d = slot(drv_next);
		uint16_t f = b[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0) |
			     (drv_wrap ? F_AVAIL : F_USED);

		d->addr = htole64(b[i].addr);
		d->len = htole32(b[i].len);
		d->id = htole16(id);
		if (drv_next == first)
			first_flags = f;
		else
			d->flags = htole16(f);
		if (++drv_next == vq.size) {
			drv_next = 0;
			drv_wrap = !drv_wrap;
		}
	}
	slot(first)->flags = htole16(first_flags);
}

static void add1(uint64_t addr, uint32_t len, uint16_t id)
{
	struct buf b = {addr, len, 0};

	drv_add(&b, 1, id);
}

/* The header, data, status list of a virtio-blk read. */
static void add3(uint16_t id)
{
	struct buf b[3] = {{BUF_GPA, 16, 0},
			   {BUF_GPA + 0x1000, 512, VRING_DESC_F_WRITE},
			   {BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE}};

	drv_add(b, 3, id);
}

static struct vq_chain chain, other;
static int r;
static bool sig;

static void pop_fails(const char *what)
{
	r = vq_pop(&vq, &chain);
	CHECK(r == -EINVAL, "%s", what);
}

static void test_simple(void)
{
	setup(8);
	r = vq_pop(&vq, &chain);
	CHECK(r == 0, "packed: a zeroed ring pops nothing (§2.8.13: zero-initialized)");
	add1(BUF_GPA, 100, 5);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1 && chain.head == 5 && chain.ndescs == 1 && chain.nr_out == 1 &&
		  chain.iov[0].iov_base == gp(BUF_GPA) && chain.out_bytes == 100,
	      "packed: one descriptor pops with its buffer id");
	r = vq_pop(&vq, &chain);
	CHECK(r == 0 && vq.last_avail == 1 && vq.inflight == 1, "packed: then nothing more");
	r = vq_push(&vq, &(struct vq_chain){.head = 5, .ndescs = 1}, 7);
	CHECK(r == 0 && le16toh(slot(0)->id) == 5 && le32toh(slot(0)->len) == 7 &&
		  le16toh(slot(0)->flags) == (F_AVAIL | F_USED | VRING_DESC_F_WRITE),
	      "packed: used descriptor overwrites slot 0: id, len, AVAIL=USED=1, WRITE");
	CHECK(vq.used_idx == 1 && vq.used_wrap && vq.inflight == 0, "packed: used slot moves on");
	r = vq_push(&vq, &(struct vq_chain){.head = 5, .ndescs = 1}, 0);
	CHECK(r == -EINVAL, "packed: a push with nothing in flight is refused");
	r = vq_push(&vq, &(struct vq_chain){.head = 5, .ndescs = 0}, 0);
	CHECK(r == -EINVAL, "packed: a push of an empty chain is refused");
}

static void test_chain(void)
{
	setup(8);
	add3(2);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1 && chain.head == 2 && chain.ndescs == 3 && chain.nr_out == 1 &&
		  chain.nr_in == 2 && chain.in_bytes == 513,
	      "packed: a NEXT list of 3 pops as one chain (1 readable, 2 writable)");
	r = vq_push(&vq, &chain, 513);
	CHECK(r == 0 && vq.used_idx == 3 && le16toh(slot(0)->id) == 2,
	      "packed: one used descriptor for the list, the used slot skips 3 (§2.8.6)");

	/* The id is the last descriptor's (§2.8.6): the others may hold anything. */
	setup(8);
	add3(4);
	slot(0)->id = htole16(99);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1 && chain.head == 4, "packed: the buffer id comes from the list's last");

	/* Completion out of order: the second chain's used descriptor lands in slot 0. */
	setup(8);
	add3(1);
	add1(BUF_GPA, 8, 7);
	r = vq_pop(&vq, &chain);
	r += vq_pop(&vq, &other);
	CHECK(r == 2 && vq.inflight == 4, "packed: two chains in flight, 4 slots");
	r = vq_push(&vq, &other, 0);
	CHECK(r == 0 && le16toh(slot(0)->id) == 7 && vq.used_idx == 1 &&
		  le16toh(slot(0)->flags) == (F_AVAIL | F_USED),
	      "packed: out of order: id 7 used first, in slot 0, no WRITE for 0 bytes");
	r = vq_push(&vq, &chain, 513);
	CHECK(r == 0 && le16toh(slot(1)->id) == 1 && vq.used_idx == 4 && vq.inflight == 0,
	      "packed: then id 1 in slot 1, the used slot skips its 3");

	setup(8);
	struct buf wr[2] = {{BUF_GPA, 16, VRING_DESC_F_WRITE}, {BUF_GPA, 16, 0}};
	drv_add(wr, 2, 0);
	pop_fails("packed: readable after writable is a guest error");
}

static void test_wrap(void)
{
	int ok = 1;

	/* Size 5, not a power of two (§2.8.10.1), lists of 3 and 1: the counters flip mid-list. */
	setup(5);
	for (int i = 0; i < 14; i++) {
		if (i % 2)
			add1(BUF_GPA + i, 1 + i, i);
		else
			add3(i);
		ok &= vq_pop(&vq, &chain) == 1 && chain.head == i;
		ok &= chain.ndescs == (i % 2 ? 1 : 3) && vq.last_avail == drv_next &&
		      vq.avail_wrap == drv_wrap;
		ok &= vq_pop(&vq, &other) == 0; /* last lap's flags are not available now */
		ok &= vq_push(&vq, &chain, 1) == 0;
		ok &= vq.used_idx == vq.last_avail && vq.used_wrap == vq.avail_wrap;
	}
	CHECK(ok, "packed: 14 lists over 5 slots: both wrap counters follow the driver's");
	CHECK(vq.last_avail == 3 && !vq.avail_wrap,
	      "packed: 28 slots into a ring of 5: slot 3 after 5 laps (wrap 0)");
	/* The last used descriptor (slot 2, lap 5) went out with the device's counter at 0. */
	CHECK((le16toh(slot(2)->flags) & (F_AVAIL | F_USED)) == 0 && le16toh(slot(2)->id) == 13,
	      "packed: a used descriptor in an odd lap has AVAIL=USED=0");
}

static void test_indirect(void)
{
	struct vring_packed_desc *t = gp(INDIR_GPA);

	setup(8);
	t[0] = (struct vring_packed_desc){htole64(BUF_GPA), htole32(16), 0, 0};
	t[1] = (struct vring_packed_desc){htole64(BUF_GPA + 0x100), htole32(4096), 0,
					  htole16(VRING_DESC_F_NEXT)}; /* ignored there */
	t[2] = (struct vring_packed_desc){htole64(BUF_GPA + 0x2000), htole32(1), 0,
					  htole16(VRING_DESC_F_WRITE)};
	drv_add(&(struct buf){INDIR_GPA, 3 * 16, VRING_DESC_F_INDIRECT}, 1, 6);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1 && chain.head == 6 && chain.ndescs == 1 && chain.nr_out == 2 &&
		  chain.nr_in == 1 && chain.out_bytes == 4112 &&
		  chain.iov[2].iov_base == gp(BUF_GPA + 0x2000),
	      "packed indirect: one ring slot, the table's three segments in order");

	struct buf two[2] = {{BUF_GPA, 8, 0}, {INDIR_GPA, 16, VRING_DESC_F_INDIRECT}};
	setup(8);
	drv_add(two, 2, 0);
	pop_fails("packed indirect: an INDIRECT descriptor inside a NEXT list is rejected");

	setup(8);
	drv_add(&(struct buf){INDIR_GPA, 20, VRING_DESC_F_INDIRECT}, 1, 0);
	pop_fails("packed indirect: table length not a multiple of 16");

	setup(8);
	drv_add(&(struct buf){INDIR_GPA, 0, VRING_DESC_F_INDIRECT}, 1, 0);
	pop_fails("packed indirect: an empty table");

	setup(8);
	drv_add(&(struct buf){RAM_SIZE - 32, 64, VRING_DESC_F_INDIRECT}, 1, 0);
	pop_fails("packed indirect: table straddling the end of RAM");

	/* VQ_MAX_SEGS entries are fine, one more is a guest error. */
	setup(8);
	for (int i = 0; i <= VQ_MAX_SEGS; i++)
		t[i] = (struct vring_packed_desc){htole64(BUF_GPA), htole32(1), 0, 0};
	drv_add(&(struct buf){INDIR_GPA, VQ_MAX_SEGS * 16, VRING_DESC_F_INDIRECT}, 1, 0);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1 && chain.nr_out == VQ_MAX_SEGS, "packed indirect: VQ_MAX_SEGS entries pop");
	drv_add(&(struct buf){INDIR_GPA, (VQ_MAX_SEGS + 1) * 16, VRING_DESC_F_INDIRECT}, 1, 0);
	pop_fails("packed indirect: VQ_MAX_SEGS + 1 entries: -EINVAL");
}

static void test_bad(void)
{
	setup(8);
	add1(RAM_SIZE + 0x1000, 16, 0);
	pop_fails("packed: buffer outside RAM");

	setup(8);
	add1(RAM_SIZE - 8, 16, 0);
	pop_fails("packed: buffer straddling the end of RAM");

	setup(8);
	add1(0xfffffffffffff000ULL, 0x2000, 0);
	pop_fails("packed: buffer whose end overflows 64 bits");

	setup(8);
	vq.desc = RAM_SIZE - 64;
	pop_fails("packed: descriptor ring straddling the end of RAM");

	setup(8);
	vq.desc = DESC_GPA + 8;
	pop_fails("packed: descriptor ring not 16-byte aligned");

	setup(8);
	vq.avail = DRIVER_GPA + 2;
	pop_fails("packed: driver event area not 4-byte aligned");

	setup(8);
	vq.used = RAM_SIZE;
	add1(BUF_GPA, 1, 0);
	r = vq_pop(&vq, &chain);
	CHECK(r == -EINVAL, "packed: device event area outside RAM");

	setup(8);
	vq.ready = false;
	add1(BUF_GPA, 1, 0);
	r = vq_pop(&vq, &chain);
	CHECK(r == 0, "packed: a queue not ready pops nothing");

	/* No next pointers to loop through: a list can only go round the ring. */
	setup(4);
	struct buf all[4] = {{BUF_GPA, 1, 0}, {BUF_GPA, 1, 0}, {BUF_GPA, 1, 0}, {BUF_GPA, 1, 0}};
	drv_add(all, 4, 0);
	r = vq_pop(&vq, &chain);
	CHECK(r == 1 && chain.ndescs == 4, "packed: a list as long as the ring pops");
	setup(4);
	drv_add(all, 4, 0);
	slot(3)->flags |= htole16(VRING_DESC_F_NEXT); /* and on round to slot 0 */
	pop_fails("packed: a list that goes round the ring (a loop): -EINVAL");

	/* The driver offers slots a popped chain still holds: more than the ring. */
	setup(4);
	add3(0);
	r = vq_pop(&vq, &chain);
	add1(BUF_GPA, 1, 1);
	add1(BUF_GPA, 1, 2); /* slot 0 again, wrap 0: not used yet */
	r += vq_pop(&vq, &other);
	CHECK(r == 2 && vq.inflight == 4, "packed: the ring full of popped chains");
	pop_fails("packed: a slot offered again before it was used: -EINVAL");

	setup(4);
	add3(0);
	r = vq_pop(&vq, &chain);
	struct buf two[2] = {{BUF_GPA, 1, 0}, {BUF_GPA, 1, 0}};
	drv_add(two, 2, 1); /* slots 3 and 0: slot 0 is still the device's */
	pop_fails("packed: a list reaching into a popped chain's slots: -EINVAL");
}

static void test_notify(void)
{
	setup(8);
	vq_set_notify(&vq, false);
	CHECK(le16toh(device_ev()->flags) == VRING_PACKED_EVENT_FLAG_DISABLE,
	      "packed: disable notifies: device event flags DISABLE");
	vq_set_notify(&vq, true);
	CHECK(le16toh(device_ev()->flags) == VRING_PACKED_EVENT_FLAG_ENABLE,
	      "packed: enable notifies without EVENT_IDX: ENABLE");
	vq.event_idx = true;
	vq.last_avail = 3;
	vq.avail_wrap = false;
	vq_set_notify(&vq, true);
	CHECK(le16toh(device_ev()->flags) == VRING_PACKED_EVENT_FLAG_DESC &&
		  le16toh(device_ev()->off_wrap) == 3,
	      "packed: enable with EVENT_IDX: DESC at the next slot, wrap 0 (off_wrap 3)");
	vq.avail_wrap = true;
	vq_set_notify(&vq, true);
	CHECK(le16toh(device_ev()->off_wrap) == (3 | 1u << VRING_PACKED_EVENT_F_WRAP_CTR),
	      "packed: ... and wrap 1 in bit 15");
	vq_set_notify(&vq, false);
	CHECK(le16toh(device_ev()->flags) == VRING_PACKED_EVENT_FLAG_DISABLE,
	      "packed: disable with EVENT_IDX: DISABLE");

	/* What the trace's queue_notify shows: where the driver writes next. */
	setup(8);
	add3(0);
	add1(BUF_GPA, 1, 1);
	CHECK(vq_avail_idx(&vq) == TRACE_RING_IDX_PACKED(4, 1),
	      "packed: the driver's next slot for the trace: 4, wrap 1");
	r = vq_pop(&vq, &chain);
	CHECK(vq_avail_idx(&vq) == TRACE_RING_IDX_PACKED(4, 1), "packed: ... the same after a pop");
}

/* Use n one-slot chains (popping what the driver adds), then ask about an interrupt. */
static bool signal_after(unsigned n)
{
	while (n--) {
		add1(BUF_GPA, 1, 0);
		if (vq_pop(&vq, &chain) != 1 || vq_push(&vq, &chain, 0) != 0)
			return false;
	}
	return vq_should_signal(&vq);
}

static void set_driver_event(uint16_t flags, uint16_t off, bool wrap)
{
	driver_ev()->off_wrap = htole16(off | (wrap ? 1u << VRING_PACKED_EVENT_F_WRAP_CTR : 0));
	driver_ev()->flags = htole16(flags);
}

/* Steps of the interrupt decision: the driver event structure set, n more slots used, and
 * whether the device should interrupt. */
struct signal_step {
	uint16_t flags, off;
	bool wrap;
	unsigned n;
	bool want;
	const char *what;
};

static void signal_steps(bool event_idx, const struct signal_step *s, size_t n)
{
	setup(8);
	vq.event_idx = event_idx;
	for (size_t i = 0; i < n; i++) {
		set_driver_event(s[i].flags, s[i].off, s[i].wrap);
		sig = signal_after(s[i].n);
		CHECK(sig == s[i].want, "packed%s: %s", event_idx ? " EVENT_IDX" : "", s[i].what);
	}
}

static void test_signal(void)
{
	static const struct signal_step plain[] = {
	    {VRING_PACKED_EVENT_FLAG_ENABLE, 0, 0, 1, true, "driver event ENABLE: interrupt"},
	    {VRING_PACKED_EVENT_FLAG_DISABLE, 0, 0, 1, false, "driver event DISABLE: none"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 0, 0, 1, true, "DESC, EVENT_IDX not negotiated: one"},
	};
	/* Used slots 0-5 in the first lap, then 6, 7 and on into the second lap (wrap 0). */
	static const struct signal_step desc[] = {
	    {VRING_PACKED_EVENT_FLAG_DESC, 5, 1, 1, true, "the first decision always interrupts"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 5, 1, 2, false, "slots 1-2 used, event at 5: none"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 5, 1, 2, false, "slots 3-4: not yet"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 5, 1, 1, true, "slot 5 used: interrupt"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 5, 1, 0, false, "nothing new used: none"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 1, 0, 3, false,
	     "slots 6, 7, 0: event at 1 wrap 0 not yet"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 1, 0, 1, true, "slot 1 of the second lap: interrupt"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 3, 1, 2, false, "event at 3 of the third lap: not yet"},
	    {VRING_PACKED_EVENT_FLAG_DESC, 2, 0, 1, false,
	     "event at 2 wrap 0 already passed: none"},
	};

	signal_steps(false, plain, sizeof(plain) / sizeof(plain[0]));
	signal_steps(true, desc, sizeof(desc) / sizeof(desc[0]));

	/* Two whole laps used between two decisions (a busy IO thread can): the positions
	 * compare equal modulo twice the ring, yet slot 2 was used twice over: interrupt. */
	setup(4);
	vq.event_idx = true;
	set_driver_event(VRING_PACKED_EVENT_FLAG_DESC, 0, 1);
	sig = signal_after(1);
	set_driver_event(VRING_PACKED_EVENT_FLAG_DESC, 2, 0);
	sig = signal_after(8);
	CHECK(sig, "packed EVENT_IDX: two laps used since the last decision: interrupt");
}

static void test_reset(void)
{
	setup(8);
	add3(0);
	r = vq_pop(&vq, &chain);
	vq.avail_wrap = vq.used_wrap = false;
	vq_reset(&vq);
	CHECK(!vq.packed && vq.avail_wrap && vq.used_wrap && vq.inflight == 0 &&
		  vq.last_avail == 0 && vq.used_idx == 0,
	      "packed: reset: wrap counters back to 1, nothing in flight, split until negotiated");
}

int main(void)
{
	ram_init();
	test_simple();
	test_chain();
	test_wrap();
	test_indirect();
	test_bad();
	test_notify();
	test_signal();
	test_reset();
	free(mem.lo);
	return CHECK_DONE();
}
