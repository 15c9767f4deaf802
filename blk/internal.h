/* blk/internal.h - what the files of blk/ share. Nothing outside blk/ includes it. */
#ifndef KVMSCOPE_BLK_INTERNAL_H
#define KVMSCOPE_BLK_INTERNAL_H

#include <linux/virtio_blk.h>
#include <pthread.h>
#include <sys/types.h>

#include "blk/blk.h"

#define BLK_QUEUE_SIZE	256 /* queue_max_size offered to the driver */
#define BLK_URING_DEPTH 64  /* requests in flight at once on the uring path */
_Static_assert(BLK_URING_DEPTH <= 256, "blk_queue.order[] holds slot numbers in a byte");

/* Limits offered in the configuration space (virtio 1.2 §5.2.4). */
#define BLK_SEG_MAX	     (VQ_MAX_SEGS - 2) /* the header and the status byte take two */
#define BLK_MAX_DISCARD_SECT (1u << 22)
#define BLK_MAX_DISCARD_SEG  16
#define BLK_MAX_WZEROES_SECT (1u << 16) /* may be written as zeroes by hand: keep it short */
#define BLK_MAX_WZEROES_SEG  16

/* What each virtio-blk device of blk/ says of itself, whoever serves its queue (the
 * virtio_device_ops fields before the callbacks). PCI class: mass storage, SCSI, what
 * virtio-blk has always used. */
#define BLK_OPS_IDENTITY                                                                           \
	.name = "virtio-blk", .device_id = VIRTIO_ID_BLOCK, .pci_class = 0x010000, .nr_queues = 1, \
	.queue_max_size = BLK_QUEUE_SIZE, .config_size = sizeof(struct virtio_blk_config)

/* What a parsed request still needs from the backend. */
enum blk_op {
	BLK_OP_DONE,  /* answered already (status set): complete it */
	BLK_OP_READ,  /* preadv into data */
	BLK_OP_WRITE, /* pwritev from data */
	BLK_OP_FLUSH, /* fdatasync */
	BLK_OP_BAD,   /* no writable status byte: a guest error, the device needs a reset */
};

/* One request, from the popped chain to its completion. */
struct blk_req {
	struct vq_chain chain; /* its iovecs point into guest memory, trimmed in place */
	struct blk_queue *q;   /* the queue it came from, which it goes back to */
	enum blk_op op;
	uint32_t type;
	uint64_t sector;
	struct iovec *data; /* the data segments, a slice of chain.iov */
	unsigned nr_data;
	uint64_t data_len;
	uint8_t *status;  /* the chain's last byte */
	uint8_t st;	  /* VIRTIO_BLK_S_* to write there */
	uint32_t written; /* the used length: bytes written into the chain */
	uint64_t t_pop;	  /* when it was popped, for req_complete's service time (trace on) */
	bool done;	  /* in order: the backend finished it, its push waits for earlier ones */
	int next_free;
};

struct blk_uring;
struct blk_iothread;

/* One virtqueue's side of the device (virtio 1.2 §5.2.2: requestq1..N): its request slots,
 * its notification state and its eventfds. Served by one thread at a time: the vCPU that
 * notified (under lock) or the IO thread it is mapped to. */
struct blk_queue {
	struct blk_dev *b;
	struct virtqueue *vq;
	struct blk_iothread *t; /* its IO thread (iothread, uring); NULL on the vcpu path */
	pthread_mutex_t lock;	/* the vcpu path: two vCPUs may notify the same queue at once */

	/* Request slots: one for the synchronous paths, BLK_URING_DEPTH for uring. */
	struct blk_req *reqs;
	unsigned nr_reqs, inflight;
	int free_head;
	/* VIRTIO_F_IN_ORDER (vq->in_order): the slots in flight in the order they were popped.
	 * A request the backend finished is pushed only once every one before it has been. */
	uint8_t order[BLK_URING_DEPTH];
	unsigned order_head, order_len;

	bool notify_off;     /* we told the driver not to notify (vq_set_notify(vq, false)) */
	bool signal_pending; /* used entries pushed since the last interrupt decision */
	int kick_fd, call_fd;
	bool host_notifier; /* kick_fd is the queue's ioeventfd */
};

/* An IO thread (iothread, uring): it serves queues index, index + nr_threads, ... (round robin,
 * as QEMU 9's iothread-vq-mapping with a list of iothreads), each with its own io_uring. */
struct blk_iothread {
	struct blk_dev *b;
	unsigned index;
	int stop_fd;
	pthread_t thread;
	bool live; /* started and not joined yet */
	struct blk_uring *uring;
};

struct blk_dev {
	struct virtio_dev vdev;
	enum blk_io io;
	int fd;
	bool ro;
	uint64_t sectors;
	uint8_t phys_exp; /* log2(physical block / logical block), for the topology */
	char serial[VIRTIO_BLK_ID_BYTES];
	uint8_t writeback; /* the config's writeback field, once the driver wrote it */
	bool writeback_set;
	struct blk_stats stats;

	struct blk_queue q[VIRTIO_MAX_QUEUES]; /* vdev.nr_vqs of them */
	struct blk_iothread t[VIRTIO_MAX_QUEUES];
	unsigned nr_threads; /* --iothreads (iothread, uring paths) */

	/* Valid between start() and stop(). */
	bool started;  /* written on the vCPU thread only */
	bool broken;   /* a guest error: serve nothing until reset; any thread (atomic) */
	bool stopping; /* stop() is joining the IO threads (atomic) */
};

static inline bool blk_broken(struct blk_dev *b)
{
	return __atomic_load_n(&b->broken, __ATOMIC_ACQUIRE);
}

static inline void blk_set_broken(struct blk_dev *b, bool v)
{
	__atomic_store_n(&b->broken, v, __ATOMIC_RELEASE);
}

/* The write cache the driver chose: what the config space shows (blk.c) and how writes are issued
 * on every IO path (req.c, uring.c). */
static inline uint8_t blk_writeback(struct blk_dev *b)
{
	/* §5.2.5.2: CONFIG_WCE without FLUSH starts writethrough; we start writeback otherwise. */
	if (__atomic_load_n(&b->writeback_set, __ATOMIC_RELAXED))
		return __atomic_load_n(&b->writeback, __ATOMIC_RELAXED);
	return !!(b->vdev.driver_features & (1ULL << VIRTIO_BLK_F_FLUSH));
}

/* §5.2.6.2: a write is stable at completion when the driver has no way to ask for a flush
 * (neither FLUSH nor CONFIG_WCE negotiated) or it chose writethrough (writeback = 0). */
static inline bool blk_writethrough(struct blk_dev *b)
{
	uint64_t f = b->vdev.driver_features;

	if (f & (1ULL << VIRTIO_BLK_F_CONFIG_WCE))
		return blk_writeback(b) == 0;
	return !(f & (1ULL << VIRTIO_BLK_F_FLUSH));
}

/* True on a device's IO thread (defined in blk/req.c, which reads it; blk/blk.c sets it). */
extern _Thread_local bool blk_on_io_thread;

#define STAT_ADD(b, field, n) __atomic_fetch_add(&(b)->stats.field, (n), __ATOMIC_RELAXED)

/* blk/req.c: parsing, serving and completing requests, the pop loop, interrupts; per queue. */
int blk_kick(struct blk_queue *q);
void blk_req_end(struct blk_req *r, ssize_t res);
void blk_signal(struct blk_queue *q);
void blk_reqs_reset(struct blk_queue *q);

/* blk/iothread.c: the IO threads' lifecycle. Start nr_threads threads and wire each queue's
 * ioeventfd and irqfd (where the transport can); 0 or -errno (everything undone). */
int blk_threads_up(struct blk_dev *b);
/* Stop and join them, wait for what io_uring has in flight, unwire and close. Any state. */
void blk_threads_down(struct blk_dev *b);

/* blk/blk.c: the dataplane's teardown, shared by the IO thread and vhost-user paths. Tell a
 * thread to stop (one write to stop_fd) and join it, if *live; */
void blk_join(pthread_t thread, bool *live, int stop_fd);
/* unwire vq's ioeventfd (if *host_notifier) and irqfd (if irqfd), close the three eventfds. */
void blk_unwire(struct virtio_dev *vdev, struct virtqueue *vq, bool *host_notifier, bool irqfd,
		int *kick_fd, int *call_fd, int *stop_fd);

/* blk/uring.c: the io_uring backend, one ring per IO thread (entries: depth per queue it
 * serves); without liburing, init says -ENOTSUP. */
bool blk_uring_built(void);
int blk_uring_init(struct blk_iothread *t, unsigned entries);
int blk_uring_fd(struct blk_iothread *t);
int blk_uring_submit(struct blk_iothread *t, struct blk_req *r); /* prepare; flush sends */
void blk_uring_flush(struct blk_iothread *t);
/* The next request the kernel completed and what its IO returned (bytes or -errno), or NULL when
 * none is waiting; the caller completes it (blk_req_end). */
struct blk_req *blk_uring_reap(struct blk_iothread *t, ssize_t *res);
/* Completions are waiting (a read the page cache served finished inside the submit). */
bool blk_uring_ready(struct blk_iothread *t);
/* Requests are in flight (handed to the kernel, or queued for it, not yet reaped). */
bool blk_uring_busy(struct blk_iothread *t);
void blk_uring_fini(struct blk_iothread *t); /* waits for what is in flight, then frees */

/* blk/vhost-user-blk.c: the device over a vhost-user backend (BLK_IO_VHOST_USER). */
int blk_vhost_user_create(struct vm *vm, const struct blk_config *cfg, struct virtio_dev **out);
bool blk_vhost_user_is(const struct virtio_dev *vdev);
void blk_vhost_user_destroy(struct virtio_dev *vdev);

#endif
