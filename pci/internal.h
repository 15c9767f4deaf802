/* pci/internal.h - what pci/pci.c and pci/irq.c share; nothing outside pci/ includes it. */
#ifndef KVMSCOPE_PCI_INTERNAL_H
#define KVMSCOPE_PCI_INTERNAL_H

#include "pci/pci.h"

/* The guest changed the command register or the MSI-X message control: re-read them. */
void pci_irq_config_changed(struct pci_dev *dev);
/* PCI_STATUS_INTERRUPT: the device's INTx request, whether or not the line is blocked. */
bool pci_intx_status(struct pci_dev *dev);
/* Drops every irqfd and route and lowers INTx: the device is going away. */
void pci_irq_teardown(struct pci_dev *dev);
/* The default: the VM's in-kernel irqchip and ioeventfds. */
extern const struct pci_kvm_ops pci_vm_kvm_ops;

#endif
