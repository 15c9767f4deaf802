/*
 * kvm/coalesced.c - writes KVM keeps in its coalesced ring instead of exiting to kvmscope
 * (KVM_REGISTER_COALESCED_MMIO; with KVM_CAP_COALESCED_PIO, ports too). Two zones: the console's
 * transmit register, which a Linux boot writes once per byte it prints, and PCI's configuration
 * address (0xCF8, pci/bus.c), written before each of the bus scan's configuration reads; on a
 * nested or emulated KVM each such exit costs far more than the write. A write only reaches the
 * ring when the guest expects nothing back from it; kvmscope applies the ring's writes in order
 * before anything else the guest did reaches a device: at every return of KVM_RUN, at the
 * console loop's ticks (a guest that prints and then halts makes no exit) and when the VM stops.
 * So the configuration data access that follows an address write, which exits, finds the
 * address already applied, on whichever vCPU it runs (coalesced_drain waits for a drain under
 * way on another thread).
 * Each applied write is traced (coalesced_io), without guest context: it ran earlier.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/internal.h"
#include "trace/trace.h"

/* The ring is one page of x86-64's 4 KiB after kvm_run (KVM_COALESCED_MMIO_PAGE_OFFSET). */
#define RING_PAGE 4096u

unsigned coalesced_ring_apply(struct kvm_coalesced_mmio_ring *ring, uint32_t max, struct bus *pio,
			      struct bus *mmio)
{
	uint32_t first = ring->first, last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	if (first >= max || last >= max)
		return 0;   /* not a ring KVM wrote: leave it alone */
	trace_guest_none(); /* the writes ran before this exit, at code the trace cannot name */
	while (first != last) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[first];
		uint32_t len = e->len <= sizeof(e->data) ? e->len : sizeof(e->data);
		uint8_t data[8];
		uint64_t v = 0;

		memcpy(data, e->data, len);
		bus_dispatch(e->pio ? pio : mmio, e->phys_addr, data, len, true);
		memcpy(&v, data, len);
		TRACE(COALESCED_IO, 0, e->phys_addr, TRACE_PAIR(len, e->pio), v);
		first = (first + 1) % max;
		/* the slot is KVM's again: a full ring makes the guest's next write exit instead */
		__atomic_store_n(&ring->first, first, __ATOMIC_RELEASE);
		n++;
	}
	trace_guest_exit(); /* what follows is the exit's own: its guest context again */
	return n;
}

void coalesced_drain(struct vm *vm)
{
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced;

	/* Empty only once a drain on another thread has applied its last write (first moves on
	 * after each write reaches its device): a vCPU that finds it empty may use it. */
	if (!ring)
		return;
	uint32_t first = __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE);
	if (first == __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vm->coalesced_lock);
	vm->coalesced_writes += coalesced_ring_apply(ring, vm->coalesced_max, &vm->pio, &vm->mmio);
	pthread_mutex_unlock(&vm->coalesced_lock);
}

int coalesced_init(struct vm *vm)
{
	int page = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	/* Without either capability every write exits, as it does with --no-coalesce. */
	if (page <= 0 || ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0)
		return 0;
	if ((size_t)(page + 1) * RING_PAGE > vm->vcpus[0].run_size)
		return 0;
	vm->coalesced = (void *)((uint8_t *)vm->vcpus[0].run + (size_t)page * RING_PAGE);
	vm->coalesced_max = (RING_PAGE - sizeof(struct kvm_coalesced_mmio_ring)) /
			    sizeof(struct kvm_coalesced_mmio);
	return vm_coalesce_pio(vm, PORT_COM1, 1);
}

int vm_coalesce_pio(struct vm *vm, uint16_t port, uint32_t len)
{
	struct kvm_coalesced_mmio_zone z = {.addr = port, .size = len, .pio = 1};

	if (!vm->coalesced)
		return 0;
	if (ioctl(vm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &z) < 0)
		return -errno;
	return 0;
}
