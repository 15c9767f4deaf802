/* virtio/virtqueue.c - the split virtqueue, device side (virtio 1.2 §2.7), what both layouts
 * share (chains, indirect tables), and the vq_* entry points that send a packed queue to
 * packed.c. */
#include <errno.h>
#include <linux/virtio_pci.h>
#include <string.h>

#include "trace/trace.h"
#include "virtio/ring.h"

/* Ring layouts (virtio 1.2 §2.7.6, §2.7.8): flags, idx, ring[size], then the event word. */
#define AVAIL_BYTES(n) (4 + 2 * (uint64_t)(n) + 2)
#define USED_BYTES(n)  (4 + 8 * (uint64_t)(n) + 2)
#define DESC_BYTES(n)  (16 * (uint64_t)(n))

/* virtio 1.2 §2.7 table "Virtqueue Part Alignment": desc 16, avail 2, used 4. */
static int vq_rings(struct virtqueue *vq, struct vring_desc **desc, struct vring_avail **avail,
		    struct vring_used **used)
{
	uint16_t n = vq->size;

	if (!vq->ready || n == 0 || (n & (n - 1)) || (vq->desc & 15) || (vq->avail & 1) ||
	    (vq->used & 3))
		return -EINVAL;
	if (desc && !(*desc = guest_ptr(vq->mem, vq->desc, DESC_BYTES(n))))
		return -EINVAL;
	if (avail && !(*avail = guest_ptr(vq->mem, vq->avail, AVAIL_BYTES(n))))
		return -EINVAL;
	if (used && !(*used = guest_ptr(vq->mem, vq->used, USED_BYTES(n))))
		return -EINVAL;
	return 0;
}

uint64_t vq_avail_idx(struct virtqueue *vq)
{
	struct vring_avail *avail;

	if (vq->packed)
		return vq_packed_avail_idx(vq);
	return vq_rings(vq, NULL, &avail, NULL) < 0 ? 0 : vq_load16(&avail->idx, __ATOMIC_ACQUIRE);
}

/* Copy one descriptor out of guest memory once, so a racing driver cannot change it under us. */
static void desc_read(const struct vring_desc *d, uint64_t *addr, uint32_t *len, uint16_t *flags,
		      uint16_t *next)
{
	struct vring_desc copy;

	memcpy(&copy, d, sizeof(copy));
	*addr = le64toh(copy.addr);
	*len = le32toh(copy.len);
	*flags = le16toh(copy.flags);
	*next = le16toh(copy.next);
}

void vq_chain_init(struct vq_chain *c, enum trace_event ev)
{
	trace_descs_start(&c->descs, trace_on(ev));
	c->ndescs = 0;
	c->walked = 0;
	c->nr_out = c->nr_in = 0;
	c->out_bytes = c->in_bytes = 0;
}

int vq_chain_add(struct virtqueue *vq, struct vq_chain *c, uint64_t addr, uint32_t len,
		 bool writable)
{
	unsigned n = c->nr_out + c->nr_in;
	void *p;

	/* Empty descriptors count too, so a huge indirect table cannot keep us walking. */
	if (++c->walked > VQ_MAX_SEGS)
		return vq_fault(c, "chain of more buffers than the device accepts");
	/* virtio 1.2 §2.7.5: device-writable descriptors come after all device-readable ones. */
	if (!writable && c->nr_in)
		return vq_fault(c, "device-readable descriptor after a device-writable one");
	if (len == 0)
		return 0; /* nothing to transfer: no segment, but the chain goes on */
	if (n >= VQ_MAX_SEGS)
		return vq_fault(c, "chain of more buffers than the device accepts");
	p = guest_ptr(vq->mem, addr, len);
	if (!p)
		return vq_fault(c, "buffer outside guest RAM");
	if (writable) {
		if (len > UINT32_MAX - c->in_bytes)
			return vq_fault(c, "chain longer than 4 GiB");
		c->in_bytes += len;
		c->nr_in++;
	} else {
		if (len > UINT32_MAX - c->out_bytes)
			return vq_fault(c, "chain longer than 4 GiB");
		c->out_bytes += len;
		c->nr_out++;
	}
	c->iov[n].iov_base = p;
	c->iov[n].iov_len = len;
	return 0;
}

const void *vq_indirect_table(struct virtqueue *vq, struct vq_chain *c, uint64_t addr,
			      uint32_t len, uint32_t *n)
{
	const void *table;

	if (len == 0 || len % 16) {
		vq_fault(c, "indirect descriptor with NEXT or a partial table");
		return NULL;
	}
	*n = len / 16;
	table = guest_ptr(vq->mem, addr, len);
	if (!table)
		vq_fault(c, "indirect table outside guest RAM");
	return table;
}

/* Walk the chain starting at head: direct descriptors, then at most one indirect table. */
static int chain_walk(struct virtqueue *vq, const struct vring_desc *table, uint16_t head,
		      struct vq_chain *c)
{
	uint32_t tsize = vq->size, seen = 0;
	bool indirect = false;
	uint16_t idx = head, flags, next;
	uint64_t addr;
	uint32_t len;
	int r;

	for (;;) {
		if (idx >= tsize)
			return vq_fault(c, indirect ? "next index beyond the indirect table"
						 : "descriptor index beyond the queue");
		/* A chain can visit each descriptor of its table once: more means a loop. */
		if (++seen > tsize)
			return vq_fault(c, indirect ? "indirect chain longer than its table (a loop)"
						 : "chain longer than the queue (a loop)");
		desc_read(&table[idx], &addr, &len, &flags, &next);
		trace_descs_add(&c->descs, addr, len, flags, idx);
		if (flags & VRING_DESC_F_INDIRECT) {
			/* virtio 1.2 §2.7.5.3.1: no nested table, no NEXT beside INDIRECT,
			 * a table of whole descriptors. */
			if (indirect)
				return vq_fault(c, "indirect table inside an indirect table");
			if (flags & VRING_DESC_F_NEXT)
				return vq_fault(c, "indirect descriptor with NEXT or a partial table");
			table = vq_indirect_table(vq, c, addr, len, &tsize);
			if (!table)
				return -EINVAL;
			indirect = true;
			seen = 0;
			idx = 0;
			continue;
		}
		r = vq_chain_add(vq, c, addr, len, flags & VRING_DESC_F_WRITE);
		if (r < 0)
			return r;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		idx = next;
	}
}

int vq_pop(struct virtqueue *vq, struct vq_chain *c)
{
	struct vring_desc *desc;
	struct vring_avail *avail;
	uint16_t avail_idx, pending, head;
	int r;

	c->fault = NULL;
	if (!vq->ready)
		return 0; /* a notify before QUEUE_ENABLE: nothing to serve yet */
	if (vq->packed)
		return vq_packed_pop(vq, c);
	r = vq_rings(vq, &desc, &avail, NULL);
	if (r < 0)
		return vq_fault(c, "rings misaligned or outside guest RAM");
	/* Acquire pairs with the driver's barrier before its idx update (§2.7.13.3): the
	 * entries and descriptors it publishes are read after idx. */
	avail_idx = vq_load16(&avail->idx, __ATOMIC_ACQUIRE);
	pending = (uint16_t)(avail_idx - vq->last_avail); /* indices wrap at 2^16 (§2.7.6) */
	if (pending == 0)
		return 0;
	if (pending > vq->size) /* the driver cannot have more buffers out than the ring holds */
		return vq_fault(c, "avail index ahead of the ring by more than its size");
	head = vq_load16(&avail->ring[vq->last_avail & (vq->size - 1)], __ATOMIC_RELAXED);

	vq_chain_init(c, TRACE_EV_SPLIT_POP);
	c->head = head;
	c->ndescs = 1; /* the split ring's used entry names the head alone */
	r = chain_walk(vq, desc, head, c);
	if (r < 0)
		return r;
	TRACE_DESCS(SPLIT_POP, vq_trace_id(vq), &c->descs, TRACE_PAIR(vq->index, head),
		    vq->last_avail, avail_idx, c->descs.walked);
	vq->last_avail++;
	return 1;
}

int vq_push(struct virtqueue *vq, const struct vq_chain *c, uint32_t written)
{
	struct vring_used *used;
	struct vring_used_elem *e;
	uint16_t head = c->head;
	int r;

	if (vq->packed)
		return vq_packed_push(vq, c, written);
	r = vq_rings(vq, NULL, NULL, &used);
	if (r < 0)
		return r;
	if (head >= vq->size)
		return -EINVAL;
	e = &used->ring[vq->used_idx & (vq->size - 1)];
	e->id = htole32(head);
	e->len = htole32(written);
	/* virtio 1.2 §2.7.8: release: the element (and the data) before the index publishing it. */
	vq->used_idx++;
	vq_store16(&used->idx, vq->used_idx, __ATOMIC_RELEASE);
	TRACE_DESCS(USED_PUSH, vq_trace_id(vq), &c->descs, TRACE_PAIR(vq->index, head), written,
		    vq->used_idx);
	return 0;
}

bool vq_should_signal(struct virtqueue *vq)
{
	struct vring_avail *avail;
	uint16_t old, new, event;
	bool valid, want, empty;

	if (vq->packed)
		return vq_packed_should_signal(vq);
	/* virtio 1.2 §2.7.7: used->idx is written before flags / used_event are read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq_rings(vq, NULL, &avail, NULL) < 0)
		return true; /* a broken ring: an extra interrupt is harmless */
	/* virtio 1.2 §6.3 NOTIFY_ON_EMPTY: out of buffers, the driver is told whatever it asked. */
	empty = vq->notify_on_empty && vq_load16(&avail->idx, __ATOMIC_ACQUIRE) == vq->last_avail;
	if (!vq->event_idx) {
		want = empty ||
		       !(vq_load16(&avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
		if (!want)
			TRACE(IRQ_SUPPRESS, vq_trace_id(vq), vq->index, TRACE_SUPPRESS_NO_INTERRUPT,
			      vq->used_idx, 0);
		return want;
	}

	/* Everything up to used_idx is now accounted for, signalled or not (as vhost does). */
	valid = vq->signalled_used_valid;
	old = vq->signalled_used;
	new = vq->used_idx;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (!valid)
		return true;
	event = vq_load16(&avail->ring[vq->size], __ATOMIC_RELAXED); /* used_event */
	want = empty || vring_need_event(event, new, old);
	if (!want)
		TRACE(IRQ_SUPPRESS, vq_trace_id(vq), vq->index, TRACE_SUPPRESS_EVENT_IDX, new, event);
	return want;
}

void vq_set_notify(struct virtqueue *vq, bool enable)
{
	struct vring_used *used;

	if (vq->packed) {
		vq_packed_set_notify(vq, enable);
		return;
	}
	if (vq_rings(vq, NULL, NULL, &used) < 0)
		return;
	if (vq->event_idx) {
		/* §2.7.10: avail_event = the next entry we want to hear about; when disabling,
		 * leaving it behind is enough: the driver only notifies on crossing it. */
		if (enable)
			vq_store16(&used->ring[vq->size], vq->last_avail,
				__ATOMIC_RELAXED); /* avail_event */
	} else {
		vq_store16(&used->flags, enable ? 0 : VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
	}
	/* The caller re-reads avail->idx next: that read must not pass this write (§2.7.10). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void vq_reset(struct virtqueue *vq)
{
	vq->size = vq->max_size;
	vq->desc = vq->avail = vq->used = 0;
	vq->ready = false;
	vq->msix_vector = VIRTIO_MSI_NO_VECTOR;
	vq->event_idx = false;
	vq->packed = false;
	vq->in_order = false;
	vq->notify_on_empty = false;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->avail_wrap = vq->used_wrap = true; /* §2.8.1: both counters start at 1 */
	vq->inflight = 0;
	vq->pushed = 0;
}
