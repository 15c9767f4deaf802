/* trace/decode-vhost-user.c - vhost-user messages into words: the request, the header flags and
 * the payload, which means something different for each request (QEMU's
 * docs/interop/vhost-user.rst, "Front-end message types"). */
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <string.h>

#include "trace/vhost-user-proto.h"
#include "trace/internal.h"

#define NAME_(name, n) [n] = #name,
static const char *const requests[] = {VHOST_USER_REQUESTS(NAME_)};
static const char *const protocol_features[] = {VHOST_USER_PROTOCOL_FEATURES(NAME_)};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t arg(const struct trace_event_info *e, const uint64_t a[4], const char *name)
{
	for (unsigned i = 0; e->args[i].name; i++)
		if (!strcmp(e->args[i].name, name))
			return trace_arg_value(e, i, a);
	return 0;
}

static const char *request_name(uint64_t r)
{
	return r < COUNT(requests) && requests[r] ? requests[r] : NULL;
}

static const char *flags_words(uint64_t f, char *buf, size_t len)
{
	snprintf(buf, len, "v%u%s%s", (unsigned)(f & VHOST_USER_VERSION_MASK),
		 f & VHOST_USER_REPLY_MASK ? "|REPLY" : "",
		 f & VHOST_USER_NEED_REPLY_MASK ? "|NEED_REPLY" : "");
	return buf;
}

static const char *protocol_words(uint64_t v, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (unsigned b = 0; b < 64 && at < len; b++) {
		if (!(v >> b & 1))
			continue;
		if (b < COUNT(protocol_features) && protocol_features[b])
			at += snprintf(buf + at, len - at, "%s%s", at ? "|" : "",
				       protocol_features[b]);
		else
			at += snprintf(buf + at, len - at, "%sbit%u", at ? "|" : "", b);
	}
	return at ? buf : strcpy(buf, "0");
}

/* Replies to these carry a value; replies to anything else are REPLY_ACK's status. */
static int returns_value(uint64_t req)
{
	return req == VHOST_USER_GET_FEATURES || req == VHOST_USER_GET_PROTOCOL_FEATURES ||
	       req == VHOST_USER_GET_VRING_BASE || req == VHOST_USER_GET_CONFIG ||
	       req == VHOST_USER_GET_QUEUE_NUM || req == VHOST_USER_GET_MAX_MEM_SLOTS ||
	       req == VHOST_USER_GET_STATUS;
}

/* Payloads of two 32-bit halves (a vring state, the config's offset and size), by request. */
static const struct {
	uint32_t req;
	const char *fmt;
} pairs[] = {
    {VHOST_USER_SET_VRING_NUM, "queue=%u num=%u"},
    {VHOST_USER_SET_VRING_BASE, "queue=%u base=%u"},
    {VHOST_USER_GET_VRING_BASE, "queue=%u base=%u"},
    {VHOST_USER_SET_VRING_ENABLE, "queue=%u enable=%u"},
    {VHOST_USER_SET_VRING_ADDR, "queue=%u flags=0x%x"},
    {VHOST_USER_GET_CONFIG, "offset=%u size=%u"},
    {VHOST_USER_SET_CONFIG, "offset=%u size=%u"},
};

/* The first payload slot, by request. */
static const char *payload(uint64_t req, uint64_t flags, uint64_t size, uint64_t v, char *buf,
			   size_t len)
{
	uint32_t lo = (uint32_t)v, hi = v >> 32;
	char f[512];

	if (flags & VHOST_USER_REPLY_MASK && !returns_value(req)) {
		snprintf(buf, len, "ack=%llu (%s)", (unsigned long long)v, v ? "refused" : "ok");
		return buf;
	}
	if (flags & VHOST_USER_REPLY_MASK && size == 0) {
		snprintf(buf, len, "empty (the backend could not answer)");
		return buf;
	}
	if (size == 0)
		return strcpy(buf, "-");
	switch (req) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_SET_FEATURES:
		trace_decode_features(
		    v & ~(1ULL << VHOST_USER_F_PROTOCOL_FEATURES | 1ULL << VHOST_F_LOG_ALL), 0,
		    VIRTIO_ID_BLOCK, f, sizeof(f));
		snprintf(buf, len, "%s%s%s", f, v >> VHOST_F_LOG_ALL & 1 ? "|LOG_ALL" : "",
			 v >> VHOST_USER_F_PROTOCOL_FEATURES & 1 ? "|PROTOCOL_FEATURES" : "");
		return buf;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		return protocol_words(v, buf, len);
	case VHOST_USER_SET_MEM_TABLE:
		snprintf(buf, len, "%u region%s", lo, lo == 1 ? "" : "s");
		return buf;
	case VHOST_USER_GET_VRING_BASE: /* the request names the queue; the reply adds the base */
		if (!(flags & VHOST_USER_REPLY_MASK)) {
			snprintf(buf, len, "queue=%u", lo);
			return buf;
		}
		break;
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		snprintf(buf, len, "queue=%u%s", (unsigned)(v & VHOST_USER_VRING_IDX_MASK),
			 v & VHOST_USER_VRING_NOFD_MASK ? " no-fd" : "");
		return buf;
	}
	for (unsigned i = 0; i < COUNT(pairs); i++) {
		if (pairs[i].req == req) {
			snprintf(buf, len, pairs[i].fmt, lo, hi);
			return buf;
		}
	}
	snprintf(buf, len, "0x%llx", (unsigned long long)v);
	return buf;
}

/* The second payload slot: the config bytes' start (GET/SET_CONFIG), else nothing. */
static const char *payload2(uint64_t req, uint64_t flags, uint64_t p1, uint64_t v, char *buf,
			    size_t len)
{
	uint32_t off = (uint32_t)p1, size = p1 >> 32;

	if ((req == VHOST_USER_GET_CONFIG && (flags & VHOST_USER_REPLY_MASK)) ||
	    req == VHOST_USER_SET_CONFIG) {
		if (off == 0 && size >= 8) /* virtio 1.2 §5.2.4: capacity, in 512-byte sectors */
			snprintf(buf, len, "capacity=%llu", (unsigned long long)v);
		else
			snprintf(buf, len, "bytes=0x%llx", (unsigned long long)v);
		return buf;
	}
	return strcpy(buf, "-");
}

const char *trace_decode_vhost_user(const struct trace_event_info *e, const uint64_t a[4],
				    unsigned i, char *buf, size_t len)
{
	uint64_t v = trace_arg_value(e, i, a), req = arg(e, a, "request");
	uint64_t flags = arg(e, a, "flags");
	const char *name;

	switch (e->args[i].fmt) {
	case TRACE_FMT_VUREQ:
		name = request_name(v);
		if (name)
			snprintf(buf, len, "%s", name);
		else
			snprintf(buf, len, "%llu", (unsigned long long)v);
		return buf;
	case TRACE_FMT_VUFLAGS:
		return flags_words(v, buf, len);
	default:
		if (!strcmp(e->args[i].name, "payload2"))
			return payload2(req, flags, arg(e, a, "payload"), v, buf, len);
		return payload(req, flags, arg(e, a, "size"), v, buf, len);
	}
}
