/* guest/mini/blk.h - the virtio-blk driver's state and requests, shared by test=blk/load
 * (blk.c) and test=hostile (hostile.c). */
#ifndef MINI_BLK_H
#define MINI_BLK_H

#include <linux/virtio_blk.h>

#include "virtio.h"

#define MAX_DEPTH  32
#define LOAD_BYTES 4096 /* one data buffer: a test=load read, a test=blk chunk */

/* One request's device-visible header and status; data buffers are separate. */
struct blk_req {
	struct virtio_blk_outhdr hdr;
	uint8_t status;
};

struct blkdev {
	struct pci_dev pci;
	struct vdev v;
	struct vq q[VQ_QUEUES];
	unsigned nq; /* queues=: how many of q are live */
	struct msix msix;
	enum mini_irq irq;
	uint64_t capacity;
	uint64_t want, need; /* the feature bits blk_setup() negotiated with */
	uint16_t qsize;	     /* qsize=: the modern queue size blk_setup() asked for */
	uint16_t head_slot[VQ_QUEUES][VQ_MAX]; /* per queue: descriptor head -> request slot */
};

extern struct blkdev B;
extern struct blk_req reqs[MAX_DEPTH];
extern uint8_t blk_data[MAX_DEPTH][LOAD_BYTES];

/* Steps 1-4 of docs/mini-guest.md: find the device, BARs, interrupts, the handshake. */
void blk_setup(const struct mini_args *a);
/* Queues one request in slot on queue qi (header, data unless len is 0, status byte); no kick. */
void blk_submit(unsigned qi, unsigned slot, uint32_t type, uint64_t sector, void *buf,
		uint32_t len);
/* One synchronous request on queue qi in slot qi, its completion and interrupt awaited; its
 * status byte. test=smp calls it from any CPU, holding that queue's lock. */
uint8_t blk_do_req(unsigned qi, const char *what, uint32_t type, uint64_t sector, void *buf,
		   uint32_t len);
/* Several CPUs wait for interrupts the boot CPU takes: give an owed one the long spin. */
void blk_irq_wait_long(void);

#endif
