/* virtio/packed.c - the packed virtqueue, device side (virtio 1.2 §2.8): one ring of
 * descriptors that the driver marks available and the device overwrites as used, told apart by
 * the AVAIL/USED flag bits against each side's wrap counter, and two event suppression
 * structures in place of the split ring's flags and event indices. */
#include <errno.h>
#include <string.h>

#include "trace/trace.h"
#include "virtio/ring.h"

#define DESC_F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define DESC_F_USED  (1u << VRING_PACKED_DESC_F_USED)
#define WRAP_BIT     (1u << VRING_PACKED_EVENT_F_WRAP_CTR)

/* §2.8.10.1 "Structure Size and Alignment": ring 16, both event structures 4; §2.8: at most
 * 2^15 entries, any number of them (no power of 2 needed). */
static int packed_rings(struct virtqueue *vq, struct vring_packed_desc **ring,
			struct vring_packed_desc_event **driver,
			struct vring_packed_desc_event **device)
{
	uint16_t n = vq->size;

	if (!vq->ready || n == 0 || n > 32768 || (vq->desc & 15) || (vq->avail & 3) ||
	    (vq->used & 3))
		return -EINVAL;
	if (ring && !(*ring = guest_ptr(vq->mem, vq->desc, 16 * (uint64_t)n)))
		return -EINVAL;
	if (driver && !(*driver = guest_ptr(vq->mem, vq->avail, sizeof(**driver))))
		return -EINVAL;
	if (device && !(*device = guest_ptr(vq->mem, vq->used, sizeof(**device))))
		return -EINVAL;
	return 0;
}

/* §2.8.1: available when AVAIL matches the wrap counter and USED does not. */
static bool is_avail(uint16_t flags, bool wrap)
{
	return !!(flags & DESC_F_AVAIL) == wrap && !!(flags & DESC_F_USED) != wrap;
}

/* One slot forward, flipping the wrap counter past the end of the ring. */
static void advance(const struct virtqueue *vq, uint16_t *slot, bool *wrap, uint16_t by)
{
	*slot += by;
	if (*slot >= vq->size) {
		*slot -= vq->size;
		*wrap = !*wrap;
	}
}

/* last_avail, avail_wrap and inflight change only on the queue's consumer thread, but the trace
 * of a notify reads them on the notifying vCPU (vq_packed_avail_idx) while an IO thread pops:
 * stored and read whole (relaxed atomics, plain moves on x86). */
#define SET_WHOLE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define GET_WHOLE(field)    __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* A slot and wrap counter as one word: the off_wrap encoding of §2.8.10 (wrap in bit 15). */
static uint16_t slot_wrap(uint16_t slot, bool wrap)
{
	return slot | (wrap ? WRAP_BIT : 0);
}

/* Copy one descriptor out of guest memory once; a racing driver cannot change it under us. */
static void desc_read(const struct vring_packed_desc *d, uint64_t *addr, uint32_t *len,
		      uint16_t *id, uint16_t *flags)
{
	struct vring_packed_desc copy;

	memcpy(&copy, d, sizeof(copy));
	*addr = le64toh(copy.addr);
	*len = le32toh(copy.len);
	*id = le16toh(copy.id);
	*flags = le16toh(copy.flags);
}

/* §2.8.7: a table of packed descriptors read in order; only WRITE counts there. */
static int indirect_walk(struct virtqueue *vq, uint64_t addr, uint32_t len, struct vq_chain *c)
{
	const struct vring_packed_desc *table;
	uint32_t n;
	uint64_t a;
	uint32_t l;
	uint16_t id, flags;
	int r;

	table = vq_indirect_table(vq, c, addr, len, &n);
	if (!table)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		desc_read(&table[i], &a, &l, &id, &flags);
		trace_descs_add(&c->descs, a, l, flags, i);
		r = vq_chain_add(vq, c, a, l, flags & VRING_DESC_F_WRITE);
		if (r < 0)
			return r;
	}
	return 0;
}

int vq_packed_pop(struct virtqueue *vq, struct vq_chain *c)
{
	struct vring_packed_desc *ring;
	struct vring_packed_desc_event *driver, *device;
	uint16_t slot = vq->last_avail, head_flags, flags = 0, id = 0;
	bool wrap = vq->avail_wrap;
	uint64_t addr;
	uint32_t len;
	int r;

	/* All three areas, though a pop reads the ring alone: a bad one is the driver's error. */
	r = packed_rings(vq, &ring, &driver, &device);
	if (r < 0)
		return vq_fault(c, "rings misaligned or outside guest RAM");
	/* Acquire pairs with the driver's barrier before it flips the first descriptor's flags
	 * (§2.8.21.1): the rest of the chain was written before. */
	head_flags = vq_load16(&ring[slot].flags, __ATOMIC_ACQUIRE);
	if (!is_avail(head_flags, wrap))
		return 0;
	vq_chain_init(c, TRACE_EV_PACKED_POP);
	do {
		/* §2.8.17: a list no longer than the ring; slots that popped chains still hold
		 * are not the driver's to offer again. */
		if (c->ndescs >= vq->size - vq->inflight)
			return vq_fault(c, "list longer than the slots popped chains do not hold");
		desc_read(&ring[slot], &addr, &len, &id, &flags);
		trace_descs_add(&c->descs, addr, len, flags, slot);
		c->ndescs++;
		advance(vq, &slot, &wrap, 1);
		if (flags & VRING_DESC_F_INDIRECT) {
			/* §2.8.19: an indirect descriptor stands alone, never in a NEXT list. */
			if (c->ndescs > 1 || (flags & VRING_DESC_F_NEXT))
				return vq_fault(c, "indirect descriptor inside a NEXT list");
			r = indirect_walk(vq, addr, len, c);
		} else {
			r = vq_chain_add(vq, c, addr, len, flags & VRING_DESC_F_WRITE);
		}
		if (r < 0)
			return r;
	} while (flags & VRING_DESC_F_NEXT);
	c->head = id; /* §2.8.6: the buffer id is in the list's last descriptor */
	TRACE_DESCS(PACKED_POP, vq_trace_id(vq), &c->descs, TRACE_PAIR(vq->index, id),
		    TRACE_PAIR(vq->last_avail, vq->avail_wrap), c->ndescs, head_flags);
	SET_WHOLE(vq->last_avail, slot);
	SET_WHOLE(vq->avail_wrap, wrap);
	SET_WHOLE(vq->inflight, vq->inflight + c->ndescs);
	return 1;
}

int vq_packed_push(struct virtqueue *vq, const struct vq_chain *c, uint32_t written)
{
	struct vring_packed_desc *ring, *d;
	uint16_t flags;
	int r;

	r = packed_rings(vq, &ring, NULL, NULL);
	if (r < 0)
		return r;
	if (c->ndescs == 0 || c->ndescs > vq->inflight)
		return -EINVAL; /* not a chain vq_pop gave out */
	d = &ring[vq->used_idx];
	/* §2.8.1: used when AVAIL and USED both match the device's wrap counter; §2.8.3: WRITE
	 * says that len bytes were written. */
	flags = vq->used_wrap ? DESC_F_AVAIL | DESC_F_USED : 0;
	if (written)
		flags |= VRING_DESC_F_WRITE;
	d->id = htole16(c->head);
	d->len = htole32(written);
	/* Release: id, len and the data before the flags that hand them to the driver. */
	vq_store16(&d->flags, flags, __ATOMIC_RELEASE);
	/* §2.8.6: one used descriptor for the whole list; skip the rest of its slots. */
	advance(vq, &vq->used_idx, &vq->used_wrap, c->ndescs);
	SET_WHOLE(vq->inflight, vq->inflight - c->ndescs);
	vq->pushed += c->ndescs;
	TRACE_DESCS(USED_PUSH, vq_trace_id(vq), &c->descs, TRACE_PAIR(vq->index, c->head), written,
		    TRACE_RING_IDX_PACKED(vq->used_idx, vq->used_wrap));
	return 0;
}

/* Positions as one count modulo twice the ring: the wrap counter is the extra bit, so the
 * split ring's wrap-safe comparison (vring_need_event) works on them. */
static uint32_t linear(const struct virtqueue *vq, uint16_t slot, bool wrap)
{
	return slot + (wrap ? 0 : vq->size);
}

/* §2.8.10: with RING_EVENT_FLAGS_DESC, interrupt when the used descriptors written since the
 * last decision (old up to new) cover the slot named by event (off_wrap). */
static bool packed_need_event(const struct virtqueue *vq, uint16_t event, uint32_t new,
			      uint32_t old)
{
	uint32_t span = 2 * vq->size;
	uint32_t ev = linear(vq, (event & ~WRAP_BIT) % vq->size, event & WRAP_BIT);

	return (new + span - ev - 1) % span < (new + span - old) % span;
}

bool vq_packed_should_signal(struct virtqueue *vq)
{
	struct vring_packed_desc_event *driver;
	uint16_t flags, event = 0;
	uint32_t old, new, pushed = vq->pushed;
	bool valid, want;
	unsigned why;

	/* §2.8.10: the used flags are written before the driver's event structure is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (packed_rings(vq, NULL, &driver, NULL) < 0)
		return true; /* a broken ring: an extra interrupt is harmless */
	flags = vq_load16(&driver->flags, __ATOMIC_ACQUIRE) & 3;
	/* Everything up to used_idx is now accounted for, signalled or not (as for split). */
	valid = vq->signalled_used_valid;
	old = vq->signalled_used;
	new = linear(vq, vq->used_idx, vq->used_wrap);
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	vq->pushed = 0;
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
		why = TRACE_SUPPRESS_EVENT_DISABLE;
		want = false;
	} else if (flags == VRING_PACKED_EVENT_FLAG_DESC && vq->event_idx) {
		event = vq_load16(&driver->off_wrap, __ATOMIC_RELAXED);
		why = TRACE_SUPPRESS_EVENT_DESC;
		/* A whole ring or more since the last decision: the offset cannot say. */
		want = !valid || pushed >= vq->size || packed_need_event(vq, event, new, old);
	} else {
		return true; /* ENABLE, or DESC without EVENT_IDX (reserved): interrupt */
	}
	if (!want)
		TRACE(IRQ_SUPPRESS, vq_trace_id(vq), vq->index, why,
		      TRACE_RING_IDX_PACKED(vq->used_idx, vq->used_wrap),
		      why == TRACE_SUPPRESS_EVENT_DESC
			  ? TRACE_RING_IDX_PACKED(event & ~WRAP_BIT, event & WRAP_BIT)
			  : 0);
	return want;
}

void vq_packed_set_notify(struct virtqueue *vq, bool enable)
{
	struct vring_packed_desc_event *device;
	uint16_t flags = VRING_PACKED_EVENT_FLAG_DISABLE;

	if (packed_rings(vq, NULL, NULL, &device) < 0)
		return;
	if (enable && vq->event_idx) {
		/* §2.8.10: notify when the slot we look at next is made available. */
		vq_store16(&device->off_wrap, slot_wrap(vq->last_avail, vq->avail_wrap),
			   __ATOMIC_RELAXED);
		flags = VRING_PACKED_EVENT_FLAG_DESC;
	} else if (enable) {
		flags = VRING_PACKED_EVENT_FLAG_ENABLE;
	}
	vq_store16(&device->flags, flags, __ATOMIC_RELEASE);
	/* The caller looks at the ring next: that read must not pass this write (as §2.7.10). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint64_t vq_packed_avail_idx(struct virtqueue *vq)
{
	struct vring_packed_desc *ring;
	uint16_t slot = GET_WHOLE(vq->last_avail);
	bool wrap = GET_WHOLE(vq->avail_wrap);

	if (packed_rings(vq, &ring, NULL, NULL) < 0)
		return 0;
	/* Where the driver will write next, as VIRTIO_F_NOTIFICATION_DATA would say it: past
	 * every slot it has made available, at most the slots popped chains do not hold. Read
	 * while the IO thread pops, the three may be of different moments: slot stays below the
	 * size, so the walk stays in the ring; only the traced value may be off. */
	for (unsigned n = GET_WHOLE(vq->inflight); n < vq->size; n++) {
		if (!is_avail(vq_load16(&ring[slot].flags, __ATOMIC_ACQUIRE), wrap))
			break;
		advance(vq, &slot, &wrap, 1);
	}
	return TRACE_RING_IDX_PACKED(slot, wrap);
}
