/* trace/view/queue.c - a virtqueue as it stood at a record, rebuilt from the trace alone: the
 * setup writes, the indices the notify and used events carry, the chains popped and not yet
 * published; for a split ring, the avail and used entries the pops and used events show; for a
 * packed ring, each slot's flags from the slots and wrap counters of its pops and used
 * descriptors; and the chain of the selected event, whose pop carries its descriptors (in traces
 * recorded since the DESCS chunk). */
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#include "trace/view/view.h"

/* All chains in flight while scanning (the pane shows the oldest few). */
struct flight {
	struct view_inflight *v;
	size_t n, cap;
};

static void flight_add(struct flight *f, uint32_t head, size_t pop)
{
	if (trace_vec_grow(&f->v, &f->cap, f->n + 1, sizeof(*f->v)))
		return; /* out of memory: the pane undercounts, nothing worse */
	f->v[f->n++] = (struct view_inflight){.head = head, .pop = pop};
}

static long flight_find(const struct flight *f, uint32_t head)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].head == head)
			return (long)i;
	return -1;
}

static void flight_del(struct flight *f, uint32_t head)
{
	long i = flight_find(f, head);
	if (i >= 0) {
		memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof(*f->v));
		f->n--;
	}
}

/* Which queue a record is about: its own argument, else the device's last queue_select. */
static uint32_t queue_of(const struct trace_file *tf, size_t sel)
{
	const struct trace_rec *r = &tf->rec[sel];
	uint64_t q = view_arg(r, VA_QUEUE, TRACE_QUEUE_CONFIG);
	if (q != TRACE_QUEUE_CONFIG)
		return q;
	for (size_t i = sel + 1; i-- > 0;)
		if (tf->rec[i].dev == r->dev && tf->rec[i].ev == TRACE_EV_QUEUE_SELECT)
			return view_arg(&tf->rec[i], VA_QUEUE, 0);
	return 0;
}

static void reset(struct view_queue *q, struct flight *f, size_t at)
{
	uint32_t max = q->max_size;
	uint16_t dev = q->dev;
	uint32_t queue = q->queue;
	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->queue = queue;
	q->max_size = max;
	q->known = max != 0;
	q->vector = VIRTIO_MSI_NO_VECTOR;
	q->last_reset = at;
	q->chain_pop = q->chain_used = SIZE_MAX;
	memset(q->slot, '.', VIEW_QUEUE_SLOTS);
	q->used_wrap = true; /* virtio 1.2 §2.8.1: the counters start at 1 */
	f->n = 0;
}

/* Packed: mark n slots from slot with wrap counter wrap as c (upper case for wrap 1), moving
 * over the end of the ring as the counters do. */
static void mark_slots(struct view_queue *q, uint32_t slot, bool wrap, uint32_t n, char c)
{
	uint32_t size = q->size ? q->size : q->max_size;

	for (uint32_t i = 0; i < n && size; i++) {
		if (slot < VIEW_QUEUE_SLOTS)
			q->slot[slot] = c == '-' ? c : wrap ? c : (char)(c - 'A' + 'a');
		if (++slot >= size) {
			slot = 0;
			wrap = !wrap;
		}
	}
}

/* Packed: the used descriptor of a list went to the last used position; its other slots are
 * skipped up to the new position the event carries (a TRACE_RING_IDX_PACKED word). */
static void packed_used(struct view_queue *q, uint32_t next)
{
	uint32_t size = q->size ? q->size : q->max_size, slot = next & 0x7fff, n;
	bool wrap = next >> 15 & 1;

	if (!size || next >> 16 != 1)
		return;
	n = (slot + (wrap == q->used_wrap ? 0 : size) + 2 * size - q->used_slot) % (2 * size);
	mark_slots(q, q->used_slot, q->used_wrap, n, '-');
	mark_slots(q, q->used_slot, q->used_wrap, 1, 'U');
	q->used_slot = slot;
	q->used_wrap = wrap;
}

/* Split: ring entry idx (a free-running index) seen holding id (and len, for a used one). */
static void ring_ent(struct view_queue *q, struct view_ring_ent *ent, uint32_t idx, uint32_t id,
		     uint32_t len)
{
	uint32_t size = q->size ? q->size : q->max_size, at;

	if (!size || (size & (size - 1)))
		return; /* a split ring's size is a power of 2 */
	at = idx & (size - 1) & 0xffff;
	if (at < VIEW_QUEUE_SLOTS)
		ent[at] = (struct view_ring_ent){.known = true, .id = id, .len = len};
}

/* Legacy: one PFN places all three parts (virtio 1.2 §2.7.2: the layout, 4096-byte aligned). */
static void legacy_layout(struct view_queue *q)
{
	if (!q->legacy || !q->pfn || !q->size)
		return;
	q->desc = q->pfn << VIRTIO_PCI_QUEUE_ADDR_SHIFT;
	q->driver = q->desc + 16ULL * q->size;
	q->device = (q->driver + 6 + 2ULL * q->size + VIRTIO_PCI_VRING_ALIGN - 1) &
		    ~(uint64_t)(VIRTIO_PCI_VRING_ALIGN - 1);
}

static void apply(const struct trace_file *tf, struct view_queue *q, struct flight *f,
		  const struct trace_rec *r, size_t i)
{
	uint32_t head = view_arg(r, VA_HEAD, 0);
	bool write = view_arg(r, VA_RW, TRACE_WRITE) == TRACE_WRITE;
	long k;

	q->known = true;
	switch (r->ev) {
	case TRACE_EV_QUEUE_ADD:
		q->max_size = view_arg(r, VA_SIZE, 0);
		break;
	case TRACE_EV_QUEUE_SIZE:
		q->size = view_arg(r, VA_SIZE, 0);
		break;
	case TRACE_EV_QUEUE_PFN:
		if (write) {
			q->legacy = true;
			q->pfn = view_arg(r, VA_PFN, 0);
			q->enabled = q->pfn != 0;
		}
		break;
	case TRACE_EV_QUEUE_DESC:
		q->desc = view_arg(r, VA_ADDR, 0);
		break;
	case TRACE_EV_QUEUE_DRIVER:
		q->driver = view_arg(r, VA_ADDR, 0);
		break;
	case TRACE_EV_QUEUE_DEVICE:
		q->device = view_arg(r, VA_ADDR, 0);
		break;
	case TRACE_EV_QUEUE_ENABLE:
		q->enabled = view_arg(r, VA_ENABLE, 0) != 0;
		break;
	case TRACE_EV_QUEUE_MSIX_VECTOR:
		q->vector = view_arg(r, VA_RESULT, view_arg(r, VA_VECTOR, VIRTIO_MSI_NO_VECTOR));
		break;
	case TRACE_EV_QUEUE_NOTIFY:
		q->notifies++;
		q->avail_idx = view_arg(r, VA_AVAIL_IDX, 0);
		q->have_avail = view_arg_known(tf, r, VA_AVAIL_IDX);
		break;
	case TRACE_EV_CHAIN_POP:
		q->pops++;
		flight_add(f, head, i);
		break;
	case TRACE_EV_REQ_COMPLETE:
		q->completes++;
		if ((k = flight_find(f, head)) >= 0)
			f->v[k].completed = true;
		break;
	case TRACE_EV_PACKED_POP:
		mark_slots(q, view_arg(r, VA_SLOT, 0), view_arg(r, VA_WRAP, 1),
			   view_arg(r, VA_DESCS, 1), 'A');
		q->chain_pop = i;
		break;
	case TRACE_EV_SPLIT_POP:
		/* the avail entry the head came from, and the driver's index the device read */
		ring_ent(q, q->avail_ent, view_arg(r, VA_AVAIL, 0), head, 0);
		q->avail_idx = view_arg(r, VA_AVAIL_IDX, 0);
		q->have_avail = true;
		q->chain_pop = i;
		break;
	case TRACE_EV_USED_PUSH:
		q->used++;
		q->used_idx = view_arg(r, VA_USED_IDX, 0);
		q->have_used = true;
		if (q->packed)
			packed_used(q, q->used_idx);
		else /* §2.7.8: the entry before the new index */
			ring_ent(q, q->used_ent, q->used_idx - 1, head, view_arg(r, VA_LEN, 0));
		flight_del(f, head);
		break;
	case TRACE_EV_IRQ_RAISE:
		q->irqs++;
		break;
	case TRACE_EV_IRQ_SUPPRESS:
		q->suppressed++;
		break;
	default:
		break;
	}
}

bool view_rec_on_queue(const struct trace_rec *r, unsigned queue)
{
	return view_has(r, VA_QUEUE) && view_arg(r, VA_QUEUE, TRACE_QUEUE_CONFIG) == queue;
}

unsigned view_queue_count(const struct trace_file *tf, uint16_t dev)
{
	unsigned added = 0, named = 0;

	for (size_t i = 0; i < tf->nrec; i++) {
		const struct trace_rec *r = &tf->rec[i];
		uint64_t q = view_arg(r, VA_QUEUE, TRACE_QUEUE_CONFIG);
		if (r->dev != dev || !view_has(r, VA_QUEUE) || q >= TRACE_QUEUE_CONFIG)
			continue;
		if (r->ev == TRACE_EV_QUEUE_ADD && q + 1 > added)
			added = q + 1;
		if (q + 1 > named)
			named = q + 1;
	}
	return added ? added : named;
}

/* The pop of the chain the selected record is about (same queue and head or id, at or before
 * it, since the queue's reset), else the queue's last pop; SIZE_MAX when none. */
static void find_chain(const struct trace_file *tf, size_t sel, struct view_queue *q)
{
	const struct trace_rec *s = &tf->rec[sel];
	bool is_pop = s->ev == TRACE_EV_SPLIT_POP || s->ev == TRACE_EV_PACKED_POP;
	uint64_t head = view_has(s, VA_HEAD) ? view_arg(s, VA_HEAD, 0) : view_arg(s, VA_ID, 0);
	size_t from = q->last_reset == SIZE_MAX ? 0 : q->last_reset;

	q->chain_used = SIZE_MAX;
	if (!view_rec_on_queue(s, q->queue) || s->dev != q->dev ||
	    !(is_pop || view_has(s, VA_HEAD) || view_has(s, VA_ID)))
		return; /* not about a chain of this queue: its last pop (set by the scan) */
	q->chain_pop = SIZE_MAX;
	for (size_t i = sel + 1; i-- > from;) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->dev == q->dev && (r->ev == TRACE_EV_SPLIT_POP || r->ev == TRACE_EV_PACKED_POP) &&
		    view_rec_on_queue(r, q->queue) &&
		    view_arg(r, r->ev == TRACE_EV_SPLIT_POP ? VA_HEAD : VA_ID, 0) == head) {
			q->chain_pop = i;
			break;
		}
	}
	/* no pop in the trace (recording paused then, say): the used_push carries the chain too */
	if (q->chain_pop == SIZE_MAX && s->ev == TRACE_EV_USED_PUSH && trace_file_descs(tf, s))
		q->chain_pop = sel;
	/* its used entry, when published by the selected record */
	for (size_t i = q->chain_pop; i != SIZE_MAX && i <= sel; i++) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->dev == q->dev && r->ev == TRACE_EV_USED_PUSH &&
		    view_rec_on_queue(r, q->queue) && view_arg(r, VA_HEAD, 0) == head) {
			q->chain_used = i;
			break;
		}
	}
}

void view_queue_get(const struct trace_file *tf, size_t sel, struct view_queue *q)
{
	view_queue_get_on(tf, sel, VIEW_QUEUE_OF_EVENT, q);
}

void view_queue_get_on(const struct trace_file *tf, size_t sel, int queue, struct view_queue *q)
{
	struct flight f = {0};

	memset(q, 0, sizeof(*q));
	q->last_reset = SIZE_MAX;
	q->vector = VIRTIO_MSI_NO_VECTOR;
	q->chain_pop = q->chain_used = SIZE_MAX;
	if (sel >= tf->nrec)
		return;
	q->dev = tf->rec[sel].dev;
	q->queue = queue == VIEW_QUEUE_OF_EVENT ? queue_of(tf, sel) : (uint32_t)queue;
	memset(q->slot, '.', VIEW_QUEUE_SLOTS);
	q->used_wrap = true;
	for (size_t i = 0; i <= sel; i++) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->dev != q->dev)
			continue;
		if (r->ev == TRACE_EV_DEVICE_RESET ||
		    (r->ev == TRACE_EV_VIRTIO_STATUS && view_arg(r, VA_NEW, 1) == 0))
			reset(q, &f, i);
		else if (r->ev == TRACE_EV_FEATURES_OK)
			q->packed = view_arg(r, VA_FEATURES, 0) >> VIRTIO_F_RING_PACKED & 1;
		else if (view_has(r, VA_QUEUE) && view_arg(r, VA_QUEUE, 0) == q->queue)
			apply(tf, q, &f, r, i);
	}
	find_chain(tf, sel, q);
	legacy_layout(q);
	q->setup_unlogged = !(trace_file_recorded(tf) & view_class_mask(TRACE_CLASS_QUEUE));
	char key[32], buf[160];
	unsigned long long size, desc, driver, device;
	snprintf(key, sizeof(key), "qemu_queue%u", q->queue);
	if (q->setup_unlogged && trace_file_info(tf, key, buf, sizeof(buf)) &&
	    sscanf(buf, "size=%llu desc=0x%llx driver=0x%llx device=0x%llx", &size, &desc, &driver,
		   &device) == 4) {
		q->snapshot = q->known = true;
		q->size = q->max_size = size;
		q->desc = desc, q->driver = driver, q->device = device;
	}
	q->inflight_all = f.n;
	q->ninflight = f.n < VIEW_QUEUE_INFLIGHT_MAX ? f.n : VIEW_QUEUE_INFLIGHT_MAX;
	if (q->ninflight)
		memcpy(q->inflight, f.v, q->ninflight * sizeof(*f.v));
	free(f.v);
}

/* Split: "avail idx 7: 4:2 >5:5 6:?" - the entries around at (the chain's, marked), each the head
 * (avail) or id/len (used) the trace saw there, '?' where it saw none. */
static void ring_window(const struct view_queue *q, const struct view_ring_ent *ent, bool used,
			uint32_t at, char *buf, size_t len)
{
	uint32_t size = q->size ? q->size : q->max_size;
	size_t n = strlen(buf);

	for (int d = -2; d <= 2 && size && n < len; d++) {
		uint32_t k = (at + size + d) % size;
		const struct view_ring_ent *e = k < VIEW_QUEUE_SLOTS ? &ent[k] : NULL;
		char v[32] = "?";
		if (e && e->known && used)
			snprintf(v, sizeof(v), "%u/%u", e->id, e->len);
		else if (e && e->known)
			snprintf(v, sizeof(v), "%u", e->id);
		n += snprintf(buf + n, len - n, " %s%u:%s", d ? "" : ">", k, v);
		if (size < 5 && d >= (int)size / 2) /* a tiny ring: each entry once */
			break;
	}
}

/* Packed: "slots 1U 2- >3A 4A 5A 6." - the chain's slots (marked at the first) and two on each
 * side, with their flags as the Queue pane's slot row has them. */
static void slot_window(const struct view_queue *q, uint32_t at, uint32_t n, char *buf,
			size_t len)
{
	uint32_t size = q->size ? q->size : q->max_size;
	size_t o = strlen(buf);

	for (uint32_t i = 0; size && i < n + 4 && i < size && o < len; i++) {
		uint32_t k = (at + size - 2 + i) % size;
		o += snprintf(buf + o, len - o, " %s%u%c", i == 2 ? ">" : "", k,
			      k < VIEW_QUEUE_SLOTS ? q->slot[k] : '?');
	}
}

/* The ring around the chain of pop record p: split, its avail entry and used entry with their
 * neighbours; packed, its slots (a pop's only: a used_push does not say where they were). */
static unsigned ring_lines(const struct trace_file *tf, const struct view_queue *q,
			   const struct trace_rec *p, bool packed, bool pop,
			   char (*lines)[VIEW_LINE_MAX], unsigned max)
{
	unsigned n = 0;

	if (packed) {
		if (!pop || !max)
			return 0;
		snprintf(lines[n], VIEW_LINE_MAX, "slots");
		slot_window(q, view_arg(p, VA_SLOT, 0), view_arg(p, VA_DESCS, 1), lines[n],
			    VIEW_LINE_MAX);
		return 1;
	}
	if (pop && n < max) {
		snprintf(lines[n], VIEW_LINE_MAX, "avail idx %llu:",
			 (unsigned long long)view_arg(p, VA_AVAIL_IDX, 0));
		ring_window(q, q->avail_ent, false, view_arg(p, VA_AVAIL, 0), lines[n],
			    VIEW_LINE_MAX);
		n++;
	}
	if (n < max) {
		snprintf(lines[n], VIEW_LINE_MAX, "used  idx %s:", q->have_used ? "" : "-");
		if (q->have_used)
			snprintf(lines[n], VIEW_LINE_MAX, "used  idx %u:", q->used_idx & 0xffff);
		ring_window(q, q->used_ent, true,
			    q->chain_used != SIZE_MAX
				? (uint32_t)view_arg(&tf->rec[q->chain_used], VA_USED_IDX, 1) - 1
				: (q->used_idx & 0xffff),
			    lines[n], VIEW_LINE_MAX);
		n++;
	}
	return n;
}

unsigned view_queue_chain_lines(const struct trace_file *tf, const struct view_queue *q,
				char (*lines)[VIEW_LINE_MAX], unsigned max)
{
	unsigned n = 0;

	if (q->chain_pop == SIZE_MAX || !max)
		return 0;
	const struct trace_rec *p = &tf->rec[q->chain_pop];
	const struct trace_descs_ent *e = trace_file_descs(tf, p);
	bool packed = trace_rec_packed(p), pop = p->ev != TRACE_EV_USED_PUSH;
	uint32_t head = view_arg(p, p->ev == TRACE_EV_PACKED_POP ? VA_ID : VA_HEAD, 0);
	char used[64] = "";

	if (q->chain_used != SIZE_MAX)
		snprintf(used, sizeof(used), ", used #%zu len %llu", q->chain_used,
			 (unsigned long long)view_arg(&tf->rec[q->chain_used], VA_LEN, 0));
	if (!e)
		snprintf(lines[n++], VIEW_LINE_MAX, "chain %s %u #%zu: descriptors not in the trace%s",
			 packed ? "id" : "head", head, q->chain_pop, used);
	else
		snprintf(lines[n++], VIEW_LINE_MAX, "chain %s %u #%zu: %u descriptor%s%s%s",
			 packed ? "id" : "head", head, q->chain_pop, e->walked, e->walked == 1 ? "" : "s",
			 e->walked > e->n ? " (first 16 shown)" : "", used);
	n += ring_lines(tf, q, p, packed, pop, lines + n, max - n);
	for (unsigned k = 0; e && k < e->n && n < max; k++) {
		char d[VIEW_LINE_MAX - 4];
		trace_decode_desc(p, e, &tf->desc[e->first], k, d, sizeof(d));
		snprintf(lines[n++], VIEW_LINE_MAX, "%s%s", strncmp(d, "table", 5) ? " " : "   ", d);
	}
	if (e && e->walked > e->n && n < max)
		snprintf(lines[n++], VIEW_LINE_MAX, " +%u not recorded", e->walked - e->n);
	return n;
}
