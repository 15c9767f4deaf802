/* guest/mini/spin.c - test=spin: how a software KVM runs guest kernel code. The same 3-instruction
 * loop, count= turns, timed with the TSC, four ways: at the guest's own (low) address and at an
 * alias in the top 2 GiB where a Linux kernel lives, each with interrupts on and off. On hardware
 * KVM all four take about a TSC tick per instruction. kvm_pvm runs the first three through its
 * instruction emulator (docs/platform.md). Markers put each part in kvmscope's trace. */
#include "irq.h"
#include "mini.h"

#define SPIN_INSNS 3			   /* add, dec, jnz */
#define HIGH_ALIAS 0xffffffff80000000ULL /* -2 GiB: PML4 slot 511, PDPT slot 510 */
#define PTE_P	   0x1ULL
#define PTE_W	   0x2ULL
#define PTE_PS	   0x80ULL /* 2 MiB page in a PD entry */

static uint64_t alias_pdpt[512] __attribute__((aligned(4096)));
static uint64_t alias_pd[512] __attribute__((aligned(4096)));

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* TSC ticks for n >= 1 turns of the loop. Position independent: it also runs from the alias. */
__attribute__((noinline)) static uint64_t spin(uint64_t n)
{
	uint64_t acc = 0, t0 = rdtsc();

	__asm__ volatile("1:\n\tadd %1, %0\n\tdec %1\n\tjnz 1b" : "+r"(acc), "+r"(n) : : "cc");
	return rdtsc() - t0;
}

/* Maps the first GiB again at HIGH_ALIAS, in the page tables we run on (identity mapped by both
 * boot paths, so the PML4's address is usable as is). */
static void map_high_alias(void)
{
	uint64_t cr3, *pml4;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(uintptr_t)(cr3 & ~0xfffULL);
	for (uint64_t i = 0; i < 512; i++)
		alias_pd[i] = (i << 21) | PTE_P | PTE_W | PTE_PS;
	alias_pdpt[510] = (uintptr_t)alias_pd | PTE_P | PTE_W;
	pml4[511] = (uintptr_t)alias_pdpt | PTE_P | PTE_W;
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/* Runs fn(n) with interrupts on or off, between a marker and the next; ticks per 1000 insns. */
static uint64_t timed(uint64_t (*fn)(uint64_t), uint64_t n, bool irqs_on, const char *marker)
{
	uint64_t t;

	mark(marker);
	if (irqs_on)
		irq_enable();
	t = fn(n);
	irq_disable();
	return t * 1000 / (n * SPIN_INSNS);
}

__attribute__((noreturn)) void spin_run(const struct mini_args *a)
{
	uint64_t n = a->count ? a->count : 1, r[4];
	uint64_t (*high)(uint64_t);

	map_high_alias();
	high = (uint64_t(*)(uint64_t))(HIGH_ALIAS + (uintptr_t)spin);
	r[0] = timed(spin, n, true, "spin low on");
	r[1] = timed(spin, n, false, "spin low off");
	r[2] = timed(high, n, true, "spin high on");
	r[3] = timed(high, n, false, "spin high off");
	mark("spin done");
	kprintf("spin: %lu turns of %d instructions, TSC ticks per 1000 instructions:\n"
		"spin: low address, irqs on %lu, irqs off %lu; high alias, irqs on %lu, irqs off %lu\n",
		(unsigned long)n, SPIN_INSNS, (unsigned long)r[0], (unsigned long)r[1],
		(unsigned long)r[2], (unsigned long)r[3]);
	mini_exit(ST_OK);
}
