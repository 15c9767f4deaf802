/* tests/unit/test_pci_harness.h - a PCI bus on a VM without KVM for the pci and virtio-pci
 * unit tests: KVM's side recorded, config space reached through the conf1 ports. */
#ifndef KVMSCOPE_TEST_PCI_HARNESS_H
#define KVMSCOPE_TEST_PCI_HARNESS_H

#include <linux/virtio_pci.h>
#include <string.h>

#include "pci/pci.h"

static struct vm vm;
static struct pci pci;

#define UNUSED __attribute__((unused))

/* --- recording KVM ops: per kind, how many calls and the last two arguments --- */
enum { LINE, MSI, ROUTE_ADD, ROUTE_SET, ROUTE_DEL, IRQFD, IOEVENTFD, NR_KINDS };
static struct {
	int n[NR_KINDS];
	uint64_t a[NR_KINDS], b[NR_KINDS];
	int irqfds, ioeventfds; /* assigned minus deassigned */
} irq;

static inline int note(int kind, uint64_t a, uint64_t b)
{
	irq.n[kind]++;
	irq.a[kind] = a;
	irq.b[kind] = b;
	return kind == ROUTE_ADD ? 40 : 0;
}

static inline int fake_line(UNUSED void *o, uint32_t gsi, int level)
{
	return note(LINE, gsi, level);
}

static inline int fake_msi(UNUSED void *o, uint64_t addr, uint32_t data)
{
	return note(MSI, addr, data);
}

static inline int fake_route_add(UNUSED void *o, uint64_t addr, uint32_t data)
{
	return note(ROUTE_ADD, addr, data);
}

static inline int fake_route_set(UNUSED void *o, UNUSED uint32_t gsi, uint64_t addr, uint32_t data)
{
	return note(ROUTE_SET, addr, data);
}

static inline int fake_route_del(UNUSED void *o, uint32_t gsi)
{
	return note(ROUTE_DEL, gsi, 0);
}

static inline int fake_irqfd(UNUSED void *o, int fd, uint32_t gsi, bool assign)
{
	irq.irqfds += assign ? 1 : -1;
	return note(IRQFD, fd, gsi);
}

static inline int fake_ioeventfd(UNUSED void *o, UNUSED int fd, UNUSED enum bus_space space,
				 uint64_t addr, UNUSED uint32_t len, UNUSED bool datamatch,
				 UNUSED uint64_t data, bool assign)
{
	irq.ioeventfds += assign ? 1 : -1;
	return note(IOEVENTFD, addr, assign);
}

static const struct pci_kvm_ops fake_kvm = {
    .line = fake_line,
    .msi = fake_msi,
    .route_add = fake_route_add,
    .route_set = fake_route_set,
    .route_del = fake_route_del,
    .irqfd = fake_irqfd,
    .ioeventfd = fake_ioeventfd,
};

/* --- conf1 accessors --- */
static inline void conf1_select(int bus, int slot, int fn, uint32_t reg)
{
	uint32_t a = 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);

	bus_dispatch(&vm.pio, PCI_CONF1_ADDR_PORT, &a, 4, true);
}

static inline uint32_t cfg_rd(int slot, uint32_t reg, uint32_t len)
{
	uint32_t v = 0;

	conf1_select(0, slot, 0, reg);
	bus_dispatch(&vm.pio, PCI_CONF1_DATA_PORT + (reg & 3), &v, len, false);
	return v;
}

static inline void cfg_wr(int slot, uint32_t reg, uint32_t val, uint32_t len)
{
	conf1_select(0, slot, 0, reg);
	bus_dispatch(&vm.pio, PCI_CONF1_DATA_PORT + (reg & 3), &val, len, true);
}

static inline bool decodes(struct bus *b, uint64_t addr)
{
	uint32_t v;

	return bus_dispatch(b, addr, &v, 4, false) == 0;
}

/* --- a device's BARs and modern virtio-pci capabilities, where the guest put them --- */
static inline uint64_t mem_bar(int slot, int bar)
{
	uint64_t lo = cfg_rd(slot, PCI_BASE_ADDRESS_0 + 4 * bar, 4);

	if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
		lo |= (uint64_t)cfg_rd(slot, PCI_BASE_ADDRESS_0 + 4 * bar + 4, 4) << 32;
	return lo & ~0xfULL;
}

/* The capability of cfg_type type (or, for type 0, the MSI-X one): its config offset. */
static inline uint32_t find_cap(int slot, int type)
{
	for (uint32_t p = cfg_rd(slot, PCI_CAPABILITY_LIST, 1); p;
	     p = cfg_rd(slot, p + PCI_CAP_LIST_NEXT, 1)) {
		uint32_t id = cfg_rd(slot, p, 1);

		if (type ? id == PCI_CAP_ID_VNDR && cfg_rd(slot, p + 3, 1) == (uint32_t)type
			 : id == PCI_CAP_ID_MSIX)
			return p;
	}
	return 0;
}

/* Guest address of the structure a modern capability points at. */
static inline uint64_t region(int slot, int type)
{
	uint32_t cap = find_cap(slot, type);

	return mem_bar(slot, cfg_rd(slot, cap + VIRTIO_PCI_CAP_BAR, 1)) +
	       cfg_rd(slot, cap + VIRTIO_PCI_CAP_OFFSET, 4);
}

static inline uint64_t mrd(uint64_t addr, uint32_t len)
{
	uint64_t v = 0;

	bus_dispatch(&vm.mmio, addr, &v, len, false);
	return v;
}

static inline void mwr(uint64_t addr, uint64_t val, uint32_t len)
{
	bus_dispatch(&vm.mmio, addr, &val, len, true);
}

static inline uint64_t common(int slot, uint32_t off)
{
	return region(slot, VIRTIO_PCI_CAP_COMMON_CFG) + off;
}

/* A VM with empty buses and no KVM (vm_fd -1), and the bus on it with the recording ops. */
static inline int harness_init(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.vm_fd = vm.kvm_fd = -1;
	bus_init(&vm.pio);
	bus_init(&vm.mmio);
	if (pci_init(&pci, &vm) < 0)
		return -1;
	pci_set_kvm_ops(&pci, &fake_kvm);
	return 0;
}

#endif
