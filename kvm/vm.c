/* kvm/vm.c - the VM: /dev/kvm, guest RAM, the in-kernel irqchip and PIT, one vCPU and its entry
 * in flat protected or long mode, the serial port and platform ports. kvm/run.c runs it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/internal.h"

#define TSS_ADDR	  0xfffbd000 /* three pages just under the BIOS area, unused by us */
#define IDENTITY_MAP_ADDR 0xfffbc000
#define RAM_ALIGN	  (2ull << 20) /* an x86 large page */

/* A mapping of size bytes whose start is RAM_ALIGN-aligned: mmap only promises a page, so take
 * RAM_ALIGN more of address space, place the mapping on the aligned address inside it, and give
 * back the rest. MAP_FAILED with errno set on failure. */
static void *mmap_aligned(uint64_t size, int flags, int fd, uint64_t off)
{
	uint64_t span = size + RAM_ALIGN;
	uint8_t *res =
	    mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *p, *end;

	if (res == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)(((uintptr_t)res + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1));
	end = p + size;
	if (mmap(p, size, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, (off_t)off) ==
	    MAP_FAILED) {
		int err = errno;
		munmap(res, span);
		errno = err;
		return MAP_FAILED;
	}
	if (p > res)
		munmap(res, p - res);
	if (res + span > end)
		munmap(end, res + span - end);
	return p;
}

/* Guest RAM at gpa: anonymous memory, or (fd >= 0) the memfd's bytes from off, shared so that
 * a vhost-user backend mapping the same fd sees what the guest wrote. 2 MiB-aligned in our
 * address space as gpa is in the guest's: only then can a transparent huge page back a 2 MiB
 * of guest RAM and KVM map it to the guest as one 2 MiB page (KVM needs host and guest address
 * to agree modulo 2 MiB). Unaligned, every 4 KiB the guest first touches costs a nested-paging
 * fault of its own (docs/bench.md). */
static int map_ram(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, int fd, uint64_t off,
		   uint8_t **host)
{
	struct kvm_userspace_memory_region r;
	void *p;

	if (fd >= 0)
		p = mmap_aligned(size, MAP_SHARED | MAP_NORESERVE, fd, off);
	else
		p = mmap_aligned(size, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, size, MADV_HUGEPAGE);
	r = (struct kvm_userspace_memory_region){.slot = slot,
						 .guest_phys_addr = gpa,
						 .memory_size = size,
						 .userspace_addr = (uintptr_t)p};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int err = -errno;
		munmap(p, size);
		return err;
	}
	*host = p;
	return 0;
}

/* One memfd for all of guest RAM (sparse: pages exist once touched). */
static int ram_memfd(uint64_t size)
{
	int fd = memfd_create("kvmscope-guest-ram", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int create_vcpu(struct vm *vm, struct vcpu *vcpu, int id)
{
	int size;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return -errno;
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return -EINVAL;
	vcpu->run_size = size;
	vcpu->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return -errno;
	}
	return cpuid_init(vm, vcpu);
}

int vcpu_enter_flat(struct vcpu *vcpu, const struct kvm_regs *r, bool long_mode, uint64_t gdt,
		    uint64_t pml4)
{
	struct kvm_sregs s;
	/* Flat 4 GiB segments in the GDT's slots 0x10 (code) and 0x18 (data). */
	struct kvm_segment code = {.limit = 0xffffffff,
				   .selector = 0x10,
				   .type = 11,
				   .present = 1,
				   .s = 1,
				   .l = long_mode,
				   .db = !long_mode,
				   .g = 1};
	struct kvm_segment data = {.limit = 0xffffffff,
				   .selector = 0x18,
				   .type = 3,
				   .present = 1,
				   .s = 1,
				   .db = 1,
				   .g = 1};

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = gdt;
	s.gdt.limit = 4 * 8 - 1;
	if (long_mode) {
		s.cr3 = pml4;
		s.cr4 = 0x20;	    /* PAE */
		s.cr0 = 0x80050033; /* PG, AM, WP, NE, ET, MP, PE */
		s.efer = 0x500;	    /* LME, LMA */
	} else {
		s.cr4 = 0;
		s.cr0 = 0x11; /* PE, ET: protected mode, paging off */
		s.efer = 0;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, r) < 0)
		return -errno;
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "kvmscope: %s: %s\n", what, strerror(-err));
	return err;
}

/* How many vCPUs this host's KVM takes: KVM_CAP_MAX_VCPUS is the hard limit (older kernels only
 * have KVM_CAP_NR_VCPUS, the recommended one, or nothing: then 4, as the API documents). */
static int host_max_vcpus(int kvm_fd, int *recommended)
{
	int max = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	int nr = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);

	*recommended = nr > 0 ? nr : 4;
	return max > 0 ? max : *recommended;
}

static int check_vcpus(struct vm *vm, int n)
{
	int recommended, max = host_max_vcpus(vm->kvm_fd, &recommended);

	if (n > max || n > VM_MAX_VCPUS) {
		fprintf(stderr, "kvmscope: --smp %d: this host's KVM allows at most %d vCPUs\n", n,
			max < VM_MAX_VCPUS ? max : VM_MAX_VCPUS);
		return -E2BIG;
	}
	if (n > recommended)
		fprintf(stderr,
			"kvmscope: note: %d vCPUs, more than KVM recommends here (%d, the host's "
			"CPUs): they share the CPUs, the guest runs slower\n",
			n, recommended);
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	uint64_t lo, hi;
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->mem.fd = -1;
	for (int i = 0; i < VM_MAX_VCPUS; i++)
		vm->vcpus[i].fd = -1;
	pthread_mutex_init(&vm->halt_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	bus_init(&vm->pio);
	bus_init(&vm->mmio);

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return fail("/dev/kvm", -errno);
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return fail("/dev/kvm: unexpected KVM API version", -EINVAL);
	vm->is_pvm = host_is_pvm();
	vm->sync_regs = (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & SYNC_REGS) ==
			SYNC_REGS;
	r = check_vcpus(vm, cfg->nr_vcpus > 0 ? cfg->nr_vcpus : 1);
	if (r < 0)
		return r;
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail("KVM_CREATE_VM", -errno);

	/* Intel VMX needs these two; other KVMs accept or ignore them. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0)
		return fail("KVM_SET_TSS_ADDR", -errno);
	uint64_t idmap = IDENTITY_MAP_ADDR;
	ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);

	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("KVM_CREATE_IRQCHIP", -errno);
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return fail("KVM_CREATE_PIT2", -errno);
	r = irq_init(vm);
	if (r < 0)
		return fail("GSI routing", r);

	lo = cfg->mem_size < GUEST_PCI_HOLE ? cfg->mem_size : GUEST_PCI_HOLE;
	hi = cfg->mem_size - lo;
	if (cfg->shared_ram) {
		vm->mem.fd = ram_memfd(cfg->mem_size);
		if (vm->mem.fd < 0)
			return fail("guest RAM (memfd_create)", vm->mem.fd);
	}
	r = map_ram(vm, 0, 0, lo, vm->mem.fd, 0, &vm->mem.lo);
	if (r < 0)
		return fail("guest RAM", r);
	vm->mem.lo_size = lo;
	if (hi) {
		r = map_ram(vm, 1, GUEST_4G, hi, vm->mem.fd, lo, &vm->mem.hi);
		if (r < 0)
			return fail("guest RAM above 4 GiB", r);
		vm->mem.hi_size = hi;
	}

	/* vCPU 0 is KVM's boot CPU and starts runnable; the others start waiting for INIT and
	 * SIPI, which the in-kernel LAPIC takes from the guest's own startup IPIs. */
	vm->nr_vcpus = cfg->nr_vcpus > 0 ? cfg->nr_vcpus : 1;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		r = create_vcpu(vm, &vm->vcpus[i], i);
		if (r < 0) {
			char what[32];
			snprintf(what, sizeof(what), "vCPU %d", i);
			return fail(what, r);
		}
	}

	vm->serial = serial_create(vm, cfg->serial_out_fd);
	if (!vm->serial)
		return fail("serial port", -ENOMEM);
	r = platform_init(vm);
	if (r < 0)
		return fail("platform ports", r);
	r = cfg->no_coalesce ? 0 : coalesced_init(vm);
	if (r < 0)
		return fail("KVM_REGISTER_COALESCED_MMIO (the console's transmit register)", r);
	return 0;
}

void vm_destroy(struct vm *vm)
{
	serial_destroy(vm->serial);
	vm->serial = NULL;
	vm->coalesced = NULL; /* it lies in vCPU 0's kvm_run mapping, unmapped below */
	for (int i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, v->run_size);
		if (v->fd >= 0)
			close(v->fd);
		v->run = NULL;
		v->fd = -1;
	}
	irq_destroy(vm);
	if (vm->mem.lo)
		munmap(vm->mem.lo, vm->mem.lo_size);
	if (vm->mem.hi)
		munmap(vm->mem.hi, vm->mem.hi_size);
	if (vm->mem.fd >= 0)
		close(vm->mem.fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	vm->vm_fd = vm->kvm_fd = vm->stop_fd = -1;
	vm->mem = (struct guest_mem){.fd = -1};
}
