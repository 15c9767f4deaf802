/* tests/unit/test_pci.c - conf1, config space, BARs, capabilities, MSI-X and INTx, without KVM. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/unit/test_pci_harness.h"

/* --- a test device: BAR0 I/O 32 B, BAR1 mem32 4 KiB, BAR2/3 mem64 16 KiB, MSI-X in BAR4 --- */
struct tdev {
	struct pci_dev pci;
	int hits, maps;
	uint64_t last_off;
	int last_bar;
};

static void tdev_io(struct io_dev *io, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct tdev *t = io->opaque;

	t->hits++;
	t->last_off = off;
	if (!is_write)
		memset(data, 0xab, len);
}

static void tdev_bar_map(struct pci_dev *dev, int bar, bool mapped, uint64_t addr)
{
	struct tdev *t = dev->opaque;

	(void)mapped, (void)addr;
	t->maps++;
	t->last_bar = bar;
}

static const struct pci_dev_ops tdev_ops = {.bar_map = tdev_bar_map};

static struct tdev dev1, more[8];

static void tdev_create(struct tdev *t, bool full)
{
	uint8_t vcap[8] = {PCI_CAP_ID_VNDR, 0, 8, 0x5a};

	memset(t, 0, sizeof(*t));
	pci_dev_init(&t->pci, "tdev", 0x1234, 0x5678, 3, 0x010000, &tdev_ops, t);
	pci_dev_set_subsystem(&t->pci, 0x1af4, 2);
	pci_bar_init(&t->pci, 0, 32, PCI_BASE_ADDRESS_SPACE_IO, tdev_io, t);
	if (full) {
		pci_bar_init(&t->pci, 1, 4096, PCI_BASE_ADDRESS_MEM_TYPE_32, tdev_io, t);
		pci_bar_init(&t->pci, 2, 16384, PCI_BASE_ADDRESS_MEM_TYPE_64, tdev_io, t);
		pci_cap_add(&t->pci, vcap, sizeof(vcap));
		pci_msix_init(&t->pci, 3, 4);
	}
	pci_dev_add(&pci, &t->pci);
}

static void test_conf1(void)
{
	uint32_t a = 0x80000000u, v = 0;
	uint8_t b = 1;

	bus_dispatch(&vm.pio, PCI_CONF1_ADDR_PORT, &a, 4, true);
	bus_dispatch(&vm.pio, PCI_CONF1_ADDR_PORT + 3, &b, 1, true); /* Linux's type 1 probe */
	bus_dispatch(&vm.pio, PCI_CONF1_ADDR_PORT, &v, 4, false);
	CHECK(v == 0x80000000u, "conf1 address register reads back; byte writes leave it");

	CHECK(cfg_rd(0, PCI_VENDOR_ID, 2) == 0x1b36, "host bridge vendor at 00:00.0");
	CHECK(cfg_rd(0, PCI_CLASS_DEVICE, 2) == 0x0600, "host bridge class");
	CHECK(cfg_rd(20, PCI_VENDOR_ID, 4) == 0xffffffffu, "absent slot reads all ones");
	conf1_select(0, 1, 1, 0);
	bus_dispatch(&vm.pio, PCI_CONF1_DATA_PORT, &v, 4, false);
	CHECK(v == 0xffffffffu, "absent function reads all ones");
	conf1_select(1, 1, 0, 0);
	bus_dispatch(&vm.pio, PCI_CONF1_DATA_PORT, &v, 4, false);
	CHECK(v == 0xffffffffu, "absent bus reads all ones");
	a = 1 << 11; /* enable bit clear */
	bus_dispatch(&vm.pio, PCI_CONF1_ADDR_PORT, &a, 4, true);
	bus_dispatch(&vm.pio, PCI_CONF1_DATA_PORT, &v, 4, false);
	CHECK(v == 0xffffffffu, "conf1 with the enable bit clear reads all ones");

	CHECK(cfg_rd(1, 0, 4) == 0x56781234, "dword read of the IDs");
	CHECK(cfg_rd(1, 1, 1) == 0x12, "byte read at 0xCFD");
	CHECK(cfg_rd(1, 2, 2) == 0x5678, "word read at 0xCFE");
	CHECK(cfg_rd(1, 3, 1) == 0x56, "byte read at 0xCFF");
	CHECK(cfg_rd(1, PCI_REVISION_ID, 1) == 3, "revision");
	CHECK(cfg_rd(1, PCI_CLASS_REVISION, 4) >> 8 == 0x010000, "class code");
	CHECK(cfg_rd(1, PCI_SUBSYSTEM_ID, 2) == 2 &&
		  cfg_rd(1, PCI_SUBSYSTEM_VENDOR_ID, 2) == 0x1af4,
	      "subsystem vendor and id");
	conf1_select(0, 1, 0, 0);
	v = 0;
	bus_dispatch(&vm.pio, PCI_CONF1_DATA_PORT + 3, &v, 2, false); /* crosses 0xCFF */
	CHECK(v == 0xffff, "data access past 0xCFF reads all ones");
}

static void test_read_only(void)
{
	cfg_wr(1, PCI_VENDOR_ID, 0xffffffffu, 4);
	CHECK(cfg_rd(1, PCI_VENDOR_ID, 4) == 0x56781234, "vendor and device IDs are read-only");
	cfg_wr(1, PCI_CLASS_REVISION, 0, 4);
	CHECK(cfg_rd(1, PCI_CLASS_REVISION, 4) == 0x01000003, "class and revision are read-only");
	cfg_wr(1, PCI_SUBSYSTEM_VENDOR_ID, 0, 4);
	CHECK(cfg_rd(1, PCI_SUBSYSTEM_ID, 2) == 2, "subsystem is read-only");
	cfg_wr(1, PCI_HEADER_TYPE, 0x80, 1);
	CHECK(cfg_rd(1, PCI_HEADER_TYPE, 1) == 0, "header type is read-only");
	cfg_wr(1, PCI_COMMAND, 0xffff, 2);
	CHECK(cfg_rd(1, PCI_COMMAND, 2) == 0x547, "only the implemented command bits stick");
	cfg_wr(1, PCI_COMMAND, 0, 2);
	cfg_wr(1, PCI_CACHE_LINE_SIZE, 0x10, 1);
	CHECK(cfg_rd(1, PCI_CACHE_LINE_SIZE, 1) == 0x10, "cache line size is writable");
	CHECK(cfg_rd(1, PCI_INTERRUPT_PIN, 1) == 1, "interrupt pin INTA");
	CHECK(cfg_rd(1, PCI_INTERRUPT_LINE, 1) == PCI_INTX_GSI_BASE, "interrupt line = INTA's GSI");
	cfg_wr(1, PCI_INTERRUPT_LINE, 11, 1);
	CHECK(cfg_rd(1, PCI_INTERRUPT_LINE, 1) == 11, "interrupt line is writable");
	cfg_wr(1, PCI_INTERRUPT_PIN, 4, 1);
	CHECK(cfg_rd(1, PCI_INTERRUPT_PIN, 1) == 1, "interrupt pin is read-only");
}

/* Linux's __pci_read_base: save, write all ones, read the size mask, restore. */
static uint32_t size_bar(int slot, int bar)
{
	uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * bar, old = cfg_rd(slot, reg, 4), mask;

	cfg_wr(slot, reg, 0xffffffffu, 4);
	mask = cfg_rd(slot, reg, 4);
	cfg_wr(slot, reg, old, 4);
	return mask;
}

static void test_bars(void)
{
	uint32_t bar0 = cfg_rd(1, PCI_BASE_ADDRESS_0, 4);
	uint32_t bar1 = cfg_rd(1, PCI_BASE_ADDRESS_1, 4);
	uint64_t bar2 =
	    cfg_rd(1, PCI_BASE_ADDRESS_2, 4) | (uint64_t)cfg_rd(1, PCI_BASE_ADDRESS_3, 4) << 32;

	CHECK(bar0 == (GUEST_PIO_BAR_BASE | PCI_BASE_ADDRESS_SPACE_IO), "I/O BAR pre-assigned");
	CHECK((bar1 & ~0xfu) >= GUEST_MMIO32_BASE && (bar1 & 0xfff) == 0, "mem32 BAR pre-assigned");
	CHECK((bar2 & 0xf) == PCI_BASE_ADDRESS_MEM_TYPE_64 && (bar2 & ~0xfULL) % 16384 == 0 &&
		  bar2 < GUEST_4G,
	      "mem64 BAR pre-assigned below 4G, size-aligned");
	CHECK(size_bar(1, 0) == 0xffffffe1u, "I/O BAR sizing: 32 bytes, space bit kept");
	CHECK(size_bar(1, 1) == 0xfffff000u, "mem32 BAR sizing: 4 KiB");
	CHECK(size_bar(1, 2) == 0xffffc004u, "mem64 BAR sizing, low half: 16 KiB, type 64");
	CHECK(size_bar(1, 3) == 0xffffffffu, "mem64 BAR sizing, high half");
	CHECK(size_bar(1, 5) == 0, "unimplemented BAR reads zero when sized");
	CHECK(cfg_rd(1, PCI_BASE_ADDRESS_0, 4) == bar0, "BAR restored after sizing");

	CHECK(!decodes(&vm.pio, GUEST_PIO_BAR_BASE), "I/O BAR does not decode before enable");
	CHECK(!decodes(&vm.mmio, bar1 & ~0xfu), "mem BAR does not decode before enable");
	cfg_wr(1, PCI_COMMAND, PCI_COMMAND_IO, 2);
	CHECK(decodes(&vm.pio, GUEST_PIO_BAR_BASE + 4) && dev1.last_off == 4,
	      "I/O BAR decodes once enabled, offset relative to the BAR");
	CHECK(!decodes(&vm.mmio, bar1 & ~0xfu), "mem BAR still off with only I/O enabled");
	cfg_wr(1, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	CHECK(decodes(&vm.mmio, bar1 & ~0xfu) && decodes(&vm.mmio, bar2 & ~0xfULL),
	      "mem32 and mem64 BARs decode once memory is enabled");

	int maps = dev1.maps;
	cfg_wr(1, PCI_BASE_ADDRESS_1, 0xd0000000u, 4);
	CHECK(!decodes(&vm.mmio, bar1 & ~0xfu) && decodes(&vm.mmio, 0xd0000000u),
	      "BAR move re-registers at the new address");
	CHECK(dev1.maps == maps + 1 && dev1.last_bar == 1, "device told of the move");
	cfg_wr(1, PCI_BASE_ADDRESS_3, 1, 4);
	CHECK(decodes(&vm.mmio, 0x100000000ULL | (bar2 & 0xffffffffu & ~0xfu)),
	      "mem64 BAR moves above 4G with its high half");
	cfg_wr(1, PCI_BASE_ADDRESS_3, 0, 4);

	cfg_wr(2, PCI_COMMAND, PCI_COMMAND_IO, 2);
	uint32_t other = cfg_rd(2, PCI_BASE_ADDRESS_0, 4);
	CHECK(decodes(&vm.pio, other & ~3u), "second device's I/O BAR decodes");
	cfg_wr(2, PCI_BASE_ADDRESS_0, bar0, 4);
	CHECK(!more[0].pci.bars[0].mapped, "a BAR moved onto another device's BAR does not decode");
	cfg_wr(2, PCI_BASE_ADDRESS_0, other, 4);
	CHECK(more[0].pci.bars[0].mapped, "moved away, it decodes again");

	cfg_wr(1, PCI_COMMAND, 0, 2);
	CHECK(!decodes(&vm.pio, GUEST_PIO_BAR_BASE) && !decodes(&vm.mmio, 0xd0000000u),
	      "decoding stops when the command register disables it");
}

static void test_caps(void)
{
	int ids[8], n = 0;

	CHECK(cfg_rd(1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, "status has CAP_LIST");
	/* Placed in the order added (vendor at 0x40, MSI-X at 0x48), linked newest first. */
	CHECK(cfg_rd(1, PCI_CAPABILITY_LIST, 1) == PCI_CAP_START + 8,
	      "cap pointer at the newest, MSI-X at 0x48");
	for (uint32_t p = cfg_rd(1, PCI_CAPABILITY_LIST, 1); p && n < 8;
	     p = cfg_rd(1, p + PCI_CAP_LIST_NEXT, 1))
		ids[n++] = cfg_rd(1, p, 1);
	CHECK(n == 2 && ids[0] == PCI_CAP_ID_MSIX && ids[1] == PCI_CAP_ID_VNDR,
	      "capability list walks MSI-X, vendor (at 0x40), end");
	cfg_wr(1, PCI_CAP_START + 3, 0, 1);
	CHECK(cfg_rd(1, PCI_CAP_START + 3, 1) == 0x5a, "capability bytes are read-only by default");
	CHECK(!(cfg_rd(2, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) && cfg_rd(2, 0x34, 1) == 0,
	      "a device without capabilities has no CAP_LIST");
}

/* Capabilities fill config space up to its last byte, and no further. */
static void test_cap_space(void)
{
	struct pci_dev d;
	uint8_t cap[48] = {PCI_CAP_ID_VNDR};
	int off = 0, n = 0;

	pci_dev_init(&d, "full", 0x1234, 0x5678, 0, 0x010000, NULL, NULL);
	while (n < 8 && (off = pci_cap_add(&d, cap, sizeof(cap))) >= 0)
		n++;
	CHECK(n == 4 && off == -ENOSPC,
	      "four 48-byte capabilities fill 0x40..0xff, a fifth: ENOSPC");
	CHECK(pci_cap_add(&d, cap, 4) == -ENOSPC && d.cfg[PCI_VENDOR_ID] == 0x34,
	      "a full config space stays full (the header is never reused)");
}

static uint32_t msix_rw(uint64_t table, uint32_t off, uint32_t val, bool is_write)
{
	bus_dispatch(&vm.mmio, table + off, &val, 4, is_write);
	return val;
}

static void test_msix(void)
{
	uint32_t cap = PCI_CAP_START + 8, ctrl;
	uint64_t table;
	int fd = eventfd(0, EFD_NONBLOCK);
	uint64_t one = 1;

	CHECK(cfg_rd(1, cap, 1) == PCI_CAP_ID_MSIX, "MSI-X capability after the vendor one");
	ctrl = cfg_rd(1, cap + PCI_MSIX_FLAGS, 2);
	CHECK((ctrl & PCI_MSIX_FLAGS_QSIZE) == 2, "MSI-X table size N-1");
	CHECK(cfg_rd(1, cap + PCI_MSIX_TABLE, 4) == 4, "table at offset 0 of BAR4");
	CHECK(cfg_rd(1, cap + PCI_MSIX_PBA, 4) == (PCI_MSIX_PBA_START | 4), "PBA in BAR4");
	table = cfg_rd(1, PCI_BASE_ADDRESS_4, 4) & ~0xfu;
	cfg_wr(1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	CHECK(msix_rw(table, 12, 0, false) == PCI_MSIX_ENTRY_CTRL_MASKBIT,
	      "vectors masked at reset");

	irq.n[MSI] = 0;
	pci_msix_notify(&dev1.pci, 1);
	CHECK(irq.n[MSI] == 0, "no message while MSI-X is disabled");
	CHECK(msix_rw(table, PCI_MSIX_PBA_START, 0, false) == 2, "pending bit set instead");
	msix_rw(table, 16 + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000u, true);
	msix_rw(table, 16 + PCI_MSIX_ENTRY_DATA, 0x41, true);
	msix_rw(table, 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, true);
	CHECK(irq.n[MSI] == 0, "unmasked vector, MSI-X still disabled: nothing");
	cfg_wr(1, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_QSIZE, 2);
	CHECK(cfg_rd(1, cap + PCI_MSIX_FLAGS, 2) == (PCI_MSIX_FLAGS_ENABLE | 2),
	      "only enable sticks in message control");
	CHECK(irq.n[MSI] == 1 && irq.a[MSI] == 0xfee00000u && irq.b[MSI] == 0x41,
	      "pending message delivered on enable");
	CHECK(msix_rw(table, PCI_MSIX_PBA_START, 0, false) == 0, "pending bit cleared");
	pci_msix_notify(&dev1.pci, 1);
	CHECK(irq.n[MSI] == 2, "unmasked vector delivers at once");
	CHECK(pci_msix_notify(&dev1.pci, 3) == -EINVAL, "vector past the table refused");

	cfg_wr(1, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	pci_msix_notify(&dev1.pci, 1);
	CHECK(irq.n[MSI] == 2 && msix_rw(table, PCI_MSIX_PBA_START, 0, false) == 2,
	      "function mask holds the message pending");
	cfg_wr(1, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	CHECK(irq.n[MSI] == 3, "delivered when the function mask clears");
	msix_rw(table, 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1, true);
	pci_msix_notify(&dev1.pci, 1);
	CHECK(irq.n[MSI] == 3, "per-vector mask holds it");
	msix_rw(table, 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, true);
	CHECK(irq.n[MSI] == 4, "delivered on per-vector unmask");

	/* irqfd: a route for the vector, the eventfd attached only while unmasked. */
	CHECK(pci_msix_irqfd(&dev1.pci, 1, fd, true) == 0 && irq.n[ROUTE_ADD] == 1 &&
		  irq.irqfds == 1 && irq.b[ROUTE_ADD] == 0x41,
	      "irqfd on an unmasked vector: route added with its message, irqfd assigned");
	msix_rw(table, 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1, true);
	CHECK(irq.irqfds == 0, "masking the vector detaches the irqfd");
	msix_rw(table, 16 + PCI_MSIX_ENTRY_DATA, 0x42, true);
	CHECK(write(fd, &one, 8) == 8 && msix_rw(table, PCI_MSIX_PBA_START, 0, false) == 2,
	      "an eventfd written while masked shows in the PBA");
	int sets = irq.n[ROUTE_SET];
	msix_rw(table, 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, true);
	CHECK(irq.irqfds == 1 && irq.n[ROUTE_SET] > sets && irq.b[ROUTE_SET] == 0x42,
	      "unmask: route updated to the new message, irqfd reattached");
	msix_rw(table, 16 + PCI_MSIX_ENTRY_DATA, 0x43, true);
	CHECK(irq.b[ROUTE_SET] == 0x43, "rewriting an unmasked entry keeps the route in sync");
	cfg_wr(1, cap + PCI_MSIX_FLAGS, 0, 2);
	CHECK(irq.irqfds == 0, "disabling MSI-X detaches the irqfd");
	cfg_wr(1, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	CHECK(pci_msix_irqfd(&dev1.pci, 1, fd, false) == 0 && irq.irqfds == 0 &&
		  irq.n[ROUTE_DEL] == 1,
	      "removing the irqfd deassigns it and deletes the route");
	CHECK(pci_msix_irqfd(&dev1.pci, 1, fd, false) == -ENOENT, "removing it twice: -ENOENT");
	close(fd);
	cfg_wr(1, cap + PCI_MSIX_FLAGS, 0, 2);
	cfg_wr(1, PCI_COMMAND, 0, 2);
}

static void test_intx(void)
{
	uint32_t cap = PCI_CAP_START + 8;

	irq.n[LINE] = 0;
	pci_intx_set(&dev1.pci, true);
	CHECK(irq.n[LINE] == 1 && irq.a[LINE] == PCI_INTX_GSI_BASE && irq.b[LINE] == 1,
	      "INTx asserts INTA's GSI");
	CHECK(cfg_rd(1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, "status shows the interrupt");
	pci_intx_set(&dev1.pci, true);
	CHECK(irq.n[LINE] == 1, "asserting twice is one level");
	cfg_wr(1, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	CHECK(irq.b[LINE] == 0, "INTX_DISABLE lowers the line");
	CHECK(cfg_rd(1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, "status still shows the request");
	cfg_wr(1, PCI_COMMAND, 0, 2);
	CHECK(irq.b[LINE] == 1, "clearing INTX_DISABLE raises it again");
	cfg_wr(1, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	CHECK(irq.b[LINE] == 0, "enabling MSI-X lowers INTx");
	cfg_wr(1, cap + PCI_MSIX_FLAGS, 0, 2);
	CHECK(irq.b[LINE] == 1, "disabling MSI-X restores it");

	/* Slot 9 shares slot 1's line: the line is the OR of both. */
	pci_intx_set(&more[7].pci, true);
	int lines = irq.n[LINE];
	pci_intx_set(&dev1.pci, false);
	CHECK(irq.n[LINE] == lines && irq.b[LINE] == 1,
	      "shared line stays up for the other device");
	pci_intx_set(&more[7].pci, false);
	CHECK(irq.b[LINE] == 0, "shared line drops when both are low");
	CHECK(!(cfg_rd(1, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT), "status clear");
}

static void test_ioeventfd(void)
{
	uint32_t bar0 = cfg_rd(1, PCI_BASE_ADDRESS_0, 4) & ~3u;

	irq.n[IOEVENTFD] = 0;
	CHECK(pci_bar_ioeventfd(&dev1.pci, 0, 16, 2, true, 1, 7, true) == 0 &&
		  irq.n[IOEVENTFD] == 0,
	      "ioeventfd on a BAR that does not decode: recorded, not wired");
	CHECK(pci_bar_ioeventfd(&dev1.pci, 0, 31, 2, false, 0, 7, true) == -EINVAL,
	      "ioeventfd past the BAR's end refused");
	cfg_wr(1, PCI_COMMAND, PCI_COMMAND_IO, 2);
	CHECK(irq.ioeventfds == 1 && irq.a[IOEVENTFD] == bar0 + 16, "wired when decoding starts");
	cfg_wr(1, PCI_BASE_ADDRESS_0, 0xd000, 4);
	CHECK(irq.n[IOEVENTFD] == 3 && irq.ioeventfds == 1 && irq.a[IOEVENTFD] == 0xd010,
	      "BAR move: unwired at the old address, wired at the new one");
	cfg_wr(1, PCI_COMMAND, 0, 2);
	CHECK(irq.ioeventfds == 0 && irq.a[IOEVENTFD] == 0xd010, "unwired when decoding stops");
	cfg_wr(1, PCI_COMMAND, PCI_COMMAND_IO, 2);
	CHECK(pci_bar_ioeventfd(&dev1.pci, 0, 16, 2, true, 1, 7, false) == 0 && irq.ioeventfds == 0,
	      "removed: unwired");
	CHECK(pci_bar_ioeventfd(&dev1.pci, 0, 16, 2, true, 1, 7, false) == -ENOENT,
	      "removed twice: -ENOENT");
	cfg_wr(1, PCI_BASE_ADDRESS_0, bar0, 4);
	cfg_wr(1, PCI_COMMAND, 0, 2);
}

static void test_routes(void)
{
	const struct pci_irq_route *r;
	int n = pci_irq_routes(&pci, &r);

	CHECK(n == 9, "one MP-table route per device, none for the host bridge");
	CHECK(r[0].slot == 1 && r[0].pin == 1 && r[0].gsi == 16, "slot 1 INTA -> GSI 16");
	CHECK(r[7].slot == 8 && r[7].gsi == 23 && r[8].slot == 9 && r[8].gsi == 16,
	      "GSIs 16..23 round robin");
}

int main(void)
{
	CHECK(harness_init() == 0, "pci_init registers conf1");
	tdev_create(&dev1, true);
	for (int i = 0; i < 8; i++)
		tdev_create(&more[i], false);

	test_conf1();
	test_read_only();
	test_bars();
	test_caps();
	test_cap_space();
	test_msix();
	test_intx();
	test_ioeventfd();
	test_routes();
	pci_destroy(&pci);
	CHECK(vm.pio.nr == 0 && vm.mmio.nr == 0, "pci_destroy leaves the buses empty");
	return CHECK_DONE();
}
