/* guest/mini/virtio_legacy.c - the legacy interface: registers in I/O BAR0 (virtio 1.2 §4.1.4.8).
 */
#include <linux/virtio_pci.h>

#include "virtio.h"

#define LEGACY_DEVICE_ID 0x1001 /* transitional block device (§4.1.2.3) */

static uint16_t cfg_off(const struct vdev *v)
{
	return VIRTIO_PCI_CONFIG_OFF(v->msix); /* device config moves by 4 when MSI-X is on */
}

static void legacy_probe(struct vdev *v)
{
	if (v->pci->device != LEGACY_DEVICE_ID)
		fail(ST_NO_TRANSPORT, "transport=legacy but device %04x is not transitional",
		     v->pci->device);
	/* §4.1.4.8: transitional devices expose the legacy interface in I/O space in BAR0 */
	if (!v->pci->bar[0].io)
		fail(ST_NO_TRANSPORT, "transport=legacy but BAR0 is not an I/O BAR");
	uint32_t need = VIRTIO_PCI_CONFIG_OFF(v->msix) + 8; /* through a 64-bit capacity */

	if (!pci_region(v->pci, 0, 0, need, &v->legacy))
		fail(ST_BAR, "BAR0 is 0x%lx bytes, legacy registers need 0x%x", v->pci->bar[0].size,
		     need);
}

static uint8_t legacy_get_status(struct vdev *v)
{
	return region_read8(&v->legacy, VIRTIO_PCI_STATUS);
}

static void legacy_set_status(struct vdev *v, uint8_t status)
{
	region_write8(&v->legacy, VIRTIO_PCI_STATUS, status);
}

static uint64_t legacy_get_features(struct vdev *v)
{
	return region_read32(&v->legacy, VIRTIO_PCI_HOST_FEATURES); /* 32 bits only */
}

static void legacy_set_features(struct vdev *v, uint64_t features)
{
	region_write32(&v->legacy, VIRTIO_PCI_GUEST_FEATURES, (uint32_t)features);
}

static uint16_t legacy_set_config_vector(struct vdev *v, uint16_t vector)
{
	region_write16(&v->legacy, VIRTIO_MSI_CONFIG_VECTOR, vector);
	return region_read16(&v->legacy, VIRTIO_MSI_CONFIG_VECTOR);
}

static uint16_t legacy_queue_max(struct vdev *v, uint16_t index)
{
	region_write16(&v->legacy, VIRTIO_PCI_QUEUE_SEL, index);
	if (region_read32(&v->legacy, VIRTIO_PCI_QUEUE_PFN))
		fail(ST_QUEUE, "queue %u already has a PFN after reset", index);
	return region_read16(&v->legacy, VIRTIO_PCI_QUEUE_NUM);
}

static uint16_t legacy_queue_enable(struct vdev *v, struct vq *q, uint16_t vector)
{
	uint16_t got = vector;

	region_write16(&v->legacy, VIRTIO_PCI_QUEUE_SEL, q->index);
	if (v->msix) {
		region_write16(&v->legacy, VIRTIO_MSI_QUEUE_VECTOR, vector);
		got = region_read16(&v->legacy, VIRTIO_MSI_QUEUE_VECTOR);
	}
	/* The PFN is the whole queue: desc, avail and used at vring_init's 4096-aligned layout. */
	region_write32(&v->legacy, VIRTIO_PCI_QUEUE_PFN,
		       (uint32_t)((uint64_t)q->vr.desc >> VIRTIO_PCI_QUEUE_ADDR_SHIFT));
	return got;
}

static void legacy_notify(struct vdev *v, struct vq *q)
{
	region_write16(&v->legacy, VIRTIO_PCI_QUEUE_NOTIFY, q->index);
}

static uint8_t legacy_read_isr(struct vdev *v)
{
	return region_read8(&v->legacy, VIRTIO_PCI_ISR);
}

static uint32_t legacy_config_read32(struct vdev *v, uint32_t off)
{
	return region_read32(&v->legacy, cfg_off(v) + off);
}

static void legacy_config_write(struct vdev *v, uint32_t off, uint32_t val, unsigned len)
{
	if (len == 1)
		region_write8(&v->legacy, cfg_off(v) + off, (uint8_t)val);
	else
		region_write32(&v->legacy, cfg_off(v) + off, val);
}

const struct vtransport_ops virtio_legacy_ops = {
    .name = "legacy",
    .probe = legacy_probe,
    .get_status = legacy_get_status,
    .set_status = legacy_set_status,
    .get_features = legacy_get_features,
    .set_features = legacy_set_features,
    .set_config_vector = legacy_set_config_vector,
    .queue_max = legacy_queue_max,
    .queue_enable = legacy_queue_enable,
    .notify = legacy_notify,
    .read_isr = legacy_read_isr,
    .config_read32 = legacy_config_read32,
    .config_write = legacy_config_write,
    .config_generation = NULL,
    .has_features_ok = false,
    .size_fixed = true,
};
