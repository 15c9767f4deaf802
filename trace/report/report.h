/* trace/report/report.h - front door of the reports: `kvmscope trace dump`, `trace stats` and
 * `trace events`, each reading one trace file (or the catalogue) and printing it for a person or
 * a program, and `kvmscope bench`, which runs VMs, reads their consoles and traces and writes a
 * report. They read through trace/internal.h; nothing here records. */
#ifndef KVMSCOPE_TRACE_REPORT_H
#define KVMSCOPE_TRACE_REPORT_H

#include "trace/internal.h"

/* --- `kvmscope trace ...` subcommands; argv[0] is the subcommand name. Exit status. --- */
int trace_cmd_dump(int argc, char **argv);  /* dump FILE [--format text|json|chrome] [--events G] */
int trace_cmd_stats(int argc, char **argv); /* stats FILE */
int trace_cmd_events(int argc, char **argv); /* events [--markdown]: the catalogue */

/* --- `kvmscope bench` (bench.c): the IO-path comparison against QEMU in one command. Options are
 * checked here; the runs are bench.sh, which forks kvmscope, QEMU and the host's own reads and
 * writes the report (docs/bench.md). argv[0] is "bench". Returns an exit status (2 bad input,
 * 1 nothing to run) or does not return. --- */
int bench_cmd_main(int argc, char **argv);

/* --- What the reports share (trace/report/report.c). --- */
/* Pairs each req_complete with its chain_pop: same device, queue and head. */
struct trace_req_match {
	struct trace_req_pending *v;
	size_t n, cap;
};
void trace_req_begin(struct trace_req_match *m, const struct trace_rec *pop, size_t idx);
long trace_req_end(struct trace_req_match *m, const struct trace_rec *complete); /* pop's idx */
void trace_req_free(struct trace_req_match *m);
/* Loads path for `kvmscope trace CMD`: 0, or 2 after one line on stderr; warnings on stderr. */
int trace_cli_load(const char *cmd, const char *path, struct trace_file *tf);

#endif
