/* trace/report/bench.c - `kvmscope bench`: checks the options, finds the guest and bench.sh
 * (beside the binary in a source tree, else where `make install` put them) and hands over to
 * the script. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk/blk.h"
#include "kvm/kvm.h"
#include "trace/report/report.h"

static const char usage[] =
    "Usage: kvmscope bench [--quick] [--out DIR] [--paths LIST] [--repeat N]\n"
    "Run the IO-path comparison and write a report: the mini guest's random 4 KiB reads at\n"
    "depth 1 and 32 (reads per second, TSC ticks per read) on each kvmscope IO path and on\n"
    "QEMU's nearest configurations (when qemu-system-x86_64 is installed), the host's own\n"
    "reads of the image as the ceiling, tracing on against off, exits and interrupts per\n"
    "request from a trace, and (not with --quick) fio in the Linux guest and boot time to\n"
    "/init for both VMMs. Runs are taken round-robin, repeated; the report gives medians and\n"
    "the spread, and says when two rows overlap too much to rank. Only ratios taken in one\n"
    "run on a quiet machine mean anything (docs/bench.md).\n"
    "\n"
    "  --quick              fewer, shorter runs (a few minutes): checks that every row is\n"
    "                       there, not the speed; no fio, no boot\n"
    "  --out DIR            where report.md, results.csv, chart.png and the logs go\n"
    "                       (default: bench-out)\n"
    "  --paths LIST         comma-separated rows to run (default: all): the kvmscope IO paths\n"
    "                       (as --blk-io names them: vcpu, iothread, uring, vhost-user),\n"
    "                       qemu-mainloop, qemu-iothread-uring, host\n"
    "  --repeat N           runs of each configuration, round-robin (default 3, --quick 2)\n"
    "  --no-fio             no fio in Linux (its boots take most of a full run); boot\n"
    "                       time to /init is still measured\n"
    "  --machine            print the KVM kind the report names (the kvm module loaded,\n"
    "                       the machine's DMI vendor, the CPU's hypervisor bit and\n"
    "                       signature) and exit\n"
    "  --help               this text\n"
    "\n"
    "Output: a table on this terminal, a progress line on stderr while it runs, and in DIR\n"
    "report.md, results.csv and chart.png (the chart needs gnuplot; without it bench says\n"
    "so and writes the rest). Exit status: 0 when every row ran, 1 when one failed, 2 for\n"
    "bad input.\n";

/* The rows besides kvmscope's IO paths (bench.sh knows how to run each). */
static const char *const other_rows[] = {"qemu-mainloop", "qemu-iothread-uring", "host"};

static bool row_known(const char *name)
{
	enum blk_io io;

	if (blk_io_parse(name, &io) == 0)
		return true;
	for (size_t i = 0; i < sizeof(other_rows) / sizeof(other_rows[0]); i++)
		if (strcmp(name, other_rows[i]) == 0)
			return true;
	return false;
}

/* Every row: the IO paths blk/ has, in its order, then the others. */
static void all_rows(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; strcmp(blk_io_name(i), "?") != 0; i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s ", blk_io_name(i));
	for (size_t i = 0; i < sizeof(other_rows) / sizeof(other_rows[0]); i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", i ? " " : "",
				      other_rows[i]);
}

/* LIST "a,b" into "a b " in buf; -EINVAL (with *bad set) at the first unknown name. */
static int rows_of(const char *list, char *buf, size_t len, char *bad, size_t badlen)
{
	char *copy = strdup(list), *save = NULL;
	size_t n = 0;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	buf[0] = bad[0] = 0;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!row_known(w)) {
			snprintf(bad, badlen, "%s", w);
			r = -EINVAL;
			break;
		}
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s ", w);
	}
	free(copy);
	return r == 0 && n == 0 ? -EINVAL : r;
}

/* In a source tree the script is trace/report/bench.sh beside ./kvmscope and the guest guest/out/;
 * an installed kvmscope has them in DATADIR and GUESTDIR. */
static int find_files(char *script, char *mini, char *src, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	src[0] = 0;
	if (n > 0) {
		exe[n] = 0;
		const char *dir = dirname(exe);

		snprintf(script, len, "%s/trace/report/bench.sh", dir);
		if (access(script, R_OK) == 0) {
			snprintf(src, len, "%s", dir);
			snprintf(mini, len, "%s/guest/out/mini.elf", dir);
			return 0;
		}
	}
	if (shipped_path(SHIPPED_DATA, "bench.sh", script, len) < 0)
		return -ENOENT;
	shipped_path(SHIPPED_GUEST, "mini.elf", mini, len);
	return 0;
}

int bench_cmd_main(int argc, char **argv)
{
	static const struct option opts[] = {{"quick", no_argument, 0, 'q'},
					     {"out", required_argument, 0, 'o'},
					     {"paths", required_argument, 0, 'p'},
					     {"repeat", required_argument, 0, 'r'},
					     {"no-fio", no_argument, 0, 'f'},
					     {"machine", no_argument, 0, 'm'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	char rows[512], bad[64], script[PATH_MAX], mini[PATH_MAX], src[PATH_MAX], exe[PATH_MAX];
	const char *out = "bench-out", *paths = NULL, *repeat = NULL;
	bool quick = false, fio = true;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quick = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			paths = optarg;
			break;
		case 'r':
			repeat = optarg;
			break;
		case 'f':
			fio = false;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'm': {
			struct host_kvm h;
			char line[512];

			host_kvm_probe("", &h);
			host_kvm_cpuid(&h);
			host_kvm_describe(&h, line, sizeof(line));
			puts(line);
			return 0;
		}
		default:
			fputs("kvmscope bench: try 'kvmscope bench --help'\n", stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvmscope bench: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (repeat) {
		char *end;
		long n = strtol(repeat, &end, 10);

		if (*end || end == repeat || n < 1 || n > 100) {
			fprintf(stderr, "kvmscope bench: --repeat wants 1-100, got '%s'\n", repeat);
			return 2;
		}
	}
	if (!*out) {
		fputs("kvmscope bench: --out wants a directory name\n", stderr);
		return 2;
	}
	if (paths) {
		if (rows_of(paths, rows, sizeof(rows), bad, sizeof(bad)) < 0) {
			all_rows(rows, sizeof(rows));
			if (bad[0])
				fprintf(stderr, "kvmscope bench: unknown row '%s' in --paths", bad);
			else
				fprintf(stderr, "kvmscope bench: --paths names no row");
			fprintf(stderr, " (known: %s)\n", rows);
			return 2;
		}
	} else {
		all_rows(rows, sizeof(rows));
	}
	if (find_files(script, mini, src, sizeof(script)) < 0) {
		fprintf(stderr,
			"kvmscope bench: %s missing (install kvmscope with 'make install', or "
			"run ./kvmscope in its source tree)\n",
			script);
		return 1;
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	if (setenv("KVMSCOPE", exe, 1) || setenv("BENCH_QUICK", quick ? "1" : "0", 1) ||
	    setenv("BENCH_OUT", out, 1) || setenv("BENCH_ROWS", rows, 1) ||
	    setenv("BENCH_REPEAT",
		   repeat  ? repeat
		   : quick ? "2"
			   : "3",
		   1) ||
	    setenv("BENCH_FIO", fio ? "1" : "0", 1) || setenv("BENCH_MINI", mini, 1) ||
	    setenv("BENCH_SRC", src, 1)) {
		perror("kvmscope bench: setenv");
		return 1;
	}
	execl("/bin/bash", "bash", script, (char *)NULL);
	fprintf(stderr, "kvmscope bench: cannot run /bin/bash %s: %s\n", script, strerror(errno));
	return 1;
}
