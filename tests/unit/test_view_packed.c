/* tests/unit/test_view_packed.c - the viewer's Queue pane model of a packed ring (virtio 1.2
 * §2.8): each slot's flags rebuilt from the packed_pop and used_push events of a synthetic trace
 * written through the trace layer's own writer, across a wrap and out-of-order completions. */
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/unit/test_emit.h"
#include "trace/view/view.h"

#define HEAD_FLAGS (VRING_DESC_F_NEXT | 1u << VRING_PACKED_DESC_F_AVAIL)

static struct {
	size_t pops, used1, used2, pop2, used3;
} at;


/* A 4-slot packed ring: a list of 3 (id 0) and one of 1 (id 3) popped, id 3 used first, then
 * id 0 (its used descriptor in slot 1 skips slots 2 and 3), then a list of 2 in the second lap. */
static int write_sample(const char *path)
{
	struct trace_options o = {.path = path, .events = "*"};

	if (trace_start(&o) < 0)
		return -1;
	trace_thread_set(TRACE_THREAD_MAIN, 0);
	uint16_t blk = trace_dev_register("blk0", VIRTIO_ID_BLOCK);
	EMIT(QUEUE_ADD, blk, 0, 4);
	EMIT(DEVICE_RESET, blk, 0);
	EMIT(FEATURES_OK, blk, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_F_RING_PACKED);
	EMIT(QUEUE_SIZE, blk, 0, 4, TRACE_WRITE);
	EMIT(QUEUE_NOTIFY, blk, 0, TRACE_VIA_EXIT, TRACE_RING_IDX_PACKED(0, 0));
	EMIT(PACKED_POP, blk, TRACE_PAIR(0, 0), TRACE_PAIR(0, 1), 3, HEAD_FLAGS);
	EMIT(PACKED_POP, blk, TRACE_PAIR(0, 3), TRACE_PAIR(3, 1), 1, HEAD_FLAGS);
	at.pops = nrec - 1;
	EMIT(USED_PUSH, blk, TRACE_PAIR(0, 3), 1, TRACE_RING_IDX_PACKED(1, 1));
	at.used1 = nrec - 1;
	EMIT(USED_PUSH, blk, TRACE_PAIR(0, 0), 513, TRACE_RING_IDX_PACKED(0, 0));
	at.used2 = nrec - 1;
	EMIT(PACKED_POP, blk, TRACE_PAIR(0, 0), TRACE_PAIR(0, 0), 2, VRING_DESC_F_NEXT);
	at.pop2 = nrec - 1;
	EMIT(USED_PUSH, blk, TRACE_PAIR(0, 0), 0, TRACE_RING_IDX_PACKED(2, 0));
	at.used3 = nrec - 1;
	trace_stop();
	return 0;
}

int main(void)
{
	char path[] = "/tmp/kvmscope-view-packed-XXXXXX", err[256];
	struct trace_file tf = {0};
	struct view_queue q;
	size_t base;

	close(mkstemp(path));
	CHECK(write_sample(path) == 0, "packed sample trace written");
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "packed sample read (%s)", err);
	unlink(path);
	/* Records the trace layer writes itself may come first: ours start at queue_add. */
	base = 0;
	for (size_t i = 0; i < tf.nrec; i++)
		if (tf.rec[i].ev == TRACE_EV_QUEUE_ADD) {
			base = i;
			break;
		}
	view_queue_get(&tf, base + at.pops, &q);
	CHECK(q.packed && !strncmp(q.slot, "AAAA", 4),
	      "packed pane: two lists taken: every slot available with wrap 1 (%.4s)", q.slot);
	view_queue_get(&tf, base + at.used1, &q);
	CHECK(!strncmp(q.slot, "UAAA", 4) && q.used_slot == 1,
	      "packed pane: id 3 used first, in slot 0 (%.4s)", q.slot);
	view_queue_get(&tf, base + at.used2, &q);
	CHECK(!strncmp(q.slot, "UU--", 4) && q.used_slot == 0 && !q.used_wrap,
	      "packed pane: id 0 used in slot 1, its other two slots skipped, next lap (%.4s)",
	      q.slot);
	view_queue_get(&tf, base + at.pop2, &q);
	CHECK(!strncmp(q.slot, "aa--", 4),
	      "packed pane: a list in the second lap: available with wrap 0 (%.4s)", q.slot);
	view_queue_get(&tf, base + at.used3, &q);
	CHECK(!strncmp(q.slot, "u---", 4) && q.used_slot == 2,
	      "packed pane: its used descriptor with wrap 0 in slot 0, slot 1 skipped (%.4s)",
	      q.slot);
	CHECK(q.have_avail && q.avail_idx == TRACE_RING_IDX_PACKED(0, 0) &&
		  q.used_idx == TRACE_RING_IDX_PACKED(2, 0),
	      "packed pane: the notify's and the used event's slot/wrap words kept");
	trace_file_free(&tf);
	return CHECK_DONE();
}
