/* blk/blk.h - front door of the blk layer, the top of the device stack, on virtio/: a virtio-blk
 * device (virtio 1.2 §5.2) over a disk file, with three IO paths to compare: on the vCPU thread,
 * on an IO thread, through io_uring. Inside, from the bottom up: uring.c, req.c, blk.c. */
#ifndef KVMSCOPE_BLK_H
#define KVMSCOPE_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm/kvm.h"
#include "virtio/virtio.h"

/* Where requests are served (--blk-io=). */
enum blk_io {
	BLK_IO_VCPU,	 /* inside queue_notify, on the vCPU thread (QEMU's classic virtio-blk) */
	BLK_IO_IOTHREAD, /* a dedicated IO thread woken by ioeventfd, completing through irqfd */
	BLK_IO_URING,	 /* the IO thread submits through io_uring, many requests in flight */
};

struct blk_config {
	const char *path; /* the disk image or block device */
	bool ro;	  /* --disk FILE,ro: offer VIRTIO_BLK_F_RO, fail every write */
	enum blk_io io;
	const char *serial; /* the GET_ID answer (up to 20 bytes); NULL: the file's base name */
};

/* Counters kept by the device, for stats and the trace. Read with blk_get_stats(). */
struct blk_stats {
	uint64_t requests;		 /* requests completed, whatever their status */
	uint64_t reads, writes, flushes; /* IN, OUT, FLUSH requests */
	uint64_t discards, write_zeroes, get_ids;
	uint64_t bytes_read, bytes_written;
	uint64_t ioerr, unsupp; /* requests answered IOERR / UNSUPP */
	uint64_t notifies;	/* guest kicks seen (queue_notify or the kick eventfd) */
	uint64_t irqs_signalled,
	    irqs_suppressed;   /* after completions: interrupt sent or not wanted */
	uint64_t max_inflight; /* most requests in flight at once (uring) */
	uint64_t guest_errors; /* malformed chains that made the device NEEDS_RESET */
};

/* "vcpu", "iothread" or "uring": 0, or -EINVAL for anything else. */
int blk_io_parse(const char *s, enum blk_io *out);
const char *blk_io_name(enum blk_io io);

/* Open the disk and set up a virtio-blk device on vm's memory (virtio_dev_init). -errno with a
 * one-line message on stderr: the file, or "built without liburing" for BLK_IO_URING. The
 * caller hands *out to a transport (virtio_pci_create) and later calls blk_destroy(). */
int blk_create(struct vm *vm, const struct blk_config *cfg, struct virtio_dev **out);
/* Stops the backend if it still runs, closes the disk, frees the device. */
void blk_destroy(struct virtio_dev *vdev);
void blk_get_stats(struct virtio_dev *vdev, struct blk_stats *out);

#endif
