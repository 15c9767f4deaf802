/* guest/mini/vq_packed.c - the packed virtqueue, driver side (virtio 1.2 §2.8): one ring that we
 * fill with available descriptors and the device overwrites with used ones, each side telling
 * them apart by the AVAIL/USED bits against its own wrap counter; two event suppression
 * structures instead of the split ring's flags and event indices. virtio.c's vq_add, vq_kick and
 * vq_get_used come here when ring=packed negotiated VIRTIO_F_RING_PACKED. */
#include <linux/virtio_ring.h>

#include "virtio.h"

#define F_AVAIL	 (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED	 (1u << VRING_PACKED_DESC_F_USED)
#define WRAP_BIT (1u << VRING_PACKED_EVENT_F_WRAP_CTR)

/* §2.8.10.1: the ring 16-byte aligned, each event structure 4. */
/* One of each per queue (queues=). */
static struct vring_packed_desc ring[VQ_QUEUES][VQ_MAX] __attribute__((aligned(16)));
static struct vring_packed_desc_event driver_ev[VQ_QUEUES] __attribute__((aligned(4)));
static struct vring_packed_desc_event device_ev[VQ_QUEUES] __attribute__((aligned(4)));
/* Buffer ids are the list's first slot (unique while the list is out); per id, its length. */
static uint16_t list_len[VQ_QUEUES][VQ_MAX];
static bool in_flight[VQ_QUEUES][VQ_MAX];

static void advance(const struct vq *q, uint16_t *slot, bool *wrap, uint16_t by)
{
	*slot = (uint16_t)(*slot + by);
	if (*slot >= q->size) {
		*slot = (uint16_t)(*slot - q->size);
		*wrap = !*wrap;
	}
}

/* A slot and its wrap counter as one count modulo 2 * size, so positions compare across laps. */
static uint32_t linear(const struct vq *q, uint16_t slot, bool wrap)
{
	return slot + (wrap ? 0u : q->size);
}

void vq_packed_init(struct vq *q, uint16_t index, uint16_t size, bool event_idx, bool no_interrupt)
{
	if (index >= VQ_QUEUES)
		fail(ST_QUEUE, "queue %u: ring memory for %u queues only", index, VQ_QUEUES);
	/* §2.8.13: the ring starts zeroed: nothing available */
	memset(ring[index], 0, sizeof(ring[0]));
	memset(in_flight[index], 0, sizeof(in_flight[0]));
	device_ev[index] = (struct vring_packed_desc_event){0};
	*q = (struct vq){.index = index,
			 .size = size,
			 .num_free = size,
			 .event_idx = event_idx,
			 .no_interrupt = no_interrupt,
			 .packed = true,
			 .avail_wrap = true, /* §2.8.1: both counters start at 1 */
			 .used_wrap = true,
			 .desc_pa = (uint64_t)ring[index],
			 .driver_pa = (uint64_t)&driver_ev[index],
			 .device_pa = (uint64_t)&device_ev[index]};
	/* Our event structure: no interrupts (irq=poll), one at slot 0 of the first lap
	 * (EVENT_IDX), or one per used buffer. */
	driver_ev[index].off_wrap = WRAP_BIT;
	driver_ev[index].flags = no_interrupt ? VRING_PACKED_EVENT_FLAG_DISABLE
				 : event_idx  ? VRING_PACKED_EVENT_FLAG_DESC
					      : VRING_PACKED_EVENT_FLAG_ENABLE;
}

bool vq_packed_add(struct vq *q, const struct vq_buf *bufs, unsigned n, uint16_t *head)
{
	uint16_t first = q->next_avail, first_flags = 0;

	if (n == 0 || n > q->num_free)
		return false;
	for (unsigned k = 0; k < n; k++) {
		struct vring_packed_desc *d = &ring[q->index][q->next_avail];
		uint16_t flags = (uint16_t)((bufs[k].write ? VRING_DESC_F_WRITE : 0) |
					    (k + 1 < n ? VRING_DESC_F_NEXT : 0) |
					    (q->avail_wrap ? F_AVAIL : F_USED));

		d->addr = (uint64_t)bufs[k].addr; /* identity map: virtual = guest-physical */
		d->len = bufs[k].len;
		d->id = first; /* §2.8.6: the device reads it from the last one */
		if (k == 0)
			first_flags = flags; /* §2.8.21.1: the first one's flags go last */
		else
			d->flags = flags;
		advance(q, &q->next_avail, &q->avail_wrap, 1);
	}
	list_len[q->index][first] = (uint16_t)n;
	in_flight[q->index][first] = true;
	vq_out_add(q, first, bufs, n);
	q->num_free = (uint16_t)(q->num_free - n);
	barrier(); /* the list before the flags that make it available */
	*(volatile uint16_t *)&ring[q->index][first].flags = first_flags;
	q->avail_idx++;
	*head = first;
	return true;
}

void vq_packed_kick(struct vdev *v, struct vq *q)
{
	uint32_t now = linear(q, q->next_avail, q->avail_wrap), span = 2u * q->size;
	bool notify;

	mb(); /* the flags we wrote before the device's event structure is read (§2.8.21.2) */
	uint16_t flags = *(volatile uint16_t *)&device_ev[q->index].flags;

	if (flags == VRING_PACKED_EVENT_FLAG_DESC && q->event_idx) {
		uint16_t ow = *(volatile uint16_t *)&device_ev[q->index].off_wrap;
		uint32_t event = linear(q, (uint16_t)((ow & ~WRAP_BIT) % q->size), ow & WRAP_BIT);

		/* vring_need_event() on positions modulo 2 * size: was the event slot filled? */
		notify = (now + span - event - 1) % span < (now + span - q->kicked_pos) % span;
	} else {
		notify = flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	}
	q->kicked_pos = now;
	if (notify)
		v->ops->notify(v, q);
}

bool vq_packed_get_used(struct vq *q, uint16_t *head, uint32_t *len)
{
	struct vring_packed_desc *d = &ring[q->index][q->next_used];
	uint16_t id;

	if (q->batch_left) { /* in order: the rest of a batch, no ring read */
		id = vq_out_take(q, len);
		goto give_back;
	}
	uint16_t flags = *(volatile uint16_t *)&d->flags;

	/* §2.8.1: used when AVAIL and USED both equal our used wrap counter. */
	if (!!(flags & F_USED) != q->used_wrap || !!(flags & F_AVAIL) != q->used_wrap)
		return false;
	barrier(); /* x86 keeps loads in order; the compiler must too */
	id = d->id;

	if (id >= q->size || !in_flight[q->index][id])
		fail(ST_USED_RING,
		     "queue %u: used descriptor in slot %u names id %u, not a request in flight",
		     q->index, q->next_used, id);
	*len = d->len;
	/* §2.8.8: in order, the used descriptor overwrites the oldest buffer's first slot (our
	 * next_used, as ids are first slots) and names the last buffer of its batch. */
	if (q->in_order) {
		vq_out_span(q, id, *len);
		id = vq_out_take(q, len);
	}
give_back:
	*head = id;
	in_flight[q->index][id] = false;
	q->num_free = (uint16_t)(q->num_free + list_len[q->index][id]);
	/* §2.8.6: one used descriptor per list; the next one is past the list's slots. */
	advance(q, &q->next_used, &q->used_wrap, list_len[q->index][id]);
	q->last_used++;
	/* The driver event stays where vq_packed_arm() put it: moving it here, while the device
	 * may not yet have looked at it for this completion, would cancel the interrupt owed. */
	return true;
}

static bool slot_used(const struct vq *q)
{
	uint16_t flags = *(volatile uint16_t *)&ring[q->index][q->next_used].flags;

	return !!(flags & F_USED) == q->used_wrap && !!(flags & F_AVAIL) == q->used_wrap;
}

bool vq_packed_arm(struct vq *q)
{
	if (q->no_interrupt)
		return false;
	if (!q->event_idx)
		return true; /* ENABLE: every completion interrupts */
	/* §2.8.10: interrupt when the next used descriptor is written, at our next_used slot */
	*(volatile uint16_t *)&driver_ev[q->index].off_wrap =
	    (uint16_t)(q->next_used | (q->used_wrap ? WRAP_BIT : 0));
	/* The store before the load of the slot (the device does the reverse): either we see its
	 * completion here, or it sees our offset and interrupts. */
	mb();
	return !slot_used(q);
}
