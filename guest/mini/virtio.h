/*
 * guest/mini/virtio.h - the virtio-pci driver side: a transport (legacy or modern, one ops table
 * each, as kvmscope's own transports are split) under a handshake and a split or packed
 * virtqueue (vq_packed.c) that know nothing of which transport carries them.
 */
#ifndef MINI_VIRTIO_H
#define MINI_VIRTIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "pci.h"

#define VQ_MAX	  256 /* largest queue we have static ring memory for */
#define VQ_WANT	  64  /* modern: queue size asked for (qsize=), min() with the device's maximum */
#define VQ_QUEUES 4   /* most queues we drive (queues=): static ring memory for each */

struct vdev;
struct vq;

struct vtransport_ops {
	const char *name;
	/* Locates the registers; fails ST_NO_TRANSPORT or ST_CAP. */
	void (*probe)(struct vdev *v);
	uint8_t (*get_status)(struct vdev *v);
	void (*set_status)(struct vdev *v, uint8_t status);
	uint64_t (*get_features)(struct vdev *v);
	void (*set_features)(struct vdev *v, uint64_t features);
	/* Sets the vector and returns what the device read back (VIRTIO_MSI_NO_VECTOR: refused). */
	uint16_t (*set_config_vector)(struct vdev *v, uint16_t vector);
	/* Selects a queue and returns its maximum size (0: no such queue); fails ST_QUEUE if the
	 * queue is already live. */
	uint16_t (*queue_max)(struct vdev *v, uint16_t index);
	/* Gives the device the laid-out queue q and enables it; returns the vector read back. */
	uint16_t (*queue_enable)(struct vdev *v, struct vq *q, uint16_t vector);
	void (*notify)(struct vdev *v, struct vq *q);
	uint8_t (*read_isr)(struct vdev *v);
	uint32_t (*config_read32)(struct vdev *v, uint32_t off);
	/* A 1- or 4-byte device config write (writeback= and test=hostile). */
	void (*config_write)(struct vdev *v, uint32_t off, uint32_t val, unsigned len);
	uint8_t (*config_generation)(struct vdev *v); /* NULL: legacy has none */
	bool has_features_ok;			      /* legacy has no FEATURES_OK step */
	bool size_fixed;			      /* legacy: the queue size is the device's */
};

struct vdev {
	const struct vtransport_ops *ops;
	struct pci_dev *pci;
	bool msix;	      /* MSI-X enabled in PCI: legacy device config moves from 20 to 24 */
	uint8_t status;	      /* what we last wrote to device_status */
	uint64_t offered;     /* device features as read in the handshake */
	uint64_t features;    /* negotiated */
	struct region legacy; /* legacy: BAR0 */
	struct region common, notify, isr, device; /* modern: from the vendor capabilities */
	uint32_t notify_mult;
};

struct vq {
	uint16_t index, size;
	struct vring vr;     /* desc/avail/used pointers, legacy layout (vring_init) */
	uint16_t notify_off; /* modern: queue_notify_off */
	uint16_t free_head, num_free;
	uint16_t avail_idx, last_used; /* our shadows of avail->idx and of what we consumed */
	uint16_t kicked_idx;	       /* avail_idx at the last kick, for vring_need_event */
	bool event_idx, no_interrupt;
	uint64_t desc_pa, driver_pa, device_pa; /* the three areas the transport hands over */
	/* Packed (§2.8): our next slot and wrap counter, where the next used descriptor lands and
	 * its counter, and our position (slot + size when wrap is 0) at the last kick. */
	bool packed;
	uint16_t next_avail, next_used;
	bool avail_wrap, used_wrap;
	uint32_t kicked_pos;
	/* VIRTIO_F_IN_ORDER (§2.7.9, §2.8.8): the buffers out, oldest first (id and writable
	 * bytes); of the used entry being handed out, the buffers still to give and its len; how
	 * many buffers came back and how many used entries covered more than one (a batch). */
	bool in_order;
	struct {
		uint16_t id;
		uint32_t wlen;
	} out[VQ_MAX];
	uint16_t out_first, out_n, batch_left;
	uint32_t batch_len, in_order_bufs, in_order_batches;
};

/* One buffer of a chain: device-readable (out) or device-writable (in). */
struct vq_buf {
	void *addr;
	uint32_t len;
	bool write; /* device writes it */
};

extern const struct vtransport_ops virtio_legacy_ops, virtio_modern_ops;

/* Step 3: virtio 1.2 §3.1.1 from reset to DRIVER_OK with queues 0 to nq - 1 set up (MSI-X:
 * queue i on entry 1 + i). 'want' is accepted when offered, 'need' fails ST_FEATURES when not;
 * the result is in v->features. */
void virtio_start(struct vdev *v, struct vq *qs, unsigned nq, uint64_t want, uint64_t need,
		  enum mini_irq irq, uint16_t qsize);
/* Sets FAILED (§3.1.1: the driver gives up) and fails with status st. */
__attribute__((noreturn, format(printf, 3, 4))) void virtio_fail(struct vdev *v, int st,
								 const char *fmt, ...);
/* 32-bit halves of a 64-bit config field, retried until config_generation is stable (§2.5.1). */
uint64_t virtio_config_read64(struct vdev *v, uint32_t off);

/* Lays the rings out in the static memory of queue 'index' (< VQ_QUEUES) for 'size' entries
 * (power of 2, at most VQ_MAX). */
void vq_init(struct vq *q, uint16_t index, uint16_t size, bool event_idx, bool no_interrupt);
/* Chains bufs into descriptors and publishes the head in the avail ring; false if no room. */
bool vq_add(struct vq *q, const struct vq_buf *bufs, unsigned n, uint16_t *head);
/* Notifies the device unless it asked not to be (VRING_USED_F_NO_NOTIFY or avail_event). */
void vq_kick(struct vdev *v, struct vq *q);
/* Pops one used element, frees its chain; false if none. Fails ST_USED_RING on a bad id.
 * Never moves used_event: only vq_arm() does. */
bool vq_get_used(struct vq *q, uint16_t *head, uint32_t *len);
/* Asks for an interrupt at the next completion (EVENT_IDX: used_event = last_used). True when
 * one is owed: interrupts are on and nothing is waiting in the used ring now, so the device
 * will see the request when it completes the next buffer. False: do not wait for one (polling
 * queue, or completions already there, which the device may have checked before we asked). */
bool vq_arm(struct vq *q);

/* In order, for both layouts: note a buffer made available (id and its writable bytes); */
void vq_out_add(struct vq *q, uint16_t id, const struct vq_buf *bufs, unsigned n);
/* a used entry naming id with len: it covers every buffer out up to id (a batch when more than
 * one); false when id is not out. vq_out_take() then hands them out oldest first: the one named
 * gets len, the ones skipped their whole writable size (used completely, §2.7.9). */
bool vq_out_span(struct vq *q, uint16_t id, uint32_t len);
uint16_t vq_out_take(struct vq *q, uint32_t *len);

/* vq_packed.c: the same four for a packed ring (any size up to VQ_MAX); 'head' is the id. */
void vq_packed_init(struct vq *q, uint16_t index, uint16_t size, bool event_idx, bool no_interrupt);
bool vq_packed_add(struct vq *q, const struct vq_buf *bufs, unsigned n, uint16_t *head);
void vq_packed_kick(struct vdev *v, struct vq *q);
bool vq_packed_get_used(struct vq *q, uint16_t *head, uint32_t *len);
bool vq_packed_arm(struct vq *q);

#endif
