/* trace/report/events.c - `kvmscope trace events [--markdown]`: the catalogue, one event a line or
 * as the table of docs/events.md. */
#include <string.h>

#include "trace/report/report.h"

int trace_cmd_events(int argc, char **argv)
{
	bool markdown = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--markdown")) {
			markdown = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf(
			    "usage: kvmscope trace events [--markdown]\n"
			    "Lists every trace event: name, class, arguments and meaning.\n"
			    "--trace-events and --events take these names and classes as globs.\n");
			return 0;
		} else {
			fprintf(stderr, "kvmscope trace events: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	trace_events_print(stdout, markdown);
	return 0;
}
