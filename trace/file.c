/* trace/file.c - what the writer and the reader of a trace file share: growable arrays and
 * buffers, CRC-32, chunk framing, the id tables. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trace/internal.h"

int trace_vec_grow(void *arrp, size_t *cap, size_t need, size_t elsize)
{
	void **arr = arrp;
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*arr, ncap * elsize);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

void trace_buf_put(struct trace_buf *b, const void *data, size_t len)
{
	if (b->oom || trace_vec_grow(&b->p, &b->cap, b->len + len, 1)) {
		b->oom = true;
		return;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

void trace_buf_free(struct trace_buf *b)
{
	free(b->p);
	*b = (struct trace_buf){0};
}

/* CRC-32C (Castagnoli, as iSCSI and ext4 use it). The SSE4.2 crc32 instruction does 8 bytes in
 * a step natively (0.1 ns a byte on the hosts measured), but where the CPU is emulated (QEMU's
 * TCG: the nested-KVM harness) it runs bit by bit in a helper, 6.8 ns a byte against 1.7 for
 * eight tables: there it was the largest single cost of a traced run. Which is faster is
 * measured, not assumed. */
static uint32_t crc_table[8][256];

static void crc_table_build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0x82f63b78 ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (int t = 1; t < 8; t++)
		for (int i = 0; i < 256; i++)
			crc_table[t][i] =
			    (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

static void crc_table_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, crc_table_build);
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p,
							    size_t len)
{
	uint64_t c = crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return crc;
}

/* Eight bytes a step through eight tables ("slicing by 8"); little-endian, as x86 is. */
static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint32_t(*t)[256] = crc_table;
	crc_table_init();
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4);
		memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = t[7][lo & 0xff] ^ t[6][lo >> 8 & 0xff] ^ t[5][lo >> 16 & 0xff] ^
		      t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][hi >> 8 & 0xff] ^
		      t[1][hi >> 16 & 0xff] ^ t[0][hi >> 24];
	}
	while (len--)
		crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

static uint64_t crc_time_ns(uint32_t (*f)(uint32_t, const uint8_t *, size_t), const uint8_t *p,
			    size_t len)
{
	uint64_t best = UINT64_MAX;
	for (int round = 0; round < 3; round++) { /* the fastest of three: a preemption is noise */
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		volatile uint32_t sink = f(0xffffffff, p, len);
		(void)sink;
		clock_gettime(CLOCK_MONOTONIC, &b);
		uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000 + b.tv_nsec - a.tv_nsec;
		best = ns < best ? ns : best;
	}
	return best;
}

static uint32_t (*crc_fn)(uint32_t, const uint8_t *, size_t);

/* Once per process: the instruction where the CPU has it and runs it faster than the tables. */
static void crc_pick(void)
{
	static uint8_t sample[8192];
	crc_table_init();
	crc_fn = crc32c_sw;
	if (!__builtin_cpu_supports("sse4.2"))
		return;
	for (size_t i = 0; i < sizeof(sample); i++)
		sample[i] = i * 131 + 7;
	if (crc_time_ns(crc32c_hw, sample, sizeof(sample)) <=
	    crc_time_ns(crc32c_sw, sample, sizeof(sample)))
		crc_fn = crc32c_hw;
}

uint32_t trace_crc32c(const void *data, size_t len)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, crc_pick);
	return crc_fn(0xffffffff, data, len) ^ 0xffffffff;
}

/* Each path alone, for the tests to compare (hw: 0 where the CPU has no SSE4.2). */
uint32_t trace_crc32c_sw(const void *data, size_t len)
{
	return crc32c_sw(0xffffffff, data, len) ^ 0xffffffff;
}

int trace_crc32c_hw(const void *data, size_t len, uint32_t *crc)
{
	if (!__builtin_cpu_supports("sse4.2"))
		return -ENOTSUP;
	*crc = crc32c_hw(0xffffffff, data, len) ^ 0xffffffff;
	return 0;
}

size_t trace_chunk_begin(struct trace_buf *b, uint32_t type)
{
	struct trace_chunk_header h = {.type = type};
	size_t at = b->len;
	trace_buf_put(b, &h, sizeof(h));
	return at;
}

void trace_chunk_end(struct trace_buf *b, size_t at, uint32_t count)
{
	static const uint8_t zero[8];
	if (b->oom)
		return;
	struct trace_chunk_header *h = (void *)(b->p + at);
	size_t len = b->len - at - sizeof(*h);
	h->len = len;
	h->count = count;
	h->crc = trace_crc32c(h + 1, len);
	trace_buf_put(b, zero, -len & 7); /* the next chunk starts 8-aligned */
}

int trace_names_add_str(struct trace_names *n, const char *s, size_t len)
{
	char *copy = malloc(len + 1);
	if (!copy || trace_vec_grow(&n->str, &n->str_cap, n->nstr + 1, sizeof(char *))) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, s, len);
	copy[len] = 0;
	n->str[n->nstr] = copy;
	return n->nstr++;
}

void trace_names_free(struct trace_names *n)
{
	for (size_t i = 0; i < n->nstr; i++)
		free(n->str[i]);
	free(n->str);
	free(n->site);
	free(n->dev);
	free(n->stack);
	*n = (struct trace_names){0};
}
