/* virtio/pci-legacy.c - the legacy interface: registers in I/O BAR0 (virtio 1.2 §4.1.4.8),
 * 32 feature bits, queues placed by one page frame number in the legacy layout. */
#include <stddef.h>
#include <string.h>

#include "trace/trace.h"
#include "virtio/pci-transport.h"

/* The register block's end, where the device-specific configuration starts. */
static uint32_t config_start(struct virtio_pci *vp)
{
	return VIRTIO_PCI_CONFIG_OFF(pci_msix_enabled(&vp->pci));
}

/* Each register's width; 0: not a register (the MSI-X vectors exist only with MSI-X on). */
static uint32_t reg_width(struct virtio_pci *vp, uint64_t off)
{
	switch (off) {
	case VIRTIO_PCI_HOST_FEATURES:
	case VIRTIO_PCI_GUEST_FEATURES:
	case VIRTIO_PCI_QUEUE_PFN:
		return 4;
	case VIRTIO_PCI_QUEUE_NUM:
	case VIRTIO_PCI_QUEUE_SEL:
	case VIRTIO_PCI_QUEUE_NOTIFY:
		return 2;
	case VIRTIO_PCI_STATUS:
	case VIRTIO_PCI_ISR:
		return 1;
	case VIRTIO_MSI_CONFIG_VECTOR:
	case VIRTIO_MSI_QUEUE_VECTOR:
		return config_start(vp) > VIRTIO_MSI_CONFIG_VECTOR ? 2 : 0;
	}
	return 0;
}

/* virtio 1.2 §2.7.2 (legacy): descriptors at the frame, the avail ring after them, the used
 * ring at the next 4096-byte boundary; the size is the device's maximum. */
static void set_pfn(struct virtqueue *vq, uint32_t pfn)
{
	uint64_t avail_end;

	if (pfn == 0) {
		vq_reset(vq); /* the driver's del_vq: the queue is gone */
		return;
	}
	vq->size = vq->max_size;
	vq->desc = (uint64_t)pfn << VIRTIO_PCI_QUEUE_ADDR_SHIFT;
	vq->avail = vq->desc + sizeof(struct vring_desc) * vq->size;
	avail_end = vq->avail + offsetof(struct vring_avail, ring) + sizeof(uint16_t) * vq->size +
		    sizeof(uint16_t) /* used_event */;
	vq->used =
	    (avail_end + VIRTIO_PCI_VRING_ALIGN - 1) & ~(uint64_t)(VIRTIO_PCI_VRING_ALIGN - 1);
	vq->ready = true;
}

static uint32_t reg_read(struct virtio_pci *vp, uint64_t off)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtqueue *vq = virtio_pci_selected_vq(vp);

	switch (off) {
	case VIRTIO_PCI_HOST_FEATURES:
		return (uint32_t)vdev->host_features;
	case VIRTIO_PCI_GUEST_FEATURES:
		return (uint32_t)vdev->driver_features;
	case VIRTIO_PCI_QUEUE_PFN:
		return vq ? vq->desc >> VIRTIO_PCI_QUEUE_ADDR_SHIFT : 0;
	case VIRTIO_PCI_QUEUE_NUM:
		return vq ? vq->max_size : 0;
	case VIRTIO_PCI_QUEUE_SEL:
		return vdev->queue_sel;
	case VIRTIO_PCI_STATUS:
		return vdev->status;
	case VIRTIO_PCI_ISR:
		return virtio_pci_read_isr(vp);
	case VIRTIO_MSI_CONFIG_VECTOR:
		return vdev->config_msix_vector;
	case VIRTIO_MSI_QUEUE_VECTOR:
		return vq ? vq->msix_vector : VIRTIO_MSI_NO_VECTOR;
	}
	return 0;
}

static void reg_write(struct virtio_pci *vp, uint64_t off, uint32_t val)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtqueue *vq = virtio_pci_selected_vq(vp);
	bool live = virtio_queues_frozen(vdev);

	switch (off) {
	case VIRTIO_PCI_GUEST_FEATURES:
		if (val & 1u << VIRTIO_F_BAD_FEATURE) /* did not negotiate: assume nothing (QEMU) */
			val = 0;
		if (!live) /* features are settled once the device runs */
			vdev->driver_features = val;
		break;
	case VIRTIO_PCI_QUEUE_PFN:
		if (vq && !live)
			set_pfn(vq, val);
		break;
	case VIRTIO_PCI_QUEUE_SEL:
		vdev->queue_sel = val;
		break;
	case VIRTIO_PCI_QUEUE_NOTIFY:
		virtio_pci_notify(vp, val);
		break;
	case VIRTIO_PCI_STATUS:
		virtio_pci_write_status(vp, val);
		break;
	case VIRTIO_MSI_CONFIG_VECTOR:
		vdev->config_msix_vector = virtio_pci_vector(vp, val);
		break;
	case VIRTIO_MSI_QUEUE_VECTOR:
		if (vq && !live)
			vq->msix_vector = virtio_pci_vector(vp, val);
		break;
	}
}

/* The event a register access is; status and notify writes are recorded where they act. */
static void legacy_event(struct virtio_pci *vp, uint64_t off, uint32_t len, uint32_t val,
			 bool is_write)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtqueue *vq = virtio_pci_selected_vq(vp);
	unsigned id = vdev->trace_id, q = vdev->queue_sel;
	int rw = is_write ? TRACE_WRITE : TRACE_READ;

	if (off == VIRTIO_PCI_HOST_FEATURES && !is_write) {
		TRACE(DEVICE_FEATURES_READ, id, 0, val);
	} else if (off == VIRTIO_PCI_GUEST_FEATURES && is_write) {
		TRACE(DRIVER_FEATURES_WRITE, id, 0, val);
	} else if (off == VIRTIO_PCI_QUEUE_PFN) {
		TRACE(QUEUE_PFN, id, q, val, rw);
		if (is_write && vq && vq->ready) { /* where the legacy layout put the rings */
			TRACE(QUEUE_DESC, id, q, vq->desc);
			TRACE(QUEUE_DRIVER, id, q, vq->avail);
			TRACE(QUEUE_DEVICE, id, q, vq->used);
		}
	} else if (off == VIRTIO_PCI_QUEUE_NUM && !is_write) {
		TRACE(QUEUE_SIZE, id, q, val, TRACE_READ);
	} else if (off == VIRTIO_PCI_QUEUE_SEL && is_write) {
		TRACE(QUEUE_SELECT, id, val);
	} else if (off == VIRTIO_PCI_ISR) {
		TRACE(ISR_READ, id, val);
	} else if (off == VIRTIO_MSI_CONFIG_VECTOR && is_write) {
		TRACE(CONFIG_MSIX_VECTOR, id, val, vdev->config_msix_vector);
	} else if (off == VIRTIO_MSI_QUEUE_VECTOR && is_write) {
		TRACE(QUEUE_MSIX_VECTOR, id, q, val, vq ? vq->msix_vector : VIRTIO_MSI_NO_VECTOR);
	} else if (!is_write) {
		TRACE(COMMON_CFG_READ, id, off | TRACE_VREG_LEGACY, len, val);
	} else if (off != VIRTIO_PCI_STATUS && off != VIRTIO_PCI_QUEUE_NOTIFY) {
		TRACE(COMMON_CFG_WRITE, id, off | TRACE_VREG_LEGACY, len, val);
	}
}

/* Registers only at their own width; other accesses are dropped (reads see all ones). */
static void legacy_io(struct io_dev *io, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct virtio_pci *vp = io->opaque;
	struct virtio_dev *vdev = vp->vdev;
	uint32_t start = config_start(vp), val = 0;

	if (off >= start) {
		virtio_pci_config(vp, off - start, data, len, is_write);
		return;
	}
	if (reg_width(vp, off) != len) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		memcpy(&val, data, len);
	pthread_mutex_lock(&vdev->lock);
	if (is_write)
		reg_write(vp, off, val);
	else
		val = reg_read(vp, off);
	legacy_event(vp, off, len, val, is_write);
	pthread_mutex_unlock(&vdev->lock);
	if (!is_write)
		memcpy(data, &val, len);
}

int virtio_pci_legacy_init(struct virtio_pci *vp)
{
	uint64_t size = 32;

	/* Registers (24 bytes with MSI-X) and device configuration, rounded up to a power of 2. */
	while (size < VIRTIO_PCI_CONFIG_OFF(true) + vp->vdev->ops->config_size)
		size *= 2;
	return pci_bar_init(&vp->pci, VIRTIO_PCI_LEGACY_BAR, size, PCI_BASE_ADDRESS_SPACE_IO,
			    legacy_io, vp);
}
