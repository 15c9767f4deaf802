/* tests/unit/test_queue.h - the driver's queue setup the multi-queue virtio-blk unit tests share
 * (test_blk_mq.c, test_blk_inorder.c): queue vq placed as its common-configuration writes would
 * place it (virtio 1.2 §4.1.4.3), its descriptor area at desc, the driver area 4 KiB above, the
 * device area 8 KiB above, then enabled; and the wait for NEEDS_RESET set on an IO thread. */
#ifndef KVMSCOPE_TEST_QUEUE_H
#define KVMSCOPE_TEST_QUEUE_H

#include <time.h>

#include "virtio/virtio.h"

static inline void test_queue_place(struct virtqueue *vq, uint16_t size, uint64_t desc)
{
	vq->size = size;
	vq->desc = desc;
	vq->avail = desc + 0x1000;
	vq->used = desc + 0x2000;
	vq->ready = true;
}

/* Whether DEVICE_NEEDS_RESET shows within ms milliseconds: an IO thread sets it, under the
 * device's lock, which the test takes to read the status too. */
static inline bool test_wait_needs_reset(struct virtio_dev *vdev, int ms)
{
	bool set = false;

	for (int i = 0; i <= ms && !set; i++) {
		pthread_mutex_lock(&vdev->lock);
		set = vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET;
		pthread_mutex_unlock(&vdev->lock);
		if (!set)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	return set;
}

#endif
