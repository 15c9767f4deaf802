/* kvm/mem.c - guest-physical memory: the one translation every guest address goes through. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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

/* The process's resident memory but guest RAM's: the sum of the Rss lines of every mapping in
 * smaps (normally /proc/self/smaps) that does not overlap the host range of lo or hi. */
long vmm_rss_beyond_ram_kib(const struct guest_mem *m, const char *smaps)
{
	FILE *f = fopen(smaps, "re");
	char line[4096]; /* a mapping's line holds a path */
	unsigned long start, end, kib;
	long sum = 0;
	bool ram = false;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			uintptr_t lo = (uintptr_t)m->lo, hi = (uintptr_t)m->hi;
			ram = (m->lo_size && start < lo + m->lo_size && end > lo) ||
			      (m->hi_size && start < hi + m->hi_size && end > hi);
		} else if (!ram && sscanf(line, "Rss: %lu kB", &kib) == 1) {
			sum += (long)kib;
		}
	}
	fclose(f);
	return sum;
}
