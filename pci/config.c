/* pci/config.c - one PCI function's configuration space: the 256 bytes and their write mask,
 * the header, BARs declared with their size, and the capability list. What the guest's accesses
 * do with it is pci/bus.c's; MSI-X and INTx (pci/irq.c) build their capability here. */
#include <errno.h>
#include <string.h>

#include "pci/internal.h"
#include "trace/trace.h"

#define COMMAND_WMASK                                                                              \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |           \
	 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)

uint32_t pci_cfg_get(const struct pci_dev *dev, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		v |= (uint32_t)dev->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_put(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len)
{
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		dev->cfg[off + i] = val >> (8 * i);
}

void pci_cfg_wmask(struct pci_dev *dev, uint32_t off, uint32_t mask, uint32_t len)
{
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++)
		dev->wmask[off + i] |= mask >> (8 * i);
}

int pci_dev_init(struct pci_dev *dev, const char *name, uint16_t vendor, uint16_t device,
		 uint8_t revision, uint32_t class_code, const struct pci_dev_ops *ops, void *opaque)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->ops = ops;
	dev->opaque = opaque;
	dev->next_cap = PCI_CAP_START;
	pthread_mutex_init(&dev->lock, NULL);
	for (int v = 0; v < PCI_MSIX_MAX_VECTORS; v++)
		dev->msix.gsi[v] = -1;
	for (int i = 0; i < PCI_MSIX_MAX_IRQFDS; i++)
		dev->msix.irqfds[i].fd = -1;
	for (int i = 0; i < PCI_MAX_IOEVENTFDS; i++)
		dev->ioeventfds[i].fd = -1;

	pci_cfg_put(dev, PCI_VENDOR_ID, vendor, 2);
	pci_cfg_put(dev, PCI_DEVICE_ID, device, 2);
	pci_cfg_put(dev, PCI_CLASS_REVISION, class_code << 8 | revision, 4);
	pci_cfg_put(dev, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL, 1);
	pci_cfg_wmask(dev, PCI_COMMAND, COMMAND_WMASK, 2);
	pci_cfg_wmask(dev, PCI_CACHE_LINE_SIZE, 0xff, 1);
	pci_cfg_wmask(dev, PCI_LATENCY_TIMER, 0xff, 1);
	pci_cfg_wmask(dev, PCI_INTERRUPT_LINE, 0xff, 1);
	return 0;
}

void pci_dev_set_subsystem(struct pci_dev *dev, uint16_t vendor, uint16_t id)
{
	pci_cfg_put(dev, PCI_SUBSYSTEM_VENDOR_ID, vendor, 2);
	pci_cfg_put(dev, PCI_SUBSYSTEM_ID, id, 2);
}

/* The BAR slot is taken by a BAR or by the upper half of the 64-bit BAR below it. */
static bool bar_slot_used(const struct pci_dev *dev, int bar)
{
	return dev->bars[bar].size ||
	       (bar > 0 && pci_bar_is_64(&dev->bars[bar - 1]) && dev->bars[bar - 1].size);
}

int pci_bar_init(struct pci_dev *dev, int bar, uint64_t size, uint32_t type, io_fn io, void *opaque)
{
	struct pci_bar *b, want = {.type = type, .size = size};
	bool io_space = pci_bar_is_io(&want), is_64 = pci_bar_is_64(&want);
	uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS || bar_slot_used(dev, bar) || !io)
		return -EINVAL;
	if (size & (size - 1) || size < (io_space ? 4u : 16u) || (io_space && size > 256))
		return -EINVAL;
	if (is_64 ? bar == PCI_STD_NUM_BARS - 1 || dev->bars[bar + 1].size : size > 0x80000000u)
		return -EINVAL;
	b = &dev->bars[bar];
	*b = want;
	b->io = (struct io_dev){.len = size, .io = io, .opaque = opaque, .name = dev->name};

	/* Sizing (PCI 3.0 §6.2.5.1): the address bits below the size read back as zero. */
	pci_cfg_put(dev, reg, type, 4);
	pci_cfg_wmask(dev, reg, (uint32_t) ~(size - 1) & (io_space ? ~3u : ~0xfu), 4);
	if (is_64)
		pci_cfg_wmask(dev, reg + 4, ~(size - 1) >> 32, 4);
	TRACE(BAR_REGISTER, dev->trace_id, bar, size, type);
	return 0;
}

int pci_cap_add(struct pci_dev *dev, const void *cap, uint8_t len)
{
	uint32_t off = dev->next_cap;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	memcpy(&dev->cfg[off], cap, len);
	/* Linked at the head, as QEMU's pci_add_capability does: the newest is found first. */
	dev->cfg[off + PCI_CAP_LIST_NEXT] = dev->cfg[PCI_CAPABILITY_LIST];
	dev->cfg[PCI_CAPABILITY_LIST] = off;
	pci_cfg_put(dev, PCI_STATUS, pci_cfg_get(dev, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST, 2);
	dev->next_cap = (off + len + 3) & ~3u;
	return off;
}
