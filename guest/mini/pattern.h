/*
 * guest/mini/pattern.h - the data test=blk writes, defined once for the guest and for the host
 * checker (tests/tools/patcheck.c): byte i (0..511) of sector s is (uint8_t)(s * 31 + i * 7 +
 * seed). s is the absolute sector number, so a pattern shifted by a sector (a wrong offset in the
 * VMM) never matches; 31 and 7 are odd, so neighbouring bytes and sectors always differ.
 */
#ifndef MINI_PATTERN_H
#define MINI_PATTERN_H

#include <stdint.h>

#define PATTERN_SECTOR_SIZE 512u

static inline uint8_t pattern_byte(uint64_t sector, uint32_t i, uint32_t seed)
{
	return (uint8_t)(sector * 31 + (uint64_t)i * 7 + seed);
}

/* Fills one 512-byte sector of the pattern. */
static inline void pattern_fill(uint8_t *buf, uint64_t sector, uint32_t seed)
{
	for (uint32_t i = 0; i < PATTERN_SECTOR_SIZE; i++)
		buf[i] = pattern_byte(sector, i, seed);
}

#endif
