/* tests/fuzz/fuzz_trace.c - a trace file as anyone may hand it over: the reader, then every
 * consumer of what it loaded (dump text/json/chrome, stats, the viewer's model, diff). Each chunk
 * carries a CRC that random bytes never match, so the input is also read with its CRCs made
 * right: the fuzzer's mutations then reach the tables and records behind them. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "trace/internal.h"

/* Rewrites each whole chunk's CRC in buf; true when one changed. */
static bool fix_crcs(uint8_t *buf, size_t size)
{
	struct trace_file_header h;
	bool changed = false;
	if (size < sizeof(h))
		return false;
	memcpy(&h, buf, sizeof(h));
	for (size_t off = h.header_size; off >= sizeof(h) && off < size;) {
		struct trace_chunk_header c;
		if (size - off < sizeof(c))
			break;
		memcpy(&c, buf + off, sizeof(c));
		if (c.len > size - off - sizeof(c))
			break;
		uint32_t crc = trace_crc32c(buf + off + sizeof(c), c.len);
		changed |= crc != c.crc;
		memcpy(buf + off + offsetof(struct trace_chunk_header, crc), &crc, sizeof(crc));
		off += sizeof(c) + ((c.len + 7ull) & ~7ull);
	}
	return changed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_trace_consumers(fuzz_file("input.kvt", data, size));
	uint8_t *fixed = malloc(size ? size : 1);
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	if (fix_crcs(fixed, size))
		fuzz_trace_consumers(fuzz_file("input.kvt", fixed, size));
	free(fixed);
	return 0;
}
