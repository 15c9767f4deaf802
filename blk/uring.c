/* blk/uring.c - the io_uring backend: the IO thread prepares reads, writes and flushes, submits
 * them in one system call per batch, and completes them from the completion queue. The ring also
 * carries the thread's own waiting: a read on each queue's kick eventfd and one on the stop
 * eventfd are always queued, and an interrupt is a write to the queue's irqfd queued with the
 * next submit, so the thread's one io_uring_enter() a pass submits, signals and sleeps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "blk/internal.h"

#ifdef HAVE_LIBURING
#include <liburing.h>

struct blk_uring {
	struct io_uring ring;
	unsigned prepared; /* in the submission queue, not yet handed to the kernel */
	unsigned inflight; /* requests handed to the kernel (or prepared), not yet completed */
	bool skip_cqe;	   /* IORING_FEAT_CQE_SKIP: an interrupt's write can leave no completion */
	bool stopped;	   /* the stop eventfd's read completed */
	eventfd_t stop_val;
};

/* What a completion is: user_data is a blk_req (aligned: low bits 0) or one of these tags in
 * the low bits of a blk_queue or the thread. */
#define TAG_KICK 1 /* a blk_queue: its kick eventfd's read */
#define TAG_STOP 2 /* the blk_iothread: its stop eventfd's read */
#define TAG_IRQ	 3 /* a blk_queue: a write to its irqfd, completed only when it failed */
#define TAG_MASK 3ul
_Static_assert(_Alignof(struct blk_queue) > TAG_MASK && _Alignof(struct blk_iothread) > TAG_MASK &&
		   _Alignof(struct blk_req) > TAG_MASK,
	       "the tags live in the pointers' low bits");

static struct io_uring_sqe *get_sqe(struct blk_uring *u, void *p, unsigned long tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		return NULL;
	io_uring_sqe_set_data(sqe, (void *)((uintptr_t)p | tag));
	u->prepared++;
	return sqe;
}

bool blk_uring_built(void)
{
	return true;
}

int blk_uring_init(struct blk_iothread *t, unsigned entries)
{
	struct blk_uring *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	/* The slot pools of the thread's queues are no larger than the ring: a submission never
	 * finds it full. */
	r = io_uring_queue_init(entries, &u->ring, 0);
	if (r < 0) {
		free(u);
		return r;
	}
	u->skip_cqe = u->ring.features & IORING_FEAT_CQE_SKIP;
	t->uring = u;
	return 0;
}

/* Queue a read of fd's counter into *val; its completion says the eventfd was written. The
 * eventfd is non-blocking: the kernel arms a poll on it, no worker thread waits in read(). */
static int watch(struct blk_uring *u, int fd, eventfd_t *val, void *p, unsigned long tag)
{
	struct io_uring_sqe *sqe = get_sqe(u, p, tag);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, fd, val, sizeof(*val), 0);
	return 0;
}

int blk_uring_watch(struct blk_iothread *t, struct blk_queue *q)
{
	return q ? watch(t->uring, q->kick_fd, &q->kick_val, q, TAG_KICK)
		 : watch(t->uring, t->stop_fd, &t->uring->stop_val, t, TAG_STOP);
}

int blk_uring_signal(struct blk_iothread *t, struct blk_queue *q)
{
	static const eventfd_t one = 1;
	struct blk_uring *u = t->uring;
	struct io_uring_sqe *sqe;

	if (!u->skip_cqe) /* a completion for every interrupt would wake the thread again */
		return -ENOTSUP;
	sqe = get_sqe(u, q, TAG_IRQ);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_write(sqe, q->call_fd, &one, sizeof(one), 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	return 0;
}

int blk_uring_submit(struct blk_iothread *t, struct blk_req *r)
{
	struct blk_uring *u = t->uring;
	struct blk_dev *b = t->b;
	uint64_t off = r->sector * 512;
	struct io_uring_sqe *sqe;

	if (r->op != BLK_OP_READ && r->op != BLK_OP_WRITE && r->op != BLK_OP_FLUSH)
		return -EINVAL;
	sqe = get_sqe(u, r, 0);
	if (!sqe)
		return -EBUSY; /* the caller serves it synchronously */
	if (r->op == BLK_OP_READ)
		io_uring_prep_readv(sqe, b->fd, r->data, r->nr_data, off);
	else if (r->op == BLK_OP_WRITE)
		io_uring_prep_writev2(sqe, b->fd, r->data, r->nr_data, off,
				      blk_writethrough(b) ? RWF_DSYNC : 0);
	else
		/* Covers every write completed before it (§5.2.6.2): those are in the page cache.
		 */
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
	u->inflight++;
	return 0;
}

void blk_uring_flush(struct blk_iothread *t)
{
	struct blk_uring *u = t->uring;
	int r;

	if (!u->prepared)
		return;
	r = io_uring_submit(&u->ring);
	if (r < 0) {
		/* The entries stay queued: the next flush tries again. */
		fprintf(stderr, "kvmscope: virtio-blk: io_uring_submit: %s\n", strerror(-r));
		return;
	}
	u->prepared = 0;
}

bool blk_uring_wait(struct blk_iothread *t)
{
	struct blk_uring *u = t->uring;
	int r;

	while ((r = io_uring_submit_and_wait(&u->ring, 1)) < 0 && r != -EBUSY)
		if (r != -EINTR) {
			fprintf(stderr, "kvmscope: virtio-blk IO thread: io_uring_enter: %s\n",
				strerror(-r));
			return false;
		}
	/* -EBUSY: the completion queue is full; what was not submitted stays queued */
	if (r >= 0)
		u->prepared = 0;
	return true;
}

/* A kick: count it, queue the next read of its eventfd. A read that failed is not queued again
 * (it would fail at once, for ever): the queue is then served only when another wakes the thread. */
static void kicked(struct blk_iothread *t, struct blk_queue *q, int res)
{
	if (res == sizeof(eventfd_t))
		blk_kick_seen(t->b, q, q->kick_val);
	else if (res < 0 && res != -EINTR && res != -EAGAIN) {
		fprintf(stderr, "kvmscope: virtio-blk IO thread: queue %u: reading its kick: %s\n",
			q->vq->index, strerror(-res));
		return;
	}
	if (blk_uring_watch(t, q) < 0) /* cannot be: the ring has room for every watch */
		fprintf(stderr, "kvmscope: virtio-blk IO thread: queue %u: no room to watch it\n",
			q->vq->index);
}

struct blk_req *blk_uring_reap(struct blk_iothread *t, ssize_t *res)
{
	struct blk_uring *u = t->uring;
	struct io_uring_cqe *cqe;
	uintptr_t p;

	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		p = (uintptr_t)io_uring_cqe_get_data(cqe);
		*res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		switch (p & TAG_MASK) {
		case 0:
			u->inflight--;
			return (struct blk_req *)p;
		case TAG_KICK:
			kicked(t, (struct blk_queue *)(p & ~TAG_MASK), *res);
			break;
		case TAG_STOP:
			u->stopped = true;
			break;
		case TAG_IRQ: /* the write failed: the interrupt must still go */
			eventfd_write(((struct blk_queue *)(p & ~TAG_MASK))->call_fd, 1);
			break;
		}
	}
	return NULL;
}

bool blk_uring_ready(struct blk_iothread *t)
{
	return io_uring_cq_ready(&t->uring->ring) > 0;
}

bool blk_uring_stopped(struct blk_iothread *t)
{
	return t->uring->stopped;
}

void blk_uring_fini(struct blk_iothread *t)
{
	struct blk_uring *u = t->uring;
	struct io_uring_cqe *cqe;
	int r;

	if (!u)
		return;
	/* Let every request land (the kernel writes into guest memory), publish none of them:
	 * the device is being reset, its rings are about to be forgotten. */
	if (u->prepared)
		io_uring_submit(&u->ring);
	while (u->inflight) {
		r = io_uring_wait_cqe(&u->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0)
			break; /* io_uring_queue_exit() still waits for the kernel's side */
		if (((uintptr_t)io_uring_cqe_get_data(cqe) & TAG_MASK) == 0)
			u->inflight--; /* a kick now is not served: the device is being reset */
		io_uring_cqe_seen(&u->ring, cqe);
	}
	io_uring_queue_exit(&u->ring);
	free(u);
	t->uring = NULL;
}

#else /* !HAVE_LIBURING */

bool blk_uring_built(void)
{
	return false;
}

int blk_uring_init(struct blk_iothread *t, unsigned entries)
{
	(void)t;
	(void)entries;
	return -ENOTSUP;
}

int blk_uring_watch(struct blk_iothread *t, struct blk_queue *q)
{
	(void)t;
	(void)q;
	return -ENOTSUP;
}

int blk_uring_signal(struct blk_iothread *t, struct blk_queue *q)
{
	(void)t;
	(void)q;
	return -ENOTSUP;
}

bool blk_uring_wait(struct blk_iothread *t)
{
	(void)t;
	return false;
}

bool blk_uring_stopped(struct blk_iothread *t)
{
	(void)t;
	return true;
}

int blk_uring_submit(struct blk_iothread *t, struct blk_req *r)
{
	(void)t;
	(void)r;
	return -ENOTSUP;
}

void blk_uring_flush(struct blk_iothread *t)
{
	(void)t;
}

struct blk_req *blk_uring_reap(struct blk_iothread *t, ssize_t *res)
{
	(void)t;
	(void)res;
	return NULL;
}

bool blk_uring_ready(struct blk_iothread *t)
{
	(void)t;
	return false;
}

void blk_uring_fini(struct blk_iothread *t)
{
	(void)t;
}

#endif
