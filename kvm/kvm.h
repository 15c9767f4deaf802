/* kvm/kvm.h - front door of the kvm layer, where a guest's access enters: VM, vCPU, guest memory,
 * I/O buses, interrupts, boot. It stands on trace/trace.h alone (every layer records into the
 * trace); pci/ stands on it. */
#ifndef KVMSCOPE_KVM_H
#define KVMSCOPE_KVM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest-physical layout. RAM above GUEST_PCI_HOLE moves to 4 GiB, as on a PC. */
#define GUEST_PCI_HOLE	   0xC0000000ULL
#define GUEST_4G	   0x100000000ULL
#define GUEST_MMIO32_BASE  0xC0000000ULL /* 32-bit BARs are placed from here ... */
#define GUEST_MMIO32_END   0xFEC00000ULL /* ... up to the IOAPIC */
#define GUEST_IOAPIC_BASE  0xFEC00000ULL
#define GUEST_LAPIC_BASE   0xFEE00000ULL
#define GUEST_MSI_BASE	   0xFEE00000ULL
#define GUEST_PIO_BAR_BASE 0xC000 /* I/O BARs, like a PC BIOS places them */
#define GUEST_PIO_BAR_END  0x10000

/* Fixed ports of the kvmscope machine. */
#define PORT_DEBUG_EXIT 0xF4 /* an 8-bit write of N: kvmscope exits with status N */
#define PORT_MARKER	0xF5 /* bytes of a phase marker string, ended by '\n' or 0 */
#define PORT_COM1	0x3F8
#define IRQ_COM1	4

/* Guest-physical memory. guest_ptr() is the one way to touch it. */
struct guest_mem {
	uint8_t *lo; /* guest [0, lo_size) */
	uint64_t lo_size;
	uint8_t *hi; /* guest [4 GiB, 4 GiB + hi_size) */
	uint64_t hi_size;
	/* With vm_config.shared_ram: one memfd holds all RAM, lo at offset 0, hi at lo_size, so
	 * another process (a vhost-user backend) can map it. -1 otherwise. */
	int fd;
};

/* Host pointer to guest [gpa, gpa + len), or NULL when any byte of it is outside RAM. */
void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
uint64_t guest_mem_size(const struct guest_mem *m);
/* KiB resident in the VMM's own memory: every mapping of smaps (/proc/self/smaps) but the ones
 * holding m's RAM. -errno when smaps cannot be read. */
long vmm_rss_beyond_ram_kib(const struct guest_mem *m, const char *smaps);

/* I/O buses: port I/O and MMIO dispatch through the same code (ranges + one callback). */
enum bus_space { BUS_PIO, BUS_MMIO };

struct io_dev;
/* Called on the vCPU thread; off is relative to dev->base; len is 1, 2, 4 or 8. */
typedef void (*io_fn)(struct io_dev *dev, uint64_t off, void *data, uint32_t len, bool is_write);

struct io_dev {
	uint64_t base, len;
	io_fn io;
	void *opaque;
	const char *name;
};

#define BUS_MAX_DEVS 64
struct bus {
	pthread_rwlock_t lock;
	struct io_dev *devs[BUS_MAX_DEVS]; /* sorted by base, never overlapping */
	int nr;
};

void bus_init(struct bus *b);
int bus_add(struct bus *b, struct io_dev *dev); /* -EEXIST on overlap, -ENOSPC when full */
int bus_del(struct bus *b, struct io_dev *dev); /* -ENOENT when not there */
int bus_move(struct bus *b, struct io_dev *dev, uint64_t new_base);
/* -ENOENT when nothing claims addr: reads then see all ones. */
int bus_dispatch(struct bus *b, uint64_t addr, void *data, uint32_t len, bool is_write);

/* Why the VM stopped; kvmscope's exit status follows from it. */
enum vm_stop_reason {
	VM_RUNNING = 0,
	VM_STOP_EXIT_PORT, /* the guest wrote PORT_DEBUG_EXIT: status is the byte */
	VM_STOP_RESET,	   /* reboot through the i8042 (reboot=k) or a triple fault: clean */
	VM_STOP_HALTED,	   /* halted with interrupts off: nothing can wake it */
	VM_STOP_ERROR,	   /* an exit kvmscope cannot handle: diagnosed on stderr */
	VM_STOP_SIGNAL,	   /* the user interrupted kvmscope */
	VM_STOP_USER,	   /* the user quit from the viewer (kvmscope run --step): clean */
};

struct vm;

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	uint64_t exits, fallbacks; /* counts: every exit, every emulation fallback */
	unsigned idle_round;	   /* the halt check's last round that found it idle (run.c) */
	bool halted;		   /* ... and found it halted with IF clear at idle_rip */
	uint64_t idle_rip;
};

/* kvmscope's own ceiling on --smp; the host's KVM may allow fewer (vm_create checks). */
#define VM_MAX_VCPUS 64

/* Counts of the fallbacks kvm/emulate.c performed, by kind. */
enum emu_kind { EMU_INT3, EMU_FWAIT, EMU_FNCLEX, EMU_LDMXCSR, EMU_STMXCSR, EMU_NR };

struct vm {
	int kvm_fd, vm_fd;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct vcpu vcpus[VM_MAX_VCPUS]; /* vcpus[0] is the boot CPU; each has APIC id = index */
	int nr_vcpus;
	bool is_pvm; /* the host KVM is kvm_pvm (software, CPUID not virtualized) */
	bool sync_regs; /* KVM_CAP_SYNC_REGS: KVM_RUN can leave the registers in kvm_run */

	/* GSI routing: IOAPIC/PIC pins 0..23 plus MSI routes from GSI 24 on. */
	pthread_mutex_t gsi_lock;
	struct kvm_irq_routing *routing;
	uint32_t next_gsi;

	struct serial *serial;
	/* KVM's coalesced ring (coalesced.c), NULL when every write exits; coalesced_lock keeps
	 * its writes in order when a vCPU and the console loop drain it at once. */
	struct kvm_coalesced_mmio_ring *coalesced;
	uint32_t coalesced_max;
	pthread_mutex_t coalesced_lock;
	uint64_t coalesced_writes; /* applied from the ring, under coalesced_lock */
	char marker[64];
	unsigned marker_len;

	uint64_t emu_count[EMU_NR];
	unsigned halt_round; /* the halt check (run.c), under halt_lock */
	pthread_mutex_t halt_lock;
	bool sandbox;		  /* the vCPU thread enters sandbox_enter() (--no-sandbox: not) */
	volatile int stop_reason; /* enum vm_stop_reason */
	int stop_fd;		  /* eventfd written by vm_stop(): wakes the console loop */
	int exit_status;
};

struct vm_config {
	uint64_t mem_size;
	int serial_out_fd; /* where the guest console goes, or -1 */
	int nr_vcpus;	   /* 0 means 1 */
	bool shared_ram;   /* guest RAM in a memfd another process may map (vhost-user) */
	bool no_coalesce;  /* every console byte exits (--no-coalesce), no coalesced ring */
};

/* -errno; message on stderr. -E2BIG: more vCPUs than the host's KVM allows. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
void vm_destroy(struct vm *vm);
/* Every byte the guest prints also goes to fn (the live viewer's console pane). */
void vm_set_console_sink(struct vm *vm, void (*fn)(void *opaque, uint8_t c), void *opaque);
/* Runs the guest until it stops, the console on the terminal; returns kvmscope's exit status. */
int vm_run(struct vm *vm, int console_in_fd);
void vm_stop(struct vm *vm, enum vm_stop_reason why, int status);
/* KVM keeps the guest's writes to ports port..port+len-1 in its coalesced ring instead of
 * exiting; they reach the bus in order before the next exit does (kvm/coalesced.c). Only for a
 * register the guest reads nothing back from before its next access that exits. 0 and nothing
 * done when the VM has no ring (--no-coalesce, or a KVM without coalesced port I/O); -errno. */
int vm_coalesce_pio(struct vm *vm, uint16_t port, uint32_t len);
/* The calling thread (and the threads it starts) from now on may make only the system calls a
 * running guest needs (kvm/sandbox.c); a forbidden one is named on stderr, fails with EPERM and
 * stops vm. -errno if the kernel refuses the filter. */
int sandbox_enter(struct vm *vm);
/* "openat" for 257 (x86-64), or NULL. */
const char *sandbox_syscall_name(long nr);

/* Interrupts. All are safe to call from any thread. */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data); /* returns a GSI or -errno */
int vm_msi_route_set(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);
int vm_msi_route_del(struct vm *vm, uint32_t gsi);
int vm_irqfd(struct vm *vm, int fd, uint32_t gsi, bool assign);
/* An eventfd signalled when the guest writes len bytes at addr (with data when datamatch). */
int vm_ioeventfd(struct vm *vm, int fd, enum bus_space space, uint64_t addr, uint32_t len,
		 bool datamatch, uint64_t data, bool assign);

/* Boot. */
enum kernel_kind { KERNEL_UNKNOWN, KERNEL_BZIMAGE, KERNEL_ELF };

/* A PCI interrupt pin wired to an IOAPIC pin, for the MP table Linux reads (no ACPI here). */
struct pci_irq_route {
	uint8_t slot;
	uint8_t pin; /* 1 = INTA .. 4 = INTD */
	uint8_t gsi;
};

struct boot_config {
	const char *kernel, *initrd, *cmdline;
	const struct pci_irq_route *pci_irqs;
	int nr_pci_irqs;
	bool pvh; /* enter an ELF kernel through its PVH note instead of the 64-bit entry */
};

int boot_load(struct vm *vm, const struct boot_config *bc); /* -errno, one line on stderr */
/* The kernel and initrd checked as boot_load() reads them, before any VM exists: the user hears
 * of a bad file first (-errno, one line on stderr naming it). */
int boot_check(const struct boot_config *bc);
enum kernel_kind kernel_kind_of(const void *buf, size_t len);

/* Compatibility with a software KVM whose CPUID is not virtualized (kvm_pvm). */
enum compat_mode { COMPAT_AUTO, COMPAT_ON, COMPAT_OFF };
bool host_is_pvm(void);
/* The guest command line words kvmscope adds: cpuid_words, the features a kvm_pvm guest must
 * switch off; tsc_khz, the guest's TSC frequency (vm_tsc_khz(), on every KVM), or 0 to leave it
 * out. "" when neither. */
void compat_cmdline(bool cpuid_words, unsigned tsc_khz, char *buf, size_t len);
unsigned vm_tsc_khz(struct vm *vm); /* KVM_GET_TSC_KHZ; 0 when KVM cannot say */

/* What kind of KVM this machine has (kvm/host.c), for reports: the module loaded, the machine's
 * DMI vendor and product, and the CPU's hypervisor bit and signature. */
struct host_kvm {
	char module[16];  /* kvm_pvm, kvm_intel, kvm_amd, kvm (none of those), or "" */
	char vendor[64];  /* /sys/class/dmi/id/sys_vendor, "" without DMI */
	char product[64]; /* /sys/class/dmi/id/product_name */
	bool hypervisor;  /* CPUID.1:ECX[31]: this machine is itself a virtual one */
	char hv_sig[13];  /* CPUID 0x40000000's signature (e.g. TCGTCGTCGTCG), "" when none */
};
/* Reads the module and DMI facts under root ("" for this machine); -ENOENT when no kvm module. */
int host_kvm_probe(const char *root, struct host_kvm *h);
void host_kvm_cpuid(struct host_kvm *h); /* this CPU's hypervisor bit and signature */
void host_kvm_describe(const struct host_kvm *h, char *buf, size_t len); /* one line */

/* The files `make install` ships: the guests (vmlinux, initrd.img, disk.img, mini.elf) and the
 * demo trace (traces/demo.kvt). shipped_path() fills buf with where NAME is for this binary and
 * returns 0, or -errno when it is not there (buf still names where it looked). */
enum shipped_dir { SHIPPED_GUEST, SHIPPED_DATA };
const char *shipped_dir(enum shipped_dir dir);
int shipped_path(enum shipped_dir dir, const char *name, char *buf, size_t len);
/* What `kvmscope run` boots without --kernel: the Linux guest (vmlinux, with initrd.img and
 * disk.img when they are there, else ""), or the mini guest when only mini.elf is installed.
 * -ENOENT when neither is; kernel then names where vmlinux was looked for. */
struct shipped_guest {
	char kernel[4096], initrd[4096], disk[4096];
	bool mini;
};
int shipped_guest(struct shipped_guest *g);

#endif
