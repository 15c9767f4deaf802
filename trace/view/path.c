/* trace/view/path.c - which step of the device's init (virtio 1.2 §3.1.1) or of the IO path
 * each record is, the round of steps around a selected record, and n/p along it. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#include "trace/view/view.h"

const struct view_step_info view_steps[VIEW_STEP_NR] = {
    [VIEW_STEP_DEVICE] = {"device built", "", "§4.1.2",
			  "kvmscope builds the device: PCI header, BARs, MSI-X, queues, features"},
    [VIEW_STEP_PCI] = {"PCI probe", "", "§4.1.2",
		       "the guest enumerates PCI, maps the BARs, enables the function"},
    [VIEW_STEP_RESET] = {"reset", "1", "§3.1.1", "reset the device (status 0)"},
    [VIEW_STEP_ACK] = {"ACKNOWLEDGE", "2", "§3.1.1", "the guest noticed the device"},
    [VIEW_STEP_DRIVER] = {"DRIVER", "3", "§3.1.1", "the guest knows how to drive it"},
    [VIEW_STEP_FEATURES] = {"features", "4", "§3.1.1",
			    "read device features, write the subset the driver understands"},
    [VIEW_STEP_FEATURES_OK] = {"FEATURES_OK", "5", "§3.1.1",
			       "no more feature bits will be accepted"},
    [VIEW_STEP_REREAD] = {"re-read status", "6", "§3.1.1",
			  "FEATURES_OK still set: the device accepts the subset"},
    [VIEW_STEP_SETUP] = {"device setup", "7", "§3.1.1, §4.1.5.1.3",
			 "virtqueues, MSI-X vectors, device config"},
    [VIEW_STEP_DRIVER_OK] = {"DRIVER_OK", "8", "§3.1.1", "the device is live"},
    [VIEW_STEP_NOTIFY] = {"notify", "", "§4.1.5.2", "the driver kicks the queue"},
    [VIEW_STEP_POP] = {"pop", "", "§2.7.13", "the device takes a descriptor chain: one request"},
    [VIEW_STEP_BACKEND] = {"backend", "", "§5.2.6", "the request is served from the image"},
    [VIEW_STEP_COMPLETE] = {"complete", "", "§5.2.6", "status written into the request"},
    [VIEW_STEP_USED] = {"used", "", "§2.7.8", "the chain is published in the used ring"},
    [VIEW_STEP_IRQ] = {"interrupt", "", "§4.1.5.3", "the driver is told (or asked not to be)"},
};

enum view_path view_step_path(unsigned step)
{
	return step <= VIEW_INIT_LAST ? VIEW_PATH_INIT
	       : step <= VIEW_IO_LAST ? VIEW_PATH_IO
				      : VIEW_PATH_NONE;
}

static bool is_status_reg(uint64_t reg)
{
	return reg == (TRACE_VREG_LEGACY | VIRTIO_PCI_STATUS) || reg == VIRTIO_PCI_COMMON_STATUS;
}

static bool is_feature_reg(uint64_t reg)
{
	return reg == VIRTIO_PCI_COMMON_DFSELECT || reg == VIRTIO_PCI_COMMON_GFSELECT ||
	       reg == VIRTIO_PCI_COMMON_DF || reg == VIRTIO_PCI_COMMON_GF ||
	       reg == (TRACE_VREG_LEGACY | VIRTIO_PCI_HOST_FEATURES) ||
	       reg == (TRACE_VREG_LEGACY | VIRTIO_PCI_GUEST_FEATURES);
}

/* Enters an init step: the device's state follows. */
static uint8_t enter(struct view_dev_state *s, uint8_t step)
{
	s->step = step;
	return step;
}

/* Bits the driver added in a status write decide the step: the highest one. */
static uint8_t status_step(struct view_dev_state *s, uint64_t old, uint64_t new, uint8_t carry)
{
	uint64_t added = new & ~old;
	s->status = new;
	if (new == 0) {
		s->ready = false;
		return enter(s, VIEW_STEP_RESET);
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		s->ready = true;
		return enter(s, VIEW_STEP_DRIVER_OK);
	}
	if (added & VIRTIO_CONFIG_S_FEATURES_OK)
		return enter(s, VIEW_STEP_FEATURES_OK);
	if (added & VIRTIO_CONFIG_S_DRIVER)
		return enter(s, VIEW_STEP_DRIVER);
	if (added & VIRTIO_CONFIG_S_ACKNOWLEDGE)
		return enter(s, VIEW_STEP_ACK);
	return carry;
}

/* A transport register with no event of its own: a status read right after FEATURES_OK is the
 * re-read of step 6; feature selects belong to step 4; other queue registers to step 7. */
static uint8_t common_cfg_step(struct view_dev_state *s, const struct trace_rec *r, uint8_t carry)
{
	uint64_t reg = view_arg(r, VA_REG, 0);
	if (s->ready)
		return VIEW_STEP_NONE;
	if (is_status_reg(reg))
		return r->ev == TRACE_EV_COMMON_CFG_READ && s->step == VIEW_STEP_FEATURES_OK
			   ? enter(s, VIEW_STEP_REREAD)
			   : carry;
	if (is_feature_reg(reg))
		return enter(s, VIEW_STEP_FEATURES);
	if (!(reg & TRACE_VREG_LEGACY) && reg >= VIRTIO_PCI_COMMON_NUMQ &&
	    reg != VIRTIO_PCI_COMMON_CFGGENERATION)
		return enter(s, VIEW_STEP_SETUP);
	return carry;
}

static uint8_t tag_one(struct view_dev_state *s, const struct trace_rec *r)
{
	bool before_driver = s->step == VIEW_STEP_NONE || s->step <= VIEW_STEP_PCI;
	/* an event with no step of its own belongs to the init step in progress */
	uint8_t carry = s->step != VIEW_STEP_NONE && !s->ready ? s->step : VIEW_STEP_NONE;

	switch (r->ev) {
	case TRACE_EV_DEV_CREATE:
	case TRACE_EV_CFG_SPACE_BUILT:
	case TRACE_EV_BAR_REGISTER:
	case TRACE_EV_MSIX_ALLOC:
	case TRACE_EV_QUEUE_ADD:
	case TRACE_EV_HOST_FEATURES:
		return s->step == VIEW_STEP_NONE ? enter(s, VIEW_STEP_DEVICE) : carry;
	case TRACE_EV_BACKEND_START:
		return VIEW_STEP_DRIVER_OK;
	case TRACE_EV_BACKEND_STOP:
		return s->step == VIEW_STEP_RESET ? VIEW_STEP_RESET : VIEW_STEP_NONE;
	case TRACE_EV_VIRTIO_STATUS:
		return status_step(s, view_arg(r, VA_OLD, 0), view_arg(r, VA_NEW, 0), carry);
	case TRACE_EV_DEVICE_RESET:
		s->ready = false;
		s->status = 0;
		return enter(s, VIEW_STEP_RESET);
	case TRACE_EV_DEVICE_FEATURES_READ:
	case TRACE_EV_DRIVER_FEATURES_WRITE:
		return s->ready ? VIEW_STEP_NONE : enter(s, VIEW_STEP_FEATURES);
	case TRACE_EV_FEATURES_OK:
	case TRACE_EV_FEATURES_REFUSED:
		return enter(s, VIEW_STEP_FEATURES_OK);
	case TRACE_EV_CONFIG_READ:
	case TRACE_EV_CONFIG_WRITE:
		if (s->ready)
			return VIEW_STEP_NONE;
		return s->step != VIEW_STEP_NONE && s->step >= VIEW_STEP_FEATURES
			   ? enter(s, VIEW_STEP_SETUP)
			   : carry;
	case TRACE_EV_COMMON_CFG_READ:
	case TRACE_EV_COMMON_CFG_WRITE:
		return common_cfg_step(s, r, carry);
	case TRACE_EV_QUEUE_NOTIFY:
		return VIEW_STEP_NOTIFY;
	case TRACE_EV_CHAIN_POP:
		return VIEW_STEP_POP;
	case TRACE_EV_REQ_COMPLETE:
		return VIEW_STEP_COMPLETE;
	case TRACE_EV_USED_PUSH:
		return VIEW_STEP_USED;
	case TRACE_EV_IRQ_RAISE:
	case TRACE_EV_IRQ_SUPPRESS:
		return view_arg(r, VA_QUEUE, 0) == TRACE_QUEUE_CONFIG ? carry : VIEW_STEP_IRQ;
	case TRACE_EV_ISR_READ:
		return s->ready ? VIEW_STEP_IRQ : carry;
	default:
		break;
	}
	switch (trace_events[r->ev].cls) {
	case TRACE_CLASS_PCI:
		return before_driver ? enter(s, VIEW_STEP_PCI) : carry;
	case TRACE_CLASS_QUEUE:
		return s->ready ? VIEW_STEP_NONE : enter(s, VIEW_STEP_SETUP);
	default:
		return VIEW_STEP_NONE;
	}
}

int view_tags_update(struct view_tags *t, const struct trace_file *tf)
{
	if (trace_vec_grow(&t->step, &t->cap, tf->nrec, 1))
		return -ENOMEM;
	for (; t->n < tf->nrec; t->n++) {
		const struct trace_rec *r = &tf->rec[t->n];
		if (r->dev >= t->ndev) {
			size_t n = (size_t)r->dev + 1, cap = t->ndev;
			struct view_dev_state *d = realloc(t->dev, n * sizeof(*d));
			if (!d)
				return -ENOMEM;
			for (; cap < n; cap++)
				d[cap] = (struct view_dev_state){.step = VIEW_STEP_NONE};
			t->dev = d;
			t->ndev = n;
		}
		/* the paths are a virtio device's: not the host bridge's, not the VM's */
		bool virtio = r->dev && trace_file_dev_kind(tf, r->dev) != 0;
		t->step[t->n] =
		    virtio && r->ev < TRACE_EV_NR ? tag_one(&t->dev[r->dev], r) : VIEW_STEP_NONE;
	}
	return 0;
}

void view_tags_free(struct view_tags *t)
{
	free(t->step);
	free(t->dev);
	memset(t, 0, sizeof(*t));
}

/* --- Rounds --- */

static bool same_dev(const struct trace_file *tf, size_t i, uint16_t dev)
{
	return tf->rec[i].dev == dev;
}

static void init_round(const struct trace_file *tf, const struct view_tags *t, size_t sel,
		       struct view_round *o)
{
	size_t n = t->n, b = SIZE_MAX;

	/* begin: the first record of the reset run at or before sel */
	for (size_t i = sel + 1; i-- > 0;)
		if (same_dev(tf, i, o->dev) && t->step[i] == VIEW_STEP_RESET) {
			b = i;
			break;
		}
	if (b != SIZE_MAX)
		for (size_t i = b; i-- > 0;) {
			if (!same_dev(tf, i, o->dev) || t->step[i] == VIEW_STEP_NONE)
				continue;
			if (t->step[i] != VIEW_STEP_RESET)
				break;
			b = i;
		}
	o->begin = b == SIZE_MAX ? 0 : b;
	/* end: the next reset after the round has left its own reset run */
	bool seen_reset = false, left = false;
	o->end = n;
	for (size_t i = o->begin; i < n; i++) {
		if (!same_dev(tf, i, o->dev) || t->step[i] == VIEW_STEP_NONE)
			continue;
		if (t->step[i] == VIEW_STEP_RESET) {
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
		if (!same_dev(tf, i, o->dev) || view_step_path(s) != VIEW_PATH_INIT)
			continue;
		if ((i >= o->begin || s <= VIEW_STEP_PCI) && o->at[s] == SIZE_MAX)
			o->at[s] = i;
	}
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
		o->at[VIEW_STEP_NOTIFY] = sel;
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
		o->at[VIEW_STEP_IRQ] = sel;
		break;
	}
	if (pop == SIZE_MAX && used == SIZE_MAX)
		return;
	if (pop != SIZE_MAX) {
		o->head = view_arg(&tf->rec[pop], VA_HEAD, 0);
		o->has_head = true;
		o->at[VIEW_STEP_POP] = pop;
		if (o->at[VIEW_STEP_NOTIFY] == SIZE_MAX)
			o->at[VIEW_STEP_NOTIFY] = find(tf, pop, -1, o->dev, TRACE_EV_QUEUE_NOTIFY,
						       o->queue, UINT32_MAX, SIZE_MAX);
		o->at[VIEW_STEP_COMPLETE] = find(tf, pop + 1, 1, o->dev, TRACE_EV_REQ_COMPLETE,
						 o->queue, o->head, SIZE_MAX);
		if (used == SIZE_MAX)
			used = find(tf, pop + 1, 1, o->dev, TRACE_EV_USED_PUSH, o->queue, o->head,
				    SIZE_MAX);
	}
	o->at[VIEW_STEP_USED] = used;
	if (o->at[VIEW_STEP_IRQ] == SIZE_MAX && used != SIZE_MAX)
		o->at[VIEW_STEP_IRQ] = find_irq(tf, used + 1, o->dev, o->queue);
}

static void mark(struct view_round *o, size_t sel)
{
	unsigned first = o->path == VIEW_PATH_INIT ? VIEW_INIT_FIRST : VIEW_IO_FIRST;
	unsigned last = o->path == VIEW_PATH_INIT ? VIEW_INIT_LAST : VIEW_IO_LAST;
	bool later_done = false;

	for (unsigned s = last + 1; s-- > first;) {
		size_t at = o->at[s];
		if (s == o->cur)
			o->mark[s] = VIEW_MARK_NOW;
		else if (s == VIEW_STEP_BACKEND) /* no event of its own: done once completed */
			o->mark[s] = o->at[VIEW_STEP_COMPLETE] <= sel ? VIEW_MARK_DONE
				     : o->cur == VIEW_STEP_COMPLETE   ? VIEW_MARK_DONE
								      : VIEW_MARK_TODO;
		else if (at != SIZE_MAX && at <= sel)
			o->mark[s] = VIEW_MARK_DONE;
		else if (at == SIZE_MAX && later_done)
			o->mark[s] = VIEW_MARK_SKIPPED;
		else
			o->mark[s] = VIEW_MARK_TODO;
		if (o->mark[s] == VIEW_MARK_DONE || o->mark[s] == VIEW_MARK_NOW)
			later_done = true;
	}
}

int view_round_get(const struct trace_file *tf, const struct view_tags *t, size_t sel,
		   struct view_round *o)
{
	memset(o, 0, sizeof(*o));
	for (unsigned s = 0; s < VIEW_STEP_NR; s++)
		o->at[s] = SIZE_MAX;
	o->cur = VIEW_STEP_NONE;
	if (sel >= t->n || t->step[sel] == VIEW_STEP_NONE)
		return -1;
	o->cur = t->step[sel];
	o->dev = tf->rec[sel].dev;
	o->path = view_step_path(o->cur);
	if (o->path == VIEW_PATH_INIT)
		init_round(tf, t, sel, o);
	else
		io_round(tf, sel, o);
	if (o->at[o->cur] == SIZE_MAX || o->at[o->cur] > sel)
		o->at[o->cur] = sel;
	mark(o, sel);
	return 0;
}

/* Leaving the round: the next or previous record of this device on a path, outside it. */
static size_t beyond(const struct trace_file *tf, const struct view_tags *t, size_t sel,
		     const struct view_round *o, int dir)
{
	for (size_t i = sel + dir; i < t->n; i += dir) {
		uint8_t s = t->step[i];
		if (same_dev(tf, i, o->dev) && s != VIEW_STEP_NONE) {
			bool inside = false;
			for (unsigned k = 0; k < VIEW_STEP_NR; k++)
				inside |= o->at[k] == i;
			if (o->path == VIEW_PATH_INIT)
				inside |= i >= o->begin && i < o->end &&
					  view_step_path(s) == VIEW_PATH_INIT;
			else if (s == VIEW_STEP_COMPLETE || s == VIEW_STEP_USED)
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
		if (!same_dev(tf, i, o->dev) && t->step[i] != VIEW_STEP_NONE)
			return i;
		if (dir < 0 && i == 0)
			break;
	}
	return SIZE_MAX;
}

size_t view_step_next(const struct trace_file *tf, const struct view_tags *t, size_t sel, int dir)
{
	struct view_round o;
	if (view_round_get(tf, t, sel, &o) < 0) { /* off any path: the nearest record on one */
		for (size_t i = sel + dir; i < t->n; i += dir) {
			if (t->step[i] != VIEW_STEP_NONE)
				return i;
			if (dir < 0 && i == 0)
				break;
		}
		return SIZE_MAX;
	}
	unsigned first = o.path == VIEW_PATH_INIT ? VIEW_INIT_FIRST : VIEW_IO_FIRST;
	unsigned last = o.path == VIEW_PATH_INIT ? VIEW_INIT_LAST : VIEW_IO_LAST;
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
