/* trace/compare/diff-model.c - one side of `kvmscope diff`: its virtio devices, their driver
 * sessions, and, for the session compared, the PCI enumeration before it, the handshake steps,
 * features, queues, config fields read and the requests after DRIVER_OK (compare.h). */
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace/compare/compare.h"

#define ARG(r, name) trace_rec_arg(r, name, 0)
#define IO_REQUESTS  8 /* the IO path's steps: those of the first requests, as diff shows them */

const char *diff_side_kind(const struct diff_side *s)
{
	return s->qemu ? "QEMU 7.2 log" : "kvmscope trace";
}

/* --- Sessions. --- */
static void path_add(struct diff_session *s, const char *word)
{
	size_t at = strlen(s->path);
	snprintf(s->path + at, sizeof(s->path) - at, "%s%s", at ? " > " : "", word);
}

/* A session starts at the reset before the driver's first status write and ends where the next
 * reset after a non-zero status begins; a run of resets is one step. */
static void find_sessions(const struct trace_file *tf, struct diff_dev *d)
{
	struct diff_session *cur = NULL;
	size_t reset_at = DIFF_NONE, last = 0;
	char buf[128];

	for (size_t i = 0; i < tf->nrec; i++) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->dev != d->dev)
			continue;
		last = i;
		if (r->ev != TRACE_EV_VIRTIO_STATUS)
			continue;
		uint64_t val = ARG(r, "new");
		if (!val) {
			if (cur) {
				cur->last = i - 1;
				cur = NULL;
			}
			if (reset_at == DIFF_NONE)
				reset_at = i;
			continue;
		}
		if (!cur) {
			if (d->nsess == DIFF_SESSIONS_MAX) /* keep the latest ones */
				memmove(d->sess, d->sess + 1, --d->nsess * sizeof(d->sess[0]));
			cur = &d->sess[d->nsess++];
			*cur = (struct diff_session){.first = reset_at == DIFF_NONE ? i : reset_at,
						     .driver_ok = DIFF_NONE};
			if (reset_at != DIFF_NONE)
				path_add(cur, "reset");
			reset_at = DIFF_NONE;
		}
		cur->last_status = i;
		path_add(cur, trace_decode_status(val, buf, sizeof(buf)));
		if ((val & VIRTIO_CONFIG_S_DRIVER_OK) && cur->driver_ok == DIFF_NONE)
			cur->driver_ok = i;
	}
	if (cur)
		cur->last = last;
	d->cmp = d->nsess ? (int)d->nsess - 1 : -1;
	for (int k = d->nsess - 1; k >= 0; k--)
		if (d->sess[k].driver_ok != DIFF_NONE) {
			d->cmp = k;
			break;
		}
}

/* --- Steps. --- */
static void add_step(struct diff_steps *l, const struct trace_rec *r, size_t rec, uint8_t kind,
		     const char *key, const char *extra)
{
	if (l->n && !strcmp(l->v[l->n - 1].key, key) && (kind == DK_STATUS || kind == DK_MSIX))
		return; /* QEMU logs one reset as two status writes; MSI-X: one state once */
	if (trace_vec_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
		return;
	struct diff_step *s = &l->v[l->n++];
	s->ev = r->ev;
	s->kind = kind;
	s->rec = rec;
	snprintf(s->key, sizeof(s->key), "%s", key);
	snprintf(s->text, sizeof(s->text), "%s%s", key, extra ? extra : "");
}

static void stepf(struct diff_steps *l, const struct trace_rec *r, size_t rec, uint8_t kind,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void stepf(struct diff_steps *l, const struct trace_rec *r, size_t rec, uint8_t kind,
		  const char *fmt, ...)
{
	char key[DIFF_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	add_step(l, r, rec, kind, key, NULL);
}

/* "4K-aligned", "64-aligned": what stays the same when the guest allocates elsewhere. */
static const char *alignment(uint64_t addr, char *buf, size_t len)
{
	unsigned shift = 0;
	while (shift < 12 && addr && !(addr & (1ULL << shift)))
		shift++;
	if (!addr)
		snprintf(buf, len, "0");
	else if (shift >= 12)
		snprintf(buf, len, "4K-aligned");
	else
		snprintf(buf, len, "%u-aligned", 1u << shift);
	return buf;
}

/* The name of the register or field at off, without "+N" (a byte inside it). */
static const char *field(const char *decoded, char *buf, size_t len)
{
	snprintf(buf, len, "%s", decoded);
	buf[strcspn(buf, "+/")] = 0;
	return buf;
}

static void queue_step(const struct trace_file *tf, struct diff_dev *d, const struct trace_rec *r,
		       size_t i)
{
	unsigned q = ARG(r, "queue");
	struct diff_queue *dq = q < DIFF_QUEUES_MAX ? &d->q[q] : NULL;
	char key[DIFF_TEXT], extra[64] = "", a[32], dec[64];
	bool write = ARG(r, "rw") == TRACE_WRITE;
	uint64_t addr = ARG(r, "addr");

	switch (r->ev) {
	case TRACE_EV_QUEUE_SELECT:
		snprintf(key, sizeof(key), "queue_select %u", q);
		break;
	case TRACE_EV_QUEUE_SIZE:
		snprintf(key, sizeof(key), "queue %u size %s %llu", q, write ? "write" : "read",
			 (unsigned long long)ARG(r, "size"));
		if (dq && write)
			dq->size = ARG(r, "size");
		else if (dq)
			dq->max_size = dq->size = ARG(r, "size");
		break;
	case TRACE_EV_QUEUE_PFN:
		addr = ARG(r, "pfn") << 12;
		snprintf(key, sizeof(key), "queue %u pfn %s %s", q, write ? "write" : "read",
			 addr ? "(ring at a page)" : "0");
		snprintf(extra, sizeof(extra), ": 0x%llx", (unsigned long long)ARG(r, "pfn"));
		if (dq && write && addr) {
			dq->legacy = dq->seen = true;
			dq->desc = addr;
		}
		break;
	case TRACE_EV_QUEUE_DESC:
	case TRACE_EV_QUEUE_DRIVER:
	case TRACE_EV_QUEUE_DEVICE:
		snprintf(key, sizeof(key), "queue %u %s %s", q, trace_events[r->ev].name + 6,
			 alignment(addr, a, sizeof(a)));
		snprintf(extra, sizeof(extra), ": 0x%llx", (unsigned long long)addr);
		if (dq && r->ev == TRACE_EV_QUEUE_DESC)
			dq->desc = addr;
		else if (dq)
			*(r->ev == TRACE_EV_QUEUE_DRIVER ? &dq->driver : &dq->device) = addr;
		if (dq)
			dq->seen = true;
		break;
	case TRACE_EV_QUEUE_ENABLE:
		snprintf(key, sizeof(key), "queue %u enable %s %llu", q, write ? "write" : "read",
			 (unsigned long long)ARG(r, "enable"));
		break;
	case TRACE_EV_QUEUE_MSIX_VECTOR:
		snprintf(key, sizeof(key), "queue %u msix_vector %s", q,
			 trace_decode_arg(tf, r, 1, dec, sizeof(dec)));
		if (dq) {
			dq->vector = ARG(r, "result");
			dq->has_vector = true;
		}
		break;
	default: /* CONFIG_MSIX_VECTOR */
		snprintf(key, sizeof(key), "config msix_vector %s",
			 trace_decode_arg(tf, r, 0, dec, sizeof(dec)));
		break;
	}
	add_step(&d->steps, r, i, DK_QUEUE, key, extra);
}

static void config_read(const struct trace_file *tf, struct diff_dev *d, const struct trace_rec *r)
{
	char dec[64], name[64];
	trace_decode_devcfg(ARG(r, "off"), 1, d->kind, dec, sizeof(dec));
	field(dec, name, sizeof(name));
	size_t len = strlen(name), at = strlen(d->config);
	(void)tf;
	for (const char *p = d->config; (p = strstr(p, name)); p += len)
		if ((p == d->config || p[-1] == ' ') && (p[len] == ',' || !p[len]))
			return;
	snprintf(d->config + at, sizeof(d->config) - at, "%s%s", at ? ", " : "", name);
}

/* One record of the handshake as a step (or a summary field). */
static void handshake_record(const struct trace_file *tf, struct diff_dev *d, size_t i)
{
	const struct trace_rec *r = &tf->rec[i];
	char dec[96], name[64];
	uint64_t sel = ARG(r, "sel"), bits = ARG(r, "bits");

	switch (r->ev) {
	case TRACE_EV_VIRTIO_STATUS:
	case TRACE_EV_DEVICE_RESET:
		if (r->ev == TRACE_EV_DEVICE_RESET || !ARG(r, "new"))
			stepf(&d->steps, r, i, DK_STATUS, "reset");
		else
			stepf(&d->steps, r, i, DK_STATUS, "status %s",
			      trace_decode_status(ARG(r, "new"), dec, sizeof(dec)));
		break;
	case TRACE_EV_DEVICE_FEATURES_READ:
	case TRACE_EV_DRIVER_FEATURES_WRITE:
		if (sel > 1)
			break;
		if (r->ev == TRACE_EV_DEVICE_FEATURES_READ) {
			d->dev_features =
			    (d->dev_features & ~(0xffffffffULL << 32 * sel)) | bits << 32 * sel;
			d->has_dev_features = true;
		} else {
			d->drv_features =
			    (d->drv_features & ~(0xffffffffULL << 32 * sel)) | bits << 32 * sel;
			d->has_drv_features = true;
		}
		stepf(&d->steps, r, i, DK_FEATURES, "%s[%llu] 0x%08llx",
		      r->ev == TRACE_EV_DEVICE_FEATURES_READ ? "device_features"
							     : "driver_features",
		      (unsigned long long)sel, (unsigned long long)bits);
		break;
	case TRACE_EV_FEATURES_OK:
	case TRACE_EV_FEATURES_REFUSED:
		d->accepted = ARG(r, "features");
		d->has_accepted = r->ev == TRACE_EV_FEATURES_OK;
		d->refused = r->ev == TRACE_EV_FEATURES_REFUSED;
		stepf(&d->steps, r, i, DK_FEATURES, "FEATURES_OK %s 0x%llx",
		      d->refused ? "refused" : "accepted", (unsigned long long)d->accepted);
		break;
	case TRACE_EV_QUEUE_SELECT:
	case TRACE_EV_QUEUE_SIZE:
	case TRACE_EV_QUEUE_PFN:
	case TRACE_EV_QUEUE_DESC:
	case TRACE_EV_QUEUE_DRIVER:
	case TRACE_EV_QUEUE_DEVICE:
	case TRACE_EV_QUEUE_ENABLE:
	case TRACE_EV_QUEUE_MSIX_VECTOR:
	case TRACE_EV_CONFIG_MSIX_VECTOR:
		queue_step(tf, d, r, i);
		break;
	case TRACE_EV_CONFIG_READ:
	case TRACE_EV_CONFIG_WRITE:
		if (r->ev == TRACE_EV_CONFIG_READ)
			config_read(tf, d, r);
		stepf(&d->steps, r, i, DK_CONFIG, "config %s %s = 0x%llx",
		      r->ev == TRACE_EV_CONFIG_READ ? "read" : "write",
		      trace_decode_devcfg(ARG(r, "off"), ARG(r, "len"), d->kind, dec, sizeof(dec)),
		      (unsigned long long)ARG(r, "val"));
		break;
	case TRACE_EV_COMMON_CFG_READ:
	case TRACE_EV_COMMON_CFG_WRITE:
		stepf(&d->steps, r, i, DK_TRANSPORT, "%s %s = 0x%llx",
		      r->ev == TRACE_EV_COMMON_CFG_READ ? "read" : "write",
		      trace_decode_vreg(ARG(r, "reg"), ARG(r, "len"), dec, sizeof(dec)),
		      (unsigned long long)ARG(r, "val"));
		break;
	case TRACE_EV_MSIX_ENABLE:
		stepf(&d->steps, r, i, DK_MSIX, "MSI-X enable=%llu mask_all=%llu",
		      (unsigned long long)ARG(r, "enabled"), (unsigned long long)ARG(r, "masked"));
		break;
	case TRACE_EV_MSIX_TABLE_WRITE:
		stepf(&d->steps, r, i, DK_MSIX, "MSI-X table[%llu].%s",
		      (unsigned long long)ARG(r, "entry"),
		      trace_decode_arg(tf, r, 1, dec, sizeof(dec)));
		break;
	case TRACE_EV_MSIX_MASK:
		stepf(&d->steps, r, i, DK_MSIX, "MSI-X vector %llu masked=%llu",
		      (unsigned long long)ARG(r, "entry"), (unsigned long long)ARG(r, "masked"));
		break;
	case TRACE_EV_PCI_CFG_WRITE: /* reads are many and say little: counted, not listed */
		field(trace_decode_pci_reg(ARG(r, "off"), 1, ARG(r, "cap"), dec, sizeof(dec)), name,
		      sizeof(name));
		stepf(&d->steps, r, i, DK_PCI, "PCI write %s = 0x%llx", name,
		      (unsigned long long)ARG(r, "val"));
		break;
	}
}

/* --- PCI enumeration as steps: BAR sizing and placement, the capability walk, the writes. --- */
struct pci_walk {
	int sizing;	  /* a BAR register just written with all ones: its read-back sizes it */
	uint32_t caps[8]; /* capabilities already walked: bit per config offset */
};

/* The BAR of a config offset (6: the expansion ROM), -1 for none. */
static int bar_of(unsigned off)
{
	if (off >= PCI_BASE_ADDRESS_0 && off <= PCI_BASE_ADDRESS_5 + 3)
		return (off - PCI_BASE_ADDRESS_0) / 4;
	return off >= PCI_ROM_ADDRESS && off <= PCI_ROM_ADDRESS + 3 ? 6 : -1;
}

static const char *bar_name(int bar, char *buf, size_t len)
{
	if (bar == 6)
		snprintf(buf, len, "ROM");
	else
		snprintf(buf, len, "BAR%d", bar);
	return buf;
}

static void pci_step(const struct trace_file *tf, struct diff_dev *d, size_t i, struct pci_walk *w)
{
	const struct trace_rec *r = &tf->rec[i];
	unsigned off = ARG(r, "off") & 0xff, at = ARG(r, "cap") & 0xff;
	unsigned long long val = ARG(r, "val");
	int bar = r->ev == TRACE_EV_BAR_MAP || r->ev == TRACE_EV_BAR_UNMAP ? (int)ARG(r, "bar")
									   : bar_of(off);
	char dec[96], name[64], b[16];

	if (r->ev == TRACE_EV_PCI_CFG_READ) {
		if (off == PCI_VENDOR_ID && val >> 16)
			d->pci_id = val;
		else if (off == PCI_DEVICE_ID)
			d->pci_id = (d->pci_id & 0xffff) | (uint32_t)(val & 0xffff) << 16;
		if (bar >= 0 && (int)off == w->sizing) {
			stepf(&d->pci, r, i, DK_PCI, "%s sizing reads 0x%llx",
			      bar_name(bar, b, sizeof(b)), val);
		} else if (at && !(w->caps[at / 32] >> (at % 32) & 1)) {
			w->caps[at / 32] |= 1u << (at % 32);
			stepf(&d->pci, r, i, DK_PCI, "capability %s",
			      trace_decode_arg(tf, r, 3, dec, sizeof(dec)));
		} else if (off == PCI_INTERRUPT_LINE) {
			stepf(&d->pci, r, i, DK_PCI, "read interrupt line = %llu", val & 0xff);
		}
		if (bar < 0 || (int)off != w->sizing)
			return;
		w->sizing = -1;
	} else if (r->ev == TRACE_EV_PCI_CFG_WRITE) {
		w->sizing = bar >= 0 && val >= 0xfffff800 && val <= 0xffffffff ? (int)off : -1;
		field(trace_decode_pci_reg(off, 1, ARG(r, "cap"), dec, sizeof(dec)), name,
		      sizeof(name));
		stepf(&d->pci, r, i, DK_PCI, "PCI write %s = 0x%llx", name, val);
	} else if (bar >= 0 && bar < DIFF_BARS) {
		const uint64_t t = ARG(r, "type");
		stepf(&d->pci, r, i, DK_PCI, "%s %s %s %llu B @0x%llx", bar_name(bar, b, sizeof(b)),
		      r->ev == TRACE_EV_BAR_MAP ? "mapped" : "unmapped",
		      t & PCI_BASE_ADDRESS_SPACE_IO ? "io"
		      : (t & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64
			  ? "mem64"
			  : "mem32",
		      (unsigned long long)ARG(r, "size"), (unsigned long long)ARG(r, "addr"));
	}
}

/* --- The IO path as steps: notify, pop, completion, interrupt of the first requests. --- */
/* The IO path as steps. The key leaves the queue out, so that requests align by what they are;
 * the text names it, and diff_align marks a request served on another queue. */
static void io_step(const struct trace_file *tf, struct diff_dev *d, size_t i)
{
	const struct trace_rec *r = &tf->rec[i];
	unsigned q = ARG(r, "queue");
	char what[96], key[DIFF_TEXT], type[32], sector[32], bytes[32];

	/* past the first requests: only their completions and the interrupts that follow them */
	if (d->nreq >= IO_REQUESTS &&
	    (r->ev == TRACE_EV_QUEUE_NOTIFY || r->ev == TRACE_EV_CHAIN_POP ||
	     (r->ev == TRACE_EV_REQ_COMPLETE && d->io_done >= IO_REQUESTS) ||
	     (r->ev == TRACE_EV_IRQ_RAISE && d->io_irqs >= d->io_done)))
		return;
	switch (r->ev) {
	case TRACE_EV_QUEUE_NOTIFY:
		snprintf(what, sizeof(what), "by %s",
			 ARG(r, "via") == TRACE_VIA_EXIT ? "exit" : "ioeventfd");
		snprintf(key, sizeof(key), "notify %s", what);
		break;
	case TRACE_EV_CHAIN_POP: /* what the source did not log reads "?", and keys as 0 */
		snprintf(what, sizeof(what), "%s sector %s %s B",
			 trace_decode_arg(tf, r, 2, type, sizeof(type)),
			 trace_decode_arg(tf, r, 3, sector, sizeof(sector)),
			 trace_decode_arg(tf, r, 5, bytes, sizeof(bytes)));
		snprintf(key, sizeof(key), "pop type %llu %llu %llu",
			 (unsigned long long)ARG(r, "type"), (unsigned long long)ARG(r, "sector"),
			 (unsigned long long)ARG(r, "bytes"));
		break;
	case TRACE_EV_REQ_COMPLETE:
	case TRACE_EV_IRQ_RAISE:
		trace_decode_arg(tf, r, r->ev == TRACE_EV_IRQ_RAISE ? 1 : 2, what, sizeof(what));
		snprintf(key, sizeof(key), "%s %s",
			 r->ev == TRACE_EV_IRQ_RAISE ? "interrupt" : "complete", what);
		break;
	default:
		return;
	}
	d->io_done += r->ev == TRACE_EV_REQ_COMPLETE;
	d->io_irqs += r->ev == TRACE_EV_IRQ_RAISE;
	add_step(&d->io, r, i, DK_IO, key, NULL);
	snprintf(d->io.v[d->io.n - 1].text, DIFF_TEXT, "%.*s queue %u %s", (int)strcspn(key, " "),
		 key, q, what);
}

/* --- IO after DRIVER_OK. --- */
static void io_record(const struct trace_file *tf, struct diff_dev *d, size_t i, size_t end)
{
	const struct trace_rec *r = &tf->rec[i];
	struct diff_req *q;
	unsigned qi = ARG(r, "queue");
	struct diff_queue *dq = qi < DIFF_QUEUES_MAX ? &d->q[qi] : NULL;

	io_step(tf, d, i);
	switch (r->ev) {
	case TRACE_EV_QUEUE_NOTIFY:
		if (dq)
			dq->notifies++;
		if (ARG(r, "via") == TRACE_VIA_EXIT)
			d->notify_exit++;
		else
			d->notify_ioeventfd++;
		for (size_t k = i + 1; k <= end; k++) { /* a notify with nothing to pop */
			const struct trace_rec *n = &tf->rec[k];
			if (n->dev == d->dev && n->ev == TRACE_EV_CHAIN_POP)
				break;
			if (k == end || (n->dev == d->dev && n->ev == TRACE_EV_QUEUE_NOTIFY)) {
				d->notify_empty++;
				break;
			}
		}
		break;
	case TRACE_EV_CHAIN_POP:
		if (dq)
			dq->reqs++;
		if (trace_vec_grow(&d->req, &d->req_cap, d->nreq + 1, sizeof(*d->req)))
			break;
		d->req[d->nreq++] = (struct diff_req){.pop = r - tf->rec,
						      .queue = ARG(r, "queue"),
						      .head = ARG(r, "head"),
						      .type = ARG(r, "type"),
						      .sector = ARG(r, "sector"),
						      .bytes = ARG(r, "bytes")};
		break;
	case TRACE_EV_REQ_COMPLETE:
		for (size_t k = d->nreq;
		     k-- > 0;) { /* by index: before any chain_pop, req is NULL */
			q = &d->req[k];
			if (!q->done && q->queue == ARG(r, "queue") && q->head == ARG(r, "head")) {
				q->done = true;
				q->status = ARG(r, "status");
				q->ns = ARG(r, "ns");
				break;
			}
		}
		break;
	case TRACE_EV_IRQ_RAISE:
		if (dq)
			dq->irqs++;
		if (trace_arg_unknown(tf, r, 1)) { /* never guessed: counted as not known */
			d->irq_unknown++;
			break;
		}
		switch (ARG(r, "kind")) {
		case TRACE_IRQ_MSIX:
			d->irq_msix++;
			break;
		case TRACE_IRQ_MSIX_IRQFD:
			d->irq_irqfd++;
			break;
		default:
			d->irq_intx++;
		}
		break;
	case TRACE_EV_IRQ_SUPPRESS:
		d->irq_suppressed++;
		break;
	case TRACE_EV_BACKEND_START:
		if (!d->backend[0]) {
			snprintf(d->backend, sizeof(d->backend), "%s",
				 trace_file_str(tf, ARG(r, "backend")));
			d->wiring = ARG(r, "wiring");
		}
		break;
	}
}

static void build_dev(const struct trace_file *tf, struct diff_dev *d)
{
	find_sessions(tf, d);
	if (d->cmp < 0)
		return;
	const struct diff_session *s = &d->sess[d->cmp];
	size_t pci_from = d->cmp > 0 ? d->sess[d->cmp - 1].last_status + 1 : 0;
	size_t hs_end = s->driver_ok != DIFF_NONE ? s->driver_ok : s->last;
	struct pci_walk w = {.sizing = -1};

	for (size_t i = 0; i <= s->last && i < tf->nrec; i++) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->dev != d->dev)
			continue;
		if (r->ev == TRACE_EV_DEV_CREATE) {
			d->slot = ARG(r, "slot");
		} else if (r->ev == TRACE_EV_HOST_FEATURES) {
			d->host_features = ARG(r, "features");
			d->has_host_features = true;
		} else if (r->ev == TRACE_EV_QUEUE_ADD && ARG(r, "queue") < DIFF_QUEUES_MAX) {
			d->q[ARG(r, "queue")].max_size = ARG(r, "size");
			d->nq_dev = d->nq_dev > ARG(r, "queue") ? d->nq_dev : ARG(r, "queue") + 1;
		} else if ((r->ev == TRACE_EV_BAR_MAP || r->ev == TRACE_EV_BAR_UNMAP) &&
			   i <= hs_end && ARG(r, "bar") < DIFF_BARS) {
			d->bar[ARG(r, "bar")] =
			    (struct diff_bar){r->ev == TRACE_EV_BAR_MAP, ARG(r, "addr"),
					      ARG(r, "size"), ARG(r, "type")};
		}
		if (i >= pci_from && i < s->first) {
			d->pci_reads += r->ev == TRACE_EV_PCI_CFG_READ;
			d->pci_writes += r->ev == TRACE_EV_PCI_CFG_WRITE;
			pci_step(tf, d, i, &w);
		} else if (i >= s->first && i <= hs_end) {
			handshake_record(tf, d, i);
		} else if (i > hs_end) {
			io_record(tf, d, i, s->last);
		}
	}
}

/* What QEMU's monitor said after the run (trace/compare/import-qemu-status.c): the outcome of
 * feature negotiation and queue setup, which QEMU 7.2 does not log. */
static void apply_snapshot(const struct diff_side *s, struct diff_dev *d)
{
	char buf[256], key[32];
	unsigned long long v, size, desc, driver, device;
	const struct trace_file *tf = &s->tf;
	if (!trace_file_info(tf, "qemu_host_features", buf, sizeof(buf)) ||
	    sscanf(buf, "0x%llx", &v) != 1 || d->kind != 2)
		return;
	d->snapshot = true;
	d->host_features = v;
	d->has_host_features = true;
	/* what the driver could read: a legacy header has one 32-bit word */
	d->dev_features = !strcmp(s->transport, "legacy") ? v & 0xffffffff : v;
	d->has_dev_features = true;
	if (trace_file_info(tf, "qemu_guest_features", buf, sizeof(buf)) &&
	    sscanf(buf, "0x%llx", &v) == 1) {
		d->drv_features = v;
		d->has_drv_features = true;
	}
	d->has_queues = true;
	for (unsigned q = 0; q < DIFF_QUEUES_MAX; q++) {
		snprintf(key, sizeof(key), "qemu_queue%u", q);
		if (!trace_file_info(tf, key, buf, sizeof(buf)) ||
		    sscanf(buf, "size=%llu desc=0x%llx driver=0x%llx device=0x%llx", &size, &desc,
			   &driver, &device) != 4)
			continue;
		d->nq_dev = q + 1; /* the device has it; set up only when the driver placed it */
		d->q[q].seen = desc != 0;
		d->q[q].legacy = !strcmp(s->transport, "legacy");
		d->q[q].size = d->q[q].max_size = size;
		d->q[q].desc = desc;
		d->q[q].driver = driver;
		d->q[q].device = device;
	}
	if (trace_file_info(tf, "qemu_num_vqs", buf, sizeof(buf)) && sscanf(buf, "%llu", &v) == 1)
		d->nq_dev = v;
}

int diff_side_load(struct diff_side *s, const char *path, char *err, size_t errlen)
{
	char buf[256];
	memset(s, 0, sizeof(*s));
	s->path = path;
	if (trace_load_any(&s->tf, path, "kvmscope diff", err, errlen) < 0)
		return -1;
	const struct trace_file *tf = &s->tf;
	s->qemu = trace_file_info(tf, "source", buf, sizeof(buf)) && !strcmp(buf, "qemu-log");
	s->recorded = trace_file_recorded(tf);
	s->possible = s->recorded;
	char events[1024], msg[128];
	if (s->qemu && trace_file_info(tf, "qemu_events", events, sizeof(events)))
		trace_events_mask(events, 0, &s->possible, msg, sizeof(msg));
	if (!trace_file_info(tf, "transport", s->transport, sizeof(s->transport)))
		strcpy(s->transport, "?");
	if (!trace_file_info(tf, "io_path", s->io_path, sizeof(s->io_path)))
		strcpy(s->io_path, "?");
	for (size_t id = 1; id < tf->names.ndev; id++) {
		if (!tf->names.dev[id].kind)
			continue;
		if (trace_vec_grow(&s->dev, &s->dev_cap, s->ndev + 1, sizeof(*s->dev))) {
			snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
		struct diff_dev *d = &s->dev[s->ndev++];
		memset(d, 0, sizeof(*d));
		d->dev = id;
		d->kind = tf->names.dev[id].kind;
		d->name = trace_file_str(tf, tf->names.dev[id].name);
		/* QEMU names its devices "virtio-blk-pci 00:02.0" */
		if (!s->qemu || sscanf(d->name, "%*s %*x:%x.%*x", (unsigned *)&d->slot) != 1)
			d->slot = -1;
		build_dev(tf, d);
		d->has_queues = !diff_unrecorded(s, TRACE_EV_QUEUE_SIZE);
		d->has_config = !diff_unrecorded(s, TRACE_EV_CONFIG_READ);
		if (s->qemu)
			apply_snapshot(s, d);
	}
	return 0;
}

void diff_side_free(struct diff_side *s)
{
	for (size_t i = 0; i < s->ndev; i++) {
		free(s->dev[i].steps.v);
		free(s->dev[i].pci.v);
		free(s->dev[i].io.v);
		free(s->dev[i].req);
	}
	free(s->dev);
	trace_file_free(&s->tf);
	s->dev = NULL;
	s->ndev = 0;
}
