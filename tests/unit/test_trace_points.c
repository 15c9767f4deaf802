/* tests/unit/test_trace_points.c - the trace points of pci/ and virtio/ in place: a modern
 * virtio-pci device built and driven through its handshake with tracing on (no KVM), then the
 * file read back must tell the story in order, with the registers and bits named. */
#include <linux/virtio_pci.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/unit/test_pci_harness.h"
#include "trace/internal.h"
#include "virtio/virtio.h"

#define SLOT 1

static struct guest_mem mem;
static struct virtio_dev vdev;
static int notifies;

static void dev_config(struct virtio_dev *d, uint32_t off, void *data, uint32_t len, bool wr)
{
	(void)d;
	if (wr)
		return;
	memset(data, 0, len);
	if (off == 0)
		*(uint8_t *)data = 0x40; /* capacity: 64 sectors */
}

static void dev_notify(struct virtio_dev *d, struct virtqueue *vq)
{
	(void)d;
	(void)vq;
	notifies++;
}

static const struct virtio_device_ops ops = {
    .name = "blk-under-test",
    .device_id = VIRTIO_ID_BLOCK,
    .pci_class = 0x010000,
    .nr_queues = 1,
    .queue_max_size = 128,
    .config_size = 8,
    .config_access = dev_config,
    .queue_notify = dev_notify,
};

static uint64_t mmio(uint64_t addr, uint64_t val, uint32_t len, bool wr)
{
	bus_dispatch(&vm.mmio, addr, &val, len, wr);
	return val;
}

/* What a modern driver does (virtio 1.2 §3.1.1), one register at a time. */
static void handshake(void)
{
	uint64_t c, n;

	cfg_wr(SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	c = region(SLOT, VIRTIO_PCI_CAP_COMMON_CFG);
	n = region(SLOT, VIRTIO_PCI_CAP_NOTIFY_CFG);
	mmio(c + VIRTIO_PCI_COMMON_STATUS, 0, 1, true);
	mmio(c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1, true);
	mmio(c + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1,
	     true);
	mmio(c + VIRTIO_PCI_COMMON_DFSELECT, 1, 4, true);
	mmio(c + VIRTIO_PCI_COMMON_DF, 0, 4, false);
	mmio(c + VIRTIO_PCI_COMMON_GFSELECT, 1, 4, true);
	mmio(c + VIRTIO_PCI_COMMON_GF, 1, 4, true); /* VERSION_1 */
	mmio(c + VIRTIO_PCI_COMMON_STATUS, 0xb, 1, true);
	mmio(c + VIRTIO_PCI_COMMON_STATUS, 0, 1, false);
	mmio(c + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2, true);
	mmio(c + VIRTIO_PCI_COMMON_Q_SIZE, 64, 2, true);
	mmio(c + VIRTIO_PCI_COMMON_Q_DESCLO, 0x10000, 4, true);
	mmio(c + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2, true);
	mmio(region(SLOT, VIRTIO_PCI_CAP_DEVICE_CFG), 0, 8, false); /* capacity */
	mmio(c + VIRTIO_PCI_COMMON_STATUS, 0xf, 1, true);
	mmio(n, 0, 2, true); /* queue 0 */
	mmio(c + VIRTIO_PCI_COMMON_STATUS, 0, 1, true);
}

/* The next record of event ev from *at on; its index, or -1 (and *at stays). */
static long next(const struct trace_file *tf, size_t *at, enum trace_event ev)
{
	for (size_t i = *at; i < tf->nrec; i++)
		if (tf->rec[i].ev == ev) {
			*at = i + 1;
			return i;
		}
	return -1;
}

static const char *arg(const struct trace_file *tf, long i, unsigned k)
{
	static char buf[8][256];
	static unsigned n;
	if (i < 0)
		return "(missing)";
	return trace_decode_arg(tf, &tf->rec[i], k, buf[n++ % 8], sizeof(buf[0]));
}

int main(void)
{
	char path[] = "/tmp/kvmscope-points-XXXXXX", err[256] = "";
	struct trace_options o = {.path = path, .events = "*"};
	struct trace_file tf;
	size_t at = 0;

	close(mkstemp(path));
	CHECK(trace_start(&o) == 0, "trace_start before the devices exist");
	CHECK(harness_init() == 0, "a PCI bus without KVM");
	CHECK(virtio_dev_init(&vdev, &vm, &mem, &ops, NULL) == 0 &&
		  virtio_pci_create(&pci, &vdev, VIRTIO_PCI_MODERN, true) == 0,
	      "a modern virtio-pci device with MSI-X");
	handshake();
	CHECK(notifies == 1, "the driver's notify reached the device");
	trace_stop();
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0 && !tf.warning[0],
	      "the trace reads back (%s)", err);

	/* host side first: the device's own init path */
	long hf = next(&tf, &at, TRACE_EV_HOST_FEATURES);
	CHECK(hf >= 0 && strstr(arg(&tf, hf, 0), "F_VERSION_1"), "host_features: %s",
	      arg(&tf, hf, 0));
	CHECK(next(&tf, &at, TRACE_EV_QUEUE_ADD) >= 0, "queue_add");
	long br = next(&tf, &at, TRACE_EV_BAR_REGISTER);
	CHECK(br >= 0, "bar_register: BAR%s %s", arg(&tf, br, 0), arg(&tf, br, 2));
	CHECK(next(&tf, &at, TRACE_EV_MSIX_ALLOC) >= 0, "msix_alloc");
	long dc = next(&tf, &at, TRACE_EV_DEV_CREATE);
	CHECK(dc >= 0 && tf.rec[dc].a[0] == SLOT &&
		  !strcmp(trace_file_str(&tf, tf.names.dev[tf.rec[dc].dev].name), "blk-under-test"),
	      "dev_create: slot %s, named", arg(&tf, dc, 0));
	long cs = next(&tf, &at, TRACE_EV_CFG_SPACE_BUILT);
	CHECK(cs >= 0 && !strcmp(arg(&tf, cs, 1), "0x1042"), "cfg_space_built: device %s",
	      arg(&tf, cs, 1));

	/* the guest side, in the order the driver went */
	long w = next(&tf, &at, TRACE_EV_PCI_CFG_WRITE);
	CHECK(w >= 0 && !strcmp(arg(&tf, w, 0), "command"), "pci_cfg_write off=%s", arg(&tf, w, 0));
	long bm = next(&tf, &at, TRACE_EV_BAR_MAP);
	CHECK(bm >= 0, "bar_map BAR%s at %s", arg(&tf, bm, 0), arg(&tf, bm, 1));
	long rd = next(&tf, &at, TRACE_EV_PCI_CFG_READ);
	CHECK(rd >= 0, "pci_cfg_read off=%s cap=%s", arg(&tf, rd, 0), arg(&tf, rd, 3));
	bool named = false;
	for (size_t i = rd; rd >= 0 && i < tf.nrec; i++)
		named |= tf.rec[i].ev == TRACE_EV_PCI_CFG_READ &&
			 !strcmp(arg(&tf, i, 0), "virtio-common.cfg_type");
	CHECK(named, "a read inside a virtio capability names its field");
	long reset = next(&tf, &at, TRACE_EV_DEVICE_RESET); /* after status old=0 new=0 */
	long ack = next(&tf, &at, TRACE_EV_VIRTIO_STATUS);
	CHECK(reset >= 0 && ack >= 0 && !strcmp(arg(&tf, ack, 1), "ACKNOWLEDGE"),
	      "reset, then status %s", arg(&tf, ack, 1));
	long drv = next(&tf, &at, TRACE_EV_VIRTIO_STATUS);
	CHECK(!strcmp(arg(&tf, drv, 1), "ACKNOWLEDGE|DRIVER"), "status %s", arg(&tf, drv, 1));
	long df = next(&tf, &at, TRACE_EV_DEVICE_FEATURES_READ);
	CHECK(df >= 0 && !strcmp(arg(&tf, df, 1), "F_VERSION_1"), "device_features_read sel=%s %s",
	      arg(&tf, df, 0), arg(&tf, df, 1));
	long gf = next(&tf, &at, TRACE_EV_DRIVER_FEATURES_WRITE);
	CHECK(gf >= 0 && !strcmp(arg(&tf, gf, 1), "F_VERSION_1"), "driver_features_write %s",
	      arg(&tf, gf, 1));
	long fo = next(&tf, &at, TRACE_EV_FEATURES_OK);
	CHECK(fo >= 0 && !strcmp(arg(&tf, fo, 0), "F_VERSION_1"), "features_ok %s",
	      arg(&tf, fo, 0));
	long st = next(&tf, &at, TRACE_EV_COMMON_CFG_READ);
	CHECK(st >= 0 && !strcmp(arg(&tf, st, 0), "common.device_status") && tf.rec[st].a[2] == 0xb,
	      "the driver reads FEATURES_OK back: %s=%s", arg(&tf, st, 0), arg(&tf, st, 2));
	CHECK(next(&tf, &at, TRACE_EV_QUEUE_SELECT) >= 0, "queue_select");
	long qs = next(&tf, &at, TRACE_EV_QUEUE_SIZE);
	CHECK(qs >= 0 && tf.rec[qs].a[1] == 64 && !strcmp(arg(&tf, qs, 2), "write"),
	      "queue_size 64 written");
	long qd = next(&tf, &at, TRACE_EV_QUEUE_DESC);
	CHECK(qd >= 0 && tf.rec[qd].a[1] == 0x10000, "queue_desc %s", arg(&tf, qd, 1));
	CHECK(next(&tf, &at, TRACE_EV_QUEUE_ENABLE) >= 0, "queue_enable");
	long cr = next(&tf, &at, TRACE_EV_CONFIG_READ);
	CHECK(cr >= 0 && !strcmp(arg(&tf, cr, 0), "capacity") && tf.rec[cr].a[2] == 0x40,
	      "config_read %s=%s", arg(&tf, cr, 0), arg(&tf, cr, 2));
	long ok = next(&tf, &at, TRACE_EV_VIRTIO_STATUS);
	CHECK(ok >= 0 && strstr(arg(&tf, ok, 1), "DRIVER_OK"), "status %s", arg(&tf, ok, 1));
	long qn = next(&tf, &at, TRACE_EV_QUEUE_NOTIFY);
	CHECK(qn >= 0 && !strcmp(arg(&tf, qn, 1), "exit"), "queue_notify via %s", arg(&tf, qn, 1));
	CHECK(next(&tf, &at, TRACE_EV_DEVICE_RESET) >= 0, "and the final reset");
	const char *fn = trace_file_str(&tf, tf.names.site[tf.rec[ok].site].func);
	CHECK(!strcmp(fn, "virtio_set_status"), "the emitting function is recorded: %s", fn);

	trace_file_free(&tf);
	pci_destroy(&pci);
	unlink(path);
	return CHECK_DONE();
}
