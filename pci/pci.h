/* pci/pci.h - front door of the pci layer, on kvm/: host bridge, configuration mechanism #1,
 * config space with write masks, BAR allocation and decoding, capabilities, MSI-X and INTx.
 * Inside, from the bottom up: config.c, irq.c, bus.c. virtio/'s transport stands on it. */
#ifndef KVMSCOPE_PCI_H
#define KVMSCOPE_PCI_H

#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm/kvm.h"

#define PCI_MAX_SLOTS	     32 /* bus 0, function 0 of each slot; slot 0 is the host bridge */
#define PCI_CFG_SIZE	     256
#define PCI_CAP_START	     0x40 /* first capability, right after the type 0 header */
#define PCI_CONF1_ADDR_PORT  0xCF8
#define PCI_CONF1_DATA_PORT  0xCFC
#define PCI_INTX_GSI_BASE    16 /* INTA of slot N goes to IOAPIC pin 16 + (N - 1) % 8 */
#define PCI_INTX_GSI_COUNT   8
#define PCI_MSIX_MAX_VECTORS 64
#define PCI_MSIX_MAX_IRQFDS  16 /* eventfds attached to vectors, per device */
#define PCI_MAX_IOEVENTFDS   16 /* eventfds on BAR addresses, per device */
#define PCI_MSIX_BAR_SIZE    4096
#define PCI_MSIX_PBA_START   0x800 /* the table fills [0, 64 * 16), the PBA follows */

struct pci;
struct pci_dev;

/* What the pci layer tells a device. All optional; called on the vCPU thread during a config
 * access, with the bus's config lock held (so they may take the device's own locks). */
struct pci_dev_ops {
	/* Before a config read of [off, off + len): refresh bytes the device computes. */
	void (*cfg_read)(struct pci_dev *dev, uint32_t off, uint32_t len);
	/* After a config write of [off, off + len) went into dev->cfg through the write mask. */
	void (*cfg_write)(struct pci_dev *dev, uint32_t off, uint32_t len);
	/* BAR bar started decoding at addr, moved to addr, or stopped decoding (!mapped). */
	void (*bar_map)(struct pci_dev *dev, int bar, bool mapped, uint64_t addr);
	/* pci_destroy(): free what the device owns (the device may free itself). */
	void (*release)(struct pci_dev *dev);
};

struct pci_bar {
	uint64_t size; /* a power of two; 0 when the BAR is not implemented */
	uint32_t type; /* PCI_BASE_ADDRESS_SPACE_IO, or _MEM_TYPE_32 / _MEM_TYPE_64 (| _PREFETCH) */
	struct io_dev io; /* on vm->pio or vm->mmio while mapped; io.base is the decoded address */
	bool mapped;
};

/* An eventfd the kernel signals on a guest write into a BAR; re-wired when the BAR moves. */
struct pci_ioeventfd {
	int fd; /* -1: free */
	int8_t bar;
	uint8_t len;
	bool datamatch;
	bool wired; /* assigned at wired_addr */
	uint64_t off, data, wired_addr;
};

struct pci_msix_irqfd {
	int fd; /* -1: free */
	uint16_t vector;
};

/* MSI-X state, guarded by pci_dev.lock: signalled from any thread, programmed by the guest. */
struct pci_msix {
	uint16_t nr; /* vectors; 0: no MSI-X capability */
	int8_t bar;
	uint8_t cap;				 /* offset of the capability in config space */
	bool enabled;				 /* PCI_MSIX_FLAGS_ENABLE */
	bool func_mask;				 /* PCI_MSIX_FLAGS_MASKALL */
	uint32_t table[PCI_MSIX_MAX_VECTORS][4]; /* PCI_MSIX_ENTRY_* dwords */
	uint64_t pending;			 /* the PBA, one bit a vector */
	int gsi[PCI_MSIX_MAX_VECTORS];		 /* KVM route of a vector with irqfds, or -1 */
	bool attached[PCI_MSIX_MAX_VECTORS];	 /* its irqfds are assigned (vector unmasked) */
	struct pci_msix_irqfd irqfds[PCI_MSIX_MAX_IRQFDS];
};

struct pci_dev {
	struct pci *pci;
	const struct pci_dev_ops *ops;
	void *opaque; /* the device's */
	const char *name;
	uint16_t trace_id; /* the device in trace events: its creator sets it after pci_dev_init */
	uint8_t slot;
	uint8_t gsi; /* INTA's IOAPIC pin, also written to PCI_INTERRUPT_LINE as a BIOS would */
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE]; /* bits of cfg the guest may change */
	uint16_t next_cap; /* the next free dword for a capability; PCI_CFG_SIZE when full */
	struct pci_bar bars[PCI_STD_NUM_BARS];

	pthread_mutex_t lock; /* MSI-X and INTx: any thread */
	bool intx_level;      /* what the device asks for */
	bool intx_asserted;   /* what the line is (level, unless INTx disabled or MSI-X on) */
	bool intx_blocked;    /* PCI_COMMAND_INTX_DISABLE, or MSI-X enabled */
	struct pci_msix msix;
	struct pci_ioeventfd ioeventfds[PCI_MAX_IOEVENTFDS]; /* also under lock */
};

/* What the pci layer asks of KVM: interrupts and ioeventfds. The VM's (vm_irq_line,
 * vm_signal_msi, vm_msi_route_*, vm_irqfd, vm_ioeventfd) by default; unit tests record them
 * instead. Each returns -errno on failure. */
struct pci_kvm_ops {
	int (*line)(void *opaque, uint32_t gsi, int level);
	int (*msi)(void *opaque, uint64_t addr, uint32_t data);
	int (*route_add)(void *opaque, uint64_t addr, uint32_t data); /* a GSI */
	int (*route_set)(void *opaque, uint32_t gsi, uint64_t addr, uint32_t data);
	int (*route_del)(void *opaque, uint32_t gsi);
	int (*irqfd)(void *opaque, int fd, uint32_t gsi, bool assign);
	int (*ioeventfd)(void *opaque, int fd, enum bus_space space, uint64_t addr, uint32_t len,
			 bool datamatch, uint64_t data, bool assign);
	void *opaque;
};

struct pci {
	struct vm *vm;
	pthread_mutex_t lock; /* the conf1 address, config spaces and BAR mappings */
	uint32_t conf1_addr;
	struct io_dev conf1;
	struct pci_dev host_bridge;
	struct pci_dev *slots[PCI_MAX_SLOTS];
	uint64_t pio_next, mmio_next; /* BAR allocation, as firmware would do it */

	pthread_mutex_t irq_lock;		/* the shared INTx lines */
	unsigned gsi_users[PCI_INTX_GSI_COUNT]; /* asserted devices per line: level OR */
	struct pci_kvm_ops kvm;

	struct pci_irq_route routes[PCI_MAX_SLOTS];
	int nr_routes;
};

/* The bus: host bridge at 00:00.0 and conf1 (0xCF8-0xCFF) on vm->pio. */
int pci_init(struct pci *pci, struct vm *vm);
void pci_destroy(struct pci *pci); /* unmaps every BAR, releases every device */
void pci_set_kvm_ops(struct pci *pci, const struct pci_kvm_ops *ops);
/* The MP table's lines: one (slot, INTA, GSI) a device with an interrupt pin. */
int pci_irq_routes(const struct pci *pci, const struct pci_irq_route **routes);

/* A device is built in this order: pci_dev_init, pci_bar_init / pci_cap_add / pci_msix_init,
 * then pci_dev_add, which gives it a slot, a GSI and BAR addresses (decoding off). */
int pci_dev_init(struct pci_dev *dev, const char *name, uint16_t vendor, uint16_t device,
		 uint8_t revision, uint32_t class_code, const struct pci_dev_ops *ops,
		 void *opaque);
void pci_dev_set_subsystem(struct pci_dev *dev, uint16_t vendor, uint16_t id);
/* size: a power of two (I/O: >= 4, memory: >= 16); io handles accesses relative to the BAR. */
int pci_bar_init(struct pci_dev *dev, int bar, uint64_t size, uint32_t type, io_fn io,
		 void *opaque);
/* Adds a capability (its first byte is the ID; the next pointer is filled in) at the next free
 * dword from 0x40 and links it at the head of the list, so a walk finds the newest first (the
 * order QEMU gives, docs/pci.md). Returns its config-space offset or -ENOSPC. Its bytes are
 * read-only until pci_cfg_wmask(). */
int pci_cap_add(struct pci_dev *dev, const void *cap, uint8_t len);
/* Lets the guest change the bits of mask in the len (1, 2, 4) bytes at off. */
void pci_cfg_wmask(struct pci_dev *dev, uint32_t off, uint32_t mask, uint32_t len);
int pci_dev_add(struct pci *pci, struct pci_dev *dev);

/* Raw little-endian access to dev->cfg, for the device itself (no masks, no hooks). */
uint32_t pci_cfg_get(const struct pci_dev *dev, uint32_t off, uint32_t len);
void pci_cfg_put(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len);
/* A BAR access as if decoded (the virtio PCI_CFG window): -EINVAL outside the BAR. */
int pci_bar_access(struct pci_dev *dev, int bar, uint64_t off, void *data, uint32_t len,
		   bool is_write);

/* Eventfd fd is signalled by the kernel, not this process, when the guest writes len bytes at
 * off in BAR bar (equal to data when datamatch), wherever the BAR is and while it decodes.
 * assign false removes the one with the same arguments. */
int pci_bar_ioeventfd(struct pci_dev *dev, int bar, uint64_t off, uint32_t len, bool datamatch,
		      uint64_t data, int fd, bool assign);

/* MSI-X: table and PBA in a 4 KiB 32-bit memory BAR of their own. */
int pci_msix_init(struct pci_dev *dev, unsigned nr_vectors, int bar);
bool pci_msix_enabled(struct pci_dev *dev);
/* The message vector sends, and whether it is masked now (so pending): for the trace. */
bool pci_msix_message(struct pci_dev *dev, unsigned vector, uint64_t *addr, uint32_t *data);
/* Deliver vector, or set its pending bit while it is masked (delivered on unmask). */
int pci_msix_notify(struct pci_dev *dev, unsigned vector);
/* Writing eventfd fd raises vector in the kernel: a GSI route kept in step with the table,
 * and an irqfd detached while the vector is masked. assign false removes that (vector, fd). */
int pci_msix_irqfd(struct pci_dev *dev, unsigned vector, int fd, bool assign);

/* INTA at level semantics: asserted until the device lowers it (virtio: the ISR read). */
void pci_intx_set(struct pci_dev *dev, bool level);

#endif
