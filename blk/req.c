/* blk/req.c - virtio-blk requests (virtio 1.2 §5.2.6): parse a chain, serve it, complete it;
 * the pop loop every IO path shares; the interrupt decision. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "blk/internal.h"
#include "trace/trace.h"

#define SECTOR 512u

/* Copy up to len bytes from the front of an iovec array and advance past them. */
static size_t iov_pull(struct iovec **iov, unsigned *n, void *buf, size_t len)
{
	size_t done = 0, k;

	while (*n && done < len) {
		k = (*iov)->iov_len < len - done ? (*iov)->iov_len : len - done;
		memcpy((uint8_t *)buf + done, (*iov)->iov_base, k);
		done += k;
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + k;
		(*iov)->iov_len -= k;
		if ((*iov)->iov_len == 0) {
			(*iov)++;
			(*n)--;
		}
	}
	return done;
}

/* Copy buf into an iovec array; returns the bytes copied. */
static size_t iov_put(const struct iovec *iov, unsigned n, const void *buf, size_t len)
{
	size_t done = 0, k;

	for (; n && done < len; iov++, n--) {
		k = iov->iov_len < len - done ? iov->iov_len : len - done;
		memcpy(iov->iov_base, (const uint8_t *)buf + done, k);
		done += k;
	}
	return done;
}

static enum blk_op answer(struct blk_req *r, uint8_t st)
{
	r->st = st;
	return BLK_OP_DONE;
}

_Thread_local bool blk_on_io_thread;

static bool range_ok(struct blk_dev *b, uint64_t sector, uint64_t nr_sectors)
{
	return sector <= b->sectors && nr_sectors <= b->sectors - sector;
}

/* IN and OUT: whole sectors inside the disk (§5.2.6.2: beyond capacity is an IOERR). */
static enum blk_op rw_check(struct blk_dev *b, struct blk_req *r, enum blk_op op)
{
	if (r->data_len % SECTOR || !range_ok(b, r->sector, r->data_len / SECTOR))
		return answer(r, VIRTIO_BLK_S_IOERR);
	return op;
}

/* Zero [off, off + len) by hand where fallocate cannot (tmpfs has no ZERO_RANGE). */
static int write_zeroes_by_hand(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[65536];
	ssize_t n;

	while (len) {
		n = pwrite(fd, zeroes, len < sizeof(zeroes) ? len : sizeof(zeroes), off);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += n;
		len -= n;
	}
	return 0;
}

static int do_discard_wz(struct blk_dev *b, const struct virtio_blk_discard_write_zeroes *s,
			 bool zeroes)
{
	uint64_t off = le64toh(s->sector) * SECTOR,
		 len = (uint64_t)le32toh(s->num_sectors) * SECTOR;
	bool unmap = le32toh(s->flags) & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	int mode = FALLOC_FL_KEEP_SIZE;

	if (len == 0)
		return 0;
	/* A punched hole reads back as zeroes, so write zeroes with unmap may punch too. */
	mode |= (!zeroes || unmap) ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE;
	if (fallocate(b->fd, mode, off, len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EINVAL)
		return -errno;
	if (!zeroes)
		return 0; /* §5.2.6.2: a discard MAY deallocate: doing nothing is correct */
	return write_zeroes_by_hand(b->fd, off, len);
}

/* DISCARD and WRITE_ZEROES: a table of segments, all checked before any is applied. */
static enum blk_op discard_wz(struct blk_dev *b, struct blk_req *r, struct iovec *iov, unsigned n)
{
	struct virtio_blk_discard_write_zeroes segs[BLK_MAX_DISCARD_SEG];
	bool zeroes = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint32_t max_sect = zeroes ? BLK_MAX_WZEROES_SECT : BLK_MAX_DISCARD_SECT;
	uint32_t flags, bad_flags;
	uint64_t len = r->chain.out_bytes - sizeof(struct virtio_blk_outhdr);
	unsigned nr = len / sizeof(segs[0]), i;

	if (zeroes)
		STAT_ADD(b, write_zeroes, 1);
	else
		STAT_ADD(b, discards, 1);
	if (b->ro || len == 0 || len % sizeof(segs[0]) || nr > BLK_MAX_DISCARD_SEG)
		return answer(r, VIRTIO_BLK_S_IOERR);
	iov_pull(&iov, &n, segs, len);
	/* §5.2.6.2: unknown flags, or unmap on a discard, are UNSUPP. */
	bad_flags = ~(uint32_t)(zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0);
	for (i = 0; i < nr; i++) {
		flags = le32toh(segs[i].flags);
		if (flags & bad_flags)
			return answer(r, VIRTIO_BLK_S_UNSUPP);
		if (le32toh(segs[i].num_sectors) > max_sect ||
		    !range_ok(b, le64toh(segs[i].sector), le32toh(segs[i].num_sectors)))
			return answer(r, VIRTIO_BLK_S_IOERR);
	}
	for (i = 0; i < nr; i++)
		if (do_discard_wz(b, &segs[i], zeroes) < 0)
			return answer(r, VIRTIO_BLK_S_IOERR);
	return answer(r, VIRTIO_BLK_S_OK);
}

/* Split the chain into header, data and status, check it, and answer what needs no IO. */
static enum blk_op req_begin(struct blk_dev *b, struct blk_req *r)
{
	struct vq_chain *c = &r->chain;
	struct virtio_blk_outhdr hdr;
	struct iovec *iov = c->iov, *last;
	unsigned n = c->nr_out;

	r->written = 1;
	r->data_len = 0;
	r->type = ~0u;
	/* §5.2.6: the last byte is the device-writable status. Without one we cannot even say
	 * IOERR: the driver broke the framing, so the device needs a reset (§2.1.2). */
	if (c->nr_in == 0)
		return BLK_OP_BAD;
	last = &c->iov[c->nr_out + c->nr_in - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	last->iov_len--;
	/* A short header still has a status byte to carry the error: IOERR, the device lives. */
	if (iov_pull(&iov, &n, &hdr, sizeof(hdr)) < sizeof(hdr))
		return answer(r, VIRTIO_BLK_S_IOERR);
	r->type = le32toh(hdr.type);
	r->sector = le64toh(hdr.sector);

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		STAT_ADD(b, reads, 1);
		r->data = c->iov + c->nr_out;
		r->nr_data = c->nr_in;
		r->data_len = c->in_bytes - 1;
		return rw_check(b, r, BLK_OP_READ);
	case VIRTIO_BLK_T_OUT:
		STAT_ADD(b, writes, 1);
		r->data = iov;
		r->nr_data = n;
		r->data_len = c->out_bytes - sizeof(hdr);
		if (b->ro) /* §5.2.6.2: IOERR and no data written */
			return answer(r, VIRTIO_BLK_S_IOERR);
		return rw_check(b, r, BLK_OP_WRITE);
	case VIRTIO_BLK_T_FLUSH:
		STAT_ADD(b, flushes, 1);
		return BLK_OP_FLUSH;
	case VIRTIO_BLK_T_GET_ID:
		STAT_ADD(b, get_ids, 1);
		/* NUL-padded, no terminator at 20 bytes: exactly our serial buffer. */
		r->written += iov_put(c->iov + c->nr_out, c->nr_in, b->serial, sizeof(b->serial));
		return answer(r, VIRTIO_BLK_S_OK);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return discard_wz(b, r, iov, n);
	default:
		return answer(r, VIRTIO_BLK_S_UNSUPP);
	}
}

/* The IO itself, on the calling thread: bytes transferred or -errno. */
static ssize_t req_io_sync(struct blk_dev *b, struct blk_req *r)
{
	off_t off = (off_t)(r->sector * SECTOR);
	ssize_t n;

	switch (r->op) {
	case BLK_OP_READ:
		n = preadv(b->fd, r->data, r->nr_data, off);
		break;
	case BLK_OP_WRITE:
		n = pwritev2(b->fd, r->data, r->nr_data, off, blk_writethrough(b) ? RWF_DSYNC : 0);
		break;
	case BLK_OP_FLUSH:
		n = fdatasync(b->fd);
		break;
	default:
		return 0;
	}
	return n < 0 ? -errno : n;
}

static struct blk_req *req_get(struct blk_queue *q)
{
	struct blk_req *r;

	if (q->free_head < 0)
		return NULL;
	r = &q->reqs[q->free_head];
	q->free_head = r->next_free;
	q->inflight++;
	return r;
}

static void req_put(struct blk_queue *q, struct blk_req *r)
{
	r->next_free = q->free_head;
	q->free_head = r - q->reqs;
	q->inflight--;
}

/* Publish r in the used ring and free its slot. */
static void req_push(struct blk_queue *q, struct blk_req *r)
{
	/* Fails only if the driver moved the used ring under us; a reset is on its way then. */
	if (vq_push(q->vq, &r->chain, r->written) == 0)
		q->signal_pending = true;
	req_put(q, r);
}

/* virtio 1.2 §2.7.9 / §2.8.8, VIRTIO_F_IN_ORDER: buffers are used in the order they were made
 * available. The uring path finishes requests in any order (and answers some at once while
 * earlier reads are in flight), so a finished request waits here for the ones popped before
 * it; each still gets its own used entry (no batching: docs/packed.md says why). */
static void req_push_in_order(struct blk_queue *q, struct blk_req *r)
{
	r->done = true;
	while (q->order_len && q->reqs[q->order[q->order_head]].done) {
		struct blk_req *first = &q->reqs[q->order[q->order_head]];

		q->order_head = (q->order_head + 1) % BLK_URING_DEPTH;
		q->order_len--;
		first->done = false;
		req_push(q, first);
	}
}

/* Complete r: write its status byte, publish it in the used ring (in order if negotiated),
 * free its slot. res is what the IO returned (bytes or -errno); a short transfer is an
 * IOERR. */
void blk_req_end(struct blk_req *r, ssize_t res)
{
	struct blk_queue *q = r->q;
	struct blk_dev *b = q->b;

	if (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE || r->op == BLK_OP_FLUSH) {
		bool ok = r->op == BLK_OP_FLUSH ? res == 0 : res == (ssize_t)r->data_len;

		r->st = ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		if (ok && r->op == BLK_OP_READ) {
			r->written += r->data_len;
			STAT_ADD(b, bytes_read, r->data_len);
		} else if (ok && r->op == BLK_OP_WRITE) {
			STAT_ADD(b, bytes_written, r->data_len);
		}
	}
	TRACE(REQ_COMPLETE, b->vdev.trace_id, TRACE_PAIR(q->vq->index, r->chain.head), r->st,
	      r->t_pop ? trace_now_ns() - r->t_pop : 0, r->written);
	if (r->st == VIRTIO_BLK_S_IOERR)
		STAT_ADD(b, ioerr, 1);
	else if (r->st == VIRTIO_BLK_S_UNSUPP)
		STAT_ADD(b, unsupp, 1);
	STAT_ADD(b, requests, 1);
	*r->status = r->st;
	if (q->vq->in_order)
		req_push_in_order(q, r);
	else
		req_push(q, r);
}

void blk_reqs_reset(struct blk_queue *q)
{
	unsigned i;

	for (i = 0; i < q->nr_reqs; i++)
		q->reqs[i].next_free = i + 1 < q->nr_reqs ? (int)i + 1 : -1;
	q->free_head = 0;
	q->inflight = 0;
	q->order_head = q->order_len = 0;
	for (i = 0; i < q->nr_reqs; i++)
		q->reqs[i].done = false;
	q->notify_off = false;
	q->signal_pending = false;
}

static int guest_error(struct blk_dev *b, const char *why)
{
	STAT_ADD(b, guest_errors, 1);
	blk_set_broken(b, true);
	if (!blk_on_io_thread) {
		virtio_needs_reset(&b->vdev, why); /* the vCPU thread: vdev->lock is recursive */
		return -EINVAL;
	}
	/* A reset may hold vdev->lock while it joins this thread: never block on it. When a
	 * stop is under way the reset does what NEEDS_RESET would have asked for. */
	while (!__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE)) {
		if (pthread_mutex_trylock(&b->vdev.lock) == 0) {
			virtio_needs_reset(&b->vdev, why);
			pthread_mutex_unlock(&b->vdev.lock);
			break;
		}
		nanosleep(&(struct timespec){0, 100000}, NULL);
	}
	return -EINVAL;
}

/* Pop and start requests until the avail ring is empty or every slot is in flight (then a
 * completion calls us again). Notifications stay off while we pop and are re-enabled before
 * we rest, with one more look at the ring, so a buffer added in between is never missed
 * (virtio 1.2 §2.7.10). 0, or -EINVAL after a guest error (the device now needs a reset). */
int blk_kick(struct blk_queue *q)
{
	struct blk_dev *b = q->b;
	struct virtqueue *vq = q->vq;
	struct blk_req *r;
	int n;

	while (!blk_broken(b) && (r = req_get(q))) {
		n = vq_pop(vq, &r->chain);
		if (n <= 0) {
			req_put(q, r);
			if (n < 0)
				return guest_error(b, r->chain.fault
							  ? r->chain.fault
							  : "malformed descriptor chain");
			if (!q->notify_off)
				return 0;
			vq_set_notify(vq, true); /* then look once more: the loop goes on */
			q->notify_off = false;
			continue;
		}
		if (!q->notify_off) {
			vq_set_notify(vq, false);
			q->notify_off = true;
		}
		/* The most in flight on one queue (each queue has its own slots). */
		if (q->inflight > __atomic_load_n(&b->stats.max_inflight, __ATOMIC_RELAXED))
			__atomic_store_n(&b->stats.max_inflight, q->inflight, __ATOMIC_RELAXED);
		r->q = q;
		r->op = req_begin(b, r);
		r->t_pop = trace_on(TRACE_EV_REQ_COMPLETE) ? trace_now_ns() : 0;
		TRACE(CHAIN_POP, b->vdev.trace_id, TRACE_PAIR(vq->index, r->chain.head), r->type,
		      r->sector, TRACE_PAIR(r->data_len ? r->nr_data : 0, r->data_len));
		if (r->op == BLK_OP_BAD) {
			req_put(q, r);
			return guest_error(b, "request without a writable status byte");
		}
		if (vq->in_order) /* its place in the line of used entries */
			q->order[(q->order_head + q->order_len++) % BLK_URING_DEPTH] =
			    (uint8_t)(r - q->reqs);
		if (r->op != BLK_OP_DONE && q->t && q->t->uring && blk_uring_submit(q->t, r) == 0)
			continue;
		blk_req_end(r, req_io_sync(b, r));
	}
	return blk_broken(b) ? -EINVAL : 0;
}

/* After completions: one interrupt for the batch, if the driver wants one (§2.7.7). */
void blk_signal(struct blk_queue *q)
{
	struct blk_dev *b = q->b;
	struct virtqueue *vq = q->vq;

	if (!q->signal_pending)
		return;
	q->signal_pending = false;
	if (!vq_should_signal(vq)) {
		STAT_ADD(b, irqs_suppressed, 1);
		return;
	}
	STAT_ADD(b, irqs_signalled, 1);
	if (q->call_fd >= 0) {
		eventfd_write(q->call_fd, 1); /* irqfd: KVM injects it, no exit to us */
		b->vdev.transport->traced_guest_notifier(&b->vdev, vq);
	} else {
		b->vdev.transport->signal_vq(&b->vdev, vq);
	}
}
