/* trace/vhost-user-proto.h - the vhost-user wire protocol (QEMU's docs/interop/vhost-user.rst):
 * numbers and layouts only, like a uapi header (there is none for vhost-user). blk/ speaks it
 * and trace/ names what it recorded, so it sits on the ground floor, as a uapi header would
 * below every floor; it holds no code. The vring structs come from the kernel's
 * linux/vhost_types.h, which vhost-user shares. */
#ifndef KVMSCOPE_TRACE_VHOST_USER_PROTO_H
#define KVMSCOPE_TRACE_VHOST_USER_PROTO_H

#include <linux/vhost_types.h>
#include <stdint.h>

/* Front-end requests: X(name, number). */
#define VHOST_USER_REQUESTS(X)                                                                     \
	X(GET_FEATURES, 1)                                                                         \
	X(SET_FEATURES, 2)                                                                         \
	X(SET_OWNER, 3)                                                                            \
	X(RESET_OWNER, 4)                                                                          \
	X(SET_MEM_TABLE, 5)                                                                        \
	X(SET_LOG_BASE, 6)                                                                         \
	X(SET_LOG_FD, 7)                                                                           \
	X(SET_VRING_NUM, 8)                                                                        \
	X(SET_VRING_ADDR, 9)                                                                       \
	X(SET_VRING_BASE, 10)                                                                      \
	X(GET_VRING_BASE, 11)                                                                      \
	X(SET_VRING_KICK, 12)                                                                      \
	X(SET_VRING_CALL, 13)                                                                      \
	X(SET_VRING_ERR, 14)                                                                       \
	X(GET_PROTOCOL_FEATURES, 15)                                                               \
	X(SET_PROTOCOL_FEATURES, 16)                                                               \
	X(GET_QUEUE_NUM, 17)                                                                       \
	X(SET_VRING_ENABLE, 18)                                                                    \
	X(SEND_RARP, 19)                                                                           \
	X(NET_SET_MTU, 20)                                                                         \
	X(SET_BACKEND_REQ_FD, 21)                                                                  \
	X(IOTLB_MSG, 22)                                                                           \
	X(SET_VRING_ENDIAN, 23)                                                                    \
	X(GET_CONFIG, 24)                                                                          \
	X(SET_CONFIG, 25)                                                                          \
	X(CREATE_CRYPTO_SESSION, 26)                                                               \
	X(CLOSE_CRYPTO_SESSION, 27)                                                                \
	X(POSTCOPY_ADVISE, 28)                                                                     \
	X(POSTCOPY_LISTEN, 29)                                                                     \
	X(POSTCOPY_END, 30)                                                                        \
	X(GET_INFLIGHT_FD, 31)                                                                     \
	X(SET_INFLIGHT_FD, 32)                                                                     \
	X(GPU_SET_SOCKET, 33)                                                                      \
	X(RESET_DEVICE, 34)                                                                        \
	X(VRING_KICK, 35)                                                                          \
	X(GET_MAX_MEM_SLOTS, 36)                                                                   \
	X(ADD_MEM_REG, 37)                                                                         \
	X(REM_MEM_REG, 38)                                                                         \
	X(SET_STATUS, 39)                                                                          \
	X(GET_STATUS, 40)

#define VHOST_USER_ENUM_(name, n) VHOST_USER_##name = n,
enum vhost_user_request { VHOST_USER_REQUESTS(VHOST_USER_ENUM_) };

/* Protocol features (GET/SET_PROTOCOL_FEATURES): X(name, bit). */
#define VHOST_USER_PROTOCOL_FEATURES(X)                                                            \
	X(MQ, 0)                                                                                   \
	X(LOG_SHMFD, 1)                                                                            \
	X(RARP, 2)                                                                                 \
	X(REPLY_ACK, 3)                                                                            \
	X(NET_MTU, 4)                                                                              \
	X(BACKEND_REQ, 5)                                                                          \
	X(CROSS_ENDIAN, 6)                                                                         \
	X(CRYPTO_SESSION, 7)                                                                       \
	X(PAGEFAULT, 8)                                                                            \
	X(CONFIG, 9)                                                                               \
	X(BACKEND_SEND_FD, 10)                                                                     \
	X(HOST_NOTIFIER, 11)                                                                       \
	X(INFLIGHT_SHMFD, 12)                                                                      \
	X(RESET_DEVICE, 13)                                                                        \
	X(INBAND_NOTIFICATIONS, 14)                                                                \
	X(CONFIGURE_MEM_SLOTS, 15)                                                                 \
	X(STATUS, 16)

#define VHOST_USER_PF_ENUM_(name, bit) VHOST_USER_PROTOCOL_F_##name = bit,
enum { VHOST_USER_PROTOCOL_FEATURES(VHOST_USER_PF_ENUM_) };

/* The virtio feature bit that says GET/SET_PROTOCOL_FEATURES exist; never the guest's. */
#define VHOST_USER_F_PROTOCOL_FEATURES 30

/* Header flags: the version in bits 0-1, then who answers. */
#define VHOST_USER_VERSION	   0x1u
#define VHOST_USER_VERSION_MASK	   0x3u
#define VHOST_USER_REPLY_MASK	   (1u << 2)
#define VHOST_USER_NEED_REPLY_MASK (1u << 3)
/* SET_VRING_KICK/CALL/ERR: the queue index in bits 0-7; this bit: no fd comes with it. */
#define VHOST_USER_VRING_IDX_MASK  0xffu
#define VHOST_USER_VRING_NOFD_MASK (1u << 8)
#define VHOST_USER_MAX_FDS	   8   /* fds one message may carry */
#define VHOST_USER_MAX_RAM_SLOTS   8   /* regions in SET_MEM_TABLE */
#define VHOST_USER_MAX_CONFIG_SIZE 256 /* GET/SET_CONFIG payload */
#define VHOST_USER_CONFIG_WRITABLE 0   /* SET_CONFIG flags: a write by the driver */

/* The 12-byte header every message starts with, in host byte order. */
struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* payload bytes after the header */
};

/* SET_MEM_TABLE's region: unlike the kernel's vhost_memory_region, its last field is the
 * offset of the region in the fd passed for it. */
struct vhost_user_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t
	    userspace_addr; /* where the front end mapped it: ring addresses are in this space */
	uint64_t mmap_offset;
};

struct vhost_user_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_region regions[VHOST_USER_MAX_RAM_SLOTS];
};

struct vhost_user_config {
	uint32_t offset, size, flags;
	uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
};

union vhost_user_payload {
	uint64_t u64;
	struct vhost_vring_state state;
	struct vhost_vring_addr addr;
	struct vhost_user_mem mem;
	struct vhost_user_config config;
};

#endif
