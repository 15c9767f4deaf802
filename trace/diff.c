/* trace/diff.c - `kvmscope diff A B [--format text|json] [--requests N] [--all]`: two runs of the
 * same guest side by side, a kvmscope trace or a QEMU log on each side (docs/compare.md). Here:
 * pairing the virtio devices of the two sides, comparing them, the labels of the differences one
 * side cannot help (QEMU logs no feature negotiation, SeaBIOS drives the device first, ioeventfd
 * hides kicks), and the exit status: 0 the handshakes match, 1 they differ, 2 bad input. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <stdlib.h>
#include <string.h>

#include "trace/diff.h"

#define REQUESTS_DEFAULT 8

/* --- Comparing. --- */
static int req_cmp(void *ctx, size_t i, size_t j)
{
	const struct diff_cmp *p = ctx;
	const struct diff_req *a = &p->a->req[i], *b = &p->b->req[j];
	return a->type == b->type && a->sector == b->sector && a->bytes == b->bytes &&
		       a->status == b->status
		   ? 0
		   : 1;
}

static bool reached_driver_ok(const struct diff_dev *d)
{
	return d->cmp >= 0 && d->sess[d->cmp].driver_ok != DIFF_NONE;
}

/* The summary's differences that carry a label: BARs, the three feature sets, queue layouts. */
static void count_state_labels(struct diff_cmp *p)
{
	const struct diff_dev *a = p->a, *b = p->b;
	const uint64_t fa[] = {a->host_features, a->dev_features, a->drv_features};
	const uint64_t fb[] = {b->host_features, b->dev_features, b->drv_features};
	const bool ka[] = {a->has_host_features, a->has_dev_features, a->has_drv_features};
	const bool kb[] = {b->has_host_features, b->has_dev_features, b->has_drv_features};
	bool same;

	for (unsigned i = 0; i < DIFF_BARS; i++)
		p->state_labelled += diff_bar_label(p, i, &same) && !same;
	for (unsigned k = 0; k < 3; k++)
		p->state_labelled += ka[k] && kb[k] && diff_features_label(p, fa[k], fb[k]);
	for (unsigned q = 0; q < DIFF_QUEUES_MAX && a->has_queues && b->has_queues; q++)
		p->state_labelled += a->q[q].seen && b->q[q].seen && diff_queue_label(p);
}

int diff_compare(struct diff_cmp *p, const struct diff_opts *o)
{
	p->nrows = diff_align(p->sa, p->a, p->sb, p->b, &p->rows);
	size_t na = p->a->nreq < o->requests ? p->a->nreq : o->requests;
	size_t nb = p->b->nreq < o->requests ? p->b->nreq : o->requests;
	p->nreqs = diff_edit(na, nb, req_cmp, p, &p->reqs);
	if (p->nrows < 0 || p->nreqs < 0)
		return -ENOMEM;
	for (long k = 0; k < p->nrows; k++) {
		const struct diff_row *r = &p->rows[k];
		p->same += r->op == DIFF_SAME;
		p->changed += r->op == DIFF_CHANGED;
		p->labelled += r->op != DIFF_SAME && r->label;
		p->mismatches += r->op != DIFF_SAME && !r->label;
	}
	p->match = reached_driver_ok(p->a) && reached_driver_ok(p->b) && !p->mismatches;
	const struct diff_dev *a = p->a, *b = p->b;
	p->state_differs =
	    (a->has_dev_features && b->has_dev_features && a->dev_features != b->dev_features &&
	     !diff_features_label(p, a->dev_features, b->dev_features)) ||
	    (a->has_drv_features && b->has_drv_features && a->drv_features != b->drv_features &&
	     !diff_features_label(p, a->drv_features, b->drv_features));
	for (unsigned q = 0; q < DIFF_QUEUES_MAX && a->has_queues && b->has_queues; q++)
		p->state_differs |= a->q[q].seen != b->q[q].seen || a->q[q].size != b->q[q].size;
	count_state_labels(p);
	return 0;
}

/* --- Expected differences. --- */
const char *diff_sessions_label(const struct diff_cmp *p)
{
	if (p->a->cmp == p->b->cmp)
		return NULL;
	const struct diff_side *more = p->a->cmp > p->b->cmp ? p->sa : p->sb;
	const struct diff_side *less = more == p->sa ? p->sb : p->sa;
	return more->qemu && !less->qemu
		   ? "QEMU boots through SeaBIOS, which drives the device before Linux does; "
		     "kvmscope starts Linux directly"
		   : NULL;
}

const char *diff_bar_label(const struct diff_cmp *p, unsigned i, bool *same)
{
	const struct diff_bar *a = &p->a->bar[i], *b = &p->b->bar[i];
	*same = a->mapped == b->mapped &&
		(!a->mapped || (a->addr == b->addr && a->size == b->size && a->type == b->type));
	const struct diff_bar *one = a->mapped ? a : b;
	if (!*same && a->mapped != b->mapped && strcmp(p->sa->transport, "?") &&
	    strcmp(p->sb->transport, "?") && strcmp(p->sa->transport, p->sb->transport))
		return one->type & PCI_BASE_ADDRESS_SPACE_IO
			   ? "only a legacy-capable device (legacy, transitional) has the legacy "
			     "registers' I/O BAR0 (virtio 1.2 §4.1.4.8)"
			   : "the legacy registers are in I/O BAR0 (virtio 1.2 §4.1.4.8); the "
			     "modern "
			     "capabilities point into memory BAR4 (§4.1.4)";
	if (*same || a->mapped != b->mapped || a->size != b->size || a->type != b->type)
		return NULL;
	return p->sa->qemu != p->sb->qemu
		   ? "BAR addresses are the platform's choice (SeaBIOS places them under QEMU, "
		     "kvmscope itself as firmware would; docs/pci.md)"
		   : NULL;
}

const char *diff_notify_label(const struct diff_cmp *p)
{
	const struct diff_dev *a = p->a, *b = p->b;
	if (a->notify_exit == b->notify_exit && a->notify_ioeventfd == b->notify_ioeventfd)
		return NULL;
	return a->notify_ioeventfd || b->notify_ioeventfd
		   ? "with ioeventfd a kick does not exit: the trace shows the handler waking "
		     "(kicks may coalesce), and QEMU kicks its queue itself when its data plane "
		     "starts (a notify with nothing to pop)"
		   : NULL;
}

const char *diff_irq_label(const struct diff_cmp *p)
{
	const struct diff_dev *a = p->a, *b = p->b;
	if (a->irq_msix == b->irq_msix && a->irq_irqfd == b->irq_irqfd &&
	    a->irq_intx == b->irq_intx)
		return NULL;
	return a->irq_msix + a->irq_irqfd == b->irq_msix + b->irq_irqfd &&
		       a->irq_intx == b->irq_intx
		   ? "the same MSI-X interrupts by another path (irqfd, or injected by the VMM "
		     "from the vCPU thread)"
		   : NULL;
}

const char *diff_slot_label(const struct diff_cmp *p)
{
	if (p->a->slot < 0 || p->b->slot < 0 || p->a->slot == p->b->slot ||
	    p->sa->qemu == p->sb->qemu)
		return NULL;
	return "QEMU's pc machine has its PIIX3 south bridge at 00:01.x, so its first added device "
	       "is 00:02.0; kvmscope has no south bridge and starts at 00:01.0 (docs/pci.md)";
}

#define LABEL_FEATURE_BITS                                                                         \
	"VERSION_1 comes with the modern interface; virtio-blk offers ANY_LAYOUT with it and "     \
	"SCSI "                                                                                    \
	"without (virtio 1.2 §5.2.3.1); a legacy driver sees feature bits 0-31 only"

/* kvmscope offers QEMU 7.2's features but one: it does not implement virtqueue reset. */
#define FEATURES_EXPLAINED (1ULL << VIRTIO_F_RING_RESET)
/* Legacy against modern: VERSION_1 comes with the modern interface, virtio-blk offers
 * ANY_LAYOUT with it and SCSI without, and a legacy driver sees bits 0-31 only. */
#define FEATURES_BY_INTERFACE                                                                      \
	(~0xffffffffULL | 1ULL << VIRTIO_F_ANY_LAYOUT | 1ULL << VIRTIO_BLK_F_SCSI)

const char *diff_features_label(const struct diff_cmp *p, uint64_t a, uint64_t b)
{
	bool interfaces = diff_interfaces_differ(p->sa, p->sb);
	if (a == b)
		return NULL;
	if (interfaces && !((a ^ b) & ~FEATURES_BY_INTERFACE))
		return LABEL_FEATURE_BITS;
	if (((a ^ b) & ~FEATURES_EXPLAINED) || p->sa->qemu == p->sb->qemu)
		return NULL;
	return "QEMU 7.2 offers VIRTIO_F_RING_RESET (virtio 1.2 §2.6.1) and Linux takes it; "
	       "kvmscope does not implement virtqueue reset, so does not offer it (docs/pci.md)";
}

static bool is_legacy(const struct diff_side *s)
{
	return !strcmp(s->transport, "legacy");
}

bool diff_interfaces_differ(const struct diff_side *sa, const struct diff_side *sb)
{
	return strcmp(sa->transport, "?") && strcmp(sb->transport, "?") &&
	       is_legacy(sa) != is_legacy(sb);
}

#define LABEL_NO_FEATURES_OK                                                                       \
	"virtio 1.2 §3.1.2: a legacy driver has no FEATURES_OK step (nor the status re-read "     \
	"after "                                                                                   \
	"it); its features hold as written"

/* The handshake steps each interface has in its own way. */
static const char *interface_step(uint16_t ev)
{
	switch (ev) {
	case TRACE_EV_QUEUE_PFN:
	case TRACE_EV_QUEUE_DESC:
	case TRACE_EV_QUEUE_DRIVER:
	case TRACE_EV_QUEUE_DEVICE:
	case TRACE_EV_QUEUE_SIZE:
	case TRACE_EV_QUEUE_ENABLE:
		return "queue setup: a legacy driver writes one page frame number and the rings "
		       "follow in a fixed layout (virtio 1.2 §2.7.2, §4.1.4.8); a modern one "
		       "writes "
		       "the size, the desc/driver/device addresses and queue_enable (§4.1.4.3)";
	case TRACE_EV_DEVICE_FEATURES_READ:
	case TRACE_EV_DRIVER_FEATURES_WRITE:
		return "a legacy driver reads and writes one 32-bit feature word; a modern one "
		       "selects two windows (virtio 1.2 §4.1.4.3, §4.1.4.8)";
	case TRACE_EV_COMMON_CFG_READ:
	case TRACE_EV_COMMON_CFG_WRITE:
	case TRACE_EV_CONFIG_MSIX_VECTOR:
	case TRACE_EV_QUEUE_MSIX_VECTOR:
	case TRACE_EV_QUEUE_SELECT:
		return "the two interfaces' registers: legacy I/O BAR0 (virtio 1.2 §4.1.4.8) "
		       "against the modern common configuration in BAR4 (§4.1.4.3)";
	}
	return NULL;
}

const char *diff_queue_label(const struct diff_cmp *p)
{
	return diff_interfaces_differ(p->sa, p->sb) ? interface_step(TRACE_EV_QUEUE_PFN) : NULL;
}

static uint64_t arg_of(const struct diff_side *s, const struct diff_step *st, const char *arg)
{
	return trace_rec_arg(&s->tf.rec[st->rec], arg, 0);
}

/* Two steps of one event that differ: a legacy register against a modern one, or feature
 * words apart by the bits the interfaces decide. Another value (a queue size) is a mismatch. */
static const char *same_event_label(const struct diff_side *sa, const struct diff_step *a,
				    const struct diff_side *sb, const struct diff_step *b)
{
	switch (a->ev) {
	case TRACE_EV_COMMON_CFG_READ:
	case TRACE_EV_COMMON_CFG_WRITE:
		return (arg_of(sa, a, "reg") ^ arg_of(sb, b, "reg")) & TRACE_VREG_LEGACY
			   ? interface_step(a->ev)
			   : NULL;
	case TRACE_EV_DEVICE_FEATURES_READ:
	case TRACE_EV_DRIVER_FEATURES_WRITE:
		return arg_of(sa, a, "sel") == arg_of(sb, b, "sel") &&
			       !((arg_of(sa, a, "bits") ^ arg_of(sb, b, "bits")) &
				 ~FEATURES_BY_INTERFACE)
			   ? LABEL_FEATURE_BITS
			   : NULL;
	}
	return NULL;
}

const char *diff_interface_label(const struct diff_side *sa, const struct diff_step *a,
				 const struct diff_side *sb, const struct diff_step *b)
{
	const struct diff_side *s = a ? sa : sb;
	const struct diff_step *one = a ? a : b;
	const uint64_t fok = VIRTIO_CONFIG_S_FEATURES_OK;

	if (!diff_interfaces_differ(sa, sb) || !one)
		return NULL;
	if (one->ev == TRACE_EV_FEATURES_OK && (!a || !b))
		return LABEL_NO_FEATURES_OK;
	/* byte by byte on the legacy side, field by field on the modern one */
	if (one->ev == TRACE_EV_CONFIG_READ &&
	    (a && b ? b->ev == one->ev && arg_of(sa, a, "len") != arg_of(sb, b, "len")
		    : is_legacy(s) && arg_of(s, one, "len") == 1))
		return "Linux's legacy driver reads the device configuration a byte at a time (no "
		       "generation counter to make a wider read safe, virtio 1.2 §2.5.4); its "
		       "modern driver reads each field at its width";
	if (one->ev == TRACE_EV_VIRTIO_STATUS && (!a || !b)) /* one side's own status step */
		return (arg_of(s, one, "new") & ~arg_of(s, one, "old") & fok) ? LABEL_NO_FEATURES_OK
									      : NULL;
	if (one->ev == TRACE_EV_VIRTIO_STATUS)
		return b->ev == one->ev && (arg_of(sa, a, "new") ^ arg_of(sb, b, "new")) == fok
			   ? "the same step; the modern driver's status keeps FEATURES_OK, which a "
			     "legacy driver never sets (virtio 1.2 §3.1.2)"
			   : NULL;
	if (a && b && interface_step(a->ev) != interface_step(b->ev))
		return NULL;
	if (a && b && a->ev == b->ev) /* the same event differs: only for an interface's reason */
		return same_event_label(sa, a, sb, b);
	return interface_step(one->ev);
}

/* --- The command. --- */
static int usage(FILE *f, int status)
{
	fprintf(
	    f,
	    "usage: kvmscope diff A B [--format text|json] [--requests N] [--all]\n"
	    "Compares two runs of the same guest, device by device: the driver sessions, the PCI\n"
	    "enumeration, the handshake aligned step by step, features, queues, config fields\n"
	    "read and the first requests. A and B are each a kvmscope trace (run --trace) or a\n"
	    "QEMU log (-trace ... -D LOG, as guest/qemu-trace.sh makes it).\n"
	    "Differences one side cannot show are labelled as expected, not counted.\n"
	    "  --format json  one JSON document instead of the text report\n"
	    "  --requests N   requests shown side by side (default %d)\n"
	    "  --all          every handshake step, no folding of long one-sided runs\n"
	    "Exit status: 0 the handshakes match, 1 they differ, 2 bad input.\n",
	    REQUESTS_DEFAULT);
	return status;
}

static int parse(int argc, char **argv, struct diff_opts *o, const char **paths)
{
	int npaths = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, 0) - 1;
		if (!strncmp(a, "--format", 8) || !strncmp(a, "--requests", 10)) {
			const char *eq = strchr(a, '=');
			v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
			if (!v) {
				fprintf(stderr, "kvmscope diff: %s needs a value\n", a);
				return 2;
			}
		}
		if (!strncmp(a, "--format", 8) && (!strcmp(v, "text") || !strcmp(v, "json"))) {
			o->json = !strcmp(v, "json");
		} else if (!strncmp(a, "--format", 8)) {
			fprintf(stderr, "kvmscope diff: --format %s: expected text or json\n", v);
			return 2;
		} else if (!strncmp(a, "--requests", 10)) {
			char *end;
			o->requests = strtoul(v, &end, 10);
			if (*end || !*v || *v == '-') {
				fprintf(stderr, "kvmscope diff: --requests %s: expected a number\n",
					v);
				return 2;
			}
		} else if (!strcmp(a, "--all")) {
			o->all = true;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "kvmscope diff: unknown option '%s'\n", a);
			return usage(stderr, 2);
		} else if (npaths == 2) {
			fprintf(stderr, "kvmscope diff: unexpected argument '%s'\n", a);
			return usage(stderr, 2);
		} else {
			paths[npaths++] = a;
		}
	}
	return npaths == 2 ? 0 : usage(stderr, 2);
}

size_t diff_pair_devices(const struct diff_side *a, const struct diff_side *b, struct diff_cmp *cmp)
{
	size_t n = 0;
	bool used[b->ndev + 1];
	memset(used, 0, sizeof(used));
	for (size_t i = 0; i < a->ndev; i++)
		for (size_t j = 0; j < b->ndev; j++)
			if (!used[j] && b->dev[j].kind == a->dev[i].kind) {
				used[j] = true;
				cmp[n++] = (struct diff_cmp){
				    .sa = a, .sb = b, .a = &a->dev[i], .b = &b->dev[j]};
				break;
			}
	return n;
}

int diff_cmd_main(int argc, char **argv)
{
	struct diff_opts o = {.requests = REQUESTS_DEFAULT};
	const char *paths[2];
	struct diff_side side[2];
	char err[512];
	int ret = parse(argc, argv, &o, paths);

	if (ret)
		return ret < 0 ? 0 : ret;
	for (int k = 0; k < 2; k++) {
		if (diff_side_load(&side[k], paths[k], err, sizeof(err)) < 0) {
			fprintf(stderr, "kvmscope diff: %s\n", err);
			if (k)
				diff_side_free(&side[0]);
			return 2;
		}
		if (side[k].tf.warning[0]) /* cut short: compared up to its last record */
			fprintf(stderr, "kvmscope diff: warning: %s\n", side[k].tf.warning);
	}
	size_t most = side[0].ndev < side[1].ndev ? side[1].ndev : side[0].ndev;
	struct diff_cmp *cmp = calloc(most + 1, sizeof(*cmp));
	size_t n = cmp ? diff_pair_devices(&side[0], &side[1], cmp) : 0;
	if (!cmp) {
		fprintf(stderr, "kvmscope diff: out of memory\n");
		ret = 1;
	}
	bool match = cmp && n && side[0].ndev == n && side[1].ndev == n;
	for (size_t i = 0; cmp && i < n; i++) {
		if (diff_compare(&cmp[i], &o) < 0) {
			fprintf(stderr, "kvmscope diff: out of memory\n");
			match = false;
			ret = 1;
		}
		match &= cmp[i].match;
	}
	if (cmp && !ret) {
		if (o.json)
			diff_report_json(stdout, &side[0], &side[1], cmp, n, &o);
		else
			diff_report_text(stdout, &side[0], &side[1], cmp, n, &o);
	}
	for (size_t i = 0; cmp && i < n; i++) {
		free(cmp[i].rows);
		free(cmp[i].reqs);
	}
	free(cmp);
	diff_side_free(&side[0]);
	diff_side_free(&side[1]);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "kvmscope diff: writing the report: %s\n", strerror(errno));
		return 1;
	}
	return match ? 0 : 1;
}
