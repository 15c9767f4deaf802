/* tests/unit/test_vq_harness.h - guest RAM without KVM for the virtqueue unit tests
 * (test_virtqueue.c: the split ring, test_packed.c: the packed ring): one block of RAM and one
 * queue on it; the test plays the driver. */
#ifndef KVMSCOPE_TEST_VQ_HARNESS_H
#define KVMSCOPE_TEST_VQ_HARNESS_H

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

static inline void ram_init(void)
{
	mem.lo = aligned_alloc(4096, RAM_SIZE);
	mem.lo_size = RAM_SIZE;
}

#endif
