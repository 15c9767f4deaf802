/* tests/unit/test_guest_ram.c - where vm_create() puts guest RAM in kvmscope's address space:
 * each slot 2 MiB-aligned, as its guest-physical address is, so that a transparent huge page can
 * back it and KVM can map it to the guest in 2 MiB pages; nothing of the alignment slack left
 * mapped; guest_ptr() reaches the last byte; vm_destroy() unmaps it. Needs /dev/kvm. */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "tests/check.h"

#define MiB   (1ull << 20)
#define ALIGN (2 * MiB)

/* 1 when [p, p + len) holds no mapping (msync fails with ENOMEM), 0 otherwise. */
static int unmapped(const uint8_t *p, size_t len)
{
	return msync((void *)((uintptr_t)p & ~4095ul), len, MS_ASYNC) < 0 && errno == ENOMEM;
}

static void one(uint64_t mem, bool shared, size_t skew)
{
	struct vm_config cfg = {.mem_size = mem, .serial_out_fd = -1, .shared_ram = shared};
	struct vm vm;
	/* a small mapping first, so that the next free address is not 2 MiB-aligned by luck */
	void *pad = mmap(NULL, skew, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *kind = shared ? "memfd" : "anonymous";
	uint8_t *lo, *hi;

	if (vm_create(&vm, &cfg) < 0) {
		CHECK(0, "vm_create with %llu MiB of %s RAM", (unsigned long long)(mem / MiB),
		      kind);
		return;
	}
	lo = vm.mem.lo;
	hi = vm.mem.hi;
	CHECK((uintptr_t)lo % ALIGN == 0, "%llu MiB %s: RAM below 4 GiB at %p, 2 MiB-aligned",
	      (unsigned long long)(mem / MiB), kind, (void *)lo);
	CHECK(unmapped(lo - 4096, 4096) && unmapped(lo + vm.mem.lo_size, 4096),
	      "%llu MiB %s: no slack mapped either side of it", (unsigned long long)(mem / MiB),
	      kind);
	if (vm.mem.hi_size)
		CHECK((uintptr_t)hi % ALIGN == 0 && unmapped(hi - 4096, 4096),
		      "%llu MiB %s: RAM above 4 GiB at %p, 2 MiB-aligned, no slack before it",
		      (unsigned long long)(mem / MiB), kind, (void *)hi);
	uint64_t last = vm.mem.hi_size ? GUEST_4G + vm.mem.hi_size - 1 : vm.mem.lo_size - 1;
	uint8_t *b = guest_ptr(&vm.mem, last, 1);
	if (b)
		*b = 0x5a;
	CHECK(b && *b == 0x5a && guest_mem_size(&vm.mem) == mem,
	      "%llu MiB %s: the last byte of guest RAM is there (gpa %#llx)",
	      (unsigned long long)(mem / MiB), kind, (unsigned long long)last);
	vm_destroy(&vm);
	CHECK(unmapped(lo, 4096) && (!hi || unmapped(hi, 4096)),
	      "%llu MiB %s: vm_destroy unmapped it", (unsigned long long)(mem / MiB), kind);
	munmap(pad, skew);
}

int main(void)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		SKIP("guest RAM: /dev/kvm missing or not writable");
	one(256 * MiB, false, 4096);
	one(255 * MiB, false, 12288);
	one(64 * MiB, true, 4096);
	/* above the PCI hole: a second slot at 4 GiB (no page is touched but the last) */
	one(3 * 1024 * MiB + 66 * MiB, false, 8192);
	return CHECK_DONE();
}
