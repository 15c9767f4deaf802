/*
 * guest/mini/isr.S - one 16-byte stub per vector (IDT entry v -> isr_stubs + 16 * v), all
 * funnelled into irq_dispatch(frame): every vector is caught, so a stray one is reported by
 * number instead of ending in a triple fault.
 */
	.altmacro
	.macro STUB v
	.balign 16
	/* the CPU pushes an error code for these exceptions only (SDM vol. 3, "Exception and Interrupt Reference") */
	.if !(\v == 8 || (\v >= 10 && \v <= 14) || \v == 17 || \v == 21 || \v == 29 || \v == 30)
	pushq	$0
	.endif
	pushq	$\v
	jmp	isr_common
	.endm

	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	STUB %vec
	.set vec, vec + 1
	.endr

/* Frame for C (struct irq_frame in irq.c): r15 ... rax, vector, error, rip, cs, rflags, rsp, ss. */
isr_common:
	push	%rax
	push	%rcx
	push	%rdx
	push	%rbx
	push	%rbp
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	/* 15 registers + vector + error + 5-word CPU frame = 22 words: RSP stays 16-byte aligned */
	call	irq_dispatch
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rbp
	pop	%rbx
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp		/* vector and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
