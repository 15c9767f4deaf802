/* pci/bus.c - the PCI bus: the host bridge, configuration mechanism #1, the guest's config
 * accesses, and BARs decoded, placed and moved. Built on a function's config space (config.c)
 * and its interrupts (irq.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci/internal.h"
#include "trace/trace.h"

/* Linux without ACPI trusts conf1 once it finds a host bridge class (pci_sanity_check). */
#define HOST_BRIDGE_VENDOR 0x1B36 /* Red Hat, Inc. */
#define HOST_BRIDGE_DEVICE 0x0008 /* its generic host bridge, which no Linux quirk matches */
#define HOST_BRIDGE_CLASS  0x060000

#define CONF1_ENABLE 0x80000000u
#define CONF1_MASK   0x80fffffcu /* enable, bus, device, function, dword register */

static bool overlaps(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
	return a < b + blen && b < a + alen;
}

static uint64_t bar_addr(const struct pci_dev *dev, int bar)
{
	uint64_t v = pci_cfg_get(dev, PCI_BASE_ADDRESS_0 + 4 * bar, 4);

	if (pci_bar_is_io(&dev->bars[bar]))
		return v & PCI_BASE_ADDRESS_IO_MASK;
	v &= PCI_BASE_ADDRESS_MEM_MASK;
	if (pci_bar_is_64(&dev->bars[bar]))
		v |= (uint64_t)pci_cfg_get(dev, PCI_BASE_ADDRESS_0 + 4 * (bar + 1), 4) << 32;
	return v;
}

/* PCI 3.0 §6.2.2: a BAR decodes only while its space is enabled in the command register. */
static bool bar_decodes(const struct pci_dev *dev, int bar, uint64_t addr)
{
	const struct pci_bar *b = &dev->bars[bar];
	uint16_t cmd = pci_cfg_get(dev, PCI_COMMAND, 2);

	if (!(cmd & (pci_bar_is_io(b) ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) || addr == 0)
		return false;
	if (pci_bar_is_io(b))
		return addr + b->size <= GUEST_PIO_BAR_END;
	return addr + b->size > addr;
}

static struct bus *bar_bus(struct pci_dev *dev, int bar)
{
	return pci_bar_is_io(&dev->bars[bar]) ? &dev->pci->vm->pio : &dev->pci->vm->mmio;
}

/* Assign e at its BAR's current address, or deassign it where it was; dev->lock held. */
static int ioeventfd_wire(struct pci_dev *dev, struct pci_ioeventfd *e, bool assign)
{
	const struct pci_kvm_ops *k = &dev->pci->kvm;
	struct pci_bar *b = &dev->bars[e->bar];
	uint64_t addr = assign ? b->io.base + e->off : e->wired_addr;
	int r;

	if (assign == e->wired || (assign && !b->mapped))
		return 0;
	r = k->ioeventfd(k->opaque, e->fd, pci_bar_is_io(b) ? BUS_PIO : BUS_MMIO, addr, e->len,
			 e->datamatch, e->data, assign);
	if (r == 0) {
		e->wired = assign;
		e->wired_addr = addr;
	}
	return r;
}

/* The BAR moved or stopped decoding: its ioeventfds follow it. */
static void ioeventfds_rewire(struct pci_dev *dev, int bar)
{
	for (int i = 0; i < PCI_MAX_IOEVENTFDS; i++) {
		struct pci_ioeventfd *e = &dev->ioeventfds[i];
		int r;

		if (e->fd < 0 || e->bar != bar)
			continue;
		ioeventfd_wire(dev, e, false);
		r = ioeventfd_wire(dev, e, true);
		if (r < 0)
			fprintf(stderr, "pci %s: ioeventfd at BAR%d+0x%llx: %s\n", dev->name, bar,
				(unsigned long long)e->off, strerror(-r));
	}
}

int pci_bar_ioeventfd(struct pci_dev *dev, int bar, uint64_t off, uint32_t len, bool datamatch,
		      uint64_t data, int fd, bool assign)
{
	struct pci_ioeventfd *e = NULL;
	int r = assign ? -ENOSPC : -ENOENT;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS || !dev->bars[bar].size || fd < 0 ||
	    off >= dev->bars[bar].size || len > dev->bars[bar].size - off)
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	for (int i = 0; i < PCI_MAX_IOEVENTFDS && !e; i++) {
		struct pci_ioeventfd *c = &dev->ioeventfds[i];
		bool same = c->fd == fd && c->bar == bar && c->off == off &&
			    c->datamatch == datamatch && c->data == data;

		if (assign ? c->fd < 0 : same)
			e = c;
	}
	if (e && assign) {
		*e = (struct pci_ioeventfd){fd, bar, len, datamatch, false, off, data, 0};
		r = ioeventfd_wire(dev, e, true);
	} else if (e) {
		r = ioeventfd_wire(dev, e, false);
	}
	if (e && (!assign || r < 0))
		e->fd = -1;
	pthread_mutex_unlock(&dev->lock);
	return r;
}

/* Register, move or unregister each BAR's io_dev to match the command register and BARs. */
static void update_bars(struct pci_dev *dev)
{
	for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bars[i];
		struct bus *bus = bar_bus(dev, i);
		uint64_t addr = bar_addr(dev, i);
		bool want = b->size && bar_decodes(dev, i, addr);
		uint64_t old = b->io.base;
		int r = 0;

		if (!b->size || (b->mapped == want && (!want || b->io.base == addr)))
			continue;
		pthread_mutex_lock(&dev->lock);
		if (b->mapped && want) {
			r = bus_move(bus, &b->io, addr);
		} else if (want) {
			b->io.base = addr;
			r = bus_add(bus, &b->io);
		}
		if ((b->mapped && !want) || r < 0)
			bus_del(bus, &b->io);
		if (b->mapped)
			TRACE(BAR_UNMAP, dev->trace_id, i, old, b->size, b->type);
		b->mapped = want && r == 0;
		if (b->mapped)
			TRACE(BAR_MAP, dev->trace_id, i, b->io.base, b->size, b->type);
		ioeventfds_rewire(dev, i);
		pthread_mutex_unlock(&dev->lock);
		if (r < 0)
			fprintf(stderr,
				"pci 00:%02x.0 %s: BAR%d at 0x%llx overlaps another device: %s\n",
				dev->slot, dev->name, i, (unsigned long long)addr, strerror(-r));
		if (dev->ops && dev->ops->bar_map)
			dev->ops->bar_map(dev, i, b->mapped, b->io.base);
	}
}

int pci_bar_access(struct pci_dev *dev, int bar, uint64_t off, void *data, uint32_t len,
		   bool is_write)
{
	struct pci_bar *b;

	if (bar < 0 || bar >= PCI_STD_NUM_BARS || !dev->bars[bar].size)
		return -EINVAL;
	b = &dev->bars[bar];
	if (off >= b->size || len > b->size - off)
		return -EINVAL;
	b->io.io(&b->io, off, data, len, is_write);
	return 0;
}

static uint32_t cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len)
{
	uint32_t v;

	if (dev->ops && dev->ops->cfg_read)
		dev->ops->cfg_read(dev, off, len);
	v = pci_cfg_get(dev, off, len);
	if (overlaps(off, len, PCI_STATUS, 1) && pci_intx_status(dev))
		v |= PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - off));
	return v;
}

static void cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len)
{
	uint8_t msix_ctrl = dev->msix.cap + PCI_MSIX_FLAGS;

	for (uint32_t i = 0; i < len; i++) {
		uint8_t m = dev->wmask[off + i];

		dev->cfg[off + i] = (dev->cfg[off + i] & ~m) | ((val >> (8 * i)) & m);
	}
	if (overlaps(off, len, PCI_COMMAND, 2) || overlaps(off, len, PCI_BASE_ADDRESS_0, 24))
		update_bars(dev);
	if (overlaps(off, len, PCI_COMMAND, 2) ||
	    (dev->msix.nr && overlaps(off, len, msix_ctrl, 2)))
		pci_irq_config_changed(dev);
	if (dev->ops && dev->ops->cfg_write)
		dev->ops->cfg_write(dev, off, len);
}

/* The capability holding config offset off, for the trace: the decoder names its fields.
 * Byte 3 of a vendor-specific capability is virtio's cfg_type. */
static uint64_t cap_at(const struct pci_dev *dev, uint32_t off)
{
	uint32_t best = 0, c = dev->cfg[PCI_CAPABILITY_LIST];

	for (int n = 0; c && c < PCI_CFG_SIZE - 4 && n < PCI_CFG_SIZE / 4;
	     n++, c = dev->cfg[c + PCI_CAP_LIST_NEXT])
		if (c <= off && c > best)
			best = c;
	if (!best)
		return 0;
	return TRACE_PCI_CAP(best, dev->cfg[best],
			     dev->cfg[best] == PCI_CAP_ID_VNDR ? dev->cfg[best + 3] : 0);
}

static struct pci_dev *conf1_target(struct pci *pci, uint32_t *reg)
{
	uint32_t a = pci->conf1_addr;

	/* Bus 0, function 0 only: everything else is absent and reads all ones. */
	if (!(a & CONF1_ENABLE) || (a >> 16 & 0xff) || (a >> 8 & 7))
		return NULL;
	*reg = a & 0xfc;
	return pci->slots[a >> 11 & 0x1f];
}

/* PCI 3.0 §3.2.2.3.2: dword address at 0xCF8; data of any width at 0xCFC-0xCFF. */
static void conf1_io(struct io_dev *io, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct pci *pci = io->opaque;
	struct pci_dev *dev = NULL;
	uint32_t reg = 0, val = 0;

	if (is_write)
		memcpy(&val, data, len < 4 ? len : 4);
	pthread_mutex_lock(&pci->lock);
	if (off == 0 && len == 4) {
		if (is_write)
			pci->conf1_addr = val & CONF1_MASK;
		val = pci->conf1_addr;
	} else if (off >= 4 && off - 4 + len <= 4) {
		dev = conf1_target(pci, &reg);
		reg += off - 4;
		if (dev && is_write) {
			TRACE(PCI_CFG_WRITE, dev->trace_id, reg, len, val, cap_at(dev, reg));
			cfg_write(dev, reg, val, len);
		} else if (dev) {
			val = cfg_read(dev, reg, len);
			TRACE(PCI_CFG_READ, dev->trace_id, reg, len, val, cap_at(dev, reg));
		}
	}
	pthread_mutex_unlock(&pci->lock);
	if (is_write)
		return;
	if ((off == 0 && len == 4) || dev)
		memcpy(data, &val, len);
	else
		memset(data, 0xff, len);
}

static int attach(struct pci *pci, struct pci_dev *dev, int slot)
{
	dev->pci = pci;
	dev->slot = slot;
	pci->slots[slot] = dev;
	if (slot == 0)
		return 0;
	dev->gsi = PCI_INTX_GSI_BASE + (slot - 1) % PCI_INTX_GSI_COUNT;
	pci_cfg_put(dev, PCI_INTERRUPT_PIN, 1, 1);
	pci_cfg_put(dev, PCI_INTERRUPT_LINE, dev->gsi, 1);
	pci->routes[pci->nr_routes++] =
	    (struct pci_irq_route){.slot = slot, .pin = 1, .gsi = dev->gsi};
	return 0;
}

/* Firmware's job, done here: size-aligned addresses written into the BARs, decoding off. */
static int assign_bars(struct pci *pci, struct pci_dev *dev)
{
	uint64_t pio = pci->pio_next, mmio = pci->mmio_next;

	for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
		struct pci_bar *b = &dev->bars[i];
		uint64_t *next = pci_bar_is_io(b) ? &pio : &mmio;
		uint64_t end = pci_bar_is_io(b) ? GUEST_PIO_BAR_END : GUEST_MMIO32_END;
		uint64_t base = (*next + b->size - 1) & ~(b->size - 1);

		if (!b->size)
			continue;
		if (base + b->size > end)
			return -ENOSPC;
		*next = base + b->size;
		pci_cfg_put(dev, PCI_BASE_ADDRESS_0 + 4 * i, (uint32_t)base | b->type, 4);
		if (pci_bar_is_64(b))
			pci_cfg_put(dev, PCI_BASE_ADDRESS_0 + 4 * (i + 1), base >> 32, 4);
	}
	pci->pio_next = pio;
	pci->mmio_next = mmio;
	return 0;
}

/* The device is on the bus with its config header complete. */
static void trace_created(struct pci_dev *dev)
{
	TRACE(DEV_CREATE, dev->trace_id, dev->slot, 0);
	TRACE(CFG_SPACE_BUILT, dev->trace_id,
	      TRACE_PAIR(pci_cfg_get(dev, PCI_VENDOR_ID, 2), pci_cfg_get(dev, PCI_DEVICE_ID, 2)),
	      pci_cfg_get(dev, PCI_REVISION_ID, 1), pci_cfg_get(dev, PCI_CLASS_PROG, 3),
	      TRACE_PAIR(pci_cfg_get(dev, PCI_SUBSYSTEM_VENDOR_ID, 2),
			 pci_cfg_get(dev, PCI_SUBSYSTEM_ID, 2)));
}

int pci_dev_add(struct pci *pci, struct pci_dev *dev)
{
	int slot, r;

	pthread_mutex_lock(&pci->lock);
	for (slot = 1; slot < PCI_MAX_SLOTS && pci->slots[slot]; slot++)
		;
	r = slot < PCI_MAX_SLOTS ? 0 : -ENOSPC;
	if (r == 0)
		r = assign_bars(pci, dev);
	if (r == 0)
		attach(pci, dev, slot);
	pthread_mutex_unlock(&pci->lock);
	if (r == 0)
		trace_created(dev);
	return r;
}

int pci_init(struct pci *pci, struct vm *vm)
{
	memset(pci, 0, sizeof(*pci));
	pci->vm = vm;
	pci->pio_next = GUEST_PIO_BAR_BASE;
	pci->mmio_next = GUEST_MMIO32_BASE;
	pci->kvm = pci_vm_kvm_ops;
	pci->kvm.opaque = vm;
	pthread_mutex_init(&pci->lock, NULL);
	pthread_mutex_init(&pci->irq_lock, NULL);

	pci_dev_init(&pci->host_bridge, "host-bridge", HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE, 0,
		     HOST_BRIDGE_CLASS, NULL, NULL);
	pci->host_bridge.trace_id = trace_dev_register("host-bridge", 0);
	attach(pci, &pci->host_bridge, 0);
	trace_created(&pci->host_bridge);
	pci->conf1 = (struct io_dev){.base = PCI_CONF1_ADDR_PORT,
				     .len = 8,
				     .io = conf1_io,
				     .opaque = pci,
				     .name = "pci-conf1"};
	int r = bus_add(&vm->pio, &pci->conf1);
	/* The address register gives nothing back until the data access after it, which exits:
	 * KVM may keep its writes, the bus scan's every other exit, in the coalesced ring. */
	return r < 0 ? r : vm_coalesce_pio(vm, PCI_CONF1_ADDR_PORT, 4);
}

void pci_destroy(struct pci *pci)
{
	bus_del(&pci->vm->pio, &pci->conf1);
	for (int s = PCI_MAX_SLOTS - 1; s >= 0; s--) {
		struct pci_dev *dev = pci->slots[s];

		if (!dev)
			continue;
		pthread_mutex_lock(&dev->lock);
		for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
			if (dev->bars[i].mapped)
				bus_del(bar_bus(dev, i), &dev->bars[i].io);
			dev->bars[i].mapped = false;
			ioeventfds_rewire(dev, i); /* unmapped: each is only deassigned */
		}
		pthread_mutex_unlock(&dev->lock);
		pci_irq_teardown(dev);
		pci->slots[s] = NULL;
		if (dev->ops && dev->ops->release)
			dev->ops->release(dev);
	}
}

void pci_set_kvm_ops(struct pci *pci, const struct pci_kvm_ops *ops)
{
	pci->kvm = *ops;
}

int pci_irq_routes(const struct pci *pci, const struct pci_irq_route **routes)
{
	*routes = pci->routes;
	return pci->nr_routes;
}
