/* virtio/pci-common.c - register semantics the legacy and modern interfaces share: the selected
 * queue, MSI-X vectors, feature windows, the ISR, status writes, notifies and the device-specific
 * configuration. The bottom of the transport: pci-legacy.c, pci-modern.c and pci.c use it. */
#include <string.h>
#include <unistd.h>

#include "trace/trace.h"
#include "virtio/pci-transport.h"

struct virtqueue *virtio_pci_selected_vq(struct virtio_pci *vp)
{
	struct virtio_dev *vdev = vp->vdev;

	return vdev->queue_sel < vdev->nr_vqs ? &vdev->vqs[vdev->queue_sel] : NULL;
}

/* virtio 1.2 §4.1.4.3: a vector the device cannot use reads back as NO_VECTOR. */
uint16_t virtio_pci_vector(struct virtio_pci *vp, uint16_t vector)
{
	return vector < vp->pci.msix.nr ? vector : VIRTIO_MSI_NO_VECTOR;
}

uint32_t virtio_pci_feature_window(uint64_t features, uint32_t sel)
{
	return sel == 0 ? (uint32_t)features : sel == 1 ? features >> 32 : 0;
}

uint8_t virtio_pci_read_isr(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	uint8_t isr = vp->vdev->isr;
	vp->vdev->isr = 0;
	pci_intx_set(&vp->pci, false);
	pthread_mutex_unlock(&vp->lock);
	return isr;
}

void virtio_pci_write_status(struct virtio_pci *vp, uint8_t status)
{
	virtio_set_status(vp->vdev, status);
	if (vp->vdev->status == 0)
		virtio_pci_read_isr(vp); /* a reset drops a pending INTx with the ISR */
}

void virtio_pci_notify(struct virtio_pci *vp, unsigned queue)
{
	struct virtio_dev *vdev = vp->vdev;
	uint64_t one = 1;
	int fd;

	TRACE(QUEUE_NOTIFY, vdev->trace_id, queue, TRACE_VIA_EXIT,
	      queue < vdev->nr_vqs ? vq_avail_idx(&vdev->vqs[queue]) : 0);
	if (queue >= vdev->nr_vqs || !vdev->vqs[queue].ready ||
	    (vdev->status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) !=
		VIRTIO_CONFIG_S_DRIVER_OK)
		return;
	pthread_mutex_lock(&vp->lock);
	fd = vp->host_fd[queue];
	pthread_mutex_unlock(&vp->lock);
	/* A notify that missed the ioeventfd (another width, the PCI_CFG window) still goes there.
	 */
	if (fd >= 0) {
		if (write(fd, &one, sizeof(one)) < 0)
			virtio_needs_reset(vdev, "cannot signal the queue's ioeventfd");
	} else if (vdev->ops->queue_notify) {
		vdev->ops->queue_notify(vdev, &vdev->vqs[queue]);
	}
}

void virtio_pci_config(struct virtio_pci *vp, uint64_t off, void *data, uint32_t len, bool is_write)
{
	const struct virtio_device_ops *ops = vp->vdev->ops;
	uint64_t val = 0;

	if (off < ops->config_size && len <= ops->config_size - off && ops->config_access) {
		pthread_mutex_lock(&vp->vdev->lock);
		ops->config_access(vp->vdev, off, data, len, is_write);
		pthread_mutex_unlock(&vp->vdev->lock);
	} else if (!is_write) {
		memset(data, 0, len);
	}
	memcpy(&val, data, len < sizeof(val) ? len : sizeof(val));
	if (is_write)
		TRACE(CONFIG_WRITE, vp->vdev->trace_id, off, len, val);
	else
		TRACE(CONFIG_READ, vp->vdev->trace_id, off, len, val);
}
