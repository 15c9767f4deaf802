/* kvm/irq.c - interrupts into the guest: IRQ lines, MSIs, the GSI routing table, irqfd, ioeventfd.
 * KVM_SET_GSI_ROUTING replaces the whole table, so we keep our copy and resend it on change. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/internal.h"

#define IOAPIC_PINS 24
#define ROUTES_MAX  256

static struct kvm_irq_routing_entry *entries(struct vm *vm)
{
	return vm->routing->entries;
}

static void add_irqchip(struct vm *vm, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry *e = &entries(vm)[vm->routing->nr++];

	*e = (struct kvm_irq_routing_entry){.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP};
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

static int apply(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->routing) < 0)
		return -errno;
	return 0;
}

int irq_init(struct vm *vm)
{
	vm->routing =
	    calloc(1, sizeof(*vm->routing) + ROUTES_MAX * sizeof(struct kvm_irq_routing_entry));
	if (!vm->routing)
		return -ENOMEM;
	pthread_mutex_init(&vm->gsi_lock, NULL);
	/* The PC wiring: ISA IRQs 0-15 reach both PICs and the IOAPIC, 16-23 the IOAPIC only. */
	for (uint32_t gsi = 0; gsi < 16; gsi++)
		add_irqchip(vm, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
			    gsi % 8);
	for (uint32_t gsi = 0; gsi < IOAPIC_PINS; gsi++)
		add_irqchip(vm, gsi, KVM_IRQCHIP_IOAPIC, gsi);
	vm->next_gsi = IOAPIC_PINS;
	return apply(vm);
}

void irq_destroy(struct vm *vm)
{
	free(vm->routing);
	vm->routing = NULL;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = {.irq = gsi, .level = level};

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {.address_lo = (uint32_t)addr, .address_hi = addr >> 32, .data = data};

	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

static struct kvm_irq_routing_entry *find_msi(struct vm *vm, uint32_t gsi)
{
	for (uint32_t i = 0; i < vm->routing->nr; i++)
		if (entries(vm)[i].gsi == gsi && entries(vm)[i].type == KVM_IRQ_ROUTING_MSI)
			return &entries(vm)[i];
	return NULL;
}

static void set_msi(struct kvm_irq_routing_entry *e, uint64_t addr, uint32_t data)
{
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = addr >> 32;
	e->u.msi.data = data;
}

int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data)
{
	int r;

	if (!vm->routing)
		return -ENODEV;
	pthread_mutex_lock(&vm->gsi_lock);
	if (vm->routing->nr == ROUTES_MAX) {
		pthread_mutex_unlock(&vm->gsi_lock);
		return -ENOSPC;
	}
	struct kvm_irq_routing_entry *e = &entries(vm)[vm->routing->nr++];
	*e = (struct kvm_irq_routing_entry){.gsi = vm->next_gsi, .type = KVM_IRQ_ROUTING_MSI};
	set_msi(e, addr, data);
	r = apply(vm);
	if (r < 0)
		vm->routing->nr--;
	else
		r = vm->next_gsi++;
	pthread_mutex_unlock(&vm->gsi_lock);
	return r;
}

/* Change (del == false: re-aim at addr/data) or remove the MSI route of gsi, then resend the table.
 */
static int route_change(struct vm *vm, uint32_t gsi, bool del, uint64_t addr, uint32_t data)
{
	int r = -ENOENT;

	if (!vm->routing)
		return -ENODEV;
	pthread_mutex_lock(&vm->gsi_lock);
	struct kvm_irq_routing_entry *e = find_msi(vm, gsi);
	if (e) {
		if (del)
			*e = entries(vm)[--vm->routing->nr];
		else
			set_msi(e, addr, data);
		r = apply(vm);
	}
	pthread_mutex_unlock(&vm->gsi_lock);
	return r;
}

int vm_msi_route_set(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	return route_change(vm, gsi, false, addr, data);
}

int vm_msi_route_del(struct vm *vm, uint32_t gsi)
{
	return route_change(vm, gsi, true, 0, 0);
}

int vm_irqfd(struct vm *vm, int fd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
	    .fd = fd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return -errno;
	return 0;
}

int vm_ioeventfd(struct vm *vm, int fd, enum bus_space space, uint64_t addr, uint32_t len,
		 bool datamatch, uint64_t data, bool assign)
{
	struct kvm_ioeventfd io = {.datamatch = data, .addr = addr, .len = len, .fd = fd};

	if (space == BUS_PIO)
		io.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (datamatch)
		io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
	if (!assign)
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}
