/* trace/compare/import-qemu.h - inside the QEMU log importer (import-qemu-log.c reads the log's
 * lines and numbers what they name; import-qemu.c makes the records): the event table, one parsed
 * line, and QEMU's devices, queues, requests and threads as the importer tracks them. Private to
 * trace/compare/; the rest of the tree reaches the importer through compare.h. */
#ifndef KVMSCOPE_TRACE_COMPARE_IMPORT_QEMU_H
#define KVMSCOPE_TRACE_COMPARE_IMPORT_QEMU_H

#include "trace/compare/compare.h"

#define NVAL 6

enum handler {
	H_RAW,
	H_PCI_CFG,
	H_MAPPING,
	H_MSIX,
	H_STATUS,
	H_QUEUE_NOTIFY,
	H_IRQ,
	H_POP,
	H_FILL,
	H_FLUSH,
	H_BLK_RW,
	H_REQ_COMPLETE,
	H_DATAPLANE,
	H_NOTIFY_WRITE
};

/* The QEMU 7.2 events kvmscope understands, with their format from QEMU's trace-events files
 * (as trace_scan() reads them). */
struct qemu_event {
	const char *name, *args;
	enum handler h;
	unsigned flag; /* handler detail: write, add, irqfd, ... */
};
extern const struct qemu_event qemu_events[];
extern const size_t qemu_nevents;

/* One line of the log, parsed. */
struct line {
	char *text; /* the line, owned */
	size_t no;
	uint64_t ts;
	uint32_t tid; /* QEMU's thread id, 0 without -msg timestamp=on */
	const char *name, *args;
	size_t name_len;
	int ev;	 /* index in qemu_events[], -1: another event (kept as imported) */
	bool ok; /* args matched the event's format */
	uint64_t v[NVAL];
	const char *word; /* %s */
	size_t word_len;
	uint32_t raw; /* the text's string id, once a record uses it */
};

struct pcidev {
	char name[64];
	unsigned bus, slot, fn;
	uint16_t dev;
	uint32_t kind;
	bool claimed, msix;
	bool msix_known; /* the log showed MSI-X Message Control (an access or msix_write_config) */
	uint8_t cfg[256], known[256]; /* config bytes seen in reads, to find capabilities */
};

struct vdev {
	uint64_t ptr;
	uint16_t dev;
	uint32_t kind;
	uint8_t status;
	bool irqfd;
	size_t pci; /* its PCI proxy in imp.pci, NONE */
};

/* The arrays grow (realloc) as the log names new things: what one entry knows of another is its
 * index, never a pointer. */
#define NONE SIZE_MAX

struct vq {
	uint64_t ptr;
	size_t vd; /* imp.vdev, NONE */
	int index; /* -1 until known */
	uint32_t used_idx;
};

struct req {
	uint64_t elem;
	size_t vq;	  /* imp.vq, NONE */
	uint32_t head;	  /* the request's number: QEMU does not log descriptor indexes */
	unsigned in, out; /* iovecs, header and status included */
	uint64_t pop_ts;
	size_t pop_line, done_line; /* their lines: indexes in imp.lines */
	uint16_t pop_tid, pop_site;
	bool popped;	   /* chain_pop emitted */
	bool done, filled; /* req_complete seen; virtqueue_fill seen */
	uint64_t done_ts;
	uint16_t done_tid, done_site;
	uint32_t status, len;
};

struct thread {
	uint32_t qemu;
	uint16_t tid;
	bool notify_write; /* a virtio_pci_notify_write* waits for its virtio_queue_notify */
};

struct imp {
	struct trace_build *b;
	struct line *lines;
	size_t nlines, lines_cap;
	struct pcidev *pci;
	size_t npci, pci_cap;
	struct vdev *vdev;
	size_t nvdev, vdev_cap;
	struct vq *vq;
	size_t nvq, vq_cap;
	struct req *req;
	size_t nreq, req_cap;
	struct thread *thr;
	size_t nthr, thr_cap;
	uint64_t dataplane;		     /* the last data-plane pointer seen, with its device */
	size_t dataplane_vd, last_status_vd; /* imp.vdev, NONE */
	uint32_t next_head;
	bool timestamps, modern;
	unsigned nvcpu, nio;
	const char *bad_arg; /* an argument the catalogue does not have (of event bad_ev) */
	uint16_t bad_ev;
};

/* --- import-qemu-log.c: the log's lines, and QEMU's ids as kvmscope's. --- */
/* Reads every line; the events (known or not) go to im->lines, the rest is counted. */
int qimp_read_lines(struct imp *im, FILE *in);
/* Threads named vcpuN / main / ioN from what each does (call once, after reading). */
void qimp_name_threads(struct imp *im);
/* What the whole log says about pointers before any record is made. */
void qimp_learn(struct imp *im);
struct thread *qimp_thread(struct imp *im, uint32_t qemu);
/* A PCI device by name and address (bus < 0: by name only; else made when new). */
struct pcidev *qimp_pci(struct imp *im, const char *name, size_t len, int bus, unsigned slot,
			unsigned fn);
struct vdev *qimp_vdev(struct imp *im, uint64_t ptr); /* made when new; NULL: out of memory */
size_t qimp_vdev_index(struct imp *im, const struct vdev *v);
uint16_t qimp_vdev_dev(struct imp *im, struct vdev *v); /* its trace device id */
struct vq *qimp_vq(struct imp *im, uint64_t ptr, size_t vd);
uint32_t qimp_vq_index(struct imp *im, struct vq *q);
struct vq *qimp_vq_at(struct imp *im, size_t i);
uint16_t qimp_vq_dev(struct imp *im, const struct vq *q);

#endif
