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
	/* a ring that holds every record: the figure is the recording, never the drop path */
	struct trace_options o = {.path = path, .buffer_bytes = (size_t)n * 64 * 2 + (1 << 20)};

	dev = trace_dev_register("blk0", 2);
	double off = ns_per(bench_off, n);
	if (trace_start(&o))
		return 1;
	trace_thread_set(TRACE_THREAD_VCPU, 0);
	bench_on(1); /* the call site interns itself once */
	double on = ns_per(bench_on, n);
	trace_stop();
	unlink(path);
	printf("native: %.1f ns per recorded event, %.2f ns per TRACE() while off\n", on, off);
	return 0;
}
