/* tests/fuzz/fuzz_boot.c - the kernel loader on any file given as --kernel: the checks run
 * before a VM exists (bzImage header, ELF header and segments, the PVH note, as boot_check() does
 * them), then the ELF loader into 32 MiB of guest RAM, and the PVH note search on its own. */
#include <stdlib.h>

#include "kvm/internal.h"
#include "tests/fuzz/fuzz.h"

#define RAM (32u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct boot_config bc = {.kernel = fuzz_file("kernel", data, size)};
	struct guest_mem mem = {.lo_size = RAM};
	struct boot_image k;
	uint64_t entry;

	if (!ram && !(ram = malloc(RAM)))
		abort();
	mem.lo = ram;
	boot_check(&bc);
	bc.pvh = true;
	boot_check(&bc);
	if (kernel_kind_of(data, size) == KERNEL_ELF)
		boot_load_elf(&mem, bc.kernel, data, size, &k);
	pvh_find_entry(data, size, &entry);
	return 0;
}
