/* guest/mini/irq.c - interrupt handling: IDT, LAPIC (SDM vol. 3 ch. 11), IOAPIC (82093AA). */
#include <linux/virtio_pci.h>

#include "io.h"
#include "irq.h"

#define LAPIC_ID	     0x20
#define LAPIC_VERSION	     0x30
#define LAPIC_TPR	     0x80
#define LAPIC_EOI	     0xB0
#define LAPIC_SVR	     0xF0
#define LAPIC_SVR_ENABLE     0x100
#define MSR_APIC_BASE	     0x1B
#define MSR_APIC_BASE_ENABLE (1u << 11)

#define IOAPIC_REGSEL	     0x00
#define IOAPIC_WIN	     0x10
#define IOAPIC_VER	     0x01
#define IOAPIC_REDTBL(n)     (0x10 + 2 * (n))
#define IOAPIC_POLARITY_LOW  (1u << 13)
#define IOAPIC_TRIGGER_LEVEL (1u << 15)
#define IOAPIC_MASKED	     (1u << 16)

#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1

#define KERNEL_CS      0x10
#define GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate: IF off in handlers */

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __attribute__((packed));

/* What isr.S pushes, lowest address first. */
struct irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

extern const char isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
volatile uint32_t irq_queue_count, irq_config_count, irq_bp_count, irq_vq_count[IRQ_QUEUES];
volatile bool irq_bp_expected;
static uint8_t (*isr_reader)(void *ctx);
static void *isr_ctx;

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)idt};

	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)(isr_stubs + 16 * v);

		idt[v] = (struct idt_gate){
		    .off_lo = (uint16_t)a,
		    .sel = KERNEL_CS,
		    .type = GATE_INTERRUPT,
		    .off_mid = (uint16_t)(a >> 16),
		    .off_hi = (uint32_t)(a >> 32),
		};
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

uint8_t lapic_init(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
	if ((lo & 0xFFFFF000u) != LAPIC_BASE || hi)
		fail(ST_IRQ_SETUP, "local APIC base is 0x%x%08x, not 0x%x", hi, lo, LAPIC_BASE);
	if (!(lo & MSR_APIC_BASE_ENABLE)) {
		lo |= MSR_APIC_BASE_ENABLE;
		__asm__ volatile("wrmsr" : : "a"(lo), "d"(hi), "c"(MSR_APIC_BASE));
	}
	uint32_t ver = lapic_read(LAPIC_VERSION);

	/* An integrated APIC has version 0x1X; all ones or zero means no LAPIC is emulated. */
	if ((ver & 0xF0) != 0x10)
		fail(ST_IRQ_SETUP, "no local APIC (version register 0x%x)", ver);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
	return (uint8_t)(lapic_read(LAPIC_ID) >> 24);
}

void pic_mask(void)
{
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
}

static uint32_t ioapic_read(uint8_t reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
}

static void ioapic_write(uint8_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

void ioapic_route(unsigned gsi, uint8_t vector, uint8_t apic_id)
{
	uint32_t ver = ioapic_read(IOAPIC_VER);
	unsigned max = (ver >> 16) & 0xFF; /* highest redirection entry */

	if (ver == 0xFFFFFFFFu || gsi > max)
		fail(ST_IRQ_SETUP, "GSI %u: IOAPIC version 0x%x has entries 0-%u", gsi, ver, max);
	/* destination first, while the entry is still masked; then unmask with the vector */
	ioapic_write((uint8_t)IOAPIC_REDTBL(gsi), IOAPIC_MASKED);
	ioapic_write((uint8_t)(IOAPIC_REDTBL(gsi) + 1), (uint32_t)apic_id << 24);
	ioapic_write((uint8_t)IOAPIC_REDTBL(gsi),
		     IOAPIC_TRIGGER_LEVEL | IOAPIC_POLARITY_LOW | vector);
}

void irq_set_isr_reader(uint8_t (*read_isr)(void *ctx), void *ctx)
{
	isr_ctx = ctx;
	isr_reader = read_isr;
}

void irq_dispatch(struct irq_frame *f)
{
	if (f->vector == 3 && irq_bp_expected) {
		irq_bp_count++; /* a trap: the saved RIP is already past the int3 */
		return;
	}
	if (f->vector < 32) {
		uint64_t cr2;

		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		fail(ST_EXCEPTION, "exception %lu error 0x%lx at rip 0x%lx (cr2 0x%lx, rsp 0x%lx)",
		     f->vector, f->error, f->rip, cr2, f->rsp);
	}
	/* A queue's MSI-X vector: VEC_QUEUE for queue 0, VEC_QUEUE_N(q) for the others. */
	unsigned q = f->vector == VEC_QUEUE ? 0
		     : f->vector >= VEC_QUEUE_N(1) && f->vector < VEC_QUEUE_N(IRQ_QUEUES)
			 ? (unsigned)(f->vector - VEC_QUEUE_N(1) + 1)
			 : IRQ_QUEUES;

	if (q < IRQ_QUEUES) {
		irq_vq_count[q]++;
		irq_queue_count++;
		lapic_write(LAPIC_EOI, 0);
		return;
	}
	switch (f->vector) {
	case VEC_CONFIG:
		irq_config_count++;
		break;
	case VEC_INTX: {
		/* Reading ISR deasserts the line (virtio 1.2 §4.1.4.5): do it before the EOI,
		 * or the level-triggered IOAPIC entry fires again at once. */
		uint8_t isr = isr_reader ? isr_reader(isr_ctx) : 0;

		if (isr & 1) /* queue interrupt */
			irq_queue_count++;
		if (isr & VIRTIO_PCI_ISR_CONFIG)
			irq_config_count++;
		break;
	}
	case VEC_SPURIOUS:
		return; /* SDM vol. 3, "Spurious Interrupt": not EOIed */
	default:
		fail(ST_EXCEPTION, "unexpected interrupt vector 0x%lx at rip 0x%lx", f->vector,
		     f->rip);
	}
	lapic_write(LAPIC_EOI, 0);
}
