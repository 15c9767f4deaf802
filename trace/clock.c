/* trace/clock.c - the records' clock: CLOCK_MONOTONIC in ns, read from the TSC where the host's
 * own CLOCK_MONOTONIC is made from it.
 *
 * Every record reads the clock, several times per guest request. clock_gettime() is a vDSO call
 * of a few dozen instructions (a sequence count, a fenced TSC read, a multiply); in the real-KVM
 * harness, where QEMU's TCG runs them, the reads were about a tenth of what a trace added to a
 * read. When the host kernel's clocksource is "tsc" (it found the TSC constant and the same on
 * every CPU), a record takes the TSC and scales it with a line through two (TSC, CLOCK_MONOTONIC)
 * pairs:
 *   - the slope from the first pair, taken at trace_clock_start(), to the newest; the TSC is not
 *     used before the two are CALIBRATE_NS apart, so the slope's error is at most the pairs'
 *     own uncertainty (tens of ns natively) over that baseline;
 *   - the offset from the newest pair: the writer rebases at every pass (at most 50 ms apart), so
 *     the line never strays from CLOCK_MONOTONIC by more than that error times 50 ms.
 * A thread's times never go back (a rebase may move the line back by that error). Elsewhere, or
 * while the writer is rebasing, a record reads CLOCK_MONOTONIC itself. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "trace/internal.h"

#define CALIBRATE_NS 100000000ull /* 100 ms of baseline before the TSC is used */
#define PAIR_TRIES   5

struct trace_clock trace_clock;
__thread uint64_t trace_clock_last;

/* The writer's (or a test's) own: the first pair and whether the TSC may be used at all. */
static struct {
	bool tsc;
	uint64_t tsc0, ns0;
} cal;

uint64_t trace_clock_mono(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

bool trace_clock_host_tsc(void)
{
	char name[32] = "";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");

	if (!f)
		return false;
	if (!fgets(name, sizeof(name), f))
		name[0] = 0;
	fclose(f);
	return !strcmp(name, "tsc\n");
}

static void publish(uint64_t tsc0, uint64_t ns0, uint64_t mult)
{
	uint32_t s = __atomic_load_n(&trace_clock.seq, __ATOMIC_RELAXED);

	__atomic_store_n(&trace_clock.seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&trace_clock.tsc0, tsc0, __ATOMIC_RELAXED);
	__atomic_store_n(&trace_clock.ns0, ns0, __ATOMIC_RELAXED);
	__atomic_store_n(&trace_clock.mult, mult, __ATOMIC_RELAXED);
	__atomic_store_n(&trace_clock.seq, s + 2, __ATOMIC_RELEASE);
}

/* A TSC reading and CLOCK_MONOTONIC at the same moment: the TSC halfway between two reads around
 * clock_gettime(), from the tightest of a few tries (a preemption between them spoils one). */
static void pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < PAIR_TRIES; i++) {
		uint64_t a = __rdtsc(), n = trace_clock_mono(), b = __rdtsc();

		if (b >= a && b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = n;
		}
	}
	if (best == UINT64_MAX) /* the TSC went back every time: not a clock */
		*tsc = 0;
}

void trace_clock_start(bool tsc)
{
	publish(0, 0, 0);
	cal.tsc = tsc;
	if (tsc) {
		pair(&cal.tsc0, &cal.ns0);
		cal.tsc = cal.tsc0 != 0;
	}
}

void trace_clock_rebase(void)
{
	uint64_t tsc, ns;

	if (!cal.tsc)
		return;
	pair(&tsc, &ns);
	if (ns - cal.ns0 < CALIBRATE_NS)
		return;
	if (tsc <= cal.tsc0) { /* back, or not moving: give it up for this trace */
		cal.tsc = false;
		publish(0, 0, 0);
		return;
	}
	unsigned __int128 mult = ((unsigned __int128)(ns - cal.ns0) << 32) / (tsc - cal.tsc0);
	/* 0.01 to 100 GHz; anything else is not a TSC this code understands */
	if (mult > (unsigned __int128)100 << 32 || mult < (1ull << 32) / 100) {
		cal.tsc = false;
		publish(0, 0, 0);
		return;
	}
	publish(tsc, ns, (uint64_t)mult);
}

const char *trace_clock_source(void)
{
	return cal.tsc ? "tsc" : "clock_gettime";
}
