/* tests/unit/test_virtio_pci.c - the legacy, modern and transitional virtio-pci transports and
 * the virtio core's state machine, on a fake device, without KVM. */
#include <errno.h>
#include <linux/virtio_pci.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/unit/test_pci_harness.h"
#include "virtio/virtio.h"

#define DEV_FEATURES (1ULL << 1 | 1ULL << 9)
/* What every device offers, as QEMU 7.2: ring features, NOTIFY_ON_EMPTY, ANY_LAYOUT, bit 30. */
#define RING_LOW                                                                                   \
	(1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX |                   \
	 1ULL << VIRTIO_F_NOTIFY_ON_EMPTY | 1ULL << VIRTIO_F_ANY_LAYOUT |                          \
	 1ULL << VIRTIO_F_BAD_FEATURE)
#define S_ACK	 VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER VIRTIO_CONFIG_S_DRIVER
#define S_FEAT	 VIRTIO_CONFIG_S_FEATURES_OK
#define S_OK	 VIRTIO_CONFIG_S_DRIVER_OK
#define S_RESET	 VIRTIO_CONFIG_S_NEEDS_RESET

/* --- the fake device --- */
struct fake {
	struct virtio_dev vdev;
	uint8_t config[12];
	int notifies, last_notify, starts, stops;
};

static uint64_t fake_features(UNUSED struct virtio_dev *vdev, uint64_t offered)
{
	return offered | DEV_FEATURES;
}

static void fake_config(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len,
			bool is_write)
{
	struct fake *f = vdev->device_priv;

	if (is_write)
		memcpy(f->config + off, data, len);
	else
		memcpy(data, f->config + off, len);
}

static void fake_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
	struct fake *f = vdev->device_priv;

	f->notifies++;
	f->last_notify = vq->index;
}

static int fake_start(struct virtio_dev *vdev)
{
	((struct fake *)vdev->device_priv)->starts++;
	return 0;
}

static void fake_stop(struct virtio_dev *vdev)
{
	((struct fake *)vdev->device_priv)->stops++;
}

static const struct virtio_device_ops fake_ops = {
    .name = "fake",
    .device_id = VIRTIO_ID_BLOCK,
    .pci_class = 0x010000,
    .nr_queues = 2,
    .queue_max_size = 256,
    .get_features = fake_features,
    .config_size = 12,
    .config_access = fake_config,
    .queue_notify = fake_notify,
    .start = fake_start,
    .stop = fake_stop,
};

static struct guest_mem mem;
enum { TRANS = 1, MODERN, LEGACY, MODERN_INTX, NR_DEVS };
static struct fake devs[NR_DEVS];

static int create(int slot, enum virtio_pci_mode mode, bool msix)
{
	virtio_dev_init(&devs[slot].vdev, &vm, &mem, &fake_ops, &devs[slot]);
	return virtio_pci_create(&pci, &devs[slot].vdev, mode, msix);
}

/* --- access through the BARs, where the guest put them --- */
static uint16_t io_base(int slot)
{
	return cfg_rd(slot, PCI_BASE_ADDRESS_0, 4) & ~3u;
}

static uint32_t lrd(int slot, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	bus_dispatch(&vm.pio, io_base(slot) + off, &v, len, false);
	return v;
}

static void lwr(int slot, uint32_t off, uint32_t val, uint32_t len)
{
	bus_dispatch(&vm.pio, io_base(slot) + off, &val, len, true);
}

/* Enable MSI-X and program vector v with data, unmasked. */
static void msix_setup(int slot, unsigned v, uint32_t data)
{
	uint64_t entry = mem_bar(slot, 1) + v * PCI_MSIX_ENTRY_SIZE;

	cfg_wr(slot, find_cap(slot, 0) + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	mwr(entry + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000u, 4);
	mwr(entry + PCI_MSIX_ENTRY_DATA, data, 4);
	mwr(entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
}

static void test_ids(void)
{
	struct virtio_device_ops gpu = fake_ops;
	struct virtio_dev v;

	CHECK(cfg_rd(TRANS, PCI_DEVICE_ID, 2) == 0x1001 && cfg_rd(TRANS, PCI_REVISION_ID, 1) == 0,
	      "transitional: device id 0x1001, revision 0");
	CHECK(cfg_rd(TRANS, PCI_SUBSYSTEM_VENDOR_ID, 2) == 0x1af4 &&
		  cfg_rd(TRANS, PCI_SUBSYSTEM_ID, 2) == VIRTIO_ID_BLOCK &&
		  cfg_rd(LEGACY, PCI_SUBSYSTEM_ID, 2) == VIRTIO_ID_BLOCK,
	      "transitional and legacy: subsystem 1af4, id = virtio id");
	CHECK(cfg_rd(MODERN, PCI_SUBSYSTEM_VENDOR_ID, 2) == 0x1af4 &&
		  cfg_rd(MODERN, PCI_SUBSYSTEM_ID, 2) == 0x1100,
	      "modern: QEMU's subsystem 1af4:1100");
	CHECK((cfg_rd(TRANS, PCI_BASE_ADDRESS_0, 4) & 1) && find_cap(TRANS, 1) &&
		  find_cap(TRANS, 0),
	      "transitional: I/O BAR0, modern caps and MSI-X");
	CHECK(cfg_rd(MODERN, PCI_DEVICE_ID, 2) == 0x1042 && cfg_rd(MODERN, PCI_REVISION_ID, 1) == 1,
	      "modern: device id 0x1042, revision 1");
	CHECK(cfg_rd(MODERN, PCI_BASE_ADDRESS_0, 4) == 0, "modern: no I/O BAR");
	CHECK(cfg_rd(LEGACY, PCI_DEVICE_ID, 2) == 0x1001 &&
		  !(cfg_rd(LEGACY, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST),
	      "legacy INTx: transitional id, no capabilities at all");
	CHECK(cfg_rd(LEGACY, PCI_INTERRUPT_PIN, 1) == 1, "INTA wired");
	CHECK(find_cap(MODERN_INTX, 1) && !find_cap(MODERN_INTX, 0), "modern INTx: no MSI-X cap");
	gpu.device_id = VIRTIO_ID_GPU;
	virtio_dev_init(&v, &vm, &mem, &gpu, NULL);
	CHECK(virtio_pci_create(&pci, &v, VIRTIO_PCI_LEGACY, false) == -ENOTSUP,
	      "no transitional id for the device: legacy refused");
}

static void test_caps(void)
{
	uint32_t c = find_cap(MODERN, VIRTIO_PCI_CAP_COMMON_CFG);
	uint32_t n = find_cap(MODERN, VIRTIO_PCI_CAP_NOTIFY_CFG);
	uint32_t d = find_cap(MODERN, VIRTIO_PCI_CAP_DEVICE_CFG);

	/* QEMU's chain: MSI-X 0x98, pci-cfg 0x84, notify 0x70, device 0x60, ISR 0x50, common 0x40.
	 */
	static const uint8_t want_off[] = {0x98, 0x84, 0x70, 0x60, 0x50, 0x40};
	static const uint8_t want_type[] = {0,
					    VIRTIO_PCI_CAP_PCI_CFG,
					    VIRTIO_PCI_CAP_NOTIFY_CFG,
					    VIRTIO_PCI_CAP_DEVICE_CFG,
					    VIRTIO_PCI_CAP_ISR_CFG,
					    VIRTIO_PCI_CAP_COMMON_CFG};
	unsigned n_caps = 0, in_order = 0;

	for (uint32_t p = cfg_rd(MODERN, PCI_CAPABILITY_LIST, 1); p && n_caps < 8;
	     p = cfg_rd(MODERN, p + PCI_CAP_LIST_NEXT, 1), n_caps++)
		in_order += n_caps < 6 && p == want_off[n_caps] &&
			    (n_caps ? cfg_rd(MODERN, p + 3, 1) == want_type[n_caps]
				    : cfg_rd(MODERN, p, 1) == PCI_CAP_ID_MSIX);
	CHECK(n_caps == 6 && in_order == 6,
	      "capabilities in QEMU's order: MSI-X, pci-cfg, notify, device, ISR, common");
	CHECK(c && cfg_rd(MODERN, c + VIRTIO_PCI_CAP_BAR, 1) == 4 &&
		  cfg_rd(MODERN, c + VIRTIO_PCI_CAP_LENGTH, 4) == 0x1000,
	      "common cfg cap in BAR4, its whole page (0x1000) as QEMU");
	CHECK(n && cfg_rd(MODERN, n + VIRTIO_PCI_NOTIFY_CAP_MULT, 4) == 4 &&
		  cfg_rd(MODERN, n + VIRTIO_PCI_CAP_LEN, 1) ==
		      sizeof(struct virtio_pci_notify_cap) &&
		  cfg_rd(MODERN, n + VIRTIO_PCI_CAP_LENGTH, 4) == 0x1000,
	      "notify cap with notify_off_multiplier 4, length 0x1000");
	CHECK(cfg_rd(MODERN, find_cap(MODERN, VIRTIO_PCI_CAP_ISR_CFG) + VIRTIO_PCI_CAP_LENGTH, 4) ==
		  0x1000,
	      "ISR cap, length 0x1000");
	CHECK(d && cfg_rd(MODERN, d + VIRTIO_PCI_CAP_LENGTH, 4) == 0x1000,
	      "device cfg cap, length 0x1000");
	CHECK(find_cap(MODERN, VIRTIO_PCI_CAP_PCI_CFG), "PCI_CFG access cap");
	CHECK((mem_bar(MODERN, 4) & 0x3fff) == 0 && mem_bar(MODERN, 4) < GUEST_4G,
	      "BAR4: 64-bit, 16 KiB aligned, below 4G");
	CHECK((cfg_rd(MODERN, PCI_BASE_ADDRESS_4, 4) & 0xf) == 0xc, "BAR4: 64-bit prefetchable");
	cfg_wr(MODERN, c + VIRTIO_PCI_CAP_OFFSET, 0x1234, 4);
	CHECK(cfg_rd(MODERN, c + VIRTIO_PCI_CAP_OFFSET, 4) == 0, "capability fields are read-only");
}

static void test_legacy(void)
{
	struct fake *f = &devs[LEGACY];
	struct virtqueue *vq = &f->vdev.vqs[0];
	uint8_t gsi = cfg_rd(LEGACY, PCI_INTERRUPT_LINE, 1);

	CHECK(lrd(LEGACY, VIRTIO_PCI_HOST_FEATURES, 4) == (uint32_t)(DEV_FEATURES | RING_LOW),
	      "legacy host features: the low 32 bits");
	CHECK(lrd(LEGACY, VIRTIO_PCI_HOST_FEATURES, 1) == 0xff,
	      "wrong-width register read dropped");
	CHECK(lrd(LEGACY, VIRTIO_PCI_QUEUE_NUM, 2) == 256, "queue 0: 256 entries");
	lwr(LEGACY, VIRTIO_PCI_QUEUE_SEL, 2, 2);
	CHECK(lrd(LEGACY, VIRTIO_PCI_QUEUE_NUM, 2) == 0, "queue 2 does not exist");
	lwr(LEGACY, VIRTIO_PCI_QUEUE_SEL, 0, 2);
	lwr(LEGACY, VIRTIO_PCI_QUEUE_PFN, 0x1234, 4);
	CHECK(vq->desc == 0x1234000 && vq->avail == 0x1235000 && vq->used == 0x1236000 && vq->ready,
	      "PFN: desc at the frame, avail after 256 descriptors, used at the next 4 KiB");
	CHECK(lrd(LEGACY, VIRTIO_PCI_QUEUE_PFN, 4) == 0x1234, "PFN reads back");
	lwr(LEGACY, VIRTIO_PCI_STATUS, S_ACK, 2);
	CHECK(f->vdev.status == 0, "wrong-width status write ignored");
	lwr(LEGACY, VIRTIO_PCI_GUEST_FEATURES, 1 << 1, 4);
	CHECK(lrd(LEGACY, VIRTIO_PCI_GUEST_FEATURES, 4) == 2, "guest features read back");
	CHECK(!(f->vdev.host_features >> 32) && (devs[TRANS].vdev.host_features >> 32) == 1,
	      "VERSION_1 offered by the transitional device, not by the legacy-only one");
	lwr(LEGACY, VIRTIO_PCI_GUEST_FEATURES, 1u << VIRTIO_F_BAD_FEATURE | 1 << 1, 4);
	CHECK(lrd(LEGACY, VIRTIO_PCI_GUEST_FEATURES, 4) == 0,
	      "a driver acking bit 30 did not negotiate: no features (QEMU's rule)");
	lwr(LEGACY, VIRTIO_PCI_GUEST_FEATURES, 1 << 1, 4);
	lwr(LEGACY, VIRTIO_PCI_QUEUE_NOTIFY, 0, 2);
	CHECK(f->notifies == 0, "no notify before DRIVER_OK");
	lwr(LEGACY, VIRTIO_PCI_STATUS, S_ACK | S_DRIVER | S_OK, 1);
	CHECK(f->starts == 1 && lrd(LEGACY, VIRTIO_PCI_STATUS, 1) == (S_ACK | S_DRIVER | S_OK),
	      "DRIVER_OK without FEATURES_OK (legacy) starts the device");
	CHECK(!vq->event_idx, "event idx off when not negotiated");
	lwr(LEGACY, VIRTIO_PCI_QUEUE_NOTIFY, 0, 2);
	lwr(LEGACY, VIRTIO_PCI_QUEUE_NOTIFY, 1, 2);
	lwr(LEGACY, VIRTIO_PCI_QUEUE_NOTIFY, 7, 2);
	CHECK(f->notifies == 1 && f->last_notify == 0,
	      "notify reaches the device for a live queue");

	irq.n[LINE] = 0;
	f->vdev.transport->signal_vq(&f->vdev, vq);
	CHECK(irq.n[LINE] == 1 && irq.a[LINE] == gsi && irq.b[LINE] == 1, "signal: INTx asserted");
	CHECK(f->vdev.isr == 1, "ISR bit 0");
	CHECK(lrd(LEGACY, VIRTIO_PCI_ISR, 1) == 1 && irq.b[LINE] == 0, "ISR read: 1, INTx lowered");
	CHECK(lrd(LEGACY, VIRTIO_PCI_ISR, 1) == 0, "ISR read clears it");
	uint8_t gen = f->vdev.config_generation;
	f->vdev.transport->signal_config(&f->vdev);
	CHECK(lrd(LEGACY, VIRTIO_PCI_ISR, 1) == VIRTIO_PCI_ISR_CONFIG &&
		  f->vdev.config_generation == (uint8_t)(gen + 1),
	      "config interrupt: ISR bit 1, new generation");

	lwr(LEGACY, VIRTIO_PCI_CONFIG_OFF(false) + 4, 0xabcd, 2);
	CHECK(f->config[4] == 0xcd && lrd(LEGACY, VIRTIO_PCI_CONFIG_OFF(false) + 5, 1) == 0xab,
	      "device config at 20 without MSI-X");
	CHECK(lrd(LEGACY, VIRTIO_PCI_CONFIG_OFF(false) + 10, 4) == 0,
	      "device config past its end reads zero");

	lwr(LEGACY, VIRTIO_PCI_STATUS, S_ACK, 1);
	CHECK((f->vdev.status & S_RESET) && f->stops == 1,
	      "status going backwards: NEEDS_RESET, stop");
	CHECK(lrd(LEGACY, VIRTIO_PCI_ISR, 1) == VIRTIO_PCI_ISR_CONFIG, "and a config interrupt");
	lwr(LEGACY, VIRTIO_PCI_QUEUE_NOTIFY, 0, 2);
	CHECK(f->notifies == 1, "no notifies while NEEDS_RESET");
	f->vdev.transport->signal_vq(&f->vdev, vq);
	lwr(LEGACY, VIRTIO_PCI_STATUS, 0, 1);
	CHECK(f->vdev.status == 0 && f->vdev.driver_features == 0 && !vq->ready && vq->desc == 0,
	      "reset clears status, features and queues");
	/* stop() again: after NEEDS_RESET from a device's IO thread, only the reset can wait for
	 * what that thread still has in flight (tests/integration/hostile.sh error-inflight). */
	CHECK(f->stops == 2 && f->vdev.isr == 0 && irq.b[LINE] == 0,
	      "reset after NEEDS_RESET: stop again, ISR clear, INTx low");

	lwr(LEGACY, VIRTIO_PCI_GUEST_FEATURES, 1 << 3, 4);
	lwr(LEGACY, VIRTIO_PCI_STATUS, S_ACK | S_DRIVER | S_OK, 1);
	CHECK((f->vdev.status & S_RESET) && f->starts == 1,
	      "DRIVER_OK with an unoffered feature: NEEDS_RESET, not started");
	lwr(LEGACY, VIRTIO_PCI_STATUS, 0, 1);
}

static void test_transitional_msix(void)
{
	struct fake *f = &devs[TRANS];
	uint32_t cfg = VIRTIO_PCI_CONFIG_OFF(true);

	f->config[0] = 0x77;
	CHECK(lrd(TRANS, VIRTIO_PCI_CONFIG_OFF(false), 1) == 0x77, "config at 20 before MSI-X");
	msix_setup(TRANS, 1, 0x51);
	CHECK(lrd(TRANS, cfg, 1) == 0x77, "config moves to 24 with MSI-X enabled");
	CHECK(lrd(TRANS, VIRTIO_MSI_QUEUE_VECTOR, 2) == VIRTIO_MSI_NO_VECTOR, "queue vector: none");
	lwr(TRANS, VIRTIO_MSI_QUEUE_VECTOR, 1, 2);
	CHECK(lrd(TRANS, VIRTIO_MSI_QUEUE_VECTOR, 2) == 1, "queue vector 1 set");
	lwr(TRANS, VIRTIO_PCI_STATUS, S_ACK | S_DRIVER | S_OK, 1);
	lwr(TRANS, VIRTIO_MSI_QUEUE_VECTOR, 0, 2);
	CHECK(lrd(TRANS, VIRTIO_MSI_QUEUE_VECTOR, 2) == 1,
	      "legacy: the vector stays after DRIVER_OK");
	lwr(TRANS, VIRTIO_PCI_STATUS, 0, 1);
	lwr(TRANS, VIRTIO_MSI_QUEUE_VECTOR, 1, 2);
	lwr(TRANS, VIRTIO_MSI_CONFIG_VECTOR, 9, 2);
	CHECK(lrd(TRANS, VIRTIO_MSI_CONFIG_VECTOR, 2) == VIRTIO_MSI_NO_VECTOR,
	      "a vector past the table reads back NO_VECTOR");
	irq.n[MSI] = 0;
	f->vdev.transport->signal_vq(&f->vdev, &f->vdev.vqs[0]);
	CHECK(irq.n[MSI] == 1 && irq.b[MSI] == 0x51 && f->vdev.isr == 0,
	      "signal with MSI-X: the queue's vector, no ISR");
	f->vdev.transport->signal_config(&f->vdev);
	CHECK(irq.n[MSI] == 1, "config change without a config vector: no interrupt");
	cfg_wr(TRANS, find_cap(TRANS, 0) + PCI_MSIX_FLAGS, 0, 2);
}

static void test_features(int s)
{
	struct fake *f = &devs[s];
	uint64_t status = common(s, VIRTIO_PCI_COMMON_STATUS);

	mwr(common(s, VIRTIO_PCI_COMMON_DFSELECT), 0, 4);
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_DF), 4) == (uint32_t)(DEV_FEATURES | RING_LOW),
	      "device_feature window 0");
	mwr(common(s, VIRTIO_PCI_COMMON_DFSELECT), 1, 4);
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_DF), 4) == 1, "window 1: VERSION_1");
	mwr(common(s, VIRTIO_PCI_COMMON_DFSELECT), 2, 4);
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_DF), 4) == 0, "window 2: nothing");
	mwr(common(s, VIRTIO_PCI_COMMON_DFSELECT), 0, 1);
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_DFSELECT), 4) == 2, "byte write to a dword: ignored");

	mwr(status, S_ACK | S_DRIVER, 1);
	mwr(common(s, VIRTIO_PCI_COMMON_GFSELECT), 0, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_GF), 1 << 3, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_GFSELECT), 1, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_GF), 1, 4);
	mwr(status, S_ACK | S_DRIVER | S_FEAT, 1);
	CHECK(mrd(status, 1) == (S_ACK | S_DRIVER), "FEATURES_OK refused for an unoffered feature");
	mwr(common(s, VIRTIO_PCI_COMMON_GFSELECT), 0, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_GF), 1 << 1 | 1 << VIRTIO_RING_F_EVENT_IDX, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_GFSELECT), 1, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_GF), 0, 4);
	mwr(status, S_ACK | S_DRIVER | S_FEAT, 1);
	CHECK(mrd(status, 1) == (S_ACK | S_DRIVER), "FEATURES_OK refused without VERSION_1");
	mwr(common(s, VIRTIO_PCI_COMMON_GF), 1, 4);
	mwr(status, S_ACK | S_DRIVER | S_FEAT, 1);
	CHECK(mrd(status, 1) == (S_ACK | S_DRIVER | S_FEAT), "FEATURES_OK accepted");
	CHECK(f->vdev.driver_features == (1ULL << 32 | 1 << 1 | 1 << VIRTIO_RING_F_EVENT_IDX),
	      "driver features from both windows");
	mwr(common(s, VIRTIO_PCI_COMMON_GF), 0, 4);
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_GF), 4) == 1,
	      "feature writes after FEATURES_OK ignored");
}

static void test_queue_setup(int s)
{
	struct virtqueue *vq = &devs[s].vdev.vqs[0];
	uint64_t size = common(s, VIRTIO_PCI_COMMON_Q_SIZE);

	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_NUMQ), 2) == 2, "num_queues");
	mwr(common(s, VIRTIO_PCI_COMMON_Q_SELECT), 7, 2);
	CHECK(mrd(size, 2) == 0 &&
		  mrd(common(s, VIRTIO_PCI_COMMON_Q_MSIX), 2) == VIRTIO_MSI_NO_VECTOR,
	      "absent queue: size 0, no vector");
	mwr(common(s, VIRTIO_PCI_COMMON_Q_SELECT), 1, 2);
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_Q_NOFF), 2) == 1, "queue_notify_off of queue 1");
	mwr(common(s, VIRTIO_PCI_COMMON_Q_SELECT), 0, 2);
	CHECK(mrd(size, 2) == 256, "queue_size starts at the maximum");
	mwr(size, 100, 2);
	mwr(size, 512, 2);
	CHECK(mrd(size, 2) == 256, "queue_size: not a power of 2, or past the maximum: ignored");
	mwr(size, 64, 2);
	CHECK(mrd(size, 2) == 64 && vq->size == 64, "queue_size 64 accepted");
	mwr(size, 32, 4);
	CHECK(vq->size == 64 && mrd(size, 4) == 0, "dword access to a word field: ignored");
	vq->packed = true; /* as FEATURES_OK with VIRTIO_F_RING_PACKED leaves it */
	mwr(size, 100, 2);
	CHECK(vq->size == 100, "packed ring: queue_size 100, not a power of 2, accepted (§2.8)");
	mwr(size, 64, 2);
	vq->packed = false;

	mwr(common(s, VIRTIO_PCI_COMMON_Q_DESCLO), 0x1000, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_DESCHI), 0x1, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_AVAILLO), 0x100002000ULL, 8);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_USEDLO), 0x3000, 4);
	CHECK(vq->desc == 0x100001000ULL && vq->avail == 0x100002000ULL && vq->used == 0x3000,
	      "queue_desc/driver/device from lo/hi halves and a 64-bit write");
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_Q_DESCHI), 4) == 1, "queue_desc_hi reads back");

	mwr(common(s, VIRTIO_PCI_COMMON_Q_MSIX), 2, 2);
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_Q_MSIX), 2) == 2, "queue_msix_vector 2");
	mwr(common(s, VIRTIO_PCI_COMMON_Q_MSIX), 3, 2);
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_Q_MSIX), 2) == VIRTIO_MSI_NO_VECTOR,
	      "queue_msix_vector 3 of 3 vectors: NO_VECTOR");
	mwr(common(s, VIRTIO_PCI_COMMON_Q_MSIX), 2, 2);

	mwr(common(s, VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
	CHECK(vq->ready && mrd(common(s, VIRTIO_PCI_COMMON_Q_ENABLE), 2) == 1, "queue enabled");
	mwr(size, 32, 2);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_DESCLO), 0, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_ENABLE), 0, 2);
	CHECK(vq->size == 64 && vq->desc == 0x100001000ULL && vq->ready,
	      "an enabled queue's size, addresses and enable are no longer writable");
}

static void test_modern_run(int s)
{
	struct fake *f = &devs[s];
	uint64_t notify = region(s, VIRTIO_PCI_CAP_NOTIFY_CFG);
	uint64_t status = common(s, VIRTIO_PCI_COMMON_STATUS);

	mwr(status, S_ACK | S_DRIVER | S_FEAT | S_OK, 1);
	CHECK(f->starts == 1 && f->vdev.vqs[0].event_idx, "DRIVER_OK: started, event idx on");
	mwr(notify + 0, 0, 2);
	mwr(notify + 4, 1, 2); /* queue 1 was never enabled */
	mwr(notify + 2, 0, 2); /* between two queues' slots */
	CHECK(f->notifies == 1 && f->last_notify == 0, "notify region: queue 0 only");

	msix_setup(s, 2, 0x62);
	msix_setup(s, 0, 0x60);
	irq.n[MSI] = 0;
	f->vdev.transport->signal_vq(&f->vdev, &f->vdev.vqs[0]);
	CHECK(irq.n[MSI] == 1 && irq.b[MSI] == 0x62, "queue interrupt on its MSI-X vector");
	mwr(common(s, VIRTIO_PCI_COMMON_MSIX), 0, 2);
	uint8_t gen = mrd(common(s, VIRTIO_PCI_COMMON_CFGGENERATION), 1);
	f->vdev.transport->signal_config(&f->vdev);
	CHECK(irq.n[MSI] == 2 && irq.b[MSI] == 0x60, "config interrupt on msix_config's vector");
	CHECK(mrd(common(s, VIRTIO_PCI_COMMON_CFGGENERATION), 1) == (uint8_t)(gen + 1),
	      "config_generation moved");
	CHECK(mrd(region(s, VIRTIO_PCI_CAP_ISR_CFG), 1) == 0, "ISR stays clear with MSI-X");
	mwr(region(s, VIRTIO_PCI_CAP_DEVICE_CFG) + 8, 0x11223344, 4);
	CHECK(f->config[8] == 0x44 && mrd(region(s, VIRTIO_PCI_CAP_DEVICE_CFG) + 11, 1) == 0x11,
	      "device cfg region");
}

/* From DRIVER_OK to reset the queues are the backend's (its IO threads read them without the
 * device's lock): a queue left disabled at DRIVER_OK, and every queue's vector, stay as they
 * were. Run after test_modern_run: queue 0 live on vector 2, queue 1 never enabled. */
static void test_modern_frozen(int s)
{
	struct virtqueue *vq1 = &devs[s].vdev.vqs[1];

	mwr(common(s, VIRTIO_PCI_COMMON_Q_SELECT), 1, 2);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_SIZE), 16, 2);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_DESCLO), 0x5000, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
	CHECK(!vq1->ready && vq1->size == 256 && vq1->desc == 0 &&
		  mrd(common(s, VIRTIO_PCI_COMMON_Q_ENABLE), 2) == 0,
	      "after DRIVER_OK a disabled queue cannot be set up or enabled");
	mwr(common(s, VIRTIO_PCI_COMMON_Q_SELECT), 0, 2);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_MSIX), 1, 2);
	CHECK(devs[s].vdev.vqs[0].msix_vector == 2,
	      "after DRIVER_OK a queue's vector stays (its irqfd was wired to it)");
	devs[s].vdev.vqs[0].msix_vector = 2; /* the tests after this one expect vector 2 */
}

/* A modern driver that skips FEATURES_OK runs on the features it wrote by DRIVER_OK: a later
 * feature write and FEATURES_OK must not turn a running split ring into a packed one, whose
 * pop would take the split ring's free-running index for a slot past the ring's end. */
static void test_modern_late_features(int s)
{
	struct fake *f = &devs[s];
	struct virtqueue *vq = &f->vdev.vqs[0];
	uint64_t status = common(s, VIRTIO_PCI_COMMON_STATUS);

	virtio_dev_set_ring(&f->vdev, VIRTIO_RING_PACKED, false);
	mwr(status, S_ACK | S_DRIVER, 1);
	mwr(common(s, VIRTIO_PCI_COMMON_GFSELECT), 1, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_GF), 1, 4); /* VERSION_1 */
	mwr(common(s, VIRTIO_PCI_COMMON_Q_DESCLO), 0x1000, 4);
	mwr(common(s, VIRTIO_PCI_COMMON_Q_ENABLE), 1, 2);
	mwr(status, S_ACK | S_DRIVER | S_OK, 1);
	CHECK(f->starts == 2 && vq->ready && !vq->packed,
	      "DRIVER_OK without FEATURES_OK: started on the split ring");
	mwr(common(s, VIRTIO_PCI_COMMON_GF), 1 | 1 << (VIRTIO_F_RING_PACKED - 32), 4);
	mwr(status, S_ACK | S_DRIVER | S_OK | S_FEAT, 1);
	CHECK(f->vdev.driver_features == 1ULL << VIRTIO_F_VERSION_1 && !vq->packed,
	      "features written after DRIVER_OK are ignored; the queue stays split");
	mwr(status, 0, 1);
	virtio_dev_set_ring(&f->vdev, VIRTIO_RING_SPLIT, false);
}

/* §4.1.4.9: BAR accesses through the PCI_CFG capability. */
static void test_cfg_window(int s)
{
	uint32_t cap = find_cap(s, VIRTIO_PCI_CAP_PCI_CFG);
	uint32_t data = cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	uint32_t base =
	    cfg_rd(s, find_cap(s, VIRTIO_PCI_CAP_COMMON_CFG) + VIRTIO_PCI_CAP_OFFSET, 4);

	cfg_wr(s, cap + VIRTIO_PCI_CAP_BAR, 4, 1);
	cfg_wr(s, cap + VIRTIO_PCI_CAP_OFFSET, base + VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_wr(s, cap + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	CHECK(cfg_rd(s, data, 2) == 2, "PCI_CFG window read: num_queues");
	cfg_wr(s, cap + VIRTIO_PCI_CAP_OFFSET, base + VIRTIO_PCI_COMMON_Q_SELECT, 4);
	cfg_wr(s, data, 1, 2);
	CHECK(devs[s].vdev.queue_sel == 1, "PCI_CFG window write: queue_select");
	cfg_wr(s, cap + VIRTIO_PCI_CAP_LENGTH, 3, 4);
	cfg_wr(s, data, 0, 4);
	CHECK(devs[s].vdev.queue_sel == 1, "a 3-byte window does nothing");
	cfg_wr(s, cap + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	cfg_wr(s, data, 0, 2);
}

static void test_notifiers(int s)
{
	struct fake *f = &devs[s];
	struct virtqueue *vq = &f->vdev.vqs[0];
	uint64_t notify = region(s, VIRTIO_PCI_CAP_NOTIFY_CFG), count = 0;
	int fd = eventfd(0, EFD_NONBLOCK);

	irq.ioeventfds = irq.irqfds = 0;
	CHECK(virtio_set_host_notifier(&f->vdev, vq, fd) == 0 && irq.ioeventfds == 1 &&
		  irq.a[IOEVENTFD] == notify,
	      "host notifier: ioeventfd on the queue's notify address");
	mwr(notify, 0, 2); /* as if KVM had not matched it */
	CHECK(read(fd, &count, 8) == 8 && count == 1 && f->notifies == 1,
	      "a trapped notify goes to the eventfd, not the device");
	CHECK(virtio_set_host_notifier(&f->vdev, vq, -1) == 0 && irq.ioeventfds == 0,
	      "host notifier removed");
	CHECK(virtio_set_guest_notifier(&f->vdev, vq, fd) == 0 && irq.irqfds == 1 &&
		  irq.b[ROUTE_ADD] == 0x62,
	      "guest notifier: irqfd on a route with the queue's vector's message");
	CHECK(virtio_set_guest_notifier(&f->vdev, vq, -1) == 0 && irq.irqfds == 0,
	      "guest notifier removed");

	CHECK(virtio_set_host_notifier(&devs[TRANS].vdev, &devs[TRANS].vdev.vqs[1], fd) == 0 &&
		  irq.ioeventfds == 2,
	      "transitional: ioeventfds on the legacy and the modern notify address");
	CHECK(irq.a[IOEVENTFD] == region(TRANS, VIRTIO_PCI_CAP_NOTIFY_CFG) + 4,
	      "modern: queue 1's slot");
	virtio_set_host_notifier(&devs[TRANS].vdev, &devs[TRANS].vdev.vqs[1], -1);
	CHECK(virtio_set_guest_notifier(&devs[MODERN_INTX].vdev, &devs[MODERN_INTX].vdev.vqs[0],
					fd) == -ENOTSUP,
	      "guest notifier with INTx: -ENOTSUP");
	close(fd);
}

static void test_modern_reset(int s)
{
	struct fake *f = &devs[s];
	struct virtqueue *vq = &f->vdev.vqs[0];

	mwr(common(s, VIRTIO_PCI_COMMON_STATUS), 0, 1);
	CHECK(f->stops == 1 && f->vdev.status == 0 && f->vdev.driver_features == 0,
	      "reset: stopped, status and features cleared");
	CHECK(vq->size == 256 && !vq->ready && vq->desc == 0 &&
		  vq->msix_vector == VIRTIO_MSI_NO_VECTOR &&
		  f->vdev.config_msix_vector == VIRTIO_MSI_NO_VECTOR && f->vdev.queue_sel == 0,
	      "reset: queues, vectors and selectors back to their initial values");
}

static void test_modern_intx(void)
{
	struct fake *f = &devs[MODERN_INTX];
	uint64_t isr = region(MODERN_INTX, VIRTIO_PCI_CAP_ISR_CFG);

	f->vdev.transport->signal_vq(&f->vdev, &f->vdev.vqs[1]);
	CHECK(irq.b[LINE] == 1 && irq.a[LINE] == cfg_rd(MODERN_INTX, PCI_INTERRUPT_LINE, 1),
	      "modern INTx: line up");
	CHECK(mrd(isr, 1) == 1 && irq.b[LINE] == 0 && mrd(isr, 1) == 0,
	      "ISR region read returns bit 0, clears it and lowers the line");
}

int main(void)
{
	CHECK(harness_init() == 0, "pci bus");
	CHECK(create(TRANS, VIRTIO_PCI_TRANSITIONAL, true) == 0, "transitional device with MSI-X");
	CHECK(create(MODERN, VIRTIO_PCI_MODERN, true) == 0, "modern device with MSI-X");
	CHECK(create(LEGACY, VIRTIO_PCI_LEGACY, false) == 0, "legacy device with INTx");
	CHECK(create(MODERN_INTX, VIRTIO_PCI_MODERN, false) == 0, "modern device with INTx");
	for (int s = TRANS; s < NR_DEVS; s++)
		cfg_wr(s, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);

	test_ids();
	test_caps();
	test_legacy();
	test_transitional_msix();
	test_features(MODERN);
	test_queue_setup(MODERN);
	test_modern_run(MODERN);
	test_modern_frozen(MODERN);
	test_cfg_window(MODERN);
	test_notifiers(MODERN);
	test_modern_reset(MODERN);
	test_modern_late_features(MODERN);
	test_modern_intx();
	pci_destroy(&pci);
	CHECK(devs[MODERN].vdev.transport == NULL && vm.pio.nr == 0 && vm.mmio.nr == 0,
	      "pci_destroy releases the transports and empties the buses");
	return CHECK_DONE();
}
