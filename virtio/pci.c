/* virtio/pci.c - the virtio-pci transport's top: the constructor for the legacy, modern and
 * transitional devices (pci-legacy.c, pci-modern.c), interrupts (MSI-X, or INTx with the ISR),
 * and the dataplane's ioeventfds and irqfds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/trace.h"
#include "virtio/pci-transport.h"

/* virtio 1.2 §4.1.2.3: the PCI device IDs of transitional devices. */
static const uint16_t transitional_ids[] = {
    [VIRTIO_ID_NET] = 0x1000,	  [VIRTIO_ID_BLOCK] = 0x1001, [VIRTIO_ID_BALLOON] = 0x1002,
    [VIRTIO_ID_CONSOLE] = 0x1003, [VIRTIO_ID_SCSI] = 0x1004,  [VIRTIO_ID_RNG] = 0x1005,
    [VIRTIO_ID_9P] = 0x1009,
};

static struct virtio_pci *vp_of(struct virtio_dev *vdev)
{
	return vdev->transport_priv;
}

/* Set ISR bits and hold INTx up until the driver reads the ISR (§4.1.4.5). */
static void raise_isr(struct virtio_pci *vp, uint8_t bits)
{
	pthread_mutex_lock(&vp->lock);
	vp->vdev->isr |= bits;
	pci_intx_set(&vp->pci, true);
	pthread_mutex_unlock(&vp->lock);
}

/* --- struct virtio_transport_ops --- */

/* The trace of vector's message, sent by us (kind msix) or by KVM from an irqfd (msix-irqfd):
 * its address and data, or that a masked vector held it pending. */
static void trace_msix(struct virtio_pci *vp, unsigned queue, uint16_t vector, unsigned kind)
{
	uint64_t addr;
	uint32_t data;

	if (!trace_on(TRACE_EV_IRQ_RAISE) && !trace_on(TRACE_EV_IRQ_SUPPRESS))
		return;
	if (pci_msix_message(&vp->pci, vector, &addr, &data))
		TRACE(IRQ_SUPPRESS, vp->vdev->trace_id, queue, TRACE_SUPPRESS_MASKED, 0, 0);
	else
		TRACE(IRQ_RAISE, vp->vdev->trace_id, TRACE_PAIR(queue, kind), vector, addr, data);
}

/* Send vector's message, and trace it. */
static void signal_msix(struct virtio_pci *vp, unsigned queue, uint16_t vector)
{
	pci_msix_notify(&vp->pci, vector);
	trace_msix(vp, queue, vector, TRACE_IRQ_MSIX);
}

static void traced_guest_notifier(struct virtio_dev *vdev, struct virtqueue *vq)
{
	trace_msix(vp_of(vdev), vq->index, vq->msix_vector, TRACE_IRQ_MSIX_IRQFD);
}

static void signal_vq(struct virtio_dev *vdev, struct virtqueue *vq)
{
	struct virtio_pci *vp = vp_of(vdev);

	if (!pci_msix_enabled(&vp->pci)) {
		raise_isr(vp, VIRTIO_PCI_ISR_QUEUE);
		TRACE(IRQ_RAISE, vdev->trace_id, TRACE_PAIR(vq->index, TRACE_IRQ_INTX), vp->pci.gsi,
		      0, 1);
	} else if (vq->msix_vector != VIRTIO_MSI_NO_VECTOR) {
		signal_msix(vp, vq->index, vq->msix_vector);
	} else {
		TRACE(IRQ_SUPPRESS, vdev->trace_id, vq->index, TRACE_SUPPRESS_NO_VECTOR,
		      vq->used_idx, 0);
	}
}

/* The device changed its configuration (or needs a reset): new generation, then interrupt. */
static void signal_config(struct virtio_dev *vdev)
{
	struct virtio_pci *vp = vp_of(vdev);

	__atomic_add_fetch(&vdev->config_generation, 1, __ATOMIC_SEQ_CST);
	if (!pci_msix_enabled(&vp->pci)) {
		raise_isr(vp, VIRTIO_PCI_ISR_CONFIG);
		TRACE(IRQ_RAISE, vdev->trace_id, TRACE_PAIR(TRACE_QUEUE_CONFIG, TRACE_IRQ_INTX),
		      vp->pci.gsi, 0, 1);
	} else if (vdev->config_msix_vector != VIRTIO_MSI_NO_VECTOR) {
		signal_msix(vp, TRACE_QUEUE_CONFIG, vdev->config_msix_vector);
	}
}

/* The queue's notify addresses: legacy BAR0+16 matching the index, modern its own slot. */
static int wire_notify(struct virtio_pci *vp, unsigned q, int fd, bool assign)
{
	int r = 0;

	if (vp->mode != VIRTIO_PCI_MODERN)
		r = pci_bar_ioeventfd(&vp->pci, VIRTIO_PCI_LEGACY_BAR, VIRTIO_PCI_QUEUE_NOTIFY, 2,
				      true, q, fd, assign);
	if (r < 0 || vp->mode == VIRTIO_PCI_LEGACY)
		return r;
	r = pci_bar_ioeventfd(&vp->pci, VIRTIO_PCI_MODERN_BAR,
			      VIRTIO_PCI_NOTIFY_OFF + q * VIRTIO_PCI_NOTIFY_MULT, 2, false, 0, fd,
			      assign);
	if (r < 0 && assign && vp->mode != VIRTIO_PCI_MODERN)
		pci_bar_ioeventfd(&vp->pci, VIRTIO_PCI_LEGACY_BAR, VIRTIO_PCI_QUEUE_NOTIFY, 2, true,
				  q, fd, false);
	return r;
}

static int set_host_notifier(struct virtio_dev *vdev, struct virtqueue *vq, int fd)
{
	struct virtio_pci *vp = vp_of(vdev);
	unsigned q = vq->index;
	int r = 0;

	pthread_mutex_lock(&vp->lock);
	if (vp->host_fd[q] >= 0)
		wire_notify(vp, q, vp->host_fd[q], false);
	vp->host_fd[q] = -1;
	if (fd >= 0)
		r = wire_notify(vp, q, fd, true);
	if (fd >= 0 && r == 0)
		vp->host_fd[q] = fd;
	pthread_mutex_unlock(&vp->lock);
	return r;
}

/* irqfd on the queue's MSI-X vector; INTx needs the ISR, so -ENOTSUP there (and for a queue
 * without a vector, whose interrupts the driver declined). */
static int set_guest_notifier(struct virtio_dev *vdev, struct virtqueue *vq, int fd)
{
	struct virtio_pci *vp = vp_of(vdev);
	unsigned q = vq->index;
	int r = 0;

	if (fd >= 0 && (!pci_msix_enabled(&vp->pci) || vq->msix_vector == VIRTIO_MSI_NO_VECTOR))
		return -ENOTSUP;
	pthread_mutex_lock(&vp->lock);
	if (vp->guest_fd[q] >= 0)
		pci_msix_irqfd(&vp->pci, vp->guest_vector[q], vp->guest_fd[q], false);
	vp->guest_fd[q] = -1;
	if (fd >= 0)
		r = pci_msix_irqfd(&vp->pci, vq->msix_vector, fd, true);
	if (fd >= 0 && r == 0) {
		vp->guest_fd[q] = fd;
		vp->guest_vector[q] = vq->msix_vector;
	}
	pthread_mutex_unlock(&vp->lock);
	return r;
}

#define VIRTIO_PCI_OPS(n)                                                                          \
	{                                                                                          \
		.name = n, .signal_vq = signal_vq, .signal_config = signal_config,                 \
		.set_host_notifier = set_host_notifier, .set_guest_notifier = set_guest_notifier,  \
		.traced_guest_notifier = traced_guest_notifier,                                    \
	}

static const struct virtio_transport_ops transport_ops[] = {
    [VIRTIO_PCI_TRANSITIONAL] = VIRTIO_PCI_OPS("virtio-pci-transitional"),
    [VIRTIO_PCI_MODERN] = VIRTIO_PCI_OPS("virtio-pci-modern"),
    [VIRTIO_PCI_LEGACY] = VIRTIO_PCI_OPS("virtio-pci-legacy"),
};

/* --- struct pci_dev_ops --- */

static void cfg_read(struct pci_dev *dev, uint32_t off, uint32_t len)
{
	virtio_pci_cfg_window(dev->opaque, off, len, false);
}

static void cfg_write(struct pci_dev *dev, uint32_t off, uint32_t len)
{
	virtio_pci_cfg_window(dev->opaque, off, len, true);
}

static void release(struct pci_dev *dev)
{
	struct virtio_pci *vp = dev->opaque;

	vp->vdev->transport = NULL;
	vp->vdev->transport_priv = NULL;
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

static const struct pci_dev_ops pci_ops = {
    .cfg_read = cfg_read,
    .cfg_write = cfg_write,
    .release = release,
};

int virtio_pci_create(struct pci *pci, struct virtio_dev *vdev, enum virtio_pci_mode mode,
		      bool msix)
{
	const struct virtio_device_ops *ops = vdev->ops;
	unsigned id = ops->device_id;
	bool modern = mode == VIRTIO_PCI_MODERN;
	struct virtio_pci *vp;
	int r = 0;

	if (mode > VIRTIO_PCI_LEGACY)
		return -EINVAL;
	if (!modern &&
	    (id >= sizeof(transitional_ids) / sizeof(transitional_ids[0]) || !transitional_ids[id]))
		return -ENOTSUP; /* no legacy interface for this device type */
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->vdev = vdev;
	vp->mode = mode;
	pthread_mutex_init(&vp->lock, NULL);
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vp->host_fd[q] = vp->guest_fd[q] = -1;

	/* virtio 1.2 §4.1.2.1: modern 0x1040 + id, revision 1; transitional revision 0. */
	pci_dev_init(&vp->pci, ops->name, VIRTIO_PCI_VENDOR_ID,
		     modern ? VIRTIO_PCI_MODERN_ID + id : transitional_ids[id], modern ? 1 : 0,
		     ops->pci_class, &pci_ops, vp);
	vp->pci.trace_id = vdev->trace_id;
	virtio_dev_plugged(vdev, mode != VIRTIO_PCI_LEGACY);
	/* §4.1.2.3: a transitional device's subsystem id is the virtio id; a modern one has
	 * QEMU's default, 1af4:1100, as any QEMU PCI device. */
	pci_dev_set_subsystem(&vp->pci, VIRTIO_PCI_VENDOR_ID, modern ? VIRTIO_PCI_SUBSYS_QEMU : id);
	if (!modern)
		r = virtio_pci_legacy_init(vp);
	/* MSI-X last: QEMU adds its capability after the modern ones, so a walk finds it first. */
	if (r == 0 && mode != VIRTIO_PCI_LEGACY)
		r = virtio_pci_modern_init(vp);
	if (r == 0 && msix)
		r = pci_msix_init(&vp->pci, vdev->nr_vqs + 1, VIRTIO_PCI_MSIX_BAR);
	if (r == 0) {
		vdev->transport = &transport_ops[mode];
		vdev->transport_priv = vp;
		r = pci_dev_add(pci, &vp->pci);
	}
	if (r < 0) {
		vdev->transport = NULL;
		vdev->transport_priv = NULL;
		pthread_mutex_destroy(&vp->lock);
		free(vp);
	}
	return r;
}
