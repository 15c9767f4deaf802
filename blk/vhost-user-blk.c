/* blk/vhost-user-blk.c - virtio-blk served by another process over vhost-user: kvmscope keeps
 * the PCI function and the transport (status, features, queue setup: all traced as for the
 * other paths) and hands the queue to the backend at DRIVER_OK: guest RAM by memfd, the ring
 * addresses, the kick eventfd (the queue's ioeventfd) and the call eventfd (an irqfd on the
 * queue's MSI-X vector, or a thread raising INTx). Requests then go guest <-> backend without
 * kvmscope. A backend that dies leaves the device NEEDS_RESET and the VM running. */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "blk/internal.h"
#include "blk/vhost-user.h"
#include "trace/trace.h"

/* Device features kvmscope passes from the backend to the driver: those whose configuration
 * fields and requests it knows (no MQ: one queue; no SECURE_ERASE, whose config lies past what
 * older backends answer). */
#define GUEST_FEATURES                                                                             \
	(1ULL << VIRTIO_BLK_F_SIZE_MAX | 1ULL << VIRTIO_BLK_F_SEG_MAX |                            \
	 1ULL << VIRTIO_BLK_F_GEOMETRY | 1ULL << VIRTIO_BLK_F_RO | 1ULL << VIRTIO_BLK_F_BLK_SIZE | \
	 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_TOPOLOGY |                              \
	 1ULL << VIRTIO_BLK_F_CONFIG_WCE | 1ULL << VIRTIO_BLK_F_DISCARD |                          \
	 1ULL << VIRTIO_BLK_F_WRITE_ZEROES)
/* Protocol features kvmscope uses when offered. */
#define WANTED_PROTOCOL                                                                            \
	(1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK | 1ULL << VHOST_USER_PROTOCOL_F_CONFIG)

struct vu_blk {
	struct virtio_dev vdev;
	struct vhost_user_conn conn;
	struct vm *vm;
	const char *socket;
	bool met;		   /* the handshake ran (inside virtio_dev_init) */
	int setup_err;		   /* and its result */
	uint64_t backend_features; /* GET_FEATURES */
	uint8_t config[sizeof(struct virtio_blk_config)];

	/* Between start() and stop(). */
	bool started;
	int kick_fd, call_fd;
	bool host_notifier, irqfd;
	pthread_t irq_thread; /* INTx: reads call_fd and raises the interrupt */
	bool irq_thread_live;
	int irq_stop_fd;

	/* From create to destroy: notices the socket closing. */
	pthread_t monitor;
	bool monitor_live;
	int monitor_stop_fd;
};

static struct vu_blk *to_vu(struct virtio_dev *vdev)
{
	return vdev->device_priv;
}

static bool has_pf(const struct vu_blk *b)
{
	return b->backend_features >> VHOST_USER_F_PROTOCOL_FEATURES & 1;
}

/* One line naming the socket and what went wrong; returns err. */
static int say(const struct vu_blk *b, int err, const char *what)
{
	fprintf(stderr, "kvmscope: vhost-user backend %s: %s%s%s\n", b->socket, what,
		err ? ": " : "", err ? strerror(-err) : "");
	return err;
}

/* The configuration space up to the write-zeroes fields: kvmscope offers nothing whose
 * fields lie past them (no SECURE_ERASE), and backends built against older headers answer
 * only that much (a longer GET_CONFIG gets an empty reply from QEMU 7.2's). */
#define CONFIG_ASKED offsetof(struct virtio_blk_config, max_secure_erase_sectors)

/* The first handshake, at device creation (vhost-user.rst, "Front-end message types"):
 * features, protocol features, owner, configuration space. */
static int handshake(struct vu_blk *b)
{
	uint64_t pf = 0;
	int r;

	r = vhost_user_get_u64(&b->conn, VHOST_USER_GET_FEATURES, &b->backend_features);
	if (r < 0)
		return say(b, r, "GET_FEATURES failed");
	/* libvhost-user, and so QEMU's backends, serve virtio 1.0 drivers only. */
	if (!(b->backend_features & 1ULL << VIRTIO_F_VERSION_1)) {
		vhost_user_fail(&b->conn, "the backend lacks VIRTIO_F_VERSION_1",
				VHOST_USER_GET_FEATURES, -ENOTSUP);
		say(b, 0, "does not offer VIRTIO_F_VERSION_1, which kvmscope needs");
		return -ENOTSUP;
	}
	if (has_pf(b)) {
		r = vhost_user_get_u64(&b->conn, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
		if (r == 0)
			r = vhost_user_set_u64(&b->conn, VHOST_USER_SET_PROTOCOL_FEATURES,
					       pf & WANTED_PROTOCOL, -1);
		if (r < 0)
			return say(b, r, "protocol feature negotiation failed");
		b->conn.protocol_features = pf & WANTED_PROTOCOL;
	}
	/* Without F_CONFIG kvmscope would not know the disk's capacity. */
	if (!(pf & 1ULL << VHOST_USER_PROTOCOL_F_CONFIG)) {
		vhost_user_fail(&b->conn, "the backend lacks VHOST_USER_PROTOCOL_F_CONFIG",
				VHOST_USER_GET_PROTOCOL_FEATURES, -ENOTSUP);
		say(b, 0,
		    "does not offer VHOST_USER_PROTOCOL_F_CONFIG (the configuration "
		    "space), which kvmscope needs");
		return -ENOTSUP;
	}
	r = vhost_user_set_none(&b->conn, VHOST_USER_SET_OWNER);
	if (r < 0)
		return say(b, r, "SET_OWNER failed");
	r = vhost_user_get_config(&b->conn, b->config, CONFIG_ASKED);
	if (r < 0)
		return say(b, r, "GET_CONFIG failed");
	return 0;
}

/* virtio_dev_init asks for the features before anything else: the moment to meet the backend
 * (the device's trace id exists by then, so the handshake is recorded); the transport asks
 * again when it is plugged. Offered: the transport's common features where the backend serves
 * them too, and the blk features kvmscope knows. Bit 30 is two things: in the backend's word
 * PROTOCOL_FEATURES, never the guest's; in the transport's, BAD_FEATURE, a trap it keeps. */
static uint64_t vu_features(struct virtio_dev *vdev, uint64_t offered)
{
	struct vu_blk *b = to_vu(vdev);
	const uint64_t bit30 = 1ULL << VHOST_USER_F_PROTOCOL_FEATURES;

	if (!b->met) {
		b->met = true;
		b->conn.dev = vdev->trace_id;
		b->setup_err = handshake(b);
	}
	if (b->setup_err)
		return 0;
	return (b->backend_features & (GUEST_FEATURES | offered) & ~bit30) |
	       (offered & 1ULL << VIRTIO_F_BAD_FEATURE);
}

static void vu_config_access(struct virtio_dev *vdev, uint32_t off, void *data, uint32_t len,
			     bool is_write)
{
	struct vu_blk *b = to_vu(vdev);
	struct vhost_user_msg m = {.hdr = {VHOST_USER_SET_CONFIG, VHOST_USER_VERSION,
					   offsetof(struct vhost_user_config, region) + 1}};

	if (!is_write) {
		memcpy(data, b->config + off, len);
		return;
	}
	/* Only writeback is writable (§5.2.5); the backend applies it. */
	if (off != offsetof(struct virtio_blk_config, wce) || len != 1)
		return;
	m.payload.config.offset = off;
	m.payload.config.size = 1;
	m.payload.config.flags = VHOST_USER_CONFIG_WRITABLE;
	m.payload.config.region[0] = *(uint8_t *)data ? 1 : 0;
	if (vhost_user_set(&b->conn, &m) == 0)
		b->config[off] = m.payload.config.region[0];
}

/* Only when the ioeventfd is not wired (a notify through the PCI_CFG window): pass it on. */
static void vu_queue_notify(struct virtio_dev *vdev, struct virtqueue *vq)
{
	struct vu_blk *b = to_vu(vdev);

	(void)vq;
	if (b->started)
		eventfd_write(b->kick_fd, 1);
}

static void *irq_thread(void *arg)
{
	struct vu_blk *b = arg;
	struct pollfd pfd[2] = {{.fd = b->irq_stop_fd, .events = POLLIN},
				{.fd = b->call_fd, .events = POLLIN}};
	eventfd_t v;

	trace_thread_set(TRACE_THREAD_IO, 0);
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		/* The backend decided the driver wants this interrupt (EVENT_IDX is its job). */
		if (pfd[1].revents && eventfd_read(b->call_fd, &v) == 0)
			virtio_raise_vq(&b->vdev, &b->vdev.vqs[0]);
	}
	return NULL;
}

/* Our side of the queue: the INTx thread joined, notifiers unwired, eventfds closed. */
static void unwire(struct vu_blk *b)
{
	b->started = false;
	blk_join(b->irq_thread, &b->irq_thread_live, b->irq_stop_fd);
	blk_unwire(&b->vdev, &b->vdev.vqs[0], &b->host_notifier, b->irqfd, &b->kick_fd, &b->call_fd,
		   &b->irq_stop_fd);
	b->irqfd = false;
}

/* Kick by ioeventfd (else queue_notify passes it on); call by irqfd, else the INTx thread. */
static int wire(struct vu_blk *b)
{
	struct virtqueue *vq = &b->vdev.vqs[0];

	b->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->kick_fd < 0 || b->call_fd < 0)
		return -errno;
	b->host_notifier = virtio_set_host_notifier(&b->vdev, vq, b->kick_fd) == 0;
	b->irqfd = virtio_set_guest_notifier(&b->vdev, vq, b->call_fd) == 0;
	if (b->irqfd)
		return 0;
	b->irq_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->irq_stop_fd < 0)
		return -errno;
	if (pthread_create(&b->irq_thread, NULL, irq_thread, b) != 0)
		return -EAGAIN;
	b->irq_thread_live = true;
	return 0;
}

/* SET_MEM_TABLE: guest RAM's one or two ranges, each with the memfd and its offset in it. */
static int send_mem_table(struct vu_blk *b)
{
	const struct guest_mem *mem = &b->vm->mem;
	struct vhost_user_msg m = {
	    .hdr = {VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, sizeof(struct vhost_user_mem)}};
	struct vhost_user_mem *t = &m.payload.mem;
	struct {
		uint64_t gpa, size, off;
		uint8_t *host;
	} ranges[] = {{0, mem->lo_size, 0, mem->lo},
		      {GUEST_4G, mem->hi_size, mem->lo_size, mem->hi}};

	for (unsigned i = 0; i < 2; i++) {
		if (!ranges[i].size)
			continue;
		t->regions[t->nregions] = (struct vhost_user_region){
		    ranges[i].gpa, ranges[i].size, (uintptr_t)ranges[i].host, ranges[i].off};
		t->nregions++;
		m.fds[m.nfds++] = mem->fd;
	}
	return vhost_user_set(&b->conn, &m);
}

/* SET_VRING_ADDR: the rings as kvmscope maps them (the backend translates through the table);
 * -EINVAL when the driver put them outside RAM. */
static int send_vring_addr(struct vu_blk *b, struct virtqueue *vq)
{
	struct vhost_user_msg m = {.hdr = {VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION,
					   sizeof(struct vhost_vring_addr)}};
	/* virtio 1.2 §2.7: the three parts' sizes, with EVENT_IDX's extra word in each ring. */
	void *desc = guest_ptr(vq->mem, vq->desc, 16ULL * vq->size);
	void *avail = guest_ptr(vq->mem, vq->avail, 6 + 2ULL * vq->size);
	void *used = guest_ptr(vq->mem, vq->used, 6 + 8ULL * vq->size);

	if (!desc || !avail || !used)
		return -EINVAL;
	m.payload.addr.index = vq->index;
	m.payload.addr.desc_user_addr = (uintptr_t)desc;
	m.payload.addr.avail_user_addr = (uintptr_t)avail;
	m.payload.addr.used_user_addr = (uintptr_t)used;
	return vhost_user_set(&b->conn, &m);
}

/* The second handshake, at DRIVER_OK: the negotiated features, memory, the ring, its fds. */
static int vu_start(struct virtio_dev *vdev)
{
	struct vu_blk *b = to_vu(vdev);
	struct virtqueue *vq = &vdev->vqs[0];
	struct vhost_user_conn *c = &b->conn;
	uint64_t features = vdev->driver_features;
	int r;

	if (!vq->ready || !vq->size) {
		fprintf(stderr, "kvmscope: vhost-user-blk: DRIVER_OK without queue 0 set up\n");
		return -EINVAL;
	}
	/* libvhost-user backends (QEMU's among them) drop a legacy driver's connection. */
	if (!(features & 1ULL << VIRTIO_F_VERSION_1)) {
		vhost_user_fail(c, "a legacy driver (no VERSION_1): not handed to the backend",
				VHOST_USER_SET_FEATURES, -ENOTSUP);
		fprintf(stderr, "kvmscope: vhost-user-blk: the driver did not accept "
				"VIRTIO_F_VERSION_1 (a legacy driver); vhost-user backends serve "
				"virtio 1.0 drivers only\n");
		return -ENOTSUP;
	}
	if (has_pf(b))
		features |= 1ULL << VHOST_USER_F_PROTOCOL_FEATURES;
	r = vhost_user_set_u64(c, VHOST_USER_SET_FEATURES, features, -1);
	if (r == 0)
		r = send_mem_table(b);
	if (r == 0)
		r = vhost_user_set_state(c, VHOST_USER_SET_VRING_NUM, vq->index, vq->size);
	if (r == 0)
		r = vhost_user_set_state(c, VHOST_USER_SET_VRING_BASE, vq->index, vq->last_avail);
	if (r == 0) {
		r = send_vring_addr(b, vq);
		if (r == -EINVAL)
			fprintf(stderr,
				"kvmscope: vhost-user-blk: queue 0's rings are not in RAM\n");
	}
	if (r == 0)
		r = wire(b);
	if (r == 0)
		r = vhost_user_set_u64(c, VHOST_USER_SET_VRING_CALL, vq->index, b->call_fd);
	if (r == 0)
		r = vhost_user_set_u64(c, VHOST_USER_SET_VRING_KICK, vq->index, b->kick_fd);
	if (r == 0 && has_pf(b)) /* with PROTOCOL_FEATURES rings start disabled */
		r = vhost_user_set_state(c, VHOST_USER_SET_VRING_ENABLE, vq->index, 1);
	if (r < 0) {
		char what[96];

		snprintf(what, sizeof(what), "cannot hand the queue over: %s %s",
			 vhost_user_request_name(c->last_request),
			 r == -EREMOTEIO ? "refused by the backend" : "failed");
		if (r != -EINVAL)
			say(b, r == -EREMOTEIO ? 0 : r, what);
		unwire(b);
		return r;
	}
	b->started = true;
	TRACE(BACKEND_START, vdev->trace_id,
	      (b->host_notifier ? TRACE_WIRE_IOEVENTFD : 0) | (b->irqfd ? TRACE_WIRE_IRQFD : 0),
	      vdev->nr_vqs, trace_intern("vhost-user"));
	return 0;
}

/* Reset or NEEDS_RESET: the backend stops the ring and says where (GET_VRING_BASE); on a dead
 * socket these fail at once and only our side is undone. */
static void vu_stop(struct virtio_dev *vdev)
{
	struct vu_blk *b = to_vu(vdev);
	struct virtqueue *vq = &vdev->vqs[0];
	unsigned base;

	if (has_pf(b))
		vhost_user_set_state(&b->conn, VHOST_USER_SET_VRING_ENABLE, vq->index, 0);
	if (vhost_user_get_vring_base(&b->conn, vq->index, &base) == 0)
		vq->last_avail = base;
	unwire(b);
}

static const struct virtio_device_ops vu_ops = {
    BLK_OPS_IDENTITY,
    .get_features = vu_features,
    .config_access = vu_config_access,
    .queue_notify = vu_queue_notify,
    .start = vu_start,
    .stop = vu_stop,
};

/* Watches the socket from creation to destroy: a backend that goes away makes the device
 * NEEDS_RESET at once, whether or not a message was under way. */
static void *monitor_thread(void *arg)
{
	struct vu_blk *b = arg;
	struct pollfd pfd[2] = {{.fd = b->monitor_stop_fd, .events = POLLIN},
				{.fd = b->conn.fd, .events = POLLRDHUP}};

	trace_thread_set(TRACE_THREAD_IO, 1); /* its events show as io1 */
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return NULL;
		if (pfd[0].revents)
			return NULL;
		if (pfd[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
			break;
	}
	if (!__atomic_load_n(&b->conn.dead, __ATOMIC_ACQUIRE))
		vhost_user_fail(&b->conn, "the backend closed the socket", b->conn.last_request,
				-ECONNRESET);
	__atomic_store_n(&b->conn.dead, true, __ATOMIC_RELEASE);
	virtio_device_failed(&b->vdev, "the vhost-user backend closed its socket");
	return NULL;
}

bool blk_vhost_user_is(const struct virtio_dev *vdev)
{
	return vdev->ops == &vu_ops;
}

static void vu_free(struct vu_blk *b)
{
	blk_join(b->monitor, &b->monitor_live, b->monitor_stop_fd);
	unwire(b);
	if (b->monitor_stop_fd >= 0)
		close(b->monitor_stop_fd);
	vhost_user_close(&b->conn);
	free(b);
}

void blk_vhost_user_destroy(struct virtio_dev *vdev)
{
	vu_free(to_vu(vdev));
}

int blk_vhost_user_create(struct vm *vm, const struct blk_config *cfg, struct virtio_dev **out)
{
	struct vu_blk *b;
	int r;

	if (vm->mem.fd < 0) {
		fprintf(stderr,
			"kvmscope: vhost-user needs guest RAM in a memfd (vm_config.shared_ram)\n");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->vm = vm;
	b->socket = cfg->socket;
	b->kick_fd = b->call_fd = b->irq_stop_fd = b->monitor_stop_fd = -1;
	r = vhost_user_connect(&b->conn, cfg->socket, 0);
	if (r < 0) {
		fprintf(stderr, "kvmscope: vhost-user socket %s: %s%s\n", cfg->socket, strerror(-r),
			r == -ENOENT || r == -ECONNREFUSED
			    ? " (start the backend first, e.g. guest/vhost-user-blk.sh)"
			    : "");
		free(b);
		return r;
	}
	r = virtio_dev_init(&b->vdev, vm, &vm->mem, &vu_ops, b);
	if (r == 0)
		r = b->setup_err;
	if (r == 0) {
		b->monitor_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		r = b->monitor_stop_fd < 0 ? -errno : 0;
	}
	if (r == 0) {
		r = -pthread_create(&b->monitor, NULL, monitor_thread, b);
		b->monitor_live = r == 0;
	}
	if (r < 0) {
		vu_free(b);
		return r;
	}
	*out = &b->vdev;
	return 0;
}
