/* tests/fuzz/fuzz_pci.c - PCI config space and both virtio-pci transports fed access sequences:
 * three virtio-blk functions (transitional and modern with MSI-X, legacy with INTx) on a bus
 * without KVM, and the input a list of accesses - config reads and writes through the conf1
 * ports, reads and writes anywhere in each BAR (legacy registers, common config, notify, ISR,
 * device config, the MSI-X table and PBA), and writes to guest RAM where a driver puts rings. */
#include <linux/pci_regs.h>
#include <stdlib.h>

#include "blk/blk.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/test_pci_harness.h"

#define RAM   (1u << 20)
#define SLOTS 4 /* the host bridge and the three functions */

static uint64_t bar_addr(int slot, unsigned bar, bool *io)
{
	uint32_t lo = cfg_rd(slot, PCI_BASE_ADDRESS_0 + 4 * bar, 4);
	*io = lo & PCI_BASE_ADDRESS_SPACE_IO;
	if (*io)
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	uint64_t a = lo & PCI_BASE_ADDRESS_MEM_MASK;
	if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 && bar < 5)
		a |= (uint64_t)cfg_rd(slot, PCI_BASE_ADDRESS_0 + 4 * bar + 4, 4) << 32;
	return a;
}

static void run(struct fuzz_in *in)
{
	while (in->left) {
		unsigned op = fuzz_take(in, 1), slot = fuzz_take(in, 1) % SLOTS;
		unsigned len = 1u << (fuzz_take(in, 1) % 4); /* 1, 2, 4, 8 */
		uint64_t v;
		bool io;
		switch (op % 6) {
		case 0: /* config read */
			cfg_rd(slot, fuzz_take(in, 1), len > 4 ? 4 : len);
			break;
		case 1: /* config write */
			cfg_wr(slot, fuzz_take(in, 1), fuzz_take(in, 4), len > 4 ? 4 : len);
			break;
		case 2: /* BAR read or write, at an offset in its first 16 KiB */
		case 3: {
			uint64_t addr = bar_addr(slot, fuzz_take(in, 1) % 6, &io);
			addr += fuzz_take(in, 2) & 0x3fff;
			v = op % 6 == 3 ? fuzz_take(in, 8) : 0;
			bus_dispatch(io ? &vm.pio : &vm.mmio, addr, &v, io && len > 4 ? 4 : len,
				     op % 6 == 3);
			break;
		}
		case 4: { /* guest RAM: rings, descriptors, requests */
			uint64_t gpa = fuzz_take(in, 3) % (RAM - 8);
			v = fuzz_take(in, 8);
			memcpy(vm.mem.lo + gpa, &v, len);
			break;
		}
		default: /* conf1 with any bus, device and function */
			v = fuzz_take(in, 4);
			bus_dispatch(&vm.pio, PCI_CONF1_ADDR_PORT, &v, 4, true);
			v = fuzz_take(in, 4);
			bus_dispatch(&vm.pio, PCI_CONF1_DATA_PORT + (op >> 6), &v, 1, op & 0x20);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		enum virtio_pci_mode mode;
		bool msix;
	} fns[] = {{VIRTIO_PCI_TRANSITIONAL, true},
		   {VIRTIO_PCI_MODERN, true},
		   {VIRTIO_PCI_LEGACY, false}};
	static const char *disk;
	static uint8_t *ram;
	struct virtio_dev *blk[3] = {NULL};
	struct fuzz_in in = {data, size};

	if (!ram) {
		static uint8_t zeros[8192];
		disk = fuzz_file("disk.img", zeros, sizeof(zeros));
		if (!(ram = malloc(RAM)))
			abort();
	}
	if (harness_init() < 0)
		abort();
	memset(ram, 0, RAM);
	vm.mem = (struct guest_mem){.lo = ram, .lo_size = RAM};
	for (unsigned i = 0; i < 3; i++) {
		struct blk_config cfg = {.path = disk, .ro = true, .io = BLK_IO_VCPU};
		if (blk_create(&vm, &cfg, &blk[i]) < 0 ||
		    virtio_pci_create(&pci, blk[i], fns[i].mode, fns[i].msix) < 0)
			abort();
		/* as firmware leaves it: decoding and bus mastering on */
		cfg_wr(1 + i, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
		       2);
	}
	run(&in);
	for (unsigned i = 0; i < 3; i++)
		virtio_reset(blk[i]);
	pci_destroy(&pci);
	for (unsigned i = 0; i < 3; i++)
		blk_destroy(blk[i]);
	return 0;
}
