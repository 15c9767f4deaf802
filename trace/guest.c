/* trace/guest.c - which guest code caused an event: guest-virtual reads through the kernel's
 * linear maps or a page walk, and a frame-pointer stack walk. Memory is read through a callback,
 * so the kvm layer supplies guest_ptr() and the tests a synthetic image. */
#include <errno.h>
#include <string.h>

#include "trace/internal.h"

#define KERNEL_MAP_SIZE (512ULL << 20) /* x86-64 KERNEL_IMAGE_SIZE without KASLR */
#define DIRECT_MAP_SIZE (64ULL << 40)  /* 4-level paging: 64 TiB of direct map */
#define PTE_PRESENT	1ULL
#define PTE_PS		0x80ULL
#define PTE_ADDR	0x000ffffffffff000ULL
#define FRAME_MAX	(64u << 10) /* a caller's frame further than this is not our stack */

uint64_t trace_kva_to_pa(uint64_t va, uint64_t page_offset_base)
{
	if (va - TRACE_KERNEL_MAP < KERNEL_MAP_SIZE)
		return va - TRACE_KERNEL_MAP;
	if (va - page_offset_base < DIRECT_MAP_SIZE)
		return va - page_offset_base;
	return UINT64_MAX;
}

/* x86-64 4-level paging: PML4 (level 3) down to PT (level 0); PS ends the walk at 1 GiB (level 2)
 * or 2 MiB (level 1) pages. */
static int page_walk(const struct trace_guest_mem *gm, uint64_t va, uint64_t *pa)
{
	uint64_t table = gm->cr3 & PTE_ADDR;
	for (int level = 3; level >= 0; level--) {
		unsigned shift = 12 + 9 * level;
		uint64_t e;
		if (gm->read_phys(gm->opaque, table + ((va >> shift) & 511) * 8, &e, sizeof(e)) ||
		    !(e & PTE_PRESENT))
			return -EFAULT;
		if ((level == 1 || level == 2) && (e & PTE_PS)) {
			uint64_t size = 1ULL << shift;
			*pa = (e & PTE_ADDR & ~(size - 1)) + (va & (size - 1));
			return 0;
		}
		table = e & PTE_ADDR;
	}
	*pa = table + (va & 0xfff);
	return 0;
}

/* Guest-virtual to guest-physical: the kernel's linear maps, else a walk of the page tables. */
static int translate(const struct trace_guest_mem *gm, uint64_t va, uint64_t *pa)
{
	uint64_t pob = gm->page_offset_base ? gm->page_offset_base : TRACE_PAGE_OFFSET_DEFAULT;

	*pa = trace_kva_to_pa(va, pob);
	if (*pa == UINT64_MAX && (!gm->cr3 || page_walk(gm, va, pa)))
		return -EFAULT;
	return 0;
}

unsigned trace_stack_walk(uint64_t rbp, trace_read_fn read_virt, void *opaque,
			  uint64_t pcs[TRACE_STACK_MAX])
{
	unsigned n = 0;
	while (n < TRACE_STACK_MAX && rbp && !(rbp & 7)) {
		uint64_t frame[2]; /* [rbp]: the caller's rbp; [rbp + 8]: the return address */
		/* no code lives in the null page: a return address there is not a frame */
		if (read_virt(opaque, rbp, frame, sizeof(frame)) || frame[1] < 4096)
			break;
		pcs[n++] = frame[1];
		/* the stack grows down: each caller's frame is above, and near */
		if (frame[0] <= rbp || frame[0] - rbp > FRAME_MAX)
			break;
		rbp = frame[0];
	}
	return n;
}

/* A stack's frames share a page or two: one walk of the page tables (four reads) per page, not
 * per frame, within one stack walk or read (the guest may remap between exits). */
struct walk_cache {
	const struct trace_guest_mem *gm;
	uint64_t page, pa_page; /* page: UINT64_MAX when empty */
};

static int translate_cached(struct walk_cache *c, uint64_t va, uint64_t *pa)
{
	if ((va & ~4095ULL) != c->page) {
		if (translate(c->gm, va & ~4095ULL, &c->pa_page))
			return -EFAULT;
		c->page = va & ~4095ULL;
	}
	*pa = c->pa_page + (va & 4095);
	return 0;
}

/* One page at a time. */
static int read_virt_cached(void *opaque, uint64_t va, void *buf, size_t len)
{
	struct walk_cache *c = opaque;
	uint8_t *out = buf;

	while (len) {
		size_t n = 4096 - (va & 4095);
		uint64_t pa;
		if (n > len)
			n = len;
		if (translate_cached(c, va, &pa))
			return -EFAULT;
		int err = c->gm->read_phys(c->gm->opaque, pa, out, n);
		if (err)
			return err;
		va += n;
		out += n;
		len -= n;
	}
	return 0;
}

int trace_guest_read_virt(void *guest_mem, uint64_t va, void *buf, size_t len)
{
	struct walk_cache c = {.gm = guest_mem, .page = UINT64_MAX};
	return read_virt_cached(&c, va, buf, len);
}

uint32_t trace_guest_stack(const struct trace_guest_mem *gm, uint64_t rbp)
{
	uint64_t pcs[TRACE_STACK_MAX];
	struct walk_cache c = {.gm = gm, .page = UINT64_MAX};
	unsigned n = trace_stack_walk(rbp, read_virt_cached, &c, pcs);
	return trace_stack_intern(pcs, n);
}
