/* tests/unit/test_import.c - `kvmscope import qemu` on the real QEMU 7.2 logs committed in
 * tests/fixtures (made by guest/qemu-trace.sh), on the log format's variants, and on bad input. */
#include <linux/virtio_blk.h>
#include <glob.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "trace/compare/compare.h"

#define ACK	VIRTIO_CONFIG_S_ACKNOWLEDGE
#define DRV	VIRTIO_CONFIG_S_DRIVER
#define FEAT_OK VIRTIO_CONFIG_S_FEATURES_OK
#define DRV_OK	VIRTIO_CONFIG_S_DRIVER_OK

struct result {
	struct trace_file tf;
	struct trace_build b; /* the counts */
	char diag[4096];      /* what the importer reported */
	int ret;
	char err[512];
};

static void import(struct result *r, const char *path)
{
	memset(r, 0, sizeof(*r));
	FILE *diag = fmemopen(r->diag, sizeof(r->diag) - 1, "w");
	if (trace_build_init(&r->b, path)) {
		r->ret = -1;
		return;
	}
	r->b.diag = diag;
	r->ret = trace_import_path(&r->b, path, false, r->err, sizeof(r->err));
	fclose(diag);
	if (r->ret)
		trace_build_free(&r->b);
	else
		trace_build_finish(&r->b, &r->tf);
}

static bool import_ok(struct result *r, const char *path)
{
	import(r, path);
	CHECK(r->ret == 0, "%s imports (%s)", path, r->err);
	return r->ret == 0;
}

/* A log written from text, for the format's corner cases. */
static void import_text(struct result *r, const char *text)
{
	char path[] = "/tmp/kvmscope-test-import-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror("test_import: temporary log");
	close(fd);
	import(r, path);
	unlink(path);
}

static size_t count(const struct trace_file *tf, unsigned ev)
{
	size_t n = 0;
	for (size_t i = 0; i < tf->nrec; i++)
		n += tf->rec[i].ev == ev;
	return n;
}

/* The new status values, in order, as "0 3 7 ..." */
static const char *statuses(const struct trace_file *tf, char *buf, size_t len)
{
	buf[0] = 0;
	for (size_t i = 0; i < tf->nrec; i++)
		if (tf->rec[i].ev == TRACE_EV_VIRTIO_STATUS)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%llu", buf[0] ? " " : "",
				 (unsigned long long)trace_rec_arg(&tf->rec[i], "new", 99));
	return buf;
}

static const char *info(const struct trace_file *tf, const char *key)
{
	static char buf[256];
	return trace_file_info(tf, key, buf, sizeof(buf)) ? buf : "";
}

static const struct trace_rec *nth(const struct trace_file *tf, unsigned ev, size_t n)
{
	for (size_t i = 0; i < tf->nrec; i++)
		if (tf->rec[i].ev == ev && n-- == 0)
			return &tf->rec[i];
	return NULL;
}

static void test_legacy(void)
{
	struct result r;
	char buf[512];
	if (!import_ok(&r, "tests/fixtures/qemu-legacy.log"))
		return;
	const struct trace_file *tf = &r.tf;
	CHECK(r.b.lines == 828 && r.b.events == 828 && r.b.skipped == 0 && r.b.malformed == 0,
	      "legacy: 828 lines, all trace events, none malformed (%zu %zu %zu %zu)", r.b.lines,
	      r.b.events, r.b.skipped, r.b.malformed);
	CHECK(count(tf, TRACE_EV_PCI_CFG_READ) == 438 && count(tf, TRACE_EV_PCI_CFG_WRITE) == 246,
	      "legacy: 438 config reads and 246 writes, as the log's pci_cfg lines");
	CHECK(count(tf, TRACE_EV_BAR_MAP) == 24 && count(tf, TRACE_EV_BAR_UNMAP) == 21,
	      "legacy: 24 BAR mappings added, 21 removed");
	CHECK(!strcmp(statuses(tf, buf, sizeof(buf)), "0 0 0 0 0 0 3 7 0 0 1 3 7 0 0 0"),
	      "legacy: status sequence: machine reset, SeaBIOS 3 7, Linux 0 1 3 7, reboot (%s)",
	      buf);
	CHECK(count(tf, TRACE_EV_FEATURES_OK) == 0 &&
		  count(tf, TRACE_EV_DRIVER_FEATURES_WRITE) == 0,
	      "legacy: no FEATURES_OK (legacy has none) and no feature words (QEMU logs none)");
	CHECK(count(tf, TRACE_EV_CHAIN_POP) == 5 && count(tf, TRACE_EV_REQ_COMPLETE) == 5 &&
		  count(tf, TRACE_EV_USED_PUSH) == 5 && count(tf, TRACE_EV_IRQ_RAISE) == 5,
	      "legacy: 5 requests popped, completed, published, interrupted");
	static const unsigned types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
					 VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_IN};
	static const unsigned sectors[] = {0, 2048, 2048, 0, 2048},
			      bytes[] = {4096, 65536, 65536, 0, 65536};
	bool same = true;
	for (size_t i = 0; i < 5; i++) {
		const struct trace_rec *p = nth(tf, TRACE_EV_CHAIN_POP, i);
		same &= p && trace_rec_arg(p, "type", 99) == types[i] &&
			trace_rec_arg(p, "sector", 99) == sectors[i] &&
			trace_rec_arg(p, "bytes", 99) == bytes[i] &&
			trace_rec_arg(p, "head", 0) == i + 1;
	}
	CHECK(same, "legacy: requests read 0+4K, read/write/flush/read 1 MiB+64K, numbered 1..5");
	const struct trace_rec *c = nth(tf, TRACE_EV_REQ_COMPLETE, 0);
	CHECK(c && trace_rec_arg(c, "written", 0) == 4097 && trace_rec_arg(c, "ns", 0) == 8781000,
	      "legacy: first completion: 4097 bytes to the guest, 8.781 ms after its pop");
	const struct trace_rec *n = nth(tf, TRACE_EV_QUEUE_NOTIFY, 0);
	CHECK(count(tf, TRACE_EV_QUEUE_NOTIFY) == 7 && n &&
		  trace_rec_arg(n, "via", 9) == TRACE_VIA_IOEVENTFD &&
		  TRACE_TID_KIND(n->tid) == TRACE_THREAD_MAIN,
	      "legacy: 7 notifies, by ioeventfd, handled in QEMU's main loop");
	const struct trace_rec *i0 = nth(tf, TRACE_EV_IRQ_RAISE, 0);
	CHECK(i0 && trace_rec_arg(i0, "kind", 9) == TRACE_IRQ_MSIX_IRQFD,
	      "legacy: interrupts by MSI-X through irqfd");
	CHECK(count(tf, TRACE_EV_MSIX_ENABLE) == 2 && count(tf, TRACE_EV_BACKEND_START) == 2,
	      "legacy: MSI-X enabled (masked, then unmasked); data plane started twice");
	CHECK(tf->names.ndev == 6 &&
		  !strcmp(trace_file_str(tf, tf->names.dev[5].name), "virtio-blk-pci 00:02.0") &&
		  tf->names.dev[5].kind == 2,
	      "legacy: 5 PCI devices; the virtio one is virtio-blk-pci 00:02.0, a block device");
	const struct trace_rec *s = nth(tf, TRACE_EV_VIRTIO_STATUS, 0);
	CHECK(s && s->dev == 5, "legacy: status writes belong to the PCI device");
	CHECK(!strcmp(info(tf, "transport"), "legacy") &&
		  !strcmp(info(tf, "qemu_threads"), "21965=vcpu0 21960=main"),
	      "legacy: info says legacy and names QEMU's threads");
	CHECK(!strcmp(info(tf, "qemu_host_features"), "0x10071006ed4") &&
		  !strcmp(info(tf, "qemu_guest_features"), "0x30006e54") &&
		  !strcmp(info(tf, "qemu_queue0"),
			  "size=256 desc=0x22c000 driver=0x22d000 device=0x22e000"),
	      "legacy: QEMU's monitor's answers beside the log: features offered and accepted, "
	      "queue 0");
	CHECK(count(tf, TRACE_EV_IMPORTED) == r.b.raw && r.b.raw == 41,
	      "legacy: the 41 events with no counterpart kept as 'imported'");
	trace_file_free(&r.tf);
}

static void test_modern(void)
{
	struct result r;
	char buf[512];
	if (!import_ok(&r, "tests/fixtures/qemu-modern.log"))
		return;
	const struct trace_file *tf = &r.tf;
	CHECK(r.b.events == 1026 && r.b.malformed == 0, "modern: 1026 events, none malformed");
	CHECK(!strcmp(statuses(tf, buf, sizeof(buf)),
		      "0 0 0 0 0 0 0 0 0 3 11 15 0 0 1 3 11 15 0 0 0"),
	      "modern: status sequence with FEATURES_OK: SeaBIOS 3 11 15, Linux 1 3 11 15 (%s)",
	      buf);
	CHECK(!strcmp(info(tf, "transport"), "modern"), "modern: info says modern");
	CHECK(!strcmp(info(tf, "qemu_guest_features"), "0x10130006e54"),
	      "modern: the driver accepted VERSION_1 (bit 32) and RING_RESET (bit 40)");
	size_t caps = 0;
	for (size_t i = 0; i < tf->nrec; i++)
		caps += tf->rec[i].ev == TRACE_EV_PCI_CFG_READ &&
			trace_rec_arg(&tf->rec[i], "cap", 0) == TRACE_PCI_CAP(0x70, 9, 2);
	CHECK(caps > 0, "modern: reads in the notify capability at 0x70 are named as such (%zu)",
	      caps);
	const struct trace_rec *m = NULL;
	for (size_t i = 0; i < tf->nrec && !m; i++)
		if (tf->rec[i].ev == TRACE_EV_BAR_MAP && tf->rec[i].dev == 5 &&
		    trace_rec_arg(&tf->rec[i], "bar", 0) == 4)
			m = &tf->rec[i];
	CHECK(m && trace_rec_arg(m, "size", 0) == 0x4000 && trace_rec_arg(m, "type", 0) == 0xc,
	      "modern: BAR4 is 16 KiB of 64-bit prefetchable memory");
	trace_file_free(&r.tf);
}

static void test_ioeventfd_off(void)
{
	struct result r;
	if (!import_ok(&r, "tests/fixtures/qemu-legacy-ioeventfd-off.log"))
		return;
	const struct trace_file *tf = &r.tf;
	bool all_exit = count(tf, TRACE_EV_QUEUE_NOTIFY) == 5;
	for (size_t i = 0; i < 5; i++) {
		const struct trace_rec *n = nth(tf, TRACE_EV_QUEUE_NOTIFY, i);
		all_exit &= n && trace_rec_arg(n, "via", 9) == TRACE_VIA_EXIT &&
			    TRACE_TID_KIND(n->tid) == TRACE_THREAD_VCPU;
	}
	CHECK(all_exit, "ioeventfd=off: 5 notifies, each by exit on the vCPU thread");
	const struct trace_rec *i0 = nth(tf, TRACE_EV_IRQ_RAISE, 0);
	CHECK(i0 && trace_rec_arg(i0, "kind", 9) == TRACE_IRQ_MSIX,
	      "ioeventfd=off: interrupts by MSI-X from QEMU (no irqfd)");
	CHECK(count(tf, TRACE_EV_BACKEND_START) == 0, "ioeventfd=off: no data plane");
	trace_file_free(&r.tf);
}

static void test_formats(void)
{
	struct result r;
	import_text(&r, "virtio_set_status vdev 0x5555 val 0\n"
			"[    1.0] console line\n"
			"qemu-system-x86_64: warning: something\n"
			"2026-11-25T14:32:00.123456Z qemu-system-x86_64: a message\n"
			"virtio_set_status vdev 0x5555 val 1\n"
			"some_new_event a=1 b=(nil)\n");
	CHECK(r.ret == 0 && r.b.events == 3 && r.b.skipped == 3 && r.tf.nrec == 3,
	      "no timestamps: 3 events, 3 other lines skipped (%d %zu %zu)", r.ret, r.b.events,
	      r.b.skipped);
	const struct trace_rec *raw = r.ret ? NULL : nth(&r.tf, TRACE_EV_IMPORTED, 0);
	CHECK(
	    raw &&
		!strcmp(trace_file_str(&r.tf, trace_rec_arg(raw, "event", 0)), "some_new_event") &&
		!strcmp(trace_file_str(&r.tf, trace_rec_arg(raw, "args", 0)), "a=1 b=(nil)") &&
		trace_rec_arg(raw, "line", 0) == 6,
	    "an unknown event is kept with its text and line number");
	CHECK(r.ret == 0 && r.tf.rec[0].ts == 0 && !strcmp(info(&r.tf, "transport"), "legacy"),
	      "no timestamps: times are 0");
	if (!r.ret)
		trace_file_free(&r.tf);

	import_text(&r, "1@1.000001:virtio_set_status vdev 0x5 val 0\n"
			"1@1.000002:virtio_set_status vdev 0x5 val\n"
			"1@x:virtio_set_status vdev 0x5 val 1\n"
			"1@1.000004:virtio_set_status vdev (nil) val 1\n");
	CHECK(r.ret == 0 && r.b.malformed == 2 && r.b.events == 3,
	      "malformed lines are counted, the rest imported (%zu malformed)", r.b.malformed);
	CHECK(strstr(r.diag, ":2: virtio_set_status: arguments 'vdev 0x5 val' do not match") &&
		  strstr(r.diag, ":3: expected TID@SECONDS.MICROS:event"),
	      "malformed lines are reported with their line numbers:\n%s", r.diag);
	CHECK(r.ret == 0 && count(&r.tf, TRACE_EV_IMPORTED) == 1 && r.tf.rec[0].ts == 1000001000,
	      "a malformed known event is kept as 'imported'; timestamps in ns");
	if (!r.ret)
		trace_file_free(&r.tf);
}

static void test_bad_input(void)
{
	struct result r;
	import_text(&r, "");
	CHECK(r.ret < 0 && strstr(r.err, "no QEMU trace events"), "an empty file is refused: %s",
	      r.err);
	import_text(&r, "Linux version 6.1\nhello world\n");
	CHECK(r.ret < 0 && strstr(r.err, "in 2 lines"), "a console log is refused: %s", r.err);
	import(&r, "/nonexistent/qemu.log");
	CHECK(r.ret < 0 && strstr(r.err, "No such file"), "a missing file names itself: %s", r.err);
}

/* Saved, read back by the reader: the same records and names. */
static void test_save(void)
{
	struct result r;
	struct trace_file back;
	char err[512], path[] = "/tmp/kvmscope-test-import-XXXXXX";
	import(&r, "tests/fixtures/qemu-modern.log");
	int fd = mkstemp(path);
	close(fd);
	CHECK(r.ret == 0 && trace_file_save(&r.tf, path, err, sizeof(err)) == 0, "saved (%s)", err);
	int ret = trace_file_load(&back, path, err, sizeof(err));
	CHECK(ret == 0 && !back.warning[0] && back.ended, "read back with no warning (%s)", err);
	if (ret == 0 && r.ret == 0) {
		CHECK(back.nrec == r.tf.nrec &&
			  !memcmp(back.rec, r.tf.rec, back.nrec * sizeof(*back.rec)),
		      "the same %zu records", back.nrec);
		CHECK(back.names.nstr == r.tf.names.nstr && back.names.ndev == r.tf.names.ndev &&
			  back.names.nsite == r.tf.names.nsite &&
			  back.hdr.start_ns == r.tf.hdr.start_ns && back.info_len == r.tf.info_len,
		      "the same strings, devices, sites, start and info");
		trace_file_free(&back);
	}
	if (r.ret == 0)
		trace_file_free(&r.tf);
	unlink(path);
}

/* What QEMU does not log is marked, not made up: "?" in the decoder (dump, view, diff), and the
 * mark, the log line and its text survive a save; a file without ORIGIN chunks (written before
 * they existed, or by kvmscope itself) reads with every value known. */
static void test_unknown(void)
{
	struct result r;
	struct trace_file back;
	char err[512] = "", buf[256], src[128], path[] = "/tmp/kvmscope-test-import-XXXXXX";
	if (!import_ok(&r, "tests/fixtures/qemu-modern.log"))
		return;
	const struct trace_rec *n = nth(&r.tf, TRACE_EV_QUEUE_NOTIFY, 0);
	const struct trace_rec *irq = nth(&r.tf, TRACE_EV_IRQ_RAISE, 0);
	const struct trace_rec *cfg = nth(&r.tf, TRACE_EV_PCI_CFG_READ, 0);
	CHECK(n && trace_arg_unknown(&r.tf, n, 2) && !trace_arg_unknown(&r.tf, n, 0) &&
		  !strcmp(trace_decode_arg(&r.tf, n, 2, buf, sizeof(buf)), "?"),
	      "queue_notify: avail_idx is not in QEMU's log: '?' (%s), the queue is known", buf);
	CHECK(irq && !strcmp(trace_decode_arg(&r.tf, irq, 2, buf, sizeof(buf)), "?") &&
		  !trace_arg_unknown(&r.tf, irq, 1),
	      "irq_raise: vector '?', the kind known from Message Control (%s)", buf);
	CHECK(cfg && !strcmp(trace_decode_arg(&r.tf, cfg, 1, buf, sizeof(buf)), "?"),
	      "pci_cfg_read: the access width is '?'");
	const struct trace_origin *o = n ? trace_file_origin(&r.tf, n) : NULL;
	CHECK(o && o->line == 339 &&
		  strstr(trace_file_str(&r.tf, o->raw), "virtio_queue_notify vdev") &&
		  !strcmp(trace_rec_source(&r.tf, n, src, sizeof(src)), "QEMU 7.2 log, line 339"),
	      "the first notify names its source and keeps its line: %s",
	      n ? trace_rec_source(&r.tf, n, src, sizeof(src)) : "none");
	size_t idx = n ? (size_t)(n - r.tf.rec) : 0;

	int fd = mkstemp(path);
	close(fd);
	int ret = trace_file_save(&r.tf, path, err, sizeof(err));
	ret = ret ? ret : trace_file_load(&back, path, err, sizeof(err));
	CHECK(ret == 0, "saved with its origins and read back (%s)", err);
	if (ret == 0) {
		CHECK(
		    back.norigin == r.tf.norigin && back.norigin == r.tf.nrec &&
			!memcmp(back.origin, r.tf.origin, back.norigin * sizeof(*back.origin)) &&
			!strcmp(trace_decode_arg(&back, &back.rec[idx], 2, buf, sizeof(buf)), "?"),
		    "every imported record keeps its origin (%zu) and its '?'", back.norigin);
		trace_file_free(&back);
	}
	/* the file as it was before origins: the same records, no ORIGIN chunk */
	size_t norigin = r.tf.norigin;
	r.tf.norigin = 0;
	ret = trace_file_save(&r.tf, path, err, sizeof(err));
	ret = ret ? ret : trace_file_load(&back, path, err, sizeof(err));
	CHECK(ret == 0, "a file without origins reads (%s)", err);
	r.tf.norigin = norigin;
	if (ret == 0) {
		CHECK(
		    !back.origin && !trace_arg_unknown(&back, &back.rec[idx], 2) &&
			!trace_rec_source(&back, &back.rec[idx], src, sizeof(src)) &&
			!strcmp(trace_decode_arg(&back, &back.rec[idx], 2, buf, sizeof(buf)), "0"),
		    "without origins every value is known, as before (avail_idx %s)", buf);
		trace_file_free(&back);
	}
	unlink(path);
	trace_file_free(&r.tf);
}

/* A log with no msix_* events: MSI-X on by a config write is MSI-X, not INTx; no sight of
 * Message Control at all is "?", not a guess. */
static void test_msix_unlogged(void)
{
	static const char head[] =
	    "1@1.000001:pci_cfg_read virtio-blk-pci 00:02.0 @0x34 -> 0x98\n"
	    "1@1.000002:pci_cfg_read virtio-blk-pci 00:02.0 @0x98 -> 0x1f0011\n";
	static const char tail[] = "2@1.000004:virtio_set_status vdev 0x10 val 15\n"
				   "2@1.000005:virtio_notify_irqfd vdev 0x10 vq 0x20\n"
				   "2@1.000006:virtio_blk_rw_complete vdev 0x10 req 0x30 ret 0\n";
	char text[1024], buf[64];
	struct result r;
	snprintf(text, sizeof(text), "%s%s%s", head,
		 "1@1.000003:pci_cfg_write virtio-blk-pci 00:02.0 @0x9a <- 0x801f\n", tail);
	import_text(&r, text);
	const struct trace_rec *irq = r.ret ? NULL : nth(&r.tf, TRACE_EV_IRQ_RAISE, 0);
	CHECK(irq && trace_rec_arg(irq, "kind", 9) == TRACE_IRQ_MSIX_IRQFD &&
		  !trace_arg_unknown(&r.tf, irq, 1),
	      "MSI-X enabled by pci_cfg_write, no msix_* events: the interrupt is MSI-X (%s)",
	      irq ? trace_decode_arg(&r.tf, irq, 1, buf, sizeof(buf)) : "none");
	if (!r.ret)
		trace_file_free(&r.tf);
	import_text(&r, tail);
	irq = r.ret ? NULL : nth(&r.tf, TRACE_EV_IRQ_RAISE, 0);
	CHECK(irq && !strcmp(trace_decode_arg(&r.tf, irq, 1, buf, sizeof(buf)), "?"),
	      "no sight of MSI-X Message Control: the interrupt's kind is '?' (%s)",
	      irq ? buf : "none");
	if (!r.ret)
		trace_file_free(&r.tf);
}

/* More devices and queues than the importer's arrays first hold (16): what it knows of a queue
 * (its device, its requests) must survive the arrays growing. */
static void test_many_queues(void)
{
	struct result r;
	size_t cap = 1 << 16, at = 0;
	char *log = malloc(cap);
	/* 20 devices with one notified queue each; the first starts its data plane */
	for (int d = 0; d < 20; d++)
		at += snprintf(log + at, cap - at, "virtio_queue_notify vdev 0x%x n 0 vq 0x%x\n",
			       0x1000 + d, 0x5000 + d);
	at += snprintf(log + at, cap - at,
		       "virtio_set_status vdev 0x1000 val 15\n"
		       "virtio_blk_data_plane_start dataplane 0x9000\n");
	/* one device with 20 queues seen first in virtqueue_pop, each request completed later */
	for (int q = 0; q < 20; q++)
		at += snprintf(log + at, cap - at,
			       "virtqueue_pop vq 0x%x elem 0x%x in_num 2 out_num 1\n", 0x7000 + q,
			       0x8000 + q);
	for (int q = 0; q < 20; q++)
		at += snprintf(log + at, cap - at,
			       "virtio_blk_req_complete vdev 0x2000 req 0x%x status 0\n"
			       "virtqueue_fill vq 0x%x elem 0x%x len 1 idx 0\n"
			       "virtqueue_flush vq 0x%x count 1\n",
			       0x8000 + q, 0x7000 + q, 0x8000 + q, 0x7000 + q);
	import_text(&r, log);
	free(log);
	CHECK(r.ret == 0, "20 devices, 20 queues: imports (%s)", r.err);
	const struct trace_rec *start = nth(&r.tf, TRACE_EV_BACKEND_START, 0);
	CHECK(start && trace_rec_arg(start, "queues", 0) == 1,
	      "20 devices: the first one's data plane serves its 1 queue (%llu)",
	      start ? (unsigned long long)trace_rec_arg(start, "queues", 0) : 0ULL);
	CHECK(count(&r.tf, TRACE_EV_REQ_COMPLETE) == 20 && count(&r.tf, TRACE_EV_USED_PUSH) == 20,
	      "20 queues: every request completed and pushed (%zu, %zu)",
	      count(&r.tf, TRACE_EV_REQ_COMPLETE), count(&r.tf, TRACE_EV_USED_PUSH));
	bool queues_ok = true;
	for (int q = 0; q < 20; q++) {
		const struct trace_rec *p = nth(&r.tf, TRACE_EV_USED_PUSH, q);
		queues_ok &= p && trace_rec_arg(p, "queue", 99) == (uint64_t)q;
	}
	CHECK(queues_ok, "20 queues: each used_push names its queue 0..19 in order");
	if (!r.ret)
		trace_file_free(&r.tf);
}

/* QEMU 7.2 with -smp 2 gives virtio-blk two queues (num-queues follows the vCPUs): every queue
 * event keeps QEMU's queue index (from virtio_queue_notify's n), each queue's monitor answer is
 * read, and the vq pointers of the log map to queues 0 and 1 consistently. */
static void test_smp2(void)
{
	struct result r;
	if (!import_ok(&r, "tests/fixtures/qemu-modern-smp2.log"))
		return;
	size_t per[2][4] = {{0}}, other = 0;
	static const unsigned evs[] = {TRACE_EV_QUEUE_NOTIFY, TRACE_EV_CHAIN_POP,
				       TRACE_EV_REQ_COMPLETE, TRACE_EV_IRQ_RAISE};
	for (size_t i = 0; i < r.tf.nrec; i++)
		for (int k = 0; k < 4; k++)
			if (r.tf.rec[i].ev == evs[k]) {
				uint64_t q = trace_rec_arg(&r.tf.rec[i], "queue", 99);
				if (q < 2)
					per[q][k]++;
				else
					other++;
			}
	CHECK(!other && per[0][1] == 1 && per[1][1] == 4 && per[0][0] == 3 && per[1][0] == 5 &&
		  per[0][2] == per[0][1] && per[1][2] == per[1][1] && per[0][3] == 1 &&
		  per[1][3] == 4,
	      "-smp 2: queue 0 has 1 request (3 notifies), queue 1 has 4 (5 notifies), each "
	      "completion and interrupt on its request's queue (%zu outside 0-1)",
	      other);
	const struct trace_rec *start = nth(&r.tf, TRACE_EV_BACKEND_START, 0);
	CHECK(start && trace_rec_arg(start, "queues", 0) == 2,
	      "-smp 2: the data plane serves 2 queues");
	CHECK(!strcmp(info(&r.tf, "qemu_num_vqs"), "2") &&
		  !strncmp(info(&r.tf, "qemu_queue0"), "size=256 desc=0x240000 ", 23) &&
		  !strncmp(info(&r.tf, "qemu_queue1"), "size=256 desc=0x242000 ", 23) &&
		  strtoull(info(&r.tf, "qemu_host_features"), NULL, 16) & 1ULL << VIRTIO_BLK_F_MQ,
	      "-smp 2: the monitor's answers for the device (MQ offered, 2 queues) and each queue "
	      "(%s)",
	      info(&r.tf, "qemu_queue1"));
	trace_file_free(&r.tf);

	if (!import_ok(&r, "tests/fixtures/qemu-modern-only.log"))
		return;
	bool id = false, bar0 = false;
	for (size_t i = 0; i < r.tf.nrec; i++) {
		const struct trace_rec *c = &r.tf.rec[i];
		id |= c->ev == TRACE_EV_PCI_CFG_READ && trace_rec_arg(c, "off", 1) == 0 &&
		      trace_rec_arg(c, "val", 0) == 0x10421af4;
		bar0 |= c->ev == TRACE_EV_BAR_MAP && trace_rec_arg(c, "bar", 9) == 0;
	}
	CHECK(id && !bar0 && !strcmp(info(&r.tf, "transport"), "modern"),
	      "modern-only: device 1af4:1042 (virtio 1.x only), no BAR0 ever mapped");
	trace_file_free(&r.tf);
}

/* -smp 2: QEMU 7.2 gives the device two queues; the monitor's snapshot answers for each, and
 * the import keeps both (it once kept the first device's first two answers: status and queue 0). */
static void test_smp2_snapshot(void)
{
	struct result r;
	if (!import_ok(&r, "tests/fixtures/qemu-modern-smp2.log"))
		return;
	const struct trace_file *tf = &r.tf;
	CHECK(!strcmp(info(tf, "qemu_queue0"),
		      "size=256 desc=0x240000 driver=0x241000 device=0x241240") &&
		  !strcmp(info(tf, "qemu_queue1"),
			  "size=256 desc=0x242000 driver=0x243000 device=0x243240"),
	      "smp2: both queues of QEMU's monitor snapshot (%s)", info(tf, "qemu_queue1"));
	trace_file_free(&r.tf);
}

/* Every QEMU log in tests/fixtures (a new one is covered by being there): it imports with no
 * malformed line, Linux's session reaches DRIVER_OK, and its -status.log snapshot is read. */
static void test_every_fixture(void)
{
	glob_t g;
	size_t logs = 0;
	char status[600];
	if (glob("tests/fixtures/qemu-*.log", 0, NULL, &g)) {
		CHECK(false, "tests/fixtures holds QEMU logs");
		return;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		struct result r;
		if (strstr(path, "-status.log"))
			continue;
		logs++;
		if (!import_ok(&r, path))
			continue;
		bool driver_ok = false;
		for (size_t k = 0; k < r.tf.nrec; k++)
			driver_ok |= r.tf.rec[k].ev == TRACE_EV_VIRTIO_STATUS &&
				     (trace_rec_arg(&r.tf.rec[k], "new", 0) & DRV_OK);
		snprintf(status, sizeof(status), "%.*s-status.log", (int)(strlen(path) - 4), path);
		bool snap = access(status, R_OK) == 0;
		CHECK(!r.b.malformed && driver_ok && (!snap || *info(&r.tf, "qemu_host_features")),
		      "fixture %s: no malformed line (%zu), DRIVER_OK (%d), its snapshot read (%s)",
		      path, r.b.malformed, driver_ok,
		      snap ? info(&r.tf, "qemu_host_features") : "none");
		trace_file_free(&r.tf);
	}
	CHECK(logs >= 6, "every fixture: %zu QEMU logs", logs);
	globfree(&g);
}

int main(void)
{
	test_every_fixture();
	test_smp2();
	test_smp2_snapshot();
	test_msix_unlogged();
	test_unknown();
	test_legacy();
	test_modern();
	test_ioeventfd_off();
	test_formats();
	test_bad_input();
	test_save();
	test_many_queues();
	return CHECK_DONE();
}
