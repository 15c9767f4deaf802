/* trace/ring.c - the hot path: trace_emit() puts one 64-byte record in a lock-free ring that
 * vCPU threads and IO threads share; the writer thread drains it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "trace/internal.h"

uint64_t trace_mask;
void (*trace_step_hook)(const struct trace_rec *r);
__thread struct trace_thread trace_self;
struct trace_ring trace_ring_main;

int trace_ring_init(struct trace_ring *r, size_t bytes)
{
	size_t n = 2;
	while (n * 2 <= bytes / sizeof(struct trace_rec)) /* n * 64 would wrap for huge sizes */
		n *= 2;
	memset(r, 0, sizeof(*r));
	/* zero pages: an empty ring (trace_ring_lap), resident only as records fill it */
	void *p = mmap(NULL, n * sizeof(struct trace_rec), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	/* page by page, whatever the host's THP setting: a first record must not fault in 2 MiB */
	madvise(p, n * sizeof(struct trace_rec), MADV_NOHUGEPAGE);
	r->slots = p;
	r->mask = n - 1;
	r->wake_at = UINT64_MAX; /* no fill mark until a writer sets one */
	return 0;
}

void trace_ring_free(struct trace_ring *r)
{
	if (r->slots)
		munmap(r->slots, (r->mask + 1) * sizeof(struct trace_rec));
	memset(r, 0, sizeof(*r));
}

size_t trace_ring_capacity(const struct trace_ring *r)
{
	return r->slots ? r->mask + 1 : 0;
}

size_t trace_ring_drain(struct trace_ring *r, struct trace_rec *out, size_t max)
{
	size_t n = 0, ext = 0;
	while (n < max) {
		struct trace_rec *s = &r->slots[r->tail & r->mask];
		if (!ext) {
			if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) != trace_ring_lap(r, r->tail) + 1)
				break; /* empty, or claimed and still being written */
			/* its extension slots were committed before it: all or none fit */
			ext = TRACE_REC_EXT(s->ev);
			if (__builtin_expect(ext, 0) && n + 1 + ext > max)
				break;
		} else {
			ext--; /* an extension slot of the record before */
		}
		out[n] = *s;
		out[n].seq = r->tail;
		/* free for the producer that claims this slot one lap later */
		__atomic_store_n(&s->seq, trace_ring_lap(r, r->tail) + (uint32_t)(r->mask + 1),
				 __ATOMIC_RELEASE);
		r->tail++;
		n++;
	}
	return n;
}

bool trace_ring_busy(struct trace_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) != r->tail;
}

static void guest_refresh(struct trace_thread *t)
{
	t->ctx_stale = false;
	t->rip = 0;
	t->stack = 0;
	if (t->ctx_fn)
		t->ctx_fn(t->ctx_opaque, &t->rip, &t->stack);
}

static inline uint64_t mono_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

uint64_t trace_now_ns(void)
{
	return mono_ns();
}

/* The descriptors after the record at pos, k - 1 extension slots, committed before it. */
static void put_descs(const struct trace_descs *l, uint64_t pos, unsigned k)
{
	for (unsigned j = 1; j < k; j++) {
		struct trace_ext_slot *x =
		    (struct trace_ext_slot *)&trace_ring_main.slots[(pos + j) & trace_ring_main.mask];

		x->n = l->n;
		x->walked = l->walked;
		/* a fixed size (3 moves); the entries past n are never read */
		memcpy(x->d, &l->d[(j - 1) * TRACE_EXT_PER], sizeof(x->d));
		trace_ring_commit(&trace_ring_main, (struct trace_rec *)x, pos + j);
	}
}

/* One record (and, with descs, its extension slots) into the ring. */
static inline __attribute__((always_inline)) void
emit(struct trace_site *site, unsigned dev, const struct trace_descs *descs, uint64_t a0,
     uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct trace_thread *self = &trace_self;
	unsigned k = descs ? 1 + TRACE_EXT_SLOTS(descs->n) : 1;
	uint64_t pos;

	uint16_t sid = __atomic_load_n(&site->id, __ATOMIC_ACQUIRE);
	if (__builtin_expect(!sid, 0))
		sid = trace_site_intern(site);
	if (__builtin_expect(self->ctx_stale, 0))
		guest_refresh(self);
	uint64_t now = mono_ns();

	/* The site saw its event on, but a SIGUSR2 pause may have begun since (guest_refresh
	 * can take a while): stamped after the pause marker, the record would land inside it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__builtin_expect(!((__atomic_load_n(&trace_mask, __ATOMIC_RELAXED) >> site->ev) & 1),
			     0))
		return;
	struct trace_rec *r = trace_ring_claim_n(&trace_ring_main, k, &pos);
	if (!r)
		return;
	if (k > 1)
		put_descs(descs, pos, k);
	r->ts = now;
	r->ev = site->ev | (k - 1) << 8;
	r->tid = self->tid;
	r->dev = dev;
	r->site = sid;
	r->stack = self->stack;
	r->rip = self->rip;
	r->a[0] = a0;
	r->a[1] = a1;
	r->a[2] = a2;
	r->a[3] = a3;
	void (*hook)(const struct trace_rec *) =
	    __atomic_load_n(&trace_step_hook, __ATOMIC_ACQUIRE);
	if (__builtin_expect(hook != NULL, 0)) {
		struct trace_rec copy = *r; /* the slot is the writer's once committed */
		copy.seq = (uint32_t)pos;
		copy.ev = site->ev;
		trace_ring_commit(&trace_ring_main, r, pos);
		hook(&copy);
	} else {
		trace_ring_commit(&trace_ring_main, r, pos);
	}
	/* The writer sleeps until the ring fills past its mark (or a while passes): the claim's
	 * locked exchange on head orders this load after it, as the writer's store of the mark
	 * is ordered before its look at head (trace/writer.c, arm). */
	if (__builtin_expect(pos + k > __atomic_load_n(&trace_ring_main.wake_at, __ATOMIC_SEQ_CST),
			     0))
		trace_writer_kick();
}

void trace_emit(struct trace_site *site, unsigned dev, uint64_t a0, uint64_t a1, uint64_t a2,
		uint64_t a3)
{
	emit(site, dev, NULL, a0, a1, a2, a3);
}

void trace_emit_descs(struct trace_site *site, unsigned dev, const struct trace_descs *descs,
		      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	emit(site, dev, descs, a0, a1, a2, a3);
}

void trace_thread_set(enum trace_thread_kind kind, unsigned index)
{
	trace_self.tid = TRACE_TID(kind, index);
}

void trace_guest_source(trace_guest_fn fn, void *opaque)
{
	trace_self.ctx_fn = fn;
	trace_self.ctx_opaque = opaque;
	trace_self.ctx_stale = true;
}
