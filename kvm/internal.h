/* kvm/internal.h - what the files of kvm/ share among themselves; outsiders use kvm/kvm.h. */
#ifndef KVMSCOPE_KVM_INTERNAL_H
#define KVMSCOPE_KVM_INTERNAL_H

#include <linux/kvm.h>

#include "kvm/kvm.h"

/* The registers the trace's guest context reads, left in kvm_run by KVM_RUN (run.c). */
#define SYNC_REGS (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

/* Serial console (serial.c). */
struct serial_sink {
	void (*fn)(void *opaque, uint8_t c); /* every byte the guest transmits */
	void *opaque;
};
struct serial *serial_create(struct vm *vm, int out_fd);
void serial_destroy(struct serial *s);
void serial_input(struct serial *s, const void *buf, size_t len);
void serial_set_sink(struct serial *s, const struct serial_sink *sink);

/* The coalesced ring (coalesced.c), when KVM offers coalesced port I/O, with the console's
 * transmit register as its first zone; -errno when KVM refuses the zone. */
int coalesced_init(struct vm *vm);
/* Applies the writes waiting in vm's ring, in order; any thread, cheap when it is empty. */
void coalesced_drain(struct vm *vm);
/* The ring's writes from first to last onto the buses, each traced; first moves on as each is
 * applied. Returns how many; 0 for a ring whose indices are out of range. */
struct kvm_coalesced_mmio_ring;
unsigned coalesced_ring_apply(struct kvm_coalesced_mmio_ring *ring, uint32_t max, struct bus *pio,
			      struct bus *mmio);

/* Serial console output waiting for a newline: written now (any thread). */
void serial_flush(struct serial *s);

/* Fixed platform ports: debug exit, marker, i8042 reset, unclaimed legacy probes (platform.c). */
int platform_init(struct vm *vm);

/* Interrupt routing (irq.c). */
int irq_init(struct vm *vm);
void irq_destroy(struct vm *vm);

/* CPUID (cpuid.c). */
int cpuid_init(struct vm *vm, struct vcpu *vcpu);
/* What kvmscope changes in KVM_GET_SUPPORTED_CPUID's leaves for vCPU vcpu_id (cpuid_init). */
void cpuid_adjust(struct kvm_cpuid_entry2 *ent, uint32_t n, unsigned vcpu_id);

/* KVM_EXIT_INTERNAL_ERROR: complete what is safe to complete (emulate.c).
 * Returns 0 when the guest can go on, -1 when the VM must stop (diagnosed on stderr). */
int emulate_internal_error(struct vcpu *vcpu);
const char *emu_kind_name(enum emu_kind k);

/* Boot pieces (boot.c, mptable.c), separate so that the unit tests can check each. */
struct boot_params;
struct setup_header;
struct boot_image {
	uint64_t entry;	      /* guest-physical 64-bit entry point */
	uint64_t end;	      /* first byte above the loaded kernel */
	uint64_t initrd_max;  /* highest address the initrd may end at */
	uint64_t cmdline_max; /* longest command line the kernel takes */
};
/* Flat segments from the GDT at gdt (code 0x10, data 0x18) and registers r: 64-bit long mode
 * with the page tables at pml4, or 32-bit protected mode with paging off (PVH); vm.c, beneath
 * both entries (boot.c, pvh.c). */
int vcpu_enter_flat(struct vcpu *vcpu, const struct kvm_regs *r, bool long_mode, uint64_t gdt,
		    uint64_t pml4);
void boot_e820(struct boot_params *zp, const struct guest_mem *mem);
void boot_header_for_elf(struct setup_header *h);
int boot_place_initrd(const struct guest_mem *mem, uint64_t kernel_end, uint64_t initrd_max,
		      uint64_t size, uint64_t *addr);
/* mem NULL: only check the file. */
int boot_load_elf(struct guest_mem *mem, const char *file, const void *img, size_t len,
		  struct boot_image *out);
/* PVH (pvh.c): the kernel's 32-bit entry from its ELF note (-ENOENT: none); enter there. */
int pvh_find_entry(const void *img, size_t len, uint64_t *entry);
int pvh_enter(struct vm *vm, uint64_t entry, const struct boot_params *zp, uint64_t gdt);
/* Writes the MP floating pointer and table for nr_cpus processors at host buf (guest address
 * gpa); -ENOSPC if > 64K, -EINVAL for a CPU count an MP table cannot hold. */
int mptable_write(void *buf, uint64_t gpa, int nr_cpus, const struct pci_irq_route *pci,
		  int nr_pci);

#endif
