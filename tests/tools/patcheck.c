/*
 * tests/tools/patcheck.c - checks a disk image after mini.elf's test=blk: sectors
 * [sector, sector+sectors) hold guest/mini/pattern.h's pattern for seed, every other byte is 0.
 *
 *   patcheck IMAGE [sector=S] [sectors=N] [seed=N]    (defaults and words as mini.elf's)
 *
 * Exit 0: as expected; 1: a byte differs (the first one is named); 2: bad usage or I/O error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"

static int usage(const char *why)
{
	fprintf(stderr, "patcheck: %s\nusage: patcheck IMAGE [sector=S] [sectors=N] [seed=N]\n",
		why);
	return 2;
}

/* key=value with a decimal or 0x value, the way mini.elf reads it. */
static int parse_word(const char *w, uint64_t *sector, uint64_t *sectors, uint64_t *seed)
{
	const char *eq = strchr(w, '=');
	char *end;
	uint64_t *dst;

	if (!eq)
		return -1;
	if (!strncmp(w, "sector=", 7))
		dst = sector;
	else if (!strncmp(w, "sectors=", 8))
		dst = sectors;
	else if (!strncmp(w, "seed=", 5))
		dst = seed;
	else
		return -1;
	errno = 0;
	*dst = strtoull(eq + 1, &end, 0);
	return (errno || *end || end == eq + 1) ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t first = 0, count = 64, seed = 1, s = 0;
	uint8_t buf[PATTERN_SECTOR_SIZE];
	size_t got;
	FILE *f;

	if (argc < 2)
		return usage("no image");
	for (int i = 2; i < argc; i++)
		if (parse_word(argv[i], &first, &count, &seed))
			return usage(argv[i]);
	if (seed > UINT32_MAX)
		return usage("seed is a 32-bit value");
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "patcheck: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	for (; (got = fread(buf, 1, sizeof(buf), f)) > 0; s++) {
		bool in = s >= first && s - first < count;

		for (size_t i = 0; i < got; i++) {
			uint8_t want = in ? pattern_byte(s, (uint32_t)i, (uint32_t)seed) : 0;

			if (buf[i] != want) {
				printf("patcheck: %s: sector %" PRIu64 " byte %zu (offset %" PRIu64
				       "): 0x%02x, expected 0x%02x (%s)\n",
				       argv[1], s, i, s * PATTERN_SECTOR_SIZE + i, buf[i], want,
				       in ? "pattern" : "zero");
				fclose(f);
				return 1;
			}
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "patcheck: %s: read error\n", argv[1]);
		fclose(f);
		return 2;
	}
	fclose(f);
	if (first + count > s) {
		printf("patcheck: %s: %" PRIu64 " sectors, pattern range ends at %" PRIu64 "\n",
		       argv[1], s, first + count);
		return 1;
	}
	printf("patcheck: %s: ok: %" PRIu64 " pattern sectors at %" PRIu64 " (seed %" PRIu64
	       "), %" PRIu64 " zero sectors\n",
	       argv[1], count, first, seed, s - count);
	return 0;
}
