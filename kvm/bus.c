/* kvm/bus.c - one dispatcher for port I/O and MMIO: sorted, non-overlapping ranges. */
#include <errno.h>
#include <string.h>

#include "kvm/kvm.h"

void bus_init(struct bus *b)
{
	memset(b, 0, sizeof(*b));
	pthread_rwlock_init(&b->lock, NULL);
}

static int find_slot(const struct bus *b, uint64_t addr)
{
	int lo = 0, hi = b->nr;

	/* First device whose end lies above addr. */
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const struct io_dev *d = b->devs[mid];

		if (d->base + d->len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_locked(struct bus *b, struct io_dev *dev)
{
	int i;

	if (dev->len == 0 || dev->base + dev->len < dev->base)
		return -EINVAL;
	if (b->nr == BUS_MAX_DEVS)
		return -ENOSPC;
	i = find_slot(b, dev->base);
	if (i < b->nr && b->devs[i]->base < dev->base + dev->len)
		return -EEXIST;
	memmove(&b->devs[i + 1], &b->devs[i], (b->nr - i) * sizeof(b->devs[0]));
	b->devs[i] = dev;
	b->nr++;
	return 0;
}

static int remove_locked(struct bus *b, struct io_dev *dev)
{
	for (int i = 0; i < b->nr; i++) {
		if (b->devs[i] != dev)
			continue;
		memmove(&b->devs[i], &b->devs[i + 1], (b->nr - i - 1) * sizeof(b->devs[0]));
		b->nr--;
		return 0;
	}
	return -ENOENT;
}

int bus_add(struct bus *b, struct io_dev *dev)
{
	pthread_rwlock_wrlock(&b->lock);
	int r = insert_locked(b, dev);
	pthread_rwlock_unlock(&b->lock);
	return r;
}

int bus_del(struct bus *b, struct io_dev *dev)
{
	pthread_rwlock_wrlock(&b->lock);
	int r = remove_locked(b, dev);
	pthread_rwlock_unlock(&b->lock);
	return r;
}

int bus_move(struct bus *b, struct io_dev *dev, uint64_t new_base)
{
	uint64_t old = dev->base;
	int r;

	pthread_rwlock_wrlock(&b->lock);
	r = remove_locked(b, dev);
	if (r == 0) {
		dev->base = new_base;
		r = insert_locked(b, dev);
		if (r < 0) {
			dev->base = old;
			insert_locked(b, dev);
		}
	}
	pthread_rwlock_unlock(&b->lock);
	return r;
}

int bus_dispatch(struct bus *b, uint64_t addr, void *data, uint32_t len, bool is_write)
{
	struct io_dev *dev = NULL;
	uint64_t off = 0;

	pthread_rwlock_rdlock(&b->lock);
	int i = find_slot(b, addr);
	if (i < b->nr && b->devs[i]->base <= addr && addr - b->devs[i]->base < b->devs[i]->len) {
		dev = b->devs[i];
		off = addr - dev->base;
	}
	pthread_rwlock_unlock(&b->lock);
	if (!dev) {
		if (!is_write)
			memset(data, 0xff, len);
		return -ENOENT;
	}
	/* Unlocked: a handler may move BARs on this very bus; devices live as long as the VM. */
	dev->io(dev, off, data, len, is_write);
	return 0;
}
