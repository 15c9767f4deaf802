/* kvm/mem.c - guest-physical memory: the one translation every guest address goes through. */
#include "kvm/kvm.h"

void *guest_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	/* Written so that gpa + len cannot overflow: compare against the remaining room. */
	if (gpa < m->lo_size) {
		if (len > m->lo_size - gpa)
			return NULL;
		return m->lo + gpa;
	}
	if (gpa >= GUEST_4G && gpa - GUEST_4G < m->hi_size) {
		if (len > m->hi_size - (gpa - GUEST_4G))
			return NULL;
		return m->hi + (gpa - GUEST_4G);
	}
	return NULL;
}

uint64_t guest_mem_size(const struct guest_mem *m)
{
	return m->lo_size + m->hi_size;
}
