/* tests/fuzz/fuzz.h - what the fuzz targets share: the input as a file (the readers take paths,
 * as the commands do), the input split into parts, and a reader over the input's bytes. Each
 * target defines LLVMFuzzerTestOneInput(); libFuzzer drives it (make fuzz), or replay.c runs it
 * once per file of the committed corpus (make check). */
#ifndef KVMSCOPE_FUZZ_H
#define KVMSCOPE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes len bytes to NAME in this process's scratch folder (made once, removed at exit) and
 * returns its path (static storage per NAME, valid until the next call with the same NAME). */
const char *fuzz_file(const char *name, const void *data, size_t len);

/* The input up to the first form feed (\f) and what follows it (NULL, 0 when there is none). */
void fuzz_split(const uint8_t *data, size_t size, size_t *first_len, const uint8_t **rest,
		size_t *rest_len);

/* Reads the input as a stream of little-endian numbers; zeros once it is used up. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};
uint64_t fuzz_take(struct fuzz_in *in, unsigned bytes);

/* The consumers of a loaded trace file, as the commands run them (output to /dev/null): dump in
 * each format, stats, the viewer's model, and diff of the file against itself. */
void fuzz_trace_consumers(const char *path);

/* `kvmscope import qemu|bpftrace LOG`: what it imports is saved, read back (it must load: an
 * importer never writes a file the reader refuses) and handed to the consumers above. */
void fuzz_import(const char *log, bool bpftrace);

#endif
