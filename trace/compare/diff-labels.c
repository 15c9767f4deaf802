/* trace/compare/diff-labels.c - why a difference between the two sides is expected, not a
 * mismatch: what one side cannot record, what the platform chose (SeaBIOS, slots, BAR
 * addresses), the one feature kvmscope lacks, and what virtio 1.2 makes differ between a legacy
 * and a modern driver. Each label is the sentence `kvmscope diff` and the viewer print. */
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <string.h>

#include "trace/compare/compare.h"

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

/* How a device's interrupts reached the guest after DRIVER_OK: only INTx, only MSI-X (by any
 * path), or neither / both / not known. */
enum irq_mode { IRQ_OTHER, IRQ_INTX, IRQ_MSIX };
static enum irq_mode irq_mode(const struct diff_dev *d)
{
	if (d->irq_unknown || (d->irq_intx && d->irq_msix + d->irq_irqfd))
		return IRQ_OTHER;
	return d->irq_intx ? IRQ_INTX : d->irq_msix + d->irq_irqfd ? IRQ_MSIX : IRQ_OTHER;
}

static bool irq_modes_differ(const struct diff_dev *a, const struct diff_dev *b)
{
	return irq_mode(a) != IRQ_OTHER && irq_mode(b) != IRQ_OTHER && irq_mode(a) != irq_mode(b);
}

#define LABEL_INTX_MSIX                                                                            \
	"one run's device has no MSI-X (kvmscope --irq intx) and takes INTx: only the other has "  \
	"BAR1 for the MSI-X table, and only its driver enables MSI-X, fills the table, turns "     \
	"INTx off in the command register and gives the queues vectors (virtio 1.2 §4.1.4.3, "    \
	"§4.1.5.1.2)"

const char *diff_bar_label(const struct diff_cmp *p, unsigned i, bool *same)
{
	const struct diff_bar *a = &p->a->bar[i], *b = &p->b->bar[i];
	*same = a->mapped == b->mapped &&
		(!a->mapped || (a->addr == b->addr && a->size == b->size && a->type == b->type));
	const struct diff_bar *one = a->mapped ? a : b;
	/* both VMMs put the MSI-X table and PBA in BAR1 */
	if (!*same && a->mapped != b->mapped && i == 1 && irq_modes_differ(p->a, p->b) &&
	    irq_mode(a->mapped ? p->a : p->b) == IRQ_MSIX)
		return LABEL_INTX_MSIX;
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
	    a->irq_intx == b->irq_intx && a->irq_unknown == b->irq_unknown)
		return NULL;
	if (a->irq_unknown || b->irq_unknown)
		return a->irq_unknown
			   ? "not recorded in A's log: no sight of MSI-X Message Control, so "
			     "the kind of interrupt is not known"
			   : "not recorded in B's log: no sight of MSI-X Message Control, so "
			     "the kind of interrupt is not known";
	if (irq_modes_differ(a, b))
		return a->irq_intx + a->irq_msix + a->irq_irqfd ==
			       b->irq_intx + b->irq_msix + b->irq_irqfd
			   ? LABEL_INTX_MSIX
			   : NULL;
	return a->irq_msix + a->irq_irqfd == b->irq_msix + b->irq_irqfd &&
		       a->irq_intx == b->irq_intx
		   ? "the same MSI-X interrupts by another path (irqfd, or injected by the VMM "
		     "from the vCPU thread)"
		   : NULL;
}

const char *diff_irq_mode_label(const struct diff_side *sa, const struct diff_dev *da,
				const struct diff_step *a, const struct diff_side *sb,
				const struct diff_dev *db, const struct diff_step *b)
{
	if (!irq_modes_differ(da, db) || (a && b) || (!a && !b))
		return NULL;
	const struct diff_side *s = a ? sa : sb;
	const struct diff_step *one = a ? a : b;
	if (irq_mode(a ? da : db) != IRQ_MSIX) /* the steps are the MSI-X run's */
		return NULL;
	const struct trace_rec *r = &s->tf.rec[one->rec];
	switch (one->ev) {
	case TRACE_EV_MSIX_ENABLE:
	case TRACE_EV_MSIX_TABLE_WRITE:
	case TRACE_EV_MSIX_MASK:
	case TRACE_EV_CONFIG_MSIX_VECTOR:
	case TRACE_EV_QUEUE_MSIX_VECTOR:
		return LABEL_INTX_MSIX;
	case TRACE_EV_PCI_CFG_WRITE:
		if ((trace_rec_arg(r, "cap", 0) >> 8 & 0xff) == PCI_CAP_ID_MSIX ||
		    (trace_rec_arg(r, "off", 0) == PCI_COMMAND &&
		     (trace_rec_arg(r, "val", 0) & PCI_COMMAND_INTX_DISABLE)))
			return LABEL_INTX_MSIX;
	}
	return NULL;
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
