/* trace/report/stats.c - `kvmscope trace stats FILE`: counts per event, records lost, records and
 * queue notifies per thread (which vCPU drove the IO), requests, bytes, notifies and interrupts
 * per queue, per-request latency percentiles and exits per IO. */
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "trace/report/report.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t percentile(const uint64_t *v, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

static void print_ns(FILE *f, const char *label, uint64_t ns)
{
	if (ns >= 10000000)
		fprintf(f, "  %s %.1f ms", label, ns / 1e6);
	else if (ns >= 10000)
		fprintf(f, "  %s %.1f us", label, ns / 1e3);
	else
		fprintf(f, "  %s %llu ns", label, (unsigned long long)ns);
}

static void print_header(FILE *f, const struct trace_file *tf)
{
	static const char *const keys[] = {"kernel",   "vcpus",	  "transport",	    "io_path",
					   "host_kvm", "version", "console_writes", "vmm_rss_kib"};
	char buf[512];
	uint64_t span = tf->nrec ? tf->rec[tf->nrec - 1].ts - tf->hdr.start_ns : 0;

	fprintf(f, "%s: %zu records over %.6f s\n", tf->path, tf->nrec, span / 1e9);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (trace_file_info(tf, keys[i], buf, sizeof(buf)))
			fprintf(f, "  %s: %s\n", keys[i], buf);
}

/* Latency of each completed request: from its chain_pop when the trace has it, else the
 * service time the device measured (req_complete's ns). */
static size_t latencies(const struct trace_file *tf, uint64_t *lat)
{
	struct trace_req_match m = {0};
	size_t n = 0;
	for (size_t i = 0; i < tf->nrec; i++) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->ev == TRACE_EV_CHAIN_POP) {
			trace_req_begin(&m, r, i);
		} else if (r->ev == TRACE_EV_REQ_COMPLETE) {
			long pop = trace_req_end(&m, r);
			if (trace_arg_unknown(tf, r, 3)) /* ns: a log without timestamps */
				continue;
			lat[n++] = pop >= 0 ? r->ts - tf->rec[pop].ts : r->a[2];
		}
	}
	trace_req_free(&m);
	return n;
}

static void print_requests(FILE *f, const struct trace_file *tf, const uint64_t *count,
			   uint64_t exit_notifies)
{
	uint64_t reqs = count[TRACE_EV_REQ_COMPLETE];
	uint64_t *lat = reqs ? malloc(reqs * sizeof(*lat)) : NULL;

	fprintf(f, "requests: %llu completed\n", (unsigned long long)reqs);
	if (lat) {
		size_t n = latencies(tf, lat);
		qsort(lat, n, sizeof(*lat), cmp_u64);
		fprintf(f, "latency (chain_pop -> req_complete):");
		if (n) {
			print_ns(f, "p50", percentile(lat, n, 50));
			print_ns(f, "p90", percentile(lat, n, 90));
			print_ns(f, "p99", percentile(lat, n, 99));
			print_ns(f, "max", lat[n - 1]);
		} else { /* not 0 ns: not known */
			fputs(" not in the log (it has no timestamps)", f);
		}
		fputc('\n', f);
		free(lat);
	}
	if (count[TRACE_EV_KVM_EXIT])
		fprintf(f, "exits per IO: %.2f (kvm_exit %llu / %llu requests)\n",
			reqs ? (double)count[TRACE_EV_KVM_EXIT] / reqs : 0.0,
			(unsigned long long)count[TRACE_EV_KVM_EXIT], (unsigned long long)reqs);
	else
		fprintf(f,
			"exits per IO: %.2f (queue_notify by exit %llu / %llu requests; "
			"%llu by ioeventfd; all exits: --trace-events '*')\n",
			reqs ? (double)exit_notifies / reqs : 0.0,
			(unsigned long long)exit_notifies, (unsigned long long)reqs,
			(unsigned long long)(count[TRACE_EV_QUEUE_NOTIFY] - exit_notifies));
	fprintf(f, "interrupts per IO: %.2f (irq_raise %llu, irq_suppress %llu)\n",
		reqs ? (double)count[TRACE_EV_IRQ_RAISE] / reqs : 0.0,
		(unsigned long long)count[TRACE_EV_IRQ_RAISE],
		(unsigned long long)count[TRACE_EV_IRQ_SUPPRESS]);
}

/* One line per thread that recorded: its records, and its queue notifies (a vCPU's are the
 * requests it drove; an IO thread's come from ioeventfd). Threads in tid order: main, vcpuN,
 * ioN, writer. */
static void print_threads(FILE *f, const struct trace_file *tf)
{
	uint64_t *recs = calloc(2 * 65536, sizeof(*recs)), *notifies = recs + 65536;
	char name[32];

	if (!recs)
		return;
	for (size_t i = 0; i < tf->nrec; i++) {
		recs[tf->rec[i].tid]++;
		notifies[tf->rec[i].tid] += tf->rec[i].ev == TRACE_EV_QUEUE_NOTIFY;
	}
	fprintf(f, "%10s  %-10s %s\n", "records", "thread", "queue_notify");
	for (unsigned t = 0; t < 65536; t++)
		if (recs[t])
			fprintf(f, "%10llu  %-10s %llu\n", (unsigned long long)recs[t],
				trace_tid_name((uint16_t)t, name, sizeof(name)),
				(unsigned long long)notifies[t]);
	free(recs);
}

/* Per device and queue: requests completed, bytes their chains carried (chain_pop; "?" when a
 * log did not record them), queue notifies, interrupts raised and suppressed. */
struct queue_stats {
	uint16_t dev;
	uint32_t queue;
	uint64_t reqs, bytes, notifies, irqs, suppressed;
	bool bytes_unknown;
};

static struct queue_stats *queue_slot(struct queue_stats **v, size_t *n, size_t *cap,
				      uint16_t dev, uint32_t queue)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].dev == dev && (*v)[i].queue == queue)
			return &(*v)[i];
	if (trace_vec_grow(v, cap, *n + 1, sizeof(**v)))
		return NULL;
	(*v)[*n] = (struct queue_stats){.dev = dev, .queue = queue};
	return &(*v)[(*n)++];
}

static int arg_index(enum trace_event ev, const char *name)
{
	for (unsigned i = 0; trace_events[ev].args[i].name; i++)
		if (!strcmp(trace_events[ev].args[i].name, name))
			return (int)i;
	return -1;
}

static int cmp_queue(const void *a, const void *b)
{
	const struct queue_stats *x = a, *y = b;
	return x->dev != y->dev ? x->dev - y->dev : (x->queue > y->queue) - (x->queue < y->queue);
}

static void print_queues(FILE *f, const struct trace_file *tf)
{
	struct queue_stats *v = NULL, *q;
	size_t n = 0, cap = 0;
	int bytes = arg_index(TRACE_EV_CHAIN_POP, "bytes");

	for (size_t i = 0; i < tf->nrec; i++) {
		const struct trace_rec *r = &tf->rec[i];
		if (r->ev != TRACE_EV_CHAIN_POP && r->ev != TRACE_EV_REQ_COMPLETE &&
		    r->ev != TRACE_EV_QUEUE_NOTIFY && r->ev != TRACE_EV_IRQ_RAISE &&
		    r->ev != TRACE_EV_IRQ_SUPPRESS)
			continue;
		uint64_t queue = trace_rec_arg(r, "queue", TRACE_QUEUE_CONFIG);
		if (queue >= TRACE_QUEUE_CONFIG) /* the configuration-change interrupt */
			continue;
		if (!(q = queue_slot(&v, &n, &cap, r->dev, queue)))
			break;
		if (r->ev == TRACE_EV_CHAIN_POP && trace_arg_unknown(tf, r, bytes))
			q->bytes_unknown = true;
		else if (r->ev == TRACE_EV_CHAIN_POP)
			q->bytes += trace_rec_arg(r, "bytes", 0);
		q->reqs += r->ev == TRACE_EV_REQ_COMPLETE;
		q->notifies += r->ev == TRACE_EV_QUEUE_NOTIFY;
		q->irqs += r->ev == TRACE_EV_IRQ_RAISE;
		q->suppressed += r->ev == TRACE_EV_IRQ_SUPPRESS;
	}
	if (!n) {
		free(v);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_queue);
	fprintf(f, "%-24s %10s %12s %10s %10s %10s\n", "queue", "requests", "bytes", "notifies",
		"interrupts", "suppressed");
	for (size_t i = 0; i < n; i++) {
		char name[64], b[24];
		const char *dev = v[i].dev && v[i].dev < tf->names.ndev
				      ? trace_file_str(tf, tf->names.dev[v[i].dev].name)
				      : "-";
		snprintf(name, sizeof(name), "%s q%u", dev, v[i].queue);
		snprintf(b, sizeof(b), v[i].bytes_unknown ? "?" : "%llu",
			 (unsigned long long)v[i].bytes);
		fprintf(f, "%-24s %10llu %12s %10llu %10llu %10llu\n", name,
			(unsigned long long)v[i].reqs, b, (unsigned long long)v[i].notifies,
			(unsigned long long)v[i].irqs, (unsigned long long)v[i].suppressed);
	}
	free(v);
}

/* Exits by kind, address and direction, and the writes KVM coalesced instead of exiting: where
 * a run's exits went (an exit that is a guest's access names the port or MMIO address). */
struct exit_stats {
	uint16_t ev;
	uint32_t reason;
	uint64_t addr;
	uint32_t rw;
	uint64_t count;
	const struct trace_rec *first; /* for the decoded reason */
};

static int cmp_exit(const void *a, const void *b)
{
	const struct exit_stats *x = a, *y = b;
	return (x->count < y->count) - (x->count > y->count);
}

#define EXITS_SHOWN 16

static void print_exits(FILE *f, const struct trace_file *tf)
{
	struct exit_stats *v = NULL;
	size_t n = 0, cap = 0, i;
	uint64_t exits = 0, coalesced = 0;

	for (size_t k = 0; k < tf->nrec; k++) {
		const struct trace_rec *r = &tf->rec[k];
		bool is_exit = r->ev == TRACE_EV_KVM_EXIT;
		if (!is_exit && r->ev != TRACE_EV_COALESCED_IO)
			continue;
		/* kvm_exit: reason, addr, len|rw; coalesced_io: addr, len|pio (always a write) */
		uint32_t reason = is_exit ? (uint32_t)r->a[0] : 0;
		uint64_t addr = is_exit ? r->a[1] : r->a[0];
		uint32_t rw = is_exit ? (uint32_t)(r->a[2] >> 32) : (uint32_t)(r->a[1] >> 32);
		exits += is_exit;
		coalesced += !is_exit;
		for (i = 0; i < n; i++)
			if (v[i].ev == r->ev && v[i].reason == reason && v[i].addr == addr &&
			    v[i].rw == rw)
				break;
		if (i == n) {
			if (trace_vec_grow(&v, &cap, n + 1, sizeof(*v)))
				break;
			v[n++] = (struct exit_stats){
			    .ev = r->ev, .reason = reason, .addr = addr, .rw = rw, .first = r};
		}
		v[i].count++;
	}
	if (!n) {
		free(v);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_exit);
	fprintf(f, "exits: %llu to kvmscope, %llu writes coalesced by KVM (no exit)\n",
		(unsigned long long)exits, (unsigned long long)coalesced);
	fprintf(f, "%10s  %-10s %-12s %s\n", "count", "exit", "address", "access");
	for (i = 0; i < n && i < EXITS_SHOWN; i++) {
		char kind[32], addr[24];
		bool access = v[i].ev == TRACE_EV_COALESCED_IO || v[i].reason == KVM_EXIT_IO ||
			      v[i].reason == KVM_EXIT_MMIO;
		if (v[i].ev == TRACE_EV_COALESCED_IO)
			snprintf(kind, sizeof(kind), "coalesced");
		else
			trace_decode_arg(tf, v[i].first, 0, kind, sizeof(kind));
		snprintf(addr, sizeof(addr), access ? "0x%llx" : "-",
			 (unsigned long long)v[i].addr);
		const char *how = v[i].rw ? "write" : "read";
		if (v[i].ev == TRACE_EV_COALESCED_IO)
			how = v[i].rw ? "port write" : "mmio write"; /* rw holds pio there */
		fprintf(f, "%10llu  %-10s %-12s %s\n", (unsigned long long)v[i].count, kind, addr,
			access ? how : "-");
	}
	if (n > EXITS_SHOWN)
		fprintf(f, "%10s  (%zu more kinds and addresses)\n", "", n - EXITS_SHOWN);
	free(v);
}

int trace_cmd_stats(int argc, char **argv)
{
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf(
			    "usage: kvmscope trace stats FILE\n"
			    "Counts per event, records lost to a full ring, records and queue\n"
			    "notifies per thread (main, vcpuN, ioN), per queue (requests, bytes,\n"
			    "notifies, interrupts raised and suppressed), per-request latency\n"
			    "percentiles (p50/p90/p99/max), exits by kind and address (with\n"
			    "--trace-events '*' at record time: every exit, and the writes KVM\n"
			    "coalesced instead) and exits per IO of a trace file.\n");
			return 0;
		}
		if (argv[i][0] == '-' || path) {
			fprintf(stderr, "kvmscope trace stats: unexpected argument '%s'\n",
				argv[i]);
			return 2;
		}
		path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: kvmscope trace stats FILE\n");
		return 2;
	}

	struct trace_file tf;
	int ret = trace_cli_load("stats", path, &tf);
	if (ret)
		return ret;
	uint64_t count[TRACE_EV_NR] = {0}, drops = 0, exit_notifies = 0;
	uint64_t pauses = 0, paused_ns = 0, paused_since = 0;
	bool paused = false;
	for (size_t i = 0; i < tf.nrec; i++) {
		const struct trace_rec *r = &tf.rec[i];
		count[r->ev]++;
		if (r->ev == TRACE_EV_TRACE_DROPS)
			drops += r->a[0];
		if (r->ev == TRACE_EV_TRACE_PAUSE && (r->a[0] != 0) != paused) {
			paused = !paused;
			if (paused) {
				paused_since = r->ts;
				pauses++;
			} else {
				paused_ns += r->ts - paused_since;
			}
		}
		if (r->ev == TRACE_EV_QUEUE_NOTIFY && r->a[1] == TRACE_VIA_EXIT)
			exit_notifies++;
	}
	print_header(stdout, &tf);
	printf("%10s  %-22s %s\n", "count", "event", "class");
	for (unsigned ev = 0; ev < TRACE_EV_NR; ev++)
		if (count[ev])
			printf("%10llu  %-22s %s\n", (unsigned long long)count[ev],
			       trace_events[ev].name, trace_class_names[trace_events[ev].cls]);
	printf("drops: %llu records lost to a full ring%s\n", (unsigned long long)drops,
	       drops ? " (raise --trace-buffer)" : "");
	if (paused) /* paused to the end: up to the last record, where the header's span ends */
		paused_ns += tf.rec[tf.nrec - 1].ts - paused_since;
	if (pauses)
		printf("paused: recording was off %llu time(s), %.3f s in all (SIGUSR2); what "
		       "happened then is not counted below\n",
		       (unsigned long long)pauses, paused_ns / 1e9);
	print_threads(stdout, &tf);
	print_queues(stdout, &tf);
	print_exits(stdout, &tf);
	print_requests(stdout, &tf, count, exit_notifies);
	if (tf.warning[0])
		printf("warning: %s\n", tf.warning);
	trace_file_free(&tf);
	return fflush(stdout) ? 1 : 0;
}
