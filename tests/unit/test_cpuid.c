/* tests/unit/test_cpuid.c - what kvmscope changes in the CPUID leaves KVM offers (kvm/cpuid.c):
 * each vCPU's APIC ids, the hypervisor bit, and of KVM's paravirtual features the clock alone.
 * No /dev/kvm: a made-up KVM_GET_SUPPORTED_CPUID answer. */
#include <asm/kvm_para.h>
#include <string.h>

#include "kvm/internal.h"
#include "tests/check.h"

int main(void)
{
	struct kvm_cpuid_entry2 e[4];
	const uint32_t clock = 1u << KVM_FEATURE_CLOCKSOURCE | 1u << KVM_FEATURE_CLOCKSOURCE2 |
			       1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;

	memset(e, 0, sizeof(e));
	e[0].function = 1;
	e[0].ebx = 0xff000800;
	e[1].function = 0xb;
	e[2].function = KVM_CPUID_FEATURES;
	e[2].eax = 0xffffffff; /* everything KVM can offer, and bits it may offer one day */
	e[2].edx = 1;	       /* KVM_HINTS_REALTIME */
	e[3].function = KVM_CPUID_SIGNATURE;
	e[3].ebx = 0x4b4d564b;
	cpuid_adjust(e, 4, 3);

	CHECK((e[0].ebx >> 24) == 3 && (e[0].ebx & 0xffffff) == 0x800,
	      "leaf 1: EBX[31:24] is the vCPU's APIC id (3), the rest kept (ebx=%#x)", e[0].ebx);
	CHECK(e[0].ecx >> 31,
	      "leaf 1: the hypervisor bit is set, so a guest looks at KVM's leaves");
	CHECK(e[1].edx == 3, "leaf 0xb: EDX is the x2APIC id (%u)", e[1].edx);
	CHECK(e[2].eax == clock,
	      "leaf 0x40000001: kvmclock alone (CLOCKSOURCE, CLOCKSOURCE2, STABLE_BIT), no other "
	      "paravirtual feature (eax=%#x)",
	      e[2].eax);
	CHECK(e[2].edx == 0, "leaf 0x40000001: no hints (edx=%#x)", e[2].edx);
	CHECK(e[3].ebx == 0x4b4d564b, "leaf 0x40000000: KVM's signature kept");
	return CHECK_DONE();
}
