/* virtio/virtio.h - front door of the virtio layer, on pci/ and kvm/: the device model, the split
 * and packed virtqueues behind one set of vq_* calls, and the two ops tables that keep a device
 * and its transport apart (the kvmtool way). Inside, from the bottom up: virtqueue.c and
 * packed.c (sharing ring.h), core.c, then the virtio-pci transport (pci-common.c, pci-legacy.c
 * and pci-modern.c, pci.c). blk/ stands on it. */
#ifndef KVMSCOPE_VIRTIO_H
#define KVMSCOPE_VIRTIO_H

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "kvm/kvm.h"
#include "trace/trace.h"

/* Queues a device may have: --blk-queues' limit (MSI-X gives each its vector plus one for
 * configuration changes, within pci/'s 64). */
#define VIRTIO_MAX_QUEUES 16
/* Offered by QEMU to every device and never acked by a correct legacy driver: one that acks
 * it did not negotiate, and gets no features (virtio 0.9.5's reserved bit 30). */
#define VIRTIO_F_BAD_FEATURE 30
#define VQ_MAX_SEGS       256 /* longest chain a device accepts; longer is a guest error */

struct virtio_dev;

/* The ring layouts a device offers (--ring): split only, or packed too (VIRTIO_F_RING_PACKED;
 * the driver picks one at FEATURES_OK). */
enum virtio_ring { VIRTIO_RING_SPLIT, VIRTIO_RING_PACKED };

/* --- A virtqueue, split (virtio 1.2 §2.7) or packed (§2.8): which one the driver negotiated is
 * the virtqueue's business; a device calls the same vq_* functions for both. Owned by one
 * consumer thread at a time. --- */
struct virtqueue {
	struct virtio_dev *vdev;
	const struct guest_mem *mem;
	unsigned index;

	/* Set by the transport from the driver's registers. */
	uint16_t max_size; /* the device's maximum */
	uint16_t size;     /* what the driver chose (legacy: always max_size) */
	uint64_t desc, avail, used; /* guest-physical; packed: ring, driver and device event areas */
	bool ready;
	uint16_t msix_vector; /* VIRTIO_MSI_NO_VECTOR when none */

	/* Device-side ring state. */
	bool event_idx;         /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool notify_on_empty;   /* VIRTIO_F_NOTIFY_ON_EMPTY negotiated (legacy drivers) */
	bool packed;            /* VIRTIO_F_RING_PACKED negotiated (set at FEATURES_OK) */
	/* VIRTIO_F_IN_ORDER negotiated (set at FEATURES_OK): the device must push chains in the
	 * order it popped them (virtio 1.2 §2.7.9, §2.8.8); holding early ones back is its job. */
	bool in_order;
	uint16_t last_avail;    /* next avail entry to pop; packed: the next ring slot to look at */
	uint16_t used_idx;      /* our copy of used->idx; packed: the slot of the next used one */
	uint16_t signalled_used; /* used_idx when the guest was last interrupted */
	bool signalled_used_valid;
	/* Packed only (§2.8.1): the wrap counters of last_avail and used_idx, both 1 after reset,
	 * and how many ring slots popped chains hold until they are used. */
	bool avail_wrap, used_wrap;
	uint16_t inflight;
	uint32_t pushed; /* slots used since the last signal decision */
};

/* One popped descriptor chain: device-readable segments first, then device-writable. */
struct vq_chain {
	uint16_t head;     /* split: the head descriptor; packed: the buffer id */
	uint16_t ndescs;   /* packed: ring slots the chain takes, which its used one skips; split: 1 */
	unsigned walked;   /* descriptors read, empty and indirect ones too (at most VQ_MAX_SEGS) */
	unsigned nr_out, nr_in;
	uint32_t out_bytes, in_bytes;
	const char *fault; /* after -EINVAL: the rule the driver broke, for the trace */
	struct trace_descs descs; /* the descriptors as walked, while the pop's event is traced */
	struct iovec iov[VQ_MAX_SEGS]; /* [0, nr_out) readable, [nr_out, nr_out + nr_in) writable */
};

/* 1 when a chain was popped, 0 when the avail ring is empty, -EINVAL on a guest error
 * (bad address, loop, over-long chain, bad index; c->fault names it): the caller marks the
 * device NEEDS_RESET. */
int vq_pop(struct virtqueue *vq, struct vq_chain *c);
/* Publish a completed chain (as vq_pop gave it) as used, with the write barrier the spec
 * requires; chains may complete in any order. */
int vq_push(struct virtqueue *vq, const struct vq_chain *c, uint32_t written);
/* Whether the driver wants an interrupt for what was pushed since the last one (EVENT_IDX,
 * VRING_AVAIL_F_NO_INTERRUPT, or the packed driver event structure); moves the signalled
 * position to used_idx each time (as vhost does), so ask once per batch: with EVENT_IDX a
 * second call answers false. */
bool vq_should_signal(struct virtqueue *vq);
/* Ask the driver to notify (or not) for new buffers: used->flags or avail_event; packed: the
 * device event structure. */
void vq_set_notify(struct virtqueue *vq, bool enable);
void vq_reset(struct virtqueue *vq);
/* For the trace: the driver's avail->idx; packed: the slot and wrap counter the driver will
 * fill next as TRACE_RING_IDX_PACKED(); 0 while the rings are not set up. */
uint64_t vq_avail_idx(struct virtqueue *vq);

/* --- Device side: a device (blk/) fills this; it never learns its transport. --- */
struct virtio_device_ops {
	const char *name;
	uint16_t device_id;  /* VIRTIO_ID_BLOCK ... */
	uint32_t pci_class;  /* class code for the PCI transport: 0x010000 for block */
	unsigned nr_queues;
	uint16_t queue_max_size;
	/* The features to offer, given what the virtqueue and transport offer (`offered`: ring
	 * features, NOTIFY_ON_EMPTY, ANY_LAYOUT, bit 30, and VERSION_1 unless the transport is
	 * legacy only): the device adds its own and may drop some, as QEMU's get_features does. */
	uint64_t (*get_features)(struct virtio_dev *vdev, uint64_t offered);
	uint32_t config_size;
	/* Device-specific configuration space; off + len <= config_size, checked by the caller. */
	void (*config_access)(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len,
			      bool is_write);
	/* The driver notified vq. On the vCPU thread unless the device took the notifies with
	 * virtio_set_host_notifier(). */
	void (*queue_notify)(struct virtio_dev *vdev, struct virtqueue *vq);
	/* DRIVER_OK was set: start the backend. Returns -errno to refuse (DEVICE_NEEDS_RESET). */
	int (*start)(struct virtio_dev *vdev);
	/* Reset or NEEDS_RESET: stop the backend and drop in-flight work before queues go away.
	 * A reset after NEEDS_RESET calls it again: it must be idempotent. */
	void (*stop)(struct virtio_dev *vdev);
};

/* --- Transport side: virtio-pci legacy/modern fills this; it never learns its device. --- */
struct virtio_transport_ops {
	const char *name; /* "virtio-pci-legacy", ... */
	/* Raise vq's interrupt (MSI-X vector, or INTx with ISR bit 0). Any thread. */
	void (*signal_vq)(struct virtio_dev *vdev, struct virtqueue *vq);
	/* Raise the configuration-change interrupt (ISR bit 1). Any thread. */
	void (*signal_config)(struct virtio_dev *vdev);
	/* Dataplane: let eventfd fd take vq's notifies (ioeventfd); fd < 0 undoes it. */
	int (*set_host_notifier)(struct virtio_dev *vdev, struct virtqueue *vq, int fd);
	/* Dataplane: writing eventfd fd raises vq's interrupt (irqfd); fd < 0 undoes it.
	 * -ENOTSUP where the transport cannot (INTx): call virtio_signal_vq() instead. */
	int (*set_guest_notifier)(struct virtio_dev *vdev, struct virtqueue *vq, int fd);
	/* Dataplane: vq's irqfd was written; trace the interrupt KVM sends for it. Any thread. */
	void (*traced_guest_notifier)(struct virtio_dev *vdev, struct virtqueue *vq);
};

/* --- The device model shared by both sides (virtio/core.c). --- */
struct virtio_dev {
	const struct virtio_device_ops *ops;
	const struct virtio_transport_ops *transport;
	void *device_priv, *transport_priv;
	struct vm *vm;
	const struct guest_mem *mem;

	pthread_mutex_t lock; /* register accesses and status changes */
	uint8_t status;       /* VIRTIO_CONFIG_S_* */
	uint64_t host_features, driver_features;
	uint32_t device_feature_sel, driver_feature_sel;
	uint16_t queue_sel;
	uint16_t config_msix_vector;
	uint8_t isr;          /* bit 0: used buffers, bit 1: configuration change */
	uint8_t config_generation;
	struct virtqueue vqs[VIRTIO_MAX_QUEUES];
	unsigned nr_vqs;
	uint16_t trace_id; /* the device in trace events (virtio_dev_init registers it) */
	enum virtio_ring ring; /* the layouts offered (virtio_dev_set_ring) */
	bool in_order;	       /* VIRTIO_F_IN_ORDER offered (virtio_dev_set_ring) */
};

/* From DRIVER_OK to reset, the backend may be serving the queues on other threads (IO threads
 * that read them without vdev->lock): the queues' registers (size, addresses, enable, vector)
 * and the driver's features stay as they were at DRIVER_OK. Without VIRTIO_F_RING_RESET the
 * driver sets them up before DRIVER_OK (virtio 1.2 §3.1.1), so only a broken driver notices. */
static inline bool virtio_queues_frozen(const struct virtio_dev *vdev)
{
	return vdev->status & VIRTIO_CONFIG_S_DRIVER_OK;
}

/* Set up vdev for a device, offering its features with VERSION_1 (until a transport says). */
int virtio_dev_init(struct virtio_dev *vdev, struct vm *vm, const struct guest_mem *mem,
		    const struct virtio_device_ops *ops, void *device_priv);
/* --ring and --in-order, before a transport takes the device: VIRTIO_RING_PACKED offers
 * VIRTIO_F_RING_PACKED too, in_order VIRTIO_F_IN_ORDER (bit 35), both only where the transport
 * has a modern interface; the driver picks. The device's own code never learns which ring runs;
 * with IN_ORDER negotiated it finds vq->in_order set and must push in pop order. */
void virtio_dev_set_ring(struct virtio_dev *vdev, enum virtio_ring ring, bool in_order);
/* The device's queue count when it is not ops->nr_queues (virtio-blk's --blk-queues), before a
 * transport takes it; the features are asked for again (a device may offer more with more
 * queues). -EINVAL outside 1..VIRTIO_MAX_QUEUES. */
int virtio_dev_set_queues(struct virtio_dev *vdev, unsigned n);
/* A transport took the device (QEMU's virtio_bus_device_plugged): the features it offers,
 * VERSION_1 only where the transport has a modern interface, recorded with the queues. */
void virtio_dev_plugged(struct virtio_dev *vdev, bool version_1);
/* virtio 1.2 §3.1 / §2.1: the status register write, with reset on 0, FEATURES_OK refused for
 * unsupported features, start() on DRIVER_OK. Called by transports with vdev->lock held. */
void virtio_set_status(struct virtio_dev *vdev, uint8_t status);
void virtio_reset(struct virtio_dev *vdev);
/* A guest error: set DEVICE_NEEDS_RESET, stop the backend, tell the driver (config interrupt). */
void virtio_needs_reset(struct virtio_dev *vdev, const char *why);
/* The device's own backend failed (not the guest): NEEDS_RESET as above, no guest_error. */
void virtio_device_failed(struct virtio_dev *vdev, const char *why);
/* After vq_push(): interrupt the driver if it wants one. */
void virtio_signal_vq(struct virtio_dev *vdev, struct virtqueue *vq);
/* Interrupt the driver now: for a device whose rings another process serves and which has
 * already decided (vhost-user's call eventfd where no irqfd can take it). */
void virtio_raise_vq(struct virtio_dev *vdev, struct virtqueue *vq);
int virtio_set_host_notifier(struct virtio_dev *vdev, struct virtqueue *vq, int fd);
int virtio_set_guest_notifier(struct virtio_dev *vdev, struct virtqueue *vq, int fd);

/* --- The virtio-pci transport (virtio/pci*.c). --- */
struct pci;
enum virtio_pci_mode {
	VIRTIO_PCI_TRANSITIONAL, /* legacy I/O BAR0 + modern caps in BAR4, id 0x1000 + n, rev 0 */
	VIRTIO_PCI_MODERN,       /* modern caps only: id 0x1040 + virtio id, revision 1 */
	VIRTIO_PCI_LEGACY,       /* the transitional ids without the modern capabilities */
};
/* Puts vdev (after virtio_dev_init) on pci as a new PCI function. msix: nr_vqs + 1 MSI-X
 * vectors in BAR1, else INTx only. pci_destroy() frees the transport. */
int virtio_pci_create(struct pci *pci, struct virtio_dev *vdev, enum virtio_pci_mode mode,
		      bool msix);

#endif
