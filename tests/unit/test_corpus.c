/* tests/unit/test_corpus.c - the shipped traces (docs/traces/corpus.list, recorded by
 * docs/traces/record.sh): each loads whole with today's reader, is of today's format, is what its
 * name says (transport, interrupts, IO path, ring, vCPUs), and `kvmscope diff` against its paired
 * QEMU 7.2 log finds only labelled differences: handshake, BARs, feature sets, queues, notifies,
 * interrupts, requests. Every .kvt in docs/traces/ is listed, and docs/traces/README.md names
 * each with its log. No KVM needed. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/check.h"
#include "trace/compare/compare.h"
#include "trace/internal.h"

#define LIST	"docs/traces/corpus.list"
#define README	"docs/traces/README.md"
#define REGEN	"regenerate the corpus: sh docs/traces/record.sh"
#define MAXROWS 32

struct row {
	char name[96], opts[256], log[96];
};

static size_t read_list(struct row *rows)
{
	FILE *f = fopen(LIST, "r");
	char line[512];
	size_t n = 0, bad = 0;
	CHECK(f, "%s opens", LIST);
	while (f && n < MAXROWS && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = 0;
		char *name = strtok(line, "|"), *opts = strtok(NULL, "|"), *log = strtok(NULL, "|");
		if (!name || !opts || !log) {
			bad++;
			continue;
		}
		snprintf(rows[n].name, sizeof(rows[n].name), "%s", name);
		snprintf(rows[n].opts, sizeof(rows[n].opts), " %s ", opts);
		snprintf(rows[n].log, sizeof(rows[n].log), "%s", log);
		n++;
	}
	if (f)
		fclose(f);
	CHECK(!bad, "%s: every line has a name, options and a log (%zu not)", LIST, bad);
	return n;
}

/* The word after option opt in the row's options ("" when absent). */
static const char *opt_value(const struct row *r, const char *opt, char *buf, size_t len)
{
	char key[64];
	snprintf(key, sizeof(key), " %s ", opt);
	const char *p = strstr(r->opts, key);
	buf[0] = 0;
	if (p)
		sscanf(p + strlen(key), "%63s", buf);
	(void)len;
	return buf;
}

/* Loads whole, today's format, and is what its name and options say. */
static void check_trace(const struct row *r, const char *path)
{
	struct trace_file tf;
	char err[512], v[64], info[128];
	memset(&tf, 0, sizeof(tf));
	int rc = trace_file_load(&tf, path, err, sizeof(err));
	CHECK(rc == 0, "%s loads with this kvmscope's reader%s%s", path, rc ? ": " : "",
	      rc ? err : "");
	if (rc) {
		printf("  (%s)\n", REGEN);
		return;
	}
	CHECK(tf.hdr.version == TRACE_VERSION && tf.hdr.record_size == sizeof(struct trace_rec),
	      "%s is of today's format (version %u, records of %u bytes; this kvmscope: %u, %zu)",
	      path, tf.hdr.version, tf.hdr.record_size, TRACE_VERSION, sizeof(struct trace_rec));
	CHECK(!tf.warning[0] && tf.ended && tf.end_records == tf.nrec && !tf.end_drops &&
		  tf.nrec > 100,
	      "%s is whole: %zu records, an end marker, no drops%s%s", path, tf.nrec,
	      tf.warning[0] ? ", " : "", tf.warning);
	static const char *keys[][2] = {{"--virtio", "transport"},
					{"--irq", "irq"},
					{"--blk-io", "io_path"},
					{"--ring", "ring"},
					{"--smp", "vcpus"}};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		opt_value(r, keys[k][0], v, sizeof(v));
		if (!v[0])
			continue;
		trace_file_info(&tf, keys[k][1], info, sizeof(info));
		CHECK(!strcmp(v, info), "%s: %s %s (the trace's info says %s=%s)", path, keys[k][0],
		      v, keys[k][1], info);
		if (strcmp(keys[k][0], "--smp") && strcmp(keys[k][0], "--ring"))
			CHECK(strstr(r->name, v), "%s is named by its %s (%s)", path, keys[k][0],
			      v);
	}
	/* the interrupts the name promises reached the guest */
	size_t irqs = 0;
	bool intx = strstr(r->name, "-intx") != NULL;
	for (size_t i = 0; i < tf.nrec; i++)
		if (tf.rec[i].ev == TRACE_EV_IRQ_RAISE)
			irqs += (trace_rec_arg(&tf.rec[i], "kind", 0) == TRACE_IRQ_INTX) == intx;
	CHECK(irqs > 0, "%s: %zu %s interrupts raised", path, irqs, intx ? "INTx" : "MSI-X");
	trace_file_free(&tf);
}

/* `kvmscope diff` of the trace against its QEMU log: every difference labelled. */
static void check_diff(const char *path, const char *log)
{
	struct diff_side a, b;
	char err[512];
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (diff_side_load(&a, path, err, sizeof(err)) < 0 ||
	    diff_side_load(&b, log, err, sizeof(err)) < 0) {
		CHECK(0, "diff %s %s loads both (%s)", path, log, err);
		diff_side_free(&a);
		return;
	}
	a.letter = 'A', b.letter = 'B';
	struct diff_cmp cmp[4];
	memset(cmp, 0, sizeof(cmp));
	struct diff_opts o = {.requests = 8};
	size_t n = a.ndev < 4 ? diff_pair_devices(&a, &b, cmp) : 0;
	CHECK(n == 1 && a.ndev == 1 && b.ndev == 1, "diff %s %s: one virtio-blk on each side", path,
	      log);
	for (size_t k = 0; k < n; k++) {
		struct diff_cmp *p = &cmp[k];
		CHECK(diff_compare(p, &o) == 0, "diff %s: compared", path);
		CHECK(p->match && !p->mismatches,
		      "diff %s %s: the handshakes match (%zu same, %zu labelled, %zu unexplained)",
		      path, log, p->same, p->labelled, p->mismatches);
		CHECK(!p->state_differs, "diff %s %s: features and queues the same or labelled",
		      path, log);
		unsigned bad_bars = 0;
		bool same;
		for (unsigned i = 0; i < DIFF_BARS; i++)
			bad_bars += !diff_bar_label(p, i, &same) && !same;
		CHECK(!bad_bars, "diff %s %s: %u BARs differ without a label", path, log, bad_bars);
		const struct diff_dev *da = p->a, *db = p->b;
		bool notifies = da->notify_exit == db->notify_exit &&
				da->notify_ioeventfd == db->notify_ioeventfd &&
				da->notify_empty == db->notify_empty;
		CHECK(notifies || diff_notify_label(p), "diff %s %s: notifies the same or labelled",
		      path, log);
		bool irqs = da->irq_msix == db->irq_msix && da->irq_irqfd == db->irq_irqfd &&
			    da->irq_intx == db->irq_intx && da->irq_unknown == db->irq_unknown;
		CHECK(irqs || diff_irq_label(p), "diff %s %s: interrupts the same or labelled",
		      path, log);
		size_t same_reqs = 0;
		for (long i = 0; i < p->nreqs; i++) {
			const struct diff_pair *q = &p->reqs[i];
			if (q->i == DIFF_NONE || q->j == DIFF_NONE)
				continue;
			const struct diff_req *ra = &da->req[q->i], *rb = &db->req[q->j];
			same_reqs += ra->type == rb->type && ra->bytes == rb->bytes &&
				     ra->status == rb->status;
		}
		CHECK(p->nreqs > 0 && same_reqs == (size_t)p->nreqs,
		      "diff %s %s: the first %ld requests the same (%zu)", path, log, p->nreqs,
		      same_reqs);
		free(p->rows);
		free(p->reqs);
	}
	diff_side_free(&a);
	diff_side_free(&b);
}

static bool listed(const struct row *rows, size_t n, const char *file)
{
	for (size_t k = 0; k < n; k++) {
		char want[128];
		snprintf(want, sizeof(want), "%.90s.kvt", rows[k].name);
		if (!strcmp(file, want))
			return true;
	}
	return false;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 16];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = 0;
	if (f)
		fclose(f);
	return f ? buf : NULL;
}

int main(void)
{
	struct row rows[MAXROWS];
	size_t n = read_list(rows);
	CHECK(n >= 6, "%s lists %zu traces", LIST, n);
	const char *readme = slurp(README);
	CHECK(readme, "%s is there", README);

	for (size_t k = 0; k < n; k++) {
		char path[PATH_MAX], log[PATH_MAX], name[128];
		snprintf(path, sizeof(path), "docs/traces/%.90s.kvt", rows[k].name);
		snprintf(log, sizeof(log), "tests/fixtures/%.90s", rows[k].log);
		snprintf(name, sizeof(name), "%.90s.kvt", rows[k].name);
		CHECK(access(path, R_OK) == 0, "%s is shipped (%s)", path, REGEN);
		if (access(path, R_OK))
			continue;
		check_trace(&rows[k], path);
		if (readme)
			CHECK(strstr(readme, name) && strstr(readme, rows[k].log),
			      "%s indexes %s with %s", README, name, rows[k].log);
		if (access(log, R_OK)) {
			printf("SKIP diff %s %s: the log is not in tests/fixtures yet\n", path,
			       log);
			continue;
		}
		check_diff(path, log);
	}

	/* nothing shipped that the list does not know; demo.kvt is a link to one it does */
	DIR *d = opendir("docs/traces");
	struct dirent *e;
	unsigned stray = 0;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 4, ".kvt"))
			continue;
		char path[PATH_MAX], target[256] = "";
		snprintf(path, sizeof(path), "docs/traces/%s", e->d_name);
		ssize_t t = readlink(path, target, sizeof(target) - 1);
		if (t > 0)
			target[t] = 0;
		bool ok = listed(rows, n, t > 0 ? target : e->d_name);
		if (!ok)
			printf("  %s is not in %s\n", path, LIST);
		stray += !ok;
	}
	if (d)
		closedir(d);
	CHECK(d && !stray, "every trace in docs/traces is in %s (%u not)", LIST, stray);
	char target[256] = "";
	ssize_t t = readlink("docs/traces/demo.kvt", target, sizeof(target) - 1);
	if (t > 0)
		target[t] = 0;
	CHECK(t > 0 && listed(rows, n, target), "docs/traces/demo.kvt links to a listed trace (%s)",
	      target);
	return CHECK_DONE();
}
