/* blk/iothread.c - the dataplane's IO threads (--blk-io iothread and uring): each queue's
 * notifies arrive on its own eventfd (KVM's ioeventfd) and its interrupts leave on another
 * (irqfd); --iothreads threads serve the queues round robin, each with its own io_uring. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blk/internal.h"
#include "trace/trace.h"

/* The queues thread t serves: t->index, t->index + nr_threads, ... */
#define FOR_THREAD_QUEUE(b, t, q)                                                                  \
	for (struct blk_queue *q = &(b)->q[(t)->index]; q < &(b)->q[(b)->vdev.nr_vqs];             \
	     q += (b)->nr_threads)

/* A kick on q's eventfd: with ioeventfd each guest notify added one to the counter. */
static void take_kick(struct blk_dev *b, struct blk_queue *q)
{
	eventfd_t v;

	if (eventfd_read(q->kick_fd, &v) == 0 && q->host_notifier) {
		STAT_ADD(b, notifies, v);
		TRACE(QUEUE_NOTIFY, b->vdev.trace_id, q->vq->index, TRACE_VIA_IOEVENTFD,
		      vq_avail_idx(q->vq));
	}
}

/* The IO thread: wait for a kick on one of its queues, a completion (uring) or stop; pop,
 * serve, push, signal. */
static void *io_thread(void *arg)
{
	struct blk_iothread *t = arg;
	struct blk_dev *b = t->b;
	struct pollfd pfd[VIRTIO_MAX_QUEUES + 2] = {
	    {.fd = t->stop_fd, .events = POLLIN},
	    {.fd = t->uring ? blk_uring_fd(t) : -1, .events = POLLIN},
	};
	unsigned n = 2;
	struct blk_req *r;
	ssize_t res;

	FOR_THREAD_QUEUE(b, t, q)
	pfd[n++] = (struct pollfd){.fd = q->kick_fd, .events = POLLIN};
	blk_on_io_thread = true;
	trace_thread_set(TRACE_THREAD_IO, t->index);
	while (!blk_broken(b)) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("kvmscope: virtio-blk IO thread: poll");
			break;
		}
		if (pfd[0].revents)
			break;
		unsigned i = 2;
		FOR_THREAD_QUEUE(b, t, q)
		if (pfd[i++].revents)
			take_kick(b, q);
		if (t->uring)
			while ((r = blk_uring_reap(t, &res)))
				blk_req_end(r, res);
		FOR_THREAD_QUEUE(b, t, q)
		blk_kick(q);
		if (t->uring)
			blk_uring_flush(t);
		FOR_THREAD_QUEUE(b, t, q)
		blk_signal(q);
	}
	/* What is in flight writes into guest memory: it must land before the reset completes. */
	if (t->uring)
		blk_uring_fini(t);
	return NULL;
}

void blk_join(pthread_t thread, bool *live, int stop_fd)
{
	if (!*live)
		return;
	eventfd_write(stop_fd, 1);
	pthread_join(thread, NULL);
	*live = false;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void blk_unwire(struct virtio_dev *vdev, struct virtqueue *vq, bool *host_notifier, bool irqfd,
		int *kick_fd, int *call_fd, int *stop_fd)
{
	if (*host_notifier)
		virtio_set_host_notifier(vdev, vq, -1);
	if (irqfd)
		virtio_set_guest_notifier(vdev, vq, -1);
	*host_notifier = false;
	close_fd(kick_fd);
	close_fd(call_fd);
	close_fd(stop_fd);
}

void blk_threads_down(struct blk_dev *b)
{
	int none = -1;

	for (unsigned i = 0; i < b->nr_threads; i++)
		if (b->t[i].live)
			__atomic_store_n(&b->stopping, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < b->nr_threads; i++) {
		struct blk_iothread *t = &b->t[i];

		blk_join(t->thread, &t->live, t->stop_fd);
		if (t->uring)
			blk_uring_fini(t);
		close_fd(&t->stop_fd);
	}
	for (unsigned i = 0; i < b->vdev.nr_vqs; i++) {
		struct blk_queue *q = &b->q[i];

		blk_unwire(&b->vdev, q->vq, &q->host_notifier, q->call_fd >= 0, &q->kick_fd,
			   &q->call_fd, &none);
	}
}

/* Queue q's eventfds; either notifier may fail (a legacy port, INTx): queue_notify kicks the
 * eventfd itself, and the interrupt goes through the transport's signal_vq. */
static int queue_wire(struct blk_dev *b, struct blk_queue *q)
{
	q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick_fd < 0 || q->call_fd < 0)
		return -errno;
	q->host_notifier = virtio_set_host_notifier(&b->vdev, q->vq, q->kick_fd) == 0;
	if (virtio_set_guest_notifier(&b->vdev, q->vq, q->call_fd) < 0)
		close_fd(&q->call_fd);
	return 0;
}

int blk_threads_up(struct blk_dev *b)
{
	unsigned i;
	int r = 0;

	__atomic_store_n(&b->stopping, false, __ATOMIC_RELAXED);
	for (i = 0; i < b->vdev.nr_vqs && r == 0; i++) {
		b->q[i].t = &b->t[i % b->nr_threads];
		r = queue_wire(b, &b->q[i]);
	}
	for (i = 0; i < b->nr_threads && r == 0; i++) {
		struct blk_iothread *t = &b->t[i];
		unsigned nq = (b->vdev.nr_vqs - i + b->nr_threads - 1) / b->nr_threads;

		t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->stop_fd < 0)
			r = -errno;
		else if (b->io == BLK_IO_URING)
			r = blk_uring_init(t, nq * BLK_URING_DEPTH);
	}
	b->started = r == 0;
	for (i = 0; i < b->nr_threads && r == 0; i++) {
		r = -pthread_create(&b->t[i].thread, NULL, io_thread, &b->t[i]);
		b->t[i].live = r == 0;
	}
	if (r == 0)
		return 0;
	fprintf(stderr, "kvmscope: virtio-blk: cannot start the %s backend: %s\n",
		blk_io_name(b->io), strerror(-r));
	b->started = false;
	blk_threads_down(b);
	return r;
}
