/* tests/unit/test_view.c - the viewer's model on a synthetic trace written through the trace
 * layer's own writer: step tags along virtio 1.2 §3.1.1 and the IO path, the path pane's marks,
 * n/p, the queue rebuilt as of an event, filter, search, go-to, playback, the QEMU map, the
 * detail lines and the layout at 80x24.
 * `test_view --write FILE` only writes the synthetic trace (tests/integration/view.sh uses it);
 * `test_view --view FILE` runs the viewer on it until main.c has `kvmscope view`. */
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/unit/test_emit.h"
#include "trace/view/view.h"

/* Guest functions for the RIPs and stacks: symbols of this binary, named as Linux's. The
 * addresses are the symbol table's (as a vmlinux gives them), not where they run here. */
#define GUEST_FN(name)                                                                             \
	__attribute__((noinline, used)) static int name(int x)                                     \
	{                                                                                          \
		return x * 3 + 1;                                                                  \
	}
GUEST_FN(vp_modern_set_status)
GUEST_FN(virtio_add_status)
GUEST_FN(virtio_dev_probe)
GUEST_FN(vp_notify)
enum { FN_SET_STATUS, FN_ADD_STATUS, FN_DEV_PROBE, FN_NOTIFY, FN_NR, FN_NONE = FN_NR };
static const char *const fn_names[FN_NR] = {"vp_modern_set_status", "virtio_add_status",
					    "virtio_dev_probe", "vp_notify"};
static uint64_t fn_addr[FN_NR + 1];
static uint64_t guest_rip, guest_caller;

static void guest_symbols(void)
{
	struct trace_symtab self = {0};
	char err[256];
	(void)vp_modern_set_status, (void)virtio_add_status, (void)virtio_dev_probe,
	    (void)vp_notify;
	if (trace_symtab_load(&self, "/proc/self/exe", err, sizeof(err)) < 0)
		return;
	for (size_t i = 0; i < self.n; i++)
		for (unsigned k = 0; k < FN_NR; k++)
			if (!strcmp(trace_symtab_name(&self, i), fn_names[k]))
				fn_addr[k] = self.v[i].addr;
	trace_symtab_free(&self);
}

static void guest_ctx(void *opaque, uint64_t *rip, uint32_t *stack)
{
	uint64_t pcs[] = {guest_caller, fn_addr[FN_DEV_PROBE] + 4};
	(void)opaque;
	*rip = guest_rip;
	*stack = guest_rip ? trace_stack_intern(pcs, 2) : 0;
}

/* The guest "exits" at fn (+ 0x3), called from caller (+ 0x2): inside these tiny functions. */
static void at(unsigned fn, unsigned caller)
{
	guest_rip = fn != FN_NONE ? fn_addr[fn] + 3 : 0;
	guest_caller = caller != FN_NONE ? fn_addr[caller] + 2 : 0;
	trace_guest_exit();
}

/* Record numbers the checks refer to, filled as the sample is written. */
static struct {
	size_t create, pci, reset, ack, driver, feat, fok, reread, setup, dok, marker, notify1,
	    pop1, complete1, used1, irq1, notify2, pop2, pop3, used2, irq2, end;
} at_rec;


static void status(uint16_t dev, unsigned old, unsigned new)
{
	EMIT(COMMON_CFG_READ, dev, VIRTIO_PCI_COMMON_STATUS, 1, old);
	EMIT(VIRTIO_STATUS, dev, old, new);
}

/* A modern virtio-blk device: built, probed, initialized as Linux does it, then two rounds of
 * IO (one request, then two requests and one interrupt). */
static int write_sample(const char *path)
{
	struct trace_options o = {.path = path, .symbols = "/proc/self/exe", .events = "*"};
	uint64_t f = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_BLK_F_SEG_MAX;

	trace_info("transport", "modern");
	guest_symbols();
	if (trace_start(&o) < 0)
		return -1;
	trace_thread_set(TRACE_THREAD_MAIN, 0);
	uint16_t blk = trace_dev_register("blk0", VIRTIO_ID_BLOCK);
	at_rec.create = nrec;
	EMIT(DEV_CREATE, blk, 3, 0);
	EMIT(CFG_SPACE_BUILT, blk, TRACE_PAIR(0x1af4, 0x1042), 1, 0x018000,
	     TRACE_PAIR(0x1af4, 0x1100));
	EMIT(BAR_REGISTER, blk, 4, 0x4000, 0x4 /* PCI_BASE_ADDRESS_MEM_TYPE_64 */);
	EMIT(MSIX_ALLOC, blk, 2, 1, 0, 0x800);
	EMIT(QUEUE_ADD, blk, 0, 256);
	EMIT(HOST_FEATURES, blk, f);

	trace_thread_set(TRACE_THREAD_VCPU, 0);
	trace_guest_source(guest_ctx, NULL);
	at(FN_NONE, FN_NONE);
	at_rec.pci = nrec;
	EMIT(PCI_CFG_READ, blk, 0, 4, 0x10421af4, 0);
	EMIT(BAR_MAP, blk, 4, 0xc0000000, 0x4000, 0x4 /* PCI_BASE_ADDRESS_MEM_TYPE_64 */);
	EMIT(PCI_CFG_WRITE, blk, 4, 2, 0x6, 0);

	at(FN_SET_STATUS, FN_ADD_STATUS);
	at_rec.reset = nrec;
	EMIT(VIRTIO_STATUS, blk, 0, 0);
	EMIT(DEVICE_RESET, blk, 0);
	EMIT(BACKEND_STOP, blk, trace_intern("reset"));
	EMIT(COMMON_CFG_READ, blk, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	at_rec.ack = nrec;
	EMIT(VIRTIO_STATUS, blk, 0, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	at_rec.driver = nrec + 1;
	status(blk, 1, 3);
	at(FN_NONE, FN_NONE);
	at_rec.feat = nrec;
	EMIT(COMMON_CFG_WRITE, blk, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	EMIT(DEVICE_FEATURES_READ, blk, 0, (uint32_t)f);
	EMIT(COMMON_CFG_WRITE, blk, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	EMIT(DEVICE_FEATURES_READ, blk, 1, f >> 32);
	EMIT(DRIVER_FEATURES_WRITE, blk, 0, (uint32_t)f);
	EMIT(DRIVER_FEATURES_WRITE, blk, 1, f >> 32);
	at(FN_SET_STATUS, FN_ADD_STATUS);
	at_rec.fok = nrec + 1;
	status(blk, 3, 0xb);
	EMIT(FEATURES_OK, blk, f);
	at_rec.reread = nrec;
	EMIT(COMMON_CFG_READ, blk, VIRTIO_PCI_COMMON_STATUS, 1, 0xb);
	at(FN_NONE, FN_NONE);
	at_rec.setup = nrec;
	EMIT(CONFIG_READ, blk, 0, 8, 2048);
	EMIT(QUEUE_SELECT, blk, 0);
	EMIT(QUEUE_SIZE, blk, 0, 256, TRACE_READ);
	EMIT(QUEUE_SIZE, blk, 0, 128, TRACE_WRITE);
	EMIT(QUEUE_DESC, blk, 0, 0x100000);
	EMIT(QUEUE_DRIVER, blk, 0, 0x100800);
	EMIT(QUEUE_DEVICE, blk, 0, 0x101000);
	EMIT(MSIX_TABLE_WRITE, blk, 1, 0, 0xfee00000);
	EMIT(MSIX_ENABLE, blk, 1, 0);
	EMIT(QUEUE_MSIX_VECTOR, blk, 0, 1, 1);
	EMIT(QUEUE_ENABLE, blk, 0, 1, TRACE_WRITE);
	at(FN_SET_STATUS, FN_ADD_STATUS);
	at_rec.dok = nrec + 1;
	status(blk, 0xb, 0xf);
	EMIT(BACKEND_START, blk, TRACE_WIRE_IOEVENTFD | TRACE_WIRE_IRQFD, 1, trace_intern("vcpu"));
	at(FN_NONE, FN_NONE);
	at_rec.marker = nrec;
	EMIT(GUEST_MARKER, 0, trace_intern("io start"));

	at(FN_NOTIFY, FN_NONE);
	at_rec.notify1 = nrec;
	EMIT(QUEUE_NOTIFY, blk, 0, TRACE_VIA_EXIT, 1);
	at_rec.pop1 = nrec;
	EMIT(CHAIN_POP, blk, TRACE_PAIR(0, 0), VIRTIO_BLK_T_IN, 0, TRACE_PAIR(3, 512));
	at_rec.complete1 = nrec;
	EMIT(REQ_COMPLETE, blk, TRACE_PAIR(0, 0), VIRTIO_BLK_S_OK, 25000, 513);
	at_rec.used1 = nrec;
	EMIT(USED_PUSH, blk, TRACE_PAIR(0, 0), 513, 1);
	at_rec.irq1 = nrec;
	EMIT(IRQ_RAISE, blk, TRACE_PAIR(0, TRACE_IRQ_MSIX), 1, 0xfee00000, 0x41);

	at_rec.notify2 = nrec;
	EMIT(QUEUE_NOTIFY, blk, 0, TRACE_VIA_EXIT, 3);
	at(FN_NONE, FN_NONE);
	at_rec.pop2 = nrec;
	EMIT(CHAIN_POP, blk, TRACE_PAIR(0, 1), VIRTIO_BLK_T_OUT, 8, TRACE_PAIR(3, 4096));
	at_rec.pop3 = nrec;
	EMIT(CHAIN_POP, blk, TRACE_PAIR(0, 4), VIRTIO_BLK_T_IN, 16, TRACE_PAIR(3, 1024));
	EMIT(REQ_COMPLETE, blk, TRACE_PAIR(0, 4), VIRTIO_BLK_S_OK, 9000, 1025);
	EMIT(USED_PUSH, blk, TRACE_PAIR(0, 4), 1025, 2);
	EMIT(REQ_COMPLETE, blk, TRACE_PAIR(0, 1), VIRTIO_BLK_S_OK, 40000, 1);
	at_rec.used2 = nrec;
	EMIT(USED_PUSH, blk, TRACE_PAIR(0, 1), 1, 3);
	at_rec.irq2 = nrec;
	EMIT(IRQ_SUPPRESS, blk, 0, TRACE_SUPPRESS_EVENT_IDX, 3, 5);
	trace_guest_source(NULL, NULL);
	trace_thread_set(TRACE_THREAD_MAIN, 0);
	at_rec.end = nrec;
	EMIT(VM_STATE, 0, TRACE_VM_STOPPED);
	trace_stop();
	return 0;
}

static struct trace_file tf;
static struct view v;

static void test_tags(void)
{
	const uint8_t *s = v.tags.step;
	CHECK(tf.nrec == nrec, "sample: %zu records read back", tf.nrec);
	CHECK(s[at_rec.create] == TRACE_STEP_DEVICE && s[at_rec.create + 5] == TRACE_STEP_DEVICE,
	      "tags: host events are 'device built'");
	CHECK(s[at_rec.pci] == TRACE_STEP_PCI && s[at_rec.pci + 2] == TRACE_STEP_PCI,
	      "tags: config cycles before the reset are 'PCI probe'");
	CHECK(s[at_rec.reset] == TRACE_STEP_RESET && s[at_rec.reset + 1] == TRACE_STEP_RESET &&
		  s[at_rec.reset + 2] == TRACE_STEP_RESET &&
		  s[at_rec.reset + 3] == TRACE_STEP_RESET,
	      "tags: status 0, device_reset, backend_stop and the status poll are 'reset'");
	CHECK(s[at_rec.ack] == TRACE_STEP_ACK && s[at_rec.ack + 1] == TRACE_STEP_ACK &&
		  s[at_rec.driver] == TRACE_STEP_DRIVER,
	      "tags: ACKNOWLEDGE, its status read, DRIVER");
	CHECK(s[at_rec.feat] == TRACE_STEP_FEATURES && s[at_rec.feat + 5] == TRACE_STEP_FEATURES,
	      "tags: feature selects and windows are 'features'");
	CHECK(s[at_rec.fok] == TRACE_STEP_FEATURES_OK &&
		  s[at_rec.fok + 1] == TRACE_STEP_FEATURES_OK,
	      "tags: the FEATURES_OK write and the accepted set");
	CHECK(s[at_rec.fok - 1] == TRACE_STEP_FEATURES,
	      "tags: the status read before writing FEATURES_OK stays in 'features'");
	CHECK(s[at_rec.reread] == TRACE_STEP_REREAD, "tags: the read after FEATURES_OK is step 6");
	CHECK(s[at_rec.setup] == TRACE_STEP_SETUP && s[at_rec.setup + 7] == TRACE_STEP_SETUP &&
		  s[at_rec.setup + 10] == TRACE_STEP_SETUP,
	      "tags: config, queue registers and MSI-X during setup are 'device setup'");
	CHECK(s[at_rec.dok] == TRACE_STEP_DRIVER_OK && s[at_rec.dok + 1] == TRACE_STEP_DRIVER_OK,
	      "tags: DRIVER_OK and backend_start");
	CHECK(s[at_rec.marker] == TRACE_STEP_NONE && s[at_rec.end] == TRACE_STEP_NONE,
	      "tags: markers and VM state are on no path");
	CHECK(s[at_rec.notify1] == TRACE_STEP_NOTIFY && s[at_rec.pop1] == TRACE_STEP_POP &&
		  s[at_rec.complete1] == TRACE_STEP_COMPLETE &&
		  s[at_rec.used1] == TRACE_STEP_USED && s[at_rec.irq1] == TRACE_STEP_IRQ &&
		  s[at_rec.irq2] == TRACE_STEP_IRQ,
	      "tags: notify, pop, complete, used, interrupt (raised or suppressed)");
}

static void test_rounds(void)
{
	struct view_round o;
	CHECK(view_round_get(&tf, &v.tags, at_rec.ack, &o) == 0 && o.path == TRACE_PATH_INIT &&
		  o.cur == TRACE_STEP_ACK,
	      "round: ACKNOWLEDGE is on the init path");
	CHECK(o.mark[TRACE_STEP_DEVICE] == VIEW_MARK_DONE &&
		  o.mark[TRACE_STEP_PCI] == VIEW_MARK_DONE &&
		  o.mark[TRACE_STEP_RESET] == VIEW_MARK_DONE &&
		  o.mark[TRACE_STEP_ACK] == VIEW_MARK_NOW &&
		  o.mark[TRACE_STEP_DRIVER] == VIEW_MARK_TODO &&
		  o.mark[TRACE_STEP_DRIVER_OK] == VIEW_MARK_TODO,
	      "round: at ACKNOWLEDGE, earlier steps done, it lit, later ones to come");
	CHECK(o.at[TRACE_STEP_RESET] == at_rec.reset && o.at[TRACE_STEP_DRIVER] == at_rec.driver &&
		  o.at[TRACE_STEP_REREAD] == at_rec.reread &&
		  o.at[TRACE_STEP_DRIVER_OK] == at_rec.dok,
	      "round: each step's first record, past and future");
	CHECK(view_round_get(&tf, &v.tags, at_rec.setup + 4, &o) == 0 &&
		  o.cur == TRACE_STEP_SETUP && o.mark[TRACE_STEP_REREAD] == VIEW_MARK_DONE &&
		  o.mark[TRACE_STEP_DRIVER_OK] == VIEW_MARK_TODO,
	      "round: in device setup, the re-read is done and DRIVER_OK to come");
	CHECK(view_round_get(&tf, &v.tags, at_rec.marker, &o) < 0, "round: a marker has none");

	CHECK(view_round_get(&tf, &v.tags, at_rec.complete1, &o) == 0 && o.path == TRACE_PATH_IO &&
		  o.has_head && o.head == 0 && o.queue == 0,
	      "round: a completion is on the IO path, request q0 head 0");
	CHECK(o.at[TRACE_STEP_NOTIFY] == at_rec.notify1 && o.at[TRACE_STEP_POP] == at_rec.pop1 &&
		  o.at[TRACE_STEP_USED] == at_rec.used1 && o.at[TRACE_STEP_IRQ] == at_rec.irq1,
	      "round: the request's notify, pop, used and interrupt");
	CHECK(o.mark[TRACE_STEP_NOTIFY] == VIEW_MARK_DONE &&
		  o.mark[TRACE_STEP_POP] == VIEW_MARK_DONE &&
		  o.mark[TRACE_STEP_BACKEND] == VIEW_MARK_DONE &&
		  o.mark[TRACE_STEP_COMPLETE] == VIEW_MARK_NOW &&
		  o.mark[TRACE_STEP_USED] == VIEW_MARK_TODO &&
		  o.mark[TRACE_STEP_IRQ] == VIEW_MARK_TODO,
	      "round: at complete, notify/pop/backend done, used and interrupt to come");
	CHECK(view_round_get(&tf, &v.tags, at_rec.pop2, &o) == 0 && o.head == 1 &&
		  o.at[TRACE_STEP_USED] == at_rec.used2 && o.at[TRACE_STEP_IRQ] == at_rec.irq2 &&
		  o.at[TRACE_STEP_NOTIFY] == at_rec.notify2,
	      "round: requests completed out of order are followed by their head");
	CHECK(view_round_get(&tf, &v.tags, at_rec.irq2, &o) == 0 && o.head == 1 &&
		  o.cur == TRACE_STEP_IRQ && o.mark[TRACE_STEP_USED] == VIEW_MARK_DONE,
	      "round: a suppressed interrupt belongs to the last chain published");
}

/* n from the reset walks the spec's steps in order, then the IO path. */
static void test_step_walk(void)
{
	size_t want[] = {at_rec.ack,   at_rec.driver, at_rec.feat,    at_rec.fok,  at_rec.reread,
			 at_rec.setup, at_rec.dok,    at_rec.notify1, at_rec.pop1, at_rec.complete1,
			 at_rec.used1, at_rec.irq1,   at_rec.notify2};
	size_t r = at_rec.reset;
	bool ok = true;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		r = view_step_next(&tf, &v.tags, r, 1);
		if (r != want[i]) {
			printf("# n #%zu: got %zu, want %zu\n", i, r, want[i]);
			ok = false;
		}
	}
	CHECK(ok, "n: reset -> ACK -> DRIVER -> features -> FEATURES_OK -> re-read -> setup -> "
		  "DRIVER_OK -> notify -> pop -> complete -> used -> interrupt -> next notify");
	ok = true;
	for (size_t i = sizeof(want) / sizeof(want[0]) - 1; i-- > 0;) {
		r = view_step_next(&tf, &v.tags, r, -1);
		if (r != want[i]) {
			printf("# p #%zu: got %zu, want %zu\n", i, r, want[i]);
			ok = false;
		}
		r = want[i];
	}
	CHECK(ok, "p: the same steps backwards");
	CHECK(view_step_next(&tf, &v.tags, at_rec.setup + 5, -1) == at_rec.setup,
	      "p: inside a step, back to where the step began");
	CHECK(view_step_next(&tf, &v.tags, at_rec.pop2, 1) == at_rec.used2 - 1,
	      "n: from a pop to its own completion, past another request's events");
	CHECK(view_step_next(&tf, &v.tags, at_rec.marker, 1) == at_rec.notify1,
	      "n: off any path, to the next record on one");
	CHECK(view_step_next(&tf, &v.tags, at_rec.create, 1) == at_rec.pci,
	      "n: device built -> PCI probe");

	/* the model's n/p honours the filter */
	view_select_record(&v, at_rec.reset);
	CHECK(view_step(&v, 1) && view_selected(&v) == at_rec.ack, "view n: to ACKNOWLEDGE");
	view_set_filter(&v, TRACE_MASK_ALL & ~view_class_mask(TRACE_CLASS_FEATURES) &
				~view_class_mask(TRACE_CLASS_CONFIG));
	view_select_record(&v, at_rec.driver);
	CHECK(view_step(&v, 1) && view_selected(&v) == at_rec.fok,
	      "view n: features and config hidden, DRIVER -> FEATURES_OK (%zu)", view_selected(&v));
	view_set_filter(&v, TRACE_MASK_ALL);
}

static void test_queue(void)
{
	struct view_queue q;
	view_queue_get(&tf, at_rec.setup + 3, &q);
	CHECK(q.known && q.queue == 0 && q.max_size == 256 && q.size == 128 && !q.desc,
	      "queue: after queue_size, size 128 of 256, no rings yet");
	view_queue_get(&tf, at_rec.dok, &q);
	CHECK(q.enabled && q.desc == 0x100000 && q.driver == 0x100800 && q.device == 0x101000 &&
		  q.vector == 1,
	      "queue: at DRIVER_OK, enabled with its three addresses and vector 1");
	view_queue_get(&tf, at_rec.pop1, &q);
	CHECK(q.have_avail && q.avail_idx == 1 && q.inflight_all == 1 && q.ninflight == 1 &&
		  q.inflight[0].head == 0 && q.inflight[0].pop == at_rec.pop1,
	      "queue: after the first pop, avail idx 1 and head 0 in flight");
	view_queue_get(&tf, at_rec.used2 - 1, &q);
	CHECK(q.inflight_all == 1 && q.inflight[0].head == 1 && q.inflight[0].completed &&
		  q.used_idx == 2 && q.pops == 3,
	      "queue: head 1 completed, not yet used; used idx 2");
	view_queue_get(&tf, at_rec.irq2, &q);
	CHECK(q.inflight_all == 0 && q.used_idx == 3 && q.irqs == 1 && q.suppressed == 1,
	      "queue: nothing in flight at the end, one interrupt raised, one suppressed");
	view_queue_get(&tf, at_rec.reset + 1, &q);
	CHECK(q.max_size == 256 && !q.size && !q.enabled && q.last_reset == at_rec.reset + 1,
	      "queue: a reset keeps only the maximum size");
}

static void test_model(void)
{
	char buf[64];
	CHECK(v.nrows == tf.nrec, "filter: everything shown at first");
	view_set_filter(&v, view_class_mask(TRACE_CLASS_STATUS));
	CHECK(v.nrows == 6, "filter: virtio-status only (%zu rows)", v.nrows);
	view_set_filter(&v, TRACE_MASK_ALL);
	view_select_record(&v, 0);
	CHECK(view_search(&v, "features_ok", 1) && view_selected(&v) == at_rec.fok,
	      "search: decoded words (FEATURES_OK in the status written)");
	CHECK(view_search(&v, "features_ok", 1) && view_selected(&v) == at_rec.fok + 1,
	      "search: again, an event name");
	view_select_record(&v, at_rec.setup);
	CHECK(view_search(&v, "virtio_add_status", 1) && view_selected(&v) == at_rec.dok - 1,
	      "search: a guest stack frame (%zu)", view_selected(&v));
	CHECK(view_search(&v, "io start", 1) && view_selected(&v) == at_rec.marker,
	      "search: marker text");
	CHECK(view_search(&v, "DEV_CREATE", 1) == false || view_selected(&v) == at_rec.create,
	      "search: case-insensitive, wraps");
	view_select_record(&v, 0);
	CHECK(view_search(&v, "virtio_add_queue", 1) &&
		  tf.rec[view_selected(&v)].ev == TRACE_EV_QUEUE_ADD,
	      "search: a QEMU function name finds the event doing its job (#%zu)",
	      view_selected(&v));
	view_select_record(&v, 0);
	CHECK(view_search(&v, "3.1.1", 1) && v.tags.step[view_selected(&v)] == TRACE_STEP_RESET,
	      "search: a spec section finds the first step of §3.1.1 (#%zu)", view_selected(&v));
	CHECK(view_search(&v, "re-read status", 1) &&
		  v.tags.step[view_selected(&v)] == TRACE_STEP_REREAD,
	      "search: a step's name (#%zu)", view_selected(&v));
	CHECK(!view_search(&v, "no-such-thing", 1) && strstr(v.msg, "not found"),
	      "search: says when nothing matches");
	CHECK(view_goto(&v, "5") && view_selected(&v) == 5, "go to: an event number");
	CHECK(!view_goto(&v, "99999") && view_selected(&v) == 5, "go to: a number past the end");
	CHECK(view_goto(&v, "0s") && view_selected(&v) == 0, "go to: a time");
	CHECK(!view_goto(&v, "1.5 fortnights"), "go to: a bad unit is refused");
	CHECK(!strcmp(view_speed_name(-3, buf, sizeof(buf)), "x1/8") &&
		  !strcmp(view_speed_name(2, buf, sizeof(buf)), "x4"),
	      "speed names");

	/* playback in recorded time: at 1x the whole sample (microseconds) is over at once */
	view_select_record(&v, 0);
	view_play(&v, true, 1000);
	uint64_t wait = view_play_tick(&v, 1000);
	CHECK(v.playing && view_selected(&v) < tf.nrec - 1, "play: starts at the selection");
	wait = view_play_tick(&v, 1000 + 10000000000ULL);
	CHECK(!v.playing && wait == 0 && view_selected(&v) == tf.nrec - 1,
	      "play: ends on the last event and stops");
	view_select_record(&v, 0);
	view_play(&v, true, 0);
	v.speed = VIEW_SPEED_MIN; /* 1/65536: 1 us of trace is 65 ms */
	view_play_tick(&v, 0);
	size_t early = view_selected(&v);
	CHECK(view_play_tick(&v, 1) > 0 && view_selected(&v) == early,
	      "play: slowed down, it waits for the next event's time");
	view_play(&v, false, 0);
	v.speed = 0;
}

static void test_qemu_and_text(void)
{
	bool all = true;
	for (unsigned ev = 0; ev < TRACE_EV_NR; ev++) {
		const struct qemu_func *q = qemu_func_for(ev);
		if (!q || (!q->func && !q->note) || (q->func && (!q->from || !q->file))) {
			printf("# no QEMU mapping for %s\n", trace_events[ev].name);
			all = false;
		}
	}
	CHECK(all, "qemu map: every event has a function with callers and file, or a note why not");
	CHECK(
	    !strcmp(qemu_func_for(TRACE_EV_VIRTIO_STATUS)->func, "virtio_set_status()") &&
		strstr(qemu_func_for(TRACE_EV_VIRTIO_STATUS)->from, "virtio_pci_common_write()") &&
		strstr(qemu_func_for(TRACE_EV_VIRTIO_STATUS)->from, "virtio_ioport_write()"),
	    "qemu map: a status write is virtio_set_status() from the common/legacy writes");
	CHECK(strstr(qemu_func_for(TRACE_EV_DEV_CREATE)->from, "pci_qdev_realize") &&
		  strstr(qemu_func_for(TRACE_EV_DEV_CREATE)->func, "do_pci_register_device"),
	      "qemu map: device creation is do_pci_register_device() from pci_qdev_realize()");
}

static char detail[64][256];
static int ndetail;

static void collect(void *opaque, int attr, const char *text)
{
	(void)opaque;
	(void)attr;
	if (ndetail < 64)
		snprintf(detail[ndetail++], sizeof(detail[0]), "%s", text);
}

static bool detail_has(const char *s)
{
	for (int i = 0; i < ndetail; i++)
		if (strstr(detail[i], s))
			return true;
	return false;
}

static void test_detail(void)
{
	char sum[256];
	ndetail = 0;
	view_detail(&tf, at_rec.driver, v.tags.step[at_rec.driver], collect, NULL);
	CHECK(ndetail > 6 && strstr(detail[0], "virtio_status") &&
		  strstr(detail[0], "virtio-status"),
	      "detail: the event and its class first");
	CHECK(detail_has("ACKNOWLEDGE|DRIVER (0x3)"), "detail: decoded value with the raw one");
	CHECK(detail_has("guest    vp_modern_set_status+0x3"), "detail: the guest symbol");
	CHECK(detail_has("guest <- virtio_add_status+0x2") && detail_has("virtio_dev_probe+0x4"),
	      "detail: the guest stack");
	CHECK(detail_has("kvmscope status()") && detail_has("test_view.c:"),
	      "detail: the kvmscope function that emitted it, and where");
	CHECK(detail_has("QEMU 7.2 virtio_set_status()"), "detail: the QEMU counterpart");
	CHECK(detail_has("step 3 of §3.1.1: DRIVER"), "detail: the spec step");
	ndetail = 0;
	view_detail(&tf, at_rec.pop1, v.tags.step[at_rec.pop1], collect, NULL);
	CHECK(detail_has("IO path: pop (§2.7.13)"), "detail: an IO step");
	view_summary_fit(&tf, &tf.rec[at_rec.fok], 30, sum, sizeof(sum));
	CHECK(strlen(sum) <= 30 && !strncmp(sum, "virtio_status ..", 16) && strstr(sum, "->") &&
		  (!strcmp(sum + strlen(sum) - 9, "->FEAT_OK") ||
		   !strcmp(sum + strlen(sum) - 8, "|FEAT_OK")),
	      "timeline at 30 columns keeps the status that changed: %s", sum);
	view_summary_fit(&tf, &tf.rec[at_rec.fok], 200, sum, sizeof(sum));
	CHECK(!strcmp(sum, "virtio_status ACKNOWLEDGE|DRIVER->ACKNOWLEDGE|DRIVER|FEATURES_OK"),
	      "timeline, wide: old->new in full: %s", sum);
	CHECK(!strcmp(view_summary(&tf, &tf.rec[at_rec.marker], sum, sizeof(sum)),
		      "guest_marker text=\"io start\""),
	      "summary: name and decoded arguments (%s)", sum);
}

static void test_layout(void)
{
	struct view_layout l;
	view_layout(24, 80, 0, false, &l);
	CHECK(l.head.y == 0 && l.status.y == 23 && l.timeline.y == 1 && l.path.y + l.path.h == 23 &&
		  l.timeline.w + 1 + l.detail.w == 80 && l.path.h >= VIEW_PATH_ROWS &&
		  l.timeline.h >= 8,
	      "layout 80x24: timeline %d rows, path %d rows, all on screen", l.timeline.h,
	      l.path.h);
	view_layout(24, 80, 3, false, &l);
	CHECK(l.console.h == 3 && l.console.y + 3 == 23 && l.path.y + l.path.h == l.console.y,
	      "layout 80x24 live: the console above the status line");
	view_layout(50, 200, 0, true, &l);
	CHECK(l.detail.w == 200 && l.detail.h == 48 && l.timeline.h == 0, "layout: zoomed detail");
}

/* --- view A --compare B: diff's alignment as rows, n/p by init step, d/m by difference. --- */
static bool cmp_row_is(const struct view_cmp *c, size_t k, uint8_t op, const char *text)
{
	const struct view_cmp_row *r = &c->rows[k];
	return r->op == op &&
	       (!text || (r->a && strstr(r->a->text, text)) || (r->b && strstr(r->b->text, text)));
}

static void cmp_collect(const struct view_cmp *c, int side)
{
	ndetail = 0;
	view_cmp_detail(c, side, collect, NULL);
}

/* The parts around the handshake on a recorded pair: kvmscope's modern-only Linux boot beside
 * QEMU's disable-legacy=on device. PCI enumeration and IO rows are diff's, with diff's labels,
 * and nothing in them is unexplained. */
static void test_compare_parts(void)
{
	struct view_cmp c;
	char err[512] = "";
	if (view_cmp_load(&c, "tests/fixtures/kvmscope-modern.kvt",
			  "tests/fixtures/qemu-modern-only.log", err, sizeof(err))) {
		CHECK(false, "compare parts: the recorded pair loads (%s)", err);
		return;
	}
	const struct diff_cmp *p = &c.cmp[0];
	size_t nio = p->npart_rows[DIFF_PART_IO];
	bool cap = false, sizing = false, io[4] = {false}, io_labels = true;
	static const char *const io_words[] = {"notify queue 0", "pop queue 0", "complete queue 0",
					       "interrupt queue 0"};
	for (size_t k = 0; k < c.nrows; k++) {
		const struct view_cmp_row *r = &c.rows[k];
		cap |= r->part == DIFF_PART_PCI && cmp_row_is(&c, k, DIFF_SAME, "capability msix@");
		sizing |= r->part == DIFF_PART_PCI && cmp_row_is(&c, k, DIFF_SAME, "sizing reads");
		for (int w = 0; w < 4; w++)
			io[w] |= r->part == DIFF_PART_IO && r->a && r->b &&
				 strstr(r->a->text, io_words[w]) && strstr(r->b->text, io_words[w]);
	}
	for (long k = 0; k < (long)nio; k++) { /* the same rows and labels as diff's */
		const struct view_cmp_row *r = &c.rows[c.nrows - nio + k];
		const struct diff_row *d = &p->part_rows[DIFF_PART_IO][k];
		io_labels &=
		    r->a == d->a && r->b == d->b && (d->op == DIFF_SAME || r->label == d->label);
	}
	CHECK(cap && sizing,
	      "compare: PCI enumeration: the capability walk and BAR sizing, aligned");
	CHECK(io[0] && io[1] && io[2] && io[3] && io_labels,
	      "compare: IO: notify, pop, completion and interrupt aligned, with diff's labels");
	CHECK(c.mismatches == 0 && c.expected > 50,
	      "compare parts: kvmscope modern against QEMU modern-only: %zu expected, %zu "
	      "mismatches over the three parts",
	      c.expected, c.mismatches);
	view_cmp_free(&c);
}

static void test_compare(const char *sample)
{
	struct view_cmp c;
	char err[512] = "";
	unsigned steps[TRACE_STEP_NR], nsteps = 0;

	CHECK(view_cmp_load(&c, sample, "tests/fixtures/qemu-modern.log", err, sizeof(err)) == 0,
	      "compare: the sample against QEMU's modern log loads (%s)", err);
	const struct diff_cmp *p = &c.cmp[0];
	size_t npci = p->npart_rows[DIFF_PART_PCI], nio = p->npart_rows[DIFF_PART_IO];
	CHECK(c.ncmp == 1 && c.nrows == 3 + (size_t)p->nrows + npci + nio && p->nrows > 10 &&
		  npci > 10 && nio > 10,
	      "compare: one device pair, its rows are diff's alignment: PCI enumeration (%zu), "
	      "handshake (%ld), IO (%zu), each under its title",
	      npci, p->nrows, nio);
	size_t same = 0, labelled = 0, unexplained = 0;
	for (size_t k = 0; k < c.nrows; k++) {
		const struct view_cmp_row *r = &c.rows[k];
		same += !r->title && r->op == DIFF_SAME;
		labelled += r->op != DIFF_SAME && r->label;
		unexplained += r->op != DIFF_SAME && !r->label;
	}
	CHECK(c.same == same && c.expected == labelled &&
		  c.mismatches == p->mismatches + p->part_mismatches[DIFF_PART_PCI] +
				      p->part_mismatches[DIFF_PART_IO] &&
		  c.mismatches == unexplained && c.expected && c.mismatches,
	      "compare: the counts are diff's, over the three parts (%zu same, %zu expected, %zu "
	      "mismatches)",
	      c.same, c.expected, c.mismatches);
	size_t opened = c.row;
	CHECK(opened > npci + 1 && c.rows[opened - 1].title &&
		  c.rows[opened - 1].part == DIFF_PART_HANDSHAKE &&
		  cmp_row_is(&c, opened, DIFF_SAME, "reset") &&
		  c.rows[opened].step == TRACE_STEP_RESET && c.rows[opened].step_start,
	      "compare: the view opens on the handshake's first row, the reset on both sides, step "
	      "1");
	size_t both = 0;
	for (size_t k = 0; k < c.nrows; k++)
		both += cmp_row_is(&c, k, DIFF_SAME, "status ACKNOWLEDGE") && c.rows[k].a &&
			c.rows[k].b;
	CHECK(both == 4, "compare: the four status writes on both sides (%zu)", both);
	do
		steps[nsteps++] = c.rows[c.row].step;
	while (nsteps < TRACE_STEP_NR && view_cmp_step(&c, 1));
	bool rising = true;
	for (unsigned i = 1; i < nsteps; i++)
		rising &= steps[i] > steps[i - 1];
	CHECK(rising && steps[nsteps - 1] == TRACE_STEP_DRIVER_OK && nsteps >= 6,
	      "compare: n walks the init steps in order to DRIVER_OK (%u steps)", nsteps);
	CHECK(!view_cmp_step(&c, 1) && strstr(c.msg, "no later"), "compare: n at the end says so");
	CHECK(cmp_row_is(&c, c.row, DIFF_SAME, "DRIVER_OK"), "compare: DRIVER_OK on both sides");
	size_t last = c.row;
	view_cmp_step(&c, -1);
	CHECK(c.row < last && c.rows[c.row].step_start, "compare: p goes back a step");

	c.row = opened;
	CHECK(view_cmp_diff(&c, 1, false) && c.rows[c.row].op == DIFF_ONLY_A &&
		  c.rows[c.row].label && strstr(c.msg, "expected"),
	      "compare: d finds the first difference, labelled (%s)", c.msg);
	cmp_collect(&c, -1);
	CHECK(detail_has("only in A: expected [") && detail_has("transport register"),
	      "compare: the detail explains the label");
	cmp_collect(&c, 0);
	CHECK(detail_has("common_cfg_read") || detail_has("common_cfg_write"),
	      "compare: the detail shows A's event");
	cmp_collect(&c, 1);
	CHECK(detail_has("- not in B: QEMU 7.2 has no trace event"),
	      "compare: ... and why B has none");
	size_t first = c.row;
	view_cmp_diff(&c, 1, false);
	CHECK(c.row > first + 1 && c.rows[c.row - 1].op == DIFF_SAME,
	      "compare: d skips the rest of a run (to row %zu)", c.row);
	c.row = opened;
	CHECK(view_cmp_diff(&c, 1, true) && c.rows[c.row].op == DIFF_ONLY_B &&
		  !c.rows[c.row].label && strstr(c.msg, "4 rows: 4 mismatches"),
	      "compare: m finds the unexplained run (%s)", c.msg);
	cmp_collect(&c, -1);
	CHECK(detail_has("a mismatch, no label explains it"), "compare: the detail says mismatch");
	cmp_collect(&c, 1);
	CHECK(detail_has("[pci]"), "compare: the detail shows B's event from QEMU's log");
	CHECK(view_cmp_diff(&c, -1, false) && c.row < first + 20, "compare: D goes back");

	/* the parts around the handshake: PCI enumeration and IO, with diff's labels */
	c.row = opened;
	CHECK(view_cmp_part(&c, 1) && c.rows[c.row].title && c.rows[c.row].part == DIFF_PART_IO &&
		  strstr(c.msg, "IO: after DRIVER_OK"),
	      "compare: s goes to the IO part (%s)", c.msg);
	CHECK(!view_cmp_part(&c, 1) && view_cmp_part(&c, -1) && view_cmp_part(&c, -1) &&
		  c.row == 0 && c.rows[0].part == DIFF_PART_PCI,
	      "compare: S goes back to the handshake, then to PCI enumeration at the top");
	cmp_collect(&c, -1);
	CHECK(detail_has("PCI enumeration") && detail_has("BAR sizing"),
	      "compare: a part's title row says what the part holds");
	view_cmp_free(&c);

	CHECK(view_cmp_load(&c, "tests/fixtures/qemu-legacy.log", "tests/fixtures/qemu-modern.log",
			    err, sizeof(err)) == 0 &&
		  !view_cmp_diff(&c, 1, true) && view_cmp_diff(&c, 1, false) &&
		  cmp_row_is(&c, c.row, DIFF_ONLY_B, "FEATURES_OK") && c.rows[c.row].label &&
		  strstr(c.rows[c.row].label, "a legacy driver has no FEATURES_OK step"),
	      "compare: QEMU legacy against modern: no mismatch for m; d finds FEATURES_OK only "
	      "in B, labelled with the spec's reason");
	view_cmp_free(&c);
	CHECK(view_cmp_load(&c, sample, "/nonexistent.log", err, sizeof(err)) == -1 &&
		  strstr(err, "/nonexistent.log"),
	      "compare: a missing file is named (%s)", err);

	struct view_layout l;
	view_layout_compare(24, 80, false, &l);
	CHECK(l.timeline.h >= 8 && l.detail.y == l.timeline.y + l.timeline.h &&
		  l.side[0].y + l.side[0].h == 23 && l.side[0].w + 1 + l.side[1].w == 80 &&
		  l.side[0].h >= 8,
	      "compare layout 80x24: %d rows, detail %d, sides %d", l.timeline.h - 1, l.detail.h,
	      l.side[0].h);
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/kvmscope-view-XXXXXX", err[256];

	int mode = check_view_modes(argc, argv, write_sample, view_cmd_main);
	if (mode >= 0)
		return mode;
	close(mkstemp(path));
	CHECK(write_sample(path) == 0, "sample trace written");
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "sample trace read (%s)", err);
	test_compare(path);
	test_compare_parts();
	unlink(path);
	CHECK(view_init(&v, &tf) == 0, "view_init");
	test_tags();
	test_rounds();
	test_step_walk();
	test_queue();
	test_model();
	test_qemu_and_text();
	test_detail();
	test_layout();
	view_free(&v);
	trace_file_free(&tf);
	return CHECK_DONE();
}
