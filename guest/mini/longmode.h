/* guest/mini/longmode.h - the step into long mode that both non-64-bit entries take: QEMU's PVH
 * entry (start.S, from 32-bit protected mode) and an AP's (ap.S, from real mode). Assembler only.
 * LONG_MODE_ON: CR3 = EAX (the page tables), CR4.PAE, EFER.LME, then CR0.PG | CR0.PE in one write;
 * the CPU is then in compatibility mode until a far jump to a 64-bit code segment. */
#ifndef MINI_LONGMODE_H
#define MINI_LONGMODE_H

.macro LONG_MODE_ON
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$0x20, %eax		/* CR4.PAE */
	mov	%eax, %cr4
	mov	$0xC0000080, %ecx	/* EFER */
	rdmsr
	or	$0x100, %eax		/* EFER.LME */
	wrmsr
	mov	%cr0, %eax
	or	$0x80000001, %eax	/* CR0.PG | CR0.PE */
	mov	%eax, %cr0
.endm

#endif
