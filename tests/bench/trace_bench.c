/* tests/bench/trace_bench.c - the driver of tests/bench/trace.sh: emits N trace events from one
 * thread, with tracing on (bench_on) or off (bench_off), so callgrind can count the
 * instructions of exactly those loops. Prints native ns per event for both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trace/trace.h"

static uint16_t dev;

/* One request's worth of arguments, as virtio-blk would pass them. */
__attribute__((noinline)) void bench_on(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		TRACE(CHAIN_POP, dev, TRACE_PAIR(0, i & 255), i & 1, (uint64_t)i * 8,
		      TRACE_PAIR(3, 4096));
}

__attribute__((noinline)) void bench_off(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		TRACE(CHAIN_POP, dev, TRACE_PAIR(0, i & 255), i & 1, (uint64_t)i * 8,
		      TRACE_PAIR(3, 4096));
}

/* A split pop as virtio/ records it: the walk keeps each descriptor (Linux's request: one
 * INDIRECT descriptor and a table of 3), then the record carries them. */
static inline void pop_descs(unsigned i)
{
	static struct trace_descs l;

	trace_descs_start(&l, trace_on(TRACE_EV_SPLIT_POP));
	trace_descs_add(&l, 0x1e4000, 48, 4, i & 255);
	trace_descs_add(&l, 0x2c000, 16, 1, 0);
	trace_descs_add(&l, 0x10c000, 4096, 3, 1);
	trace_descs_add(&l, 0x2c010, 1, 2, 2);
	TRACE_DESCS(SPLIT_POP, dev, &l, TRACE_PAIR(0, i & 255), i, i + 1, l.walked);
}

__attribute__((noinline)) void bench_descs_on(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pop_descs(i);
}

__attribute__((noinline)) void bench_descs_off(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pop_descs(i);
}

static double ns_per(void (*fn)(unsigned), unsigned n)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	fn(n);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	char path[] = "/tmp/kvmscope-bench-XXXXXX";
	close(mkstemp(path));
	bool plain = argc > 2 && !strcmp(argv[2], "plain"); /* TRACE() only: the writer's share */
	/* a ring that holds every record (pops take 3 slots each): the figure is the recording,
	 * never the drop path */
	struct trace_options o = {.path = path,
				  .buffer_bytes = (size_t)n * 64 * (plain ? 2 : 4) + (1 << 20)};

	dev = trace_dev_register("blk0", 2);
	double off = ns_per(bench_off, n), doff = plain ? 0 : ns_per(bench_descs_off, n);
	if (trace_start(&o))
		return 1;
	trace_thread_set(TRACE_THREAD_VCPU, 0);
	bench_on(1); /* the call sites intern themselves once */
	bench_descs_on(1);
	double on = ns_per(bench_on, n), don = plain ? 0 : ns_per(bench_descs_on, n / 2);
	trace_stop();
	unlink(path);
	printf("native: %.1f ns per recorded event, %.2f ns per TRACE() while off\n", on, off);
	printf("native: %.1f ns per recorded pop with 4 descriptors, %.2f ns per pop's trace "
	       "work while off\n",
	       don, doff);
	return 0;
}
