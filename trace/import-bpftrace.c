/* trace/import-bpftrace.c - placeholder until the host view lands. */
#include <errno.h>
#include <string.h>

#include "trace/internal.h"

int trace_import_bpftrace(struct trace_build *b, FILE *in, char *err, size_t errlen)
{
	(void)in;
	snprintf(err, errlen, "%s: bpftrace import not implemented yet", b->tf.path);
	return -1;
}
