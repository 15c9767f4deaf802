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

/* A kick of n on q's eventfd: with ioeventfd each guest notify added one to the counter. */
static void kick_seen(struct blk_dev *b, struct blk_queue *q, eventfd_t n)
{
	if (!q->host_notifier)
		return;
	STAT_ADD(b, notifies, n);
	TRACE(QUEUE_NOTIFY, b->vdev.trace_id, q->vq->index, TRACE_VIA_IOEVENTFD,
	      vq_avail_idx(q->vq));
}

static void take_kick(struct blk_dev *b, struct blk_queue *q)
{
	eventfd_t v;

	if (eventfd_read(q->kick_fd, &v) == 0)
		kick_seen(b, q, v);
}

/* The thread's one queue when it serves one, else NULL. Such a thread sleeps in read() on the
 * queue's eventfd whenever it has nothing in flight (wait_work), one system call a wakeup where
 * poll() and read() were two, and blk_threads_down() wakes it through that same eventfd. */
static struct blk_queue *lone_queue(struct blk_iothread *t)
{
	struct blk_dev *b = t->b;

	if (t->index + b->nr_threads < b->vdev.nr_vqs)
		return NULL;
	return &b->q[t->index];
}

/* Sleep until q's eventfd is written; false when the write was blk_threads_down()'s. */
static bool wait_lone_kick(struct blk_dev *b, struct blk_queue *q)
{
	eventfd_t v;

	while (eventfd_read(q->kick_fd, &v) < 0)
		if (errno != EINTR) {
			perror("kvmscope: virtio-blk IO thread: read");
			return false;
		}
	/* stopping is stored before the waking write: a stop and a notify read as one are a stop,
	 * as they are on the poll() path (the device is being reset). */
	if (__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE))
		return false;
	kick_seen(b, q, v);
	return true;
}

/* Sleep until a kick on one of t's queues, a completion (uring) or stop, and take the kicks;
 * false on stop. A uring thread waits for its ring only while it has requests in flight: at
 * depth 1 the page cache's reads complete inside the submit, and it sleeps in read() as the
 * iothread path does. */
static bool wait_work(struct blk_iothread *t, struct pollfd *pfd, unsigned n)
{
	struct blk_dev *b = t->b;
	struct blk_queue *lq = lone_queue(t);
	unsigned i = 2;

	if (lq && !(t->uring && blk_uring_busy(t)))
		return wait_lone_kick(b, lq);
	while (poll(pfd, n, -1) < 0)
		if (errno != EINTR) {
			perror("kvmscope: virtio-blk IO thread: poll");
			return false;
		}
	/* blk_threads_down() may have woken a lone queue's thread through its eventfd first */
	if (pfd[0].revents || __atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE))
		return false;
	FOR_THREAD_QUEUE(b, t, q)
	if (pfd[i++].revents)
		take_kick(b, q);
	return true;
}

/* The IO thread: wait for work (wait_work), then pop, serve, push, signal. */
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
	while (!blk_broken(b) && wait_work(t, pfd, n)) {
		/* uring: reads the page cache holds complete inside the submit; complete them and
		 * look at the rings again now, not after one more poll(). The loop ends with no
		 * completion waiting, so poll() wakes for the next one. */
		do {
			if (t->uring)
				while ((r = blk_uring_reap(t, &res)))
					blk_req_end(r, res);
			FOR_THREAD_QUEUE(b, t, q)
			blk_kick(q);
			if (t->uring)
				blk_uring_flush(t);
		} while (t->uring && !blk_broken(b) && blk_uring_ready(t));
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
		struct blk_queue *lq = lone_queue(t);

		if (t->live && lq)
			eventfd_write(lq->kick_fd, 1); /* it may sleep there; stopping is set */
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
	/* Blocking: a thread serving this queue alone sleeps in read() on it (lone_queue). */
	q->kick_fd = eventfd(0, EFD_CLOEXEC);
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
