/* guest/mini/pci.h - PCI configuration mechanism #1 on bus 0, BARs, capabilities, MSI-X. */
#ifndef MINI_PCI_H
#define MINI_PCI_H

#include "io.h"
#include "mini.h"

struct pci_bar {
	uint64_t base, size; /* size 0: BAR not implemented */
	bool io, is64;
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t irq_line, irq_pin; /* Interrupt Line as the firmware (kvmscope) filled it */
	struct pci_bar bar[6];
};

/* A window into a BAR, I/O or memory, so one accessor serves both (virtio caps may name either). */
struct region {
	uint64_t base;
	uint32_t len;
	bool io;
};

uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint8_t pci_read8(const struct pci_dev *d, uint8_t off);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);

/* Step 1: the first function on bus 0 with this vendor and one of the ids; false if none. */
bool pci_find(uint16_t vendor, const uint16_t *ids, int nids, struct pci_dev *d);
/* test=pcidump: the 256 bytes of config space as `lspci -xxx` prints them, then each BAR's
 * sizing answer (all ones written with decoding off, read back, restored). */
void pci_dump(const struct pci_dev *d);
/* Step 2: sizes every BAR (decoding off meanwhile), checks base and alignment; fails ST_BAR. */
void pci_size_bars(struct pci_dev *d);
/* Step 2: I/O + memory decoding and bus mastering on; INTx disabled unless asked for. */
void pci_enable(const struct pci_dev *d, bool intx);
/* Offset of the next capability with this id after 'from' (0: from the start), or 0. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from);
/* [off, off+len) of BAR 'bar' as a region; false if the BAR is absent or too small. */
bool pci_region(const struct pci_dev *d, unsigned bar, uint64_t off, uint64_t len,
		struct region *r);

/* MSI-X: table located from the capability; fails ST_CAP if absent or out of its BAR. */
struct msix {
	uint8_t cap;
	uint16_t nvec;
	struct region table;
};
void msix_find(const struct pci_dev *d, struct msix *m);
void msix_set_entry(const struct msix *m, unsigned entry, uint64_t addr, uint32_t data);
void msix_enable(const struct pci_dev *d, const struct msix *m);

static inline uint8_t region_read8(const struct region *r, uint32_t off)
{
	return r->io ? inb((uint16_t)(r->base + off)) : mmio_read8(r->base + off);
}

static inline uint16_t region_read16(const struct region *r, uint32_t off)
{
	return r->io ? inw((uint16_t)(r->base + off)) : mmio_read16(r->base + off);
}

static inline uint32_t region_read32(const struct region *r, uint32_t off)
{
	return r->io ? inl((uint16_t)(r->base + off)) : mmio_read32(r->base + off);
}

static inline void region_write8(const struct region *r, uint32_t off, uint8_t v)
{
	if (r->io)
		outb((uint16_t)(r->base + off), v);
	else
		mmio_write8(r->base + off, v);
}

static inline void region_write16(const struct region *r, uint32_t off, uint16_t v)
{
	if (r->io)
		outw((uint16_t)(r->base + off), v);
	else
		mmio_write16(r->base + off, v);
}

static inline void region_write32(const struct region *r, uint32_t off, uint32_t v)
{
	if (r->io)
		outl((uint16_t)(r->base + off), v);
	else
		mmio_write32(r->base + off, v);
}

#endif
