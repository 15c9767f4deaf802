/*
 * guest/mini/smp.c - test=smp: find the CPUs in the VMM's MP table (Intel MP spec 1.4), start
 * each application processor with INIT-SIPI-SIPI through the local APIC, and have every CPU
 * write, read back and check its own sectors; CPU i uses queue i % queues=, a lock per queue
 * serializing the CPUs that share one. Passes when every CPU started and completed all its
 * requests. test=smp-halt: the boot CPU halts with interrupts off while the APs still run for a
 * while, then halt too: the VMM must wait for the last one (its halt check looks at every vCPU).
 * test=smp-reset: the boot CPU resets the device while CPU 1 has reads in flight (below).
 */
#include <linux/virtio_blk.h>

#include "blk.h"
#include "io.h"
#include "irq.h"
#include "pattern.h"
#include "smp.h"
#include "virtio.h"

#define MAX_CPUS     8
#define AP_STACK     16384
#define CHUNK	     4096 /* one request: 8 sectors */
#define CHUNK_SECT   (CHUNK / PATTERN_SECTOR_SIZE)
#define LAPIC_ID     0x20
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_INIT     0x00004500u /* INIT, level assert */
#define ICR_STARTUP  0x00004600u /* start-up IPI; the low byte is the vector (page number) */
#define ICR_PENDING  (1u << 12)
#define START_TSC    2000000000ull /* bounded waits, as blk.c's (the TSC rate is unknown) */
#define DONE_TSC     20000000000ull

struct cpu {
	uint8_t apic_id;
	volatile bool started, done;
	volatile uint32_t requests; /* completed and checked */
};

static struct cpu cpus[MAX_CPUS];
static unsigned nr_cpus;
static volatile unsigned ap_next; /* the index the starting AP takes */
static void (*ap_work)(unsigned i);
static volatile int queue_lock[VQ_QUEUES]; /* [0] also keeps smp-halt's lines whole */
static const struct mini_args *args;
static uint8_t ap_stacks[MAX_CPUS][AP_STACK] __attribute__((aligned(16)));
static uint8_t bufs[MAX_CPUS][CHUNK] __attribute__((aligned(4096)));

static void lock(unsigned qi)
{
	while (__atomic_exchange_n(&queue_lock[qi], 1, __ATOMIC_ACQUIRE))
		while (queue_lock[qi])
			cpu_relax();
}

static void unlock(unsigned qi)
{
	__atomic_store_n(&queue_lock[qi], 0, __ATOMIC_RELEASE);
}

static uint8_t sum(const uint8_t *p, unsigned n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* The first 16-byte aligned SIG in [from, to) whose first sumlen bytes sum to 0, or NULL. */
static const uint8_t *find_sig(uintptr_t from, uintptr_t to, const char *sig, unsigned sumlen)
{
	for (uintptr_t a = from; a + sumlen <= to; a += 16)
		if (!memcmp((const void *)a, sig, strlen(sig)) && !sum((const void *)a, sumlen))
			return (const uint8_t *)a;
	return NULL;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Where the CPUs were listed, for the messages. */
static const char *cpu_table = "the MP table";

/* One more AP to start; the boot CPU (slot 0) is not added again. */
static void add_cpu(uint8_t apic_id)
{
	if (apic_id != cpus[0].apic_id && nr_cpus < MAX_CPUS)
		cpus[nr_cpus++].apic_id = apic_id;
}

/* The processor entries of the MP table in the BIOS area: APIC ids, the boot CPU first. */
static void mp_find_cpus(uint8_t me)
{
	const uint8_t *mpf = find_sig(0xF0000, 0x100000, "_MP_", 16);

	if (!mpf)
		fail(ST_SMP, "no ACPI MADT and no MP floating pointer in 0xF0000-0xFFFFF");
	const uint8_t *mpc = (const uint8_t *)(uintptr_t)le32(mpf + 4);
	uint16_t len = *(const uint16_t *)(mpc + 4);

	if (memcmp(mpc, "PCMP", 4) || sum(mpc, len))
		fail(ST_SMP, "MP configuration table at %p: bad signature or checksum", mpc);
	bool bsp = false;
	for (const uint8_t *e = mpc + 44; e < mpc + len; e += e[0] == 0 ? 20 : 8) {
		if (e[0] != 0 || !(e[3] & 1)) /* a processor, enabled */
			continue;
		if (e[3] & 2) {
			if (e[1] != me)
				fail(ST_SMP, "the boot CPU's APIC id is %u, the MP table says %u",
				     me, e[1]);
			bsp = true;
		} else {
			add_cpu(e[1]);
		}
	}
	if (!bsp)
		fail(ST_SMP, "the MP table names no boot processor");
}

/* ACPI 6.5 §5.2.5.1: the RSDP in the EBDA's first KiB (its segment at 0x40E) or in
 * 0xE0000-0xFFFFF; then the RSDT (32-bit entries) or, from revision 2, the XSDT (64-bit). The
 * MADT ("APIC", §5.2.12) among them, or NULL: no ACPI (kvmscope gives none). */
static const uint8_t *acpi_madt(void)
{
	uint16_t seg;

	memcpy(&seg, (const void *)0x40E, 2); /* the BIOS data area's EBDA segment */
	uintptr_t ebda = (uintptr_t)seg << 4;
	const uint8_t *rsdp = ebda ? find_sig(ebda, ebda + 1024, "RSD PTR ", 20) : NULL;

	if (!rsdp)
		rsdp = find_sig(0xE0000, 0x100000, "RSD PTR ", 20);
	if (!rsdp)
		return NULL;
	bool x = rsdp[15] >= 2 && le64(rsdp + 24);
	const uint8_t *sdt = (const uint8_t *)(uintptr_t)(x ? le64(rsdp + 24) : le32(rsdp + 16));
	uint32_t len = le32(sdt + 4), step = x ? 8 : 4;

	if (memcmp(sdt, x ? "XSDT" : "RSDT", 4) || sum(sdt, len))
		fail(ST_SMP, "ACPI %s at %p: bad signature or checksum", x ? "XSDT" : "RSDT", sdt);
	for (uint32_t o = 36; o + step <= len; o += step) {
		const uint8_t *t =
			(const uint8_t *)(uintptr_t)(x ? le64(sdt + o) : le32(sdt + o));

		if (!memcmp(t, "APIC", 4) && !sum(t, le32(t + 4)))
			return t;
	}
	return NULL;
}

/* The MADT's enabled Processor Local APIC entries (type 0, §5.2.12.2), as an OS with ACPI reads
 * them: the MADT does not mark the boot CPU, so this CPU is the one whose id its APIC reports.
 * Preferred to the MP table, as Linux does: SeaBIOS lists only the first logical CPU of each
 * package there (one CPU for QEMU's default -smp 2, two cores in one socket). */
static bool madt_find_cpus(uint8_t me)
{
	const uint8_t *madt = acpi_madt();

	if (!madt)
		return false;
	uint32_t len = le32(madt + 4);
	bool found = false;
	for (const uint8_t *e = madt + 44; e + 2 <= madt + len; e += e[1]) {
		if (e[1] < 2)
			fail(ST_SMP, "ACPI MADT at %p: an entry of length %u", madt, e[1]);
		if (e[0] != 0 || !(le32(e + 4) & 1)) /* a processor local APIC, enabled */
			continue;
		found |= e[3] == me;
		add_cpu(e[3]);
	}
	if (!found)
		fail(ST_SMP, "the boot CPU's APIC id %u is not in the ACPI MADT", me);
	cpu_table = "the ACPI MADT";
	return true;
}

/* Every CPU's APIC id, this one (the boot CPU) in slot 0: ACPI's MADT where there is one,
 * else the MP table. */
static void find_cpus(void)
{
	uint8_t me = (uint8_t)(mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24);

	cpus[0].apic_id = me;
	nr_cpus = 1;
	if (!madt_find_cpus(me))
		mp_find_cpus(me);
}

static void ipi(uint8_t apic_id, uint32_t icr)
{
	mmio_write32(LAPIC_BASE + LAPIC_ICR_HI, (uint32_t)apic_id << 24);
	mmio_write32(LAPIC_BASE + LAPIC_ICR_LO, icr);
	while (mmio_read32(LAPIC_BASE + LAPIC_ICR_LO) & ICR_PENDING)
		cpu_relax();
}

static bool wait_flag(volatile bool *flag, uint64_t tsc)
{
	uint64_t t0 = rdtsc();

	for (uint64_t spins = 0; !*flag; spins++) {
		if (rdtsc() - t0 > tsc || spins > tsc / 4)
			return false;
		cpu_relax();
	}
	return true;
}

/* INIT, then a start-up IPI, and a second one if the first was not seen (as the SDM's
 * universal algorithm sends two). One AP at a time: they share the trampoline's stack slot. */
static void start_ap(unsigned i)
{
	uint64_t *stack = (uint64_t *)(AP_TRAMP_ADDR + (ap_tramp_stack - ap_tramp));

	*stack = (uint64_t)(uintptr_t)(ap_stacks[i] + AP_STACK);
	ap_next = i;
	ipi(cpus[i].apic_id, ICR_INIT);
	for (int sipi = 0; sipi < 2 && !cpus[i].started; sipi++) {
		ipi(cpus[i].apic_id, ICR_STARTUP | AP_SIPI_VEC);
		wait_flag(&cpus[i].started, START_TSC);
	}
	if (!cpus[i].started)
		fail(ST_SMP, "CPU %u (APIC id %u) did not start after INIT-SIPI-SIPI", i,
		     cpus[i].apic_id);
}

/* Each CPU's own sectors: CPU i writes chunks [i * count, (i + 1) * count) after sector=. */
static void expect(unsigned i, const char *what, uint8_t st, uint64_t s)
{
	if (st != VIRTIO_BLK_S_OK)
		fail(ST_REQ_STATUS, "CPU %u: %s at sector %lu: status %u", i, what, s, st);
	cpus[i].requests++;
}

static void work(unsigned i)
{
	uint8_t *buf = bufs[i];
	uint32_t seed = args->seed + i;
	unsigned qi = i % B.nq;

	for (uint32_t c = 0; c < args->count; c++) {
		uint64_t s = args->sector + ((uint64_t)i * args->count + c) * CHUNK_SECT;

		for (unsigned k = 0; k < CHUNK_SECT; k++)
			pattern_fill(buf + k * PATTERN_SECTOR_SIZE, s + k, seed);
		lock(qi);
		expect(i, "write", blk_do_req(qi, "write", VIRTIO_BLK_T_OUT, s, buf, CHUNK), s);
		unlock(qi);
		memset(buf, 0xEE, CHUNK);
		lock(qi);
		expect(i, "read", blk_do_req(qi, "read", VIRTIO_BLK_T_IN, s, buf, CHUNK), s);
		unlock(qi);
		for (unsigned k = 0; k < CHUNK_SECT; k++)
			for (unsigned b = 0; b < PATTERN_SECTOR_SIZE; b++)
				if (buf[k * PATTERN_SECTOR_SIZE + b] !=
				    pattern_byte(s + k, b, seed))
					fail(ST_MISMATCH, "CPU %u: sector %lu byte %u differs", i,
					     s + k, b);
	}
	cpus[i].done = true;
}

void ap_main(void)
{
	unsigned i = ap_next;

	idt_init(); /* the same table as the boot CPU's: exceptions are reported, not fatal */
	if ((uint8_t)(mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24) != cpus[i].apic_id)
		fail(ST_SMP, "CPU %u started with APIC id %u, expected %u", i,
		     (uint8_t)(mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24), cpus[i].apic_id);
	cpus[i].started = true;
	ap_work(i);
	for (;;) /* done: wait, interrupts off, for the boot CPU to end the run */
		__asm__ volatile("cli\n\thlt");
}

/* Every AP found (find_cpus() first) started into work(i); fails with why if one
 * does not start. Needs at least two CPUs. */
static void start_aps(void (*work)(unsigned i))
{
	uint64_t cr3;

	if (nr_cpus < 2)
		fail(ST_UNSUITABLE, "%s lists 1 CPU (run with --smp 2 or more)", cpu_table);
	kprintf("smp: %u CPUs in %s; starting the APs\n", nr_cpus, cpu_table);
	lapic_init(); /* a software-disabled local APIC sends no IPI (irq=poll never enabled it) */
	memcpy((void *)AP_TRAMP_ADDR, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	*(uint32_t *)(AP_TRAMP_ADDR + (ap_tramp_cr3 - ap_tramp)) = (uint32_t)cr3;
	mark("smp start");
	ap_work = work;
	for (unsigned i = 1; i < nr_cpus; i++)
		start_ap(i);
	cpus[0].started = true;
}

/* The CPUs of test=smp (and smp-reset), found, and their sectors checked against the disk. */
static void smp_prepare(const struct mini_args *a, uint64_t capacity, const char *test)
{
	args = a;
	find_cpus();
	blk_irq_wait_long();
	if (a->sector + (uint64_t)nr_cpus * a->count * CHUNK_SECT > capacity)
		fail(ST_UNSUITABLE,
		     "test=%s: %u CPUs x count=%u x 4 KiB from sector %lu do not fit "
		     "%lu sectors",
		     test, nr_cpus, a->count, a->sector, capacity);
}

/* The boot CPU's share of work(), then every AP's awaited. */
static void work_all(void)
{
	work(0);
	for (unsigned i = 1; i < nr_cpus; i++)
		if (!wait_flag(&cpus[i].done, DONE_TSC))
			fail(ST_SMP, "CPU %u did %u requests and did not finish", i,
			     cpus[i].requests);
	mark("smp done");
}

static void print_requests(void)
{
	for (unsigned i = 0; i < nr_cpus; i++)
		kprintf(" %u", cpus[i].requests);
}

void smp_test(const struct mini_args *a, uint64_t capacity)
{
	smp_prepare(a, capacity, "smp");
	start_aps(work);
	work_all();
	kprintf("smp: ok: %u CPUs started, requests per CPU:", nr_cpus);
	print_requests();
	kprintf("; on %u queue(s)", B.nq);
	for (unsigned qi = 0; B.nq > 1 && B.irq == IRQ_MSIX && qi < B.nq; qi++)
		kprintf("%s%u", qi ? " " : ", interrupts per queue: ", irq_vq_count[qi]);
	kprintf("\n");
}

/* --- test=smp-reset: CPU 0 resets the device while CPU 1 keeps reads in flight on its queue,
 * count times; after each, nothing may land in CPU 1's request (virtio 1.2 §2.4.1: once
 * device_status reads 0 the device has let go of every buffer), and the device serves again
 * after the handshake. Then every CPU does test=smp's work. --- */
#define RESET_KICKS 64		 /* notifies of the reset queue, from a driver that missed it */
#define QUIET_TSC   100000000ull /* then long enough for a stray completion to land */

static volatile unsigned reset_go, reset_done, ap_round; /* rounds, counted from 1 */
static volatile uint32_t ap_reads;			 /* CPU 1's completed reads */

/* CPU 1's data before the device wrote it: the 0xEE the driver fills it with. */
static bool untouched(const uint8_t *buf)
{
	for (unsigned k = 0; k < 8; k++)
		if (buf[k] != 0xEE)
			return false;
	return true;
}

/* The APs of test=smp-reset: CPU 1 reads on its queue, one request at a time, until CPU 0 says
 * it reset the device; then it notifies the old queue a few more times. */
static void reset_ap(unsigned i)
{
	unsigned qi = i % B.nq;
	uint8_t *buf = bufs[i];
	uint16_t head;
	uint32_t len;

	for (unsigned r = 1; i == 1 && r <= args->count; r++) {
		while (reset_go != r)
			cpu_relax();
		while (reset_done != r) {
			memset(buf, 0xEE, CHUNK);
			blk_submit(qi, qi, VIRTIO_BLK_T_IN, args->sector, buf, CHUNK);
			vq_kick(&B.v, &B.q[qi]);
			while (reset_done != r && !vq_get_used(&B.q[qi], &head, &len))
				cpu_relax();
			if (reset_done != r)
				ap_reads++;
		}
		for (unsigned k = 0; k < RESET_KICKS; k++)
			B.v.ops->notify(&B.v, &B.q[qi]);
		ap_round = r;
	}
	while (reset_go != args->count + 1)
		cpu_relax();
	work(i);
}

static void spin_until(volatile unsigned *v, unsigned want, const char *what, unsigned r)
{
	uint64_t t0 = rdtsc();

	for (uint64_t spins = 0; *v != want; spins++) {
		if (rdtsc() - t0 > DONE_TSC || spins > DONE_TSC / 4)
			fail(ST_SMP, "smp-reset round %u: %s", r, what);
		cpu_relax();
	}
}

/* One round on CPU 0: CPU 1 reading, the reset, the check; returns whether CPU 1's request was
 * still outstanding when device_status read 0. */
static bool reset_round(unsigned r)
{
	unsigned qi = 1 % B.nq;
	uint32_t before = ap_reads;
	uint64_t t0 = rdtsc();
	uint8_t st;

	reset_go = r;
	/* After each handshake the queue serves again: a few of CPU 1's reads come back. */
	for (uint64_t spins = 0; ap_reads < before + 3; spins++)
		if (rdtsc() - t0 > DONE_TSC || spins > DONE_TSC / 4)
			fail(ST_TIMEOUT, "smp-reset round %u: CPU 1's queue %u served %u reads", r,
			     qi, ap_reads - before);
	B.v.status = 0;
	B.v.ops->set_status(&B.v, 0);
	for (uint64_t spins = 0; (st = B.v.ops->get_status(&B.v)) != 0; spins++)
		if (spins > DONE_TSC / 4)
			fail(ST_RESET, "device_status reads 0x%x after reset", st);
	/* What the device had written of CPU 1's request when it let go. */
	uint8_t status = reqs[qi].status;
	bool data = untouched(bufs[1]);

	reset_done = r;
	spin_until(&ap_round, r, "CPU 1 did not see the reset", r);
	t0 = rdtsc();
	while (rdtsc() - t0 < QUIET_TSC)
		cpu_relax();
	if ((status == 0xFF && reqs[qi].status != 0xFF) || (data && !untouched(bufs[1])))
		fail(ST_AFTER_RESET,
		     "smp-reset round %u: CPU 1's request on queue %u was written after "
		     "device_status read 0 (status 0x%x then 0x%x, data %s)",
		     r, qi, status, reqs[qi].status, data && !untouched(bufs[1]) ? "too" : "not");
	return status == 0xFF;
}

void smp_reset_test(const struct mini_args *a, uint64_t capacity)
{
	unsigned outstanding = 0;

	smp_prepare(a, capacity, "smp-reset");
	start_aps(reset_ap);
	for (unsigned r = 1; r <= a->count; r++) {
		if (r > 1)
			virtio_start(&B.v, B.q, B.nq, B.want, B.need, B.irq, B.qsize);
		outstanding += reset_round(r);
	}
	virtio_start(&B.v, B.q, B.nq, B.want, B.need, B.irq, B.qsize);
	kprintf("smp-reset: %u resets while CPU 1 read on queue %u (%u with its read outstanding); "
		"nothing written after any\n",
		a->count, 1 % B.nq, outstanding);
	reset_go = a->count + 1;
	work_all();
	kprintf("smp-reset: ok: after the last reset, requests per CPU:");
	print_requests();
	kprintf("\n");
}

/* An AP of test=smp-halt: busy for count million TSC ticks, then halted for good. */
static void spin_then_halt(unsigned i)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < (uint64_t)args->count * 1000000)
		cpu_relax();
	lock(0); /* one line at a time on the console */
	kprintf("smp-halt: CPU %u halts too\n", i);
	unlock(0);
}

void smp_halt_run(const struct mini_args *a)
{
	args = a;
	find_cpus();
	start_aps(spin_then_halt);
	lock(0);
	kprintf("smp-halt: CPU 0 halts with interrupts off; %u other CPU(s) still run\n",
		nr_cpus - 1);
	unlock(0);
	for (;;)
		__asm__ volatile("cli\n\thlt");
}
