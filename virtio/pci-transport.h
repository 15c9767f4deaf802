/* virtio/pci-transport.h - what the transport's files share (pci-common.c, then pci-legacy.c and
 * pci-modern.c, then pci.c); only they include it. The transport knows its device through
 * struct virtio_dev and the ops only. */
#ifndef KVMSCOPE_VIRTIO_PCI_TRANSPORT_H
#define KVMSCOPE_VIRTIO_PCI_TRANSPORT_H

#include <linux/virtio_pci.h>

#include "pci/pci.h"
#include "virtio/virtio.h"

#define VIRTIO_PCI_VENDOR_ID   0x1AF4
#define VIRTIO_PCI_MODERN_ID   0x1040 /* + virtio device id (virtio 1.2 §4.1.2.1) */
#define VIRTIO_PCI_SUBSYS_QEMU 0x1100 /* QEMU's subsystem id for its devices, modern virtio's */
#define VIRTIO_PCI_ISR_QUEUE   0x1    /* virtio 1.2 §4.1.4.5: bit 0, used buffers */
#define VIRTIO_PCI_LEGACY_BAR  0
#define VIRTIO_PCI_MSIX_BAR    1
#define VIRTIO_PCI_MODERN_BAR  4 /* 64-bit prefetchable, so it takes BAR5 too */

/* The modern BAR: one 4 KiB page per structure, as QEMU lays it out. */
#define VIRTIO_PCI_COMMON_OFF  0x0000
#define VIRTIO_PCI_ISR_OFF     0x1000
#define VIRTIO_PCI_DEVICE_OFF  0x2000
#define VIRTIO_PCI_NOTIFY_OFF  0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4 /* queue q notifies at NOTIFY_OFF + q * 4 */
#define VIRTIO_PCI_MODERN_SIZE 0x4000
#define VIRTIO_PCI_REGION_SIZE 0x1000

struct virtio_pci {
	struct pci_dev pci;
	struct virtio_dev *vdev;
	enum virtio_pci_mode mode;
	uint8_t cfg_cap; /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability, 0: none */

	pthread_mutex_t lock;		/* the ISR with the INTx line, and the notifier fds below */
	int host_fd[VIRTIO_MAX_QUEUES]; /* ioeventfd taking the queue's notifies, or -1 */
	int guest_fd[VIRTIO_MAX_QUEUES]; /* irqfd raising the queue's vector, or -1 */
	uint16_t guest_vector[VIRTIO_MAX_QUEUES];
};

/* pci-common.c: register semantics both interfaces share. These four with vdev->lock held: */
struct virtqueue *virtio_pci_selected_vq(struct virtio_pci *vp);
uint16_t virtio_pci_vector(struct virtio_pci *vp, uint16_t vector); /* NO_VECTOR if invalid */
void virtio_pci_write_status(struct virtio_pci *vp, uint8_t status);
void virtio_pci_notify(struct virtio_pci *vp, unsigned queue);
/* Returns the ISR and clears it, lowering INTx (§4.1.4.5.1). Any lock state. */
uint8_t virtio_pci_read_isr(struct virtio_pci *vp);
/* Device-specific configuration at off, under vdev->lock (taken here): outside it, reads see
 * zeroes and writes vanish. */
void virtio_pci_config(struct virtio_pci *vp, uint64_t off, void *data, uint32_t len,
		       bool is_write);
/* The 32-bit window sel of a 64-bit feature set (selectors past 1 read zero). */
uint32_t virtio_pci_feature_window(uint64_t features, uint32_t sel);

/* pci-legacy.c: the I/O BAR0 register block (virtio 1.2 §4.1.4.8). */
int virtio_pci_legacy_init(struct virtio_pci *vp);

/* pci-modern.c: the capabilities and the structures in the memory BAR (virtio 1.2 §4.1.4). */
int virtio_pci_modern_init(struct virtio_pci *vp);
/* The VIRTIO_PCI_CAP_PCI_CFG window (§4.1.4.9): config accesses to pci_cfg_data. */
void virtio_pci_cfg_window(struct virtio_pci *vp, uint32_t off, uint32_t len, bool is_write);

#endif
