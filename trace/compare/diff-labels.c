/* trace/compare/diff-labels.c - why a difference between the two sides is expected, not a
 * mismatch: what one side cannot record, what the platform chose (SeaBIOS, slots, BAR
 * addresses), the one feature kvmscope lacks, the option it has (--in-order), and what virtio
 * 1.2 makes differ between a legacy
 * and a modern driver. Each label is the sentence `kvmscope diff` and the viewer print. */
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <stddef.h>
#include <stdio.h>
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

#define VIRTIO_PCI_VENDOR 0x1af4 /* virtio 1.2 §4.1.2: every virtio PCI device's vendor ID */

/* A virtio 1.x-only PCI device (virtio 1.2 §4.1.2.1: device ID 0x1040 + the type), as its
 * config reads showed it. */
static bool modern_only(const struct diff_dev *d)
{
	return (d->pci_id & 0xffff) == VIRTIO_PCI_VENDOR && d->pci_id >> 16 >= 0x1040 &&
	       d->pci_id >> 16 <= 0x107f;
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
	const struct diff_dev *none = a->mapped ? p->b : p->a;
	if (!*same && a->mapped != b->mapped && (one->type & PCI_BASE_ADDRESS_SPACE_IO) &&
	    modern_only(none) && !modern_only(none == p->a ? p->b : p->a))
		return "only a legacy-capable device (legacy, transitional) has the legacy "
		       "registers' I/O BAR0 (virtio 1.2 §4.1.4.8); a modern-only one has none";
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

#define LABEL_RING_RESET                                                                           \
	"QEMU 7.2 offers VIRTIO_F_RING_RESET (virtio 1.2 §2.6.1) and Linux takes it; kvmscope "   \
	"does not implement virtqueue reset, so does not offer it (docs/pci.md)"
#define LABEL_MQ                                                                                   \
	"one device has more queues than the other: VIRTIO_BLK_F_MQ and num_queues (virtio 1.2 "   \
	"§5.2.3) come with more than one, and QEMU 7.2 gives virtio-blk one per vCPU (-smp); "    \
	"the extra queues' setup and IO follow from that choice"
#define MQ_BIT (1ULL << VIRTIO_BLK_F_MQ)

static bool queues_differ(const struct diff_cmp *p)
{
	return p->a->nq_dev && p->b->nq_dev && p->a->nq_dev != p->b->nq_dev &&
	       p->a->kind == VIRTIO_ID_BLOCK;
}

const char *diff_mq_label(const struct diff_cmp *p)
{
	return queues_differ(p) ? LABEL_MQ : NULL;
}

bool diff_queue_extra(const struct diff_cmp *p, unsigned q)
{
	unsigned fewer = p->a->nq_dev < p->b->nq_dev ? p->a->nq_dev : p->b->nq_dev;
	return queues_differ(p) && q >= fewer;
}

#define LABEL_IN_ORDER                                                                             \
	"VIRTIO_F_IN_ORDER (virtio 1.2 §6, bit 35) is an option: kvmscope offers it with "        \
	"--in-order, QEMU with in_order=on (from 9.1; 7.2 has no in-order device); Linux 6.1 "     \
	"does not take it (docs/packed.md)"
#define IN_ORDER_BIT (1ULL << VIRTIO_F_IN_ORDER)

/* The labels of a mix of explained differences (bit 0: MQ, 1: RING_RESET, 2: IN_ORDER),
 * joined once and kept: the report keeps the pointers of the notes it numbers. */
static const char *joined_label(unsigned mask)
{
	static const char *const parts[] = {LABEL_MQ, LABEL_RING_RESET, LABEL_IN_ORDER};
	enum { most = sizeof(LABEL_MQ) + sizeof(LABEL_RING_RESET) + sizeof(LABEL_IN_ORDER) + 4 };
	static char done[8][most];
	char *b = done[mask & 7];

	if (!b[0])
		for (unsigned i = 0; i < 3; i++)
			if (mask & 1u << i)
				snprintf(b + strlen(b), sizeof(done[0]) - strlen(b), "%s%s",
					 b[0] ? "; " : "", parts[i]);
	return b;
}

const char *diff_features_label(const struct diff_cmp *p, uint64_t a, uint64_t b)
{
	bool interfaces = diff_interfaces_differ(p->sa, p->sb);
	uint64_t x = a ^ b, mq = queues_differ(p) ? MQ_BIT : 0;
	uint64_t reset = p->sa->qemu != p->sb->qemu ? FEATURES_EXPLAINED : 0;
	if (a == b)
		return NULL;
	if (interfaces && !(x & ~(FEATURES_BY_INTERFACE | mq)))
		return x & mq ? LABEL_MQ "; " LABEL_FEATURE_BITS : LABEL_FEATURE_BITS;
	if (x & ~(reset | mq | IN_ORDER_BIT))
		return NULL;
	return joined_label((x & mq ? 1 : 0) | (x & reset ? 2 : 0) | (x & IN_ORDER_BIT ? 4 : 0));
}

#define LABEL_QUEUE_SPREAD                                                                         \
	"a request goes on the queue of the vCPU that submitted it (Linux's blk-mq maps each CPU " \
	"to a queue): which vCPU ran the guest's IO differs from run to run"

const char *diff_queue_spread_label(const struct diff_cmp *p)
{
	return p->a->nreq == p->b->nreq && (p->a->nq_dev > 1 || p->b->nq_dev > 1)
		   ? LABEL_QUEUE_SPREAD
		   : NULL;
}

/* A step only the device with more queues can have: about one of its extra queues (or their
 * MSI-X vectors, one per queue after the config vector), or its num_queues field. */
/* The queue a common-configuration queue register (virtio 1.2 §4.1.4.3: queue_size and after) is
 * about: the one the last queue_select step before it chose; UINT64_MAX when there is none. */
static uint64_t selected_queue(const struct diff_side *s, const struct diff_dev *d,
			       const struct diff_step *st)
{
	const struct trace_rec *r = &s->tf.rec[st->rec];
	uint64_t reg = trace_rec_arg(r, "reg", 0);
	if (reg & TRACE_VREG_LEGACY || reg < VIRTIO_PCI_COMMON_Q_SIZE || st < d->steps.v ||
	    st >= d->steps.v + d->steps.n)
		return UINT64_MAX;
	for (const struct diff_step *k = st; k-- > d->steps.v;)
		if (k->ev == TRACE_EV_QUEUE_SELECT)
			return trace_rec_arg(&s->tf.rec[k->rec], "queue", UINT64_MAX);
	return UINT64_MAX;
}

static bool mq_step(const struct diff_cmp *p, const struct diff_side *s, const struct diff_step *st)
{
	const struct diff_dev *d = s == p->sa ? p->a : p->b;
	const struct trace_rec *r = &s->tf.rec[st->rec];
	uint64_t q = trace_rec_arg(r, "queue", UINT64_MAX), off = trace_rec_arg(r, "off", 0);
	const uint64_t numq = offsetof(struct virtio_blk_config, num_queues);
	if (q != UINT64_MAX && q != TRACE_QUEUE_CONFIG)
		return diff_queue_extra(p, q);
	switch (r->ev) {
	case TRACE_EV_CONFIG_READ:
	case TRACE_EV_CONFIG_WRITE:
		return queues_differ(p) && off >= numq && off < numq + 2;
	case TRACE_EV_MSIX_TABLE_WRITE:
	case TRACE_EV_MSIX_MASK:
		return trace_rec_arg(r, "entry", 0) &&
		       diff_queue_extra(p, trace_rec_arg(r, "entry", 0) - 1);
	case TRACE_EV_COMMON_CFG_READ:
	case TRACE_EV_COMMON_CFG_WRITE:
		q = selected_queue(s, d, st);
		return queues_differ(p) && (trace_rec_arg(r, "reg", 0) == VIRTIO_PCI_COMMON_NUMQ ||
					    (q != UINT64_MAX && diff_queue_extra(p, q)));
	case TRACE_EV_DEVICE_FEATURES_READ:
	case TRACE_EV_DRIVER_FEATURES_WRITE:
		return false; /* a word of its own: only as a change, below */
	}
	return false;
}

static uint64_t arg_of(const struct diff_side *s, const struct diff_step *st, const char *arg);

/* Two writes of MSI-X Message Control apart by the table size alone (PCI 3.0 §6.8.2.3): one
 * vector per queue and one for config changes. */
static bool msix_size_apart(const struct diff_cmp *p, const struct diff_step *a,
			    const struct diff_step *b)
{
	uint64_t cap = arg_of(p->sa, a, "cap"), off = arg_of(p->sa, a, "off") & 0xff;
	return a->ev == TRACE_EV_PCI_CFG_WRITE && (cap >> 8 & 0xff) == PCI_CAP_ID_MSIX &&
	       off == (cap & 0xff) + PCI_MSIX_FLAGS && off == (arg_of(p->sb, b, "off") & 0xff) &&
	       !((arg_of(p->sa, a, "val") ^ arg_of(p->sb, b, "val")) &
		 ~(uint64_t)PCI_MSIX_FLAGS_QSIZE);
}

/* Two steps of a feature word (the window it shows, at its place in the 64 bits) or of the
 * accepted set: the bits they differ by; 0 for other steps or other windows. */
static uint64_t feature_bits_apart(const struct diff_cmp *p, const struct diff_step *a,
				   const struct diff_step *b)
{
	uint64_t sel = arg_of(p->sa, a, "sel");

	if (a->ev == TRACE_EV_FEATURES_OK)
		return arg_of(p->sa, a, "features") ^ arg_of(p->sb, b, "features");
	if ((a->ev != TRACE_EV_DEVICE_FEATURES_READ && a->ev != TRACE_EV_DRIVER_FEATURES_WRITE) ||
	    sel != arg_of(p->sb, b, "sel") || sel > 1)
		return 0;
	return (arg_of(p->sa, a, "bits") ^ arg_of(p->sb, b, "bits")) << (32 * sel);
}

/* BAR n's rows: its sizing, placement and the writes of its address. */
static int step_bar(const struct diff_side *s, const struct diff_step *st)
{
	const struct trace_rec *r = &s->tf.rec[st->rec];
	unsigned off = trace_rec_arg(r, "off", 0) & 0xff;
	if (r->ev == TRACE_EV_BAR_MAP || r->ev == TRACE_EV_BAR_UNMAP)
		return trace_rec_arg(r, "bar", 0);
	if (r->ev != TRACE_EV_PCI_CFG_READ && r->ev != TRACE_EV_PCI_CFG_WRITE)
		return -1;
	if (off >= PCI_BASE_ADDRESS_0 && off <= PCI_BASE_ADDRESS_5 + 3)
		return (off - PCI_BASE_ADDRESS_0) / 4;
	return off >= PCI_ROM_ADDRESS && off <= PCI_ROM_ADDRESS + 3 ? 6 : -1;
}

#define LABEL_FIRMWARE_DECODE                                                                      \
	"SeaBIOS leaves I/O, memory decoding and bus mastering on under QEMU (0x107), so Linux "   \
	"turns decoding off around each BAR's sizing and back on, and QEMU unmaps and maps the "   \
	"BARs each time; kvmscope, as firmware, leaves the command register to Linux "             \
	"(docs/pci.md)"
#define FIRMWARE_COMMAND                                                                           \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR)

/* During enumeration: a command register write apart by the bits firmware set, or (on QEMU's
 * side alone) one of Linux's decode toggles and the BAR unmaps and maps QEMU logs for them. */
static bool firmware_step(const struct diff_cmp *p, const struct diff_step *a,
			  const struct diff_step *b)
{
	const struct diff_side *s = a ? p->sa : p->sb;
	const struct diff_step *one = a ? a : b;
	const struct trace_rec *r = &s->tf.rec[one->rec];
	bool command =
	    r->ev == TRACE_EV_PCI_CFG_WRITE && (trace_rec_arg(r, "off", 0) & 0xff) == PCI_COMMAND;
	if (a && b)
		return command && b->ev == a->ev &&
		       (arg_of(p->sb, b, "off") & 0xff) == PCI_COMMAND &&
		       !((arg_of(p->sa, a, "val") ^ arg_of(p->sb, b, "val")) & ~FIRMWARE_COMMAND);
	return command || (s->qemu && (r->ev == TRACE_EV_BAR_MAP || r->ev == TRACE_EV_BAR_UNMAP));
}

#define LABEL_PCI_INTERFACES                                                                       \
	"the two interfaces' PCI functions differ: a legacy device has I/O BAR0 and MSI-X alone; " \
	"a modern one has BAR4 (64-bit, BAR5 its upper half) and the virtio capabilities too "     \
	"(virtio 1.2 §4.1.4), each BAR sized with decoding off"

/* Legacy against modern, during enumeration: a capability, a BAR's sizing, placement or
 * address, or a command write (the decode toggles around each BAR's sizing). */
static bool interface_pci_step(const struct diff_cmp *p, const struct diff_step *a,
			       const struct diff_step *b)
{
	for (int k = 0; k < 2; k++) {
		const struct diff_side *s = k ? p->sb : p->sa;
		const struct diff_step *st = k ? b : a;
		if (!st)
			continue;
		const struct trace_rec *r = &s->tf.rec[st->rec];
		bool command = r->ev == TRACE_EV_PCI_CFG_WRITE &&
			       (trace_rec_arg(r, "off", 0) & 0xff) == PCI_COMMAND;
		if (!command && !trace_rec_arg(r, "cap", 0) && step_bar(s, st) < 0)
			return false;
	}
	return true;
}

#define LABEL_IRQ_LINE                                                                             \
	"the interrupt line is the platform's: SeaBIOS writes the ISA IRQ QEMU's PIIX3 routes "    \
	"INTA to, kvmscope the IOAPIC pin it wires (docs/pci.md)"

const char *diff_step_label(const struct diff_cmp *p, enum diff_part part,
			    const struct diff_step *a, const struct diff_step *b)
{
	const struct diff_side *s = a ? p->sa : p->sb;
	const struct diff_step *one = a ? a : b;
	bool same_ev = a && b && a->ev == b->ev;
	bool same;

	if ((!a || mq_step(p, p->sa, a)) && (!b || mq_step(p, p->sb, b)))
		return LABEL_MQ;
	if (same_ev && queues_differ(p) &&
	    (feature_bits_apart(p, a, b) == MQ_BIT || msix_size_apart(p, a, b)))
		return LABEL_MQ;
	/* --in-order (and more queues) in a feature word or the accepted set */
	uint64_t x = same_ev ? feature_bits_apart(p, a, b) : 0;
	if (x & IN_ORDER_BIT && !(x & ~(IN_ORDER_BIT | (queues_differ(p) ? MQ_BIT : 0))))
		return joined_label((x & MQ_BIT ? 1 : 0) | 4);
	if (part == DIFF_PART_PCI && p->sa->qemu != p->sb->qemu && firmware_step(p, a, b))
		return LABEL_FIRMWARE_DECODE;
	if (part == DIFF_PART_PCI && diff_interfaces_differ(p->sa, p->sb) &&
	    interface_pci_step(p, a, b))
		return LABEL_PCI_INTERFACES;
	if (part == DIFF_PART_PCI) {
		int bar = step_bar(s, one);
		if (bar >= 0 && bar < DIFF_BARS && (!a || !b || step_bar(p->sb, b) == bar))
			return diff_bar_label(p, bar, &same);
		if (same_ev && a->ev == TRACE_EV_PCI_CFG_READ && p->sa->qemu != p->sb->qemu &&
		    (arg_of(p->sa, a, "off") & 0xff) == PCI_INTERRUPT_LINE)
			return LABEL_IRQ_LINE;
		return NULL;
	}
	if (part != DIFF_PART_IO)
		return NULL;
	if (same_ev && arg_of(p->sa, a, "queue") != arg_of(p->sb, b, "queue") &&
	    !strcmp(a->key, b->key)) /* the same step on another queue */
		return diff_mq_label(p) ? diff_mq_label(p) : diff_queue_spread_label(p);
	if (one->ev == TRACE_EV_QUEUE_NOTIFY && (!b || !a || b->ev == one->ev))
		return diff_notify_label(p);
	if (one->ev == TRACE_EV_IRQ_RAISE && (!b || !a || b->ev == one->ev))
		return diff_irq_label(p);
	return NULL;
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
