/* guest/mini/main.c - C entry of the test guest: greeting, command line, then one test. */
#include <asm/bootparam.h>

#include "irq.h"
#include "mini.h"
#include "smp.h"

#define PVH_MAGIC 0x336ec578 /* XEN_HVM_START_MAGIC_VALUE, hvm_start_info.magic */
#define PVH_CMDLINE_OFF                                                                            \
	0x18 /* hvm_start_info.cmdline_paddr (xen/include/public/arch-x86/hvm/start_info.h) */

/* The command line: kvmscope's zero page (hdr.cmd_line_ptr), or QEMU's PVH start info. */
static const char *find_cmdline(const struct boot_params *bp, const uint32_t *pvh)
{
	if (bp)
		return (const char *)(uintptr_t)bp->hdr.cmd_line_ptr;
	if (pvh && pvh[0] == PVH_MAGIC)
		return (const char *)(uintptr_t) *
		       (const uint64_t *)((const char *)pvh + PVH_CMDLINE_OFF);
	return NULL;
}

uint64_t mini_ram_end;

/* The end of the e820 RAM entry that holds this program (1 MiB up): below it is all RAM. */
static uint64_t find_ram_end(const struct boot_params *bp)
{
	for (unsigned i = 0; bp && i < bp->e820_entries && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];

		if (e->type == 1 /* E820_RAM */ && e->addr <= 0x100000 &&
		    e->addr + e->size > 0x100000)
			return e->addr + e->size;
	}
	return 0;
}

/* Called by start.S with the zero page (kvmscope) or the PVH start info (QEMU), the other NULL. */
__attribute__((noreturn)) void mini_main(const struct boot_params *bp, const uint32_t *pvh)
{
	struct mini_args a;
	const char *cmdline = find_cmdline(bp, pvh);

	idt_init(); /* first: any exception from here on is reported, not a triple fault */
	mini_ram_end = find_ram_end(bp);
	kprintf("kvmscope mini guest: hello\n");
	if (args_parse(cmdline, &a))
		mini_exit(ST_BAD_ARG);
	switch (a.test) {
	case TEST_NONE:
		break;
	case TEST_BLK:
	case TEST_LOAD:
	case TEST_SMP:
	case TEST_SMP_RESET:
		blk_run(&a);
	case TEST_EMU:
		emu_run();
	case TEST_SPIN:
		spin_run(&a);
	case TEST_PCIDUMP:
		blk_pcidump();
	case TEST_SMP_HALT:
		smp_halt_run(&a);
	case TEST_HOSTILE:
		hostile_run(&a);
	case TEST_HALT:
		/* As Linux ends a power-off without ACPI: the VMM must notice on its own. */
		kprintf("halt: cli; hlt\n");
		for (;;)
			__asm__ volatile("cli\n\thlt");
	}
	kprintf("kvmscope mini guest: exit %u\n", a.exit);
	mini_exit((int)a.exit);
}
