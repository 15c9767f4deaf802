/* guest/mini/virtio_modern.c - the modern interface: vendor capabilities (virtio 1.2 §4.1.4). */
#include <stddef.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "virtio.h"

#define COMMON_CFG_LEN (VIRTIO_PCI_COMMON_Q_USEDHI + 4) /* through queue_used_hi */

static const char *const cap_names[] = {
    [VIRTIO_PCI_CAP_COMMON_CFG] = "COMMON",
    [VIRTIO_PCI_CAP_NOTIFY_CFG] = "NOTIFY",
    [VIRTIO_PCI_CAP_ISR_CFG] = "ISR",
    [VIRTIO_PCI_CAP_DEVICE_CFG] = "DEVICE",
};

/* The region a cfg_type's capability points at: common, notify, isr or device. */
static struct region *cap_region(struct vdev *v, uint8_t type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		return &v->common;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		return &v->notify;
	case VIRTIO_PCI_CAP_ISR_CFG:
		return &v->isr;
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		return &v->device;
	}
	return NULL;
}

static void modern_probe(struct vdev *v)
{
	const struct pci_dev *d = v->pci;
	bool seen[VIRTIO_PCI_CAP_DEVICE_CFG + 1] = {false};

	for (uint8_t c = pci_find_cap(d, PCI_CAP_ID_VNDR, 0); c;
	     c = pci_find_cap(d, PCI_CAP_ID_VNDR, c)) {
		uint8_t len = pci_read8(d, (uint8_t)(c + offsetof(struct virtio_pci_cap, cap_len)));
		uint8_t type =
		    pci_read8(d, (uint8_t)(c + offsetof(struct virtio_pci_cap, cfg_type)));
		uint8_t bar = pci_read8(d, (uint8_t)(c + offsetof(struct virtio_pci_cap, bar)));
		uint32_t off =
		    pci_read32(d, (uint8_t)(c + offsetof(struct virtio_pci_cap, offset)));
		uint32_t size =
		    pci_read32(d, (uint8_t)(c + offsetof(struct virtio_pci_cap, length)));
		struct region *r = cap_region(v, type);

		/* §4.1.4.1: use the first of each type; BAR values above 5 are reserved */
		if (!r || seen[type] || bar > 5)
			continue;
		kprintf("virtio: cap 0x%02x %s BAR%u offset 0x%x length 0x%x\n", c, cap_names[type],
			bar, off, size);
		if (len < sizeof(struct virtio_pci_cap) ||
		    (type == VIRTIO_PCI_CAP_NOTIFY_CFG &&
		     len < sizeof(struct virtio_pci_notify_cap)))
			fail(ST_CAP, "%s capability at 0x%x has cap_len %u", cap_names[type], c,
			     len);
		if (!pci_region(d, bar, off, size, r))
			fail(ST_CAP,
			     "%s capability: BAR%u offset 0x%x length 0x%x is outside the BAR",
			     cap_names[type], bar, off, size);
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			v->notify_mult =
			    pci_read32(d, (uint8_t)(c + offsetof(struct virtio_pci_notify_cap,
								 notify_off_multiplier)));
		seen[type] = true;
	}
	if (!seen[VIRTIO_PCI_CAP_COMMON_CFG])
		fail(ST_NO_TRANSPORT, "transport=modern but no COMMON capability");
	for (uint8_t t = VIRTIO_PCI_CAP_NOTIFY_CFG; t <= VIRTIO_PCI_CAP_DEVICE_CFG; t++)
		if (!seen[t])
			fail(ST_CAP, "no %s capability", cap_names[t]);
	if (v->common.len < COMMON_CFG_LEN || v->notify.len < 2 || v->isr.len < 1)
		fail(ST_CAP, "structures too short: common 0x%x notify 0x%x isr 0x%x",
		     v->common.len, v->notify.len, v->isr.len);
}

static uint8_t modern_get_status(struct vdev *v)
{
	return region_read8(&v->common, VIRTIO_PCI_COMMON_STATUS);
}

static void modern_set_status(struct vdev *v, uint8_t status)
{
	region_write8(&v->common, VIRTIO_PCI_COMMON_STATUS, status);
}

/* §4.1.4.3: 64 feature bits through a 32-bit window chosen by the select register */
static uint64_t modern_get_features(struct vdev *v)
{
	region_write32(&v->common, VIRTIO_PCI_COMMON_DFSELECT, 0);
	uint64_t lo = region_read32(&v->common, VIRTIO_PCI_COMMON_DF);

	region_write32(&v->common, VIRTIO_PCI_COMMON_DFSELECT, 1);
	return (uint64_t)region_read32(&v->common, VIRTIO_PCI_COMMON_DF) << 32 | lo;
}

static void modern_set_features(struct vdev *v, uint64_t features)
{
	region_write32(&v->common, VIRTIO_PCI_COMMON_GFSELECT, 0);
	region_write32(&v->common, VIRTIO_PCI_COMMON_GF, (uint32_t)features);
	region_write32(&v->common, VIRTIO_PCI_COMMON_GFSELECT, 1);
	region_write32(&v->common, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> 32));
}

static uint16_t modern_set_config_vector(struct vdev *v, uint16_t vector)
{
	region_write16(&v->common, VIRTIO_PCI_COMMON_MSIX, vector);
	return region_read16(&v->common, VIRTIO_PCI_COMMON_MSIX);
}

static uint16_t modern_queue_max(struct vdev *v, uint16_t index)
{
	region_write16(&v->common, VIRTIO_PCI_COMMON_Q_SELECT, index);
	if (region_read16(&v->common, VIRTIO_PCI_COMMON_Q_ENABLE))
		fail(ST_QUEUE, "queue %u is enabled right after reset", index);
	return region_read16(&v->common, VIRTIO_PCI_COMMON_Q_SIZE);
}

static void write64(struct region *r, uint32_t lo_off, uint64_t val)
{
	region_write32(r, lo_off, (uint32_t)val);
	region_write32(r, lo_off + 4, (uint32_t)(val >> 32));
}

/* §4.1.5.1.3: size, vector, the three addresses, then queue_enable = 1 last */
static uint16_t modern_queue_enable(struct vdev *v, struct vq *q, uint16_t vector)
{
	uint16_t got = vector;

	region_write16(&v->common, VIRTIO_PCI_COMMON_Q_SELECT, q->index);
	region_write16(&v->common, VIRTIO_PCI_COMMON_Q_SIZE, q->size);
	if (v->msix) {
		region_write16(&v->common, VIRTIO_PCI_COMMON_Q_MSIX, vector);
		got = region_read16(&v->common, VIRTIO_PCI_COMMON_Q_MSIX);
	}
	write64(&v->common, VIRTIO_PCI_COMMON_Q_DESCLO, q->desc_pa);
	write64(&v->common, VIRTIO_PCI_COMMON_Q_AVAILLO, q->driver_pa);
	write64(&v->common, VIRTIO_PCI_COMMON_Q_USEDLO, q->device_pa);
	q->notify_off = region_read16(&v->common, VIRTIO_PCI_COMMON_Q_NOFF);
	/* §4.1.4.4: the queue's doorbell is at notify_off * multiplier inside the NOTIFY window */
	if ((uint64_t)q->notify_off * v->notify_mult + 2 > v->notify.len)
		fail(ST_CAP, "queue %u notify offset %u * %u is outside NOTIFY (0x%x bytes)",
		     q->index, q->notify_off, v->notify_mult, v->notify.len);
	region_write16(&v->common, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	return got;
}

static void modern_notify(struct vdev *v, struct vq *q)
{
	/* without VIRTIO_F_NOTIFICATION_DATA the value written is the queue index (§4.1.5.2) */
	region_write16(&v->notify, q->notify_off * v->notify_mult, q->index);
}

static uint8_t modern_read_isr(struct vdev *v)
{
	return region_read8(&v->isr, 0);
}

static uint32_t modern_config_read32(struct vdev *v, uint32_t off)
{
	if (off + 4 > v->device.len)
		fail(ST_CAP, "device config read at 0x%x, DEVICE is 0x%x bytes", off,
		     v->device.len);
	return region_read32(&v->device, off);
}

static void modern_config_write(struct vdev *v, uint32_t off, uint32_t val, unsigned len)
{
	if (off + len > v->device.len)
		fail(ST_CAP, "device config write at 0x%x, DEVICE is 0x%x bytes", off,
		     v->device.len);
	if (len == 1)
		region_write8(&v->device, off, (uint8_t)val);
	else
		region_write32(&v->device, off, val);
}

static uint8_t modern_config_generation(struct vdev *v)
{
	return region_read8(&v->common, VIRTIO_PCI_COMMON_CFGGENERATION);
}

const struct vtransport_ops virtio_modern_ops = {
    .name = "modern",
    .probe = modern_probe,
    .get_status = modern_get_status,
    .set_status = modern_set_status,
    .get_features = modern_get_features,
    .set_features = modern_set_features,
    .set_config_vector = modern_set_config_vector,
    .queue_max = modern_queue_max,
    .queue_enable = modern_queue_enable,
    .notify = modern_notify,
    .read_isr = modern_read_isr,
    .config_read32 = modern_config_read32,
    .config_write = modern_config_write,
    .config_generation = modern_config_generation,
    .has_features_ok = true,
    .size_fixed = false,
};
