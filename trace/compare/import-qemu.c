/* trace/compare/import-qemu.c - QEMU 7.2's `log` trace backend (`-trace enable=... -D LOG`, with or
 * without `-msg timestamp=on`) in kvmscope's vocabulary. Each QEMU event becomes the catalogue
 * event that means the same thing; QEMU's pointers become device, queue and request numbers; an
 * event with no counterpart is kept as `imported` (its name and text), never dropped. Every record
 * keeps its log line (number and text), and what QEMU does not log (PCI access widths, MSI-X
 * vectors, avail_idx, descriptor heads) is marked unknown in it, shown as "?": docs/compare.md. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <stdlib.h>
#include <string.h>

#include "trace/compare/import-qemu.h"

#define QEMU_LOG_NAME "QEMU 7.2 log" /* the records' site file: where they came from */
#define PCI_ROM_SLOT  6		     /* QEMU numbers the expansion ROM as BAR 6 */
#define TYPE_UNKNOWN  0xff	     /* chain_pop of a request QEMU did not say the type of */

/* --- Records. Arguments are set by their names in the catalogue, so a change there fails the
 * import loudly (im->bad_arg) instead of filling the wrong slot. --- */
struct arg {
	/* "?name": QEMU did not log it; v is a placeholder, the record says "?" */
	const char *name;
	uint64_t v;
};
#define ARGS(...)	       ((const struct arg[]){__VA_ARGS__, {NULL, 0}})
#define NOT_LOGGED(name, cond) ((cond) ? "?" name : name)

static uint16_t site_of(struct imp *im, const struct line *l)
{
	char name[128];
	snprintf(name, sizeof(name), "%.*s", (int)l->name_len, l->name);
	return trace_build_site(im->b, name, QEMU_LOG_NAME);
}

/* A record made from line src (its origin: line number and text), at ts on thread tid. */
static struct trace_rec *put_at(struct imp *im, struct line *src, uint64_t ts, uint16_t tid,
				uint16_t site, uint16_t ev, uint16_t dev, const struct arg *args)
{
	struct trace_rec *r = trace_build_rec(im->b, ts, ev);
	uint32_t unknown = 0;
	if (!r)
		return NULL;
	r->tid = tid;
	r->site = site;
	r->dev = dev;
	for (; args->name; args++) {
		bool not_logged = args->name[0] == '?';
		int i = trace_rec_set(r, args->name + not_logged, args->v);
		if (i < 0 && !im->bad_arg)
			im->bad_arg = args->name + not_logged, im->bad_ev = ev;
		else if (i >= 0 && not_logged)
			unknown |= 1u << i;
	}
	if (!src->raw)
		src->raw = trace_build_text(im->b, src->text, strlen(src->text));
	trace_build_origin(im->b, unknown, src->no, src->raw);
	return r;
}

static struct trace_rec *put(struct imp *im, struct line *l, uint16_t ev, uint16_t dev,
			     const struct arg *args)
{
	return put_at(im, l, l->ts, qimp_thread(im, l->tid)->tid, site_of(im, l), ev, dev, args);
}

/* The event as text: its name, the arguments as QEMU printed them, the line number. */
static void put_raw(struct imp *im, struct line *l)
{
	char name[128];
	uint16_t dev = 0;
	if (l->ev >= 0 && l->ok && !strncmp(qemu_events[l->ev].args, "vdev %p", 7))
		dev = qimp_vdev_dev(im, qimp_vdev(im, l->v[0]));
	snprintf(name, sizeof(name), "%.*s", (int)l->name_len, l->name);
	put(im, l, TRACE_EV_IMPORTED, dev,
	    ARGS({"event", trace_build_str(im->b, name)},
		 {"args", trace_build_text(im->b, l->args, strlen(l->args))}, {"line", l->no}));
	im->b->raw++;
}

/* The capability holding config offset off, from the bytes reads have shown so far
 * (TRACE_PCI_CAP; 0: none or not known yet). */
static uint64_t cap_at(const struct pcidev *p, unsigned off)
{
	unsigned at = p->cfg[PCI_CAPABILITY_LIST] & ~3u;
	for (int n = 0; p->known[PCI_CAPABILITY_LIST] && at >= 0x40 && at < 0xff && n < 48; n++) {
		unsigned id = p->cfg[at], type = p->known[at + 3] ? p->cfg[at + 3] : 0, len = 2;
		if (!p->known[at])
			return 0;
		if (id == PCI_CAP_ID_MSIX)
			len = PCI_CAP_MSIX_SIZEOF;
		else if (id ==
			 PCI_CAP_ID_VNDR) /* struct virtio_pci_cap, 20 bytes with a field more */
			len = p->known[at + 2] ? p->cfg[at + 2] : type == 2 || type == 5 ? 20 : 16;
		if (off >= at && off < at + len)
			return TRACE_PCI_CAP(at, id, id == PCI_CAP_ID_VNDR ? type : 0);
		if (!p->known[at + 1])
			return 0;
		at = p->cfg[at + 1] & ~3u;
	}
	return 0;
}

/* An access that covers MSI-X Message Control (PCI 3.0 §6.8.2.3, at cap + 2) shows whether
 * MSI-X is on, whether or not the log has msix_* events. QEMU logs the value, not the width: an
 * access at cap + 2 is taken as the 16-bit word Linux and SeaBIOS read and write there. */
static void msix_control_seen(struct pcidev *p, uint64_t cap, unsigned off, uint64_t val)
{
	unsigned at = cap & 0xff;
	if (!cap || (cap >> 8 & 0xff) != PCI_CAP_ID_MSIX || off > at + 3 || off + 4 <= at + 3)
		return; /* byte at + 3 holds the enable bit */
	p->msix = val >> (8 * (at + 3 - off)) & (PCI_MSIX_FLAGS_ENABLE >> 8);
	p->msix_known = true;
}

static void on_pci_cfg(struct imp *im, struct line *l, struct pcidev *p, bool write)
{
	unsigned off = l->v[3] & 0xff;
	uint64_t val = l->v[4];
	if (!write) /* QEMU does not log the width: take the bytes the value needs */
		for (unsigned k = 0; off + k < 256 && (k == 0 || val >> (8 * k)) && k < 4; k++) {
			p->cfg[off + k] = val >> (8 * k);
			p->known[off + k] = 1;
		}
	uint64_t cap = cap_at(p, off);
	msix_control_seen(p, cap, off, val);
	put(im, l, write ? TRACE_EV_PCI_CFG_WRITE : TRACE_EV_PCI_CFG_READ, p->dev,
	    ARGS({"off", off}, {"?len", 0}, {"val", val}, {"cap", cap}));
}

/* BARTYPE is the BAR's type bits: read-only in the BAR, so any read of it shows them. */
static void on_mapping(struct imp *im, struct line *l, struct pcidev *p, bool add)
{
	unsigned bar = l->v[3], reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t type = l->v[4] < 0x10000 ? PCI_BASE_ADDRESS_SPACE_IO : 0; /* a guess, else */
	bool guessed = bar < PCI_ROM_SLOT && !p->known[reg];
	if (bar == PCI_ROM_SLOT)
		type = 0;
	else if (bar < PCI_ROM_SLOT && p->known[reg])
		type = p->cfg[reg] & PCI_BASE_ADDRESS_SPACE_IO
			   ? PCI_BASE_ADDRESS_SPACE_IO
			   : p->cfg[reg] &
				 (PCI_BASE_ADDRESS_MEM_TYPE_MASK | PCI_BASE_ADDRESS_MEM_PREFETCH);
	put(im, l, add ? TRACE_EV_BAR_MAP : TRACE_EV_BAR_UNMAP, p->dev,
	    ARGS({"bar", bar}, {"addr", l->v[4]}, {"size", l->v[5]},
		 {NOT_LOGGED("type", guessed), type}));
}

static struct req *req_of(struct imp *im, uint64_t elem)
{
	for (size_t i = im->nreq; i-- > 0;)
		if (im->req[i].elem == elem)
			return &im->req[i];
	return NULL;
}

/* chain_pop once the request's type is known (QEMU logs it after virtqueue_pop, and only for
 * reads and writes: a chain of header and status alone is a flush). */
static void put_pop(struct imp *im, struct req *rq, uint64_t type, uint64_t sector, uint64_t bytes)
{
	if (rq->popped)
		return;
	rq->popped = true;
	bool logged = type != UINT64_MAX; /* virtio_blk_handle_read/write said type and sector */
	if (!logged)
		type = rq->in == 1 && rq->out == 1 ? VIRTIO_BLK_T_FLUSH : TYPE_UNKNOWN;
	struct vq *q = qimp_vq_at(im, rq->vq);
	put_at(im, &im->lines[rq->pop_line], rq->pop_ts, rq->pop_tid, rq->pop_site,
	       TRACE_EV_CHAIN_POP, qimp_vq_dev(im, q),
	       ARGS({"queue", qimp_vq_index(im, q)}, {"?head", rq->head},
		    {NOT_LOGGED("type", type == TYPE_UNKNOWN), type},
		    {NOT_LOGGED("sector", !logged), sector}, {"segs", rq->in + rq->out},
		    {NOT_LOGGED("bytes", !logged && type != VIRTIO_BLK_T_FLUSH), bytes}));
}

static void on_request(struct imp *im, struct line *l, enum handler h)
{
	struct req *rq = req_of(im, l->v[1]); /* elem or req: the same pointer */

	if (h == H_POP) {
		if (rq)
			put_pop(im, rq, UINT64_MAX, 0, 0);
		struct vq *q = qimp_vq(im, l->v[0], NONE);
		size_t qi = q ? (size_t)(q - im->vq) : NONE;
		if (!(rq = trace_build_push(im->b, &im->req, &im->nreq, &im->req_cap, sizeof(*rq))))
			return;
		*rq = (struct req){.elem = l->v[1],
				   .vq = qi,
				   .head = ++im->next_head & 0xffff,
				   .in = l->v[2],
				   .out = l->v[3],
				   .pop_ts = l->ts,
				   .pop_line = l - im->lines,
				   .pop_tid = qimp_thread(im, l->tid)->tid,
				   .pop_site = site_of(im, l)};
		return;
	}
	if (!rq) { /* the log began after the request was popped */
		put_raw(im, l);
		return;
	}
	if (h == H_BLK_RW) {
		put_pop(im, rq, qemu_events[l->ev].flag, l->v[2], l->v[3] * 512);
		return;
	}
	put_pop(im, rq, UINT64_MAX, 0, 0);
	if (h == H_REQ_COMPLETE) { /* put when virtqueue_fill tells the length */
		rq->done = true;
		rq->done_ts = l->ts;
		rq->done_line = l - im->lines;
		rq->done_tid = qimp_thread(im, l->tid)->tid;
		rq->done_site = site_of(im, l);
		rq->status = l->v[2];
		return;
	}
	rq->filled = true; /* H_FILL: the used element is written, published at the flush */
	rq->len = l->v[2];
	if (rq->done)
		put_at(im, &im->lines[rq->done_line], rq->done_ts, rq->done_tid, rq->done_site,
		       TRACE_EV_REQ_COMPLETE, qimp_vq_dev(im, qimp_vq_at(im, rq->vq)),
		       ARGS({"queue", qimp_vq_index(im, qimp_vq_at(im, rq->vq))},
			    {"?head", rq->head}, {"status", rq->status},
			    {NOT_LOGGED("ns", !im->timestamps), rq->done_ts - rq->pop_ts},
			    {"written", rq->len}));
}

static void on_flush(struct imp *im, struct line *l)
{
	struct vq *q = qimp_vq(im, l->v[0], NONE);
	uint64_t count = l->v[1];
	for (size_t i = 0; q && i < im->nreq && count;) {
		struct req *rq = &im->req[i];
		if (rq->vq != (size_t)(q - im->vq) || !rq->filled) {
			i++;
			continue;
		}
		put(im, l, TRACE_EV_USED_PUSH, qimp_vq_dev(im, q),
		    ARGS({"queue", qimp_vq_index(im, q)}, {"?head", rq->head}, {"len", rq->len},
			 {"used_idx", ++q->used_idx}));
		memmove(rq, rq + 1, (--im->nreq - i) * sizeof(*rq)); /* keep the order */
		count--;
	}
}

static void on_status(struct imp *im, struct line *l)
{
	struct vdev *v = qimp_vdev(im, l->v[0]);
	if (!v)
		return;
	uint8_t old = v->status, val = l->v[1];
	uint16_t dev = qimp_vdev_dev(im, v);
	put(im, l, TRACE_EV_VIRTIO_STATUS, dev, ARGS({"old", old}, {"new", val}));
	if (!val && old)
		put(im, l, TRACE_EV_DEVICE_RESET, dev, ARGS({"old", old}));
	for (size_t i = 0; !val && i < im->nvq; i++)
		if (im->vq[i].vd == qimp_vdev_index(im, v))
			im->vq[i].used_idx = 0;
	v->status = val;
	im->last_status_vd = qimp_vdev_index(im, v);
}

static void on_dataplane(struct imp *im, struct line *l, bool start)
{
	if (im->dataplane != l->v[0] || im->dataplane_vd == NONE) {
		im->dataplane = l->v[0];
		im->dataplane_vd = im->last_status_vd; /* started by DRIVER_OK, stopped by reset */
	}
	if (im->dataplane_vd == NONE) {
		put_raw(im, l);
		return;
	}
	struct vdev *v = &im->vdev[im->dataplane_vd];
	uint64_t queues = 0;
	for (size_t i = 0; i < im->nvq; i++)
		queues += im->vq[i].vd == im->dataplane_vd;
	if (start)
		put(im, l, TRACE_EV_BACKEND_START, qimp_vdev_dev(im, v),
		    ARGS({"wiring", TRACE_WIRE_IOEVENTFD | (v->irqfd ? TRACE_WIRE_IRQFD : 0)},
			 {"queues", queues},
			 {"backend", trace_build_str(im->b, "QEMU virtio-blk data plane")}));
	else
		put(im, l, TRACE_EV_BACKEND_STOP, qimp_vdev_dev(im, v),
		    ARGS({"why", trace_build_str(im->b, "QEMU data plane stopped (reset)")}));
}

static void on_notify(struct imp *im, struct line *l, struct thread *t)
{
	struct vdev *v = qimp_vdev(im, l->v[0]);
	struct vq *q = qimp_vq(im, l->v[2], qimp_vdev_index(im, v));
	if (!v || !q)
		return;
	/* by exit: on a vCPU thread, or after a notify register write on this thread */
	bool exit = t->notify_write || TRACE_TID_KIND(t->tid) == TRACE_THREAD_VCPU;
	t->notify_write = false;
	put(im, l, TRACE_EV_QUEUE_NOTIFY, qimp_vdev_dev(im, v),
	    ARGS({"queue", qimp_vq_index(im, q)},
		 {"via", exit ? TRACE_VIA_EXIT : TRACE_VIA_IOEVENTFD}, {"?avail_idx", 0}));
}

static void on_irq(struct imp *im, struct line *l, unsigned kind)
{
	struct vdev *v = qimp_vdev(im, l->v[0]);
	struct vq *q = qimp_vq(im, l->v[1], qimp_vdev_index(im, v));
	if (!v || !q)
		return;
	/* INTx only when the log showed MSI-X off; with no sight of Message Control, not known */
	const struct pcidev *p = v->pci != NONE ? &im->pci[v->pci] : NULL;
	bool known = p && p->msix_known;
	if (known && !p->msix)
		kind = TRACE_IRQ_INTX;
	put(im, l, TRACE_EV_IRQ_RAISE, qimp_vdev_dev(im, v),
	    ARGS({"queue", qimp_vq_index(im, q)}, {NOT_LOGGED("kind", !known), kind},
		 {"?vector", 0}, {"?addr", 0}, {"?data", 0}));
}

static void map_line(struct imp *im, struct line *l)
{
	const struct qemu_event *e = l->ev >= 0 && l->ok ? &qemu_events[l->ev] : NULL;
	struct pcidev *p = NULL;

	if (e && (e->h == H_PCI_CFG || e->h == H_MAPPING))
		p = qimp_pci(im, l->word, l->word_len, l->v[0], l->v[1], l->v[2]);
	else if (e && e->h == H_MSIX)
		p = qimp_pci(im, l->word, l->word_len, -1, 0, 0);
	switch (e ? e->h : H_RAW) {
	case H_PCI_CFG:
		if (p)
			on_pci_cfg(im, l, p, e->flag == TRACE_WRITE);
		break;
	case H_MAPPING:
		if (p)
			on_mapping(im, l, p, e->flag);
		break;
	case H_MSIX:
		if (!p) {
			put_raw(im, l);
			break;
		}
		p->msix = l->v[0];
		p->msix_known = true;
		put(im, l, TRACE_EV_MSIX_ENABLE, p->dev,
		    ARGS({"enabled", l->v[0]}, {"masked", l->v[1]}));
		break;
	case H_STATUS:
		on_status(im, l);
		break;
	case H_QUEUE_NOTIFY:
		on_notify(im, l, qimp_thread(im, l->tid));
		break;
	case H_NOTIFY_WRITE:
		qimp_thread(im, l->tid)->notify_write = true;
		put_raw(im, l);
		break;
	case H_IRQ:
		on_irq(im, l, e->flag);
		break;
	case H_POP:
	case H_BLK_RW:
	case H_REQ_COMPLETE:
	case H_FILL:
		on_request(im, l, e->h);
		break;
	case H_FLUSH:
		on_flush(im, l);
		break;
	case H_DATAPLANE:
		on_dataplane(im, l, e->flag);
		break;
	case H_RAW:
		put_raw(im, l);
		break;
	}
}

static void put_info(struct imp *im)
{
	struct trace_build *b = im->b;
	char threads[512] = "";
	bool exit = false, ioeventfd = false;
	for (size_t i = 0; i < im->nthr; i++) {
		char name[32];
		size_t at = strlen(threads);
		snprintf(threads + at, sizeof(threads) - at, "%s%u=%s", i ? " " : "",
			 im->thr[i].qemu, trace_tid_name(im->thr[i].tid, name, sizeof(name)));
	}
	for (size_t i = 0; i < b->tf.nrec; i++)
		if (b->tf.rec[i].ev == TRACE_EV_QUEUE_NOTIFY) {
			exit |= b->tf.rec[i].a[1] == TRACE_VIA_EXIT;
			ioeventfd |= b->tf.rec[i].a[1] == TRACE_VIA_IOEVENTFD;
		}
	trace_build_info(b, "source", "qemu-log");
	trace_build_info(b, "qemu_log", "%s", b->tf.path);
	trace_build_info(b, "clock", "%s",
			 im->timestamps ? "QEMU -msg timestamp=on: wall clock, us"
					: "none (no -msg timestamp=on): times are 0");
	if (im->timestamps)
		trace_build_info(b, "qemu_threads", "%s", threads);
	if (im->nvdev)
		trace_build_info(b, "transport", "%s", im->modern ? "modern" : "legacy");
	if (exit || ioeventfd)
		trace_build_info(b, "io_path", "%s",
				 ioeventfd ? "QEMU main loop, notifies by ioeventfd"
					   : "QEMU vCPU thread, notifies by exit (ioeventfd=off)");
	/* what this importer can make from QEMU 7.2's events, and of that what this log holds: a
	 * family the log has none of (no msix_* lines, say) was not enabled with -trace, and diff
	 * and the viewer say "not recorded", not "absent" */
	trace_build_info(b, "qemu_events",
			 "pci_cfg_*,bar_map,bar_unmap,msix_enable,virtio_status,"
			 "device_reset,queue_notify,chain_pop,req_complete,used_push,"
			 "irq_raise,backend_*,imported");
	uint64_t held = 0;
	char names[1024] = "";
	for (size_t i = 0; i < b->tf.nrec; i++)
		held |= 1ULL << b->tf.rec[i].ev;
	for (unsigned ev = 0; ev < TRACE_EV_NR; ev++)
		if (held >> ev & 1)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 names[0] ? "," : "", trace_events[ev].name);
	trace_build_info(b, "events", "%s", names[0] ? names : "-*");
	trace_build_info(b, "not_in_log",
			 "PCI access widths, MSI-X vector/address/data, avail_idx, descriptor "
			 "heads: '?' (ORIGIN chunks mark them)");
}

int trace_import_qemu(struct trace_build *b, FILE *in, char *err, size_t errlen)
{
	struct imp im = {.b = b, .dataplane_vd = NONE, .last_status_vd = NONE};
	int ret = qimp_read_lines(&im, in);
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", b->tf.path, strerror(-ret));
	} else if (!im.nlines) {
		snprintf(
		    err, errlen,
		    "%s: no QEMU trace events in %zu lines (expected QEMU's log trace backend: "
		    "-trace enable=EVENTS -D FILE)",
		    b->tf.path, b->lines);
		ret = -1;
	} else {
		qimp_name_threads(&im);
		qimp_learn(&im);
		for (size_t i = 0; i < im.nlines && !b->oom; i++)
			map_line(&im, &im.lines[i]);
		for (size_t i = 0; i < im.nreq; i++) /* still in flight when the log ends */
			put_pop(&im, &im.req[i], UINT64_MAX, 0, 0);
		put_info(&im);
		trace_import_qemu_status(b, b->tf.path);
		if (im.bad_arg) {
			snprintf(
			    err, errlen,
			    "%s: the catalogue's %s has no argument '%s': this importer is out of "
			    "date",
			    b->tf.path, trace_events[im.bad_ev].name, im.bad_arg);
			ret = -1;
		}
	}
	for (size_t i = 0; i < im.nlines; i++)
		free(im.lines[i].text);
	free(im.lines);
	free(im.pci);
	free(im.vdev);
	free(im.vq);
	free(im.req);
	free(im.thr);
	return ret < 0 ? -1 : 0;
}
