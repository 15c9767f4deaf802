/* trace/compare/diff-align.c - the edit-distance alignment behind `kvmscope diff`, and what each
 * side cannot have recorded (so that its absence is labelled rather than called a mismatch). */
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "trace/compare/compare.h"

#define CELLS_MAX (16u << 20) /* a longer pair is aligned by its first steps, the rest after */

long diff_edit(size_t na, size_t nb, int (*cmp)(void *ctx, size_t i, size_t j), void *ctx,
	       struct diff_pair **pairs)
{
	size_t ka = na, kb = nb;
	while ((ka + 1) * (kb + 1) > CELLS_MAX) { /* align a prefix, append the rest unpaired */
		ka = ka > kb ? ka / 2 : ka;
		kb = kb >= ka ? kb / 2 : kb;
	}
	size_t w = kb + 1;
	uint32_t *c = malloc((ka + 1) * w * sizeof(*c));
	struct diff_pair *out = malloc((na + nb + 1) * sizeof(*out));
	if (!c || !out) {
		free(c);
		free(out);
		return -1;
	}
	/* c[i][j]: the cost of aligning the last ka-i steps of a with the last kb-j of b */
	for (size_t i = ka + 1; i-- > 0;)
		for (size_t j = kb + 1; j-- > 0;) {
			uint32_t best = UINT32_MAX;
			if (i == ka || j == kb)
				best = (ka - i) + (kb - j);
			else {
				int k = cmp(ctx, i, j);
				if (k < 2)
					best = c[(i + 1) * w + j + 1] + k;
				if (c[(i + 1) * w + j] + 1 < best)
					best = c[(i + 1) * w + j] + 1;
				if (c[i * w + j + 1] + 1 < best)
					best = c[i * w + j + 1] + 1;
			}
			c[i * w + j] = best;
		}
	size_t n = 0, i = 0, j = 0;
	while (i < ka || j < kb) {
		int k = i < ka && j < kb ? cmp(ctx, i, j) : 2;
		if (k < 2 && c[i * w + j] == c[(i + 1) * w + j + 1] + k)
			out[n++] = (struct diff_pair){i++, j++};
		else if (i < ka && (j == kb || c[i * w + j] == c[(i + 1) * w + j] + 1))
			out[n++] = (struct diff_pair){i++, DIFF_NONE};
		else
			out[n++] = (struct diff_pair){DIFF_NONE, j++};
	}
	while (i < na)
		out[n++] = (struct diff_pair){i++, DIFF_NONE};
	while (j < nb)
		out[n++] = (struct diff_pair){DIFF_NONE, j++};
	free(c);
	*pairs = out;
	return n;
}

const char *diff_unrecorded(const struct diff_side *other, uint16_t ev)
{
	if ((other->recorded >> ev) & 1)
		return NULL;
	if (other->qemu && (other->possible >> ev & 1)) /* QEMU has it; this log was run without */
		return other->letter == 'A' ? "not recorded in A's log (-trace did not enable it)"
					    : "not recorded in B's log (-trace did not enable it)";
	if (!other->qemu)
		return "not recorded in the other trace (--trace-events)";
	switch (trace_events[ev].cls) {
	case TRACE_CLASS_FEATURES:
		return "QEMU 7.2 has no trace event for feature negotiation";
	case TRACE_CLASS_QUEUE:
		return "QEMU 7.2 has no trace event for queue setup";
	case TRACE_CLASS_CONFIG:
		return ev == TRACE_EV_CONFIG_READ || ev == TRACE_EV_CONFIG_WRITE
			   ? "QEMU 7.2 has no trace event for device config accesses"
			   : "QEMU 7.2 has no trace event for transport register accesses";
	case TRACE_CLASS_PCI:
		return "QEMU 7.2 logs MSI-X enable/mask-all, not table writes or vector masks";
	default:
		return "QEMU 7.2 has no trace event for this";
	}
}

static bool has_io_bar(const struct diff_dev *d)
{
	for (unsigned i = 0; i < DIFF_BARS; i++)
		if (d->bar[i].mapped && (d->bar[i].type & PCI_BASE_ADDRESS_SPACE_IO))
			return true;
	return false;
}

/* A step that differs for a reason the report shows elsewhere: NULL when there is none. Linux
 * writes the command register with its bit added to what it read back, so bits set by firmware,
 * or the I/O decoding of a device with an I/O BAR, show up in it. */
static const char *expected_change(const struct diff_side *sa, const struct diff_dev *da,
				   const struct diff_step *a, const struct diff_side *sb,
				   const struct diff_dev *db, const struct diff_step *b)
{
	const struct trace_rec *ra = &sa->tf.rec[a->rec], *rb = &sb->tf.rec[b->rec];
	if (ra->ev != TRACE_EV_PCI_CFG_WRITE || rb->ev != ra->ev ||
	    trace_rec_arg(ra, "off", 1) != PCI_COMMAND ||
	    trace_rec_arg(rb, "off", 1) != PCI_COMMAND)
		return NULL;
	uint64_t va = trace_rec_arg(ra, "val", 0), vb = trace_rec_arg(rb, "val", 0), x = va ^ vb;
	/* under QEMU, SeaBIOS sets SERR# and I/O space before Linux runs, whatever the transport */
	uint64_t bios = sa->qemu == sb->qemu
			    ? 0
			    : (sa->qemu ? va : vb) & x & (PCI_COMMAND_SERR | PCI_COMMAND_IO);
	uint64_t serr = sa->qemu != sb->qemu ? PCI_COMMAND_SERR : 0;
	uint64_t io = has_io_bar(da) != has_io_bar(db) ? PCI_COMMAND_IO : 0;
	if (!x || (x & ~(serr | io | bios)))
		return NULL;
	if (x == bios && bios == PCI_COMMAND_SERR)
		return "SeaBIOS turns on SERR# (0x100) in the command register under QEMU; Linux "
		       "writes back the bits it finds";
	if (x == bios && bios == PCI_COMMAND_IO)
		return "SeaBIOS turns on I/O space (0x1) in the command register under QEMU, "
		       "before "
		       "Linux; Linux writes back the bits it finds";
	if (x == bios)
		return "SeaBIOS turns on SERR# and I/O space (0x101) in the command register under "
		       "QEMU, before Linux; Linux writes back the bits it finds";
	if (x == io)
		return "I/O decoding (0x1): only one of the devices has an I/O BAR (see BAR0 under "
		       "PCI enumeration)";
	return "SeaBIOS turns on SERR# (0x100) under QEMU, and only one of the devices has an I/O "
	       "BAR "
	       "to decode (0x1, see BAR0 under PCI enumeration)";
}

/* --- Handshakes: only the steps both sides can record are aligned. --- */
struct steps_ctx {
	const struct diff_step *a, *b;
	const size_t *ia, *ib;
};

/* The length of the first n words of s. */
static size_t words(const char *s, int n)
{
	size_t at = 0;
	while (n-- > 0 && s[at])
		at += strcspn(s + at + 1, " ") + 1;
	return at;
}

/* 0 the same step, 1 one may stand for the other (the same register or IO step with another
 * value), 2 not. */
static int step_cmp(void *p, size_t i, size_t j)
{
	const struct steps_ctx *x = p;
	const struct diff_step *a = &x->a[x->ia[i]], *b = &x->b[x->ib[j]];
	if (!strcmp(a->key, b->key))
		return 0;
	if (a->kind != b->kind)
		return 2;
	if (a->kind != DK_PCI && a->kind != DK_IO)
		return 1;
	/* "PCI write command", "BAR1 sizing reads", "capability msix@0x98"; "notify", "pop" */
	size_t n = words(a->key, a->kind == DK_PCI ? 3 : 1);
	return n == words(b->key, b->kind == DK_PCI ? 3 : 1) && !strncmp(a->key, b->key, n) ? 1 : 2;
}

/* Indexes of the steps of l the other side can have recorded. */
static size_t *comparable(const struct diff_steps *l, const struct diff_side *other, size_t *n)
{
	size_t *v = malloc((l->n + 1) * sizeof(*v));
	*n = 0;
	for (size_t k = 0; v && k < l->n; k++)
		if (!diff_unrecorded(other, l->v[k].ev))
			v[(*n)++] = k;
	return v;
}

const struct diff_steps *diff_part_steps(const struct diff_dev *d, enum diff_part part)
{
	return part == DIFF_PART_PCI ? &d->pci : part == DIFF_PART_IO ? &d->io : &d->steps;
}

long diff_align(const struct diff_cmp *p, enum diff_part part, struct diff_row **rows)
{
	const struct diff_side *sa = p->sa, *sb = p->sb;
	const struct diff_dev *a = p->a, *b = p->b;
	const struct diff_steps *la = diff_part_steps(a, part), *lb = diff_part_steps(b, part);
	size_t na, nb, pa = 0, pb = 0, n = 0;
	size_t *ia = comparable(la, sb, &na), *ib = comparable(lb, sa, &nb);
	struct diff_row *out = malloc((la->n + lb->n + 1) * sizeof(*out));
	struct diff_pair *pairs = NULL;
	struct steps_ctx ctx = {la->v, lb->v, ia, ib};
	long np = ia && ib && out ? diff_edit(na, nb, step_cmp, &ctx, &pairs) : -1;

	for (long k = 0; k <= np; k++) {
		/* the steps the other side cannot have, up to this pair, where they happened */
		size_t to_a = k < np && pairs[k].i != DIFF_NONE ? ia[pairs[k].i]
			      : k < np				? pa
								: la->n;
		size_t to_b = k < np && pairs[k].j != DIFF_NONE ? ib[pairs[k].j]
			      : k < np				? pb
								: lb->n;
		for (; pa < to_a; pa++)
			out[n++] = (struct diff_row){DIFF_ONLY_A, diff_unrecorded(sb, la->v[pa].ev),
						     &la->v[pa], NULL};
		for (; pb < to_b; pb++)
			out[n++] = (struct diff_row){DIFF_ONLY_B, diff_unrecorded(sa, lb->v[pb].ev),
						     NULL, &lb->v[pb]};
		if (k == np)
			break;
		struct diff_row *r = &out[n++];
		*r = (struct diff_row){.a = pairs[k].i != DIFF_NONE ? &la->v[pa++] : NULL,
				       .b = pairs[k].j != DIFF_NONE ? &lb->v[pb++] : NULL};
		r->op = !r->a			       ? DIFF_ONLY_B
			: !r->b			       ? DIFF_ONLY_A
			: strcmp(r->a->key, r->b->key) ? DIFF_CHANGED
						       : DIFF_SAME;
		if (r->op == DIFF_SAME && part == DIFF_PART_IO &&
		    trace_rec_arg(&sa->tf.rec[r->a->rec], "queue", 0) !=
			trace_rec_arg(&sb->tf.rec[r->b->rec], "queue", 0))
			r->op = DIFF_CHANGED; /* the same request, on another queue */
		if (r->op == DIFF_CHANGED)
			r->label = expected_change(sa, a, r->a, sb, b, r->b);
	}
	/* What the spec makes differ between a legacy and a modern driver (virtio 1.2 §3.1.2),
	 * then what the platform, the queue count and the IO path make differ */
	for (size_t k = 0; k < n; k++) {
		if (out[k].op != DIFF_SAME && !out[k].label && part == DIFF_PART_HANDSHAKE)
			out[k].label = diff_interface_label(sa, out[k].a, sb, out[k].b);
		if (out[k].op != DIFF_SAME && !out[k].label)
			out[k].label = diff_step_label(p, part, out[k].a, out[k].b);
		/* INTx against MSI-X: the steps only an MSI-X driver takes */
		if (out[k].op != DIFF_SAME && !out[k].label)
			out[k].label = diff_irq_mode_label(sa, a, out[k].a, sb, b, out[k].b);
	}
	free(ia);
	free(ib);
	free(pairs);
	if (np < 0) {
		free(out);
		return -1;
	}
	*rows = out;
	return n;
}
