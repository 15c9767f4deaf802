/* tests/fuzz/fuzz_import_qemu.c - `kvmscope import qemu` on a QEMU log and its -status.log
 * companion (the input's part after a form feed, when there is one). */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *status;
	size_t log_len, status_len;

	fuzz_split(data, size, &log_len, &status, &status_len);
	fuzz_file("run-status.log", status, status_len); /* empty: nothing the importer takes */
	fuzz_import(fuzz_file("run.log", data, log_len), false);
	return 0;
}
