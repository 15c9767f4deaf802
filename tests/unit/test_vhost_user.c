/* tests/unit/test_vhost_user.c - kvmscope's vhost-user front end against a backend written
 * here, on a socketpair (or a listening socket for the device): message framing, fds by
 * SCM_RIGHTS both ways, replies arriving in pieces, acks, a peer that closes, stalls or answers
 * out of turn; the device's refusals at creation; the decoder's words. No /dev/kvm. */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "blk/blk.h"
#include "blk/vhost-user.h"
#include "tests/check.h"
#include "trace/internal.h"

/* --- The peer: raw bytes on its end of the socket. --- */
static int peer_fd;

static void nap(void)
{
	struct timespec ts = {0, 5 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

/* Read one request: header, payload, the fds that came with it. */
static int peer_read(struct vhost_user_hdr *h, void *payload, int *fds, unsigned *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {h, sizeof(*h)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(peer_fd, &mh, MSG_WAITALL);

	if (nfds)
		*nfds = 0;
	if (n != sizeof(*h))
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm && nfds; cm = CMSG_NXTHDR(&mh, cm)) {
		unsigned k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds + *nfds, CMSG_DATA(cm), k * sizeof(int));
		*nfds += k;
	}
	if (h->size && recv(peer_fd, payload, h->size, MSG_WAITALL) != (ssize_t)h->size)
		return -1;
	return 0;
}

/* Write buf in pieces of at most chunk bytes, pausing between them: short reads for the client. */
static void peer_write(const void *buf, size_t len, size_t chunk)
{
	const char *p = buf;

	while (len) {
		size_t n = len < chunk ? len : chunk;
		if (write(peer_fd, p, n) != (ssize_t)n)
			return;
		p += n;
		len -= n;
		if (len)
			nap();
	}
}

/* A reply to request: header then payload, chunked. */
static void peer_reply(uint32_t request, const void *payload, uint32_t size, size_t chunk)
{
	char buf[sizeof(struct vhost_user_hdr) + sizeof(union vhost_user_payload)];
	struct vhost_user_hdr h = {request, VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, size};

	memcpy(buf, &h, sizeof(h));
	if (size)
		memcpy(buf + sizeof(h), payload, size);
	peer_write(buf, sizeof(h) + size, chunk);
}

static void peer_reply_u64(uint32_t request, uint64_t v, size_t chunk)
{
	peer_reply(request, &v, sizeof(v), chunk);
}

/* Each test's backend runs this on a thread while the client calls. */
struct script {
	void (*fn)(struct script *s);
	struct vhost_user_hdr h[4];
	union vhost_user_payload p[4];
	int fds[4][VHOST_USER_MAX_FDS];
	unsigned nfds[4];
	int n;
};

static void *peer_main(void *arg)
{
	struct script *s = arg;
	s->fn(s);
	return NULL;
}

static struct vhost_user_conn conn;
static pthread_t peer;

static void start(struct script *s, void (*fn)(struct script *))
{
	int sv[2];

	memset(s, 0, sizeof(*s));
	s->fn = fn;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
	vhost_user_adopt(&conn, sv[0], 0);
	conn.timeout_ms = 2000;
	peer_fd = sv[1];
	pthread_create(&peer, NULL, peer_main, s);
}

static void finish(void)
{
	pthread_join(peer, NULL);
	vhost_user_close(&conn);
	close(peer_fd);
}

static int take(struct script *s)
{
	int i = s->n++;
	return peer_read(&s->h[i], &s->p[i], s->fds[i], &s->nfds[i]);
}

/* --- framing --- */
static void get_features_in_pieces(struct script *s)
{
	if (take(s) == 0)
		peer_reply_u64(VHOST_USER_GET_FEATURES, 0x140000000ULL,
			       5); /* 20 bytes, 5 at a time */
}

static void test_framing(void)
{
	struct script s;
	uint64_t v = 0;
	int r;

	start(&s, get_features_in_pieces);
	r = vhost_user_get_u64(&conn, VHOST_USER_GET_FEATURES, &v);
	finish();
	CHECK(s.h[0].request == VHOST_USER_GET_FEATURES && s.h[0].flags == VHOST_USER_VERSION &&
		  s.h[0].size == 0 && s.nfds[0] == 0,
	      "framing: GET_FEATURES is a bare 12-byte header, version 1, no fds");
	CHECK(r == 0 && v == 0x140000000ULL,
	      "framing: a reply arriving 5 bytes at a time is read whole (r=%d v=0x%llx)", r,
	      (unsigned long long)v);
}

/* --- fds, acks --- */
static void kick_then_call(struct script *s)
{
	if (take(s) == 0) {
		if (s->nfds[0] == 1)
			eventfd_write(s->fds[0][0], 42); /* the client's eventfd, from here */
		peer_reply_u64(VHOST_USER_SET_VRING_KICK, 0, 64);
	}
	if (take(s) == 0)
		peer_reply_u64(VHOST_USER_SET_VRING_CALL, 1, 3); /* refused, in pieces */
	for (unsigned i = 0; i < s->nfds[0]; i++)
		close(s->fds[0][i]);
}

static void test_fds_and_acks(void)
{
	struct script s;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	eventfd_t got = 0;
	int r1, r2;

	start(&s, kick_then_call);
	conn.protocol_features = 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	r1 = vhost_user_set_u64(&conn, VHOST_USER_SET_VRING_KICK, 0, efd);
	r2 = vhost_user_set_u64(&conn, VHOST_USER_SET_VRING_CALL, 0, -1);
	finish();
	eventfd_read(efd, &got);
	CHECK(r1 == 0 && s.nfds[0] == 1 && got == 42,
	      "fds: SET_VRING_KICK's eventfd crosses by SCM_RIGHTS: the peer's write reaches ours "
	      "(r=%d nfds=%u counter=%llu)",
	      r1, s.nfds[0], (unsigned long long)got);
	CHECK(s.h[0].flags == (VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK) &&
		  s.h[0].size == 8 && s.p[0].u64 == 0,
	      "acks: with REPLY_ACK a SET_* asks for a reply (NEED_REPLY), payload the queue");
	CHECK(s.nfds[1] == 0 && s.p[1].u64 == VHOST_USER_VRING_NOFD_MASK,
	      "fds: no fd: none passed, and the payload says so (NOFD bit)");
	CHECK(r2 == -EREMOTEIO, "acks: a non-zero ack is the backend refusing (%d)", r2);
	close(efd);
}

static void mem_table(struct script *s)
{
	take(s); /* no REPLY_ACK: no reply */
}

static void test_mem_table(void)
{
	struct script s;
	struct vhost_user_msg m = {
	    .hdr = {VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, sizeof(struct vhost_user_mem)}};
	int fd = memfd_create("t", MFD_CLOEXEC), r;

	m.payload.mem.nregions = 2;
	m.payload.mem.regions[1] = (struct vhost_user_region){1ULL << 32, 4096, 0x1000, 8192};
	m.fds[0] = m.fds[1] = fd;
	m.nfds = 2;
	start(&s, mem_table);
	r = vhost_user_set(&conn, &m);
	finish();
	CHECK(r == 0 && s.h[0].size == 8 + 2 * 32 * 4 && s.nfds[0] == 2 &&
		  s.p[0].mem.nregions == 2 && s.p[0].mem.regions[1].guest_phys_addr == 1ULL << 32 &&
		  s.p[0].mem.regions[1].mmap_offset == 8192,
	      "SET_MEM_TABLE: 8 + 8 x 32 bytes, two regions, one fd for each (nfds=%u size=%u)",
	      s.nfds[0], s.h[0].size);
	for (unsigned i = 0; i < s.nfds[0]; i++)
		close(s.fds[0][i]);
	close(fd);
}

/* A message from the backend carrying fds (the receive side of SCM_RIGHTS). */
static void reply_with_fds(struct script *s)
{
	struct vhost_user_hdr h = {VHOST_USER_GET_VRING_BASE,
				   VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8};
	uint64_t payload = (uint64_t)77 << 32;
	int fds[2] = {eventfd(3, EFD_CLOEXEC), eventfd(4, EFD_CLOEXEC)};
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {{&h, sizeof(h)}, {&payload, 8}};
	struct msghdr mh = {.msg_iov = iov,
			    .msg_iovlen = 2,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	take(s);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	sendmsg(peer_fd, &mh, 0);
	close(fds[0]);
	close(fds[1]);
}

static void test_recv_fds(void)
{
	struct script s;
	struct vhost_user_msg m = {.hdr = {VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION, 8}},
			      reply;
	eventfd_t a = 0, b = 0;
	int r;

	start(&s, reply_with_fds);
	r = vhost_user_call(&conn, &m, &reply);
	finish();
	if (r == 0 && reply.nfds == 2) {
		eventfd_read(reply.fds[0], &a);
		eventfd_read(reply.fds[1], &b);
	}
	CHECK(r == 0 && reply.nfds == 2 && a == 3 && b == 4 && reply.payload.state.num == 77,
	      "fds: two fds from the backend arrive with its reply, in order (r=%d nfds=%u)", r,
	      reply.nfds);
	for (unsigned i = 0; r == 0 && i < reply.nfds; i++)
		close(reply.fds[i]);
}

/* --- a peer that fails --- */
static void half_then_close(struct script *s)
{
	struct vhost_user_hdr h = {VHOST_USER_GET_FEATURES,
				   VHOST_USER_VERSION | VHOST_USER_REPLY_MASK, 8};
	take(s);
	peer_write(&h, 6, 6); /* half a header */
	shutdown(peer_fd, SHUT_WR);
}

static void silent(struct script *s)
{
	take(s);
}

static void wrong_reply(struct script *s)
{
	take(s);
	peer_reply_u64(VHOST_USER_GET_PROTOCOL_FEATURES, 1, 64);
}

static void bad_version(struct script *s)
{
	struct vhost_user_hdr h = {VHOST_USER_GET_FEATURES, 2 | VHOST_USER_REPLY_MASK, 8};
	uint64_t v = 0;
	take(s);
	peer_write(&h, sizeof(h), 64);
	peer_write(&v, 8, 64);
}

static void too_big(struct script *s)
{
	struct vhost_user_hdr h = {VHOST_USER_GET_FEATURES, 1 | VHOST_USER_REPLY_MASK, 1 << 20};
	take(s);
	peer_write(&h, sizeof(h), 64);
}

/* GET_FEATURES against a peer that misbehaves as fn says; the call's result. */
static int get_features_against(void (*fn)(struct script *), int timeout_ms)
{
	struct script s;
	uint64_t v;
	int r;

	start(&s, fn);
	conn.timeout_ms = timeout_ms;
	r = vhost_user_get_u64(&conn, VHOST_USER_GET_FEATURES, &v);
	finish();
	return r;
}

static void test_failures(void)
{
	struct script s;
	uint64_t v;
	int r, again;

	start(&s, half_then_close);
	r = vhost_user_get_u64(&conn, VHOST_USER_GET_FEATURES, &v);
	again = vhost_user_get_u64(&conn, VHOST_USER_GET_FEATURES, &v);
	finish();
	CHECK(r == -ECONNRESET && conn.dead,
	      "peer closes mid-header: -ECONNRESET, connection dead");
	CHECK(again == -ECONNRESET && s.n == 1,
	      "after that every call fails at once, nothing more is sent");

	r = get_features_against(silent, 100);
	CHECK(r == -ETIMEDOUT, "a backend that never answers: -ETIMEDOUT after timeout_ms (%d)", r);
	r = get_features_against(wrong_reply, 2000);
	CHECK(r == -EPROTO, "a reply to another request: -EPROTO (%d)", r);
	r = get_features_against(bad_version, 2000);
	CHECK(r == -EPROTO, "a header of another version: -EPROTO (%d)", r);
	r = get_features_against(too_big, 2000);
	CHECK(r == -EPROTO, "a payload larger than any message: -EPROTO, not a buffer overrun (%d)",
	      r);
}

static void config_empty_then_full(struct script *s)
{
	struct vhost_user_config c = {0, 16, 0, {0}};
	uint64_t cap = 1234;

	take(s);
	peer_reply(VHOST_USER_GET_CONFIG, NULL, 0, 64); /* could not answer */
	take(s);
	memcpy(c.region, &cap, 8);
	peer_reply(VHOST_USER_GET_CONFIG, &c, offsetof(struct vhost_user_config, region) + 16, 7);
}

static void test_config(void)
{
	struct script s;
	uint8_t cfg[16] = {0};
	uint64_t cap = 0;
	int r1, r2;

	start(&s, config_empty_then_full);
	r1 = vhost_user_get_config(&conn, cfg, 16);
	r2 = vhost_user_get_config(&conn, cfg, 16);
	finish();
	memcpy(&cap, cfg, 8);
	CHECK(r1 == -EREMOTEIO, "GET_CONFIG: an empty reply is the backend's refusal (%d)", r1);
	CHECK(s.h[0].size == 12 + 16 && s.p[0].config.size == 16 && r2 == 0 && cap == 1234,
	      "GET_CONFIG: 12-byte head + size asked; the bytes come back (r=%d capacity=%llu)", r2,
	      (unsigned long long)cap);
}

/* --- The device: what it refuses at creation, against a listening backend. --- */
static char sock_path[108];
static int listen_fd;
static uint64_t offer_features, offer_protocol;
static uint32_t seen[64], refuse; /* requests the backend got; the one it refuses (ack 1) */
static int nseen;

static void *backend_main(void *arg)
{
	struct script *s = arg;
	struct vhost_user_hdr h;
	union vhost_user_payload p;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;

	(void)s;
	nseen = 0;
	peer_fd = accept(listen_fd, NULL, NULL);
	while (peer_read(&h, &p, fds, &nfds) == 0) {
		if (nseen < 64)
			seen[nseen++] = h.request;
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		if (h.request == VHOST_USER_GET_VRING_BASE) {
			p.state.num = 9;
			peer_reply(h.request, &p, sizeof(p.state), 64);
		} else if (h.request == VHOST_USER_GET_FEATURES)
			peer_reply_u64(h.request, offer_features, 64);
		else if (h.request == VHOST_USER_GET_PROTOCOL_FEATURES)
			peer_reply_u64(h.request, offer_protocol, 64);
		else if (h.request == VHOST_USER_GET_CONFIG)
			peer_reply(h.request, &p, h.size, 64);
		else if (h.flags & VHOST_USER_NEED_REPLY_MASK)
			peer_reply_u64(h.request, h.request == refuse, 64);
	}
	close(peer_fd);
	return NULL;
}

static int create_against(uint64_t features, uint64_t protocol, struct virtio_dev **out)
{
	static struct vm vm;
	struct blk_config cfg = {.io = BLK_IO_VHOST_USER, .socket = sock_path};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct script s = {0};
	int r;

	vm.mem.fd = memfd_create("ram", MFD_CLOEXEC);
	ftruncate(vm.mem.fd, 1 << 20);
	vm.mem.lo = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, vm.mem.fd, 0);
	vm.mem.lo_size = 1 << 20;
	snprintf(sock_path, sizeof(sock_path), "/tmp/kvmscope-test-vu-%d.sock", getpid());
	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	listen(listen_fd, 1);
	offer_features = features;
	offer_protocol = protocol;
	pthread_create(&peer, NULL, backend_main, &s);
	r = blk_create(&vm, &cfg, out);
	if (r < 0)
		shutdown(peer_fd, SHUT_RDWR); /* nothing more to say: end the backend */
	return r;
}

static void created_done(struct virtio_dev *vdev)
{
	if (vdev)
		blk_destroy(vdev);
	pthread_join(peer, NULL);
	close(listen_fd);
	unlink(sock_path);
}

static void test_device(void)
{
	const uint64_t ring = 1ULL << VIRTIO_RING_F_INDIRECT_DESC |
			      1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1;
	const uint64_t pf = 1ULL << VHOST_USER_F_PROTOCOL_FEATURES;
	const uint64_t config = 1ULL << VHOST_USER_PROTOCOL_F_CONFIG;
	struct virtio_dev *vdev = NULL;
	int r;

	r = create_against(pf | (ring & ~(1ULL << VIRTIO_F_VERSION_1)), config, &vdev);
	created_done(r == 0 ? vdev : NULL);
	CHECK(r == -ENOTSUP, "device: a backend without VERSION_1 is refused at creation (%d)", r);

	vdev = NULL;
	r = create_against(pf | (ring & ~(1ULL << VIRTIO_RING_F_EVENT_IDX)), config, &vdev);
	CHECK(r == 0 && vdev && !(vdev->host_features & 1ULL << VIRTIO_RING_F_EVENT_IDX) &&
		  (vdev->host_features & 1ULL << VIRTIO_RING_F_INDIRECT_DESC),
	      "device: a backend without EVENT_IDX: the driver is not offered it (%d)", r);
	created_done(r == 0 ? vdev : NULL);

	vdev = NULL;
	r = create_against(pf | ring, 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK, &vdev);
	created_done(r == 0 ? vdev : NULL);
	CHECK(r == -ENOTSUP, "device: a backend without F_CONFIG is refused at creation (%d)", r);

	vdev = NULL;
	r = create_against(pf | ring | 1ULL << VIRTIO_BLK_F_FLUSH | 1ULL << VIRTIO_BLK_F_MQ |
			       1ULL << VHOST_F_LOG_ALL,
			   config | 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK, &vdev);
	CHECK(r == 0 && vdev && (vdev->host_features & 1ULL << VIRTIO_BLK_F_FLUSH) &&
		  !(vdev->host_features & (1ULL << VIRTIO_BLK_F_MQ | 1ULL << VHOST_F_LOG_ALL)),
	      "device: the driver is offered the backend's blk features kvmscope knows, never "
	      "MQ or LOG_ALL (0x%llx)",
	      vdev ? (unsigned long long)vdev->host_features : 0ULL);
	created_done(r == 0 ? vdev : NULL);
}

/* DRIVER_OK with queue 0 in RAM: what the backend is told, in order; then a reset. */
static void driver_ok(struct virtio_dev *vdev)
{
	struct virtqueue *vq = &vdev->vqs[0];

	vq->size = 64;
	vq->desc = 0x1000;
	vq->avail = 0x2000;
	vq->used = 0x3000;
	vq->ready = true;
	vdev->driver_features = 1ULL << VIRTIO_F_VERSION_1;
	pthread_mutex_lock(&vdev->lock);
	virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				    VIRTIO_CONFIG_S_FEATURES_OK);
	virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_DRIVER_OK);
	pthread_mutex_unlock(&vdev->lock);
}

static bool seen_in_order(const uint32_t *want, int n, int from)
{
	for (int i = 0; i < n; i++)
		if (from + i >= nseen || seen[from + i] != want[i])
			return false;
	return true;
}

static int seen_at(uint32_t request)
{
	for (int i = 0; i < nseen; i++)
		if (seen[i] == request)
			return i;
	return -1;
}

static void test_device_start(void)
{
	const uint64_t ring = 1ULL << VIRTIO_RING_F_INDIRECT_DESC |
			      1ULL << VIRTIO_RING_F_EVENT_IDX | 1ULL << VIRTIO_F_VERSION_1 |
			      1ULL << VHOST_USER_F_PROTOCOL_FEATURES;
	const uint64_t pf =
	    1ULL << VHOST_USER_PROTOCOL_F_CONFIG | 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK;
	static const uint32_t start_seq[] = {
	    VHOST_USER_SET_FEATURES,   VHOST_USER_SET_MEM_TABLE,   VHOST_USER_SET_VRING_NUM,
	    VHOST_USER_SET_VRING_BASE, VHOST_USER_SET_VRING_ADDR,  VHOST_USER_SET_VRING_CALL,
	    VHOST_USER_SET_VRING_KICK, VHOST_USER_SET_VRING_ENABLE};
	static const uint32_t stop_seq[] = {VHOST_USER_SET_VRING_ENABLE, VHOST_USER_GET_VRING_BASE};
	struct virtio_dev *vdev = NULL;
	int r, at;

	refuse = 0;
	r = create_against(ring, pf, &vdev);
	if (r == 0) {
		driver_ok(vdev);
		at = seen_at(VHOST_USER_SET_FEATURES);
		CHECK(at >= 0 && seen_in_order(start_seq, 8, at) &&
			  !(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET),
		      "DRIVER_OK: features, memory table, ring num/base/addr, call, kick, enable, "
		      "in that order (status 0x%x)",
		      vdev->status);
		virtio_reset(vdev);
		CHECK(seen_in_order(stop_seq, 2, at + 8) && vdev->vqs[0].last_avail == 0,
		      "reset: the ring is disabled and stopped (GET_VRING_BASE), then forgotten");
	}
	created_done(r == 0 ? vdev : NULL);
	CHECK(r == 0, "device: created against an able backend (%d)", r);

	refuse = VHOST_USER_SET_FEATURES;
	vdev = NULL;
	r = create_against(ring, pf, &vdev);
	if (r == 0) {
		driver_ok(vdev);
		CHECK((vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET) &&
			  seen_at(VHOST_USER_SET_MEM_TABLE) < 0,
		      "a backend refusing SET_FEATURES: the device needs a reset, nothing more is "
		      "sent (status 0x%x)",
		      vdev->status);
	}
	created_done(r == 0 ? vdev : NULL);
	refuse = 0;
}

/* --- the decoder --- */
static char buf[512];

static const char *arg(enum trace_event ev, unsigned i, uint64_t a0, uint64_t a1, uint64_t a2,
		       uint64_t a3)
{
	struct trace_rec r = {.ev = ev, .a = {a0, a1, a2, a3}};
	return trace_decode_arg(NULL, &r, i, buf, sizeof(buf));
}

static void test_decode(void)
{
	const uint32_t reply = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	const enum trace_event rx = TRACE_EV_VHOST_USER_RECV, tx = TRACE_EV_VHOST_USER_SEND;
	/* Slots: request|flags, size|fds, payload, payload2; args 0-1, 2-3, 4, 5. */
	static const struct {
		const char *what;
		int rx;
		unsigned arg;
		uint32_t request, flags, size;
		uint64_t payload, payload2;
		const char *want;
	} cases[] = {
	    {"request", 0, 0, VHOST_USER_SET_VRING_KICK, 1, 8, 0, 0, "SET_VRING_KICK"},
	    {"flags", 0, 1, 5, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK, 0, 0, 0,
	     "v1|NEED_REPLY"},
	    {"protocol features", 1, 4, VHOST_USER_GET_PROTOCOL_FEATURES, 1, 8,
	     1 << 3 | 1 << 9 | 1ULL << 40, 0, "REPLY_ACK|CONFIG|bit40"},
	    {"features, with vhost-user's own bit", 1, 4, VHOST_USER_GET_FEATURES, 1, 8,
	     1ULL << 32 | 1ULL << 30 | 1 << 9, 0, "BLK_F_FLUSH|F_VERSION_1|PROTOCOL_FEATURES"},
	    {"GET_VRING_BASE's request", 0, 4, VHOST_USER_GET_VRING_BASE, 1, 8, 0, 0, "queue=0"},
	    {"GET_VRING_BASE's reply", 1, 4, VHOST_USER_GET_VRING_BASE, 1, 8, TRACE_PAIR(0, 15), 0,
	     "queue=0 base=15"},
	    {"SET_VRING_NUM", 0, 4, VHOST_USER_SET_VRING_NUM, 1, 8, TRACE_PAIR(0, 256), 0,
	     "queue=0 num=256"},
	    {"an ack", 1, 4, VHOST_USER_SET_VRING_NUM, 1, 8, 0, 0, "ack=0 (ok)"},
	    {"kick/call without an fd", 0, 4, VHOST_USER_SET_VRING_CALL, 1, 8,
	     VHOST_USER_VRING_NOFD_MASK, 0, "queue=0 no-fd"},
	    {"GET_CONFIG's reply shows the capacity", 1, 5, VHOST_USER_GET_CONFIG, 1, 72,
	     TRACE_PAIR(0, 60), 16384, "capacity=16384"},
	    {"an empty reply", 1, 4, VHOST_USER_GET_CONFIG, 1, 0, 0, 0,
	     "empty (the backend could not answer)"},
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t flags = cases[i].rx && cases[i].flags == 1 ? reply : cases[i].flags;
		const char *got =
		    arg(cases[i].rx ? rx : tx, cases[i].arg, TRACE_PAIR(cases[i].request, flags),
			TRACE_PAIR(cases[i].size, 0), cases[i].payload, cases[i].payload2);
		CHECK(!strcmp(got, cases[i].want), "decode: %s -> %s", cases[i].what, got);
	}
	CHECK(!strcmp(arg(TRACE_EV_VHOST_USER_ERROR, 2, 0, 0, (uint64_t)(int64_t)-ECONNRESET, 0),
		      strerror(ECONNRESET)),
	      "decode: errno -> %s", buf);
}

static void test_parse(void)
{
	enum blk_io io;
	const char *sock;

	CHECK(blk_io_parse_opts("vhost-user,socket=/run/vu.sock", &io, &sock) == 0 &&
		  io == BLK_IO_VHOST_USER && !strcmp(sock, "/run/vu.sock"),
	      "--blk-io vhost-user,socket=PATH: the path");
	CHECK(blk_io_parse_opts("uring", &io, &sock) == 0 && io == BLK_IO_URING && !sock,
	      "--blk-io uring: no socket");
	CHECK(blk_io_parse_opts("vhost-user", &io, &sock) == -EINVAL &&
		  blk_io_parse_opts("vhost-user,socket=", &io, &sock) == -EINVAL &&
		  blk_io_parse_opts("vhost-user,sock=/x", &io, &sock) == -EINVAL &&
		  blk_io_parse_opts("vcpu,socket=/x", &io, &sock) == -EINVAL &&
		  blk_io_parse_opts("vhost-user-with-a-long-tail,socket=/x", &io, &sock) == -EINVAL,
	      "--blk-io: vhost-user needs socket=PATH, the others take no options");
}

int main(void)
{
	test_parse();
	test_framing();
	test_fds_and_acks();
	test_mem_table();
	test_recv_fds();
	test_failures();
	test_config();
	test_device();
	test_device_start();
	test_decode();
	return CHECK_DONE();
}
