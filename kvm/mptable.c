/* kvm/mptable.c - an Intel MultiProcessor Specification 1.4 table: with no ACPI, this is how
 * Linux learns the IOAPIC and which IOAPIC pin each ISA IRQ and PCI interrupt pin reaches. */
#include <errno.h>
#include <string.h>

#include "kvm/internal.h"

#define MP_BUS_PCI   0
#define MP_BUS_ISA   1

struct mp_floating {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mp_config {
	char signature[4]; /* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8], productid[12];
	uint32_t oemptr;
	uint16_t oemsize, count;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mp_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mp_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

static uint8_t checksum(const void *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return (uint8_t)-sum;
}

struct writer {
	uint8_t *p, *end;
	uint16_t count;
	bool full;
};

static void *put(struct writer *w, const void *entry, size_t len)
{
	void *at = w->p;

	if (w->p + len > w->end) {
		w->full = true;
		return NULL;
	}
	memcpy(w->p, entry, len);
	w->p += len;
	w->count++;
	return at;
}

/* irqflag 0 = "conforms to the bus": edge/high for ISA, level/low for PCI. */
static void put_intsrc(struct writer *w, uint8_t type, uint8_t kind, uint8_t bus, uint8_t busirq,
		       uint8_t apic, uint8_t pin)
{
	struct mp_intsrc e = {type, kind, 0, bus, busirq, apic, pin};
	put(w, &e, sizeof(e));
}

/* CPU i has APIC id i (KVM's vCPU id is the initial APIC id); the IOAPIC takes the next id. */
int mptable_write(void *buf, uint64_t gpa, int nr_cpus, const struct pci_irq_route *pci,
		  int nr_pci)
{
	struct mp_floating *mpf = buf;
	struct mp_config *mpc = (void *)(mpf + 1);
	struct writer w = {.p = (uint8_t *)(mpc + 1), .end = (uint8_t *)buf + 0x10000};
	uint8_t ioapic_id = (uint8_t)nr_cpus;
	struct mp_bus pcibus = {MP_BUS, MP_BUS_PCI, "PCI   "};
	struct mp_bus isabus = {MP_BUS, MP_BUS_ISA, "ISA   "};
	struct mp_ioapic ioapic = {MP_IOAPIC, ioapic_id, 0x11, 1, (uint32_t)GUEST_IOAPIC_BASE};

	if (nr_cpus < 1 || nr_cpus > 254) /* 255 is the broadcast APIC id */
		return -EINVAL;
	memset(buf, 0, sizeof(*mpf) + sizeof(*mpc));
	for (int i = 0; i < nr_cpus; i++) {
		/* cpuflag: bit 0 enabled, bit 1 the boot processor; signature/features of a P6 */
		struct mp_cpu cpu = {MP_PROCESSOR, (uint8_t)i, 0x14, i == 0 ? 0x3 : 0x1, 0x600,
				     0x201, {0}};
		put(&w, &cpu, sizeof(cpu));
	}
	put(&w, &pcibus, sizeof(pcibus));
	put(&w, &isabus, sizeof(isabus));
	put(&w, &ioapic, sizeof(ioapic));
	/* ISA IRQs reach the IOAPIC pin of the same number (KVM's default routing); 2 is the
	 * cascade. */
	for (uint8_t irq = 0; irq < 16; irq++)
		if (irq != 2)
			put_intsrc(&w, MP_INTSRC, MP_INT, MP_BUS_ISA, irq, ioapic_id, irq);
	/* A PCI source IRQ is (slot << 2) | (pin - 1). */
	for (int i = 0; i < nr_pci; i++)
		put_intsrc(&w, MP_INTSRC, MP_INT, MP_BUS_PCI,
			   (uint8_t)(pci[i].slot << 2 | (pci[i].pin - 1)), ioapic_id,
			   pci[i].gsi);
	put_intsrc(&w, MP_LINTSRC, MP_EXTINT, MP_BUS_ISA, 0, 0xff, 0);
	put_intsrc(&w, MP_LINTSRC, MP_NMI, MP_BUS_ISA, 0, 0xff, 1);
	if (w.full)
		return -ENOSPC;

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = (uint16_t)(w.p - (uint8_t *)mpc);
	mpc->spec = 4;
	memcpy(mpc->oem, "KVMSCOPE", 8);
	memcpy(mpc->productid, "0.1         ", 12);
	mpc->count = w.count;
	mpc->lapic = (uint32_t)GUEST_LAPIC_BASE;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(gpa + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;
}
