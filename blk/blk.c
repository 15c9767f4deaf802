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

	STAT_ADD(b, notifies, 1);
	if (!b->started || blk_broken(b))
		return;
	if (b->io != BLK_IO_VCPU) {
		/* The ioeventfd is not wired (the transport could not): wake the IO thread. */
		eventfd_write(b->kick_fd, 1);
		return;
	}
	if (blk_kick(b, vq) == 0)
		blk_signal(b, vq);
}

/* The IO thread: wait for a kick, a completion (uring) or stop; pop, serve, push, signal. */
static void *io_thread(void *arg)
{
	struct blk_dev *b = arg;
	struct virtqueue *vq = &b->vdev.vqs[0];
	struct pollfd pfd[3] = {
	    {.fd = b->stop_fd, .events = POLLIN},
	    {.fd = b->kick_fd, .events = POLLIN},
	    {.fd = b->uring ? blk_uring_fd(b) : -1, .events = POLLIN},
	};
	eventfd_t v;
	struct blk_req *r;
	ssize_t res;

	blk_on_io_thread = true;
	trace_thread_set(TRACE_THREAD_IO, 0);
	while (!blk_broken(b)) {
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("kvmscope: virtio-blk IO thread: poll");
			break;
		}
		if (pfd[0].revents)
			break;
		/* With ioeventfd each guest notify adds one to the counter. */
		if (pfd[1].revents && eventfd_read(b->kick_fd, &v) == 0 && b->host_notifier) {
			STAT_ADD(b, notifies, v);
			TRACE(QUEUE_NOTIFY, b->vdev.trace_id, vq->index, TRACE_VIA_IOEVENTFD,
			      vq_avail_idx(vq));
		}
		if (b->uring)
			while ((r = blk_uring_reap(b, &res)))
				blk_req_end(b, r, res);
		blk_kick(b, vq);
		if (b->uring)
			blk_uring_flush(b);
		blk_signal(b, vq);
	}
	/* What is in flight writes into guest memory: it must land before the reset completes. */
	if (b->uring)
		blk_uring_fini(b);
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

/* Undo backend_up(), from any state it may have reached. On the vCPU thread (or destroy). */
static void backend_down(struct blk_dev *b)
{
	b->started = false;
	if (b->thread_live)
		__atomic_store_n(&b->stopping, true, __ATOMIC_RELEASE);
	blk_join(b->thread, &b->thread_live, b->stop_fd);
	if (b->uring)
		blk_uring_fini(b);
	blk_unwire(&b->vdev, &b->vdev.vqs[0], &b->host_notifier, b->call_fd >= 0, &b->kick_fd,
		   &b->call_fd, &b->stop_fd);
}

/* Dataplane: notifies arrive on an eventfd (ioeventfd), interrupts leave on one (irqfd). */
static int backend_up(struct blk_dev *b)
{
	struct virtqueue *vq = &b->vdev.vqs[0];
	int r;

	__atomic_store_n(&b->stopping, false, __ATOMIC_RELAXED);
	b->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->kick_fd < 0 || b->stop_fd < 0 || b->call_fd < 0) {
		r = -errno;
		goto fail;
	}
	/* Either may fail (a legacy port, INTx): queue_notify kicks / virtio_signal_vq then. */
	b->host_notifier = virtio_set_host_notifier(&b->vdev, vq, b->kick_fd) == 0;
	if (virtio_set_guest_notifier(&b->vdev, vq, b->call_fd) < 0) {
		close(b->call_fd);
		b->call_fd = -1;
	}
	if (b->io == BLK_IO_URING) {
		r = blk_uring_init(b);
		if (r < 0)
			goto fail;
	}
	b->started = true;
	r = -pthread_create(&b->thread, NULL, io_thread, b);
	if (r < 0)
		goto fail;
	b->thread_live = true;
	return 0;
fail:
	fprintf(stderr, "kvmscope: virtio-blk: cannot start the %s backend: %s\n",
		blk_io_name(b->io), strerror(-r));
	backend_down(b);
	return r;
}

static int blk_start(struct virtio_dev *vdev)
{
	struct blk_dev *b = to_blk(vdev);
	int r = 0;

	backend_down(b); /* a thread that stopped itself on a guest error is joined here at last */
	blk_set_broken(b, false);
	blk_reqs_reset(b);
	if (b->io == BLK_IO_VCPU)
		b->started = true;
	else
		r = backend_up(b);
	if (r == 0)
		TRACE(BACKEND_START, vdev->trace_id,
		      (b->host_notifier ? TRACE_WIRE_IOEVENTFD : 0) |
			  (b->call_fd >= 0 ? TRACE_WIRE_IRQFD : 0),
		      vdev->nr_vqs, trace_intern(blk_io_name(b->io)));
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
	backend_down(b);
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

int blk_check(const struct blk_config *cfg)
{
	uint64_t size;
	unsigned pblk;
	int fd = open_disk(cfg, &size, &pblk);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int blk_create(struct vm *vm, const struct blk_config *cfg, struct virtio_dev **out)
{
	struct blk_dev *b;
	uint64_t size = 0;
	unsigned pblk = 512;
	int r;

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
	b->kick_fd = b->call_fd = b->stop_fd = -1;
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
			r == -EWOULDBLOCK ? (cfg->ro ? "locked for writing by another process"
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

	b->nr_reqs = cfg->io == BLK_IO_URING ? BLK_URING_DEPTH : 1;
	b->reqs = calloc(b->nr_reqs, sizeof(*b->reqs));
	if (!b->reqs) {
		r = -ENOMEM;
		goto fail;
	}
	blk_reqs_reset(b);
	r = virtio_dev_init(&b->vdev, vm, &vm->mem, &blk_ops, b);
	if (r < 0) {
		fprintf(stderr, "kvmscope: %s: virtio device setup failed: %s\n", cfg->path,
			strerror(-r));
		goto fail;
	}
	*out = &b->vdev;
	return 0;
fail:
	close(b->fd);
	free(b->reqs);
	free(b);
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
	backend_down(b);
	close(b->fd);
	free(b->reqs);
	free(b);
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
