/* blk/blk.h - front door of the blk layer, the top of the device stack, on virtio/: a virtio-blk
 * device (virtio 1.2 §5.2) over a disk file, with three IO paths to compare: on the vCPU thread,
 * on an IO thread, through io_uring; or with its queue handed to another process over
 * vhost-user. Inside, from the bottom up: uring.c, req.c, blk.c; vhost-user-msg.c (the
 * protocol of trace/vhost-user-proto.h), vhost-user-blk.c. */
#ifndef KVMSCOPE_BLK_H
#define KVMSCOPE_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm/kvm.h"
#include "virtio/virtio.h"

/* Where requests are served (--blk-io=). */
enum blk_io {
	BLK_IO_VCPU,	   /* inside queue_notify, on the vCPU thread (QEMU's classic virtio-blk) */
	BLK_IO_IOTHREAD,   /* a dedicated IO thread woken by ioeventfd, completing through irqfd */
	BLK_IO_URING,	   /* the IO thread submits through io_uring, many requests in flight */
	BLK_IO_VHOST_USER, /* a vhost-user backend process serves the queue (guest RAM shared) */
};

struct blk_config {
	const char *path; /* the disk image or block device */
	bool ro;	  /* --disk FILE,ro: offer VIRTIO_BLK_F_RO, fail every write */
	enum blk_io io;
	const char *serial; /* the GET_ID answer (up to 20 bytes); NULL: the file's base name */
	const char *socket; /* BLK_IO_VHOST_USER: the backend's unix socket (path unused) */
	/* --blk-queues: virtqueues (1 to VIRTIO_MAX_QUEUES; 0 means 1); more than one offers
	 * VIRTIO_BLK_F_MQ. --iothreads: IO threads serving them round robin (iothread and uring
	 * paths; 0 means 1; at most one per queue). */
	unsigned queues, iothreads;
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
	uint64_t max_inflight; /* most requests in flight at once on one queue (uring) */
	uint64_t guest_errors; /* malformed chains that made the device NEEDS_RESET */
};

/* "vcpu", "iothread", "uring" or "vhost-user": 0, or -EINVAL for anything else. */
int blk_io_parse(const char *s, enum blk_io *out);
/* --blk-io's value: one of the above, "vhost-user" followed by ",socket=PATH" (required;
 * *socket points into s). -EINVAL for anything else. */
int blk_io_parse_opts(const char *s, enum blk_io *out, const char **socket);
const char *blk_io_name(enum blk_io io);

/* Open the disk and set up a virtio-blk device on vm's memory (virtio_dev_init). -errno with a
 * one-line message on stderr: the file, or "built without liburing" for BLK_IO_URING. The
 * caller hands *out to a transport (virtio_pci_create) and later calls blk_destroy().
 * BLK_IO_VHOST_USER connects to cfg->socket instead and meets the backend (vm needs
 * vm_config.shared_ram); its message names the socket. */
int blk_create(struct vm *vm, const struct blk_config *cfg, struct virtio_dev **out);
/* Checks the queue and thread counts against the IO path, then opens and measures the disk as
 * blk_create() does, before any VM exists: 0, or -errno after one line naming the value or the
 * file (-EINVAL: a count the IO path cannot have). */
int blk_check(const struct blk_config *cfg);
/* Stops the backend if it still runs, closes the disk, frees the device. */
void blk_destroy(struct virtio_dev *vdev);
/* All zero for a vhost-user device: its requests never pass through kvmscope. */
void blk_get_stats(struct virtio_dev *vdev, struct blk_stats *out);

/* A private disk that vanishes when kvmscope exits ($TMPDIR, else /var/tmp): a copy of src, or
 * size blank bytes when src is NULL. Returns its fd (keep it open while it is in use) and puts a
 * path blk_create() can open in path; -errno when src cannot be read or the copy made. */
int blk_scratch_disk(const char *src, uint64_t size, char *path, size_t len);

#endif
