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
    "Usage: kvmscope bench [--quick] [--out DIR] [--paths LIST] [--rings LIST] [--queues LIST]\n"
    "                      [--repeat N] [--no-fio]\n"
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
    "                       qemu-mainloop, qemu-iothread-uring, qemu-vhost-user, host\n"
    "  --rings LIST         virtqueue layouts, comma-separated: split (the default), packed\n"
    "                       (--ring packed for kvmscope, packed=on for QEMU); each one\n"
    "                       other than split adds rows named 'ROW packed'\n"
    "  --queues LIST        virtio-blk queue counts, comma-separated, 1 to 4 (default 1):\n"
    "                       the mini guest submits on every queue (queues=N); kvmscope runs\n"
    "                       with --blk-queues N (and --iothreads N on iothread and uring),\n"
    "                       QEMU with num-queues=N and its one iothread; rows 'ROW qN'. With\n"
    "                       fio, each N above 1 adds fio's randread-qd32 in Linux with --smp N\n"
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
static const char *const other_rows[] = {"qemu-mainloop", "qemu-iothread-uring", "qemu-vhost-user",
					"host"};
static const char *const rings[] = {"split", "packed"};
/* the mini guest drives at most 4 queues (queues= in docs/mini-guest.md) */
static const char *const queue_counts[] = {"1", "2", "3", "4"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool word_in(const char *w, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

static bool row_known(const char *name)
{
	enum blk_io io;

	return blk_io_parse(name, &io) == 0 || word_in(name, other_rows, COUNT(other_rows));
}

static bool ring_known(const char *name)
{
	return word_in(name, rings, COUNT(rings));
}

static bool queues_known(const char *name)
{
	return word_in(name, queue_counts, COUNT(queue_counts));
}

/* WORDS as "a b c" into buf. */
static void words_of(const char *const *words, size_t n, char *buf, size_t len)
{
	size_t k = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(buf + k, k < len ? len - k : 0, "%s%s", i ? " " : "",
				      words[i]);
}

/* Every row: the IO paths blk/ has, in its order, then the others. */
static void all_rows(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; strcmp(blk_io_name(i), "?") != 0; i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s ", blk_io_name(i));
	if (n < len)
		words_of(other_rows, COUNT(other_rows), buf + n, len - n);
}

static void all_rings(char *buf, size_t len)
{
	words_of(rings, COUNT(rings), buf, len);
}

static void all_queues(char *buf, size_t len)
{
	words_of(queue_counts, COUNT(queue_counts), buf, len);
}

/* LIST "a,b" into " a b " in buf; at the first unknown name -EINVAL, at a repeated one -EEXIST,
 * with *bad set; -EINVAL with bad empty when LIST names nothing. */
static int list_of(const char *list, bool (*known)(const char *), char *buf, size_t len, char *bad,
		   size_t badlen)
{
	char *copy = strdup(list), *save = NULL, pad[80];
	size_t n = 1;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	snprintf(buf, len, " ");
	bad[0] = 0;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		snprintf(pad, sizeof(pad), " %s ", w);
		r = !known(w) ? -EINVAL : strstr(buf, pad) ? -EEXIST : 0;
		if (r < 0) {
			snprintf(bad, badlen, "%s", w);
			break;
		}
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s ", w);
	}
	free(copy);
	return r == 0 && n == 1 ? -EINVAL : r;
}

/* --OPT LIST of WHAT (all_words(buf) lists the known ones) into buf; one line and -EINVAL when
 * LIST names an unknown one, one twice, or none. */
static int option_list(const char *opt, const char *what, const char *list,
		       bool (*known)(const char *), void (*all_words)(char *, size_t), char *buf,
		       size_t len)
{
	char bad[64];
	int r = list_of(list, known, buf, len, bad, sizeof(bad));

	if (r == 0)
		return 0;
	all_words(buf, len);
	if (r == -EEXIST)
		fprintf(stderr, "kvmscope bench: %s '%s' twice in --%s", what, bad, opt);
	else if (bad[0])
		fprintf(stderr, "kvmscope bench: unknown %s '%s' in --%s", what, bad, opt);
	else
		fprintf(stderr, "kvmscope bench: --%s names no %s", opt, what);
	fprintf(stderr, " (known: %s)\n", buf);
	return -EINVAL;
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
	static const struct option opts[] = {
	    {"quick", no_argument, 0, 'q'},	   {"out", required_argument, 0, 'o'},
	    {"paths", required_argument, 0, 'p'},  {"rings", required_argument, 0, 'R'},
	    {"queues", required_argument, 0, 'Q'}, {"repeat", required_argument, 0, 'r'},
	    {"no-fio", no_argument, 0, 'f'},	   {"machine", no_argument, 0, 'm'},
	    {"help", no_argument, 0, 'h'},	   {0, 0, 0, 0}};
	char rows[512], ringv[64], queuev[64], script[PATH_MAX], mini[PATH_MAX], src[PATH_MAX],
	    exe[PATH_MAX];
	const char *out = "bench-out", *paths = NULL, *repeat = NULL, *ringl = "split",
		   *queuel = "1";
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
		case 'R':
			ringl = optarg;
			break;
		case 'Q':
			queuel = optarg;
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
		if (option_list("paths", "row", paths, row_known, all_rows, rows, sizeof(rows)) < 0)
			return 2;
	} else {
		all_rows(rows, sizeof(rows));
	}
	if (option_list("rings", "ring", ringl, ring_known, all_rings, ringv, sizeof(ringv)) < 0 ||
	    option_list("queues", "queue count", queuel, queues_known, all_queues, queuev,
			sizeof(queuev)) < 0)
		return 2;
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
	    setenv("BENCH_FIO", fio ? "1" : "0", 1) || setenv("BENCH_RINGS", ringv, 1) ||
	    setenv("BENCH_QUEUES", queuev, 1) || setenv("BENCH_MINI", mini, 1) ||
	    setenv("BENCH_SRC", src, 1)) {
		perror("kvmscope bench: setenv");
		return 1;
	}
	execl("/bin/bash", "bash", script, (char *)NULL);
	fprintf(stderr, "kvmscope bench: cannot run /bin/bash %s: %s\n", script, strerror(errno));
	return 1;
}
