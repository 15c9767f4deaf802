/* tests/bench/vq_bench.c - the driver of tests/bench/trace.sh's virtqueue figures: N requests
 * through the split ring's vq_pop() and vq_push() on synthetic guest memory (no KVM), each the
 * mini guest's chain of three descriptors (header, data, status), with tracing off
 * (bench_vq_off) and on (bench_vq_on), so callgrind can count what the ring code costs per
 * request and what recording it adds. */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/test_vq_harness.h"
#include "trace/trace.h"

#define DESC_GPA  0x1000
#define AVAIL_GPA 0x3000
#define USED_GPA  0x4000
#define BUF_GPA	  0x10000

static struct vq_chain chain;

/* One request: the driver publishes head 0, the device pops and completes it. */
static inline void request(void)
{
	vq_drv_publish(AVAIL_GPA, 0);
	if (vq_pop(&vq, &chain) != 1 || vq_push(&vq, &chain, 4097) < 0)
		abort();
}

__attribute__((noinline)) void bench_vq_on(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		request();
}

__attribute__((noinline)) void bench_vq_off(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		request();
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000;
	char path[] = "/tmp/kvmscope-vq-bench-XXXXXX";
	struct trace_options o = {.path = path, .buffer_bytes = (size_t)n * 64 * 4 + (1 << 20)};

	close(mkstemp(path));
	ram_init();
	vq_setup(256, DESC_GPA, AVAIL_GPA, USED_GPA);
	vq_set_desc(DESC_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
	vq_set_desc(DESC_GPA, 1, BUF_GPA + 0x1000, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	vq_set_desc(DESC_GPA, 2, BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	bench_vq_off(n);
	if (trace_start(&o))
		return 1;
	bench_vq_on(1); /* the call sites intern themselves once */
	bench_vq_on(n);
	trace_stop();
	unlink(path);
	return 0;
}
