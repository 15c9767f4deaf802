/* trace/compare/import.c - `kvmscope import qemu|bpftrace LOG [-o FILE]`: another tracer's text
 * turned into a kvmscope trace (trace/compare/build.c holds what it fills and saves), and loading
 * either kind of input for `kvmscope diff`. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/compare/compare.h"

/* --- Either kind of input. --- */
bool trace_path_is_kvt(const char *path)
{
	char magic[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool kvt = read(fd, magic, sizeof(magic)) == sizeof(magic) &&
		   !memcmp(magic, TRACE_MAGIC, sizeof(magic));
	close(fd);
	return kvt;
}

int trace_import_path(struct trace_build *b, const char *path, bool bpftrace, char *err,
		      size_t errlen)
{
	FILE *in = fopen(path, "r");
	struct stat st;
	if (!in || fstat(fileno(in), &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (in)
			fclose(in);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) { /* reading it would fail with "Input/output error" */
		snprintf(err, errlen, "%s: a directory, not a %s log", path,
			 bpftrace ? "bpftrace" : "QEMU");
		fclose(in);
		return -1;
	}
	int ret = bpftrace ? trace_import_bpftrace(b, in, err, errlen)
			   : trace_import_qemu(b, in, err, errlen);
	fclose(in);
	if (!ret && b->oom) {
		snprintf(err, errlen, "%s: out of memory", path);
		ret = -1;
	}
	return ret;
}

int trace_load_any(struct trace_file *tf, const char *path, const char *cmd, char *err,
		   size_t errlen)
{
	if (trace_path_is_kvt(path))
		return trace_file_load(tf, path, err, errlen);
	struct trace_build b;
	if (trace_build_init(&b, path)) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	b.diag = stderr;
	b.cmd = cmd;
	if (trace_import_path(&b, path, false, err, errlen)) {
		trace_build_free(&b);
		return -1;
	}
	trace_build_finish(&b, tf);
	return 0;
}

/* --- `kvmscope import`. --- */
static int usage(FILE *f, int status)
{
	fprintf(
	    f,
	    "usage: kvmscope import qemu|bpftrace LOG [-o FILE]\n"
	    "Turns another tracer's log into a kvmscope trace (docs/compare.md):\n"
	    "  qemu      QEMU's `log` trace backend (-trace enable=... -D LOG), with or without\n"
	    "            -msg timestamp=on; guest/qemu-trace.sh makes one\n"
	    "  bpftrace  the output of trace/compare/kvm.bt (the host's KVM tracepoints)\n"
	    "  -o FILE   the trace to write (default: LOG with its extension replaced by .kvt)\n"
	    "Then: kvmscope trace dump FILE, kvmscope diff FILE OTHER.\n"
	    "Exit status: 0; 1 when the trace could not be made or written (out of memory, no\n"
	    "space, an IO error); 2 for a bad option, a log that is not one, or an -o where no\n"
	    "file can be.\n");
	return status;
}

static char *default_out(const char *log)
{
	const char *slash = strrchr(log, '/'), *dot = strrchr(log, '.');
	size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - log) : strlen(log);
	char *out = malloc(stem + 5);
	if (out)
		snprintf(out, stem + 5, "%.*s.kvt", (int)stem, log);
	return out;
}

static void report(const struct trace_build *b, const struct trace_file *tf, const char *out)
{
	size_t imported = 0;
	for (size_t i = 0; i < tf->nrec; i++)
		imported += tf->rec[i].ev == TRACE_EV_IMPORTED;
	fprintf(stderr,
		"kvmscope import: %s: %zu lines: %zu trace events, %zu other lines skipped, %zu "
		"malformed\n",
		tf->path, b->lines, b->events, b->skipped, b->malformed);
	fprintf(stderr,
		"kvmscope import: wrote %s: %zu records (%zu kvmscope events, %zu kept as "
		"'imported'), %zu devices",
		out, tf->nrec, tf->nrec - imported, imported, tf->names.ndev - 1);
	for (size_t d = 1; d < tf->names.ndev; d++)
		fprintf(stderr, "%s%s", d == 1 ? " (" : ", ",
			trace_file_str(tf, tf->names.dev[d].name));
	fprintf(stderr, "%s\n", tf->names.ndev > 1 ? ")" : "");
}

int import_cmd_main(int argc, char **argv)
{
	const char *kind = NULL, *log = NULL, *out = NULL;
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout, 0);
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (++i >= argc) {
				fprintf(stderr, "kvmscope import: %s needs a file name\n",
					argv[i - 1]);
				return 2;
			}
			out = argv[i];
		} else if (!strncmp(argv[i], "--output=", 9)) {
			out = argv[i] + 9;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "kvmscope import: unknown option '%s'\n", argv[i]);
			return usage(stderr, 2);
		} else if (!kind) {
			kind = argv[i];
		} else if (!log) {
			log = argv[i];
		} else {
			fprintf(stderr, "kvmscope import: unexpected argument '%s'\n", argv[i]);
			return usage(stderr, 2);
		}
	}
	if (!kind || !log)
		return usage(stderr, 2);
	if (strcmp(kind, "qemu") && strcmp(kind, "bpftrace")) {
		fprintf(stderr, "kvmscope import: '%s': expected qemu or bpftrace\n", kind);
		return 2;
	}
	if (trace_path_is_kvt(log)) {
		fprintf(stderr, "kvmscope import: %s is already a kvmscope trace\n", log);
		return 2;
	}
	char *def = out ? NULL : default_out(log);
	if (!out && !(out = def)) {
		fprintf(stderr, "kvmscope import: out of memory\n");
		return 1;
	}
	/* Where no trace file can be, -o is bad input, found before the log is read, as run finds
	 * a bad --trace before the VM starts; a write that fails later is 1. */
	int r = trace_path_writable(out);
	if (r < 0) {
		fprintf(stderr, "kvmscope import: -o %s: %s\n", out, strerror(-r));
		free(def);
		return 2;
	}

	struct trace_build b;
	struct trace_file tf = {0};
	int ret = 0;
	if (trace_build_init(&b, log)) {
		fprintf(stderr, "kvmscope import: out of memory\n");
		free(def);
		return 1;
	}
	b.diag = stderr;
	if (trace_import_path(&b, log, !strcmp(kind, "bpftrace"), err, sizeof(err))) {
		fprintf(stderr, "kvmscope import: %s\n", err);
		trace_build_free(&b);
		free(def);
		return 2;
	}
	trace_build_finish(&b, &tf);
	if (trace_file_save(&tf, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmscope import: %s\n", err);
		ret = 1;
	} else {
		report(&b, &tf, out);
	}
	trace_file_free(&tf);
	free(def);
	return ret;
}
