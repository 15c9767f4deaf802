/* kvm/cpuid.c - what the guest's CPUID says, and what to do where CPUID cannot be trusted. */
#include <asm/kvm_para.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/internal.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
/* What kvmscope passes of KVM's paravirtual features (leaf 0x40000001 EAX): its clock */
#define KVM_CLOCK_FEATURES                                                                         \
	(1u << KVM_FEATURE_CLOCKSOURCE | 1u << KVM_FEATURE_CLOCKSOURCE2 |                          \
	 1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)

/* Hardware KVM: the guest sees what KVM_GET_SUPPORTED_CPUID offers, set on each vCPU. */
/* Each vCPU's own initial APIC id (= its vCPU id, as the MP table says): leaf 1 EBX[31:24],
 * and the x2APIC id in EDX of every subleaf of leaf 0xB. KVM leaves both 0. And leaf 1
 * ECX[31], "running on a hypervisor", which KVM leaves to the VMM: without it a guest never
 * looks at KVM's own leaves (0x40000000: "KVMKVMKVM", 0x40000001: kvmclock and the other
 * paravirtual features), which KVM_GET_SUPPORTED_CPUID does include. */
void cpuid_adjust(struct kvm_cpuid_entry2 *ent, uint32_t n, unsigned vcpu_id)
{
	for (uint32_t i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &ent[i];

		if (e->function == 1) {
			e->ebx = (e->ebx & 0x00ffffff) | (uint32_t)vcpu_id << 24;
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
		} else if (e->function == KVM_CPUID_FEATURES) {
			/* kvmclock only: with the other paravirtual features KVM offers (async page
			 * faults, PV EOI, steal time, PV IPIs and TLB flush...) the Linux guest
			 * hung in most boots on kvm_amd in L1 (docs/platform.md) */
			e->eax &= KVM_CLOCK_FEATURES;
			e->edx = 0; /* no hints (KVM_HINTS_REALTIME) */
		} else if (e->function == 0xb)
			e->edx = (uint32_t)vcpu_id;
	}
}

int cpuid_init(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c = NULL;
	int nent = 64, r;

	/* The kernel says E2BIG until the buffer holds every leaf it supports. */
	for (;;) {
		free(c);
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			break;
		if (errno != E2BIG || nent >= 4096) {
			r = -errno;
			free(c);
			return r;
		}
		nent *= 2;
	}
	cpuid_adjust(c->entries, c->nent, vcpu->id);
	r = ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return r;
}

/* kvm_pvm virtualizes no CPUID (docs/platform.md): the guest reads the host's bits. */
bool host_is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

/* Guest features that kill a Linux guest on kvm_pvm, switched off from its command line since
 * CPUID cannot hide them: XSAVE (xrstor), SMAP (clac), SMEP, POPCNT, CMPXCHG16B; and KVM's
 * paravirt features (nopv), which the guest finds in the host's own CPUID leaves there: with
 * them an SMP guest stops at "Booting SMP configuration" (its clock is the TSC). And, on every
 * KVM, the TSC frequency: a guest finds no reference to calibrate the TSC against before kvmclock
 * is up, or at all without it (kvm_pvm; kvm_amd: "Fast TSC calibration failed"), and without it
 * udelay() and the clock are wrong (docs/platform.md). tsc_khz 0: KVM cannot say, leave it out. */
void compat_cmdline(bool cpuid_words, unsigned tsc_khz, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s",
			 cpuid_words ? "noxsave clearcpuid=smap,smep,popcnt,cx16 nopv" : "");

	if (tsc_khz && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, "%stsc_early_khz=%u", n ? " " : "", tsc_khz);
}

unsigned vm_tsc_khz(struct vm *vm)
{
	int khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);

	return khz > 0 ? (unsigned)khz : 0;
}
