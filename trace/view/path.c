/* trace/view/path.c - the round of steps around a selected record (which step each record is:
 * trace/steps.c), and n/p along it. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#include "trace/view/view.h"

/* --- Rounds --- */

static bool same_dev(const struct trace_file *tf, size_t i, uint16_t dev)
{
	return tf->rec[i].dev == dev;
}

static void init_round(const struct trace_file *tf, const struct trace_tags *t, size_t sel,
		       struct view_round *o)
{
	size_t n = t->n, b = SIZE_MAX;

	/* begin: the first record of the reset run at or before sel */
	for (size_t i = sel + 1; i-- > 0;)
		if (same_dev(tf, i, o->dev) && t->step[i] == TRACE_STEP_RESET) {
			b = i;
			break;
		}
	if (b != SIZE_MAX)
		for (size_t i = b; i-- > 0;) {
			if (!same_dev(tf, i, o->dev) || t->step[i] == TRACE_STEP_NONE)
				continue;
			if (t->step[i] != TRACE_STEP_RESET)
				break;
			b = i;
		}
	o->begin = b == SIZE_MAX ? 0 : b;
	/* end: the next reset after the round has left its own reset run */
	bool seen_reset = false, left = false;
	o->end = n;
	for (size_t i = o->begin; i < n; i++) {
		if (!same_dev(tf, i, o->dev) || t->step[i] == TRACE_STEP_NONE)
			continue;
		if (t->step[i] == TRACE_STEP_RESET) {
			if (left) {
				o->end = i;
				break;
			}
			seen_reset = true;
		} else if (seen_reset) {
			left = true;
		}
	}
	for (size_t i = 0; i < o->end; i++) {
		uint8_t s = t->step[i];
		if (!same_dev(tf, i, o->dev))
			continue;
		if (i < o->begin &&
		    s == TRACE_STEP_DRIVER_OK) /* a session before: count from here */
			o->pci_reads = o->pci_writes = 0;
		if (i < o->begin) {
			o->pci_reads += tf->rec[i].ev == TRACE_EV_PCI_CFG_READ;
			o->pci_writes += tf->rec[i].ev == TRACE_EV_PCI_CFG_WRITE;
		}
		if (trace_step_path(s) != TRACE_PATH_INIT)
			continue;
		if ((i >= o->begin || s <= TRACE_STEP_PCI) && o->at[s] == SIZE_MAX)
			o->at[s] = i;
	}
	o->machine_reset = o->at[TRACE_STEP_DEVICE] != SIZE_MAX &&
			   tf->rec[o->at[TRACE_STEP_DEVICE]].ev == TRACE_EV_VIRTIO_STATUS;
	/* QEMU boots SeaBIOS, which drives virtio-blk to read the boot disk before the OS does:
	 * in a QEMU log, a session that reached DRIVER_OK with another after it is SeaBIOS's */
	char src[32];
	if (o->at[TRACE_STEP_DRIVER_OK] != SIZE_MAX && o->at[TRACE_STEP_DRIVER_OK] >= o->begin &&
	    trace_file_info(tf, "source", src, sizeof(src)) && !strcmp(src, "qemu-log"))
		for (size_t i = o->end; i < n && !o->firmware; i++)
			o->firmware = same_dev(tf, i, o->dev) && t->step[i] == TRACE_STEP_DRIVER_OK;
}

bool view_machine_reset(const struct trace_file *tf, const struct trace_tags *t, size_t rec)
{
	return rec < t->n && t->step[rec] == TRACE_STEP_DEVICE &&
	       tf->rec[rec].ev == TRACE_EV_VIRTIO_STATUS;
}

const char *view_unlogged_text(const struct trace_file *tf)
{
	char src[32];
	if (!trace_file_info(tf, "source", src, sizeof(src)))
		return "not recorded (--trace-events)";
	return !strcmp(src, "qemu-log") ? "not in QEMU's log" : "not in the imported log";
}

/* The events that can realize a step: none of them recorded, the step cannot show. */
static uint64_t step_events(unsigned s)
{
#define EV(x) (1ULL << TRACE_EV_##x)
	const uint64_t status = EV(VIRTIO_STATUS) | EV(DEVICE_RESET);
	const uint64_t common = EV(COMMON_CFG_READ) | EV(COMMON_CFG_WRITE);
	switch (s) {
	case TRACE_STEP_DEVICE:
		return EV(DEV_CREATE) | EV(CFG_SPACE_BUILT) | EV(BAR_REGISTER) | EV(MSIX_ALLOC) |
		       EV(QUEUE_ADD) | EV(HOST_FEATURES);
	case TRACE_STEP_PCI:
		return view_class_mask(TRACE_CLASS_PCI);
	case TRACE_STEP_FEATURES:
		return EV(DEVICE_FEATURES_READ) | EV(DRIVER_FEATURES_WRITE) | common;
	case TRACE_STEP_FEATURES_OK:
		return status | EV(FEATURES_OK) | EV(FEATURES_REFUSED);
	case TRACE_STEP_REREAD:
		return EV(COMMON_CFG_READ);
	case TRACE_STEP_SETUP:
		return view_class_mask(TRACE_CLASS_QUEUE) | EV(CONFIG_READ) | EV(CONFIG_WRITE) |
		       common;
	case TRACE_STEP_NOTIFY:
		return EV(QUEUE_NOTIFY);
	case TRACE_STEP_POP:
		return EV(CHAIN_POP);
	case TRACE_STEP_BACKEND:
	case TRACE_STEP_COMPLETE:
		return EV(REQ_COMPLETE);
	case TRACE_STEP_USED:
		return EV(USED_PUSH);
	case TRACE_STEP_IRQ:
		return EV(IRQ_RAISE) | EV(IRQ_SUPPRESS) | EV(ISR_READ);
	default:
		return status;
	}
#undef EV
}

/* The last (dir < 0) or first record from `from` on with this device, event and queue (and head
 * when head != UINT32_MAX); SIZE_MAX when none. `stop` ends a forward search there. */
static size_t find(const struct trace_file *tf, size_t from, int dir, uint16_t dev, unsigned ev,
		   uint32_t queue, uint32_t head, size_t stop)
{
	for (size_t i = from; i < tf->nrec && i < stop; i += dir) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->dev == dev && r->ev == ev && view_arg(r, VA_QUEUE, queue) == queue &&
		    (head == UINT32_MAX || view_arg(r, VA_HEAD, head) == head))
			return i;
		if (dir < 0 && i == 0)
			break;
	}
	return SIZE_MAX;
}

static size_t find_irq(const struct trace_file *tf, size_t from, uint16_t dev, uint32_t queue)
{
	size_t a = find(tf, from, 1, dev, TRACE_EV_IRQ_RAISE, queue, UINT32_MAX, SIZE_MAX);
	size_t b = find(tf, from, 1, dev, TRACE_EV_IRQ_SUPPRESS, queue, UINT32_MAX, a);
	return b < a ? b : a;
}

static void io_round(const struct trace_file *tf, size_t sel, struct view_round *o)
{
	const struct trace_rec *r = &tf->rec[sel];
	size_t pop = SIZE_MAX, used = SIZE_MAX;

	o->queue = view_arg(r, VA_QUEUE, 0);
	if (r->ev == TRACE_EV_ISR_READ) { /* INTx: the interrupt it acknowledges */
		size_t irq = SIZE_MAX;
		for (size_t i = sel; i-- > 0 && irq == SIZE_MAX;)
			if (tf->rec[i].dev == o->dev && tf->rec[i].ev == TRACE_EV_IRQ_RAISE)
				irq = i;
		if (irq != SIZE_MAX)
			o->queue = view_arg(&tf->rec[irq], VA_QUEUE, 0);
	}
	switch (r->ev) {
	case TRACE_EV_QUEUE_NOTIFY: {
		size_t next = find(tf, sel + 1, 1, o->dev, TRACE_EV_QUEUE_NOTIFY, o->queue,
				   UINT32_MAX, SIZE_MAX);
		pop = find(tf, sel + 1, 1, o->dev, TRACE_EV_CHAIN_POP, o->queue, UINT32_MAX, next);
		o->at[TRACE_STEP_NOTIFY] = sel;
		break;
	}
	case TRACE_EV_CHAIN_POP:
		pop = sel;
		break;
	case TRACE_EV_REQ_COMPLETE:
	case TRACE_EV_USED_PUSH:
		pop = find(tf, sel, -1, o->dev, TRACE_EV_CHAIN_POP, o->queue,
			   view_arg(r, VA_HEAD, 0), SIZE_MAX);
		break;
	default: /* the interrupt: for the last chain published before it */
		used =
		    find(tf, sel, -1, o->dev, TRACE_EV_USED_PUSH, o->queue, UINT32_MAX, SIZE_MAX);
		if (used != SIZE_MAX)
			pop = find(tf, used, -1, o->dev, TRACE_EV_CHAIN_POP, o->queue,
				   view_arg(&tf->rec[used], VA_HEAD, 0), SIZE_MAX);
		o->at[TRACE_STEP_IRQ] = sel;
		break;
	}
	if (pop == SIZE_MAX && used == SIZE_MAX)
		return;
	if (pop != SIZE_MAX) {
		o->head = view_arg(&tf->rec[pop], VA_HEAD, 0);
		o->has_head = true;
		o->at[TRACE_STEP_POP] = pop;
		if (o->at[TRACE_STEP_NOTIFY] == SIZE_MAX)
			o->at[TRACE_STEP_NOTIFY] = find(tf, pop, -1, o->dev, TRACE_EV_QUEUE_NOTIFY,
							o->queue, UINT32_MAX, SIZE_MAX);
		o->at[TRACE_STEP_COMPLETE] = find(tf, pop + 1, 1, o->dev, TRACE_EV_REQ_COMPLETE,
						  o->queue, o->head, SIZE_MAX);
		if (used == SIZE_MAX)
			used = find(tf, pop + 1, 1, o->dev, TRACE_EV_USED_PUSH, o->queue, o->head,
				    SIZE_MAX);
	}
	o->at[TRACE_STEP_USED] = used;
	if (o->at[TRACE_STEP_IRQ] == SIZE_MAX && used != SIZE_MAX)
		o->at[TRACE_STEP_IRQ] = find_irq(tf, used + 1, o->dev, o->queue);
}

static void mark(struct view_round *o, size_t sel, uint64_t recorded)
{
	unsigned first = o->path == TRACE_PATH_INIT ? TRACE_INIT_FIRST : TRACE_IO_FIRST;
	unsigned last = o->path == TRACE_PATH_INIT ? TRACE_INIT_LAST : TRACE_IO_LAST;
	bool later_done = false;

	for (unsigned s = last + 1; s-- > first;) {
		size_t at = o->at[s];
		if (s == o->cur)
			o->mark[s] = VIEW_MARK_NOW;
		else if (s == TRACE_STEP_BACKEND) /* no event of its own: done once completed */
			o->mark[s] = o->at[TRACE_STEP_COMPLETE] <= sel ? VIEW_MARK_DONE
				     : o->cur == TRACE_STEP_COMPLETE   ? VIEW_MARK_DONE
								       : VIEW_MARK_TODO;
		else if (at != SIZE_MAX && at <= sel)
			o->mark[s] = VIEW_MARK_DONE;
		else if (at == SIZE_MAX && !(recorded & step_events(s)))
			o->mark[s] = VIEW_MARK_UNLOGGED;
		else if (at == SIZE_MAX && later_done)
			o->mark[s] = VIEW_MARK_SKIPPED;
		else
			o->mark[s] = VIEW_MARK_TODO;
		if (o->mark[s] == VIEW_MARK_DONE || o->mark[s] == VIEW_MARK_NOW)
			later_done = true;
	}
}

int view_round_get(const struct trace_file *tf, const struct trace_tags *t, size_t sel,
		   struct view_round *o)
{
	memset(o, 0, sizeof(*o));
	for (unsigned s = 0; s < TRACE_STEP_NR; s++)
		o->at[s] = SIZE_MAX;
	o->cur = TRACE_STEP_NONE;
	if (sel >= t->n || t->step[sel] == TRACE_STEP_NONE)
		return -1;
	o->cur = t->step[sel];
	o->dev = tf->rec[sel].dev;
	o->path = trace_step_path(o->cur);
	if (o->path == TRACE_PATH_INIT)
		init_round(tf, t, sel, o);
	else
		io_round(tf, sel, o);
	if (o->at[o->cur] == SIZE_MAX || o->at[o->cur] > sel)
		o->at[o->cur] = sel;
	mark(o, sel, trace_file_recorded(tf));
	return 0;
}

/* Leaving the round: the next or previous record of this device on a path, outside it. */
static size_t beyond(const struct trace_file *tf, const struct trace_tags *t, size_t sel,
		     const struct view_round *o, int dir)
{
	for (size_t i = sel + dir; i < t->n; i += dir) {
		uint8_t s = t->step[i];
		if (same_dev(tf, i, o->dev) && s != TRACE_STEP_NONE) {
			bool inside = false;
			for (unsigned k = 0; k < TRACE_STEP_NR; k++)
				inside |= o->at[k] == i;
			if (o->path == TRACE_PATH_INIT)
				inside |= i >= o->begin && i < o->end &&
					  trace_step_path(s) == TRACE_PATH_INIT;
			else if (s == TRACE_STEP_COMPLETE || s == TRACE_STEP_USED)
				inside |=
				    o->has_head && view_arg(&tf->rec[i], VA_HEAD, 0) == o->head;
			if (!inside)
				return i;
		}
		if (dir < 0 && i == 0)
			break;
	}
	/* this device's paths end here: another device's, if any */
	for (size_t i = sel + dir; i < t->n; i += dir) {
		if (!same_dev(tf, i, o->dev) && t->step[i] != TRACE_STEP_NONE)
			return i;
		if (dir < 0 && i == 0)
			break;
	}
	return SIZE_MAX;
}

size_t view_step_next(const struct trace_file *tf, const struct trace_tags *t, size_t sel, int dir)
{
	struct view_round o;
	if (view_round_get(tf, t, sel, &o) < 0) { /* off any path: the nearest record on one */
		for (size_t i = sel + dir; i < t->n; i += dir) {
			if (t->step[i] != TRACE_STEP_NONE)
				return i;
			if (dir < 0 && i == 0)
				break;
		}
		return SIZE_MAX;
	}
	unsigned first = o.path == TRACE_PATH_INIT ? TRACE_INIT_FIRST : TRACE_IO_FIRST;
	unsigned last = o.path == TRACE_PATH_INIT ? TRACE_INIT_LAST : TRACE_IO_LAST;
	if (dir > 0) {
		for (unsigned s = o.cur + 1; s <= last; s++)
			if (o.at[s] != SIZE_MAX && o.at[s] > sel)
				return o.at[s];
	} else {
		if (o.at[o.cur] < sel)
			return o.at[o.cur]; /* back to where this step began */
		for (unsigned s = o.cur; s-- > first;)
			if (o.at[s] != SIZE_MAX && o.at[s] < sel)
				return o.at[s];
	}
	size_t j = beyond(tf, t, sel, &o, dir);
	if (dir < 0 && j != SIZE_MAX && view_round_get(tf, t, j, &o) == 0 && o.at[o.cur] < j)
		j = o.at[o.cur]; /* where that step began */
	return j;
}
