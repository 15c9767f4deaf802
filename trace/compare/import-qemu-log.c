/* trace/compare/import-qemu-log.c - the first half of importing QEMU 7.2's log (import-qemu.c
 * makes the records): the events it knows with their formats, each line parsed ("TID@S.US:event
 * args" or "event args"), and QEMU's thread ids and pointers turned into kvmscope's vCPU/main/IO
 * threads, PCI devices, virtio devices and queue indexes. */
#include <ctype.h>
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>

#include "trace/compare/import-qemu.h"

/* The QEMU 7.2 events kvmscope understands, with their format from QEMU's trace-events files
 * (as trace_scan() reads them). */
const struct qemu_event qemu_events[] = {
    {"pci_cfg_read", "%s %x:%x.%x @0x%x -> 0x%x", H_PCI_CFG, TRACE_READ},
    {"pci_cfg_write", "%s %x:%x.%x @0x%x <- 0x%x", H_PCI_CFG, TRACE_WRITE},
    {"pci_update_mappings_add", "%s %x:%x.%x %d,0x%x+0x%x", H_MAPPING, 1},
    {"pci_update_mappings_del", "%s %x:%x.%x %d,0x%x+0x%x", H_MAPPING, 0},
    {"msix_write_config", "dev %s enabled %d masked %d", H_MSIX, 0},
    {"virtio_set_status", "vdev %p val %u", H_STATUS, 0},
    {"virtio_queue_notify", "vdev %p n %d vq %p", H_QUEUE_NOTIFY, 0},
    {"virtio_notify", "vdev %p vq %p", H_IRQ, TRACE_IRQ_MSIX},
    {"virtio_notify_irqfd", "vdev %p vq %p", H_IRQ, TRACE_IRQ_MSIX_IRQFD},
    {"virtqueue_pop", "vq %p elem %p in_num %u out_num %u", H_POP, 0},
    {"virtqueue_fill", "vq %p elem %p len %u idx %u", H_FILL, 0},
    {"virtqueue_flush", "vq %p count %u", H_FLUSH, 0},
    {"virtio_blk_handle_read", "vdev %p req %p sector %u nsectors %u", H_BLK_RW, VIRTIO_BLK_T_IN},
    {"virtio_blk_handle_write", "vdev %p req %p sector %u nsectors %u", H_BLK_RW, VIRTIO_BLK_T_OUT},
    {"virtio_blk_req_complete", "vdev %p req %p status %d", H_REQ_COMPLETE, 0},
    {"virtio_blk_data_plane_start", "dataplane %p", H_DATAPLANE, 1},
    {"virtio_blk_data_plane_stop", "dataplane %p", H_DATAPLANE, 0},
    {"virtio_pci_notify_write", "0x%x = 0x%x (%d)", H_NOTIFY_WRITE, 0},
    {"virtio_pci_notify_write_pio", "0x%x = 0x%x (%d)", H_NOTIFY_WRITE, 0},
    /* checked, and kept as `imported`: no catalogue event says the same */
    {"virtio_blk_rw_complete", "vdev %p req %p ret %d", H_RAW, 0},
    {"virtqueue_alloc_element", "elem %p size %u in_num %u out_num %u", H_RAW, 0},
    {"virtio_pci_notify", "virtio_pci_notify vec 0x%x", H_RAW, 0}, /* declared, unused in 7.2 */
    {"kvm_set_ioeventfd_pio", "fd: %d @0x%x val=0x%x assign: %d size: %d match: %d", H_RAW, 0},
    {"kvm_set_ioeventfd_mmio", "fd: %d @0x%x val=0x%x assign: %d size: %d match: %d", H_RAW, 0},
};
const size_t qemu_nevents = sizeof(qemu_events) / sizeof(qemu_events[0]);

/* --- Lines. --- */
static size_t name_len(const char *s)
{
	size_t n = 0;
	while (islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

/* A trace line: "TID@SECONDS.MICROS:name args" or "name args". 1: an event, 0: another line
 * (console, warnings), -1: malformed (reported). */
static int parse_line(struct imp *im, char *s, struct line *l)
{
	if (isdigit((unsigned char)*s)) {
		unsigned long tid, sec, usec;
		int n = -1;
		if (!strchr(s, '@') || strspn(s, "0123456789") != (size_t)(strchr(s, '@') - s))
			return 0; /* "2026-11-25T..." warnings and the like */
		if (sscanf(s, "%lu@%lu.%6lu:%n", &tid, &sec, &usec, &n) != 3 || n < 0 ||
		    !name_len(s + n)) {
			trace_build_malformed(im->b, l->no, "expected TID@SECONDS.MICROS:event");
			return -1;
		}
		l->tid = tid;
		l->ts = (uint64_t)sec * 1000000000 + usec * 1000;
		im->timestamps = true;
		s += n;
	} else if (!islower((unsigned char)*s) || !memchr(s, '_', name_len(s))) {
		return 0;
	}
	l->name = s;
	l->name_len = name_len(s);
	if (s[l->name_len] && s[l->name_len] != ' ')
		return 0; /* "reboot: ..." */
	l->args = s[l->name_len] ? s + l->name_len + 1 : "";
	l->ev = -1;
	for (size_t i = 0; i < qemu_nevents; i++)
		if (strlen(qemu_events[i].name) == l->name_len &&
		    !strncmp(qemu_events[i].name, s, l->name_len))
			l->ev = i;
	if (l->ev >= 0) {
		l->ok = trace_scan(l->args, qemu_events[l->ev].args, l->v, NVAL, &l->word,
				   &l->word_len) >= 0;
		if (!l->ok)
			trace_build_bad_args(im->b, l->no, qemu_events[l->ev].name, l->args,
					     qemu_events[l->ev].args);
	}
	return 1;
}

int qimp_read_lines(struct imp *im, FILE *in)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&buf, &cap, in)) >= 0) {
		im->b->lines++;
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = 0;
		char *copy = strdup(buf);
		struct line l = {.text = copy, .no = im->b->lines};
		int kind = copy ? parse_line(im, copy, &l) : -1;
		if (kind <= 0) {
			im->b->skipped += kind == 0;
			free(copy);
			continue;
		}
		struct line *slot =
		    trace_build_push(im->b, &im->lines, &im->nlines, &im->lines_cap, sizeof(l));
		if (!slot) {
			free(copy);
			break;
		}
		*slot = l;
		im->b->events++;
	}
	free(buf);
	return ferror(in) ? -EIO : 0;
}

/* --- Threads, devices, queues: QEMU's ids as kvmscope's. --- */
struct thread *qimp_thread(struct imp *im, uint32_t qemu)
{
	for (size_t i = 0; i < im->nthr; i++)
		if (im->thr[i].qemu == qemu)
			return &im->thr[i];
	return NULL;
}

static bool guest_access(const struct line *l)
{
	enum handler h = l->ev >= 0 ? qemu_events[l->ev].h : H_RAW;
	return h == H_PCI_CFG || h == H_MSIX || h == H_NOTIFY_WRITE;
}

/* A thread that touches PCI config space or a notify register runs a vCPU; the first thread of
 * the log is QEMU's main loop; any other is an IO thread. Without -msg timestamp=on there are no
 * thread ids: everything is "main". */
void qimp_name_threads(struct imp *im)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < im->nlines; i++) {
			const struct line *l = &im->lines[i];
			struct thread *t;
			if ((pass == 0 && !guest_access(l)) || qimp_thread(im, l->tid) ||
			    !(t = trace_build_push(im->b, &im->thr, &im->nthr, &im->thr_cap,
						   sizeof(*t))))
				continue;
			t->qemu = l->tid;
			t->tid =
			    pass == 0 ? (im->timestamps ? TRACE_TID(TRACE_THREAD_VCPU, im->nvcpu++)
							: TRACE_TID(TRACE_THREAD_MAIN, 0))
			    : l->tid == im->lines[0].tid ? TRACE_TID(TRACE_THREAD_MAIN, 0)
							 : TRACE_TID(TRACE_THREAD_IO, im->nio++);
		}
}

static uint32_t kind_of(const char *name, size_t len)
{
	static const struct {
		const char *prefix;
		uint32_t kind;
	} kinds[] = {{"virtio-blk", VIRTIO_ID_BLOCK},	    {"virtio-net", VIRTIO_ID_NET},
		     {"virtio-serial", VIRTIO_ID_CONSOLE},  {"virtio-rng", VIRTIO_ID_RNG},
		     {"virtio-balloon", VIRTIO_ID_BALLOON}, {"virtio-scsi", VIRTIO_ID_SCSI}};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (len >= strlen(kinds[i].prefix) &&
		    !strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix)))
			return kinds[i].kind;
	return 0;
}

/* A PCI device by name and address (bus < 0: by name only). */
struct pcidev *qimp_pci(struct imp *im, const char *name, size_t len, int bus, unsigned slot,
			unsigned fn)
{
	for (size_t i = 0; i < im->npci; i++) {
		struct pcidev *p = &im->pci[i];
		if (strlen(p->name) == len && !strncmp(p->name, name, len) &&
		    (bus < 0 || (p->bus == (unsigned)bus && p->slot == slot && p->fn == fn)))
			return p;
	}
	if (bus < 0)
		return NULL;
	struct pcidev *p = trace_build_push(im->b, &im->pci, &im->npci, &im->pci_cap, sizeof(*p));
	if (!p)
		return NULL;
	char full[96];
	snprintf(p->name, sizeof(p->name), "%.*s", (int)len, name);
	p->bus = bus, p->slot = slot, p->fn = fn;
	p->kind = kind_of(name, len);
	snprintf(full, sizeof(full), "%s %02x:%02x.%x", p->name, bus, slot, fn);
	p->dev = trace_build_dev(im->b, full, p->kind);
	return p;
}

struct vdev *qimp_vdev(struct imp *im, uint64_t ptr)
{
	for (size_t i = 0; i < im->nvdev; i++)
		if (im->vdev[i].ptr == ptr)
			return &im->vdev[i];
	struct vdev *v = trace_build_push(im->b, &im->vdev, &im->nvdev, &im->vdev_cap, sizeof(*v));
	if (v)
		v->ptr = ptr, v->pci = NONE;
	return v;
}

size_t qimp_vdev_index(struct imp *im, const struct vdev *v)
{
	return v ? (size_t)(v - im->vdev) : NONE;
}

/* A virtio device is the PCI proxy of its kind that QEMU's log names, when there is one. */
uint16_t qimp_vdev_dev(struct imp *im, struct vdev *v)
{
	if (v->dev)
		return v->dev;
	for (size_t i = 0; v->pci == NONE && i < im->npci; i++)
		if (im->pci[i].kind && im->pci[i].kind == v->kind && !im->pci[i].claimed) {
			v->pci = i;
			im->pci[i].claimed = true;
		}
	if (v->pci != NONE) {
		v->dev = im->pci[v->pci].dev;
	} else {
		char name[64];
		snprintf(name, sizeof(name), "%s (vdev %zu)",
			 v->kind == VIRTIO_ID_BLOCK ? "virtio-blk" : "virtio",
			 (size_t)(v - im->vdev));
		v->dev = trace_build_dev(im->b, name, v->kind);
	}
	return v->dev;
}

struct vq *qimp_vq(struct imp *im, uint64_t ptr, size_t vd)
{
	for (size_t i = 0; i < im->nvq; i++)
		if (im->vq[i].ptr == ptr) {
			if (vd != NONE && im->vq[i].vd == NONE)
				im->vq[i].vd = vd;
			return &im->vq[i];
		}
	struct vq *q = trace_build_push(im->b, &im->vq, &im->nvq, &im->vq_cap, sizeof(*q));
	if (q) {
		q->ptr = ptr;
		q->vd = vd;
		q->index = -1;
	}
	return q;
}

uint32_t qimp_vq_index(struct imp *im, struct vq *q)
{
	if (!q)
		return 0;
	if (q->index < 0) { /* never notified: number the device's queues in order of appearance */
		int n = 0;
		for (size_t i = 0; i < im->nvq; i++)
			if (&im->vq[i] != q && im->vq[i].vd == q->vd && im->vq[i].index >= n)
				n = im->vq[i].index + 1;
		q->index = n;
	}
	return q->index;
}

/* What the whole log says about pointers, before any record is made: which device kind a vdev
 * is, which vdev and index a vq has, whether it interrupts through irqfd. */
void qimp_learn(struct imp *im)
{
	for (size_t i = 0; i < im->nlines; i++) {
		const struct line *l = &im->lines[i];
		if (l->ev < 0 || !l->ok)
			continue;
		const struct qemu_event *e = &qemu_events[l->ev];
		struct vdev *v;
		if (e->h == H_PCI_CFG || e->h == H_MAPPING) /* devices numbered as they appear */
			qimp_pci(im, l->word, l->word_len, l->v[0], l->v[1], l->v[2]);
		else if (e->h == H_BLK_RW || e->h == H_REQ_COMPLETE ||
			 !strcmp(e->name, "virtio_blk_rw_complete")) {
			if ((v = qimp_vdev(im, l->v[0])))
				v->kind = VIRTIO_ID_BLOCK;
		} else if (e->h == H_QUEUE_NOTIFY) {
			struct vq *q =
			    qimp_vq(im, l->v[2], qimp_vdev_index(im, qimp_vdev(im, l->v[0])));
			if (q)
				q->index = l->v[1];
		} else if (e->h == H_IRQ && (v = qimp_vdev(im, l->v[0]))) {
			qimp_vq(im, l->v[1], qimp_vdev_index(im, v));
			v->irqfd |= e->flag == TRACE_IRQ_MSIX_IRQFD;
		} else if (e->h == H_STATUS) {
			im->modern |= (l->v[1] & VIRTIO_CONFIG_S_FEATURES_OK) != 0;
		}
	}
}

struct vq *qimp_vq_at(struct imp *im, size_t i)
{
	return i < im->nvq ? &im->vq[i] : NULL;
}

uint16_t qimp_vq_dev(struct imp *im, const struct vq *q)
{
	return q && q->vd != NONE ? qimp_vdev_dev(im, &im->vdev[q->vd]) : 0;
}
