/* blk/blk.c - the virtio-blk device (virtio 1.2 §5.2): features, configuration space, the
 * disk file, and the three IO paths' lifecycles (vCPU thread, IO thread, io_uring). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk/internal.h"
#include "trace/trace.h"

static const char *const io_names[] = {
    [BLK_IO_VCPU] = "vcpu",
    [BLK_IO_IOTHREAD] = "iothread",
    [BLK_IO_URING] = "uring",
    [BLK_IO_VHOST_USER] = "vhost-user",
};

int blk_io_parse(const char *s, enum blk_io *out)
{
	unsigned i;

	for (i = 0; s && i < sizeof(io_names) / sizeof(io_names[0]); i++) {
		if (strcmp(s, io_names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

int blk_io_parse_opts(const char *s, enum blk_io *out, const char **socket)
{
	const char *comma = strchr(s, ',');
	char name[16];

	size_t n = comma ? (size_t)(comma - s) : strlen(s);

	*socket = NULL;
	if (n >= sizeof(name))
		return -EINVAL;
	memcpy(name, s, n);
	name[n] = 0;
	if (blk_io_parse(name, out) < 0)
		return -EINVAL;
	if (*out != BLK_IO_VHOST_USER)
		return comma ? -EINVAL : 0;
	if (!comma || strncmp(comma + 1, "socket=", 7) != 0 || !comma[8])
		return -EINVAL;
	*socket = comma + 8;
	return 0;
}

const char *blk_io_name(enum blk_io io)
{
	return (unsigned)io < sizeof(io_names) / sizeof(io_names[0]) ? io_names[io] : "?";
}

static struct blk_dev *to_blk(struct virtio_dev *vdev)
{
	return vdev->device_priv;
}

/* QEMU 7.2's virtio-blk set (docs/blk.md): no SIZE_MAX; SCSI (whose requests are answered
 * UNSUPP) only without VERSION_1, and then no ANY_LAYOUT either. */
static uint64_t blk_features(struct virtio_dev *vdev, uint64_t offered)
{
	struct blk_dev *b = to_blk(vdev);
	uint64_t f = offered | 1ULL << VIRTIO_BLK_F_SEG_MAX | 1ULL << VIRTIO_BLK_F_GEOMETRY |
		     1ULL << VIRTIO_BLK_F_BLK_SIZE | 1ULL << VIRTIO_BLK_F_TOPOLOGY |
		     1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_CONFIG_WCE;

	if (!(offered & 1ULL << VIRTIO_F_VERSION_1))
		f = (f & ~(1ULL << VIRTIO_F_ANY_LAYOUT)) | 1ULL << VIRTIO_BLK_F_SCSI;
	/* §5.2.3: as QEMU 7.2, MQ only with more than one queue; one queue is offered as before. */
	if (vdev->nr_vqs > 1)
		f |= 1ULL << VIRTIO_BLK_F_MQ;
	/* A read-only disk says so, and offers nothing that would write. */
	if (b->ro)
		return f | 1ULL << VIRTIO_BLK_F_RO;
	return f | 1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
}

/* QEMU's geometry for a disk without a partition table: 16 heads, 63 sectors a track, and
 * the cylinders that fit, from 2 to 16383 (QEMU reads an MBR's geometry first; kvmscope
 * does not). */
static void blk_geometry(uint64_t sectors, struct virtio_blk_config *c)
{
	uint64_t cyl = sectors / (16 * 63);

	c->geometry.cylinders = htole16(cyl < 2 ? 2 : cyl > 16383 ? 16383 : cyl);
	c->geometry.heads = 16;
	c->geometry.sectors = 63;
}

/* The configuration space as the driver reads it: little-endian (§5.2.4; legacy is guest
 * native, which is little-endian on x86 too). */
static void blk_fill_config(struct blk_dev *b, struct virtio_blk_config *c)
{
	uint32_t align = 1u << b->phys_exp;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(b->sectors);
	c->seg_max = htole32(BLK_SEG_MAX);
	blk_geometry(b->sectors, c);
	c->blk_size = htole32(512);
	c->physical_block_exp = b->phys_exp;
	c->min_io_size = htole16(1);
	c->wce = blk_writeback(b);
	c->max_discard_sectors = htole32(BLK_MAX_DISCARD_SECT);
	c->max_discard_seg = htole32(BLK_MAX_DISCARD_SEG);
	c->discard_sector_alignment = htole32(align);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_WZEROES_SECT);
	c->max_write_zeroes_seg = htole32(BLK_MAX_WZEROES_SEG);
	c->write_zeroes_may_unmap = 1;
	/* Read by a driver that took MQ; QEMU 7.2 fills it in whatever the count. */
	c->num_queues = htole16(b->vdev.nr_vqs);
}

static void blk_config_access(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len,
			      bool is_write)
{
	struct blk_dev *b = to_blk(vdev);
	struct virtio_blk_config c;

	if (!is_write) {
		blk_fill_config(b, &c);
		memcpy(data, (uint8_t *)&c + off, len);
		return;
	}
	/* Only writeback is writable (§5.2.5, with CONFIG_WCE); other writes are dropped. */
	if (off == offsetof(struct virtio_blk_config, wce) && len == 1) {
		__atomic_store_n(&b->writeback, *(uint8_t *)data ? 1 : 0, __ATOMIC_RELAXED);
		__atomic_store_n(&b->writeback_set, true, __ATOMIC_RELAXED);
	}
}

static void blk_queue_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
	struct blk_dev *b = to_blk(vdev);
	struct blk_queue *q = &b->q[vq->index];

	STAT_ADD(b, notifies, 1);
	if (!b->started || blk_broken(b))
		return;
	if (b->io != BLK_IO_VCPU) {
		/* The ioeventfd is not wired (the transport could not): wake the IO thread. */
		eventfd_write(q->kick_fd, 1);
		return;
	}
	/* Served on the vCPU that notified; another vCPU notifying the same queue waits. */
	pthread_mutex_lock(&q->lock);
	if (blk_kick(q) == 0)
		blk_signal(q);
	pthread_mutex_unlock(&q->lock);
}

static int blk_start(struct virtio_dev *vdev)
{
	struct blk_dev *b = to_blk(vdev);
	int r = 0;
	unsigned wired = 0;

	blk_threads_down(b); /* threads that stopped on a guest error are joined here at last */
	blk_set_broken(b, false);
	for (unsigned i = 0; i < vdev->nr_vqs; i++)
		blk_reqs_reset(&b->q[i]);
	if (b->io == BLK_IO_VCPU)
		b->started = true;
	else
		r = blk_threads_up(b);
	/* The trace says what queue 0 got; the other queues get the same from one transport. */
	if (b->q[0].host_notifier)
		wired |= TRACE_WIRE_IOEVENTFD;
	if (b->q[0].call_fd >= 0)
		wired |= TRACE_WIRE_IRQFD;
	if (r == 0)
		TRACE(BACKEND_START, vdev->trace_id, wired, vdev->nr_vqs,
		      trace_intern(blk_io_name(b->io)));
	return r;
}

static void blk_stop(struct virtio_dev *vdev)
{
	struct blk_dev *b = to_blk(vdev);

	/* A guest error seen on the IO thread: it ends its loop; the next stop or start joins it
	 * (core does not call stop() again once NEEDS_RESET is set). */
	if (blk_on_io_thread) {
		blk_set_broken(b, true);
		return;
	}
	b->started = false;
	blk_threads_down(b);
	__atomic_store_n(&b->writeback_set, false, __ATOMIC_RELAXED); /* §5.2.5: reset mode */
}

static const struct virtio_device_ops blk_ops = {
    BLK_OPS_IDENTITY,
    .get_features = blk_features,
    .config_access = blk_config_access,
    .queue_notify = blk_queue_notify,
    .start = blk_start,
    .stop = blk_stop,
};

/* Size in bytes and the physical block size of a regular file or block device. */
static int disk_geometry(int fd, uint64_t *size, unsigned *pblk)
{
	struct stat st;
	int pb;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
		*pblk = st.st_blksize;
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return -EINVAL;
	if (ioctl(fd, BLKGETSIZE64, size) < 0 || ioctl(fd, BLKPBSZGET, &pb) < 0)
		return -errno;
	*pblk = pb;
	return 0;
}

static void set_serial(struct blk_dev *b, const struct blk_config *cfg)
{
	const char *s = cfg->serial;

	if (!s) {
		s = strrchr(cfg->path, '/');
		s = s ? s + 1 : cfg->path;
	}
	/* NUL-padded, no terminator when it takes all 20 bytes: the GET_ID format (§5.2.6). */
	memset(b->serial, 0, sizeof(b->serial));
	memcpy(b->serial, s, strnlen(s, sizeof(b->serial)));
}

/* The image opened as the device will use it and measured: the fd, or -errno after one line
 * naming the file. */
static int open_disk(const struct blk_config *cfg, uint64_t *size, unsigned *pblk)
{
	int fd = open(cfg->path, (cfg->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC), r;
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "kvmscope: %s: %s%s\n", cfg->path, strerror(-r),
			r == -EACCES || r == -EROFS ? " (add ,ro for a read-only disk)" : "");
		return r;
	}
	r = disk_geometry(fd, size, pblk);
	if (r < 0) {
		fprintf(stderr, "kvmscope: %s: %s\n", cfg->path,
			r == -EINVAL ? "not a regular file or block device" : strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* The queue and thread counts against what the IO path can do: 0, or -errno after one line. */
static int check_queues(const struct blk_config *cfg)
{
	unsigned nq = cfg->queues ? cfg->queues : 1, nt = cfg->iothreads ? cfg->iothreads : 1;

	if (nq > VIRTIO_MAX_QUEUES) {
		fprintf(stderr, "kvmscope: --blk-queues %u: at most %u queues\n", nq,
			VIRTIO_MAX_QUEUES);
		return -EINVAL;
	}
	if (nq > 1 && cfg->io == BLK_IO_VHOST_USER) {
		fprintf(stderr,
			"kvmscope: --blk-queues %u: kvmscope hands a vhost-user backend one "
			"queue only (multi-queue vhost-user is not done)\n",
			nq);
		return -EINVAL;
	}
	if (nt > 1 && cfg->io != BLK_IO_IOTHREAD && cfg->io != BLK_IO_URING) {
		fprintf(stderr,
			"kvmscope: --iothreads %u: the %s path has no IO threads (use "
			"--blk-io iothread or uring)\n",
			nt, blk_io_name(cfg->io));
		return -EINVAL;
	}
	if (nt > nq) {
		fprintf(stderr,
			"kvmscope: --iothreads %u: more threads than queues (%u); a thread "
			"serves whole queues\n",
			nt, nq);
		return -EINVAL;
	}
	return 0;
}

int blk_check(const struct blk_config *cfg)
{
	uint64_t size;
	unsigned pblk;
	int fd = check_queues(cfg);

	if (fd < 0 || cfg->io == BLK_IO_VHOST_USER)
		return fd;
	fd = open_disk(cfg, &size, &pblk);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* Frees b with its queues' request slots. */
static void free_queues(struct blk_dev *b)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		free(b->q[i].reqs);
		pthread_mutex_destroy(&b->q[i].lock);
	}
	free(b);
}

int blk_create(struct vm *vm, const struct blk_config *cfg, struct virtio_dev **out)
{
	struct blk_dev *b;
	uint64_t size = 0;
	unsigned pblk = 512;
	int r;

	r = check_queues(cfg);
	if (r < 0)
		return r;
	if (cfg->io == BLK_IO_VHOST_USER)
		return blk_vhost_user_create(vm, cfg, out);
	if (cfg->io == BLK_IO_URING && !blk_uring_built()) {
		fprintf(stderr,
			"kvmscope was built without liburing: --blk-io=uring is unavailable\n");
		return -ENOTSUP;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->io = cfg->io;
	b->ro = cfg->ro;
	b->nr_threads = cfg->iothreads ? cfg->iothreads : 1;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		b->t[i] = (struct blk_iothread){.b = b, .index = i, .stop_fd = -1};
		b->q[i] =
		    (struct blk_queue){.b = b, .vq = &b->vdev.vqs[i], .kick_fd = -1, .call_fd = -1};
		pthread_mutex_init(&b->q[i].lock, NULL);
	}
	b->fd = open_disk(cfg, &size, &pblk);
	if (b->fd < 0) {
		r = b->fd;
		free(b);
		return r;
	}
	/* Two VMMs writing one image corrupt it: a writer takes the image for itself, readers
	 * share it (flock(2), as flock(1) and other kvmscopes see it). */
	if (flock(b->fd, (cfg->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		r = -errno;
		fprintf(stderr, "kvmscope: %s: %s\n", cfg->path,
			r == -EWOULDBLOCK
			    ? (cfg->ro ? "locked for writing by another process"
				       : "in use by another process (it holds a lock)")
			    : strerror(-r));
		if (r == -EWOULDBLOCK)
			r = -EBUSY;
		goto fail;
	}
	b->sectors = size / 512; /* a partial last sector is not part of the disk */
	while (b->phys_exp < 7 && (512u << (b->phys_exp + 1)) <= pblk)
		b->phys_exp++;
	set_serial(b, cfg);

	r = virtio_dev_init(&b->vdev, vm, &vm->mem, &blk_ops, b);
	if (r == 0)
		r = virtio_dev_set_queues(&b->vdev, cfg->queues ? cfg->queues : 1);
	for (unsigned i = 0; r == 0 && i < b->vdev.nr_vqs; i++) {
		struct blk_queue *q = &b->q[i];

		q->nr_reqs = cfg->io == BLK_IO_URING ? BLK_URING_DEPTH : 1;
		q->reqs = calloc(q->nr_reqs, sizeof(*q->reqs));
		if (!q->reqs)
			r = -ENOMEM;
		else
			blk_reqs_reset(q);
	}
	if (r < 0) {
		fprintf(stderr, "kvmscope: %s: virtio device setup failed: %s\n", cfg->path,
			strerror(-r));
		goto fail;
	}
	*out = &b->vdev;
	return 0;
fail:
	close(b->fd);
	free_queues(b);
	return r;
}

void blk_destroy(struct virtio_dev *vdev)
{
	struct blk_dev *b;

	if (!vdev)
		return;
	if (blk_vhost_user_is(vdev)) {
		blk_vhost_user_destroy(vdev);
		return;
	}
	b = to_blk(vdev);
	b->started = false;
	blk_threads_down(b);
	close(b->fd);
	free_queues(b);
}

void blk_get_stats(struct virtio_dev *vdev, struct blk_stats *out)
{
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	if (blk_vhost_user_is(vdev)) {
		memset(out, 0, sizeof(*out));
		return;
	}
	src = (const uint64_t *)&to_blk(vdev)->stats;
	/* Counters move on other threads: read each one whole. */
	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
