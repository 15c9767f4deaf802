/* blk/vhost-user-msg.c - the vhost-user front end's messages: framing on a unix stream socket,
 * fds by SCM_RIGHTS, replies and acks, and a trace event for every message either way.
 * Callers serialize (the device calls under its virtio lock). */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "blk/vhost-user.h"
#include "trace/trace.h"

#define NAME_(name, n) [n] = #name,
static const char *const names[] = {VHOST_USER_REQUESTS(NAME_)};

const char *vhost_user_request_name(uint32_t request)
{
	return request < sizeof(names) / sizeof(names[0]) && names[request] ? names[request]
									    : "request";
}

static bool is_dead(struct vhost_user_conn *c)
{
	return __atomic_load_n(&c->dead, __ATOMIC_ACQUIRE);
}

static void set_dead(struct vhost_user_conn *c)
{
	__atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
}

void vhost_user_adopt(struct vhost_user_conn *c, int fd, uint16_t dev)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->dev = dev;
	c->timeout_ms = VHOST_USER_TIMEOUT_MS;
}

int vhost_user_connect(struct vhost_user_conn *c, const char *path, uint16_t dev)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	vhost_user_adopt(c, fd, dev);
	return 0;
}

void vhost_user_close(struct vhost_user_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	set_dead(c);
}

int vhost_user_fail(struct vhost_user_conn *c, const char *why, uint32_t request, int err)
{
	TRACE(VHOST_USER_ERROR, c->dev, trace_intern(why), request, (uint64_t)(int64_t)err);
	return err;
}

/* The words a message's event carries; the big payloads add events of their own. */
static void trace_msg(struct vhost_user_conn *c, const struct vhost_user_msg *m, bool sent)
{
	const union vhost_user_payload *p = &m->payload;
	uint64_t p0 = 0, p1 = 0, head = TRACE_PAIR(m->hdr.request, m->hdr.flags);
	uint64_t sz = TRACE_PAIR(m->hdr.size, m->nfds);

	if (!trace_on(sent ? TRACE_EV_VHOST_USER_SEND : TRACE_EV_VHOST_USER_RECV))
		return;
	switch (m->hdr.request) {
	case VHOST_USER_SET_MEM_TABLE:
		p0 = m->hdr.size >= sizeof(uint32_t) ? p->mem.nregions : 0;
		break;
	case VHOST_USER_SET_VRING_ADDR:
		p0 = TRACE_PAIR(p->addr.index, p->addr.flags);
		break;
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		p0 = TRACE_PAIR(p->config.offset, p->config.size);
		if (m->hdr.size >= offsetof(struct vhost_user_config, region) + 8)
			memcpy(&p1, p->config.region, 8);
		break;
	default: /* u64, or a vring state whose two halves make one */
		if (m->hdr.size >= sizeof(uint64_t))
			p0 = p->u64;
	}
	if (m->hdr.size < sizeof(uint64_t) && m->hdr.request != VHOST_USER_SET_MEM_TABLE)
		p0 = p1 = 0;
	if (sent)
		TRACE(VHOST_USER_SEND, c->dev, head, sz, p0, p1);
	else
		TRACE(VHOST_USER_RECV, c->dev, head, sz, p0, p1);
	if (sent && m->hdr.request == VHOST_USER_SET_MEM_TABLE)
		for (unsigned i = 0; i < p->mem.nregions && i < VHOST_USER_MAX_RAM_SLOTS; i++)
			TRACE(VHOST_USER_REGION, c->dev, p->mem.regions[i].guest_phys_addr,
			      p->mem.regions[i].memory_size, p->mem.regions[i].userspace_addr,
			      p->mem.regions[i].mmap_offset);
	if (sent && m->hdr.request == VHOST_USER_SET_VRING_ADDR)
		TRACE(VHOST_USER_VRING_ADDR, c->dev, p->addr.desc_user_addr,
		      p->addr.avail_user_addr, p->addr.used_user_addr, p->addr.log_guest_addr);
}

int vhost_user_send(struct vhost_user_conn *c, struct vhost_user_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {{&m->hdr, sizeof(m->hdr)}, {&m->payload, m->hdr.size}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	size_t left = sizeof(m->hdr) + m->hdr.size;

	if (m->hdr.size > sizeof(m->payload) || m->nfds > VHOST_USER_MAX_FDS)
		return -EINVAL;
	if (is_dead(c))
		return -ECONNRESET;
	trace_msg(c, m, true);
	c->last_request = m->hdr.request;
	if (m->nfds) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * m->nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * m->nfds);
		memcpy(CMSG_DATA(cm), m->fds, sizeof(int) * m->nfds);
	}
	while (left) {
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			set_dead(c);
			return vhost_user_fail(c, "cannot send to the backend", m->hdr.request,
					       err);
		}
		left -= n;
		/* A short send: the fds went with the first bytes; send the rest plainly. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (n > 0 && mh.msg_iovlen) {
			size_t take =
			    (size_t)n < mh.msg_iov->iov_len ? (size_t)n : mh.msg_iov->iov_len;

			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + take;
			mh.msg_iov->iov_len -= take;
			n -= take;
			if (mh.msg_iov->iov_len == 0) {
				mh.msg_iov++;
				mh.msg_iovlen--;
			}
		}
	}
	return 0;
}

/* Keep the fds a cmsg brought (closing any past the message's room). */
static void take_fds(struct msghdr *mh, struct vhost_user_msg *m)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		int *fds = (int *)CMSG_DATA(cm);
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (m->nfds < VHOST_USER_MAX_FDS)
				m->fds[m->nfds++] = fds[i];
			else
				close(fds[i]);
		}
	}
}

/* Exactly len bytes into buf, waiting at most timeout_ms for each piece. */
static int read_full(struct vhost_user_conn *c, void *buf, size_t len, struct vhost_user_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;

	while (len) {
		struct iovec iov = {buf, len};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int r = poll(&pfd, 1, c->timeout_ms);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		take_fds(&mh, m);
		if (n == 0)
			return -ECONNRESET; /* the backend closed the socket */
		buf = (char *)buf + n;
		len -= n;
	}
	return 0;
}

static const char *recv_why(int err)
{
	return err == -ECONNRESET  ? "the backend closed the socket"
	       : err == -ETIMEDOUT ? "no reply from the backend in time"
	       : err == -EPROTO	   ? "a malformed message from the backend"
				   : "cannot read from the backend";
}

int vhost_user_recv(struct vhost_user_conn *c, struct vhost_user_msg *m)
{
	int r;

	m->nfds = 0;
	m->hdr = (struct vhost_user_hdr){0};
	if (is_dead(c))
		return -ECONNRESET;
	r = read_full(c, &m->hdr, sizeof(m->hdr), m);
	if (r == 0 && ((m->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
		       m->hdr.size > sizeof(m->payload)))
		r = -EPROTO; /* the stream cannot be followed past this header */
	if (r == 0)
		r = read_full(c, &m->payload, m->hdr.size, m);
	if (r < 0) {
		for (unsigned i = 0; i < m->nfds; i++)
			close(m->fds[i]);
		m->nfds = 0;
		set_dead(c);
		return vhost_user_fail(c, recv_why(r), m->hdr.request, r);
	}
	trace_msg(c, m, false);
	return 0;
}

int vhost_user_call(struct vhost_user_conn *c, struct vhost_user_msg *m,
		    struct vhost_user_msg *reply)
{
	int r = vhost_user_send(c, m);

	if (r == 0)
		r = vhost_user_recv(c, reply);
	if (r < 0)
		return r;
	if (reply->hdr.request != m->hdr.request || !(reply->hdr.flags & VHOST_USER_REPLY_MASK)) {
		for (unsigned i = 0; i < reply->nfds; i++)
			close(reply->fds[i]);
		set_dead(c); /* out of step: what comes next answers something else */
		return vhost_user_fail(c, "a reply to another request", m->hdr.request, -EPROTO);
	}
	return 0;
}

static void msg_init(struct vhost_user_msg *m, uint32_t request, uint32_t size)
{
	memset(m, 0, offsetof(struct vhost_user_msg, payload) + sizeof(uint64_t));
	m->hdr.request = request;
	m->hdr.flags = VHOST_USER_VERSION;
	m->hdr.size = size;
	m->nfds = 0;
}

int vhost_user_set(struct vhost_user_conn *c, struct vhost_user_msg *m)
{
	struct vhost_user_msg reply;
	int r;

	if (!(c->protocol_features & 1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK))
		return vhost_user_send(c, m);
	m->hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	r = vhost_user_call(c, m, &reply);
	if (r < 0)
		return r;
	if (reply.hdr.size != sizeof(uint64_t) || reply.payload.u64 != 0)
		return vhost_user_fail(c, "the backend refused the request", m->hdr.request,
				       -EREMOTEIO);
	return 0;
}

int vhost_user_set_none(struct vhost_user_conn *c, uint32_t request)
{
	struct vhost_user_msg m;

	msg_init(&m, request, 0);
	return vhost_user_set(c, &m);
}

int vhost_user_set_u64(struct vhost_user_conn *c, uint32_t request, uint64_t v, int fd)
{
	struct vhost_user_msg m;

	msg_init(&m, request, sizeof(uint64_t));
	m.payload.u64 = v;
	if (fd >= 0)
		m.fds[m.nfds++] = fd;
	else if (request == VHOST_USER_SET_VRING_KICK || request == VHOST_USER_SET_VRING_CALL ||
		 request == VHOST_USER_SET_VRING_ERR)
		m.payload.u64 |= VHOST_USER_VRING_NOFD_MASK;
	return vhost_user_set(c, &m);
}

int vhost_user_set_state(struct vhost_user_conn *c, uint32_t request, unsigned index, unsigned num)
{
	struct vhost_user_msg m;

	msg_init(&m, request, sizeof(struct vhost_vring_state));
	m.payload.state.index = index;
	m.payload.state.num = num;
	return vhost_user_set(c, &m);
}

/* A GET whose reply is exactly size bytes of payload. */
static int get(struct vhost_user_conn *c, struct vhost_user_msg *m, struct vhost_user_msg *reply,
	       uint32_t size)
{
	int r = vhost_user_call(c, m, reply);

	for (unsigned i = 0; r == 0 && i < reply->nfds; i++)
		close(reply->fds[i]);
	if (r == 0 && reply->hdr.size != size)
		r = vhost_user_fail(c,
				    reply->hdr.size ? "a reply of the wrong size"
						    : "the backend could not answer",
				    m->hdr.request, reply->hdr.size ? -EPROTO : -EREMOTEIO);
	return r;
}

int vhost_user_get_u64(struct vhost_user_conn *c, uint32_t request, uint64_t *out)
{
	struct vhost_user_msg m, reply;
	int r;

	msg_init(&m, request, 0);
	r = get(c, &m, &reply, sizeof(uint64_t));
	if (r == 0)
		*out = reply.payload.u64;
	return r;
}

int vhost_user_get_vring_base(struct vhost_user_conn *c, unsigned index, unsigned *base)
{
	struct vhost_user_msg m, reply;
	int r;

	msg_init(&m, VHOST_USER_GET_VRING_BASE, sizeof(struct vhost_vring_state));
	m.payload.state.index = index;
	r = get(c, &m, &reply, sizeof(struct vhost_vring_state));
	if (r == 0)
		*base = reply.payload.state.num;
	return r;
}

int vhost_user_get_config(struct vhost_user_conn *c, void *buf, uint32_t size)
{
	const uint32_t head = offsetof(struct vhost_user_config, region);
	struct vhost_user_msg m, reply;
	int r;

	if (size > VHOST_USER_MAX_CONFIG_SIZE)
		return -EINVAL;
	msg_init(&m, VHOST_USER_GET_CONFIG, head + size);
	memset(&m.payload.config, 0, head + size);
	m.payload.config.size = size;
	r = get(c, &m, &reply, head + size);
	if (r == 0)
		memcpy(buf, reply.payload.config.region, size);
	return r;
}
