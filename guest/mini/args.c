/*
 * guest/mini/args.c - the command line: space-separated words, key=value for the ones mini.elf
 * knows. Unknown words are skipped because kvmscope may add its own (console=ttyS0 ...); when a
 * key appears twice the last one wins, so a user's word can override a default in front of it.
 */
#include "mini.h"
#include "virtio.h" /* VQ_MAX, VQ_WANT: qsize= */

#define CMDLINE_MAX 4096 /* never walk further than this into guest memory */

/* Parses a whole decimal or 0x-hex number; false if [v, v+n) is anything else or overflows. */
static bool parse_u64(const char *v, size_t n, uint64_t *out)
{
	unsigned base = 10;
	uint64_t x = 0;

	if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		v += 2;
		n -= 2;
	}
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (x > (UINT64_MAX - d) / base)
			return false;
		x = x * base + d;
	}
	*out = x;
	return true;
}

static bool word_is(const char *v, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(v, lit, n) == 0;
}

/* One "key=value" word; returns 0 or ST_BAD_ARG. Words of other keys are not ours: ignored. */
static int parse_word(const char *k, size_t kn, const char *v, size_t vn, struct mini_args *a)
{
	// clang-format off
	/* Numeric words: name, largest value accepted, where the value goes. */
#define NUM(field, max) {#field, max, offsetof(struct mini_args, field), sizeof(a->field)}
	const struct {
		const char *key;
		uint64_t max;
		size_t off, size;
	} nums[] = {
		NUM(exit, 255),
		NUM(sector, UINT64_MAX / 512),
		NUM(sectors, 1 << 20),
		NUM(seed, UINT32_MAX),
		NUM(event_idx, 1),
		NUM(in_order, 1),
		NUM(depth, 4096),
		NUM(count, UINT32_MAX),
		NUM(report, UINT32_MAX),
		NUM(qsize, VQ_MAX),
		NUM(queues, VQ_QUEUES),
		NUM(writeback, 1),
		NUM(hold, 1),
	};
#undef NUM
	// clang-format on
	uint64_t x;

	if (word_is(k, kn, "test")) {
		if (word_is(v, vn, "blk"))
			a->test = TEST_BLK;
		else if (word_is(v, vn, "load"))
			a->test = TEST_LOAD;
		else if (word_is(v, vn, "emu"))
			a->test = TEST_EMU;
		else if (word_is(v, vn, "spin"))
			a->test = TEST_SPIN;
		else if (word_is(v, vn, "halt"))
			a->test = TEST_HALT;
		else if (word_is(v, vn, "pcidump"))
			a->test = TEST_PCIDUMP;
		else if (word_is(v, vn, "smp"))
			a->test = TEST_SMP;
		else if (word_is(v, vn, "smp-halt"))
			a->test = TEST_SMP_HALT;
		else if (word_is(v, vn, "smp-reset"))
			a->test = TEST_SMP_RESET;
		else if (word_is(v, vn, "none"))
			a->test = TEST_NONE;
		else if (word_is(v, vn, "hostile"))
			a->test = TEST_HOSTILE;
		else
			goto bad;
		return 0;
	}
	if (word_is(k, kn, "case")) { /* hostile.c checks the name */
		a->hcase = v;
		a->hcase_len = vn;
		return 0;
	}
	if (word_is(k, kn, "transport")) {
		if (word_is(v, vn, "modern"))
			a->transport = TRANSPORT_MODERN;
		else if (word_is(v, vn, "legacy"))
			a->transport = TRANSPORT_LEGACY;
		else
			goto bad;
		return 0;
	}
	if (word_is(k, kn, "ring")) {
		if (word_is(v, vn, "split") || word_is(v, vn, "packed"))
			a->packed = word_is(v, vn, "packed");
		else
			goto bad;
		return 0;
	}
	if (word_is(k, kn, "irq")) {
		if (word_is(v, vn, "msix"))
			a->irq = IRQ_MSIX;
		else if (word_is(v, vn, "intx"))
			a->irq = IRQ_INTX;
		else if (word_is(v, vn, "poll"))
			a->irq = IRQ_POLL;
		else
			goto bad;
		return 0;
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (!word_is(k, kn, nums[i].key))
			continue;
		if (!parse_u64(v, vn, &x) || x > nums[i].max)
			goto bad;
		char *field = (char *)a + nums[i].off;

		if (nums[i].size == 8)
			*(uint64_t *)field = x;
		else if (nums[i].size == 4)
			*(uint32_t *)field = (uint32_t)x;
		else
			*(bool *)field = x != 0;
		return 0;
	}
	return 0;
bad:
	kprintf("kvmscope mini guest: bad value in '%.*s=%.*s'\n", (int)kn, k, (int)vn, v);
	return ST_BAD_ARG;
}

int args_parse(const char *cmdline, struct mini_args *a)
{
	*a = (struct mini_args){
	    .exit = 0,
	    .test = TEST_NONE,
	    .transport = TRANSPORT_MODERN,
	    .irq = IRQ_MSIX,
	    .sector = 0,
	    .sectors = 64,
	    .seed = 1,
	    .event_idx = false,
	    .depth = 4,
	    .count = 1000,
	    .report = 0,
	    .qsize = VQ_WANT,
	    .queues = 1,
	    .writeback = 2,
	    .hold = false,
	};
	if (!cmdline)
		return 0;
	const char *p = cmdline, *end = cmdline;

	while (end < cmdline + CMDLINE_MAX && *end)
		end++;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
			p++;
		const char *w = p, *eq = NULL;

		while (p < end && *p != ' ' && *p != '\t' && *p != '\n') {
			if (*p == '=' && !eq)
				eq = p;
			p++;
		}
		if (!eq)
			continue; /* a bare word (noxsave, quiet ...): not ours */
		int st = parse_word(w, (size_t)(eq - w), eq + 1, (size_t)(p - eq - 1), a);

		if (st)
			return st;
	}
	return 0;
}
