/* trace/view/queue.c - a virtqueue as it stood at a record, rebuilt from the trace alone: the
 * setup writes, the indices the notify and used events carry, the chains popped and not yet
 * published. The trace holds no descriptors, so a chain shows as its head, request and size. */
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
	f->n = 0;
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
	case TRACE_EV_USED_PUSH:
		q->used++;
		q->used_idx = view_arg(r, VA_USED_IDX, 0);
		q->have_used = true;
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

void view_queue_get(const struct trace_file *tf, size_t sel, struct view_queue *q)
{
	struct flight f = {0};

	memset(q, 0, sizeof(*q));
	q->last_reset = SIZE_MAX;
	q->vector = VIRTIO_MSI_NO_VECTOR;
	if (sel >= tf->nrec)
		return;
	q->dev = tf->rec[sel].dev;
	q->queue = queue_of(tf, sel);
	for (size_t i = 0; i <= sel; i++) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->dev != q->dev)
			continue;
		if (r->ev == TRACE_EV_DEVICE_RESET ||
		    (r->ev == TRACE_EV_VIRTIO_STATUS && view_arg(r, VA_NEW, 1) == 0))
			reset(q, &f, i);
		else if (view_has(r, VA_QUEUE) && view_arg(r, VA_QUEUE, 0) == q->queue)
			apply(tf, q, &f, r, i);
	}
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
