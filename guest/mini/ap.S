/*
 * guest/mini/ap.S - where an application processor starts after INIT-SIPI-SIPI (SDM vol. 3
 * §8.4.4): real mode at AP_TRAMP_ADDR. It goes straight to long mode (PAE, the BSP's page
 * tables, EFER.LME, then PE and PG in one write to CR0) with a GDT of its own in the same page,
 * and calls ap_main() on the stack the BSP left at ap_tramp_stack. Copied there by smp.c.
 */
#include "longmode.h"
#include "smp.h"

#define CODE64 0x10
#define DATA   0x18
#define AT(sym) (AP_TRAMP_ADDR + ((sym) - ap_tramp)) /* where sym is once copied */

	.section .text
	.code16
	.globl ap_tramp, ap_tramp_end, ap_tramp_cr3, ap_tramp_stack
ap_tramp:
	cli
	cld
	mov	%cs, %ax		/* 0x0800: offsets below are from the page's start */
	mov	%ax, %ds
	lgdtl	tr_gdtr - ap_tramp
	movl	ap_tramp_cr3 - ap_tramp, %eax
	LONG_MODE_ON			/* compatibility mode until the far jump */
	.byte	0x66, 0xea		/* ljmpl $CODE64, $AT(tr_long) */
	.long	AT(tr_long)
	.word	CODE64

	.code64
tr_long:
	mov	$DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	AT(ap_tramp_stack), %rsp
	xor	%ebp, %ebp		/* the end of the frame-pointer chain */
	movabs	$ap_main, %rax
	call	*%rax
1:	cli
	hlt
	jmp	1b

	.balign 8
tr_gdt:	.quad	0
	.quad	0
	.quad	0x00af9b000000ffff	/* 0x10: 64-bit code */
	.quad	0x00cf93000000ffff	/* 0x18: data */
tr_gdtr:
	.word	tr_gdtr - tr_gdt - 1
	.long	AT(tr_gdt)
	.balign 8
ap_tramp_cr3:
	.long	0
	.balign 8
ap_tramp_stack:
	.quad	0
ap_tramp_end:

	.section .note.GNU-stack, "", @progbits
