/*
 * guest/mini/blk.c - the virtio-blk driver tests: test=blk walks steps 1-5 of
 * docs/mini-guest.md once and checks every answer; test=load keeps depth= random 4 KiB reads
 * in flight to time the VMM's per-request cost.
 */
#include <linux/virtio_blk.h>
#include <linux/virtio_pci.h>

#include "blk.h"
#include "irq.h"
#include "pattern.h"
#include "smp.h"
#include "virtio.h"

#define VIRTIO_VENDOR	    0x1AF4
#define ID_TRANSITIONAL_BLK 0x1001
#define ID_MODERN_BLK	    0x1042 /* 0x1040 + VIRTIO_ID_BLOCK (§4.1.2.1) */
#define MSI_ADDRESS	    0xFEE00000u
#define CHUNK_SECTORS	    8 /* test=blk: 4 KiB per request */
/* Bounded waits in TSC ticks (the TSC rate is unknown here: 10^10 is 3-10 s at 1-3 GHz). */
#define SPIN_TSC      10000000000ull
#define IRQ_GRACE_TSC 1000000000ull
#define SPIN_MAX      4000000000ull  /* and in loop turns, in case the TSC does not move */
#define HOLD_TSC      (6 * SPIN_TSC) /* hold=1: 20-60 s */
#define HOLD_TURNS    (6 * SPIN_MAX)

struct blkdev B;
struct blk_req reqs[MAX_DEPTH];
uint8_t blk_data[MAX_DEPTH][LOAD_BYTES] __attribute__((aligned(4096)));

static uint8_t isr_reader(void *ctx)
{
	struct vdev *v = ctx;

	return v->ops->read_isr(v);
}

/* Step 1: the first virtio-blk function on bus 0, transitional or modern. */
static void blk_find(struct pci_dev *d)
{
	static const uint16_t ids[] = {ID_TRANSITIONAL_BLK, ID_MODERN_BLK};

	if (!pci_find(VIRTIO_VENDOR, ids, 2, d))
		fail(ST_NO_DEVICE, "no %04x:%04x or %04x:%04x on bus 0", VIRTIO_VENDOR, ids[0],
		     VIRTIO_VENDOR, ids[1]);
}

__attribute__((noreturn)) void blk_pcidump(void)
{
	struct pci_dev d;

	blk_find(&d);
	pci_dump(&d);
	mini_exit(ST_OK);
}

/* Steps 1-4: find the device, size its BARs, wire up interrupts, handshake. */
void blk_setup(const struct mini_args *a)
{
	uint64_t want = 1ull << VIRTIO_BLK_F_FLUSH, need = 0;

	B.irq = a->irq;
	B.nq = a->queues;
	if (B.nq < 1)
		fail(ST_BAD_ARG, "queues=0: at least one queue");
	mark("pci scan");
	blk_find(&B.pci);
	pci_size_bars(&B.pci);
	pci_enable(&B.pci, a->irq == IRQ_INTX);
	B.v.pci = &B.pci;
	B.v.ops = a->transport == TRANSPORT_LEGACY ? &virtio_legacy_ops : &virtio_modern_ops;

	if (a->irq != IRQ_POLL)
		pic_mask(); /* KVM wires the 8259 to LINT0: its reset vectors would look like faults
			     */
	if (a->irq == IRQ_MSIX) {
		uint8_t apic = lapic_init();
		uint32_t addr = MSI_ADDRESS | (uint32_t)apic
						  << 12; /* fixed delivery, physical dest */

		msix_find(&B.pci, &B.msix);
		if (B.msix.nvec < 1 + B.nq)
			fail(ST_CAP, "MSI-X table has %u entries, need %u (queues=%u)", B.msix.nvec,
			     1 + B.nq, B.nq);
		msix_set_entry(&B.msix, 0, addr, VEC_CONFIG);
		for (unsigned i = 0; i < B.nq; i++)
			msix_set_entry(&B.msix, 1 + i, addr, VEC_QUEUE_N(i));
		msix_enable(&B.pci, &B.msix);
		B.v.msix = true; /* before probe: legacy registers move with it */
	} else if (a->irq == IRQ_INTX) {
		/* Interrupt Line 0xFF means "not connected" (PCI 3.0 §6.2.4) */
		if (!B.pci.irq_pin || B.pci.irq_line == 0xFF)
			fail(ST_IRQ_SETUP, "irq=intx but interrupt pin %u line %u", B.pci.irq_pin,
			     B.pci.irq_line);
		uint8_t apic = lapic_init();

		irq_set_isr_reader(isr_reader, &B.v);
		ioapic_route(B.pci.irq_line, VEC_INTX, apic);
	}
	B.v.ops->probe(&B.v);

	mark("handshake");
	if (a->transport == TRANSPORT_MODERN)
		need |= 1ull << VIRTIO_F_VERSION_1; /* §6.1: a modern driver must accept it */
	if (a->event_idx)
		need |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (a->writeback != 2)
		need |= 1ull << VIRTIO_BLK_F_CONFIG_WCE;
	if (a->packed)
		need |= 1ull << VIRTIO_F_RING_PACKED; /* bit 34: only a modern transport has it */
	if (a->in_order)
		need |= 1ull << VIRTIO_F_IN_ORDER; /* bit 35, likewise */
	if (B.nq > 1)
		need |= 1ull << VIRTIO_BLK_F_MQ; /* §5.2.3: more than one request queue */
	B.want = want;
	B.need = need;
	B.qsize = (uint16_t)a->qsize;
	virtio_start(&B.v, B.q, B.nq, want, need, a->irq, B.qsize);
	if (a->irq != IRQ_POLL)
		irq_enable();
	B.capacity = virtio_config_read64(&B.v, offsetof(struct virtio_blk_config, capacity));
	if (B.nq > 1) { /* §5.2.4: num_queues, a 16-bit field at 34, read as its aligned dword */
		uint32_t nq = B.v.ops->config_read32(&B.v, 32) >> 16;

		if (nq < B.nq)
			fail(ST_QUEUE, "queues=%u but the device's num_queues is %u", B.nq, nq);
		kprintf("blk: %u queues driven, the device has %u\n", B.nq, nq);
	}
	if (a->writeback != 2) { /* §5.2.5.2: 0 is writethrough, 1 writeback */
		uint32_t off = offsetof(struct virtio_blk_config, wce);

		B.v.ops->config_write(&B.v, off, a->writeback, 1);
		if ((B.v.ops->config_read32(&B.v, off) & 0xFF) != a->writeback)
			fail(ST_FEATURES, "the writeback field did not take %u", a->writeback);
		kprintf("blk: writeback %u (%s)\n", a->writeback,
			a->writeback ? "writeback" : "writethrough");
	}
	kprintf("blk: capacity %lu sectors, %s, irq=%s%s%s%s\n", B.capacity, B.v.ops->name,
		a->irq == IRQ_MSIX   ? "msix"
		: a->irq == IRQ_INTX ? "intx"
				     : "poll",
		B.q[0].event_idx ? ", event_idx" : "", B.q[0].packed ? ", packed ring" : "",
		B.q[0].in_order ? ", in order" : "");
}

void blk_submit(unsigned qi, unsigned slot, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	struct blk_req *r = &reqs[slot];
	struct vq_buf bufs[3];
	unsigned n = 0;
	uint16_t head;

	r->hdr = (struct virtio_blk_outhdr){.type = type, .ioprio = 0, .sector = sector};
	r->status = 0xFF; /* not a VIRTIO_BLK_S_* value: shows a device that never wrote it */
	/* §5.2.6: header (device-readable), data (device-writable for IN and GET_ID only: a write,
	 * discard or write-zeroes table is read by the device), status byte (device-writable) */
	bufs[n++] = (struct vq_buf){&r->hdr, sizeof(r->hdr), false};
	if (len)
		bufs[n++] = (struct vq_buf){buf, len,
					    type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID};
	bufs[n++] = (struct vq_buf){&r->status, 1, true};
	if (!vq_add(&B.q[qi], bufs, n, &head))
		fail(ST_QUEUE, "queue %u: no free descriptors for slot %u", qi, slot);
	B.head_slot[qi][head] = (uint16_t)slot;
}

/* A completion on queue qi if there is one: its slot. */
static bool try_used(unsigned qi, unsigned *slot, uint32_t *len)
{
	uint16_t head;

	if (!vq_get_used(&B.q[qi], &head, len))
		return false;
	*slot = B.head_slot[qi][head];
	return true;
}

/* The next completion on queue *qi, or with any set on any queue (looked at in turn from *qi),
 * within the bounded spin; returns its slot and leaves its queue in *qi. */
static unsigned wait_used(unsigned *qi, bool any, const char *what, uint32_t *len)
{
	unsigned slot;
	uint64_t t0 = rdtsc();

	for (uint64_t spins = 0; !try_used(*qi, &slot, len); spins++) {
		struct vq *q = &B.q[*qi];

		if (rdtsc() - t0 > SPIN_TSC || spins > SPIN_MAX)
			fail(ST_TIMEOUT,
			     "%s: queue %u: used idx stays %u, avail idx %u, device_status 0x%x",
			     what, *qi, q->last_used, q->avail_idx, B.v.ops->get_status(&B.v));
		if (any)
			*qi = (*qi + 1) % B.nq;
		cpu_relax();
	}
	return slot;
}

/* The interrupts queue qi can be told by: its own MSI-X vector's, or any queue's with INTx
 * (the ISR does not say which queue). */
static uint32_t queue_irqs(unsigned qi)
{
	return B.irq == IRQ_MSIX ? irq_vq_count[qi] : irq_queue_count;
}

/* How long an owed interrupt may trail its completion: IRQ_GRACE_TSC, or with several CPUs the
 * whole SPIN_TSC (blk_irq_wait_long), since every interrupt goes to the boot CPU, whose vCPU a
 * loaded host may not run for a while (test=smp queues=2 saw 0.6 s). */
static uint64_t irq_grace_tsc = IRQ_GRACE_TSC;

void blk_irq_wait_long(void)
{
	irq_grace_tsc = SPIN_TSC;
}

/* An interrupt vq_arm() said is owed must come (it may trail the used ring). */
static void wait_irq(unsigned qi, uint32_t before, const char *what)
{
	uint64_t t0 = rdtsc();

	for (uint64_t spins = 0; queue_irqs(qi) == before; spins++) {
		if (rdtsc() - t0 > irq_grace_tsc || spins > SPIN_MAX / 10)
			fail(ST_NO_IRQ, "%s completed but no %s interrupt came for queue %u", what,
			     B.irq == IRQ_MSIX ? "MSI-X" : "INTx", qi);
		cpu_relax();
	}
}

uint8_t blk_do_req(unsigned qi, const char *what, uint32_t type, uint64_t sector, void *buf,
		   uint32_t len)
{
	uint32_t before = queue_irqs(qi), used_len;
	bool owed;

	blk_submit(qi, qi, type, sector, buf, len);
	owed = vq_arm(&B.q[qi]); /* before the kick: the device must see it when it completes */
	vq_kick(&B.v, &B.q[qi]);
	wait_used(&qi, false, what, &used_len);
	if (owed)
		wait_irq(qi, before, what);
	/* §2.7.8: len counts bytes written; a wrong one is worth seeing, not worth failing on */
	if (type == VIRTIO_BLK_T_IN && reqs[qi].status == VIRTIO_BLK_S_OK && used_len != len + 1)
		kprintf("blk: note: %s: used len %u, expected %u\n", what, used_len, len + 1);
	return reqs[qi].status;
}

static void expect_ok(const char *what, uint8_t status, uint64_t sector)
{
	if (status != VIRTIO_BLK_S_OK)
		fail(ST_REQ_STATUS, "%s at sector %lu: status %u", what, sector, status);
}

/* in_order=1: what the driver saw of VIRTIO_F_IN_ORDER; every buffer came back in order (the
 * checks are in vq_get_used), batches are spec-legal but kvmscope never writes one. */
static void in_order_report(void)
{
	uint32_t bufs = 0, batches = 0;

	if (!B.q[0].in_order)
		return;
	for (unsigned i = 0; i < B.nq; i++) {
		bufs += B.q[i].in_order_bufs;
		batches += B.q[i].in_order_batches;
	}
	kprintf("in_order: %u buffers used in the order made available, %u batched used entries\n",
		bufs, batches);
}

/* Step 5: pattern write, flush, read back and compare, GET_ID, read past the end. */
static void blk_test(const struct mini_args *a)
{
	uint64_t end = a->sector + a->sectors, s;
	uint8_t *buf = blk_data[0], st;
	bool flush = B.v.features & (1ull << VIRTIO_BLK_F_FLUSH);
	char id[VIRTIO_BLK_ID_BYTES + 1];

	if (B.v.offered & (1ull << VIRTIO_BLK_F_RO))
		fail(ST_UNSUITABLE, "device offers VIRTIO_BLK_F_RO: cannot write the pattern");
	if (end > B.capacity || end < a->sector)
		fail(ST_UNSUITABLE, "sectors %lu-%lu do not fit a capacity of %lu", a->sector,
		     end - 1, B.capacity);
	mark("io start");
	/* queues=N: chunk c is written on queue c % N and read back on the next queue, so each
	 * queue reads what another wrote. */
	for (s = a->sector; s < end; s += CHUNK_SECTORS) {
		uint32_t n = (uint32_t)(end - s < CHUNK_SECTORS ? end - s : CHUNK_SECTORS);
		unsigned qi = (unsigned)((s - a->sector) / CHUNK_SECTORS % B.nq);

		for (uint32_t k = 0; k < n; k++)
			pattern_fill(buf + k * PATTERN_SECTOR_SIZE, s + k, a->seed);
		expect_ok(
		    "write",
		    blk_do_req(qi, "write", VIRTIO_BLK_T_OUT, s, buf, n * PATTERN_SECTOR_SIZE), s);
	}
	/* A flush on each queue: it covers every write completed before it, on any queue. */
	for (unsigned qi = 0; flush && a->writeback != 0 && qi < B.nq; qi++)
		expect_ok("flush", blk_do_req(qi, "flush", VIRTIO_BLK_T_FLUSH, 0, NULL, 0), 0);
	if (a->hold) { /* for a kill -9 from the host: what the driver saw complete must be there */
		mark("written, holding");
		kprintf("blk: %u sectors written%s, holding\n", a->sectors,
			flush && a->writeback != 0 ? " and flushed" : " (writethrough)");
		/* bounded, like every wait here: a harness that never kills still gets its run back
		 */
		for (uint64_t t0 = rdtsc(), n = 0; rdtsc() - t0 < HOLD_TSC && n < HOLD_TURNS; n++)
			cpu_relax();
		fail(ST_TIMEOUT, "hold=1: nobody stopped the VM");
	}
	for (s = a->sector; s < end; s += CHUNK_SECTORS) {
		uint32_t n = (uint32_t)(end - s < CHUNK_SECTORS ? end - s : CHUNK_SECTORS);
		unsigned qi = (unsigned)((s - a->sector) / CHUNK_SECTORS + 1) % B.nq;

		memset(buf, 0xEE, n * PATTERN_SECTOR_SIZE); /* stale data must not pass the check */
		expect_ok("read",
			  blk_do_req(qi, "read", VIRTIO_BLK_T_IN, s, buf, n * PATTERN_SECTOR_SIZE),
			  s);
		for (uint32_t k = 0; k < n; k++)
			for (uint32_t i = 0; i < PATTERN_SECTOR_SIZE; i++) {
				uint8_t got = buf[k * PATTERN_SECTOR_SIZE + i];
				uint8_t want = pattern_byte(s + k, i, a->seed);

				if (got != want)
					fail(ST_MISMATCH,
					     "sector %lu byte %u: read 0x%02x, wrote 0x%02x", s + k,
					     i, got, want);
			}
	}
	for (unsigned qi = 0; qi < B.nq; qi++) {
		memset(id, 0, sizeof(id));
		st = blk_do_req(qi, "get_id", VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES);
		if (st != VIRTIO_BLK_S_OK || !id[0])
			fail(ST_GET_ID, "queue %u: status %u, id '%s'", qi, st, id);
	}
	/* a request beyond capacity must fail with IOERR, not wrap around or succeed */
	st = blk_do_req(B.nq - 1, "read past end", VIRTIO_BLK_T_IN, B.capacity, buf,
			PATTERN_SECTOR_SIZE);
	if (st != VIRTIO_BLK_S_IOERR)
		fail(ST_PAST_END, "read of sector %lu (capacity %lu) returned status %u",
		     B.capacity, B.capacity, st);
	mark("io done");
	kprintf("blk: ok: %u sectors at %lu seed %u written, %sread back; id '%s'; %u queue irqs",
		a->sectors, a->sector, a->seed, flush ? "flushed, " : "", id, irq_queue_count);
	for (unsigned qi = 0; B.nq > 1 && B.irq == IRQ_MSIX && qi < B.nq; qi++)
		kprintf("%s%u", qi ? " " : " (per queue: ", irq_vq_count[qi]);
	kprintf("%s\n", B.nq > 1 && B.irq == IRQ_MSIX ? ")" : "");
	in_order_report();
}

static uint64_t xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The next test=load request into slot: a random 4 KiB read; in order, every fourth a GET_ID,
 * which a device answers at once, ahead of reads still in flight before it. */
static void load_submit(unsigned qi, unsigned slot, uint32_t n, uint64_t *rng, uint64_t blocks)
{
	if (B.q[qi].in_order && n % 4 == 3)
		blk_submit(qi, slot, VIRTIO_BLK_T_GET_ID, 0, blk_data[slot], VIRTIO_BLK_ID_BYTES);
	else
		blk_submit(qi, slot, VIRTIO_BLK_T_IN, xorshift64(rng) % blocks * 8, blk_data[slot],
			   LOAD_BYTES);
}

/* Step 6: count random 4 KiB reads, depth of them in flight, refilled as they complete. */
static void load_test(const struct mini_args *a)
{
	uint64_t blocks = B.capacity / (LOAD_BYTES / PATTERN_SECTOR_SIZE),
		 rng = a->seed | 1ull << 32;
	uint32_t submitted = 0, done = 0, irq0 = irq_queue_count, len;
	unsigned depth = a->depth, qi = 0;
	uint32_t report = a->report ? a->report : UINT32_MAX;

	/* queues=N: slot s is queue s % N's, so each queue has depth / N of them (rounded up) */
	if (depth == 0 || depth > MAX_DEPTH || (depth + B.nq - 1) / B.nq * 3 > B.q[0].size)
		fail(ST_BAD_ARG, "depth=%u: need 1-%u and 3 descriptors each in %u queue(s) of %u",
		     depth, MAX_DEPTH, B.nq, B.q[0].size);
	if (!blocks)
		fail(ST_UNSUITABLE, "capacity %lu sectors is less than 4 KiB", B.capacity);
	mark("load start");
	uint64_t t0 = rdtsc();

	for (unsigned slot = 0; slot < depth && submitted < a->count; slot++, submitted++)
		load_submit(slot % B.nq, slot, submitted, &rng, blocks);
	for (unsigned i = 0; i < B.nq; i++) {
		vq_arm(&B.q[i]);
		vq_kick(&B.v, &B.q[i]);
	}
	while (done < a->count) {
		unsigned slot = wait_used(&qi, true, "load read", &len);
		bool refill = false;

		for (;;) {
			expect_ok("load read", reqs[slot].status, reqs[slot].hdr.sector);
			if (++done % report == 0)
				kprintf("load: %u reads\n",
					done); /* report=N: progress for a test */
			if (submitted < a->count) {
				load_submit(qi, slot, submitted, &rng, blocks);
				submitted++;
				refill = true;
			}
			if (!try_used(qi, &slot, &len))
				break;
		}
		if (refill) {
			vq_arm(&B.q[qi]); /* an interrupt at the next completion, as Linux asks */
			vq_kick(&B.v, &B.q[qi]); /* one kick per batch, as a real driver would */
		}
		qi = (qi + 1) % B.nq; /* then the other queues' turn */
	}
	uint64_t ticks = rdtsc() - t0;

	mark("load done");
	/* No interrupt during the load (the driver polled each completion before the device
	 * looked): one more request, whose interrupt is owed, shows they still work. */
	if (B.irq != IRQ_POLL && irq_queue_count == irq0)
		expect_ok(
		    "load: last read",
		    blk_do_req(0, "load: last read", VIRTIO_BLK_T_IN, 0, blk_data[0], LOAD_BYTES),
		    0);
	kprintf("load: %u reads done, depth %u, %lu tsc ticks (%lu per read), %u queue irqs\n",
		done, depth, ticks, done ? ticks / done : 0, irq_queue_count - irq0);
	in_order_report();
}

void blk_run(const struct mini_args *a)
{
	blk_setup(a);
	if (a->test == TEST_LOAD)
		load_test(a);
	else if (a->test == TEST_SMP)
		smp_test(a, B.capacity);
	else if (a->test == TEST_SMP_RESET)
		smp_reset_test(a, B.capacity);
	else
		blk_test(a);
	mini_exit(ST_OK);
}
