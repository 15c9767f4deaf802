/* virtio/ring.h - what the two ring layouts share: virtqueue.c (split, virtio 1.2 §2.7, and the
 * public vq_* entry points) and packed.c (§2.8). Only they include it. Both read guest memory
 * through guest_ptr() alone and build a struct vq_chain with the same bounds. */
#ifndef KVMSCOPE_VIRTIO_RING_H
#define KVMSCOPE_VIRTIO_RING_H

#include <endian.h>

#include "virtio/virtio.h"

/* Guest memory is shared with a running vCPU: every ring word is read or written exactly once. */
static inline uint16_t vq_load16(const void *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static inline void vq_store16(void *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, htole16(v), order);
}

static inline unsigned vq_trace_id(const struct virtqueue *vq)
{
	return vq->vdev ? vq->vdev->trace_id : 0;
}

/* A guest error: the chain is refused and c->fault names the rule it broke (for the trace). */
static inline int vq_fault(struct vq_chain *c, const char *why)
{
	c->fault = why;
	return -EINVAL;
}

/* An empty chain, before the walk; its descriptors are kept while event ev (the pop) is on. */
void vq_chain_init(struct vq_chain *c, enum trace_event ev);
/* Append one descriptor's buffer: readable ones before writable ones (§2.7.5, §2.8.17), inside
 * guest RAM, at most VQ_MAX_SEGS descriptors walked (empty ones count: a huge table of them
 * cannot keep us walking). -EINVAL on a guest error. */
int vq_chain_add(struct virtqueue *vq, struct vq_chain *c, uint64_t addr, uint32_t len,
		 bool writable);
/* An indirect table of whole 16-byte descriptors (both layouts' size) inside guest RAM; NULL
 * (with c->fault) when len is 0, not a multiple of 16, or outside RAM. *n: its descriptors. */
const void *vq_indirect_table(struct virtqueue *vq, struct vq_chain *c, uint64_t addr,
			      uint32_t len, uint32_t *n);

/* packed.c: the packed ring behind the public vq_* calls when vq->packed. */
int vq_packed_pop(struct virtqueue *vq, struct vq_chain *c);
int vq_packed_push(struct virtqueue *vq, const struct vq_chain *c, uint32_t written);
bool vq_packed_should_signal(struct virtqueue *vq);
void vq_packed_set_notify(struct virtqueue *vq, bool enable);
uint64_t vq_packed_avail_idx(struct virtqueue *vq);

#endif
