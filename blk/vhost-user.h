/* blk/vhost-user.h - kvmscope's vhost-user front end: the connection and its messages
 * (blk/vhost-user-msg.c), used by the vhost-user-blk device (blk/vhost-user-blk.c). Inside
 * blk/ only; tests/unit/test_vhost_user.c drives it against a socketpair peer. */
#ifndef KVMSCOPE_BLK_VHOST_USER_H
#define KVMSCOPE_BLK_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/vhost-user-proto.h"

#define VHOST_USER_TIMEOUT_MS 5000 /* a backend silent this long is dead to us */

/* One message: header, payload, and the fds that travel with it (not on the wire). */
struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union vhost_user_payload payload;
	int fds[VHOST_USER_MAX_FDS];
	unsigned nfds;
};

struct vhost_user_conn {
	int fd;			    /* the unix socket, -1 once closed */
	uint16_t dev;		    /* the device's trace id */
	int timeout_ms;		    /* how long a reply may take */
	uint64_t protocol_features; /* negotiated; REPLY_ACK makes every SET_* answer */
	bool dead;		    /* the socket failed: every call fails at once (atomic) */
	uint32_t last_request;	    /* the last request sent, to name what a failure interrupted */
};

/* Connect to the backend's socket at path. -errno; the caller names the path. */
int vhost_user_connect(struct vhost_user_conn *c, const char *path, uint16_t dev);
/* Adopt a connected socket (the tests' socketpair). */
void vhost_user_adopt(struct vhost_user_conn *c, int fd, uint16_t dev);
void vhost_user_close(struct vhost_user_conn *c);

/* Send m (hdr.size bytes of payload, m->nfds fds by SCM_RIGHTS); traced. 0 or -errno. */
int vhost_user_send(struct vhost_user_conn *c, struct vhost_user_msg *m);
/* Receive one whole message, however the bytes arrive; its fds are the caller's to close.
 * -ECONNRESET when the peer closed, -ETIMEDOUT after timeout_ms, -EPROTO for a bad header. */
int vhost_user_recv(struct vhost_user_conn *c, struct vhost_user_msg *m);
/* Send m and wait for its reply (same request, REPLY set) into reply. */
int vhost_user_call(struct vhost_user_conn *c, struct vhost_user_msg *m,
		    struct vhost_user_msg *reply);

/* The requests with a plain payload. A SET_* waits for the backend's ack when REPLY_ACK was
 * negotiated (-EREMOTEIO when it refused). fd < 0: none (SET_VRING_KICK/CALL then say NOFD). */
int vhost_user_get_u64(struct vhost_user_conn *c, uint32_t request, uint64_t *out);
int vhost_user_set_u64(struct vhost_user_conn *c, uint32_t request, uint64_t v, int fd);
int vhost_user_set_state(struct vhost_user_conn *c, uint32_t request, unsigned index, unsigned num);
int vhost_user_set_none(struct vhost_user_conn *c, uint32_t request); /* SET_OWNER */
/* Any SET_* already built in m (the memory table, ring addresses, config). */
int vhost_user_set(struct vhost_user_conn *c, struct vhost_user_msg *m);
/* GET_VRING_BASE: stops the ring in the backend and returns where it stopped. */
int vhost_user_get_vring_base(struct vhost_user_conn *c, unsigned index, unsigned *base);
/* GET_CONFIG of size bytes from offset 0 into buf; -EREMOTEIO for an empty reply. */
int vhost_user_get_config(struct vhost_user_conn *c, void *buf, uint32_t size);

/* "SET_FEATURES" ... for messages to the user. */
const char *vhost_user_request_name(uint32_t request);
/* Record a failure as a vhost_user_error event (why: a short phrase). Returns err. */
int vhost_user_fail(struct vhost_user_conn *c, const char *why, uint32_t request, int err);

#endif
