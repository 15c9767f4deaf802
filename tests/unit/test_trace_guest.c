/* tests/unit/test_trace_guest.c - guest context on a synthetic guest: kernel virtual addresses to
 * physical, a 4-level page walk, the frame-pointer stack walk; and ELF symbol lookup. */
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "trace/internal.h"

#define MEM_SIZE (8u << 20)
#define POB	 TRACE_PAGE_OFFSET_DEFAULT
#define VMALLOC	 0xffffc90000000000ULL
#define TEXT(x)	 (0xffffffff81000000ULL + (x))

static uint8_t *mem;

static int read_phys(void *opaque, uint64_t pa, void *buf, size_t len)
{
	(void)opaque;
	if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
		return -14;
	memcpy(buf, mem + pa, len);
	return 0;
}

static void put64(uint64_t pa, uint64_t v)
{
	memcpy(mem + pa, &v, sizeof(v));
}

/* Frames at physical pa.., seen at virtual va..: each frame is [caller rbp, return address]. */
static uint64_t build_frames(uint64_t pa, uint64_t va, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t next = i + 1 < n ? va + 0x40 * (i + 1) : 0;
		put64(pa + 0x40 * i, next);
		put64(pa + 0x40 * i + 8, TEXT(0x1000 * (i + 1) + i));
	}
	return va;
}

static void test_linear_maps(void)
{
	CHECK(trace_kva_to_pa(0xffffffff81000000ULL, POB) == 0x1000000,
	      "kernel text map: 0xffffffff81000000 -> 16 MiB");
	CHECK(trace_kva_to_pa(POB + 0x1234, POB) == 0x1234,
	      "direct map: page_offset_base + x -> x");
	CHECK(trace_kva_to_pa(0x400000, POB) == UINT64_MAX &&
		  trace_kva_to_pa(VMALLOC, POB) == UINT64_MAX,
	      "user and vmalloc addresses are in neither map");
}

static void test_walk_direct_map(void)
{
	struct trace_guest_mem gm = {read_phys, NULL, 0, POB};
	uint64_t pcs[TRACE_STACK_MAX];

	uint64_t rbp = build_frames(0x200000, POB + 0x200000, 3);
	unsigned n = trace_stack_walk(rbp, trace_guest_read_virt, &gm, pcs);
	CHECK(n == 3 && pcs[0] == TEXT(0x1000) && pcs[1] == TEXT(0x2001) && pcs[2] == TEXT(0x3002),
	      "walk: three frames through the direct map (%u)", n);

	rbp = build_frames(0x210000, POB + 0x210000, 12);
	CHECK(trace_stack_walk(rbp, trace_guest_read_virt, &gm, pcs) == TRACE_STACK_MAX,
	      "walk: stops at %d frames", TRACE_STACK_MAX);

	put64(0x220000, POB + 0x220000); /* a frame pointing at itself */
	put64(0x220008, TEXT(0x42));
	CHECK(trace_stack_walk(POB + 0x220000, trace_guest_read_virt, &gm, pcs) == 1,
	      "walk: a loop ends it");
	put64(0x230000, POB + 0x230000 + (1 << 20)); /* a caller frame too far up */
	put64(0x230008, TEXT(0x43));
	CHECK(trace_stack_walk(POB + 0x230000, trace_guest_read_virt, &gm, pcs) == 1,
	      "walk: a frame off the stack ends it");
	put64(0x240000, POB + 0x240040); /* a frame whose return address is in the null page */
	put64(0x240008, TEXT(0x44));
	put64(0x240040, POB + 0x240080);
	put64(0x240048, 0x110);
	CHECK(trace_stack_walk(POB + 0x240000, trace_guest_read_virt, &gm, pcs) == 1,
	      "walk: a return address below 4 KiB ends it (code built without frame pointers)");
	CHECK(trace_stack_walk(POB + MEM_SIZE + 0x1000, trace_guest_read_virt, &gm, pcs) == 0,
	      "walk: memory outside RAM gives no frames");
	CHECK(trace_stack_walk(0, trace_guest_read_virt, &gm, pcs) == 0 &&
		  trace_stack_walk(POB + 0x200003, trace_guest_read_virt, &gm, pcs) == 0,
	      "walk: rbp 0 or misaligned gives no frames");
}

/* Page tables at 0x100000..: vmalloc's first 2 MiB -> 4 KiB pages at 0x300000 + i * 0x1000,
 * the next 2 MiB -> one 2 MiB page at 0x400000. */
static void build_page_tables(void)
{
	uint64_t pml4 = 0x100000, pdpt = 0x101000, pd = 0x102000, pt = 0x103000;
	put64(pml4 + ((VMALLOC >> 39) & 511) * 8, pdpt | 3);
	put64(pdpt + ((VMALLOC >> 30) & 511) * 8, pd | 3);
	put64(pd + ((VMALLOC >> 21) & 511) * 8, pt | 3);
	put64(pd + (((VMALLOC >> 21) & 511) + 1) * 8, 0x400000 | 0x83); /* PS */
	for (unsigned i = 0; i < 16; i++)
		put64(pt + i * 8, (0x300000 + i * 0x1000) | 3);
}

static void test_walk_page_tables(void)
{
	struct trace_guest_mem gm = {read_phys, NULL, 0x100000, POB};
	uint64_t pcs[TRACE_STACK_MAX], v = 0;

	build_page_tables();
	uint64_t rbp = build_frames(0x300f80, VMALLOC + 0xf80, 4); /* crosses into the next page */
	CHECK(trace_stack_walk(rbp, trace_guest_read_virt, &gm, pcs) == 4 && pcs[3] == TEXT(0x4003),
	      "page walk: a vmalloc'd stack across two 4 KiB pages");
	put64(0x400000 + 0x1234, 0xabcdef);
	CHECK(trace_guest_read_virt(&gm, VMALLOC + (2 << 20) + 0x1234, &v, 8) == 0 && v == 0xabcdef,
	      "page walk: a 2 MiB page");
	CHECK(trace_guest_read_virt(&gm, VMALLOC + (16 << 12), &v, 8) != 0,
	      "page walk: a page not present fails");
	gm.cr3 = 0;
	CHECK(trace_stack_walk(rbp, trace_guest_read_virt, &gm, pcs) == 0,
	      "page walk: without cr3 only the linear maps are read");
	gm.cr3 = 0x100000;
	uint32_t a = trace_guest_stack(&gm, rbp), b = trace_guest_stack(&gm, rbp);
	CHECK(a && a == b, "guest stack: walked and interned, the same stack the same id");

	/* the walk translates once per page: a frame on the next page must not be read through the
	 * first page's translation (vmalloc page 1 moved to a frame far from page 0's) */
	uint64_t want[4] = {TEXT(0x1000), TEXT(0x2001), TEXT(0x3002), TEXT(0x4003)};
	put64(0x103000 + 8, 0x30a000 | 3);
	memset(mem + 0x301000, 0, 0x1000);
	for (unsigned i = 0; i < 4;
	     i++) { /* frames at page 0's 0xf80, 0xfc0, page 1's 0x000, 0x040 */
		uint64_t va = VMALLOC + 0xf80 + 0x40 * i,
			 pa = (va & 0xfff) + (i < 2 ? 0x300000 : 0x30a000);
		put64(pa, i < 3 ? va + 0x40 : 0);
		put64(pa + 8, want[i]);
	}
	uint32_t moved = trace_guest_stack(&gm, rbp);
	CHECK(moved && moved == trace_stack_intern(want, 4),
	      "guest stack: frames on two pages mapped apart, each page translated on its own");
	uint32_t two = trace_stack_intern(want, 2);
	CHECK(two && two != moved && trace_stack_intern(want, 4) == moved &&
		  trace_stack_intern(want, 2) == two,
	      "stack ids: the same stack the same id, a different one another, in any order");
}

static void test_symbols(void)
{
	struct trace_symtab t = {0};
	char err[256] = "", buf[128];
	long main_i = -1;

	CHECK(trace_symtab_load(&t, "/proc/self/exe", err, sizeof(err)) == 0 && t.n > 10,
	      "symbols: this binary's functions (%zu) %s", t.n, err);
	for (size_t i = 0; i < t.n; i++)
		if (!strcmp(trace_symtab_name(&t, i), "test_symbols"))
			main_i = i;
	CHECK(main_i >= 0, "symbols: test_symbols is there");
	if (main_i >= 0) {
		uint64_t a = t.v[main_i].addr;
		CHECK(!strcmp(trace_symtab_format(&t, a + 3, buf, sizeof(buf)), "test_symbols+0x3"),
		      "symbols: lookup -> %s", buf);
		CHECK(trace_symtab_find(&t, a + t.v[main_i].size) != main_i,
		      "symbols: the end of a function is not in it");
	}
	CHECK(!strcmp(trace_symtab_format(&t, 0x10, buf, sizeof(buf)), "0x10"),
	      "symbols: an address below every symbol stays hex");
	trace_symtab_free(&t);
	CHECK(trace_symtab_load(&t, "/nonexistent/vmlinux", err, sizeof(err)) < 0 &&
		  strstr(err, "/nonexistent/vmlinux"),
	      "symbols: a missing file names it (%s)", err);
	CHECK(trace_symtab_load(&t, "/proc/self/cmdline", err, sizeof(err)) < 0 &&
		  strstr(err, "not an ELF"),
	      "symbols: a non-ELF file is refused (%s)", err);
}

int main(void)
{
	mem = calloc(1, MEM_SIZE);
	test_linear_maps();
	test_walk_direct_map();
	test_walk_page_tables();
	test_symbols();
	free(mem);
	return CHECK_DONE();
}
