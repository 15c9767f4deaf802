/* Unit tests of vmm_rss_beyond_ram_kib() (kvm/mem.c): the VMM's own resident memory that a
 * traced run records as vmm_rss_kib, from a made-up smaps and from this process's own. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "kvm/kvm.h"
#include "tests/check.h"

/* One mapping's lines, as the kernel writes them (most fields left out). */
static void mapping(FILE *f, unsigned long start, unsigned long end, const char *name,
		    unsigned long rss)
{
	fprintf(f, "%012lx-%012lx rw-p 00000000 00:00 0                          %s\n", start, end,
		name);
	fprintf(f, "Size:           %8lu kB\nKernelPageSize:        4 kB\n", (end - start) >> 10);
	fprintf(f, "Rss:            %8lu kB\nPss:            %8lu kB\n", rss, rss);
	fprintf(f, "Anonymous:      %8lu kB\nAnonHugePages:         0 kB\n", rss);
	fprintf(f, "VmFlags: rd wr mr mw me ac sd\n");
}

int main(void)
{
	char path[] = "/tmp/test_vmm_rss.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct guest_mem m = {.lo = (uint8_t *)0x7f0000000000UL,
			      .lo_size = 256UL << 20,
			      .hi = (uint8_t *)0x7e0000000000UL,
			      .hi_size = 64UL << 20,
			      .fd = -1};

	if (!f)
		return 1;
	mapping(f, 0x555555554000UL, 0x555555600000UL, "/usr/bin/kvmscope", 1000);
	mapping(f, 0x555555600000UL, 0x555555700000UL, "[heap]", 200);
	mapping(f, 0x7e0000000000UL, 0x7e0004000000UL, "", 7000);  /* hi RAM */
	mapping(f, 0x7effff000000UL, 0x7f0000200000UL, "", 3000);  /* straddles lo's start */
	mapping(f, 0x7f0000200000UL, 0x7f0010000000UL, "", 50000); /* the rest of lo */
	mapping(f, 0x7f0010000000UL, 0x7f0010800000UL, "", 30);    /* just past lo: not RAM */
	mapping(f, 0x7ffffffde000UL, 0x7ffffffff000UL, "[stack]", 12);
	fclose(f);

	long kib = vmm_rss_beyond_ram_kib(&m, path);
	CHECK(kib == 1000 + 200 + 30 + 12,
	      "made-up smaps: every mapping but those overlapping guest RAM (%ld KiB)", kib);
	struct guest_mem none = {.fd = -1};
	kib = vmm_rss_beyond_ram_kib(&none, path);
	CHECK(kib == 1000 + 200 + 7000 + 3000 + 50000 + 30 + 12,
	      "no guest RAM: every mapping counts (%ld KiB)", kib);
	unlink(path);
	CHECK(vmm_rss_beyond_ram_kib(&m, path) == -ENOENT, "a missing smaps: -ENOENT");

	/* This process: 32 MiB of "guest RAM", every page touched, left out; the rest is small */
	size_t ram = 32UL << 20;
	uint8_t *p = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memset(p, 1, ram);
	struct guest_mem own = {.lo = p, .lo_size = ram, .fd = -1};
	long beyond = vmm_rss_beyond_ram_kib(&own, "/proc/self/smaps");
	long all = vmm_rss_beyond_ram_kib(&none, "/proc/self/smaps");
	CHECK(beyond > 0 && all - beyond >= (long)(ram >> 10),
	      "this process: the 32 MiB touched leave the figure (%ld of %ld KiB)", beyond, all);
	return check_failed ? 1 : 0;
}
