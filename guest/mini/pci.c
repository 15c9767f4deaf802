/* guest/mini/pci.c - configuration mechanism #1 (ports 0xCF8/0xCFC), BAR sizing, capabilities. */
#include <linux/pci_regs.h>

#include "pci.h"

#define PCI_CONFIG_ADDRESS	 0xCF8
#define PCI_CONFIG_DATA		 0xCFC
#define PCI_CONFIG_ENABLE	 0x80000000u
#define PCI_HEADER_MULTIFUNCTION 0x80
#define FOUR_GIB		 0x100000000ull /* end of the contract's identity map */

static void pci_select(const struct pci_dev *d, uint8_t off)
{
	outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | (uint32_t)d->bus << 16 |
				     (uint32_t)d->dev << 11 | (uint32_t)d->fn << 8 | (off & 0xFCu));
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
	pci_select(d, off);
	return inl(PCI_CONFIG_DATA);
}

/* Narrow accesses go to the byte lanes of 0xCFC, so the VMM sees the real access size. */
uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
	pci_select(d, off);
	return inw(PCI_CONFIG_DATA + (off & 2));
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
	pci_select(d, off);
	return inb(PCI_CONFIG_DATA + (off & 3));
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	pci_select(d, off);
	outl(PCI_CONFIG_DATA, v);
}

void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	pci_select(d, off);
	outw(PCI_CONFIG_DATA + (off & 2), v);
}

bool pci_find(uint16_t vendor, const uint16_t *ids, int nids, struct pci_dev *d)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		for (uint8_t fn = 0; fn < 8; fn++) {
			*d = (struct pci_dev){.bus = 0, .dev = dev, .fn = fn};
			uint32_t id = pci_read32(d, PCI_VENDOR_ID);

			if ((id & 0xFFFF) == 0xFFFF) {
				if (fn == 0)
					break; /* no device: do not probe functions 1-7 */
				continue;
			}
			d->vendor = (uint16_t)id;
			d->device = (uint16_t)(id >> 16);
			for (int i = 0; i < nids && d->vendor == vendor; i++) {
				if (d->device != ids[i])
					continue;
				d->irq_line = pci_read8(d, PCI_INTERRUPT_LINE);
				d->irq_pin = pci_read8(d, PCI_INTERRUPT_PIN);
				kprintf("pci: %02x:%02x.%u %04x:%04x irq line %u pin %u\n", d->bus,
					d->dev, d->fn, d->vendor, d->device, d->irq_line,
					d->irq_pin);
				return true;
			}
			if (fn == 0 && !(pci_read8(d, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION))
				break;
		}
	}
	return false;
}

/* Writes all ones, reads the size mask back, restores: PCI local bus 3.0 §6.2.5.1. */
static uint32_t bar_probe(const struct pci_dev *d, uint8_t off)
{
	uint32_t orig = pci_read32(d, off), mask;

	pci_write32(d, off, 0xFFFFFFFFu);
	mask = pci_read32(d, off);
	pci_write32(d, off, orig);
	return mask;
}

void pci_dump(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	kprintf("pcidump %02x:%02x.%u %04x:%04x\n", d->bus, d->dev, d->fn, d->vendor, d->device);
	for (unsigned row = 0; row < 256; row += 16) {
		uint32_t dw[4];

		for (unsigned i = 0; i < 4; i++)
			dw[i] = pci_read32(d, (uint8_t)(row + 4 * i));
		kprintf("pcidump %02x:", row);
		for (unsigned i = 0; i < 16; i++)
			kprintf(" %02x", (dw[i / 4] >> (8 * (i % 4))) & 0xFF);
		kprintf("\n");
	}
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < 6; i++) {
		uint8_t off = (uint8_t)(PCI_BASE_ADDRESS_0 + 4 * i);

		kprintf("pcidump sizing %02x: %08x\n", off, bar_probe(d, off));
	}
	pci_write16(d, PCI_COMMAND, cmd);
}

void pci_size_bars(struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	/* Decoding off while a BAR holds all ones, so it never claims addresses it does not own. */
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < 6; i++) {
		uint8_t off = (uint8_t)(PCI_BASE_ADDRESS_0 + 4 * i);
		uint32_t lo = pci_read32(d, off), mask = bar_probe(d, off);
		struct pci_bar *b = &d->bar[i];

		*b = (struct pci_bar){0};
		if (lo & PCI_BASE_ADDRESS_SPACE_IO) {
			uint32_t m = mask & PCI_BASE_ADDRESS_IO_MASK;

			if (m && !(m & 0xFFFF0000u))
				m |= 0xFFFF0000u; /* upper 16 bits of an I/O BAR may read as 0 */
			b->io = true;
			b->base = lo & PCI_BASE_ADDRESS_IO_MASK;
			b->size = m ? (uint32_t)(~m + 1) : 0;
		} else if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 &&
			   i < 5) {
			uint8_t hoff = (uint8_t)(off + 4);
			uint64_t hi = pci_read32(d, hoff);
			uint64_t m =
			    (uint64_t)bar_probe(d, hoff) << 32 | (mask & PCI_BASE_ADDRESS_MEM_MASK);

			b->is64 = true;
			b->base = hi << 32 | (lo & PCI_BASE_ADDRESS_MEM_MASK);
			b->size = (m & PCI_BASE_ADDRESS_MEM_MASK) ? ~m + 1 : 0;
			d->bar[i + 1] = (struct pci_bar){0};
		} else {
			uint32_t m = mask & PCI_BASE_ADDRESS_MEM_MASK;

			b->base = lo & PCI_BASE_ADDRESS_MEM_MASK;
			b->size = m ? (uint32_t)(~m + 1) : 0;
		}
		if (b->size) {
			kprintf("pci: BAR%u %s base 0x%lx size 0x%lx\n", i,
				b->io ? "io" : (b->is64 ? "mem64" : "mem32"), b->base, b->size);
			if (!b->base || (b->base & (b->size - 1))) {
				pci_write16(d, PCI_COMMAND, cmd);
				fail(ST_BAR,
				     "BAR%u base 0x%lx not assigned or not aligned to 0x%lx", i,
				     b->base, b->size);
			}
			if (!b->io && b->base + b->size > FOUR_GIB) {
				pci_write16(d, PCI_COMMAND, cmd);
				fail(ST_BAR, "BAR%u at 0x%lx is beyond the 4 GiB identity map", i,
				     b->base);
			}
		}
		if (b->is64)
			i++;
	}
	pci_write16(d, PCI_COMMAND, cmd);
}

void pci_enable(const struct pci_dev *d, bool intx)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	cmd |= PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (intx)
		cmd &= (uint16_t)~PCI_COMMAND_INTX_DISABLE;
	else
		cmd |= PCI_COMMAND_INTX_DISABLE;
	pci_write16(d, PCI_COMMAND, cmd);
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from)
{
	uint8_t off;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = from ? pci_read8(d, (uint8_t)(from + PCI_CAP_LIST_NEXT))
		   : pci_read8(d, PCI_CAPABILITY_LIST);
	/* 48 = (256 - 64) / 4: more hops than that means the list loops. */
	for (int hops = 0; off >= 0x40 && hops < 48; hops++) {
		off &= 0xFC;
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, (uint8_t)(off + PCI_CAP_LIST_NEXT));
	}
	return 0;
}

bool pci_region(const struct pci_dev *d, unsigned bar, uint64_t off, uint64_t len, struct region *r)
{
	if (bar > 5 || !d->bar[bar].size || off + len > d->bar[bar].size || len > UINT32_MAX)
		return false;
	*r = (struct region){
	    .base = d->bar[bar].base + off, .len = (uint32_t)len, .io = d->bar[bar].io};
	return true;
}

void msix_find(const struct pci_dev *d, struct msix *m)
{
	m->cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	if (!m->cap)
		fail(ST_CAP, "irq=msix but no MSI-X capability");
	m->nvec =
	    (uint16_t)((pci_read16(d, (uint8_t)(m->cap + PCI_MSIX_FLAGS)) & PCI_MSIX_FLAGS_QSIZE) +
		       1);
	uint32_t t = pci_read32(d, (uint8_t)(m->cap + PCI_MSIX_TABLE));
	unsigned bir = t & PCI_MSIX_TABLE_BIR;

	if (!pci_region(d, bir, t & PCI_MSIX_TABLE_OFFSET, (uint64_t)m->nvec * PCI_MSIX_ENTRY_SIZE,
			&m->table) ||
	    m->table.io)
		fail(ST_CAP, "MSI-X table (BAR%u offset 0x%x, %u entries) not in a memory BAR", bir,
		     t & PCI_MSIX_TABLE_OFFSET, m->nvec);
	kprintf("pci: MSI-X cap 0x%x, %u vectors, table at 0x%lx\n", m->cap, m->nvec,
		m->table.base);
}

void msix_set_entry(const struct msix *m, unsigned entry, uint64_t addr, uint32_t data)
{
	uint32_t e = entry * PCI_MSIX_ENTRY_SIZE;

	region_write32(&m->table, e + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)addr);
	region_write32(&m->table, e + PCI_MSIX_ENTRY_UPPER_ADDR, (uint32_t)(addr >> 32));
	region_write32(&m->table, e + PCI_MSIX_ENTRY_DATA, data);
	region_write32(&m->table, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0); /* unmasked */
}

void msix_enable(const struct pci_dev *d, const struct msix *m)
{
	uint8_t off = (uint8_t)(m->cap + PCI_MSIX_FLAGS);
	uint16_t ctl = pci_read16(d, off);

	ctl |= PCI_MSIX_FLAGS_ENABLE;
	ctl &= (uint16_t)~PCI_MSIX_FLAGS_MASKALL;
	pci_write16(d, off, ctl);
}
