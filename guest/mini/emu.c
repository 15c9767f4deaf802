/* guest/mini/emu.c - test=emu: the instructions a software KVM (kvm_pvm) fails to emulate and
 * kvmscope completes itself (kvm/emulate.c). On hardware KVM they simply run; either way each
 * must leave the state the SDM describes. */
#include "irq.h"
#include "mini.h"

#define CR4_OSFXSR     (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define MXCSR_DEFAULT  0x1f80
#define MXCSR_TEST     0x1fc0 /* default plus DAZ: a value no reset would give */

__attribute__((noreturn)) void emu_run(void)
{
	uint64_t cr4;
	uint32_t mxcsr_in = MXCSR_TEST, mxcsr_out = 0;
	uint32_t bps;

	mark("emu");
	/* SSE state must be enabled for ldmxcsr/stmxcsr, as an OS does at boot. */
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));

	/* fwait and fnclex with nothing pending: no-ops that must not fault. */
	__asm__ volatile("fninit\n\tfwait\n\tfnclex\n\tfwait" : : : "memory");

	/* ldmxcsr from memory through a SIB + disp8 operand, as Linux's kernel_fpu_begin has it. */
	uint64_t index = 16;
	uintptr_t base = (uintptr_t)&mxcsr_in - 8 - index; /* an address, never dereferenced in C */
	__asm__ volatile("ldmxcsr 8(%0,%1,1)" : : "r"(base), "r"(index), "m"(mxcsr_in) : "memory");
	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr_out));
	if (mxcsr_out != MXCSR_TEST)
		fail(ST_EMU, "ldmxcsr 0x%x read back as 0x%x", mxcsr_in, mxcsr_out);

	/* int3 is a trap: the handler runs once, then execution goes on after it. */
	bps = irq_bp_count;
	irq_bp_expected = true;
	__asm__ volatile("int3" : : : "memory");
	irq_bp_expected = false;
	if (irq_bp_count != bps + 1)
		fail(ST_EMU, "int3 reached the #BP handler %u times", irq_bp_count - bps);

	kprintf("emu: ok: fwait, fnclex, ldmxcsr (0x%x), int3\n", mxcsr_out);
	mini_exit(ST_OK);
}
