/* trace/compare/diff-report.c - what `kvmscope diff` prints: a text report that fits a slide (two
 * columns, A and B, with marks = same, ~ differs, < only in A, > only in B, and every expected
 * difference pointed to a numbered note), or one JSON document with the same content; and the
 * labels of the differences one side cannot help (QEMU logs no feature negotiation, SeaBIOS
 * drives the device first, ioeventfd hides kicks). */
#include <stdlib.h>
#include <string.h>

#include "trace/compare/compare.h"

#define COL	   48 /* characters of a side's column */
#define FOLD_AFTER 3  /* a run of labelled one-sided steps longer than this is folded */
#define NOTES_MAX  24

/* --- Words, shared by both formats. --- */
static const char *bar_words(const struct diff_bar *b, char *buf, size_t len)
{
	if (!b->mapped) {
		snprintf(buf, len, "-");
		return buf;
	}
	const char *t = b->type & 1 ? "io" : (b->type & 6) == 4 ? "mem64" : "mem32";
	bool kib = b->size >= 1024 && !(b->size & 1023);
	snprintf(buf, len, "%s%s %llu %s @0x%llx", t,
		 !(b->type & 1) && (b->type & 8) ? " prefetch" : "",
		 (unsigned long long)(kib ? b->size >> 10 : b->size), kib ? "KiB" : "B",
		 (unsigned long long)b->addr);
	return buf;
}

static const char *req_type(const struct diff_side *s, uint64_t v, char *buf, size_t len)
{
	struct trace_rec r = {.ev = TRACE_EV_CHAIN_POP};
	trace_rec_set(&r, "type", v);
	return trace_decode_arg(&s->tf, &r, 2, buf, len);
}

static const char *req_status(const struct diff_side *s, const struct diff_req *q, char *buf,
			      size_t len)
{
	struct trace_rec r = {.ev = TRACE_EV_REQ_COMPLETE};
	if (!q->done)
		return snprintf(buf, len, "not completed"), buf;
	trace_rec_set(&r, "status", q->status);
	return trace_decode_arg(&s->tf, &r, 2, buf, len);
}

static bool req_same(const struct diff_req *a, const struct diff_req *b)
{
	return a->type == b->type && a->sector == b->sector && a->bytes == b->bytes &&
	       a->done == b->done && a->status == b->status;
}

static const char *req_words(const struct diff_side *s, const struct diff_req *q, char *buf,
			     size_t len)
{
	char type[32], status[32], sector[32], bytes[32];
	const struct trace_rec *pop = &s->tf.rec[q->pop]; /* sector, bytes: "?" when not logged */
	snprintf(buf, len, "%-5s sector %-6s %6s B  %s", req_type(s, q->type, type, sizeof(type)),
		 trace_decode_arg(&s->tf, pop, 3, sector, sizeof(sector)),
		 trace_decode_arg(&s->tf, pop, 5, bytes, sizeof(bytes)),
		 req_status(s, q, status, sizeof(status)));
	return buf;
}

/* "legacy PFN: one page-aligned block", "desc 4K-aligned, driver desc+0x1000, device ..." */
static const char *queue_shape(const struct diff_queue *q, char *buf, size_t len)
{
	if (q->legacy) {
		snprintf(buf, len, "legacy PFN: one page-aligned block");
		return buf;
	}
	snprintf(buf, len, "desc %s-aligned",
		 !(q->desc & 4095) ? "4K"
		 : !(q->desc & 15) ? "16"
				   : "1");
	const uint64_t addr[] = {q->driver, q->device};
	for (int k = 0; k < 2; k++) {
		size_t at = strlen(buf);
		if (addr[k] >= q->desc && addr[k] - q->desc < (1u << 20))
			snprintf(buf + at, len - at, ", %s desc+0x%llx", k ? "device" : "driver",
				 (unsigned long long)(addr[k] - q->desc));
		else
			snprintf(buf + at, len - at, ", %s elsewhere", k ? "device" : "driver");
	}
	return buf;
}

static const char *queue_words(const struct diff_queue *q, bool vector, char *buf, size_t len)
{
	char shape[128];
	if (!q->seen) {
		snprintf(buf, len, "-");
		return buf;
	}
	snprintf(buf, len, "size %u, %s", q->size, queue_shape(q, shape, sizeof(shape)));
	if (vector && q->vector == 0xffff)
		snprintf(buf + strlen(buf), len - strlen(buf), ", no MSI-X vector");
	else if (vector)
		snprintf(buf + strlen(buf), len - strlen(buf), ", MSI-X vector %u", q->vector);
	return buf;
}

static const char *features_words(const struct diff_dev *d, uint64_t bits, bool has, char *buf,
				  size_t len)
{
	char names[512];
	if (!has) {
		snprintf(buf, len, "-");
		return buf;
	}
	trace_decode_features(bits, 0, d->kind, names, sizeof(names));
	snprintf(buf, len, "0x%llx %s", (unsigned long long)bits, names);
	return buf;
}

static unsigned nqueues(const struct diff_dev *d)
{
	unsigned n = 0;
	for (unsigned q = 0; q < DIFF_QUEUES_MAX; q++)
		n = d->q[q].seen ? q + 1 : n;
	return n;
}

/* The queues to list: those set up, and those the device has. */
static unsigned queue_rows(const struct diff_dev *d)
{
	unsigned n = nqueues(d);
	return n > d->nq_dev || d->nq_dev > DIFF_QUEUES_MAX ? n : d->nq_dev;
}

/* The queues to list under IO: those the device has, or (a log without QEMU's snapshot) those
 * its IO was seen on. */
static unsigned io_queues(const struct diff_dev *d)
{
	unsigned n = d->nq_dev < DIFF_QUEUES_MAX ? d->nq_dev : DIFF_QUEUES_MAX;
	for (unsigned q = n; q < DIFF_QUEUES_MAX; q++)
		n = d->q[q].reqs || d->q[q].notifies || d->q[q].irqs ? q + 1 : n;
	return n;
}

/* What a side cannot show at all, for the summary rows (features, queues, config). */
static const char *absent(const struct diff_side *s, uint16_t ev)
{
	return diff_unrecorded(s, ev);
}

/* --- Text. --- */
struct notes {
	const char *v[NOTES_MAX];
	unsigned n;
};

/* " [n]" for a label, numbered in order of first use; "" for none. */
static const char *note(struct notes *ns, const char *label, char *buf, size_t len)
{
	unsigned i = 0;
	buf[0] = 0;
	if (!label)
		return buf;
	while (i < ns->n && strcmp(ns->v[i], label))
		i++;
	if (i == ns->n && ns->n < NOTES_MAX)
		ns->v[ns->n++] = label;
	snprintf(buf, len, " [%u]", i + 1);
	return buf;
}

static const char *op_mark_of(uint8_t op)
{
	static const char *const marks[] = {"=", "~", "<", ">"};
	return op < 4 ? marks[op] : "?";
}

/* One row: a mark, A's column, B's column, and a note or a remark; no trailing blanks. */
static void cols(FILE *f, const char *mark, const char *a, const char *b, const char *tail)
{
	if (*tail)
		fprintf(f, "  %-2s %-*.*s %-*.*s%s\n", mark, COL, COL, a, COL, COL, b, tail);
	else
		fprintf(f, "  %-2s %-*.*s %.*s\n", mark, COL, COL, a, COL, b);
}

/* "5 by exit, 1 with nothing to pop": the counts that are not 0, or "none". */
static const char *counts(char *buf, size_t len, size_t n, const size_t *v, const char *const *what)
{
	buf[0] = 0;
	for (size_t k = 0; k < n; k++)
		if (v[k])
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%zu %s",
				 buf[0] ? ", " : "", v[k], what[k]);
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

static void text_sessions(FILE *f, const struct diff_cmp *p, struct notes *ns)
{
	char n[16];
	const char *label = diff_sessions_label(p);
	fprintf(f, "\nDriver sessions (from a reset to DRIVER_OK, virtio 1.2 §3.1.1)\n");
	for (int side = 0; side < 2; side++) {
		const struct diff_dev *d = side ? p->b : p->a;
		for (unsigned k = 0; k < d->nsess; k++)
			fprintf(f, "  %c%u %s%s%s\n", side ? 'B' : 'A', k + 1, d->sess[k].path,
				(int)k == d->cmp ? "   <- compared" : "",
				(int)k < d->cmp && label && (side ? p->sb : p->sa)->qemu
				    ? note(ns, label, n, sizeof(n))
				    : "");
		if (!d->nsess)
			fprintf(f, "  %c  no driver session: the driver never wrote a status\n",
				side ? 'B' : 'A');
	}
}

static void text_slot(FILE *f, const struct diff_cmp *p, struct notes *ns)
{
	char n[16];

	if (p->a->slot >= 0 && p->b->slot >= 0 && p->a->slot != p->b->slot)
		fprintf(f, "   slot: A 00:%02x.0, B 00:%02x.0%s\n", p->a->slot, p->b->slot,
			note(ns, diff_slot_label(p), n, sizeof(n)));
}

/* The PCI enumeration or IO path step by step, counted; the viewer's --compare lists the rows. */
static void text_part(FILE *f, const struct diff_cmp *p, enum diff_part part)
{
	size_t same = 0, labelled = 0;
	for (long k = 0; k < p->npart_rows[part]; k++) {
		same += p->part_rows[part][k].op == DIFF_SAME;
		labelled += p->part_rows[part][k].op != DIFF_SAME && p->part_rows[part][k].label;
	}
	fprintf(f,
		"     step by step: %zu the same, %zu expected differences, %zu unexplained "
		"(kvmscope view A --compare B lists them)\n",
		same, labelled, p->part_mismatches[part]);
}

static void text_pci(FILE *f, const struct diff_cmp *p, struct notes *ns)
{
	char a[96], b[96], n[16], ra[64], rb[64];
	fprintf(f, "\nPCI enumeration (this device, before the compared session)\n");
	cols(f, "", "A", "B", "");
	snprintf(a, sizeof(a), "config space: %zu reads, %zu writes", p->a->pci_reads,
		 p->a->pci_writes);
	snprintf(b, sizeof(b), "config space: %zu reads, %zu writes", p->b->pci_reads,
		 p->b->pci_writes);
	cols(f, "", a, b, "");
	for (unsigned i = 0; i < DIFF_BARS; i++) {
		bool same;
		const char *label = diff_bar_label(p, i, &same);
		if (!p->a->bar[i].mapped && !p->b->bar[i].mapped)
			continue;
		char name[8] = "ROM";
		if (i < 6)
			snprintf(name, sizeof(name), "BAR%u", i);
		snprintf(a, sizeof(a), "%s %s", name, bar_words(&p->a->bar[i], ra, sizeof(ra)));
		snprintf(b, sizeof(b), "%s %s", name, bar_words(&p->b->bar[i], rb, sizeof(rb)));
		cols(f, same ? "=" : "~", a, b, note(ns, label, n, sizeof(n)));
	}
	text_part(f, p, DIFF_PART_PCI);
}

static void text_handshake(FILE *f, const struct diff_cmp *p, const struct diff_opts *o,
			   struct notes *ns)
{
	char n[16], more[64];
	fprintf(f, "\nHandshake, aligned (= same  ~ differs  < only A  > only B; [n]: expected)\n");
	cols(f, "", "A", "B", "");
	for (long k = 0; k < p->nrows; k++) {
		const struct diff_row *r = &p->rows[k];
		long run = 1;
		while (k + run < p->nrows && r->op >= DIFF_ONLY_A && r->label &&
		       p->rows[k + run].op == r->op && p->rows[k + run].label == r->label)
			run++;
		if (!o->all && run > FOLD_AFTER + 1) {
			for (long j = 0; j < FOLD_AFTER; j++)
				cols(f, op_mark_of(r[j].op), r[j].a ? r[j].a->text : "-",
				     r[j].b ? r[j].b->text : "-", note(ns, r->label, n, sizeof(n)));
			snprintf(more, sizeof(more), "... %ld more (--all shows them)",
				 run - FOLD_AFTER);
			cols(f, r->op == DIFF_ONLY_A ? "<" : ">", r->op == DIFF_ONLY_A ? more : "",
			     r->op == DIFF_ONLY_B ? more : "", note(ns, r->label, n, sizeof(n)));
			k += run - 1;
			continue;
		}
		cols(f, op_mark_of(r->op), r->a ? r->a->text : "-", r->b ? r->b->text : "-",
		     r->op == DIFF_SAME ? ""
		     : r->label		? note(ns, r->label, n, sizeof(n))
					: "   <- mismatch");
	}
	if (!p->nrows)
		fprintf(f, "  (no handshake steps on either side)\n");
}

static const char *const SNAPSHOT =
    "from QEMU's monitor after the guest's IO test (info virtio-status, info "
    "virtio-queue-status): what was negotiated, not logged steps";

/* A summary row: each side's words; "-" with a note when a side cannot know them, a note when
 * they come from QEMU's monitor; under a difference, extra (what differs) when given. */
static void summary(FILE *f, const struct diff_cmp *p, struct notes *ns, const char *what,
		    uint16_t ev, bool ka, const char *a, bool kb, const char *b, const char *extra)
{
	char n[16];
	const char *la = ka ? (p->a->snapshot ? SNAPSHOT : NULL) : absent(p->sa, ev);
	const char *lb = kb ? (p->b->snapshot ? SNAPSHOT : NULL) : absent(p->sb, ev);
	bool differ = ka && kb && strcmp(a, b);
	fprintf(f, "  %-2s %s\n", !(ka && kb) ? "" : differ ? "~" : "=", what);
	fprintf(f, "       A  %s%s\n", ka ? a : "-", note(ns, la, n, sizeof(n)));
	fprintf(f, "       B  %s%s\n", kb ? b : "-", note(ns, lb, n, sizeof(n)));
	if (differ && extra)
		fprintf(f, "       %s\n", extra);
}

/* "only A: BLK_F_SIZE_MAX; only B: BLK_F_GEOMETRY", and the note that explains it if any */
static const char *features_apart(const struct diff_cmp *p, struct notes *ns, uint64_t a,
				  uint64_t b, char *buf, size_t len)
{
	char x[256] = "none", y[256] = "none", n[16];
	if (a & ~b)
		trace_decode_features(a & ~b, 0, p->a->kind, x, sizeof(x));
	if (b & ~a)
		trace_decode_features(b & ~a, 0, p->a->kind, y, sizeof(y));
	snprintf(buf, len, "only A: %s; only B: %s%s", x, y,
		 a != b ? note(ns, diff_features_label(p, a, b), n, sizeof(n)) : "");
	return buf;
}

static void text_state(FILE *f, const struct diff_cmp *p, struct notes *ns)
{
	char a[640], b[640], x[640], what[32];
	const struct diff_dev *da = p->a, *db = p->b;
	fprintf(f, "\nFeatures, queues and config after the handshake\n");
	if (da->has_host_features || db->has_host_features)
		summary(f, p, ns, "offered by the device (its host features)",
			TRACE_EV_HOST_FEATURES, da->has_host_features,
			features_words(da, da->host_features, true, a, sizeof(a)),
			db->has_host_features,
			features_words(db, db->host_features, true, b, sizeof(b)),
			features_apart(p, ns, da->host_features, db->host_features, x, sizeof(x)));
	summary(f, p, ns, "device features the driver read", TRACE_EV_DEVICE_FEATURES_READ,
		da->has_dev_features, features_words(da, da->dev_features, true, a, sizeof(a)),
		db->has_dev_features, features_words(db, db->dev_features, true, b, sizeof(b)),
		features_apart(p, ns, da->dev_features, db->dev_features, x, sizeof(x)));
	summary(f, p, ns, "features the driver accepted", TRACE_EV_DRIVER_FEATURES_WRITE,
		da->has_drv_features, features_words(da, da->drv_features, true, a, sizeof(a)),
		db->has_drv_features, features_words(db, db->drv_features, true, b, sizeof(b)),
		features_apart(p, ns, da->drv_features, db->drv_features, x, sizeof(x)));
	unsigned nq = queue_rows(da) > queue_rows(db) ? queue_rows(da) : queue_rows(db);
	snprintf(a, sizeof(a), "%u", nqueues(da));
	snprintf(b, sizeof(b), "%u", nqueues(db));
	char mq[640], n[16];
	snprintf(mq, sizeof(mq), "the devices have %u and %u queues%s", da->nq_dev, db->nq_dev,
		 note(ns, diff_mq_label(p), n, sizeof(n)));
	summary(f, p, ns, "queues set up", TRACE_EV_QUEUE_SIZE, da->has_queues, a, db->has_queues,
		b, diff_mq_label(p) ? mq : NULL);
	for (unsigned q = 0; q < nq; q++) {
		bool vec = da->q[q].has_vector && db->q[q].has_vector; /* QEMU's monitor has none */
		const char *why = diff_queue_extra(p, q) ? diff_mq_label(p) : diff_queue_label(p);
		snprintf(what, sizeof(what), "queue %u", q);
		snprintf(x, sizeof(x), "%s%s",
			 diff_queue_extra(p, q) ? "only one device has it" : "placed two ways",
			 note(ns, why, n, sizeof(n)));
		summary(f, p, ns, what, TRACE_EV_QUEUE_SIZE, da->has_queues,
			queue_words(&da->q[q], vec, a, sizeof(a)), db->has_queues,
			queue_words(&db->q[q], vec, b, sizeof(b)), why ? x : NULL);
	}
	snprintf(x, sizeof(x), "num_queues is there with VIRTIO_BLK_F_MQ only%s",
		 note(ns, diff_mq_label(p), n, sizeof(n)));
	summary(f, p, ns, "device config fields read", TRACE_EV_CONFIG_READ, da->has_config,
		da->config[0] ? da->config : "none", db->has_config,
		db->config[0] ? db->config : "none", diff_mq_label(p) ? x : NULL);
}

static void text_io(FILE *f, const struct diff_cmp *p, struct notes *ns)
{
	char a[96], b[96], n[16];
	const struct diff_dev *da = p->a, *db = p->b;
	fprintf(f, "\nIO after DRIVER_OK: the first requests\n");
	cols(f, "", "A", "B", "");
	for (long k = 0; k < p->nreqs; k++) {
		const struct diff_pair *q = &p->reqs[k];
		bool same = q->i != DIFF_NONE && q->j != DIFF_NONE &&
			    req_same(&da->req[q->i], &db->req[q->j]);
		cols(f,
		     q->i == DIFF_NONE	 ? ">"
		     : q->j == DIFF_NONE ? "<"
		     : same		 ? "="
					 : "~",
		     q->i == DIFF_NONE ? "-" : req_words(p->sa, &da->req[q->i], a, sizeof(a)),
		     q->j == DIFF_NONE ? "-" : req_words(p->sb, &db->req[q->j], b, sizeof(b)), "");
	}
	static const char *const notify_words[] = {"by exit", "by ioeventfd",
						   "with nothing to pop"};
	static const char *const irq_words[] = {"MSI-X", "MSI-X by irqfd", "INTx", "suppressed",
						"of a kind not logged"};
	const size_t na[] = {da->notify_exit, da->notify_ioeventfd, da->notify_empty},
		     nb[] = {db->notify_exit, db->notify_ioeventfd, db->notify_empty},
		     ia[] = {da->irq_msix, da->irq_irqfd, da->irq_intx, da->irq_suppressed,
			     da->irq_unknown},
		     ib[] = {db->irq_msix, db->irq_irqfd, db->irq_intx, db->irq_suppressed,
			     db->irq_unknown};
	char wa[128], wb[128];
	snprintf(a, sizeof(a), "requests: %zu", da->nreq);
	snprintf(b, sizeof(b), "requests: %zu", db->nreq);
	cols(f, da->nreq == db->nreq ? "=" : "~", a, b, "");
	snprintf(a, sizeof(a), "notifies: %s", counts(wa, sizeof(wa), 3, na, notify_words));
	snprintf(b, sizeof(b), "notifies: %s", counts(wb, sizeof(wb), 3, nb, notify_words));
	cols(f, !memcmp(na, nb, sizeof(na)) ? "=" : "~", a, b,
	     note(ns, diff_notify_label(p), n, sizeof(n)));
	snprintf(a, sizeof(a), "interrupts: %s", counts(wa, sizeof(wa), 5, ia, irq_words));
	snprintf(b, sizeof(b), "interrupts: %s", counts(wb, sizeof(wb), 5, ib, irq_words));
	cols(f, !memcmp(ia, ib, sizeof(ia)) ? "=" : "~", a, b,
	     note(ns, diff_irq_label(p), n, sizeof(n)));
	unsigned nq = io_queues(da) > io_queues(db) ? io_queues(da) : io_queues(db);
	for (unsigned q = 0; nq > 1 && q < nq; q++) {
		const struct diff_queue *qa = &da->q[q], *qb = &db->q[q];
		bool same =
		    qa->reqs == qb->reqs && qa->notifies == qb->notifies && qa->irqs == qb->irqs;
		snprintf(a, sizeof(a), "queue %u: %zu requests, %zu notifies, %zu irqs", q,
			 qa->reqs, qa->notifies, qa->irqs);
		snprintf(b, sizeof(b), "queue %u: %zu requests, %zu notifies, %zu irqs", q,
			 qb->reqs, qb->notifies, qb->irqs);
		/* the queue count, else the spread of requests, else how kicks and interrupts go */
		const char *why = diff_mq_label(p)		 ? diff_mq_label(p)
				  : qa->reqs != qb->reqs	 ? diff_queue_spread_label(p)
				  : qa->notifies != qb->notifies ? diff_notify_label(p)
								 : diff_irq_label(p);
		cols(f, same ? "=" : "~", q < io_queues(da) ? a : "-", q < io_queues(db) ? b : "-",
		     same ? "" : note(ns, why, n, sizeof(n)));
	}
	snprintf(a, sizeof(a), "backend: %s", da->backend[0] ? da->backend : "-");
	snprintf(b, sizeof(b), "backend: %s", db->backend[0] ? db->backend : "-");
	cols(f, "", a, b, "");
	text_part(f, p, DIFF_PART_IO);
}

static void text_side(FILE *f, char which, const struct diff_side *s)
{
	fprintf(f, "  %c  %s\n     %s, transport %s, IO %s, %zu records\n", which, s->path,
		diff_side_kind(s), s->transport, s->io_path, s->tf.nrec);
}

void diff_report_text(FILE *f, const struct diff_side *a, const struct diff_side *b,
		      const struct diff_cmp *cmp, size_t n, const struct diff_opts *o)
{
	bool all = n && n == a->ndev && n == b->ndev;
	fprintf(f, "kvmscope diff\n");
	text_side(f, 'A', a);
	text_side(f, 'B', b);
	for (size_t i = 0; i < n; i++) {
		const struct diff_cmp *p = &cmp[i];
		struct notes ns = {0};
		fprintf(f, "\n== virtio device %zu: A %s, B %s\n", i + 1, p->a->name, p->b->name);
		text_slot(f, p, &ns);
		text_sessions(f, p, &ns);
		text_pci(f, p, &ns);
		text_handshake(f, p, o, &ns);
		text_state(f, p, &ns);
		text_io(f, p, &ns);
		if (ns.n)
			fprintf(
			    f, "\nNotes: why a difference is expected, where a value comes from\n");
		for (unsigned k = 0; k < ns.n; k++)
			fprintf(f, "  [%u] %s\n", k + 1, ns.v[k]);
		fprintf(f,
			"\nHandshake: %s: %zu steps the same; %zu differences unexplained%s, %zu "
			"expected (labelled)%s\n",
			p->match ? "MATCH" : "DIFFERENT", p->same, p->mismatches,
			p->mismatches ? " (<- mismatch)" : "", p->labelled,
			!p->mismatches && !p->match ? "; a side never reached DRIVER_OK" : "");
		if (p->state_differs)
			fprintf(f,
				"The devices differ in features or queues (~ above): a choice of "
				"each device, which the handshake's steps do not decide\n");
	}
	for (int side = 0; side < 2; side++) {
		const struct diff_side *s = side ? b : a;
		for (size_t d = 0; d < s->ndev; d++) {
			bool paired = false;
			for (size_t i = 0; i < n; i++)
				paired |= (side ? cmp[i].b : cmp[i].a) == &s->dev[d];
			if (!paired)
				fprintf(f, "\n%c's virtio device %s has no counterpart in %c\n",
					side ? 'B' : 'A', s->dev[d].name, side ? 'A' : 'B');
		}
		if (!s->ndev)
			fprintf(f, "\n%c has no virtio device\n", side ? 'B' : 'A');
	}
	bool match = all, interfaces = n && diff_interfaces_differ(cmp[0].sa, cmp[0].sb);
	size_t expected = 0;
	for (size_t i = 0; i < n; i++) {
		match &= cmp[i].match;
		expected += cmp[i].labelled + cmp[i].state_labelled;
	}
	if (match && interfaces) /* the spec's lesson, not a mismatch (virtio 1.2 §3.1.2) */
		fprintf(f, "\nVerdict: match, %zu expected differences (legacy vs modern)\n",
			expected);
	else
		fprintf(f, "\nVerdict: the handshakes %s\n", match ? "match" : "differ");
}

/* --- JSON. --- */
static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = *s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* "key":"value" or "key":null */
static void jkey(FILE *f, const char *key, const char *val, bool comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", key);
	if (val)
		jstr(f, val);
	else
		fputs("null", f);
}

static void json_side(FILE *f, const char *key, const struct diff_side *s)
{
	fprintf(f, "\"%s\":{", key);
	jkey(f, "path", s->path, false);
	jkey(f, "kind", diff_side_kind(s), true);
	jkey(f, "transport", s->transport, true);
	jkey(f, "io_path", s->io_path, true);
	fprintf(f, ",\"records\":%zu}", s->tf.nrec);
}

static void json_dev_state(FILE *f, const struct diff_side *s, const struct diff_dev *d)
{
	char buf[640];
	fputc('{', f);
	jkey(f, "name", d->name, false);
	fputs(",\"sessions\":[", f);
	for (unsigned k = 0; k < d->nsess; k++) {
		fputs(k ? ",{" : "{", f);
		jkey(f, "path", d->sess[k].path, false);
		fprintf(f, ",\"driver_ok\":%s,\"compared\":%s}",
			d->sess[k].driver_ok != DIFF_NONE ? "true" : "false",
			(int)k == d->cmp ? "true" : "false");
	}
	fprintf(f, "],\"pci\":{\"reads\":%zu,\"writes\":%zu,\"bars\":[", d->pci_reads,
		d->pci_writes);
	bool first = true;
	for (unsigned i = 0; i < DIFF_BARS; i++)
		if (d->bar[i].mapped) {
			fprintf(f, "%s{\"bar\":%u,\"addr\":%llu,\"size\":%llu,", first ? "" : ",",
				i, (unsigned long long)d->bar[i].addr,
				(unsigned long long)d->bar[i].size);
			jkey(f, "words", bar_words(&d->bar[i], buf, sizeof(buf)), false);
			fputc('}', f);
			first = false;
		}
	fputs("]}", f);
	const struct {
		const char *key;
		uint64_t bits;
		bool has;
		uint16_t ev;
	} feats[] = {
	    {"host_features", d->host_features, d->has_host_features, TRACE_EV_HOST_FEATURES},
	    {"device_features", d->dev_features, d->has_dev_features,
	     TRACE_EV_DEVICE_FEATURES_READ},
	    {"driver_features", d->drv_features, d->has_drv_features,
	     TRACE_EV_DRIVER_FEATURES_WRITE}};
	for (unsigned k = 0; k < 3; k++)
		jkey(f, feats[k].key,
		     feats[k].has ? features_words(d, feats[k].bits, true, buf, sizeof(buf)) : NULL,
		     true);
	fputs(",\"queues\":[", f);
	for (unsigned q = 0; q < queue_rows(d); q++) {
		fprintf(f,
			"%s{\"queue\":%u,\"set_up\":%s,\"size\":%u,\"requests\":%zu,"
			"\"notifies\":%zu,\"interrupts\":%zu,",
			q ? "," : "", q, d->q[q].seen ? "true" : "false", d->q[q].size,
			d->q[q].reqs, d->q[q].notifies, d->q[q].irqs);
		jkey(f, "words", queue_words(&d->q[q], d->q[q].has_vector, buf, sizeof(buf)),
		     false);
		fputc('}', f);
	}
	fprintf(f, "],\"device_queues\":%u", d->nq_dev);
	jkey(f, "config_read", (s->recorded >> TRACE_EV_CONFIG_READ & 1) ? d->config : NULL, true);
	fprintf(f,
		",\"requests\":%zu,\"notifies\":{\"exit\":%zu,\"ioeventfd\":%zu,"
		"\"nothing_to_pop\":%zu},\"interrupts\":{\"msix\":%zu,\"msix_irqfd\":%zu,"
		"\"intx\":%zu,\"suppressed\":%zu,\"not_logged\":%zu}",
		d->nreq, d->notify_exit, d->notify_ioeventfd, d->notify_empty, d->irq_msix,
		d->irq_irqfd, d->irq_intx, d->irq_suppressed, d->irq_unknown);
	jkey(f, "backend", d->backend[0] ? d->backend : NULL, true);
	fputc('}', f);
}

/* ,"key":[{"op":...,"a":...,"b":...,"expected":...}, ...] */
static void json_rows(FILE *f, const char *key, const struct diff_row *rows, long n)
{
	static const char *const ops[] = {"same", "differs", "only_a", "only_b"};
	fprintf(f, ",\"%s\":[", key);
	for (long k = 0; k < n; k++) {
		const struct diff_row *r = &rows[k];
		fprintf(f, "%s{\"op\":\"%s\"", k ? "," : "", ops[r->op & 3]);
		jkey(f, "a", r->a ? r->a->text : NULL, true);
		jkey(f, "b", r->b ? r->b->text : NULL, true);
		jkey(f, "expected", r->op != DIFF_SAME ? r->label : NULL, true);
		fputc('}', f);
	}
	fputc(']', f);
}

static void json_pair(FILE *f, const struct diff_cmp *p)
{
	char buf[128];
	fputs("{\"a\":", f);
	json_dev_state(f, p->sa, p->a);
	fputs(",\"b\":", f);
	json_dev_state(f, p->sb, p->b);
	jkey(f, "sessions_label", diff_sessions_label(p), true);
	json_rows(f, "handshake", p->rows, p->nrows);
	json_rows(f, "pci_steps", p->part_rows[DIFF_PART_PCI], p->npart_rows[DIFF_PART_PCI]);
	json_rows(f, "io_steps", p->part_rows[DIFF_PART_IO], p->npart_rows[DIFF_PART_IO]);
	fputs(",\"requests\":[", f);
	for (long k = 0; k < p->nreqs; k++) {
		const struct diff_pair *q = &p->reqs[k];
		fputs(k ? ",{" : "{", f);
		jkey(f, "a",
		     q->i == DIFF_NONE ? NULL
				       : req_words(p->sa, &p->a->req[q->i], buf, sizeof(buf)),
		     false);
		jkey(f, "b",
		     q->j == DIFF_NONE ? NULL
				       : req_words(p->sb, &p->b->req[q->j], buf, sizeof(buf)),
		     true);
		fprintf(f, ",\"same\":%s}",
			q->i != DIFF_NONE && q->j != DIFF_NONE &&
				req_same(&p->a->req[q->i], &p->b->req[q->j])
			    ? "true"
			    : "false");
	}
	fputs("]", f);
	bool same;
	fputs(",\"bar_labels\":[", f);
	for (unsigned i = 0, first = 1; i < DIFF_BARS; i++) {
		const char *label = diff_bar_label(p, i, &same);
		if (label) {
			fprintf(f, "%s{\"bar\":%u,", first ? "" : ",", i);
			jkey(f, "expected", label, false);
			fputc('}', f);
			first = 0;
		}
	}
	fputs("]", f);
	jkey(f, "notifies_label", diff_notify_label(p), true);
	jkey(f, "interrupts_label", diff_irq_label(p), true);
	jkey(f, "slot_label", diff_slot_label(p), true);
	jkey(f, "queues_label", diff_mq_label(p), true);
	fprintf(f, ",\"pci_unexplained\":%zu,\"io_unexplained\":%zu",
		p->part_mismatches[DIFF_PART_PCI], p->part_mismatches[DIFF_PART_IO]);
	fprintf(f,
		",\"same\":%zu,\"differ\":%zu,\"unexplained\":%zu,\"labelled\":%zu,"
		"\"state_labelled\":%zu,\"legacy_vs_modern\":%s,\"state_differs\":%s,"
		"\"match\":%s}",
		p->same, p->changed, p->mismatches, p->labelled, p->state_labelled,
		diff_interfaces_differ(p->sa, p->sb) ? "true" : "false",
		p->state_differs ? "true" : "false", p->match ? "true" : "false");
}

void diff_report_json(FILE *f, const struct diff_side *a, const struct diff_side *b,
		      const struct diff_cmp *cmp, size_t n, const struct diff_opts *o)
{
	bool match = n && n == a->ndev && n == b->ndev;
	(void)o;
	fputc('{', f);
	json_side(f, "a", a);
	fputc(',', f);
	json_side(f, "b", b);
	fputs(",\"devices\":[", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "," : "", f);
		json_pair(f, &cmp[i]);
		match &= cmp[i].match;
	}
	fprintf(f, "],\"unpaired\":{\"a\":%zu,\"b\":%zu},\"match\":%s}\n", a->ndev - n, b->ndev - n,
		match ? "true" : "false");
}
