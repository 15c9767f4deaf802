/* tests/unit/test_view_imported.c - the viewer's model on a QEMU 7.2 log (tests/fixtures), which
 * holds only what QEMU logs: every pane must say what the log lacks instead of showing a made-up
 * value. Steps QEMU does not log are "not in QEMU's log", not "skipped"; QEMU's machine-start
 * reset and SeaBIOS's driver session are named; the Queue pane takes QEMU's monitor snapshot, or
 * says "not logged"; values QEMU does not log are "?"; Detail names the log line. */
#include <linux/virtio_config.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "trace/view/view.h"

#define LOG "tests/fixtures/qemu-modern.log"

static size_t nth(const struct trace_file *tf, unsigned ev, size_t n)
{
	for (size_t i = 0; i < tf->nrec; i++)
		if (tf->rec[i].ev == ev && !n--)
			return i;
	return SIZE_MAX;
}

/* The virtio_status record that set DRIVER_OK, the k-th time. */
static size_t driver_ok(const struct trace_file *tf, unsigned k)
{
	for (size_t i = 0; i < tf->nrec; i++)
		if (tf->rec[i].ev == TRACE_EV_VIRTIO_STATUS &&
		    (view_arg(&tf->rec[i], VA_NEW, 0) & ~view_arg(&tf->rec[i], VA_OLD, 0) &
		     VIRTIO_CONFIG_S_DRIVER_OK) &&
		    !k--)
			return i;
	return SIZE_MAX;
}

struct lines {
	char text[4096];
};

static void collect(void *opaque, int attr, const char *text)
{
	struct lines *l = opaque;
	(void)attr;
	size_t at = strlen(l->text);
	snprintf(l->text + at, sizeof(l->text) - at, "%s\n", text);
}

static void test_path(const struct trace_file *tf, const struct trace_tags *t)
{
	struct view_round o;
	size_t first = nth(tf, TRACE_EV_VIRTIO_STATUS, 0), linux_ok = driver_ok(tf, 1);
	CHECK(first != SIZE_MAX && view_machine_reset(tf, t, first),
	      "the log's first status write (#%zu), before any guest access, is QEMU's "
	      "machine-start reset",
	      first);
	CHECK(linux_ok != SIZE_MAX && view_round_get(tf, t, linux_ok, &o) == 0, "a round at #%zu",
	      linux_ok);
	bool none_skipped = true;
	for (unsigned s = TRACE_INIT_FIRST; s <= TRACE_INIT_LAST; s++)
		none_skipped &= o.mark[s] != VIEW_MARK_SKIPPED ||
				(s != TRACE_STEP_FEATURES && s != TRACE_STEP_REREAD &&
				 s != TRACE_STEP_SETUP && s != TRACE_STEP_PCI);
	CHECK(o.mark[TRACE_STEP_FEATURES] == VIEW_MARK_UNLOGGED &&
		  o.mark[TRACE_STEP_REREAD] == VIEW_MARK_UNLOGGED &&
		  o.mark[TRACE_STEP_SETUP] == VIEW_MARK_UNLOGGED && none_skipped &&
		  !strcmp(view_unlogged_text(tf), "not in QEMU's log"),
	      "features, re-read and setup are 'not in QEMU's log', not 'skipped'");
	CHECK(o.mark[TRACE_STEP_PCI] == VIEW_MARK_DONE && o.pci_reads > 100,
	      "the PCI probe is done, with the config reads the log has (%zu reads, %zu writes)",
	      o.pci_reads, o.pci_writes);
	CHECK(!o.firmware, "the last session is not SeaBIOS's");
	size_t bios_ok = driver_ok(tf, 0);
	CHECK(view_round_get(tf, t, bios_ok, &o) == 0 && o.firmware &&
		  o.mark[TRACE_STEP_DEVICE] == VIEW_MARK_DONE && o.machine_reset,
	      "the first session (DRIVER_OK #%zu) is SeaBIOS's; its device step is the "
	      "machine-start reset",
	      bios_ok);
}

static void test_queue_and_values(const struct trace_file *tf, bool snapshot)
{
	struct view_queue q;
	size_t notify = nth(tf, TRACE_EV_QUEUE_NOTIFY, 0), irq = nth(tf, TRACE_EV_IRQ_RAISE, 0);
	char buf[32];
	view_queue_get(tf, notify, &q);
	CHECK(q.setup_unlogged && q.snapshot == snapshot && !q.have_avail &&
		  (snapshot ? q.size == 256 && q.desc == 0x1e2000 : q.size == 0),
	      "%s: the Queue pane %s (size %u), avail idx not logged",
	      snapshot ? "with" : "without",
	      snapshot ? "shows QEMU's monitor snapshot" : "says setup is not logged", q.size);
	CHECK(!strcmp(view_arg_str(tf, &tf->rec[notify], VA_AVAIL_IDX, buf, sizeof(buf)), "?") &&
		  !strcmp(view_arg_str(tf, &tf->rec[irq], VA_VECTOR, buf, sizeof(buf)), "?") &&
		  !strcmp(view_arg_str(tf, &tf->rec[notify], VA_QUEUE, buf, sizeof(buf)), "0"),
	      "avail_idx and the vector are '?', the queue number is known");
}

static void test_detail(const struct trace_file *tf)
{
	struct lines l = {""};
	char sum[512];
	size_t notify = nth(tf, TRACE_EV_QUEUE_NOTIFY, 0);
	view_detail(tf, notify, TRACE_STEP_NOTIFY, collect, &l);
	CHECK(strstr(l.text, "QEMU 7.2 log, line 339: virtio_queue_notify") &&
		  strstr(l.text, "log: ") && strstr(l.text, "virtio_queue_notify vdev 0x") &&
		  !strstr(l.text, "kvmscope in") && !strstr(l.text, "kvmscope virtio_queue_notify"),
	      "Detail names the log line and shows it, no kvmscope function:\n%s", l.text);
	CHECK(strstr(view_summary(tf, &tf->rec[notify], sum, sizeof(sum)), "avail_idx=?"),
	      "the timeline says avail_idx=?: %s", sum);
}

int main(void)
{
	struct trace_file tf;
	struct trace_tags t = {0};
	char err[512], dir[] = "/tmp/kvmscope-test-view-XXXXXX", alone[96], cmd[256];

	CHECK(trace_load_any(&tf, LOG, "test", err, sizeof(err)) == 0, "%s imports (%s)", LOG, err);
	if (tf.nrec == 0)
		return CHECK_DONE();
	CHECK(trace_tags_update(&t, &tf) == 0, "tags");
	test_path(&tf, &t);
	test_queue_and_values(&tf, true);
	test_detail(&tf);
	trace_tags_free(&t);
	trace_file_free(&tf);

	/* the same log without its -status.log */
	if (!mkdtemp(dir))
		return CHECK_DONE();
	snprintf(alone, sizeof(alone), "%s/qemu.log", dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", LOG, alone);
	if (system(cmd) == 0 && trace_load_any(&tf, alone, "test", err, sizeof(err)) == 0) {
		test_queue_and_values(&tf, false);
		trace_file_free(&tf);
	}
	unlink(alone);
	rmdir(dir);
	return CHECK_DONE();
}
