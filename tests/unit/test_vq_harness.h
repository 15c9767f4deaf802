/* tests/unit/test_vq_harness.h - guest RAM without KVM for the virtqueue unit tests
 * (test_virtqueue.c: the split ring, test_packed.c: the packed ring): one block of RAM and one
 * queue on it; the test plays the driver. */
#ifndef KVMSCOPE_TEST_VQ_HARNESS_H
#define KVMSCOPE_TEST_VQ_HARNESS_H

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtio.h"

#define RAM_SIZE (1 << 20)

static struct guest_mem mem;
static struct virtqueue vq;

static inline void *gp(uint64_t gpa)
{
	return guest_ptr(&mem, gpa, 1);
}

/* Zeroed RAM and a reset queue of size, its three areas at desc, driver and device, ready. */
static inline void vq_setup(uint16_t size, uint64_t desc, uint64_t driver, uint64_t device)
{
	memset(mem.lo, 0, RAM_SIZE);
	memset(&vq, 0, sizeof(vq));
	vq.mem = &mem;
	vq.max_size = size;
	vq_reset(&vq);
	vq.desc = desc;
	vq.avail = driver;
	vq.used = device;
	vq.ready = true;
}

/* The split ring's driver side (test_virtqueue.c, test_trace_descs.c, tests/bench/vq_bench.c):
 * descriptor i of the table at table, and head published in the avail ring at avail. */
static inline void vq_set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
			       uint16_t flags, uint16_t next)
{
	struct vring_desc *d = (struct vring_desc *)gp(table) + i;

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

static inline void vq_drv_publish(uint64_t avail, uint16_t head)
{
	struct vring_avail *a = gp(avail);
	uint16_t idx = le16toh(a->idx);

	a->ring[idx & (vq.size - 1)] = htole16(head);
	a->idx = htole16(idx + 1);
}

static inline void ram_init(void)
{
	mem.lo = aligned_alloc(4096, RAM_SIZE);
	mem.lo_size = RAM_SIZE;
}

#endif
