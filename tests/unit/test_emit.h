/* tests/unit/test_emit.h - the viewer tests write their sample traces through the trace layer
 * with these, counting the records so that checks can name them by number. */
#ifndef KVMSCOPE_TEST_EMIT_H
#define KVMSCOPE_TEST_EMIT_H

#include "trace/trace.h"

static size_t nrec; /* records emitted so far */

#define EMIT(ev, ...)                                                                              \
	do {                                                                                       \
		TRACE(ev, __VA_ARGS__);                                                            \
		nrec++;                                                                            \
	} while (0)
#define EMIT_DESCS(ev, dev, descs, ...)                                                            \
	do {                                                                                       \
		TRACE_DESCS(ev, dev, descs, __VA_ARGS__);                                          \
		nrec++;                                                                            \
	} while (0)

#endif
