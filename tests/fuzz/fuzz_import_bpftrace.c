/* tests/fuzz/fuzz_import_bpftrace.c - `kvmscope import bpftrace` on the output of trace/compare/kvm.bt. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(fuzz_file("kvm.bt.log", data, size), true);
	return 0;
}
