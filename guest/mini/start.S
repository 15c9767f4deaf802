/*
 * guest/mini/start.S - the two ways into mini.elf, both ending in mini_main(bp, pvh):
 *   _start     kvmscope's boot contract: 64-bit long mode, paging on, RSI = zero page;
 *   pvh_start  QEMU's PVH entry (-kernel mini.elf): 32-bit flat protected mode, paging off,
 *              EBX = hvm_start_info; lets the same guest drive QEMU's virtio-blk for comparison.
 */
#include "longmode.h"

#define CODE32 0x08
#define CODE64 0x10 /* the contract's CS */
#define DATA 0x18   /* the contract's DS/ES/SS/FS/GS */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .text.entry, "ax"
	.code64
	.globl _start
	.type _start, @function
_start:
	cli
	lea	stack_top(%rip), %rsp
	mov	%rsi, %r12		/* zero page, first argument of mini_main */
	xor	%r13d, %r13d
	/* the loader zero-fills p_memsz; do it again so a stale .bss can never change a result */
	lea	__bss_start(%rip), %rdi
	lea	__bss_end(%rip), %rcx
	sub	%rdi, %rcx
	xor	%eax, %eax
	rep stosb
	jmp	common64

	.code32
	.globl pvh_start
	.type pvh_start, @function
pvh_start:
	cli
	mov	%ebx, %esi		/* hvm_start_info, kept in ESI across rep stosb */
	lgdt	gdt_desc
	ljmp	$CODE32, $1f
1:	mov	$DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
	/* identity map of 4 GiB with 2 MiB pages, as kvmscope's contract promises */
	movl	$pvh_pdpt + 3, pvh_pml4	/* present | writable */
	mov	$pvh_pd + 3, %eax
	mov	$pvh_pdpt, %edi
	mov	$4, %ecx
2:	mov	%eax, (%edi)
	add	$4096, %eax
	add	$8, %edi
	loop	2b
	mov	$0x83, %eax		/* present | writable | 2 MiB page */
	mov	$pvh_pd, %edi
	mov	$2048, %ecx
3:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	3b
	mov	$pvh_pml4, %eax
	LONG_MODE_ON
	ljmp	$CODE64, $pvh64

	.code64
pvh64:
	lea	stack_top(%rip), %rsp
	xor	%r12d, %r12d
	mov	%esi, %r13d		/* zero-extends: hvm_start_info is below 4 GiB */

	.type common64, @function	/* named, so that traced guest stacks end in common64+N */
common64:
	/* our own GDT: the loader's may not be in guest memory, and iretq reloads SS from it */
	lgdt	gdt_desc(%rip)
	pushq	$CODE64
	lea	1f(%rip), %rax
	pushq	%rax
	lretq
1:	mov	$DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	mov	%r12, %rdi
	mov	%r13, %rsi
	xor	%ebp, %ebp		/* the end of the frame-pointer chain kvmscope's trace walks */
	call	mini_main
4:	cli
	hlt
	jmp	4b

	.section .data
	.balign 16
gdt:	.quad	0
	.quad	0x00cf9b000000ffff	/* 0x08: 32-bit code, PVH entry only (accessed bit preset) */
	.quad	0x00af9b000000ffff	/* 0x10: 64-bit code */
	.quad	0x00cf93000000ffff	/* 0x18: data */
gdt_end:
	.balign 8
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt

	.section .bss
	.balign 4096
pvh_pml4:	.skip 4096
pvh_pdpt:	.skip 4096
pvh_pd:		.skip 4 * 4096
	.balign 16
stack:		.skip 16384
stack_top:

	/* QEMU finds the PVH entry point in this note (Xen's ELF note ABI, also used by Linux) */
	.section .note.Xen, "a", @note
	.balign 4
	.long	4, 4, XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.balign 4
	.long	pvh_start

	.section .note.GNU-stack, "", @progbits
