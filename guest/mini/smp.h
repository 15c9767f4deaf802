/* guest/mini/smp.h - test=smp: the application processors' start (ap.S, smp.c). */
#ifndef MINI_SMP_H
#define MINI_SMP_H

/* The real-mode page the APs start in: SIPI vector 0x08 means CS 0x0800, IP 0. Below the
 * kvmscope boot contract's page tables (0x9000) and above its zero page (0x7000). */
#define AP_TRAMP_ADDR 0x8000
#define AP_SIPI_VEC   (AP_TRAMP_ADDR >> 12)

#ifndef __ASSEMBLER__
#include "mini.h"

/* ap.S: the trampoline, copied to AP_TRAMP_ADDR; the BSP fills in its CR3 and each AP's stack
 * at the offsets of ap_tramp_cr3 and ap_tramp_stack. It ends in ap_main() in long mode. */
extern const char ap_tramp[], ap_tramp_end[], ap_tramp_cr3[], ap_tramp_stack[];
__attribute__((noreturn)) void ap_main(void);
/* The test, called by blk.c once the device is up; returns when every CPU is done. */
void smp_test(const struct mini_args *a, uint64_t capacity);
/* test=smp-reset: the same work after count resets written while CPU 1 reads. */
void smp_reset_test(const struct mini_args *a, uint64_t capacity);
/* test=smp-halt: never returns; the run ends when the VMM sees every CPU halted. */
__attribute__((noreturn)) void smp_halt_run(const struct mini_args *a);
#endif

#endif
