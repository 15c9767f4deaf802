/* pci/internal.h - what the files of pci/ share (config.c, irq.c, bus.c, from the bottom up);
 * nothing outside pci/ includes it. */
#ifndef KVMSCOPE_PCI_INTERNAL_H
#define KVMSCOPE_PCI_INTERNAL_H

#include "pci/pci.h"

/* A BAR's kind, from its PCI type bits. */
static inline bool pci_bar_is_io(const struct pci_bar *b)
{
	return b->type & PCI_BASE_ADDRESS_SPACE_IO;
}

static inline bool pci_bar_is_64(const struct pci_bar *b)
{
	return !pci_bar_is_io(b) &&
	       (b->type & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
}

/* --- Interrupts (irq.c), which the bus calls as the guest configures them. --- */

/* The guest changed the command register or the MSI-X message control: re-read them. */
void pci_irq_config_changed(struct pci_dev *dev);
/* PCI_STATUS_INTERRUPT: the device's INTx request, whether or not the line is blocked. */
bool pci_intx_status(struct pci_dev *dev);
/* Drops every irqfd and route and lowers INTx: the device is going away. */
void pci_irq_teardown(struct pci_dev *dev);
/* The default: the VM's in-kernel irqchip and ioeventfds. */
extern const struct pci_kvm_ops pci_vm_kvm_ops;

#endif
