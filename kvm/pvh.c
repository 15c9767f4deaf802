/* kvm/pvh.c - the PVH entry of an ELF kernel: the alternative to the 64-bit entry, and the one
 * QEMU's `-kernel vmlinux` takes. The kernel names a 32-bit entry in an ELF note
 * (XEN_ELFNOTE_PHYS32_ENTRY) and starts in flat protected mode, paging off, EBX pointing to an
 * hvm_start_info (Xen's public arch-x86/hvm/start_info.h, version 1 with a memory map). */
#include <asm/bootparam.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/internal.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC		 0x336ec578
#define PVH_INFO_ADDR		 0x1000 /* start_info, then modlist and memmap in the same page */

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

int pvh_find_entry(const void *img, size_t len, uint64_t *entry)
{
	Elf *e;
	size_t n;
	int r = -ENOENT;

	elf_version(EV_CURRENT);
	e = elf_memory((char *)img, len);
	if (!e || elf_getphdrnum(e, &n) < 0) {
		if (e)
			elf_end(e);
		return -ENOEXEC;
	}
	for (size_t i = 0; i < n && r == -ENOENT; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_NOTE)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(e, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const char *name = (const char *)d->d_buf + name_off;
			if (nh.n_type != XEN_ELFNOTE_PHYS32_ENTRY || nh.n_namesz != 4 ||
			    memcmp(name, "Xen", 4) != 0)
				continue;
			uint64_t v = 0;
			memcpy(&v, (const char *)d->d_buf + desc_off,
			       nh.n_descsz < 8 ? nh.n_descsz : 8);
			*entry = nh.n_descsz == 4 ? (uint32_t)v : v;
			r = 0;
			break;
		}
	}
	elf_end(e);
	return r;
}

/* Fill start_info from what boot_load() already put in the zero page: command line, initrd, e820.
 */
int pvh_enter(struct vm *vm, uint64_t entry, const struct boot_params *zp, uint64_t gdt)
{
	uint8_t *page = guest_ptr(&vm->mem, PVH_INFO_ADDR, 4096);
	struct hvm_start_info *si = (void *)page;
	struct hvm_modlist_entry *mod = (void *)(si + 1);
	struct hvm_memmap_entry *map = (void *)(mod + 1);
	struct kvm_regs r = {.rip = entry, .rbx = PVH_INFO_ADDR, .rflags = 0x2};
	uint64_t *gdt_entries = guest_ptr(&vm->mem, gdt, 4 * 8);

	memset(page, 0, 4096);
	*si = (struct hvm_start_info){
	    .magic = PVH_START_MAGIC, .version = 1, .cmdline_paddr = zp->hdr.cmd_line_ptr};
	if (zp->hdr.ramdisk_size) {
		mod->paddr = zp->hdr.ramdisk_image;
		mod->size = zp->hdr.ramdisk_size;
		si->nr_modules = 1;
		si->modlist_paddr = PVH_INFO_ADDR + sizeof(*si);
	}
	for (unsigned i = 0; i < zp->e820_entries; i++)
		map[i] = (struct hvm_memmap_entry){.addr = zp->e820_table[i].addr,
						   .size = zp->e820_table[i].size,
						   .type = zp->e820_table[i].type};
	si->memmap_paddr = PVH_INFO_ADDR + sizeof(*si) + sizeof(*mod);
	si->memmap_entries = zp->e820_entries;

	/* The same GDT slots as the 64-bit entry, but a 32-bit code segment. */
	gdt_entries[2] = 0x00cf9b000000ffffULL;
	return vcpu_enter_flat(&vm->vcpus[0], &r, false, gdt, 0);
}
