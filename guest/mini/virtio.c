/* guest/mini/virtio.c - device initialization (virtio 1.2 §3.1.1) and the split virtqueue (§2.7).
 */
#include <stdarg.h>

#include <linux/virtio_pci.h>

#include "virtio.h"

#define RESET_POLLS  1000 /* device_status reads before a reset counts as stuck */
#define CONFIG_TRIES 16	  /* config_generation changes tolerated while reading one field */

/* Each queue's rings, legacy layout so the same memory serves both transports. */
static uint8_t ring_mem[VQ_QUEUES][3 * 4096] __attribute__((aligned(VIRTIO_PCI_VRING_ALIGN)));
static bool in_flight[VQ_QUEUES][VQ_MAX];

void virtio_fail(struct vdev *v, int st, const char *fmt, ...)
{
	va_list ap;

	v->status |= VIRTIO_CONFIG_S_FAILED;
	v->ops->set_status(v, v->status);
	va_start(ap, fmt);
	vfail(st, fmt, ap);
}

static void add_status(struct vdev *v, uint8_t bit)
{
	v->status |= bit;
	v->ops->set_status(v, v->status);
}

/* Queue i: its size (the device's maximum, or qsize= where the transport lets us choose), its
 * rings, its vector (MSI-X entry 1 + i). */
static void queue_setup(struct vdev *v, struct vq *q, uint16_t i, enum mini_irq irq, uint16_t qsize)
{
	const struct vtransport_ops *o = v->ops;
	bool msix = irq == IRQ_MSIX;
	uint16_t max = o->queue_max(v, i), size = max;

	if (!o->size_fixed && size > qsize)
		size = qsize;
	/* §2.8: a packed ring takes any size; a split one a power of 2 (§2.7) */
	if (!size || size > VQ_MAX ||
	    ((size & (size - 1)) && !(v->features & (1ull << VIRTIO_F_RING_PACKED))))
		virtio_fail(v, ST_QUEUE, "queue %u size %u (max %u), need a power of 2 in 1-%u", i,
			    size, max, VQ_MAX);
	if (v->features & (1ull << VIRTIO_F_RING_PACKED))
		vq_packed_init(q, i, size, v->features & (1ull << VIRTIO_RING_F_EVENT_IDX),
			       irq == IRQ_POLL);
	else
		vq_init(q, i, size, v->features & (1ull << VIRTIO_RING_F_EVENT_IDX),
			irq == IRQ_POLL);
	uint16_t vec = o->queue_enable(v, q, msix ? (uint16_t)(1 + i) : VIRTIO_MSI_NO_VECTOR);

	if (msix && vec != 1 + i)
		virtio_fail(v, ST_MSIX_VECTOR, "queue %u vector %u refused (reads 0x%x)", i, 1 + i,
			    vec);
	q->in_order = v->features & (1ull << VIRTIO_F_IN_ORDER);
	kprintf("virtio: queue %u size %u (max %u) at 0x%lx, %s ring%s\n", i, size, max, q->desc_pa,
		q->packed ? "packed" : "split", q->in_order ? ", in order" : "");
}

void virtio_start(struct vdev *v, struct vq *qs, unsigned nq, uint64_t want, uint64_t need,
		  enum mini_irq irq, uint16_t qsize)
{
	bool msix = irq == IRQ_MSIX;
	const struct vtransport_ops *o = v->ops;
	uint8_t st;
	int polls = 0;

	/* §4.1.4.3.2: after writing 0 the driver waits for device_status to read 0 */
	v->status = 0;
	o->set_status(v, 0);
	while ((st = o->get_status(v)) != 0)
		if (++polls == RESET_POLLS)
			fail(ST_RESET, "device_status reads 0x%x after reset", st);
	add_status(v, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	add_status(v, VIRTIO_CONFIG_S_DRIVER);

	uint64_t dev = o->get_features(v);

	v->offered = dev;

	kprintf("virtio: %s, device features 0x%lx\n", o->name, dev);
	if ((dev & need) != need)
		virtio_fail(v, ST_FEATURES, "device lacks feature bits 0x%lx", need & ~dev);
	v->features = dev & (want | need);
	o->set_features(v, v->features);
	kprintf("virtio: driver features 0x%lx\n", v->features);
	if (o->has_features_ok) {
		/* §3.1.1 step 6: re-read; the device clears FEATURES_OK if it refuses the subset */
		add_status(v, VIRTIO_CONFIG_S_FEATURES_OK);
		st = o->get_status(v);
		if (!(st & VIRTIO_CONFIG_S_FEATURES_OK))
			virtio_fail(v, ST_FEATURES_OK, "device_status 0x%x after FEATURES_OK", st);
	}
	/* MSI-X entry 0 for configuration changes, 1 + i for queue i (§4.1.4.3, §4.1.5.1.2) */
	if (msix && o->set_config_vector(v, 0) != 0)
		virtio_fail(v, ST_MSIX_VECTOR, "config vector 0 refused");
	for (unsigned i = 0; i < nq; i++)
		queue_setup(v, &qs[i], (uint16_t)i, irq, qsize);
	add_status(v, VIRTIO_CONFIG_S_DRIVER_OK);
	st = o->get_status(v);
	if (st & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED))
		fail(ST_NEEDS_RESET, "device_status 0x%x after DRIVER_OK", st);
}

uint64_t virtio_config_read64(struct vdev *v, uint32_t off)
{
	const struct vtransport_ops *o = v->ops;

	for (int i = 0; i < CONFIG_TRIES; i++) {
		uint8_t gen = o->config_generation ? o->config_generation(v) : 0;
		/* §4.1.3.1: 64-bit fields as two aligned 32-bit accesses */
		uint64_t lo = o->config_read32(v, off), hi = o->config_read32(v, off + 4);

		if (!o->config_generation || o->config_generation(v) == gen)
			return hi << 32 | lo;
	}
	fail(ST_CAP, "config_generation never settles");
}

void vq_init(struct vq *q, uint16_t index, uint16_t size, bool event_idx, bool no_interrupt)
{
	if (vring_size(size, VIRTIO_PCI_VRING_ALIGN) > sizeof(ring_mem[0]) || index >= VQ_QUEUES)
		fail(ST_QUEUE, "queue %u size %u does not fit %zu bytes of ring memory", index,
		     size, sizeof(ring_mem[0]));
	memset(ring_mem[index], 0, sizeof(ring_mem[0]));
	memset(in_flight[index], 0, sizeof(in_flight[0]));
	*q = (struct vq){.index = index,
			 .size = size,
			 .num_free = size,
			 .event_idx = event_idx,
			 .no_interrupt = no_interrupt};
	vring_init(&q->vr, size, ring_mem[index], VIRTIO_PCI_VRING_ALIGN);
	q->desc_pa = (uint64_t)q->vr.desc;
	q->driver_pa = (uint64_t)q->vr.avail;
	q->device_pa = (uint64_t)q->vr.used;
	/* Free descriptors are linked through their own next fields. */
	for (uint16_t i = 0; i < size; i++)
		q->vr.desc[i].next = (uint16_t)(i + 1);
	if (no_interrupt)
		q->vr.avail->flags =
		    VRING_AVAIL_F_NO_INTERRUPT; /* §2.7.7: ignored with EVENT_IDX */
	if (event_idx && no_interrupt)
		vring_used_event(&q->vr) = 0xFFFF; /* only a wrap of used->idx would interrupt */
}

bool vq_add(struct vq *q, const struct vq_buf *bufs, unsigned n, uint16_t *head)
{
	uint16_t i = q->free_head;

	if (q->packed)
		return vq_packed_add(q, bufs, n, head);
	if (n == 0 || n > q->num_free)
		return false;
	*head = i;
	for (unsigned k = 0; k < n; k++) {
		struct vring_desc *d = &q->vr.desc[i];

		d->addr = (uint64_t)bufs[k].addr; /* identity map: virtual = guest-physical */
		d->len = bufs[k].len;
		d->flags = (uint16_t)((bufs[k].write ? VRING_DESC_F_WRITE : 0) |
				      (k + 1 < n ? VRING_DESC_F_NEXT : 0));
		/* §2.7.5.2: in order, descriptors in ring order, next = x + 1 (0 after the last) */
		if (q->in_order)
			d->next = (uint16_t)((i + 1) % q->size);
		i = d->next; /* the free list's link is the chain's link */
	}
	q->free_head = i;
	q->num_free = (uint16_t)(q->num_free - n);
	in_flight[q->index][*head] = true;
	vq_out_add(q, *head, bufs, n);
	q->vr.avail->ring[q->avail_idx % q->size] = *head;
	barrier(); /* §2.7.13: the ring entry before the index that publishes it */
	q->avail_idx++;
	*(volatile uint16_t *)&q->vr.avail->idx = q->avail_idx;
	return true;
}

void vq_kick(struct vdev *v, struct vq *q)
{
	bool notify;

	if (q->packed) {
		vq_packed_kick(v, q);
		return;
	}
	/* A store (avail->idx) then loads of the device's fields: only mfence orders those. */
	mb();
	if (q->event_idx) {
		uint16_t event = *(volatile uint16_t *)&vring_avail_event(&q->vr);

		notify = vring_need_event(event, q->avail_idx, q->kicked_idx);
	} else {
		notify = !(*(volatile uint16_t *)&q->vr.used->flags & VRING_USED_F_NO_NOTIFY);
	}
	q->kicked_idx = q->avail_idx;
	if (notify)
		v->ops->notify(v, q);
}

void vq_out_add(struct vq *q, uint16_t id, const struct vq_buf *bufs, unsigned n)
{
	uint32_t wlen = 0;

	if (!q->in_order)
		return;
	for (unsigned k = 0; k < n; k++)
		wlen += bufs[k].write ? bufs[k].len : 0;
	q->out[(q->out_first + q->out_n) % VQ_MAX].id = id;
	q->out[(q->out_first + q->out_n) % VQ_MAX].wlen = wlen;
	q->out_n++;
}

bool vq_out_span(struct vq *q, uint16_t id, uint32_t len)
{
	for (uint16_t n = 0; n < q->out_n; n++)
		if (q->out[(q->out_first + n) % VQ_MAX].id == id) {
			q->batch_left = (uint16_t)(n + 1);
			q->batch_len = len;
			q->in_order_batches += n > 0;
			return true;
		}
	return false;
}

uint16_t vq_out_take(struct vq *q, uint32_t *len)
{
	uint16_t id = q->out[q->out_first].id;

	*len = --q->batch_left ? q->out[q->out_first].wlen : q->batch_len;
	q->out_first = (uint16_t)((q->out_first + 1) % VQ_MAX);
	q->out_n--;
	q->in_order_bufs++;
	return id;
}

/* In order: the next buffer of the used entry at last_used (read when the last batch is all
 * handed out). The entry may cover several buffers: the used idx must have moved past them all
 * (§2.7.9: it grows by the size of the batch). */
static uint16_t in_order_used(struct vq *q, uint16_t used, uint32_t *len)
{
	if (!q->batch_left) {
		struct vring_used_elem *e = &q->vr.used->ring[q->last_used % q->size];
		uint32_t id = e->id;

		if (id >= q->size || !vq_out_span(q, (uint16_t)id, e->len))
			fail(ST_USED_RING,
			     "queue %u: used[%u] names descriptor %u, not a request in flight",
			     q->index, q->last_used, id);
		if (q->batch_left > (uint16_t)(used - q->last_used))
			fail(ST_USED_RING,
			     "queue %u: in order, used[%u] names the %uth buffer out, but the used "
			     "idx moved by %u",
			     q->index, q->last_used, q->batch_left,
			     (uint16_t)(used - q->last_used));
		q->last_used = (uint16_t)(q->last_used + q->batch_left);
	}
	return vq_out_take(q, len);
}

bool vq_get_used(struct vq *q, uint16_t *head, uint32_t *len)
{
	if (q->packed)
		return vq_packed_get_used(q, head, len);
	uint16_t used = *(volatile uint16_t *)&q->vr.used->idx;

	if (used == q->last_used && !q->batch_left)
		return false;
	barrier(); /* x86 keeps loads in order; the compiler must too (§2.7.14) */
	uint32_t id;

	if (q->in_order) {
		id = in_order_used(q, used, len);
	} else {
		struct vring_used_elem *e = &q->vr.used->ring[q->last_used % q->size];

		id = e->id;
		if (id >= q->size || !in_flight[q->index][id])
			fail(ST_USED_RING,
			     "queue %u: used[%u] names descriptor %u, not a request in flight",
			     q->index, q->last_used, id);
		*len = e->len;
		q->last_used++;
	}
	*head = (uint16_t)id;
	in_flight[q->index][id] = false;
	/* Give the chain back: find its tail, link it in front of the free list (in order the
	 * descriptors go back in ring order by themselves: no link to change). */
	uint16_t tail = (uint16_t)id, n = 1;

	while ((q->vr.desc[tail].flags & VRING_DESC_F_NEXT) && n < q->size) {
		tail = q->vr.desc[tail].next;
		n++;
	}
	if (!q->in_order) {
		q->vr.desc[tail].next = q->free_head;
		q->free_head = (uint16_t)id;
	}
	q->num_free = (uint16_t)(q->num_free + n);
	/* used_event stays where vq_arm() put it: moving it here, while the device may not yet
	 * have looked at it for this completion, would cancel the interrupt the driver waits for.
	 */
	return true;
}

bool vq_arm(struct vq *q)
{
	if (q->packed)
		return vq_packed_arm(q);
	if (q->no_interrupt)
		return false;
	if (!q->event_idx)
		return true; /* no suppression asked: every completion interrupts (§2.7.7) */
	/* §2.7.10: interrupt when used->idx passes last_used, i.e. at the next completion */
	*(volatile uint16_t *)&vring_used_event(&q->vr) = q->last_used;
	/* The store before the load of used->idx (the device does the reverse): either we see its
	 * completion here, or it sees our used_event and interrupts. */
	mb();
	return *(volatile uint16_t *)&q->vr.used->idx == q->last_used;
}
