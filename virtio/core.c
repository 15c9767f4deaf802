/* virtio/core.c - the device model both sides share: status state machine, feature
 * negotiation, reset, NEEDS_RESET, and the hand-off to the transport's ops. */
#include <errno.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <string.h>

#include "trace/trace.h"
#include "virtio/virtio.h"

/* What QEMU 7.2 offers with every device's own features, and virtio/virtqueue.c implements:
 * indirect descriptors, event index, an interrupt when the ring runs empty, any descriptor
 * layout, and the bad-feature trap; VERSION_1 is the transport's to add. */
#define COMMON_FEATURES                                                                            \
	(1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX |                   \
	 1ULL << VIRTIO_F_NOTIFY_ON_EMPTY | 1ULL << VIRTIO_F_ANY_LAYOUT |                          \
	 1ULL << VIRTIO_F_BAD_FEATURE)

static uint64_t offered_features(struct virtio_dev *vdev, bool version_1)
{
	uint64_t f = COMMON_FEATURES | (version_1 ? 1ULL << VIRTIO_F_VERSION_1 : 0);

	/* --ring packed (packed.c): bit 34, beyond what a legacy-only transport can show. */
	if (version_1 && vdev->ring == VIRTIO_RING_PACKED)
		f |= 1ULL << VIRTIO_F_RING_PACKED;
	/* --in-order: bit 35, likewise; the device holds early completions back (blk/req.c). */
	if (version_1 && vdev->in_order)
		f |= 1ULL << VIRTIO_F_IN_ORDER;

	return vdev->ops->get_features ? vdev->ops->get_features(vdev, f) : f;
}

int virtio_dev_init(struct virtio_dev *vdev, struct vm *vm, const struct guest_mem *mem,
		    const struct virtio_device_ops *ops, void *device_priv)
{
	pthread_mutexattr_t attr;
	uint16_t qmax = ops ? ops->queue_max_size : 0;

	/* virtio 1.2 §2.7: a split queue's size is a power of two, at most 32768. */
	if (!ops || ops->nr_queues == 0 || ops->nr_queues > VIRTIO_MAX_QUEUES || qmax == 0 ||
	    qmax & (qmax - 1) || qmax > 32768)
		return -EINVAL;
	memset(vdev, 0, sizeof(*vdev));
	vdev->ops = ops;
	vdev->vm = vm;
	vdev->mem = mem;
	vdev->device_priv = device_priv;
	/* Recursive: virtio_needs_reset() is called both under it (registers) and not (devices). */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vdev->lock, &attr);
	pthread_mutexattr_destroy(&attr);

	/* Registered first: a device may talk to its backend (traced) to learn its features. */
	vdev->trace_id = trace_dev_register(ops->name, ops->device_id);
	vdev->host_features = offered_features(vdev, true);
	vdev->config_msix_vector = VIRTIO_MSI_NO_VECTOR;
	vdev->nr_vqs = ops->nr_queues;
	/* Every slot set up, so virtio_dev_set_queues() only moves the count. */
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		struct virtqueue *vq = &vdev->vqs[q];

		vq->vdev = vdev;
		vq->mem = mem;
		vq->index = q;
		vq->max_size = qmax;
		vq_reset(vq);
	}
	return 0;
}

void virtio_dev_set_ring(struct virtio_dev *vdev, enum virtio_ring ring, bool in_order)
{
	vdev->ring = ring;
	vdev->in_order = in_order;
	vdev->host_features = offered_features(vdev, true);
}

int virtio_dev_set_queues(struct virtio_dev *vdev, unsigned n)
{
	if (n == 0 || n > VIRTIO_MAX_QUEUES)
		return -EINVAL;
	vdev->nr_vqs = n;
	vdev->host_features = offered_features(vdev, true);
	return 0;
}

void virtio_dev_plugged(struct virtio_dev *vdev, bool version_1)
{
	vdev->host_features = offered_features(vdev, version_1);
	TRACE(HOST_FEATURES, vdev->trace_id, vdev->host_features);
	for (unsigned q = 0; q < vdev->nr_vqs; q++)
		TRACE(QUEUE_ADD, vdev->trace_id, q, vdev->vqs[q].max_size);
}

/* The backend runs from a successful DRIVER_OK until reset or NEEDS_RESET. */
static bool running(const struct virtio_dev *vdev)
{
	return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

void virtio_reset(struct virtio_dev *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	TRACE(DEVICE_RESET, vdev->trace_id, vdev->status);
	if (running(vdev))
		TRACE(BACKEND_STOP, vdev->trace_id, trace_intern("reset"));
	/* After NEEDS_RESET too: a stop() asked for on the device's own IO thread could only tell
	 * that thread to end, and what it still has in flight must land before status reads 0. */
	if ((vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && vdev->ops->stop)
		vdev->ops->stop(vdev);
	/* virtio 1.2 §2.4: back to the initial state, as after power-on. */
	vdev->status = 0;
	vdev->driver_features = 0;
	vdev->device_feature_sel = vdev->driver_feature_sel = 0;
	vdev->queue_sel = 0;
	vdev->isr = 0;
	vdev->config_msix_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned q = 0; q < vdev->nr_vqs; q++)
		vq_reset(&vdev->vqs[q]);
	pthread_mutex_unlock(&vdev->lock);
}

/* NEEDS_RESET for a guest error (traced as guest_error) or a failure of the device's own
 * backend (its caller traces what failed). */
static void needs_reset(struct virtio_dev *vdev, const char *why, bool guest)
{
	pthread_mutex_lock(&vdev->lock);
	if (!(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		bool was_running = running(vdev);

		fprintf(stderr, "virtio %s: device needs reset: %s\n", vdev->ops->name, why);
		if (guest)
			TRACE(GUEST_ERROR, vdev->trace_id, trace_intern(why), vdev->status);
		if (was_running)
			TRACE(BACKEND_STOP, vdev->trace_id, trace_intern(why));
		if (was_running && vdev->ops->stop)
			vdev->ops->stop(vdev);
		vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		/* virtio 1.2 §2.1.2: with DRIVER_OK set, tell the driver by a config change. */
		if (was_running && vdev->transport)
			vdev->transport->signal_config(vdev);
	}
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_needs_reset(struct virtio_dev *vdev, const char *why)
{
	needs_reset(vdev, why, true);
}

void virtio_device_failed(struct virtio_dev *vdev, const char *why)
{
	needs_reset(vdev, why, false);
}

/* virtio 1.2 §3.1.1 step 5: only offered features, and a modern driver needs VERSION_1
 * (legacy drivers never write FEATURES_OK). */
static bool features_ok(const struct virtio_dev *vdev)
{
	return !(vdev->driver_features & ~vdev->host_features) &&
	       (vdev->driver_features & 1ULL << VIRTIO_F_VERSION_1);
}

/* The negotiated ring features into each queue: at FEATURES_OK, and at DRIVER_OK for a legacy
 * driver, which has no FEATURES_OK. */
static void ring_features(struct virtio_dev *vdev)
{
	for (unsigned q = 0; q < vdev->nr_vqs; q++) {
		vdev->vqs[q].event_idx = vdev->driver_features & 1ULL << VIRTIO_RING_F_EVENT_IDX;
		vdev->vqs[q].notify_on_empty =
		    vdev->driver_features & 1ULL << VIRTIO_F_NOTIFY_ON_EMPTY;
		vdev->vqs[q].packed = vdev->driver_features & 1ULL << VIRTIO_F_RING_PACKED;
		vdev->vqs[q].in_order = vdev->driver_features & 1ULL << VIRTIO_F_IN_ORDER;
	}
}

static void driver_ok(struct virtio_dev *vdev)
{
	int r;

	/* A legacy driver skips FEATURES_OK: check its features here. */
	if (!(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    (vdev->driver_features & ~vdev->host_features)) {
		virtio_needs_reset(vdev, "DRIVER_OK with features the device did not offer");
		return;
	}
	ring_features(vdev);
	r = vdev->ops->start ? vdev->ops->start(vdev) : 0;
	if (r < 0) {
		/* start() failed: nothing runs, so NEEDS_RESET without stop(). */
		fprintf(stderr, "virtio %s: start failed: %s\n", vdev->ops->name, strerror(-r));
		vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
		if (vdev->transport)
			vdev->transport->signal_config(vdev);
	}
}

void virtio_set_status(struct virtio_dev *vdev, uint8_t status)
{
	uint8_t old = vdev->status;

	TRACE(VIRTIO_STATUS, vdev->trace_id, old, status);
	if (status == 0) {
		virtio_reset(vdev);
		return;
	}
	status &= ~VIRTIO_CONFIG_S_NEEDS_RESET; /* the device's bit, not the driver's */
	if (old & VIRTIO_CONFIG_S_NEEDS_RESET) {
		/* Only a reset helps now; FAILED is still the driver's to say. */
		vdev->status |= status & VIRTIO_CONFIG_S_FAILED;
		return;
	}
	/* virtio 1.2 §2.1.2: the driver MUST NOT clear a device status bit. */
	if (old & ~status) {
		virtio_needs_reset(vdev, "status cleared bits without a reset");
		return;
	}
	if ((status & ~old & VIRTIO_CONFIG_S_FEATURES_OK) && !features_ok(vdev)) {
		TRACE(FEATURES_REFUSED, vdev->trace_id, vdev->driver_features,
		      vdev->driver_features & ~vdev->host_features);
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK; /* §3.1.1: refused, reads back clear */
	} else if (status & ~old & VIRTIO_CONFIG_S_FEATURES_OK) {
		TRACE(FEATURES_OK, vdev->trace_id, vdev->driver_features);
		/* After DRIVER_OK the queues are the backend's: driver_ok() gave them their ring
		 * features from the same (frozen) driver features already. */
		if (!virtio_queues_frozen(vdev))
			ring_features(vdev);
	}
	vdev->status = status;
	if (status & ~old & VIRTIO_CONFIG_S_DRIVER_OK)
		driver_ok(vdev);
}

void virtio_signal_vq(struct virtio_dev *vdev, struct virtqueue *vq)
{
	if (vdev->transport && vq_should_signal(vq))
		vdev->transport->signal_vq(vdev, vq);
}

void virtio_raise_vq(struct virtio_dev *vdev, struct virtqueue *vq)
{
	if (vdev->transport)
		vdev->transport->signal_vq(vdev, vq);
}

int virtio_set_host_notifier(struct virtio_dev *vdev, struct virtqueue *vq, int fd)
{
	if (!vdev->transport || !vdev->transport->set_host_notifier)
		return -ENOTSUP;
	return vdev->transport->set_host_notifier(vdev, vq, fd);
}

int virtio_set_guest_notifier(struct virtio_dev *vdev, struct virtqueue *vq, int fd)
{
	if (!vdev->transport || !vdev->transport->set_guest_notifier)
		return -ENOTSUP;
	return vdev->transport->set_guest_notifier(vdev, vq, fd);
}
