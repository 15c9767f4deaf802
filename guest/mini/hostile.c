/*
 * guest/mini/hostile.c - test=hostile case=NAME: a driver that breaks one rule of the virtio
 * spec on purpose, then checks that the device answered as the spec says (IOERR, a refused
 * register write, or DEVICE_NEEDS_RESET with its configuration interrupt), that it wrote
 * nothing it should not have, and that after a reset it works again. The table at the end
 * lists the cases; docs/reliability.md has them with what kvmscope answers.
 */
#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "blk.h"
#include "irq.h"

#define NO_STATUS    0xFF	    /* not a VIRTIO_BLK_S_*: the device never wrote the status */
#define WAIT_TSC     10000000000ull /* bounded waits, as blk.c's (3-10 s) */
#define WAIT_TURNS   4000000000ull
#define QUIET_TSC    50000000ull /* after a reset: long enough for a stray completion to land */
#define RESET_ROUNDS 16
#define RESET_DEPTH  8
#define FAR_ADDR     (1ull << 40) /* far outside any guest RAM kvmscope gives */

static struct blk_req H; /* the crafted request's header and status */
static struct vring_desc tables[2][320] __attribute__((aligned(16))); /* indirect tables */
static uint8_t buf[4096] __attribute__((aligned(4096)));
static uint32_t config_irqs; /* irq_config_count when the last crafted chain was published */

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

static bool modern(void)
{
	return B.v.ops == &virtio_modern_ops;
}

static void put(struct vring_desc *t, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		uint16_t next)
{
	t[i] = (struct vring_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

static struct vring_desc *direct(void)
{
	return B.q[0].vr.desc;
}

/* A fresh header and an unwritten status for a hand-made chain. */
static void request(uint32_t type, uint64_t sector)
{
	H.hdr = (struct virtio_blk_outhdr){.type = type, .ioprio = 0, .sector = sector};
	H.status = NO_STATUS;
}

/* Publishes head as the next avail entry and notifies, whatever the device asked. Hand-made
 * chains overwrite the free list vq_add() keeps, so after one only a reset (recover()) helps. */
static void publish(uint16_t head)
{
	struct vq *q = &B.q[0];

	config_irqs = irq_config_count;
	q->vr.avail->ring[q->avail_idx % q->size] = head;
	barrier(); /* §2.7.13: the entry before the index */
	q->avail_idx++;
	*(volatile uint16_t *)&q->vr.avail->idx = q->avail_idx;
	mb();
	B.v.ops->notify(&B.v, q);
}

static uint16_t used_idx(void)
{
	return *(volatile uint16_t *)&B.q[0].vr.used->idx;
}

static uint8_t status(void)
{
	return B.v.ops->get_status(&B.v);
}

static void set_status(uint8_t st)
{
	B.v.status = st;
	B.v.ops->set_status(&B.v, st);
}

/* Writes 0 and waits until device_status reads 0 (§4.1.4.3.2): the device has let go. */
static void reset(void)
{
	uint64_t t0 = rdtsc();

	set_status(0);
	for (uint64_t n = 0; status() != 0; n++)
		if (rdtsc() - t0 > WAIT_TSC || n > WAIT_TURNS)
			fail(ST_RESET, "device_status reads 0x%x after reset", status());
}

static void alive(const char *after)
{
	uint8_t st = status();

	if (st & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED))
		fail(ST_HOSTILE, "%s: device_status 0x%x: the device gave up on a legal driver",
		     after, st);
}

/* §2.1.2: the device sets DEVICE_NEEDS_RESET and, if it was running, sends a configuration
 * change interrupt; the request it refused is not completed and its status not written. */
static void needs_reset(bool was_running)
{
	uint64_t t0 = rdtsc();
	uint8_t st;

	for (uint64_t n = 0; !((st = status()) & VIRTIO_CONFIG_S_NEEDS_RESET); n++)
		if (rdtsc() - t0 > WAIT_TSC || n > WAIT_TURNS)
			fail(ST_HOSTILE, "device_status stays 0x%x: no DEVICE_NEEDS_RESET", st);
	if (was_running && B.irq != IRQ_POLL)
		for (uint64_t n = 0; irq_config_count == config_irqs; n++)
			if (rdtsc() - t0 > WAIT_TSC || n > WAIT_TURNS)
				fail(ST_HOSTILE, "DEVICE_NEEDS_RESET without a config interrupt");
	if (was_running && (used_idx() != B.q[0].last_used || H.status != NO_STATUS))
		fail(ST_HOSTILE, "a refused request completed: used idx %u, status %u", used_idx(),
		     H.status);
	kprintf("hostile: device_status 0x%x: DEVICE_NEEDS_RESET%s\n", st,
		was_running && B.irq != IRQ_POLL ? ", config interrupt" : "");
}

static void expect(const char *what, uint8_t got, uint8_t want)
{
	if (got != want)
		fail(ST_HOSTILE, "%s: status %u, want %u", what, got, want);
	kprintf("hostile: %s: status %u\n", what, got);
}

/* A hand-made chain the device completes: waits for it and takes it off the used ring. */
static uint8_t complete(uint16_t head, const char *what)
{
	uint64_t t0 = rdtsc();

	publish(head);
	for (uint64_t n = 0; used_idx() == B.q[0].last_used; n++)
		if (rdtsc() - t0 > WAIT_TSC || n > WAIT_TURNS)
			fail(ST_TIMEOUT, "%s: never completed, device_status 0x%x", what, status());
	B.q[0].last_used++;
	return H.status;
}

/* Reset and handshake again, then one read: the device is usable after what it was shown. */
static void recover(void)
{
	virtio_start(&B.v, B.q, B.nq, B.want, B.need, B.irq, B.qsize);
	memset(buf, 0xEE, 512);
	uint8_t st = blk_do_req(0, "read after reset", VIRTIO_BLK_T_IN, 0, buf, 512);

	if (st != VIRTIO_BLK_S_OK)
		fail(ST_RECOVER, "read after reset: status %u", st);
	alive("read after reset");
}

/* --- The cases: each breaks one rule; the trace's guest_error names it (NEEDS_RESET ones). */

/* Two readable descriptors naming each other: a walk that never ends unless counted. */
static void desc_loop(void)
{
	request(VIRTIO_BLK_T_OUT, 0);
	put(direct(), 0, ADDR(&H.hdr), sizeof(H.hdr), VRING_DESC_F_NEXT, 1);
	put(direct(), 1, ADDR(buf), 512, VRING_DESC_F_NEXT, 0);
	publish(0);
	needs_reset(true);
}

/* Every descriptor of the queue, readable, each linking to the next and the last to the first:
 * size + 1 descriptors before the walk could end. */
static void chain_long(void)
{
	request(VIRTIO_BLK_T_OUT, 0);
	for (unsigned i = 0; i < B.q[0].size; i++)
		put(direct(), i, ADDR(&H.hdr), sizeof(H.hdr), VRING_DESC_F_NEXT,
		    (uint16_t)((i + 1) % B.q[0].size));
	publish(0);
	needs_reset(true);
}

static void head_range(void)
{
	request(VIRTIO_BLK_T_IN, 0);
	publish((uint16_t)(B.q[0].size + 3));
	needs_reset(true);
}

static void indirect_nested(void)
{
	request(VIRTIO_BLK_T_IN, 0);
	put(tables[1], 0, ADDR(&H.hdr), sizeof(H.hdr), VRING_DESC_F_NEXT, 1);
	put(tables[1], 1, ADDR(&H.status), 1, VRING_DESC_F_WRITE, 0);
	put(tables[0], 0, ADDR(tables[1]), 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	put(direct(), 0, ADDR(tables[0]), sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	publish(0);
	needs_reset(true);
}

/* An indirect table of 300 buffers: more than the device's seg_max + 2. */
static void indirect_long(void)
{
	const unsigned n = 300;

	request(VIRTIO_BLK_T_OUT, 0);
	for (unsigned i = 0; i + 1 < n; i++)
		put(tables[0], i, ADDR(&H.hdr), sizeof(H.hdr), VRING_DESC_F_NEXT,
		    (uint16_t)(i + 1));
	put(tables[0], n - 1, ADDR(&H.status), 1, VRING_DESC_F_WRITE, 0);
	put(direct(), 0, ADDR(tables[0]), n * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
	publish(0);
	needs_reset(true);
}

/* header, one data buffer at addr (device-writable: a read), status */
static void read_into(uint64_t addr, uint32_t len)
{
	request(VIRTIO_BLK_T_IN, 0);
	put(direct(), 0, ADDR(&H.hdr), sizeof(H.hdr), VRING_DESC_F_NEXT, 1);
	put(direct(), 1, addr, len, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	put(direct(), 2, ADDR(&H.status), 1, VRING_DESC_F_WRITE, 0);
}

static void addr_outside(void)
{
	read_into(FAR_ADDR, 512);
	publish(0);
	needs_reset(true);
}

/* A read buffer whose first 256 bytes are the last of RAM: none of them may be written. */
static void addr_straddle(void)
{
	if (mini_ram_end < (64u << 20))
		fail(ST_BAD_ARG,
		     "case=addr-straddle needs kvmscope's e820 map with 64 MiB or more");
	uint8_t *tail = (uint8_t *)(uintptr_t)(mini_ram_end - 256);

	memset(tail, 0x5A, 256);
	read_into(mini_ram_end - 256, 512);
	publish(0);
	needs_reset(true);
	for (unsigned i = 0; i < 256; i++)
		if (tail[i] != 0x5A)
			fail(ST_HOSTILE, "RAM end - 256 + %u was written (0x%02x)", i, tail[i]);
	kprintf("hostile: the last 256 bytes of RAM are untouched\n");
}

static void avail_jump(void)
{
	B.q[0].avail_idx = (uint16_t)(B.q[0].avail_idx + 999); /* publish() adds the 1000th */
	request(VIRTIO_BLK_T_IN, 0);
	publish(0);
	needs_reset(true);
}

static void notify_raw(uint16_t queue)
{
	if (modern()) /* stays inside the NOTIFY page for the queue numbers used here */
		region_write16(&B.v.notify, queue * B.v.notify_mult, queue);
	else
		region_write16(&B.v.legacy, VIRTIO_PCI_QUEUE_NOTIFY, queue);
}

/* Queue 0 set up by hand with its rings ending past RAM: modern, the descriptor table's last
 * 512 bytes past the end; legacy, a page frame whose avail and used rings lie past it. */
static void ring_straddle(void)
{
	uint64_t desc = mini_ram_end - 512;

	if (mini_ram_end < (64u << 20))
		fail(ST_BAD_ARG,
		     "case=ring-straddle needs kvmscope's e820 map with 64 MiB or more");
	reset();
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	B.v.ops->set_features(&B.v, B.v.ops->get_features(&B.v) & (B.want | B.need));
	if (B.v.ops->has_features_ok)
		set_status(B.v.status | VIRTIO_CONFIG_S_FEATURES_OK);
	if (B.irq == IRQ_MSIX)
		B.v.ops->set_config_vector(&B.v, 0);
	if (modern()) {
		region_write16(&B.v.common, VIRTIO_PCI_COMMON_Q_SELECT, 0);
		region_write16(&B.v.common, VIRTIO_PCI_COMMON_Q_SIZE, B.q[0].size);
		region_write32(&B.v.common, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc);
		region_write32(&B.v.common, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(desc >> 32));
		region_write32(&B.v.common, VIRTIO_PCI_COMMON_Q_AVAILLO,
			       (uint32_t)ADDR(B.q[0].vr.avail));
		region_write32(&B.v.common, VIRTIO_PCI_COMMON_Q_AVAILHI, 0);
		region_write32(&B.v.common, VIRTIO_PCI_COMMON_Q_USEDLO,
			       (uint32_t)ADDR(B.q[0].vr.used));
		region_write32(&B.v.common, VIRTIO_PCI_COMMON_Q_USEDHI, 0);
		region_write16(&B.v.common, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	} else {
		region_write16(&B.v.legacy, VIRTIO_PCI_QUEUE_SEL, 0);
		region_write32(&B.v.legacy, VIRTIO_PCI_QUEUE_PFN,
			       (uint32_t)((mini_ram_end - 4096) >> VIRTIO_PCI_QUEUE_ADDR_SHIFT));
	}
	set_status(B.v.status | VIRTIO_CONFIG_S_DRIVER_OK);
	request(VIRTIO_BLK_T_IN, 0);
	config_irqs = irq_config_count;
	notify_raw(0);
	needs_reset(false);
}

/* Notifies of a queue before it exists, before DRIVER_OK, and of queues the device lacks. */
static void notify_unset(void)
{
	reset();
	notify_raw(0);
	notify_raw(5);
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	notify_raw(0);
	notify_raw(7);
	alive("notify before setup");
	recover();
	notify_raw(5);
	notify_raw(7);
	alive("notify of a queue the device lacks");
}

static bool pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* queue_size: not a power of two, above the maximum, 0, or changed while the queue is live. */
static void queue_size(void)
{
	static const uint16_t bad[] = {100, 512, 0, 3, 0xFFFF};
	uint16_t max, got;

	if (!modern()) { /* legacy: QUEUE_NUM is the device's and read-only */
		region_write16(&B.v.legacy, VIRTIO_PCI_QUEUE_NUM, 100);
		got = region_read16(&B.v.legacy, VIRTIO_PCI_QUEUE_NUM);
		if (got == 100 || !pow2(got))
			fail(ST_HOSTILE, "legacy QUEUE_NUM took 100 (reads %u)", got);
		kprintf("hostile: legacy QUEUE_NUM write ignored, reads %u\n", got);
		return;
	}
	region_write16(&B.v.common, VIRTIO_PCI_COMMON_Q_SELECT, 0);
	region_write16(&B.v.common, VIRTIO_PCI_COMMON_Q_SIZE, 32);
	got = region_read16(&B.v.common, VIRTIO_PCI_COMMON_Q_SIZE);
	if (got != B.q[0].size)
		fail(ST_HOSTILE, "queue_size of a live queue changed from %u to %u", B.q[0].size,
		     got);
	reset();
	max = B.v.ops->queue_max(&B.v, 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		region_write16(&B.v.common, VIRTIO_PCI_COMMON_Q_SIZE, bad[i]);
		got = region_read16(&B.v.common, VIRTIO_PCI_COMMON_Q_SIZE);
		if (got == bad[i] || !pow2(got) || got > max)
			fail(ST_HOSTILE, "queue_size %u accepted (reads %u, max %u)", bad[i], got,
			     max);
	}
	kprintf("hostile: queue_size 100, 512, 0, 3, 65535 refused, reads %u (max %u)\n", got, max);
}

static void sector_past(void)
{
	memset(buf, 0xAB, sizeof(buf));
	expect("read at capacity",
	       blk_do_req(0, "read at capacity", VIRTIO_BLK_T_IN, B.capacity, buf, 512),
	       VIRTIO_BLK_S_IOERR);
	expect("write across the end",
	       blk_do_req(0, "write across the end", VIRTIO_BLK_T_OUT, B.capacity - 1, buf, 1024),
	       VIRTIO_BLK_S_IOERR);
	/* 2^55 sectors are 2^64 bytes: an offset that wraps to 0 if computed before the check */
	expect("read at sector 2^55",
	       blk_do_req(0, "read at sector 2^55", VIRTIO_BLK_T_IN, 1ull << 55, buf, 512),
	       VIRTIO_BLK_S_IOERR);
	expect("write at sector 2^64-1",
	       blk_do_req(0, "write at sector 2^64-1", VIRTIO_BLK_T_OUT, ~0ull, buf, 512),
	       VIRTIO_BLK_S_IOERR);
	alive("requests past capacity");
}

/* Lengths: not whole sectors, a short header, more than the disk, then one past RAM. */
static void huge_len(void)
{
	uint64_t big = B.capacity * 512 + 4096, at = 16u << 20;

	expect("read of 513 bytes",
	       blk_do_req(0, "read of 513 bytes", VIRTIO_BLK_T_IN, 0, buf, 513),
	       VIRTIO_BLK_S_IOERR);
	if (mini_ram_end >= at + big && big <= UINT32_MAX)
		expect("read of more than the disk",
		       blk_do_req(0, "read of more than the disk", VIRTIO_BLK_T_IN, 0,
				  (void *)(uintptr_t)at, (uint32_t)big),
		       VIRTIO_BLK_S_IOERR);
	/* hand-made from here: the free list is gone */
	request(VIRTIO_BLK_T_IN, 0);
	put(direct(), 0, ADDR(&H.hdr), 8, VRING_DESC_F_NEXT, 1);
	put(direct(), 1, ADDR(&H.status), 1, VRING_DESC_F_WRITE, 0);
	expect("an 8-byte header", complete(0, "an 8-byte header"), VIRTIO_BLK_S_IOERR);
	read_into(0x200000, 0xFFFFF000u);
	publish(0);
	needs_reset(true);
}

/* 20 buffers of 240 MiB each, all inside RAM: more than 4 GiB in one chain. */
static void huge_chain(void)
{
	const unsigned n = 20;

	if (mini_ram_end < (1u << 20) + (240u << 20))
		fail(ST_BAD_ARG, "case=huge-chain needs 256 MiB of RAM (--mem 256M)");
	request(VIRTIO_BLK_T_IN, 0);
	put(tables[0], 0, ADDR(&H.hdr), sizeof(H.hdr), VRING_DESC_F_NEXT, 1);
	for (unsigned i = 1; i <= n; i++)
		put(tables[0], i, 1u << 20, 240u << 20, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
		    (uint16_t)(i + 1));
	put(tables[0], n + 1, ADDR(&H.status), 1, VRING_DESC_F_WRITE, 0);
	put(direct(), 0, ADDR(tables[0]), (n + 2) * sizeof(struct vring_desc),
	    VRING_DESC_F_INDIRECT, 0);
	publish(0);
	needs_reset(true);
}

/* --disk FILE,ro: every request that would change the image fails; the script checksums it. */
static void write_ro(void)
{
	struct virtio_blk_discard_write_zeroes seg = {.sector = 0, .num_sectors = 8, .flags = 0};

	if (!(B.v.offered & (1ull << VIRTIO_BLK_F_RO)))
		fail(ST_UNSUITABLE, "case=write-ro needs a read-only disk (--disk FILE,ro)");
	memset(buf, 0xAB, sizeof(buf));
	expect("write", blk_do_req(0, "write", VIRTIO_BLK_T_OUT, 0, buf, 4096), VIRTIO_BLK_S_IOERR);
	expect("write zeroes",
	       blk_do_req(0, "write zeroes", VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, sizeof(seg)),
	       VIRTIO_BLK_S_IOERR);
	expect("discard", blk_do_req(0, "discard", VIRTIO_BLK_T_DISCARD, 0, &seg, sizeof(seg)),
	       VIRTIO_BLK_S_IOERR);
	expect("read", blk_do_req(0, "read", VIRTIO_BLK_T_IN, 0, buf, 4096), VIRTIO_BLK_S_OK);
	alive("writes to a read-only disk");
}

/* RESET_DEPTH reads and writes in flight, then a reset at once: once device_status reads 0
 * nothing may land in the rings or the read buffers any more (§2.4, §4.1.4.3.2). */
static void reset_inflight(void)
{
	for (unsigned round = 0; round < RESET_ROUNDS; round++) {
		for (unsigned s = 0; s < RESET_DEPTH; s++) {
			memset(blk_data[s], (int)(round + s), LOAD_BYTES);
			blk_submit(0, s, s & 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, s * 8 + round,
				   blk_data[s], LOAD_BYTES);
		}
		B.v.ops->notify(&B.v, &B.q[0]);
		reset();
		uint16_t u0 = used_idx();

		for (unsigned s = 0; s < RESET_DEPTH; s += 2)
			memset(blk_data[s], 0xCC, LOAD_BYTES);
		for (uint64_t t0 = rdtsc(), n = 0; rdtsc() - t0 < QUIET_TSC && n < WAIT_TURNS; n++)
			cpu_relax();
		if (used_idx() != u0)
			fail(ST_HOSTILE, "round %u: used idx moved from %u to %u after the reset",
			     round, u0, used_idx());
		for (unsigned s = 0; s < RESET_DEPTH; s += 2)
			for (unsigned i = 0; i < LOAD_BYTES; i++)
				if (blk_data[s][i] != 0xCC)
					fail(ST_HOSTILE,
					     "round %u: read buffer %u written after the reset",
					     round, s);
		virtio_start(&B.v, B.q, B.nq, B.want, B.need, B.irq, B.qsize);
	}
	kprintf("hostile: %u resets with %u requests in flight: nothing landed after them\n",
		RESET_ROUNDS, RESET_DEPTH);
}

/* Large reads in flight when a broken chain makes the device need a reset; the driver resets
 * at once. Once device_status reads 0, no read may land any more: the last byte of each buffer,
 * written by the driver after the reset, must stay (a device that lets its IO thread run on
 * past the reset fails here). */
static void error_inflight(void)
{
	const uint32_t len = 1u << 20;
	uint64_t at = 16u << 20;
	uint8_t st;

	if (mini_ram_end < at + RESET_DEPTH * (uint64_t)len || B.capacity * 512 < len)
		fail(ST_BAD_ARG, "case=error-inflight needs 32 MiB of RAM and a 1 MiB disk");
	for (unsigned s = 0; s < RESET_DEPTH; s++)
		blk_submit(0, s, VIRTIO_BLK_T_IN, 0, (void *)(uintptr_t)(at + s * len), len);
	request(VIRTIO_BLK_T_OUT, 0);
	put(direct(), 60, ADDR(&H.hdr), sizeof(H.hdr), VRING_DESC_F_NEXT, 61);
	put(direct(), 61, ADDR(buf), 512, VRING_DESC_F_NEXT, 60);
	publish(60);
	for (uint64_t t0 = rdtsc(), n = 0; !((st = status()) & VIRTIO_CONFIG_S_NEEDS_RESET); n++)
		if (rdtsc() - t0 > WAIT_TSC || n > WAIT_TURNS)
			fail(ST_HOSTILE, "device_status stays 0x%x: no DEVICE_NEEDS_RESET", st);
	reset();
	uint16_t u0 = used_idx();

	for (unsigned s = 0; s < RESET_DEPTH; s++)
		*(volatile uint8_t *)(uintptr_t)(at + s * len + len - 1) = 0xCC;
	for (uint64_t t0 = rdtsc(), n = 0; rdtsc() - t0 < QUIET_TSC && n < WAIT_TURNS; n++)
		cpu_relax();
	for (unsigned s = 0; s < RESET_DEPTH; s++)
		if (*(volatile uint8_t *)(uintptr_t)(at + s * len + len - 1) != 0xCC)
			fail(ST_HOSTILE, "read %u landed after the reset", s);
	if (used_idx() != u0)
		fail(ST_HOSTILE, "used idx moved from %u to %u after the reset", u0, used_idx());
	kprintf("hostile: %u reads of 1 MiB in flight at DEVICE_NEEDS_RESET: none landed after "
		"the reset\n",
		RESET_DEPTH);
}

/* §3.1.1: features the device never offered. Modern: FEATURES_OK must not stick, and DRIVER_OK
 * anyway makes the device need a reset; legacy (no FEATURES_OK): DRIVER_OK does. */
static void features_unoffered(void)
{
	uint64_t extra = 1ull << VIRTIO_BLK_F_MQ | (modern() ? 1ull << 41 : 0), offered;

	reset();
	set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	offered = B.v.ops->get_features(&B.v);
	if (offered & extra)
		fail(ST_UNSUITABLE, "the device offers 0x%lx: pick other bits", offered & extra);
	B.v.ops->set_features(&B.v, (offered & (B.want | B.need)) | extra);
	if (modern()) {
		set_status(B.v.status | VIRTIO_CONFIG_S_FEATURES_OK);
		if (status() & VIRTIO_CONFIG_S_FEATURES_OK)
			fail(ST_HOSTILE, "FEATURES_OK stuck with unoffered bits 0x%lx", extra);
		kprintf("hostile: FEATURES_OK refused for bits 0x%lx\n", extra);
	}
	set_status(B.v.status | VIRTIO_CONFIG_S_DRIVER_OK);
	needs_reset(false);
}

/* MSI-X: writes past the table (into the gap and the PBA, up to the BAR's end) and narrow
 * writes into it change nothing; a vector past the table reads back as NO_VECTOR. */
static void msix_range(void)
{
	uint64_t base = B.msix.table.base;
	uint32_t before[8], first = B.msix.nvec * PCI_MSIX_ENTRY_SIZE;

	if (B.irq != IRQ_MSIX)
		fail(ST_BAD_ARG, "case=msix-range needs irq=msix");
	for (unsigned i = 0; i < 8; i++)
		before[i] = mmio_read32(base + i * 4);
	for (uint32_t off = first; off < 4096; off += 4)
		mmio_write32(base + off, 0xFFFFFFFFu);
	mmio_write8(base + PCI_MSIX_ENTRY_DATA, 0x77);
	mmio_write16(base + PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_DATA, 0x7777);
	for (unsigned i = 0; i < 8; i++)
		if (mmio_read32(base + i * 4) != before[i])
			fail(ST_HOSTILE, "MSI-X table dword %u changed: 0x%x -> 0x%x", i, before[i],
			     mmio_read32(base + i * 4));
	uint16_t v = B.v.ops->set_config_vector(&B.v, (uint16_t)(B.msix.nvec + 7));

	if (v != VIRTIO_MSI_NO_VECTOR)
		fail(ST_HOSTILE, "config vector %u past the table reads back %u", B.msix.nvec + 7,
		     v);
	kprintf("hostile: writes at 0x%x-0xfff of the MSI-X BAR and narrow writes ignored; vector "
		"%u reads NO_VECTOR\n",
		first, B.msix.nvec + 7);
	alive("MSI-X writes out of range");
}

/* Flips the read-only bits (mask) of a config dword; they must read back unchanged. */
static void pci_ro(uint8_t off, uint32_t mask)
{
	uint32_t v = pci_read32(&B.pci, off), got;

	pci_write32(&B.pci, off, v ^ mask);
	got = pci_read32(&B.pci, off);
	if ((got ^ v) & mask)
		fail(ST_HOSTILE, "PCI config 0x%02x: read-only bits 0x%x changed: 0x%x -> 0x%x",
		     off, mask, v, got);
}

static void common_ro(uint32_t off, unsigned width)
{
	uint32_t v = width == 4	  ? region_read32(&B.v.common, off)
		     : width == 2 ? region_read16(&B.v.common, off)
				  : region_read8(&B.v.common, off),
		 got;

	if (width == 4)
		region_write32(&B.v.common, off, ~v);
	else if (width == 2)
		region_write16(&B.v.common, off, (uint16_t)~v);
	else
		region_write8(&B.v.common, off, (uint8_t)~v);
	got = width == 4   ? region_read32(&B.v.common, off)
	      : width == 2 ? region_read16(&B.v.common, off)
			   : region_read8(&B.v.common, off);
	if (got != v)
		fail(ST_HOSTILE, "common config 0x%02x changed: 0x%x -> 0x%x", off, v, got);
}

/* Read-only fields of PCI config space, the virtio capabilities, the common and the device
 * configuration, written with their bits flipped. */
static void config_ro(void)
{
	uint8_t vndr = pci_find_cap(&B.pci, PCI_CAP_ID_VNDR, 0);
	uint8_t msix = pci_find_cap(&B.pci, PCI_CAP_ID_MSIX, 0);
	static const uint32_t dev_cfg[] = {0, 4, 12, 20}; /* capacity, seg_max, blk_size */

	pci_ro(PCI_VENDOR_ID, ~0u);
	pci_ro(PCI_CLASS_REVISION, ~0u);
	pci_ro(PCI_CACHE_LINE_SIZE, 0xFFu << 16); /* header type */
	pci_ro(PCI_SUBSYSTEM_VENDOR_ID, ~0u);
	pci_ro(PCI_CAPABILITY_LIST, 0xFF);
	pci_ro(PCI_INTERRUPT_LINE, 0xFFFFFF00u); /* pin, min_gnt, max_lat; the line is writable */
	pci_ro(PCI_BASE_ADDRESS_2, ~0u);	 /* not implemented: stays 0 */
	for (uint8_t c = vndr; c; c = pci_find_cap(&B.pci, PCI_CAP_ID_VNDR, c)) {
		if (pci_read8(&B.pci, (uint8_t)(c + 3)) == VIRTIO_PCI_CAP_PCI_CFG)
			continue; /* its bar, offset, length and data are the driver's */
		for (uint8_t d = 0; d < 16; d += 4)
			pci_ro((uint8_t)(c + d), ~0u);
	}
	if (msix) {
		pci_ro(msix, 0x07FFFFFFu); /* id, next, table size; not enable, mask-all */
		pci_ro((uint8_t)(msix + PCI_MSIX_TABLE), ~0u);
		pci_ro((uint8_t)(msix + PCI_MSIX_PBA), ~0u);
	}
	for (unsigned i = 0; i < sizeof(dev_cfg) / sizeof(dev_cfg[0]); i++) {
		uint32_t v = B.v.ops->config_read32(&B.v, dev_cfg[i]), got;

		B.v.ops->config_write(&B.v, dev_cfg[i], ~v, 4);
		got = B.v.ops->config_read32(&B.v, dev_cfg[i]);
		if (got != v)
			fail(ST_HOSTILE, "device config 0x%x changed: 0x%x -> 0x%x", dev_cfg[i], v,
			     got);
	}
	if (modern()) {
		region_write32(&B.v.common, VIRTIO_PCI_COMMON_DFSELECT, 0);
		common_ro(VIRTIO_PCI_COMMON_DF, 4);
		common_ro(VIRTIO_PCI_COMMON_NUMQ, 2);
		common_ro(VIRTIO_PCI_COMMON_CFGGENERATION, 1);
		common_ro(VIRTIO_PCI_COMMON_Q_NOFF, 2);
	} else {
		uint32_t f = region_read32(&B.v.legacy, VIRTIO_PCI_HOST_FEATURES);

		region_write32(&B.v.legacy, VIRTIO_PCI_HOST_FEATURES, ~f);
		if (region_read32(&B.v.legacy, VIRTIO_PCI_HOST_FEATURES) != f)
			fail(ST_HOSTILE, "legacy host features took a write");
	}
	kprintf("hostile: read-only PCI, capability, common and device config fields held\n");
	alive("writes to read-only fields");
}

// clang-format off: one case a line
static const struct hostile_case {
	const char *name;
	void (*run)(void);
} cases[] = {
    {"desc-loop", desc_loop},
    {"chain-long", chain_long},
    {"head-range", head_range},
    {"indirect-nested", indirect_nested},
    {"indirect-long", indirect_long},
    {"addr-outside", addr_outside},
    {"addr-straddle", addr_straddle},
    {"ring-straddle", ring_straddle},
    {"queue-size", queue_size},
    {"notify-unset", notify_unset},
    {"avail-jump", avail_jump},
    {"sector-past", sector_past},
    {"huge-len", huge_len},
    {"huge-chain", huge_chain},
    {"write-ro", write_ro},
    {"reset-inflight", reset_inflight},
    {"error-inflight", error_inflight},
    {"features-unoffered", features_unoffered},
    {"msix-range", msix_range},
    {"config-ro", config_ro},
};
// clang-format on

void hostile_run(const struct mini_args *a)
{
	const struct hostile_case *c = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) && !c; i++)
		if (a->hcase && strlen(cases[i].name) == a->hcase_len &&
		    !memcmp(cases[i].name, a->hcase, a->hcase_len))
			c = &cases[i];
	if (!c) {
		kprintf("test=hostile: case= is one of:");
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			kprintf(" %s", cases[i].name);
		kprintf("\n");
		mini_exit(ST_BAD_ARG);
	}
	blk_setup(a);
	mark("hostile start");
	c->run();
	mark("hostile recover");
	recover();
	kprintf("hostile: %s: ok: the device answered per spec and works after a reset\n", c->name);
	mini_exit(ST_OK);
}
