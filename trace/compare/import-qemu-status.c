/* trace/compare/import-qemu-status.c - what QEMU's monitor said after the run (info virtio-status,
 * info virtio-queue-status), kept by guest/qemu-trace.sh in STEM-status.log beside the log. QEMU
 * 7.2 logs no feature negotiation and no queue setup; this snapshot of their outcome goes into
 * the imported trace's info block (qemu_host_features, qemu_guest_features, qemu_queueN), where
 * `kvmscope diff` compares it, marked as a snapshot rather than logged steps. */
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#include "trace/compare/compare.h"

#define QUEUES_MAX 16

/* The names QEMU 7.2's monitor gives feature bits (hw/virtio/virtio.c's tables). */
#define F(name)                                                                                    \
	{                                                                                          \
#name, name                                                                        \
	}
static const struct {
	const char *name;
	unsigned bit;
} names[] = {
    F(VIRTIO_F_NOTIFY_ON_EMPTY),
    {"VHOST_F_LOG_ALL", 26},
    F(VIRTIO_F_ANY_LAYOUT),
    F(VIRTIO_RING_F_INDIRECT_DESC),
    F(VIRTIO_RING_F_EVENT_IDX),
    {"VHOST_USER_F_PROTOCOL_FEATURES", 30},
    F(VIRTIO_F_VERSION_1),
    {"VIRTIO_F_IOMMU_PLATFORM", VIRTIO_F_ACCESS_PLATFORM},
    F(VIRTIO_F_RING_PACKED),
    F(VIRTIO_F_IN_ORDER),
    F(VIRTIO_F_ORDER_PLATFORM),
    F(VIRTIO_F_SR_IOV),
    F(VIRTIO_F_RING_RESET),
    F(VIRTIO_BLK_F_BARRIER),
    F(VIRTIO_BLK_F_SIZE_MAX),
    F(VIRTIO_BLK_F_SEG_MAX),
    F(VIRTIO_BLK_F_GEOMETRY),
    F(VIRTIO_BLK_F_RO),
    F(VIRTIO_BLK_F_BLK_SIZE),
    F(VIRTIO_BLK_F_SCSI),
    F(VIRTIO_BLK_F_FLUSH),
    F(VIRTIO_BLK_F_TOPOLOGY),
    F(VIRTIO_BLK_F_CONFIG_WCE),
    F(VIRTIO_BLK_F_MQ),
    F(VIRTIO_BLK_F_DISCARD),
    F(VIRTIO_BLK_F_WRITE_ZEROES),
    F(VIRTIO_BLK_F_SECURE_ERASE),
    {"VIRTIO_CONFIG_S_ACKNOWLEDGE", 0},
    {"VIRTIO_CONFIG_S_DRIVER", 1},
    {"VIRTIO_CONFIG_S_DRIVER_OK", 2},
    {"VIRTIO_CONFIG_S_FEATURES_OK", 3},
    {"VIRTIO_CONFIG_S_NEEDS_RESET", 6},
    {"VIRTIO_CONFIG_S_FAILED", 7},
};

enum section { NONE, STATUS, GUEST, HOST, BACKEND };

struct snapshot {
	uint64_t word[BACKEND + 1]; /* bits per section */
	bool have[BACKEND + 1];
	struct {
		bool seen;
		uint64_t num, desc, avail, used;
	} q[QUEUES_MAX];
	int queue;		    /* the queue being read, -1: none */
	unsigned long long num_vqs; /* the device's queues, 0: not said */
	bool blk;		    /* the first device is virtio-blk */
};

static void feature(struct trace_build *b, struct snapshot *s, enum section sec, const char *line,
		    size_t no)
{
	char name[64];
	unsigned long long unknown;
	if (sscanf(line, " unknown-features(0x%llx)", &unknown) == 1) {
		s->word[sec] |= unknown;
		return;
	}
	if (sscanf(line, " %63[A-Z0-9_]:", name) != 1)
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, name)) {
			s->word[sec] |= 1ULL << names[i].bit;
			return;
		}
	trace_build_malformed(b, no, "a feature this kvmscope does not know: %s", name);
}

static void parse(struct trace_build *b, FILE *f, struct snapshot *s)
{
	char *line = NULL;
	size_t cap = 0, no = 0;
	enum section sec = NONE;
	char *first = NULL; /* the first answer's device path: its status and each of its queues */
	bool other = false; /* in an answer about another device */
	unsigned long long v;
	while (getline(&line, &cap, f) >= 0) {
		no++;
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] == '/') { /* a new answer: one device's status or one queue's */
			sec = NONE;
			s->queue = -1;
			if (!first)
				first = strdup(line);
			other = !first || strcmp(line, first);
		} else if (other) {
			continue; /* the first device's answers only */
		} else if (strstr(line, "device_name:")) {
			s->blk = strstr(line, "virtio-blk") != NULL;
		} else if (sscanf(line, " num_vqs: %llu", &v) == 1) {
			s->num_vqs = v;
		} else if (sscanf(line, " queue_index: %llu", &v) == 1 && v < QUEUES_MAX) {
			s->queue = v;
			s->q[v].seen = true;
		} else if (s->queue >= 0 && sscanf(line, " num: %llu", &v) == 1) {
			s->q[s->queue].num = v;
		} else if (s->queue >= 0 && sscanf(line, " desc: 0x%llx", &v) == 1) {
			s->q[s->queue].desc = v;
		} else if (s->queue >= 0 && sscanf(line, " avail: 0x%llx", &v) == 1) {
			s->q[s->queue].avail = v;
		} else if (s->queue >= 0 && sscanf(line, " used: 0x%llx", &v) == 1) {
			s->q[s->queue].used = v;
		} else if (!strcmp(line, "  status:") || !strcmp(line, "  Guest features:") ||
			   !strcmp(line, "  Host features:") ||
			   !strcmp(line, "  Backend features:")) {
			sec = line[2] == 's'   ? STATUS
			      : line[2] == 'G' ? GUEST
			      : line[2] == 'H' ? HOST
					       : BACKEND;
			s->have[sec] = true;
		} else if (sec != NONE && (line[0] == '\t' || strstr(line, "unknown-features("))) {
			feature(b, s, sec, line, no);
		} else if (line[0] == ' ' && line[1] == ' ' && line[2] != ' ') {
			sec = NONE; /* another field of the answer */
		}
	}
	free(line);
	free(first);
}

void trace_import_qemu_status(struct trace_build *b, const char *log)
{
	const char *dot = strrchr(log, '.'), *slash = strrchr(log, '/');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - log) : strlen(log);
	char *path;
	if (asprintf(&path, "%.*s-status.log", (int)stem, log) < 0)
		return;
	FILE *f = fopen(path, "r");
	struct snapshot s = {.queue = -1};
	if (f) {
		parse(b, f, &s);
		fclose(f);
	}
	if (f && s.blk && s.have[HOST] && s.have[GUEST]) {
		trace_build_info(b, "qemu_status", "%s (QEMU's monitor after the IO test)", path);
		trace_build_info(b, "qemu_device_status", "0x%llx",
				 (unsigned long long)s.word[STATUS]);
		trace_build_info(b, "qemu_host_features", "0x%llx",
				 (unsigned long long)s.word[HOST]);
		trace_build_info(b, "qemu_guest_features", "0x%llx",
				 (unsigned long long)s.word[GUEST]);
		if (s.num_vqs)
			trace_build_info(b, "qemu_num_vqs", "%llu", s.num_vqs);
		for (int q = 0; q < QUEUES_MAX; q++) {
			char key[32];
			snprintf(key, sizeof(key), "qemu_queue%d", q);
			if (s.q[q].seen)
				trace_build_info(
				    b, key, "size=%llu desc=0x%llx driver=0x%llx device=0x%llx",
				    (unsigned long long)s.q[q].num, (unsigned long long)s.q[q].desc,
				    (unsigned long long)s.q[q].avail,
				    (unsigned long long)s.q[q].used);
		}
	}
	free(path);
}
