/* kvm/host.c - what kind of KVM this machine has, from facts rather than guesses: the kvm
 * module that is loaded, the machine's own DMI vendor and product, and whether the CPU says it
 * runs under a hypervisor (CPUID.1:ECX bit 31) and which one (leaf 0x40000000's signature). */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm/internal.h"

/* The first line of ROOT/PATH into buf without its newline; "" when it cannot be read. */
static void read_line(const char *root, const char *path, char *buf, size_t len)
{
	char full[512];
	FILE *f;

	buf[0] = 0;
	snprintf(full, sizeof(full), "%s%s", root, path);
	f = fopen(full, "r");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

int host_kvm_probe(const char *root, struct host_kvm *h)
{
	static const char *const modules[] = {"kvm_pvm", "kvm_intel", "kvm_amd"};
	char path[512];

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		snprintf(path, sizeof(path), "%s/sys/module/%s", root, modules[i]);
		if (access(path, F_OK) == 0) {
			snprintf(h->module, sizeof(h->module), "%s", modules[i]);
			break;
		}
	}
	if (!h->module[0]) {
		snprintf(path, sizeof(path), "%s/sys/module/kvm", root);
		if (access(path, F_OK) == 0)
			snprintf(h->module, sizeof(h->module), "kvm");
	}
	read_line(root, "/sys/class/dmi/id/sys_vendor", h->vendor, sizeof(h->vendor));
	read_line(root, "/sys/class/dmi/id/product_name", h->product, sizeof(h->product));
	return h->module[0] ? 0 : -ENOENT;
}

void host_kvm_cpuid(struct host_kvm *h)
{
	unsigned a, b, c, d;

	h->hypervisor = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 31));
	h->hv_sig[0] = 0;
	if (!h->hypervisor)
		return;
	/* Intel SDM / AMD APM: leaves 0x40000000-0x400000FF are the hypervisor's */
	__cpuid(0x40000000, a, b, c, d);
	memcpy(h->hv_sig, &b, 4);
	memcpy(h->hv_sig + 4, &c, 4);
	memcpy(h->hv_sig + 8, &d, 4);
	h->hv_sig[12] = 0;
	for (int i = 0; i < 12; i++) /* printable only: a signature of NULs or junk reads as "" */
		if (h->hv_sig[i] && (h->hv_sig[i] < 0x20 || h->hv_sig[i] > 0x7e))
			h->hv_sig[0] = 0;
}

/* The hypervisor under this machine, in words: from the CPUID signature, else the DMI vendor. */
static const char *outer_name(const struct host_kvm *h)
{
	static const struct {
		const char *sig, *name;
	} sigs[] = {{"TCGTCGTCGTCG", "QEMU's emulator (TCG)"},
		    {"KVMKVMKVM", "KVM"},
		    {"Microsoft Hv", "Hyper-V"},
		    {"VMwareVMware", "VMware"},
		    {"XenVMMXenVMM", "Xen"},
		    {"VBoxVBoxVBox", "VirtualBox"}};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strncmp(h->hv_sig, sigs[i].sig, strlen(sigs[i].sig)) == 0 && h->hv_sig[0])
			return sigs[i].name;
	if (strcmp(h->vendor, "QEMU") == 0)
		return "QEMU";
	return NULL;
}

void host_kvm_describe(const struct host_kvm *h, char *buf, size_t len)
{
	const char *outer = outer_name(h);
	char machine[256];

	if (h->vendor[0] || h->product[0])
		snprintf(machine, sizeof(machine), "; machine: %s%s%s", h->vendor,
			 h->vendor[0] && h->product[0] ? " " : "", h->product);
	else
		snprintf(machine, sizeof(machine), "; machine: no DMI");
	if (!h->module[0]) {
		snprintf(buf, len, "no kvm module loaded%s", machine);
		return;
	}
	if (strcmp(h->module, "kvm_pvm") == 0) {
		snprintf(buf, len, "kvm_pvm (software KVM: no VMX/SVM)%s%s%s%s",
			 h->hypervisor ? ", inside a virtual machine" : "", outer ? " of " : "",
			 outer ? outer : "", machine);
		return;
	}
	if (!h->hypervisor && !outer) {
		snprintf(buf, len, "%s (hardware KVM)%s", h->module, machine);
		return;
	}
	if (outer && strstr(outer, "TCG")) {
		snprintf(buf, len,
			 "%s inside a machine emulated by %s: real KVM on emulated SVM/VMX (the "
			 "real-KVM harness); proves behaviour, not speed%s",
			 h->module, outer, machine);
		return;
	}
	snprintf(buf, len, "%s nested: KVM inside a virtual machine%s%s%s", h->module,
		 outer ? " of " : "", outer ? outer : "", machine);
}
