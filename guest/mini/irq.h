/* guest/mini/irq.h - IDT, local APIC, IOAPIC and 8259 for the three irq= modes. */
#ifndef MINI_IRQ_H
#define MINI_IRQ_H

#include "mini.h"

#define VEC_QUEUE    0x30 /* MSI-X entry 1: virtqueue 0 */
#define VEC_CONFIG   0x31 /* MSI-X entry 0: configuration change */
#define VEC_INTX     0x32 /* the IOAPIC pin of the device's INTx line */
#define VEC_SPURIOUS 0xFF /* LAPIC spurious vector: never EOIed */
/* MSI-X entry 1 + q: virtqueue q (queues=); queue 0 keeps VEC_QUEUE. */
#define VEC_QUEUE_N(q) ((q) ? 0x40 + (q) : VEC_QUEUE)
#define IRQ_QUEUES     4 /* queues counted apart (VQ_QUEUES) */

#define LAPIC_BASE  0xFEE00000u
#define IOAPIC_BASE 0xFEC00000u

/* Counted by the handler; volatile because the waiting loops read them. irq_queue_count counts
 * every queue interrupt, irq_vq_count[q] those of queue q's MSI-X vector (INTx cannot tell). */
extern volatile uint32_t irq_queue_count, irq_config_count, irq_vq_count[IRQ_QUEUES];
/* test=emu: a #BP while expected is counted and returns, instead of failing ST_EXCEPTION. */
extern volatile uint32_t irq_bp_count;
extern volatile bool irq_bp_expected;

/* Loads the IDT: from here on any exception prints its vector and RIP and exits ST_EXCEPTION. */
void idt_init(void);
/* Software-enables the local APIC; fails ST_IRQ_SETUP if there is none. Returns its APIC id. */
uint8_t lapic_init(void);
/* Masks both 8259s: INTx must come through the IOAPIC only. */
void pic_mask(void);
/* Level-triggered, active-low route of a GSI to a vector on this CPU; fails ST_IRQ_SETUP. */
void ioapic_route(unsigned gsi, uint8_t vector, uint8_t apic_id);
/* The INTx handler calls this to read (and so clear) the device's ISR register. */
void irq_set_isr_reader(uint8_t (*read_isr)(void *ctx), void *ctx);

static inline void irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

#endif
