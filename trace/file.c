/* trace/file.c - what the writer and the reader of a trace file share: growable arrays and
 * buffers, CRC-32, chunk framing, the id tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* CRC-32C (Castagnoli, as iSCSI and ext4 use it): the SSE4.2 crc32 instruction does 8 bytes in
 * one step, so checksumming every record costs the writer little; a table where it is missing. */
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

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0x82f63b78 ^ (c >> 1) : c >> 1;
			table[i] = c; /* racing builders write the same values */
		}
		__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	}
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t trace_crc32c(const void *data, size_t len)
{
	static int hw = -1;
	if (hw < 0)
		hw = __builtin_cpu_supports("sse4.2");
	return (hw ? crc32c_hw : crc32c_sw)(0xffffffff, data, len) ^ 0xffffffff;
}

/* The software path, for the tests to compare against. */
uint32_t trace_crc32c_sw(const void *data, size_t len)
{
	return crc32c_sw(0xffffffff, data, len) ^ 0xffffffff;
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
