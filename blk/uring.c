/* blk/uring.c - the io_uring backend: the IO thread prepares reads, writes and flushes, submits
 * them in one system call per batch, and completes them from the completion queue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk/internal.h"

#ifdef HAVE_LIBURING
#include <liburing.h>

struct blk_uring {
	struct io_uring ring;
	unsigned prepared; /* in the submission queue, not yet handed to the kernel */
	unsigned inflight; /* handed to the kernel (or prepared), not yet completed */
};

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
	t->uring = u;
	return 0;
}

int blk_uring_fd(struct blk_iothread *t)
{
	return t->uring->ring.ring_fd;
}

int blk_uring_submit(struct blk_iothread *t, struct blk_req *r)
{
	struct blk_uring *u = t->uring;
	struct blk_dev *b = t->b;
	uint64_t off = r->sector * 512;
	struct io_uring_sqe *sqe;

	if (r->op != BLK_OP_READ && r->op != BLK_OP_WRITE && r->op != BLK_OP_FLUSH)
		return -EINVAL;
	sqe = io_uring_get_sqe(&u->ring);
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
	io_uring_sqe_set_data(sqe, r);
	u->prepared++;
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

struct blk_req *blk_uring_reap(struct blk_iothread *t, ssize_t *res)
{
	struct blk_uring *u = t->uring;
	struct io_uring_cqe *cqe;
	struct blk_req *r;

	if (io_uring_peek_cqe(&u->ring, &cqe) != 0)
		return NULL;
	r = io_uring_cqe_get_data(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	u->inflight--;
	return r;
}

bool blk_uring_ready(struct blk_iothread *t)
{
	return io_uring_cq_ready(&t->uring->ring) > 0;
}

bool blk_uring_busy(struct blk_iothread *t)
{
	return t->uring->inflight > 0;
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
		io_uring_cqe_seen(&u->ring, cqe);
		u->inflight--;
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

int blk_uring_fd(struct blk_iothread *t)
{
	(void)t;
	return -1;
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

bool blk_uring_busy(struct blk_iothread *t)
{
	(void)t;
	return false;
}

void blk_uring_fini(struct blk_iothread *t)
{
	(void)t;
}

#endif
