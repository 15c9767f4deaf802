/* tests/unit/test_view_queue.c - a device with two split queues in a synthetic trace written
 * through the trace layer, its pops carrying descriptors: the viewer's Queue pane model (the
 * chain as the device walked it, the avail and used entries around it, one queue at a time, the
 * [ ] cycle), the filter by queue, and `trace stats` per queue. `--write FILE` writes the trace
 * for tests/integration/view.sh; `--view FILE` opens it. No /dev/kvm. */
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/unit/test_emit.h"
#include "trace/report/report.h"
#include "trace/view/view.h"


static struct {
	size_t pop0, used0, pop1, used1, irq1, pop_long;
} at;

/* One request on queue q: notify, split_pop with its chain, chain_pop, complete, used, irq. */
static void request(uint16_t blk, unsigned q, unsigned head, uint16_t avail,
		    const struct trace_descs *l, size_t *pop, size_t *used)
{
	EMIT(QUEUE_NOTIFY, blk, q, TRACE_VIA_EXIT, avail + 1);
	*pop = nrec;
	EMIT_DESCS(SPLIT_POP, blk, l, TRACE_PAIR(q, head), avail, avail + 1, l->walked);
	EMIT(CHAIN_POP, blk, TRACE_PAIR(q, head), 0, 8 * head, TRACE_PAIR(1, 4096));
	EMIT(REQ_COMPLETE, blk, TRACE_PAIR(q, head), 0, 1000, 4097);
	*used = nrec;
	EMIT_DESCS(USED_PUSH, blk, l, TRACE_PAIR(q, head), 4097, avail + 1);
	EMIT(IRQ_RAISE, blk, TRACE_PAIR(q, TRACE_IRQ_MSIX), q + 1, 0xfee00000, 0x21 + q);
}

static int write_sample(const char *path)
{
	struct trace_options o = {.path = path, .events = "*"};
	struct trace_descs l;
	size_t ignore;

	if (trace_start(&o) < 0)
		return -1;
	trace_thread_set(TRACE_THREAD_VCPU, 0);
	uint16_t blk = trace_dev_register("blk0", VIRTIO_ID_BLOCK);
	for (unsigned q = 0; q < 2; q++)
		EMIT(QUEUE_ADD, blk, q, 8);
	EMIT(DEVICE_RESET, blk, 0);
	EMIT(FEATURES_OK, blk, 1ULL << VIRTIO_F_VERSION_1);
	for (unsigned q = 0; q < 2; q++) {
		EMIT(QUEUE_SELECT, blk, q);
		EMIT(QUEUE_SIZE, blk, q, 8, TRACE_WRITE);
		EMIT(QUEUE_DESC, blk, q, 0x10000 + 0x1000 * q);
		EMIT(QUEUE_DRIVER, blk, q, 0x10080 + 0x1000 * q);
		EMIT(QUEUE_DEVICE, blk, q, 0x10100 + 0x1000 * q);
		EMIT(QUEUE_ENABLE, blk, q, 1, TRACE_WRITE);
	}
	EMIT(VIRTIO_STATUS, blk, 0xb, 0xf);

	/* q0: header, data, status, as the mini guest lays them out */
	trace_descs_start(&l, true);
	trace_descs_add(&l, 0x20000, 16, VRING_DESC_F_NEXT, 0);
	trace_descs_add(&l, 0x21000, 4096, VRING_DESC_F_NEXT, 1);
	trace_descs_add(&l, 0x20010, 1, VRING_DESC_F_WRITE, 2);
	request(blk, 0, 0, 0, &l, &at.pop0, &at.used0);
	/* q1: one INDIRECT descriptor, its table of three (Linux's shape) */
	trace_descs_start(&l, true);
	trace_descs_add(&l, 0x30000, 48, VRING_DESC_F_INDIRECT, 2);
	trace_descs_add(&l, 0x31000, 16, VRING_DESC_F_NEXT, 0);
	trace_descs_add(&l, 0x32000, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	trace_descs_add(&l, 0x31010, 1, VRING_DESC_F_WRITE, 2);
	request(blk, 1, 2, 0, &l, &at.pop1, &at.used1);
	at.irq1 = nrec - 1;
	/* q1 again: a chain of 20, longer than the trace keeps */
	trace_descs_start(&l, true);
	for (unsigned i = 0; i < 20; i++)
		trace_descs_add(&l, 0x40000 + 0x100 * i, 16, i < 19 ? VRING_DESC_F_NEXT : 0, i);
	request(blk, 1, 0, 1, &l, &at.pop_long, &ignore);
	trace_stop();
	return 0;
}

static struct trace_file tf;

/* Whether one of the n lines is exactly s, or starts with it when prefix. */
static bool has_line(char (*lines)[VIEW_LINE_MAX], unsigned n, const char *s, bool prefix)
{
	for (unsigned i = 0; i < n; i++)
		if (prefix ? !strncmp(lines[i], s, strlen(s)) : !strcmp(lines[i], s))
			return true;
	return false;
}

static void test_pane(size_t base)
{
	static struct view_queue q;
	char lines[20][VIEW_LINE_MAX];
	unsigned n;

	view_queue_get(&tf, base + at.used1, &q);
	n = view_queue_chain_lines(&tf, &q, lines, 20);
	CHECK(q.queue == 1 && q.chain_pop == base + at.pop1 && q.chain_used == base + at.used1,
	      "q1's used_push: the pane shows q1, the chain of its pop, used by this event");
	CHECK(n >= 7 && has_line(lines, n, "chain head 2 #", true) &&
		  strstr(lines[0], ": 4 descriptors, used #") &&
		  has_line(lines, n, " desc[2] 0x30000 len=48 INDIRECT", false) &&
		  has_line(lines, n, "   table[0] 0x31000 len=16 NEXT", false) &&
		  has_line(lines, n, "   table[1] 0x32000 len=4096 NEXT|WRITE", false),
	      "the chain as the device walked it, the indirect table indented (%s)", lines[0]);
	CHECK(has_line(lines, n, "avail idx 1: 6:? 7:? >0:2 1:? 2:?", false) &&
		  has_line(lines, n, "used  idx 1: 6:? 7:? >0:2/4097 1:? 2:?", false),
	      "the avail and used entries around it: head 2 and {2, 4097}, '?' where unseen");

	view_queue_get(&tf, base + at.pop_long, &q);
	n = view_queue_chain_lines(&tf, &q, lines, 20);
	CHECK(q.chain_pop == base + at.pop_long && strstr(lines[0], ": 20 descriptors (first 16 shown)") &&
		  has_line(lines, n, " +4 not recorded", false) &&
		  has_line(lines, n, "avail idx 2: 7:? 0:2 >1:0 2:? 3:?", false),
	      "a chain of 20: 16 shown, the 4 not recorded counted, never made up");

	view_queue_get_on(&tf, base + at.used1, 0, &q);
	view_queue_chain_lines(&tf, &q, lines, 20);
	CHECK(q.queue == 0 && q.chain_pop == base + at.pop0 && q.pops == 1 && q.size == 8 &&
		  q.desc == 0x10000 && !strncmp(lines[0], "chain head 0 #", 7),
	      "q0 chosen while q1's event is selected: q0 as it stood, its last chain");
	view_queue_get(&tf, base + at.irq1, &q);
	CHECK(q.queue == 1 && q.chain_pop == base + at.pop1 && q.irqs == 1,
	      "an interrupt of q1: its queue, its last chain");
	CHECK(view_queue_count(&tf, tf.rec[base].dev) == 2, "the device has 2 queues");
}

static void test_model(size_t base)
{
	struct view v;
	size_t shown = 0;
	bool all_q1 = true;

	CHECK(view_init(&v, &tf) == 0, "view_init");
	view_select_record(&v, base + at.pop1);
	CHECK(v.pane_queue == VIEW_QUEUE_OF_EVENT, "the Queue pane follows the event at first");
	view_pane_queue_next(&v, 1);
	CHECK(v.pane_queue == 0 && strstr(v.msg, "q0 of 2"), "]: q0 (%s)", v.msg);
	view_pane_queue_next(&v, 1);
	CHECK(v.pane_queue == 1, "]: q1");
	view_pane_queue_next(&v, 1);
	CHECK(v.pane_queue == VIEW_QUEUE_OF_EVENT && strstr(v.msg, "selected event"),
	      "]: back to the event's queue");
	view_pane_queue_next(&v, -1);
	CHECK(v.pane_queue == 1, "[: from the event's queue to the last one");

	view_set_queue(&v, 1);
	for (size_t r = 0; r < v.nrows; r++, shown++)
		all_q1 &= view_rec_on_queue(&tf.rec[v.rows[r]], 1);
	CHECK(shown == 1 + 1 + 5 + 2 * 6 && all_q1,
	      "filter q1: its 19 events only (queue_add, select, 5 setup, 2 requests of 6; got %zu)",
	      shown);
	CHECK(view_selected(&v) == base + at.pop1, "the filter keeps the selection");
	view_set_queue(&v, -1);
	CHECK(v.nrows == tf.nrec, "every event again");
	view_free(&v);
}

static void test_stats(const char *path)
{
	static char out[1 << 16];
	char *argv[] = {"stats", (char *)path};

	CHECK(check_run_captured(trace_cmd_stats, out, sizeof(out), 2, argv) == 0 &&
		  strstr(out, "blk0 q0                           1         4096          1          1"
			      "          0\n") &&
		  strstr(out, "blk0 q1                           2         8192          2          2"
			      "          0\n"),
	      "stats: requests, bytes, notifies, interrupts per queue");
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/kvmscope-view-queue-XXXXXX", err[256];
	size_t base = 0;

	int mode = check_view_modes(argc, argv, write_sample, view_cmd_main);
	if (mode >= 0)
		return mode;
	close(mkstemp(path));
	CHECK(write_sample(path) == 0, "two-queue sample written");
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "two-queue sample read (%s)", err);
	/* Records the trace layer writes itself may come first: ours start at queue_add. */
	while (base < tf.nrec && tf.rec[base].ev != TRACE_EV_QUEUE_ADD)
		base++;
	test_pane(base);
	test_model(base);
	test_stats(path);
	unlink(path);
	trace_file_free(&tf);
	return CHECK_DONE();
}
