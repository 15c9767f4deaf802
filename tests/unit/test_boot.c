/* Unit tests of the boot pieces: zero page and e820, initrd placement, ELF loading, MP table,
 * the compatibility words. No /dev/kvm needed. */
#include <asm/bootparam.h>
#include <asm/e820.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/internal.h"
#include "tests/check.h"

#define MiB (1ULL << 20)

static struct guest_mem make_mem(uint64_t lo, uint64_t hi)
{
	struct guest_mem m = {
	    .lo = calloc(1, lo), .lo_size = lo, .hi = hi ? calloc(1, hi) : NULL, .hi_size = hi};
	return m;
}

static void test_guest_ptr(void)
{
	struct guest_mem m = make_mem(64 * MiB, 2 * MiB);

	CHECK(guest_ptr(&m, 0, 64 * MiB) == m.lo, "guest_ptr: all of low RAM");
	CHECK(guest_ptr(&m, 64 * MiB - 1, 2) == NULL, "guest_ptr: range straddling the end of RAM");
	CHECK(guest_ptr(&m, 64 * MiB, 1) == NULL, "guest_ptr: first byte past low RAM");
	CHECK(guest_ptr(&m, GUEST_4G + 4096, 8) == m.hi + 4096, "guest_ptr: RAM above 4 GiB");
	CHECK(guest_ptr(&m, ~0ULL - 3, 8) == NULL, "guest_ptr: address wrap-around refused");
	CHECK(guest_ptr(&m, 4096, ~0ULL) == NULL, "guest_ptr: huge length refused");
	CHECK(guest_mem_size(&m) == 66 * MiB, "guest_mem_size adds both regions");
	free(m.lo);
	free(m.hi);
}

static void test_e820(void)
{
	struct boot_params zp;
	struct guest_mem m = {.lo_size = 256 * MiB};

	memset(&zp, 0, sizeof(zp));
	boot_e820(&zp, &m);
	CHECK(zp.e820_entries == 4, "e820: four entries below 4 GiB (%u)", zp.e820_entries);
	CHECK(zp.e820_table[0].addr == 0 && zp.e820_table[0].type == E820_RAM,
	      "e820: base memory is RAM");
	CHECK(zp.e820_table[2].addr == 0xf0000 && zp.e820_table[2].type == E820_RESERVED,
	      "e820: BIOS area (MP table) reserved");
	CHECK(zp.e820_table[3].addr == MiB &&
		  zp.e820_table[3].addr + zp.e820_table[3].size == 256 * MiB,
	      "e820: RAM from 1 MiB to the end of guest memory");
	m.lo_size = GUEST_PCI_HOLE;
	m.hi_size = 1ULL << 30;
	boot_e820(&zp, &m);
	CHECK(zp.e820_entries == 5 && zp.e820_table[4].addr == GUEST_4G &&
		  zp.e820_table[4].size == 1ULL << 30,
	      "e820: RAM above the PCI hole moves to 4 GiB");
	for (unsigned i = 1; i < zp.e820_entries; i++)
		CHECK(zp.e820_table[i].addr >=
			  zp.e820_table[i - 1].addr + zp.e820_table[i - 1].size,
		      "e820: entry %u sorted and not overlapping", i);
}

static void test_initrd_placement(void)
{
	struct guest_mem m = {.lo_size = 256 * MiB};
	uint64_t addr;

	CHECK(boot_place_initrd(&m, 20 * MiB, 0x7fffffff, 10 * MiB + 5, &addr) == 0 &&
		  addr + 10 * MiB + 5 <= 256 * MiB && (addr & 0xfff) == 0 && addr >= 20 * MiB,
	      "initrd: page aligned, at the top of RAM, above the kernel");
	CHECK(boot_place_initrd(&m, 20 * MiB, 0x7fffffff, 240 * MiB, &addr) == -E2BIG,
	      "initrd: refused when it would overlap the kernel");
	CHECK(boot_place_initrd(&m, 20 * MiB, 64 * MiB - 1, 8 * MiB, &addr) == 0 &&
		  addr + 8 * MiB <= 64 * MiB,
	      "initrd: respects the kernel's initrd_addr_max");
	CHECK(boot_place_initrd(&m, 20 * MiB, 0x7fffffff, 1ULL << 40, &addr) == -E2BIG,
	      "initrd: larger than RAM refused");
}

/* A two-segment ELF made here: code linked high with a low p_paddr, and a .bss-like tail. */
static size_t make_elf(uint8_t *buf)
{
	Elf64_Ehdr *eh = (void *)buf;
	Elf64_Phdr *ph = (void *)(buf + sizeof(*eh));
	uint8_t *code = buf + 0x200;

	memset(buf, 0, 0x400);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = 0xffffffff81000010ULL;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			     .p_offset = 0x200,
			     .p_vaddr = 0xffffffff81000000ULL,
			     .p_paddr = 0x1000000,
			     .p_filesz = 0x100,
			     .p_memsz = 0x1000};
	ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 0x300, .p_filesz = 0x10};
	for (int i = 0; i < 0x100; i++)
		code[i] = (uint8_t)(i ^ 0x5a);
	return 0x400;
}

static void test_elf(void)
{
	struct guest_mem m = make_mem(64 * MiB, 0);
	uint8_t elf[0x400];
	size_t len = make_elf(elf);
	struct boot_image k;

	memset(m.lo + 0x1000000, 0xee, 0x1000);
	CHECK(kernel_kind_of(elf, len) == KERNEL_ELF, "kind: ELF recognised");
	CHECK(boot_load_elf(&m, "t.elf", elf, len, &k) == 0, "ELF: loads");
	CHECK(k.entry == 0x1000010, "ELF: virtual entry becomes its physical address (0x%llx)",
	      (unsigned long long)k.entry);
	CHECK(k.end == 0x1001000, "ELF: end covers p_memsz");
	CHECK(memcmp(m.lo + 0x1000000, elf + 0x200, 0x100) == 0, "ELF: file bytes at p_paddr");
	CHECK(m.lo[0x1000100] == 0 && m.lo[0x1000fff] == 0, "ELF: memsz beyond filesz zeroed");

	Elf64_Phdr *ph = (void *)(elf + sizeof(Elf64_Ehdr));
	ph[0].p_paddr = 64 * MiB - 0x800; /* ends past 64 MiB */
	CHECK(boot_load_elf(&m, "t.elf", elf, len, &k) == -E2BIG, "ELF: segment past RAM refused");
	ph[0].p_paddr = 0x1000000;
	ph[0].p_filesz = 0x10000; /* past the end of the file */
	ph[0].p_memsz = 0x10000;
	CHECK(boot_load_elf(&m, "t.elf", elf, len, &k) == -ENOEXEC,
	      "ELF: segment past file refused");
	((Elf64_Ehdr *)elf)->e_machine = EM_AARCH64;
	CHECK(boot_load_elf(&m, "t.elf", elf, len, &k) == -ENOEXEC, "ELF: other machines refused");
	free(m.lo);
}

static void test_kind(void)
{
	uint8_t bz[0x400] = {0};

	bz[0x1fe] = 0x55;
	bz[0x1ff] = 0xaa;
	memcpy(bz + 0x202, "HdrS", 4);
	CHECK(kernel_kind_of(bz, sizeof(bz)) == KERNEL_BZIMAGE,
	      "kind: bzImage by its setup header");
	CHECK(kernel_kind_of("#!/bin/sh\n", 10) == KERNEL_UNKNOWN, "kind: a script is neither");
	CHECK(kernel_kind_of(bz, 0x100) == KERNEL_UNKNOWN, "kind: a truncated header is neither");
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static void test_mptable(void)
{
	static uint8_t bios[0x10000];
	struct pci_irq_route routes[] = {{.slot = 1, .pin = 1, .gsi = 16}};

	CHECK(mptable_write(bios, 0xf0000, 0, routes, 1) == -EINVAL, "MP table: no CPU is refused");
	CHECK(mptable_write(bios, 0xf0000, 255, routes, 1) == -EINVAL,
	      "MP table: 255 CPUs is refused (255 is the broadcast APIC id)");
	CHECK(mptable_write(bios, 0xf0000, 2, routes, 1) == 0, "MP table: written");
	CHECK(memcmp(bios, "_MP_", 4) == 0 && sum(bios, 16) == 0, "MP table: floating pointer");
	uint32_t ptr;
	memcpy(&ptr, bios + 4, 4);
	uint8_t *mpc = bios + (ptr - 0xf0000);
	uint16_t len;
	memcpy(&len, mpc + 4, 2);
	CHECK(memcmp(mpc, "PCMP", 4) == 0 && sum(mpc, len) == 0, "MP table: header and checksum");
	/* The PCI interrupt entry: type 3, bus 0, source (slot 1 << 2 | INTA), IOAPIC pin 16. */
	bool found = false;
	for (uint8_t *e = mpc + 44; e < mpc + len; e += e[0] == 0 ? 20 : 8)
		if (e[0] == 3 && e[4] == 0 && e[5] == (1 << 2) && e[7] == 16)
			found = true;
	CHECK(found, "MP table: PCI slot 1 INTA routed to IOAPIC pin 16");
	/* Two processor entries, APIC ids 0 (enabled, boot CPU) and 1 (enabled); the IOAPIC (type
	 * 2) takes id 2, and every interrupt entry names it. */
	int cpus = 0, bad_ioapic = 0;
	uint8_t flags[2] = {0}, ioapic = 0xff;
	for (uint8_t *e = mpc + 44; e < mpc + len; e += e[0] == 0 ? 20 : 8) {
		if (e[0] == 0 && cpus < 2)
			flags[cpus] = e[1] == cpus ? e[3] : 0;
		cpus += e[0] == 0;
		if (e[0] == 2)
			ioapic = e[1];
		bad_ioapic += e[0] == 3 && e[6] != 2;
	}
	CHECK(cpus == 2 && flags[0] == 3 && flags[1] == 1,
	      "MP table: two CPUs, APIC ids 0 (boot) and 1");
	CHECK(ioapic == 2 && bad_ioapic == 0, "MP table: the IOAPIC's id follows the CPUs'");
}

static void test_compat(void)
{
	char buf[256];

	compat_cmdline(false, 0, buf, sizeof(buf));
	CHECK(strcmp(buf, "") == 0, "compat: nothing added when not needed and no TSC rate known");
	compat_cmdline(false, 2600000, buf, sizeof(buf));
	CHECK(strcmp(buf, "tsc_early_khz=2600000") == 0,
	      "compat: the TSC frequency on every KVM that knows it, CPUID words or not (%s)", buf);
	compat_cmdline(true, 0, buf, sizeof(buf));
	CHECK(strstr(buf, "noxsave") && strstr(buf, "clearcpuid=smap,smep,popcnt") &&
		  !strstr(buf, "tsc_early_khz"),
	      "compat: noxsave and clearcpuid when needed");
	compat_cmdline(true, 2596098, buf, sizeof(buf));
	CHECK(strstr(buf, " tsc_early_khz=2596098"), "compat: the TSC frequency when KVM knows it");
	CHECK(host_is_pvm() == (access("/sys/module/kvm_pvm", F_OK) == 0),
	      "compat: kvm_pvm detected from /sys/module");
}

int main(void)
{
	test_guest_ptr();
	test_e820();
	test_initrd_placement();
	test_elf();
	test_kind();
	test_mptable();
	test_compat();
	return CHECK_DONE();
}
