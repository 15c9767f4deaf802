/* kvm/boot.c - loading a kernel with no BIOS: a bzImage by the Linux x86 boot protocol, or an ELF
 * (vmlinux, the mini guest) at its physical addresses; both entered in 64-bit long mode with the
 * page tables, GDT and zero page the VMM builds. Documentation/x86/boot.rst is the contract. */
#include <asm/bootparam.h>
#include <asm/e820.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/internal.h"

/* Where the VMM puts its own structures in low memory. */
#define GDT_ADDR       0x0500
#define BOOT_STACK     0x6ff0
#define ZERO_PAGE_ADDR 0x7000
#define PML4_ADDR      0x9000
#define PDPT_ADDR      0xa000
#define PD_ADDR	       0xb000 /* four pages: 4 GiB of 2 MiB pages */
#define CMDLINE_ADDR   0x20000
#define CMDLINE_MAX    4096
#define EBDA_START     0x9fc00
#define BIOS_START     0xf0000 /* the MP table lives here, where Linux looks for it */
#define BZIMAGE_LOAD   0x100000
#define MIN_MEM	       (16ULL << 20)

static int boot_err(const char *file, const char *what, int err)
{
	fprintf(stderr, "kvmscope: %s: %s\n", file, what);
	return err;
}

enum kernel_kind kernel_kind_of(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len >= 4 && memcmp(p, ELFMAG, SELFMAG) == 0)
		return KERNEL_ELF;
	if (len >= 0x250 && p[0x1fe] == 0x55 && p[0x1ff] == 0xaa &&
	    memcmp(p + 0x202, "HdrS", 4) == 0)
		return KERNEL_BZIMAGE;
	return KERNEL_UNKNOWN;
}

void boot_e820(struct boot_params *zp, const struct guest_mem *mem)
{
	const struct boot_e820_entry map[] = {
	    {.addr = 0, .size = EBDA_START, .type = E820_RAM},
	    {.addr = EBDA_START, .size = 0xa0000 - EBDA_START, .type = E820_RESERVED},
	    {.addr = BIOS_START, .size = 0x100000 - BIOS_START, .type = E820_RESERVED},
	    {.addr = 0x100000, .size = mem->lo_size - 0x100000, .type = E820_RAM},
	    {.addr = GUEST_4G, .size = mem->hi_size, .type = E820_RAM},
	};
	unsigned n = mem->hi_size ? 5 : 4;

	memcpy(zp->e820_table, map, n * sizeof(map[0]));
	zp->e820_entries = n;
}

int boot_place_initrd(const struct guest_mem *mem, uint64_t kernel_end, uint64_t initrd_max,
		      uint64_t size, uint64_t *addr)
{
	uint64_t top = mem->lo_size < initrd_max + 1 ? mem->lo_size : initrd_max + 1;

	/* As high as allowed, page aligned, above the kernel: where bootloaders put it. */
	if (size > top)
		return -E2BIG;
	*addr = (top - size) & ~0xfffULL;
	if (*addr < kernel_end)
		return -E2BIG;
	return 0;
}

/* Identity map of the first 4 GiB with 2 MiB pages, and a flat 64-bit GDT. */
static void build_long_mode(struct guest_mem *mem)
{
	uint64_t *pml4 = guest_ptr(mem, PML4_ADDR, 4096);
	uint64_t *pdpt = guest_ptr(mem, PDPT_ADDR, 4096);
	uint64_t *pd = guest_ptr(mem, PD_ADDR, 4 * 4096);
	uint64_t *gdt = guest_ptr(mem, GDT_ADDR, 4 * 8);

	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_ADDR | 0x3; /* present, writable */
	for (int i = 0; i < 4; i++)
		pdpt[i] = (PD_ADDR + i * 4096) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffULL; /* 0x10: 64-bit code, the boot protocol's __BOOT_CS */
	gdt[3] = 0x00cf93000000ffffULL; /* 0x18: flat data, __BOOT_DS */
}

/* bzImage: the protected-mode kernel at 1 MiB, its setup header copied into the zero page.
 * vm NULL: only check the image. */
static int load_bzimage(struct vm *vm, const char *file, const uint8_t *img, size_t len,
			struct boot_params *zp, struct boot_image *out)
{
	const struct setup_header *h = (const void *)(img + 0x1f1);
	unsigned setup_sects = h->setup_sects ? h->setup_sects : 4;
	size_t setup_len = (setup_sects + 1) * 512, hdr_end = 0x202 + img[0x201];
	void *dst;

	if (h->version < 0x020c || !(h->xloadflags & XLF_KERNEL_64))
		return boot_err(file, "bzImage has no 64-bit entry point (boot protocol < 2.12)",
				-ENOEXEC);
	if (setup_len >= len || hdr_end > len || hdr_end > 0x1f1 + sizeof(zp->hdr))
		return boot_err(file, "bzImage is truncated", -ENOEXEC);
	if (vm) {
		dst = guest_ptr(&vm->mem, BZIMAGE_LOAD, len - setup_len);
		if (!dst)
			return boot_err(file, "kernel does not fit in guest RAM", -E2BIG);
		memcpy(dst, img + setup_len, len - setup_len);
	}
	memcpy(&zp->hdr, img + 0x1f1, hdr_end - 0x1f1);
	out->entry = BZIMAGE_LOAD + 0x200; /* startup_64 */
	out->end = BZIMAGE_LOAD + (h->init_size > len - setup_len ? h->init_size : len - setup_len);
	out->initrd_max = h->initrd_addr_max;
	out->cmdline_max = h->cmdline_size;
	return 0;
}

/* An ELF kernel has no setup header of its own: say what a boot-protocol 2.15 loader says. */
void boot_header_for_elf(struct setup_header *h)
{
	h->boot_flag = 0xaa55;
	h->header = 0x53726448; /* "HdrS" */
	h->version = 0x020f;
	h->kernel_alignment = 0x200000;
	h->initrd_addr_max = 0x7fffffff;
	h->cmdline_size = CMDLINE_MAX - 1;
}

int boot_load_elf(struct guest_mem *mem, const char *file, const void *img, size_t len,
		  struct boot_image *out)
{
	Elf *e;
	GElf_Ehdr eh;
	size_t n;
	int r = 0;

	elf_version(EV_CURRENT);
	e = elf_memory((char *)img, len);
	if (!e || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, &n) < 0) {
		r = boot_err(file, "not a readable ELF file", -ENOEXEC);
		goto out;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		r = boot_err(file, "not an x86-64 ELF kernel", -ENOEXEC);
		goto out;
	}
	out->entry = eh.e_entry;
	out->end = 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		uint8_t *dst = mem ? guest_ptr(mem, ph.p_paddr, ph.p_memsz) : NULL;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset) {
			r = boot_err(file, "ELF segment lies outside the file", -ENOEXEC);
			goto out;
		}
		if ((mem && !dst) || ph.p_paddr < BZIMAGE_LOAD) {
			r = boot_err(file, "ELF segment outside guest RAM (try a larger --mem)",
				     -E2BIG);
			goto out;
		}
		if (dst) {
			memcpy(dst, (const uint8_t *)img + ph.p_offset, ph.p_filesz);
			memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		}
		if (ph.p_paddr + ph.p_memsz > out->end)
			out->end = ph.p_paddr + ph.p_memsz;
		/* A virtual entry point (a kernel linked high) runs at its physical twin. */
		if (eh.e_entry >= ph.p_vaddr && eh.e_entry - ph.p_vaddr < ph.p_memsz)
			out->entry = ph.p_paddr + (eh.e_entry - ph.p_vaddr);
	}
	if (!out->end)
		r = boot_err(file, "ELF file has no loadable segment", -ENOEXEC);
	out->initrd_max = 0x7fffffff;
	out->cmdline_max = CMDLINE_MAX - 1;
out:
	if (e)
		elf_end(e);
	return r;
}

static int read_file(const char *file, void **buf, size_t *len)
{
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	*len = st.st_size;
	*buf = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	close(fd);
	if (*buf == MAP_FAILED)
		return *len ? -errno : -ENOEXEC;
	return 0;
}

/* read_file() with one line naming the file and what it is (kernel, initrd) when it fails. */
static int read_user_file(const char *file, const char *what, void **buf, size_t *len)
{
	int r = read_file(file, buf, len);
	if (r < 0)
		fprintf(stderr, "kvmscope: %s: cannot read %s: %s\n", file, what,
			r == -EINVAL ? "not a regular file" : r == -ENOEXEC ? "empty file" : strerror(-r));
	return r;
}

static int load_initrd(struct vm *vm, const char *file, const struct boot_image *k,
		       struct boot_params *zp)
{
	void *img;
	size_t len;
	uint64_t addr;
	int r = read_user_file(file, "initrd", &img, &len);

	if (r < 0)
		return r;
	r = boot_place_initrd(&vm->mem, k->end, k->initrd_max, len, &addr);
	if (r < 0) {
		fprintf(stderr,
			"kvmscope: %s: initrd of %zu bytes does not fit in guest RAM above "
			"the kernel (try a larger --mem)\n",
			file, len);
	} else {
		memcpy(guest_ptr(&vm->mem, addr, len), img, len);
		zp->hdr.ramdisk_image = (uint32_t)addr;
		zp->hdr.ramdisk_size = (uint32_t)len;
	}
	munmap(img, len);
	return r;
}

/* The kernel into guest RAM and its header into *zp; vm NULL: only check the file. */
static int load_kernel(struct vm *vm, const struct boot_config *bc, struct boot_params *zp,
		       struct boot_image *k)
{
	void *img;
	size_t len;
	int r = read_user_file(bc->kernel, "kernel", &img, &len);

	if (r < 0)
		return r;
	memset(zp, 0, sizeof(*zp));
	switch (kernel_kind_of(img, len)) {
	case KERNEL_BZIMAGE:
		r = load_bzimage(vm, bc->kernel, img, len, zp, k);
		break;
	case KERNEL_ELF:
		r = boot_load_elf(vm ? &vm->mem : NULL, bc->kernel, img, len, k);
		boot_header_for_elf(&zp->hdr);
		if (r == 0 && bc->pvh && pvh_find_entry(img, len, &k->entry) < 0)
			r = boot_err(bc->kernel, "--pvh: the kernel has no PVH entry note",
				     -ENOEXEC);
		break;
	default:
		r = boot_err(bc->kernel, "neither a bzImage nor an ELF kernel", -ENOEXEC);
	}
	if (r == 0 && bc->pvh && kernel_kind_of(img, len) != KERNEL_ELF)
		r = boot_err(bc->kernel, "--pvh needs an ELF kernel (vmlinux)", -ENOEXEC);
	munmap(img, len);
	return r;
}

int boot_check(const struct boot_config *bc)
{
	struct boot_params zp;
	struct boot_image k;
	void *img;
	size_t len;
	int r = load_kernel(NULL, bc, &zp, &k);

	if (r == 0 && bc->initrd && (r = read_user_file(bc->initrd, "initrd", &img, &len)) == 0)
		munmap(img, len);
	return r;
}

int boot_load(struct vm *vm, const struct boot_config *bc)
{
	struct boot_params *zp = guest_ptr(&vm->mem, ZERO_PAGE_ADDR, sizeof(*zp));
	struct boot_image k = {0};
	size_t cmdlen = strlen(bc->cmdline);
	int r;

	if (guest_mem_size(&vm->mem) < MIN_MEM)
		return boot_err(bc->kernel, "guest RAM below 16 MiB", -EINVAL);
	r = load_kernel(vm, bc, zp, &k);
	if (r < 0)
		return r;

	if (cmdlen > k.cmdline_max || cmdlen >= CMDLINE_MAX)
		return boot_err(bc->kernel, "kernel command line too long for this kernel", -E2BIG);
	memcpy(guest_ptr(&vm->mem, CMDLINE_ADDR, cmdlen + 1), bc->cmdline, cmdlen + 1);
	zp->hdr.cmd_line_ptr = CMDLINE_ADDR;
	zp->hdr.type_of_loader = 0xff; /* an undefined loader: what a new VMM should say */
	zp->hdr.loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	zp->hdr.heap_end_ptr = 0xfe00;
	boot_e820(zp, &vm->mem);
	if (bc->initrd) {
		r = load_initrd(vm, bc->initrd, &k, zp);
		if (r < 0)
			return r;
	}
	r = mptable_write(guest_ptr(&vm->mem, BIOS_START, 0x10000), BIOS_START, vm->nr_vcpus,
			  bc->pci_irqs,
			  bc->nr_pci_irqs);
	if (r < 0)
		return boot_err(bc->kernel, "MP table does not fit", r);
	build_long_mode(&vm->mem);
	if (bc->pvh)
		r = pvh_enter(vm, k.entry, zp, GDT_ADDR);
	else
		r = vcpu_enter_flat(
		    &vm->vcpus[0],
		    &(struct kvm_regs){
			.rip = k.entry, .rsi = ZERO_PAGE_ADDR, .rsp = BOOT_STACK, .rflags = 0x2},
		    true, GDT_ADDR, PML4_ADDR);
	if (r < 0)
		return boot_err(bc->kernel, "cannot set the vCPU's registers", r);
	return 0;
}
