/* pci/irq.c - MSI-X (PCI 3.0 §6.8.2) with pending bits and irqfds, and INTx at level semantics. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "pci/internal.h"
#include "trace/trace.h"

static int vm_line(void *vm, uint32_t gsi, int level)
{
	return vm_irq_line(vm, gsi, level);
}

static int vm_msi(void *vm, uint64_t addr, uint32_t data)
{
	return vm_signal_msi(vm, addr, data);
}

static int vm_route_add(void *vm, uint64_t addr, uint32_t data)
{
	return vm_msi_route_add(vm, addr, data);
}

static int vm_route_set(void *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	return vm_msi_route_set(vm, gsi, addr, data);
}

static int vm_route_del(void *vm, uint32_t gsi)
{
	return vm_msi_route_del(vm, gsi);
}

static int vm_irqfd_assign(void *vm, int fd, uint32_t gsi, bool assign)
{
	return vm_irqfd(vm, fd, gsi, assign);
}

static int vm_ioeventfd_assign(void *vm, int fd, enum bus_space space, uint64_t addr, uint32_t len,
			       bool datamatch, uint64_t data, bool assign)
{
	return vm_ioeventfd(vm, fd, space, addr, len, datamatch, data, assign);
}

const struct pci_kvm_ops pci_vm_kvm_ops = {
    .line = vm_line,
    .msi = vm_msi,
    .route_add = vm_route_add,
    .route_set = vm_route_set,
    .route_del = vm_route_del,
    .irqfd = vm_irqfd_assign,
    .ioeventfd = vm_ioeventfd_assign,
};

/* --- INTx --- */

/* Lines are shared past 8 devices: the pin is the OR of its devices' requests. */
static void intx_update(struct pci_dev *dev)
{
	struct pci *pci = dev->pci;
	bool want = dev->intx_level && !dev->intx_blocked;
	unsigned *users;
	int r = 0;

	if (want == dev->intx_asserted || !dev->gsi)
		return;
	dev->intx_asserted = want;
	pthread_mutex_lock(&pci->irq_lock);
	users = &pci->gsi_users[dev->gsi - PCI_INTX_GSI_BASE];
	*users += want ? 1 : -1;
	if (*users == (want ? 1u : 0u))
		r = pci->kvm.line(pci->kvm.opaque, dev->gsi, want);
	pthread_mutex_unlock(&pci->irq_lock);
	if (r < 0)
		fprintf(stderr, "pci %s: INTx on GSI %u: %s\n", dev->name, dev->gsi, strerror(-r));
}

void pci_intx_set(struct pci_dev *dev, bool level)
{
	pthread_mutex_lock(&dev->lock);
	dev->intx_level = level;
	intx_update(dev);
	pthread_mutex_unlock(&dev->lock);
}

bool pci_intx_status(struct pci_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	bool level = dev->intx_level;
	pthread_mutex_unlock(&dev->lock);
	return level;
}

/* --- MSI-X --- */

static bool vector_masked(const struct pci_msix *m, unsigned v)
{
	return !m->enabled || m->func_mask || (m->table[v][3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static uint64_t msg_addr(const struct pci_msix *m, unsigned v)
{
	return m->table[v][0] | (uint64_t)m->table[v][1] << 32;
}

static int deliver(struct pci_dev *dev, unsigned v)
{
	const struct pci_kvm_ops *s = &dev->pci->kvm;

	return s->msi(s->opaque, msg_addr(&dev->msix, v), dev->msix.table[v][2]);
}

/* Assign (or detach) every irqfd of vector v; the caller holds dev->lock. */
static void irqfds_assign(struct pci_dev *dev, unsigned v, bool assign)
{
	const struct pci_kvm_ops *s = &dev->pci->kvm;
	struct pci_msix *m = &dev->msix;

	for (int i = 0; i < PCI_MSIX_MAX_IRQFDS; i++) {
		int r;

		if (m->irqfds[i].fd < 0 || m->irqfds[i].vector != v)
			continue;
		r = s->irqfd(s->opaque, m->irqfds[i].fd, m->gsi[v], assign);
		if (r < 0)
			fprintf(stderr, "pci %s: irqfd for MSI-X vector %u: %s\n", dev->name, v,
				strerror(-r));
	}
	m->attached[v] = assign;
}

/* Bring vector v's route, irqfds and pending bit in line with its mask and message. */
static void vector_sync(struct pci_dev *dev, unsigned v)
{
	const struct pci_kvm_ops *s = &dev->pci->kvm;
	struct pci_msix *m = &dev->msix;
	bool masked = vector_masked(m, v);

	if (m->gsi[v] >= 0) {
		if (!masked)
			s->route_set(s->opaque, m->gsi[v], msg_addr(m, v), m->table[v][2]);
		if (masked == m->attached[v])
			irqfds_assign(dev, v, !masked); /* KVM fires an eventfd already signalled */
	}
	if (!masked && (m->pending & 1ULL << v)) {
		m->pending &= ~(1ULL << v);
		deliver(dev, v);
	}
}

/* An irqfd's vector is pending while masked if its eventfd was written meanwhile. */
static uint64_t pending_bits(const struct pci_msix *m)
{
	uint64_t bits = m->pending;

	for (int i = 0; i < PCI_MSIX_MAX_IRQFDS; i++) {
		struct pollfd p = {.fd = m->irqfds[i].fd, .events = POLLIN};

		if (p.fd >= 0 && !m->attached[m->irqfds[i].vector] && poll(&p, 1, 0) == 1)
			bits |= 1ULL << m->irqfds[i].vector;
	}
	return bits;
}

/* The table and PBA: dword or aligned qword accesses (PCI 3.0 §6.8.2); others are dropped. */
static void msix_bar_io(struct io_dev *io, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct pci_dev *dev = io->opaque;
	struct pci_msix *m = &dev->msix;
	uint32_t val = 0;

	if (len == 8 && off % 8 == 0) {
		msix_bar_io(io, off, data, 4, is_write);
		msix_bar_io(io, off + 4, (uint8_t *)data + 4, 4, is_write);
		return;
	}
	if (len != 4 || off % 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		memcpy(&val, data, 4);
	pthread_mutex_lock(&dev->lock);
	if (off < m->nr * PCI_MSIX_ENTRY_SIZE) {
		unsigned v = off / PCI_MSIX_ENTRY_SIZE, dw = off % PCI_MSIX_ENTRY_SIZE / 4;

		if (is_write && dw == PCI_MSIX_ENTRY_VECTOR_CTRL / 4)
			val &= PCI_MSIX_ENTRY_CTRL_MASKBIT; /* the other bits are reserved */
		if (is_write) {
			uint32_t old = m->table[v][dw];

			m->table[v][dw] = val;
			TRACE(MSIX_TABLE_WRITE, dev->trace_id, v, dw * 4, val);
			if (dw == PCI_MSIX_ENTRY_VECTOR_CTRL / 4 &&
			    (old ^ val) & PCI_MSIX_ENTRY_CTRL_MASKBIT)
				TRACE(MSIX_MASK, dev->trace_id, v,
				      val & PCI_MSIX_ENTRY_CTRL_MASKBIT, m->pending >> v & 1);
			vector_sync(dev, v);
		}
		val = m->table[v][dw];
	} else if (off >= PCI_MSIX_PBA_START && off < PCI_MSIX_PBA_START + 8) {
		val = pending_bits(m) >> (off - PCI_MSIX_PBA_START) * 8;
	} else {
		val = 0;
	}
	pthread_mutex_unlock(&dev->lock);
	if (!is_write)
		memcpy(data, &val, 4);
}

int pci_msix_init(struct pci_dev *dev, unsigned nr_vectors, int bar)
{
	uint8_t cap[PCI_CAP_MSIX_SIZEOF] = {PCI_CAP_ID_MSIX};
	int off, r;

	if (nr_vectors == 0 || nr_vectors > PCI_MSIX_MAX_VECTORS || dev->msix.nr)
		return -EINVAL;
	r = pci_bar_init(dev, bar, PCI_MSIX_BAR_SIZE, PCI_BASE_ADDRESS_MEM_TYPE_32, msix_bar_io,
			 dev);
	if (r < 0)
		return r;
	off = pci_cap_add(dev, cap, sizeof(cap));
	if (off < 0)
		return off;
	pci_cfg_put(dev, off + PCI_MSIX_FLAGS, nr_vectors - 1, 2);
	pci_cfg_put(dev, off + PCI_MSIX_TABLE, bar, 4);
	pci_cfg_put(dev, off + PCI_MSIX_PBA, PCI_MSIX_PBA_START | bar, 4);
	pci_cfg_wmask(dev, off + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	dev->msix.nr = nr_vectors;
	dev->msix.bar = bar;
	dev->msix.cap = off;
	for (unsigned v = 0; v < nr_vectors; v++)
		dev->msix.table[v][3] = PCI_MSIX_ENTRY_CTRL_MASKBIT; /* masked at reset */
	TRACE(MSIX_ALLOC, dev->trace_id, nr_vectors, bar, 0, PCI_MSIX_PBA_START);
	return 0;
}

void pci_irq_config_changed(struct pci_dev *dev)
{
	uint16_t cmd = pci_cfg_get(dev, PCI_COMMAND, 2);
	uint16_t ctrl = dev->msix.nr ? pci_cfg_get(dev, dev->msix.cap + PCI_MSIX_FLAGS, 2) : 0;

	pthread_mutex_lock(&dev->lock);
	if (dev->msix.enabled != !!(ctrl & PCI_MSIX_FLAGS_ENABLE) ||
	    dev->msix.func_mask != !!(ctrl & PCI_MSIX_FLAGS_MASKALL))
		TRACE(MSIX_ENABLE, dev->trace_id, !!(ctrl & PCI_MSIX_FLAGS_ENABLE),
		      !!(ctrl & PCI_MSIX_FLAGS_MASKALL));
	dev->msix.enabled = ctrl & PCI_MSIX_FLAGS_ENABLE;
	dev->msix.func_mask = ctrl & PCI_MSIX_FLAGS_MASKALL;
	for (unsigned v = 0; v < dev->msix.nr; v++)
		vector_sync(dev, v);
	/* PCI 3.0 §6.8.2.3: no INTx while MSI-X is enabled. */
	dev->intx_blocked = (cmd & PCI_COMMAND_INTX_DISABLE) || dev->msix.enabled;
	intx_update(dev);
	pthread_mutex_unlock(&dev->lock);
}

bool pci_msix_enabled(struct pci_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
	bool on = dev->msix.enabled;
	pthread_mutex_unlock(&dev->lock);
	return on;
}

bool pci_msix_message(struct pci_dev *dev, unsigned vector, uint64_t *addr, uint32_t *data)
{
	bool masked = true;

	*addr = *data = 0;
	pthread_mutex_lock(&dev->lock);
	if (vector < dev->msix.nr) {
		*addr = msg_addr(&dev->msix, vector);
		*data = dev->msix.table[vector][2];
		masked = vector_masked(&dev->msix, vector);
	}
	pthread_mutex_unlock(&dev->lock);
	return masked;
}

int pci_msix_notify(struct pci_dev *dev, unsigned vector)
{
	int r = 0;

	pthread_mutex_lock(&dev->lock);
	if (vector >= dev->msix.nr)
		r = -EINVAL;
	else if (vector_masked(&dev->msix, vector))
		dev->msix.pending |= 1ULL << vector;
	else
		r = deliver(dev, vector);
	pthread_mutex_unlock(&dev->lock);
	return r;
}

static int irqfd_add(struct pci_dev *dev, unsigned v, int fd)
{
	const struct pci_kvm_ops *s = &dev->pci->kvm;
	struct pci_msix *m = &dev->msix;
	int i, gsi;

	for (i = 0; i < PCI_MSIX_MAX_IRQFDS && m->irqfds[i].fd >= 0; i++)
		;
	if (i == PCI_MSIX_MAX_IRQFDS)
		return -ENOSPC;
	if (m->gsi[v] < 0) {
		gsi = s->route_add(s->opaque, msg_addr(m, v), m->table[v][2]);
		if (gsi < 0)
			return gsi;
		m->gsi[v] = gsi;
		m->attached[v] = false;
	}
	if (m->attached[v]) {
		int r = s->irqfd(s->opaque, fd, m->gsi[v], true);

		if (r < 0)
			return r;
	}
	m->irqfds[i] = (struct pci_msix_irqfd){.fd = fd, .vector = v};
	vector_sync(dev, v);
	return 0;
}

static int irqfd_del(struct pci_dev *dev, unsigned v, int fd)
{
	const struct pci_kvm_ops *s = &dev->pci->kvm;
	struct pci_msix *m = &dev->msix;
	bool others = false;
	int found = -ENOENT;

	for (int i = 0; i < PCI_MSIX_MAX_IRQFDS; i++) {
		if (m->irqfds[i].fd < 0 || m->irqfds[i].vector != v)
			continue;
		if (m->irqfds[i].fd != fd) {
			others = true;
			continue;
		}
		if (m->attached[v])
			s->irqfd(s->opaque, fd, m->gsi[v], false);
		m->irqfds[i].fd = -1;
		found = 0;
	}
	if (found == 0 && !others) {
		s->route_del(s->opaque, m->gsi[v]);
		m->gsi[v] = -1;
		m->attached[v] = false;
	}
	return found;
}

int pci_msix_irqfd(struct pci_dev *dev, unsigned vector, int fd, bool assign)
{
	int r;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&dev->lock);
	if (vector >= dev->msix.nr)
		r = -EINVAL;
	else
		r = assign ? irqfd_add(dev, vector, fd) : irqfd_del(dev, vector, fd);
	pthread_mutex_unlock(&dev->lock);
	return r;
}

void pci_irq_teardown(struct pci_dev *dev)
{
	struct pci_msix *m = &dev->msix;

	pthread_mutex_lock(&dev->lock);
	for (int i = 0; i < PCI_MSIX_MAX_IRQFDS; i++)
		if (m->irqfds[i].fd >= 0)
			irqfd_del(dev, m->irqfds[i].vector, m->irqfds[i].fd);
	dev->intx_level = false;
	intx_update(dev);
	pthread_mutex_unlock(&dev->lock);
}
