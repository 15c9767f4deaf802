/* tests/unit/test_diff.c - `kvmscope diff`: the alignment, traces against themselves, a changed
 * handshake, the committed QEMU logs against each other, a kvmscope-shaped trace against QEMU's
 * legacy log (every difference labelled), JSON, and bad input (exit 2). */
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "trace/compare/compare.h"

#define QEMU_LEGACY	  "tests/fixtures/qemu-legacy.log"
#define QEMU_MODERN	  "tests/fixtures/qemu-modern.log"
#define QEMU_NO_IOEVENTFD "tests/fixtures/qemu-legacy-ioeventfd-off.log"
#define QEMU_MODERN_ONLY  "tests/fixtures/qemu-modern-only.log"
#define QEMU_SMP2	  "tests/fixtures/qemu-modern-smp2.log"
#define KVMSCOPE_MODERN	  "tests/fixtures/kvmscope-modern.kvt" /* run --virtio modern, Linux */
#define KVMSCOPE_SMP2	  "tests/fixtures/kvmscope-smp2.kvt"   /* --smp 2 --blk-queues 2, Linux */

static char out[1 << 17];

/* Runs `kvmscope diff` with up to 4 arguments; its stdout and stderr in out. */
static int diff(const char *a, const char *b, const char *opt)
{
	char *argv[] = {"diff", (char *)a, (char *)b, (char *)opt, NULL};
	int argc = !a ? 1 : !b ? 2 : !opt ? 3 : 4;
	FILE *tmp = tmpfile();
	fflush(stdout);
	fflush(stderr);
	int o = dup(1), e = dup(2);
	dup2(fileno(tmp), 1);
	dup2(fileno(tmp), 2);
	int ret = diff_cmd_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(o, 1);
	dup2(e, 2);
	close(o);
	close(e);
	rewind(tmp);
	out[fread(out, 1, sizeof(out) - 1, tmp)] = 0;
	fclose(tmp);
	return ret;
}

/* --- A trace shaped like kvmscope's legacy Linux run (the events its virtio layer records). */
struct gen {
	struct trace_build b;
	uint16_t dev, site;
	uint64_t ts;
	unsigned bad; /* arguments the catalogue does not have */
};

static void rec(struct gen *g, uint16_t ev, const char *n1, uint64_t v1, const char *n2,
		uint64_t v2, const char *n3, uint64_t v3, const char *n4, uint64_t v4)
{
	struct trace_rec *r = trace_build_rec(&g->b, g->ts += 1000, ev);
	const char *names[] = {n1, n2, n3, n4};
	uint64_t vals[] = {v1, v2, v3, v4};
	r->dev = g->dev;
	r->site = g->site;
	r->tid = TRACE_TID(TRACE_THREAD_VCPU, 0);
	for (int k = 0; k < 4 && names[k]; k++)
		g->bad += trace_rec_set(r, names[k], vals[k]) < 0;
}
#define R1(g, ev, n, v)			  rec(g, TRACE_EV_##ev, n, v, NULL, 0, NULL, 0, NULL, 0)
#define R2(g, ev, n, v, m, w)		  rec(g, TRACE_EV_##ev, n, v, m, w, NULL, 0, NULL, 0)
#define R3(g, ev, n, v, m, w, o, x)	  rec(g, TRACE_EV_##ev, n, v, m, w, o, x, NULL, 0)
#define R4(g, ev, n, v, m, w, o, x, p, y) rec(g, TRACE_EV_##ev, n, v, m, w, o, x, p, y)

static void request(struct gen *g, uint64_t type, uint64_t sector, uint64_t bytes)
{
	R3(g, QUEUE_NOTIFY, "queue", 0, "via", TRACE_VIA_EXIT, "avail_idx", 1);
	R4(g, CHAIN_POP, "queue", 0, "type", type, "sector", sector, "bytes", bytes);
	R3(g, REQ_COMPLETE, "queue", 0, "status", VIRTIO_BLK_S_OK, "ns", 40000);
	R2(g, USED_PUSH, "queue", 0, "len", bytes + 1);
	R3(g, IRQ_RAISE, "queue", 0, "kind", TRACE_IRQ_MSIX, "vector", 1);
}

static void status(struct gen *g, uint64_t old, uint64_t new)
{
	R2(g, VIRTIO_STATUS, "old", old, "new", new);
	if (!new)
		R1(g, DEVICE_RESET, "old", old);
}

static void pci_write(struct gen *g, uint64_t off, uint64_t val, uint64_t cap)
{
	R4(g, PCI_CFG_WRITE, "off", off, "len", 2, "val", val, "cap", cap);
}

/* A generated trace's start: the device, its site, transport, IO path, dev_create, features. */
static void gen_begin(struct gen *g, const char *path, const char *transport, uint64_t features)
{
	*g = (struct gen){.ts = 1000000};
	trace_build_init(&g->b, path);
	g->dev = trace_build_dev(&g->b, "virtio-blk", 2);
	g->site = trace_build_site(&g->b, "test_generator", "tests/unit/test_diff.c");
	trace_build_info(&g->b, "transport", transport);
	trace_build_info(&g->b, "io_path", "vcpu");
	R2(g, DEV_CREATE, "slot", 1, "function", 0);
	R1(g, HOST_FEATURES, "features", features);
}

/* ... and its end: saved to path, checked as what. */
static void gen_end(struct gen *g, const char *path, const char *what)
{
	struct trace_file tf;
	char err[256] = "";
	bool oom = g->b.oom;
	trace_build_finish(&g->b, &tf);
	CHECK(!oom && !g->bad && trace_file_save(&tf, path, err, sizeof(err)) == 0,
	      "generator: %s, %s written %s", what, path, err);
	trace_file_free(&tf);
}

/* What kvmscope recorded of a legacy Linux boot, reduced; skip_driver: the driver forgets to set
 * DRIVER (a broken handshake). transport: what the trace says the device was; a "modern" one
 * has no I/O BAR0 (the steps stay the legacy driver's, which the BAR test does not mind).
 * command: what Linux writes to the PCI command register. */
static void write_kvmscope(const char *path, bool skip_driver, const char *transport,
			   uint64_t command)
{
	const uint64_t ack = VIRTIO_CONFIG_S_ACKNOWLEDGE, drv = VIRTIO_CONFIG_S_DRIVER;
	const uint64_t msix = TRACE_PCI_CAP(0x40, PCI_CAP_ID_MSIX, 0), ctrl = 0x42;
	const uint64_t before_ok = skip_driver ? ack : ack | drv;
	struct gen g;

	gen_begin(&g, path, transport, 0x71006ed4); /* QEMU 7.2's legacy set, no RING_RESET */
	if (strcmp(transport, "modern"))
		R4(&g, BAR_MAP, "bar", 0, "addr", 0xc000, "size", 0x80, "type",
		   PCI_BASE_ADDRESS_SPACE_IO);
	R4(&g, BAR_MAP, "bar", 1, "addr", 0xc0000000, "size", 0x1000, "type", 0);
	status(&g, 0, 0);
	status(&g, 0, ack);
	if (!skip_driver)
		status(&g, ack, ack | drv);
	R2(&g, DEVICE_FEATURES_READ, "sel", 0, "bits", 0x71006ed4);
	R2(&g, DRIVER_FEATURES_WRITE, "sel", 0, "bits", 0x30006e54);
	pci_write(&g, ctrl, 0xc001, msix);
	R2(&g, MSIX_ENABLE, "enabled", 1, "masked", 1);
	pci_write(&g, PCI_COMMAND, command, 0);
	pci_write(&g, ctrl, 0x8001, msix);
	R2(&g, MSIX_ENABLE, "enabled", 1, "masked", 0);
	R1(&g, QUEUE_SELECT, "queue", 0);
	R3(&g, QUEUE_SIZE, "queue", 0, "size", 256, "rw", TRACE_READ);
	R3(&g, QUEUE_PFN, "queue", 0, "pfn", 0x7000, "rw", TRACE_WRITE);
	R3(&g, QUEUE_MSIX_VECTOR, "queue", 0, "vector", 1, "result", 1);
	R3(&g, CONFIG_READ, "off", 0, "len", 8, "val", 0x20000);
	status(&g, before_ok, before_ok | VIRTIO_CONFIG_S_DRIVER_OK);
	request(&g, VIRTIO_BLK_T_IN, 0, 4096);
	request(&g, VIRTIO_BLK_T_IN, 2048, 65536);
	request(&g, VIRTIO_BLK_T_OUT, 2048, 65536);
	request(&g, VIRTIO_BLK_T_FLUSH, 0, 0);
	request(&g, VIRTIO_BLK_T_IN, 2048, 65536);
	status(&g, before_ok | VIRTIO_CONFIG_S_DRIVER_OK, 0);
	gen_end(&g, path, "every argument in the catalogue");
}

/* A modern kvmscope-shaped trace of a device with nq queues (VIRTIO_BLK_F_MQ when nq > 1): its
 * PCI enumeration, the handshake with each queue's setup, and requests; request k goes on queue
 * (k + shift) % nq, as Linux's blk-mq puts it on the queue of the CPU that submitted it. */
static void write_mq(const char *path, unsigned nq, unsigned shift, bool in_order)
{
	const uint64_t ack = VIRTIO_CONFIG_S_ACKNOWLEDGE, drv = VIRTIO_CONFIG_S_DRIVER;
	const uint64_t fok = VIRTIO_CONFIG_S_FEATURES_OK, dok = VIRTIO_CONFIG_S_DRIVER_OK;
	const uint64_t mq = nq > 1 ? 1ULL << VIRTIO_BLK_F_MQ : 0;
	const uint64_t msix = TRACE_PCI_CAP(0x98, PCI_CAP_ID_MSIX, 0);
	const uint64_t numq = offsetof(struct virtio_blk_config, num_queues);
	struct gen g;
	char what[32];

	const uint64_t io = in_order ? 1ULL << VIRTIO_F_IN_ORDER : 0; /* offered, not taken */

	gen_begin(&g, path, "modern", 0x179006e54 | mq | io);
	for (unsigned q = 0; q < nq; q++)
		R2(&g, QUEUE_ADD, "queue", q, "size", 256);
	R4(&g, PCI_CFG_READ, "off", PCI_VENDOR_ID, "len", 4, "val", 0x10421af4, "cap", 0);
	R4(&g, PCI_CFG_READ, "off", 0x98, "len", 2, "val", 0x8411, "cap", msix);
	pci_write(&g, PCI_BASE_ADDRESS_4, 0xffffffff, 0);
	R4(&g, PCI_CFG_READ, "off", PCI_BASE_ADDRESS_4, "len", 4, "val", 0xffffc00c, "cap", 0);
	pci_write(&g, PCI_BASE_ADDRESS_4, 0xc000400c, 0);
	R4(&g, BAR_MAP, "bar", 4, "addr", 0xc0004000, "size", 0x4000, "type", 0xc);
	status(&g, 0, 0);
	status(&g, 0, ack);
	status(&g, ack, ack | drv);
	R2(&g, DEVICE_FEATURES_READ, "sel", 0, "bits", 0x79006e54 | mq);
	R2(&g, DEVICE_FEATURES_READ, "sel", 1, "bits", 1 | io >> 32);
	R2(&g, DRIVER_FEATURES_WRITE, "sel", 0, "bits", 0x30006e54 | mq);
	R2(&g, DRIVER_FEATURES_WRITE, "sel", 1, "bits", 1);
	status(&g, ack | drv, ack | drv | fok);
	R1(&g, FEATURES_OK, "features", 0x130006e54 | mq);
	if (nq > 1)
		R3(&g, CONFIG_READ, "off", numq, "len", 2, "val", nq);
	for (unsigned q = 0; q < nq; q++) {
		R1(&g, QUEUE_SELECT, "queue", q);
		R3(&g, QUEUE_SIZE, "queue", q, "size", 256, "rw", TRACE_READ);
		R2(&g, QUEUE_DESC, "queue", q, "addr", 0x200000 + q * 0x10000);
		R2(&g, QUEUE_DRIVER, "queue", q, "addr", 0x201000 + q * 0x10000);
		R2(&g, QUEUE_DEVICE, "queue", q, "addr", 0x201240 + q * 0x10000);
		R3(&g, COMMON_CFG_READ, "reg", VIRTIO_PCI_COMMON_Q_NOFF, "len", 2, "val", q);
		R3(&g, QUEUE_ENABLE, "queue", q, "enable", 1, "rw", TRACE_WRITE);
	}
	status(&g, ack | drv | fok, ack | drv | fok | dok);
	for (unsigned k = 0; k < 4; k++) {
		unsigned q = (k + shift) % nq;
		R3(&g, QUEUE_NOTIFY, "queue", q, "via", TRACE_VIA_EXIT, "avail_idx", 1);
		R4(&g, CHAIN_POP, "queue", q, "type", VIRTIO_BLK_T_IN, "sector", 2048 * k, "bytes",
		   4096);
		R3(&g, REQ_COMPLETE, "queue", q, "status", VIRTIO_BLK_S_OK, "ns", 40000);
		R3(&g, IRQ_RAISE, "queue", q, "kind", TRACE_IRQ_MSIX, "vector", q + 1);
	}
	snprintf(what, sizeof(what), "a %u-queue device", nq);
	gen_end(&g, path, what);
}

/* CHECK, and the report it was about when it fails. */
#define CHECK_OUT(cond, ...)                                                                       \
	do {                                                                                       \
		int failed_ = check_failed;                                                        \
		CHECK(cond, __VA_ARGS__);                                                          \
		if (check_failed > failed_)                                                        \
			fputs(out, stdout);                                                        \
	} while (0)

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* --- The tests. --- */
static int cmp_chars(void *ctx, size_t i, size_t j)
{
	const char *const *s = ctx;
	return s[0][i] == s[1][j] ? 0 : 1;
}

static void test_edit(void)
{
	const char *s[] = {"reset ACK DRIVER OK", "reset ACK OK"};
	struct diff_pair *p;
	long n = diff_edit(strlen(s[0]), strlen(s[1]), cmp_chars, s, &p);
	size_t same = 0, only_a = 0, only_b = 0;
	for (long k = 0; k < n; k++) {
		same += p[k].i != DIFF_NONE && p[k].j != DIFF_NONE && s[0][p[k].i] == s[1][p[k].j];
		only_a += p[k].j == DIFF_NONE;
		only_b += p[k].i == DIFF_NONE;
	}
	CHECK(n == 19 && same == 12 && only_a == 7 && only_b == 0,
	      "edit distance: 'DRIVER ' is the only difference (%ld pairs, %zu same, %zu only a)",
	      n, same, only_a);
	free(p);
	n = diff_edit(0, 3, cmp_chars, s, &p);
	CHECK(n == 3 && p[0].i == DIFF_NONE && p[2].j == 2, "edit distance: from nothing");
	free(p);
}

static void test_qemu_logs(void)
{
	CHECK(diff(QEMU_LEGACY, QEMU_LEGACY, NULL) == 0 && strstr(out, "Handshake: MATCH") &&
		  !strstr(out, "<- mismatch") &&
		  strstr(out, "=  status ACKNOWLEDGE|DRIVER|DRIVER_OK"),
	      "a QEMU log against itself: match, exit 0");
	CHECK(diff(QEMU_LEGACY, QEMU_MODERN, NULL) == 0 && strstr(out, "Handshake: MATCH") &&
		  !strstr(out, "<- mismatch") &&
		  strstr(out, "Verdict: match, 7 expected differences (legacy vs modern)\n"),
	      "legacy against modern: exit 0, every difference the spec's (7 labelled)");
	CHECK(strstr(out, ">  -                                                status "
			  "ACKNOWLEDGE|DRIVER|FEATURES_OK ") &&
		  strstr(out, "a legacy driver has no FEATURES_OK step") &&
		  strstr(out, "the modern driver's status keeps FEATURES_OK") &&
		  strstr(out, "only A: BLK_F_SCSI; only B: F_ANY_LAYOUT|F_VERSION_1 [") &&
		  strstr(out, "VERSION_1 comes with the modern interface") &&
		  strstr(out, "placed two ways [") && strstr(out, "one page frame number") &&
		  strstr(out, "the modern capabilities point into memory BAR4"),
	      "legacy against modern: FEATURES_OK, VERSION_1/ANY_LAYOUT/SCSI, PFN against "
	      "addresses and BAR4 each labelled with the spec's reason");
	CHECK(diff(QEMU_LEGACY, QEMU_MODERN, "--format=json") == 0 &&
		  strstr(out, "\"labelled\":2,\"state_labelled\":5,\"legacy_vs_modern\":true,") &&
		  strstr(out, "\"match\":true}\n"),
	      "legacy against modern, --format json: a match with 2 + 5 labelled differences");
	CHECK(diff(QEMU_LEGACY, QEMU_NO_IOEVENTFD, NULL) == 0 &&
		  strstr(out, "with ioeventfd a kick does not exit") &&
		  strstr(out, "notifies: 6 by ioeventfd, 1 with nothing to pop") &&
		  strstr(out, "notifies: 5 by exit "),
	      "ioeventfd on against off: the handshake matches, the notifies differ, labelled");
}

/* The modern log with its msix_write_config lines taken out, as a run whose -trace did not
 * enable msix_*: what it lacks is "not recorded in B's log", never a mismatch. */
static void test_family_not_logged(void)
{
	char dir[] = "/tmp/kvmscope-test-diff-XXXXXX", log[96], status[96], cmd[512];
	if (!mkdtemp(dir))
		return;
	snprintf(log, sizeof(log), "%s/nomsix.log", dir);
	snprintf(status, sizeof(status), "%s/nomsix-status.log", dir);
	snprintf(cmd, sizeof(cmd), "grep -v msix_write_config %s > %s && cp %.*s-status.log %s",
		 QEMU_MODERN, log, (int)strlen(QEMU_MODERN) - 4, QEMU_MODERN, status);
	CHECK(system(cmd) == 0, "a modern log without msix_* events made");
	CHECK(diff(QEMU_MODERN, log, NULL) == 0 && strstr(out, "Handshake: MATCH") &&
		  !strstr(out, "<- mismatch") && count(out, "not recorded in B's log") == 1 &&
		  strstr(out, "<  MSI-X enable=1 mask_all=1"),
	      "a log with no msix_* events: the MSI-X steps are 'not recorded in B's log', exit 0");
	CHECK(diff(log, QEMU_MODERN, NULL) == 0 && count(out, "not recorded in A's log") == 1,
	      "and the other way round: 'not recorded in A's log'");
	unlink(log);
	unlink(status);
	rmdir(dir);
}

static void test_kvmscope_traces(void)
{
	char good[] = "/tmp/kvmscope-test-diff-XXXXXX", bad[] = "/tmp/kvmscope-test-diff-XXXXXX";
	close(mkstemp(good));
	close(mkstemp(bad));
	write_kvmscope(good, false, "legacy", 0x407);
	write_kvmscope(bad, true, "legacy", 0x407);

	CHECK(diff(good, good, NULL) == 0 && strstr(out, "Handshake: MATCH") &&
		  strstr(out, "=  status ACKNOWLEDGE|DRIVER|DRIVER_OK") &&
		  strstr(out, "=  queue 0 pfn write (ring at a page)"),
	      "a kvmscope trace against itself: every step the same, exit 0");
	CHECK(diff(good, bad, NULL) == 1 && strstr(out, "Handshake: DIFFERENT") &&
		  strstr(out, "<  status ACKNOWLEDGE|DRIVER ") && strstr(out, "<- mismatch"),
	      "a handshake without DRIVER: the missing step is a mismatch, exit 1");

	CHECK(diff(good, QEMU_LEGACY, NULL) == 0 && strstr(out, "Handshake: MATCH") &&
		  !strstr(out, "<- mismatch"),
	      "kvmscope-shaped trace against QEMU's legacy log: the handshakes match, exit 0");
	CHECK(strstr(out, "B1 reset > ACKNOWLEDGE|DRIVER > ACKNOWLEDGE|DRIVER|DRIVER_OK [2]") &&
		  strstr(out, "[2] QEMU boots through SeaBIOS"),
	      "SeaBIOS's session in QEMU's log is labelled, Linux's is compared");
	CHECK(strstr(out, "=  device features the driver read") &&
		  strstr(out, "=  features the driver accepted") && strstr(out, "=  queue 0\n") &&
		  !strstr(out, "The devices differ in features") &&
		  strstr(out, "from QEMU's monitor after the guest's IO test"),
	      "QEMU's monitor's answers: the same features read and accepted, queue 0 the same");
	CHECK(strstr(out, "only A: none; only B: F_RING_RESET [") &&
		  strstr(out, "kvmscope does not implement virtqueue reset"),
	      "offered features: QEMU's RING_RESET, the one kvmscope lacks, is labelled");
	CHECK(strstr(out, "slot: A 00:01.0, B 00:02.0 [") && strstr(out, "PIIX3 south bridge"),
	      "the slot differs, labelled (QEMU's south bridge takes 00:01)");
	CHECK(strstr(out, "QEMU 7.2 has no trace event for feature negotiation") &&
		  strstr(out, "QEMU 7.2 has no trace event for queue setup") &&
		  strstr(out, "QEMU 7.2 has no trace event for device config accesses"),
	      "what QEMU does not log is labelled, not a mismatch");
	CHECK(strstr(out, "~  PCI write command = 0x407") &&
		  strstr(out, "SeaBIOS turns on SERR#") &&
		  strstr(out, "BAR addresses are the platform's choice"),
	      "firmware's traces (SERR#, BAR addresses) are labelled");
	CHECK(count(out, "\n  =  IN") == 3 && strstr(out, "=  FLUSH sector 0") &&
		  strstr(out, "the same MSI-X interrupts by another path"),
	      "the five requests line up; the interrupt paths differ, labelled");

	CHECK(diff(good, QEMU_LEGACY, "--format=json") == 0 && out[0] == '{' &&
		  strstr(out, "\"match\":true}\n") && strstr(out, "\"op\":\"only_a\"") &&
		  strstr(out, "\"expected\":\"QEMU 7.2 has no trace event for queue setup\""),
	      "--format json: one document with the same verdict and labels");
	CHECK(diff(good, QEMU_LEGACY, "--all") == 0 && !strstr(out, "more (--all shows them)"),
	      "--all: nothing folded");
	write_kvmscope(good, false, "transitional", 0x407);
	write_kvmscope(bad, false, "modern", 0x407);
	CHECK(diff(good, bad, NULL) == 0 && strstr(out, "Verdict: the handshakes match") &&
		  strstr(out, "~  BAR0 io 128 B @0xc000") &&
		  strstr(out, "only a legacy-capable device (legacy, transitional) has the legacy "
			      "registers' I/O BAR0"),
	      "transitional against modern: BAR0 on one side only, labelled");
	write_kvmscope(bad, true, "legacy", 0x407);
	CHECK(diff(bad, QEMU_MODERN, NULL) == 1 && strstr(out, "<- mismatch") &&
		  strstr(out, "Verdict: the handshakes differ"),
	      "legacy against modern labels only the spec's differences: a missing DRIVER is "
	      "still a mismatch, exit 1");
	/* Linux found I/O space off and left it off (the modern driver needs only memory): under
	 * QEMU, SeaBIOS had turned it on, with SERR#; labelled SeaBIOS's, not a mismatch */
	write_kvmscope(bad, false, "legacy", 0x406);
	CHECK(diff(bad, QEMU_LEGACY, NULL) == 0 && !strstr(out, "<- mismatch") &&
		  strstr(out, "~  PCI write command = 0x406") &&
		  strstr(out, "SeaBIOS turns on SERR# and I/O space (0x101)"),
	      "the command register's SERR# and I/O space, set by SeaBIOS, are labelled SeaBIOS's "
	      "whatever the BARs");
	unlink(good);
	unlink(bad);
}

static void test_bad_input(void)
{
	char empty[] = "/tmp/kvmscope-test-diff-XXXXXX";
	close(mkstemp(empty));
	CHECK(diff("/nonexistent.kvt", QEMU_LEGACY, NULL) == 2 && strstr(out, "/nonexistent.kvt"),
	      "a missing file: exit 2, named");
	CHECK(diff(empty, QEMU_LEGACY, NULL) == 2 && strstr(out, "no QEMU trace events"),
	      "neither a trace nor a QEMU log: exit 2");
	CHECK(diff(QEMU_LEGACY, NULL, NULL) == 2 && strstr(out, "usage"), "one file: exit 2");
	CHECK(diff(QEMU_LEGACY, QEMU_LEGACY, "--format=xml") == 2 && strstr(out, "--format xml"),
	      "a bad --format: exit 2");
	CHECK(diff(QEMU_LEGACY, QEMU_LEGACY, "--bogus") == 2, "an unknown option: exit 2");
	CHECK(diff(NULL, NULL, NULL) == 2, "no arguments: exit 2");

	/* a trace with no virtio device has no handshake to compare */
	struct trace_build b;
	struct trace_file tf;
	char err[256];
	trace_build_init(&b, empty);
	trace_build_rec(&b, 1, TRACE_EV_VM_STATE);
	trace_build_finish(&b, &tf);
	trace_file_save(&tf, empty, err, sizeof(err));
	trace_file_free(&tf);
	CHECK(diff(empty, QEMU_LEGACY, NULL) == 1 && strstr(out, "A has no virtio device"),
	      "no virtio device on one side: the handshakes differ, exit 1");
	unlink(empty);
}

/* Multi-queue: queues aligned by index, per-queue IO, and what one device's extra queues make
 * differ labelled (synthetic traces; the QEMU -smp 2 log against itself and against -smp 1). */
/* Whether the last report holds every one of the strings (a NULL ends them), and no mismatch. */
static bool says(const char *first, ...)
{
	va_list ap;
	bool all = !strstr(out, "<- mismatch");
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		all &= strstr(out, s) != NULL;
	va_end(ap);
	return all;
}

/* Runs diff A B: the handshakes match and PCI enumeration and IO have nothing unexplained. */
static int rc_last;
static bool labelled_only(const char *a, const char *b)
{
	rc_last = diff(a, b, NULL);
	return rc_last == 0 && count(out, "0 unexplained") == 2;
}

static void test_multiqueue(void)
{
	char one[] = "/tmp/kvmscope-test-mq1-XXXXXX", two[] = "/tmp/kvmscope-test-mq2-XXXXXX";
	char other[] = "/tmp/kvmscope-test-mq2b-XXXXXX";
	close(mkstemp(one));
	close(mkstemp(two));
	close(mkstemp(other));
	write_mq(one, 1, 0, false);
	write_mq(two, 2, 0, false);
	write_mq(other, 2, 1, false);
	int rc = diff(two, two, NULL);
	CHECK_OUT(rc == 0 &&
		      says("queue 1: 2 requests, 2 notifies, 2 irqs",
			   "step by step: 5 the same, 0 expected differences, 0 unexplained",
			   "step by step: 16 the same, 0 expected differences, 0 unexplained",
			   NULL),
		  "multi-queue: a 2-queue trace against itself: both queues, per-queue IO, all "
		  "the same (exit %d)",
		  rc);
	CHECK_OUT(labelled_only(two, one) &&
		      says("one device has more queues", "the devices have 2 and 1 queues",
			   "only one device has it", NULL),
		  "multi-queue: 2 queues against 1: queue 1's setup, num_queues, the MQ bit and "
		  "queue 1's IO labelled, nothing unexplained (exit %d)",
		  rc_last);
	rc = diff(two, other, "--format=json");
	CHECK_OUT(rc == 0 && says("{\"op\":\"differs\",\"a\":\"pop queue 0 IN sector 0 4096 B\","
				  "\"b\":\"pop queue 1 IN sector 0 4096 B\",\"expected\":\"a "
				  "request goes on the queue of the vCPU",
				  "\"io_unexplained\":0", NULL),
		  "multi-queue: the same requests on other queues align by request, the queue "
		  "labelled (exit %d)",
		  rc);
	rc = diff(two, one, "--format=json");
	CHECK_OUT(says("\"device_queues\":2", "\"device_queues\":1",
		       "\"queue\":1,\"set_up\":true,\"size\":256,\"requests\":2",
		       "\"queues_label\":\"one device has more queues", "\"io_unexplained\":0",
		       NULL),
		  "multi-queue: JSON has each side's queues with their IO, and the label");
	/* --in-order: the device offers bit 35, the driver (as Linux 6.1) leaves it */
	write_mq(other, 1, 0, true);
	CHECK_OUT(labelled_only(other, one) && says("only A: F_IN_ORDER; only B: none [",
						    "kvmscope offers it with --in-order", NULL),
		  "an --in-order device against one without: F_IN_ORDER offered, labelled (exit "
		  "%d)",
		  rc_last);
	write_mq(other, 2, 0, true);
	CHECK_OUT(labelled_only(other, one) &&
		      says("one device has more queues", "; VIRTIO_F_IN_ORDER (virtio 1.2", NULL),
		  "two queues and --in-order against neither: both labelled, joined (exit %d)",
		  rc_last);
	if (!getenv("KVMSCOPE_TEST_KEEP")) {
		unlink(one);
		unlink(two);
		unlink(other);
	}
}

/* The QEMU -smp 2 log (two queues, both used): against itself a clean match; against the
 * single-queue log, the differences two queues make are labelled. A kvmscope modern-only Linux
 * boot against QEMU's modern-only device: only the platform's differences, labelled. */
static void test_recorded(void)
{
	CHECK_OUT(labelled_only(QEMU_SMP2, QEMU_SMP2) &&
		      says("queue 1: 4 requests, 5 notifies, 4 irqs", "=  queue 1\n", NULL),
		  "QEMU -smp 2 against itself: both queues, each with its IO, all the same (exit "
		  "%d)",
		  rc_last);
	CHECK_OUT(labelled_only(QEMU_SMP2, QEMU_MODERN) &&
		      says("only A: BLK_F_MQ; only B: none [1]",
			   "the devices have 2 and 1 queues [1]",
			   "~  PCI write msix.control = 0xc002", "only one device has it [1]",
			   "[1] one device has more queues than the other", NULL),
		  "QEMU -smp 2 against -smp 1: the MQ bit, num_queues, the MSI-X table size, queue "
		  "1 and its IO labelled (exit %d)",
		  rc_last);
	CHECK_OUT(labelled_only(KVMSCOPE_SMP2, QEMU_SMP2) &&
		      says("=  queue 1\n", "queue 1: 4 requests, 4 notifies, 4 irqs", NULL),
		  "kvmscope Linux on two vCPUs and two queues against QEMU -smp 2: queues aligned "
		  "by index, every difference labelled (exit %d)",
		  rc_last);
	CHECK_OUT(labelled_only(KVMSCOPE_MODERN, QEMU_MODERN_ONLY) && !strstr(out, "BAR0") &&
		      says("slot: A 00:01.0, B 00:02.0 [1]",
			   "BAR addresses are the platform's choice", NULL),
		  "kvmscope --virtio modern against QEMU's disable-legacy=on device: no BAR0 on "
		  "either side, every difference labelled, in PCI enumeration and IO too (exit %d)",
		  rc_last);
	diff(KVMSCOPE_MODERN, QEMU_MODERN_ONLY, "--format=json");
	CHECK_OUT(
	    says("the interrupt line is the platform's",
		 "SeaBIOS leaves I/O, memory decoding and bus mastering on",
		 "\"pci_unexplained\":0,\"io_unexplained\":0", NULL),
	    "... its PCI steps label the interrupt line and SeaBIOS's decoding, as JSON says");
	char copy[] = "/tmp/kvmscope-test-smp2-XXXXXX", cmd[256];
	close(mkstemp(copy)); /* the -smp 2 log without its snapshot: the queues its IO was on */
	snprintf(cmd, sizeof(cmd), "cp %s %s", QEMU_SMP2, copy);
	CHECK(system(cmd) == 0, "the -smp 2 log copied without its snapshot");
	diff(copy, QEMU_MODERN, NULL);
	CHECK_OUT(strstr(out, "~  queue 1: 4 requests, 5 notifies, 4 irqs          -\n"),
		  "without QEMU's snapshot, the queues its IO was on are listed (their count not "
		  "known, nothing labelled for it)");
	unlink(copy);
	diff(QEMU_LEGACY, QEMU_MODERN, "--format=json");
	CHECK_OUT(
	    says("the two interfaces' PCI functions differ",
		 "\"pci_unexplained\":0,\"io_unexplained\":0", NULL),
	    "QEMU legacy against modern: the capabilities and BARs each interface has, labelled "
	    "in PCI enumeration");
	CHECK_OUT(labelled_only(QEMU_MODERN_ONLY, QEMU_MODERN) &&
		      says("~  BAR0 -", "a modern-only one has none", NULL),
		  "QEMU modern-only against transitional: BAR0 on one side, labelled (exit %d)",
		  rc_last);
}

int main(void)
{
	test_edit();
	test_qemu_logs();
	test_family_not_logged();
	test_kvmscope_traces();
	test_bad_input();
	test_multiqueue();
	test_recorded();
	return CHECK_DONE();
}
