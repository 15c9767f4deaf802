/* virtio/pci-modern.c - the modern interface: vendor capabilities pointing into the 64-bit
 * memory BAR4 and the common configuration structure (virtio 1.2 §4.1.4). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "trace/trace.h"
#include "virtio/pci-transport.h"

/* Each field of struct virtio_pci_common_cfg and its natural width (§4.1.3.1); 0: none. */
static uint32_t common_width(uint64_t off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return 4;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return 2;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 1;
	}
	return 0;
}

/* queue_desc, queue_driver (avail) and queue_device (used): 64-bit, in 32-bit halves. */
static bool is_queue_addr(uint64_t off)
{
	return off >= VIRTIO_PCI_COMMON_Q_DESCLO && off <= VIRTIO_PCI_COMMON_Q_USEDHI;
}

static uint64_t *queue_addr(struct virtqueue *vq, uint64_t off)
{
	uint64_t *fields[] = {&vq->desc, &vq->avail, &vq->used};

	return fields[(off - VIRTIO_PCI_COMMON_Q_DESCLO) / 8];
}

static uint32_t half_of(uint64_t v, bool hi)
{
	return hi ? v >> 32 : (uint32_t)v;
}

static uint64_t with_half(uint64_t v, bool hi, uint32_t half)
{
	return hi ? (v & 0xffffffffULL) | (uint64_t)half << 32 : (v & ~0xffffffffULL) | half;
}

static uint32_t common_read(struct virtio_pci *vp, uint64_t off)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtqueue *vq = virtio_pci_selected_vq(vp);

	if (is_queue_addr(off))
		return vq ? half_of(*queue_addr(vq, off), off % 8) : 0;
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return vdev->device_feature_sel;
	case VIRTIO_PCI_COMMON_DF:
		return virtio_pci_feature_window(vdev->host_features, vdev->device_feature_sel);
	case VIRTIO_PCI_COMMON_GFSELECT:
		return vdev->driver_feature_sel;
	case VIRTIO_PCI_COMMON_GF:
		return virtio_pci_feature_window(vdev->driver_features, vdev->driver_feature_sel);
	case VIRTIO_PCI_COMMON_MSIX:
		return vdev->config_msix_vector;
	case VIRTIO_PCI_COMMON_NUMQ:
		return vdev->nr_vqs;
	case VIRTIO_PCI_COMMON_STATUS:
		return vdev->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return __atomic_load_n(&vdev->config_generation, __ATOMIC_SEQ_CST);
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return vdev->queue_sel;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return vq ? vq->size : 0; /* 0: no such queue (§4.1.4.3.2) */
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return vq ? vq->msix_vector : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return vq ? vq->ready : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return vq ? vq->index : 0; /* times VIRTIO_PCI_NOTIFY_MULT */
	}
	return 0;
}

/* §4.1.4.3.2: the driver configures a queue only while it is disabled; the device ignores
 * what it may not do: sizes over the maximum, split sizes that are not a power of two (§2.7;
 * a packed ring takes any, §2.8.10.1), disabling. */
static void queue_write(struct virtio_dev *vdev, struct virtqueue *vq, uint64_t off, uint32_t val)
{
	if (!vq || vq->ready || virtio_queues_frozen(vdev))
		return;
	if (is_queue_addr(off))
		*queue_addr(vq, off) = with_half(*queue_addr(vq, off), off % 8, val);
	else if (off == VIRTIO_PCI_COMMON_Q_SIZE && val && (vq->packed || !(val & (val - 1))) &&
		 val <= vq->max_size)
		vq->size = val;
	else if (off == VIRTIO_PCI_COMMON_Q_ENABLE && val == 1)
		vq->ready = true;
}

static void common_write(struct virtio_pci *vp, uint64_t off, uint32_t val)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtqueue *vq = virtio_pci_selected_vq(vp);
	uint32_t sel = vdev->driver_feature_sel;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vdev->device_feature_sel = val;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vdev->driver_feature_sel = val;
		break;
	case VIRTIO_PCI_COMMON_GF:
		/* Features are settled at FEATURES_OK (§3.1.1), or at DRIVER_OK for a driver that
		 * skipped it; windows past 1 hold nothing. */
		if (sel < 2 && !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
		    !virtio_queues_frozen(vdev))
			vdev->driver_features = with_half(vdev->driver_features, sel, val);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		vdev->config_msix_vector = virtio_pci_vector(vp, val);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_pci_write_status(vp, val);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vdev->queue_sel = val;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (vq && !virtio_queues_frozen(vdev))
			vq->msix_vector = virtio_pci_vector(vp, val);
		break;
	default:
		queue_write(vdev, vq, off, val);
	}
}

/* The event a common configuration access is; status writes are recorded where they act. */
static void common_event(struct virtio_pci *vp, uint64_t off, uint32_t len, uint32_t val,
			 bool is_write)
{
	struct virtio_dev *vdev = vp->vdev;
	struct virtqueue *vq = virtio_pci_selected_vq(vp);
	unsigned id = vdev->trace_id, q = vdev->queue_sel;
	int rw = is_write ? TRACE_WRITE : TRACE_READ;

	if (is_write && vq && is_queue_addr(off)) {
		uint64_t addr = *queue_addr(vq, off);
		if (off < VIRTIO_PCI_COMMON_Q_AVAILLO)
			TRACE(QUEUE_DESC, id, q, addr);
		else if (off < VIRTIO_PCI_COMMON_Q_USEDLO)
			TRACE(QUEUE_DRIVER, id, q, addr);
		else
			TRACE(QUEUE_DEVICE, id, q, addr);
	} else if (off == VIRTIO_PCI_COMMON_DF && !is_write) {
		TRACE(DEVICE_FEATURES_READ, id, vdev->device_feature_sel, val);
	} else if (off == VIRTIO_PCI_COMMON_GF && is_write) {
		TRACE(DRIVER_FEATURES_WRITE, id, vdev->driver_feature_sel, val);
	} else if (off == VIRTIO_PCI_COMMON_MSIX && is_write) {
		TRACE(CONFIG_MSIX_VECTOR, id, val, vdev->config_msix_vector);
	} else if (off == VIRTIO_PCI_COMMON_Q_SELECT && is_write) {
		TRACE(QUEUE_SELECT, id, val);
	} else if (off == VIRTIO_PCI_COMMON_Q_SIZE) {
		TRACE(QUEUE_SIZE, id, q, val, rw);
	} else if (off == VIRTIO_PCI_COMMON_Q_MSIX && is_write) {
		TRACE(QUEUE_MSIX_VECTOR, id, q, val, vq ? vq->msix_vector : VIRTIO_MSI_NO_VECTOR);
	} else if (off == VIRTIO_PCI_COMMON_Q_ENABLE) {
		TRACE(QUEUE_ENABLE, id, q, val, rw);
	} else if (!is_write) {
		TRACE(COMMON_CFG_READ, id, off, len, val);
	} else if (off != VIRTIO_PCI_COMMON_STATUS) {
		TRACE(COMMON_CFG_WRITE, id, off, len, val);
	}
}

static void common_io(struct virtio_pci *vp, uint64_t off, void *data, uint32_t len, bool is_write)
{
	uint32_t val = 0;

	/* §4.1.3.1: a 64-bit field may also be accessed whole, as two halves. */
	if (len == 8 && is_queue_addr(off) && off % 8 == 0) {
		common_io(vp, off, data, 4, is_write);
		common_io(vp, off + 4, (uint8_t *)data + 4, 4, is_write);
		return;
	}
	if (common_width(off) != len) { /* wrong width: ignored */
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write)
		memcpy(&val, data, len);
	pthread_mutex_lock(&vp->vdev->lock);
	if (is_write)
		common_write(vp, off, val);
	else
		val = common_read(vp, off);
	common_event(vp, off, len, val, is_write);
	pthread_mutex_unlock(&vp->vdev->lock);
	if (!is_write)
		memcpy(data, &val, len);
}

static void notify_io(struct virtio_pci *vp, uint64_t off)
{
	if (off % VIRTIO_PCI_NOTIFY_MULT)
		return;
	pthread_mutex_lock(&vp->vdev->lock);
	virtio_pci_notify(vp, off / VIRTIO_PCI_NOTIFY_MULT);
	pthread_mutex_unlock(&vp->vdev->lock);
}

/* BAR4: one page each for common, ISR, device and notify; an access never spans two. */
static void modern_io(struct io_dev *io, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct virtio_pci *vp = io->opaque;
	uint64_t region = off & ~(uint64_t)(VIRTIO_PCI_REGION_SIZE - 1), roff = off - region;

	if (roff + len > VIRTIO_PCI_REGION_SIZE)
		region = VIRTIO_PCI_MODERN_SIZE;
	if (region == VIRTIO_PCI_COMMON_OFF) {
		common_io(vp, roff, data, len, is_write);
	} else if (region == VIRTIO_PCI_DEVICE_OFF) {
		virtio_pci_config(vp, roff, data, len, is_write);
	} else if (is_write) {
		if (region == VIRTIO_PCI_NOTIFY_OFF)
			notify_io(vp, roff);
	} else {
		memset(data, 0, len);
		/* §4.1.4.5: the ISR byte; reading it clears it and lowers INTx. */
		if (region == VIRTIO_PCI_ISR_OFF && roff == 0) {
			*(uint8_t *)data = virtio_pci_read_isr(vp);
			TRACE(ISR_READ, vp->vdev->trace_id, *(uint8_t *)data);
		}
	}
}

static int add_cap(struct virtio_pci *vp, void *cap, uint8_t len, uint8_t type, uint8_t bar,
		   uint32_t off, uint32_t length)
{
	struct virtio_pci_cap *c = cap;

	c->cap_vndr = PCI_CAP_ID_VNDR;
	c->cap_len = len;
	c->cfg_type = type;
	c->bar = bar;
	c->offset = off; /* __le32: x86 is little-endian */
	c->length = length;
	return pci_cap_add(&vp->pci, cap, len);
}

/* The capabilities in QEMU's order and with its lengths (docs/pci.md): each structure's
 * capability spans its whole page, so a driver maps 4 KiB of each; the notify page holds
 * 1024 queues' addresses, of which those past nr_vqs do nothing. */
int virtio_pci_modern_init(struct virtio_pci *vp)
{
	struct virtio_pci_cap common = {0}, isr = {0}, device = {0};
	struct virtio_pci_notify_cap notify = {.notify_off_multiplier = VIRTIO_PCI_NOTIFY_MULT};
	struct virtio_pci_cfg_cap window = {0};
	const uint8_t bar = VIRTIO_PCI_MODERN_BAR;
	const uint32_t page = VIRTIO_PCI_REGION_SIZE;
	struct {
		void *cap;
		uint8_t len, type;
		uint32_t off;
	} caps[] = {
	    {&common, sizeof(common), VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF},
	    {&isr, sizeof(isr), VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF},
	    {&device, sizeof(device), VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF},
	    {&notify, sizeof(notify), VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF},
	};
	int r, off;

	if (vp->vdev->ops->config_size > page)
		return -EINVAL;
	/* Prefetchable, as QEMU's: sizing reads 0xffffc00c. */
	r = pci_bar_init(&vp->pci, bar, VIRTIO_PCI_MODERN_SIZE,
			 PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH, modern_io,
			 vp);
	for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]) && r >= 0; i++)
		r = add_cap(vp, caps[i].cap, caps[i].len, caps[i].type, bar, caps[i].off, page);
	if (r < 0)
		return r;
	/* §4.1.4.9: the window's bar, offset, length and data are the driver's to write. */
	off = add_cap(vp, &window, sizeof(window), VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0);
	if (off < 0)
		return off;
	pci_cfg_wmask(&vp->pci, off + VIRTIO_PCI_CAP_BAR, 0xff, 1);
	pci_cfg_wmask(&vp->pci, off + VIRTIO_PCI_CAP_OFFSET, 0xffffffffu, 4);
	pci_cfg_wmask(&vp->pci, off + VIRTIO_PCI_CAP_LENGTH, 0xffffffffu, 4);
	pci_cfg_wmask(&vp->pci, off + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data),
		      0xffffffffu, 4);
	vp->cfg_cap = off;
	return 0;
}

/* §4.1.4.9: a config access to pci_cfg_data becomes a BAR access of cap.length (1, 2 or 4
 * bytes, aligned) at cap.offset in cap.bar; anything else does nothing. */
void virtio_pci_cfg_window(struct virtio_pci *vp, uint32_t off, uint32_t len, bool is_write)
{
	uint32_t cap = vp->cfg_cap, data = cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	uint32_t bar, boff, blen, val;

	if (!cap || off >= data + 4 || off + len <= data)
		return;
	bar = pci_cfg_get(&vp->pci, cap + VIRTIO_PCI_CAP_BAR, 1);
	boff = pci_cfg_get(&vp->pci, cap + VIRTIO_PCI_CAP_OFFSET, 4);
	blen = pci_cfg_get(&vp->pci, cap + VIRTIO_PCI_CAP_LENGTH, 4);
	if ((blen != 1 && blen != 2 && blen != 4) || boff % blen)
		return;
	val = pci_cfg_get(&vp->pci, data, blen);
	if (pci_bar_access(&vp->pci, bar, boff, &val, blen, is_write) == 0 && !is_write)
		pci_cfg_put(&vp->pci, data, val, blen);
}
