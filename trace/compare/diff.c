/* trace/compare/diff.c - `kvmscope diff A B [--format text|json] [--requests N] [--all]`: two runs
 * of the same guest side by side, a kvmscope trace or a QEMU log on each side (docs/compare.md).
 * Here: pairing the virtio devices of the two sides, comparing them, and the exit status: 0 the
 * handshakes match, 1 they differ, 2 bad input. trace/compare/diff-report.c prints the result. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/compare/compare.h"

#define REQUESTS_DEFAULT 8

/* --- Comparing. --- */
static int req_cmp(void *ctx, size_t i, size_t j)
{
	const struct diff_cmp *p = ctx;
	const struct diff_req *a = &p->a->req[i], *b = &p->b->req[j];
	return a->type == b->type && a->sector == b->sector && a->bytes == b->bytes &&
		       a->status == b->status
		   ? 0
		   : 1;
}

static bool reached_driver_ok(const struct diff_dev *d)
{
	return d->cmp >= 0 && d->sess[d->cmp].driver_ok != DIFF_NONE;
}

/* The summary's differences that carry a label: BARs, the three feature sets, queue layouts. */
static void count_state_labels(struct diff_cmp *p)
{
	const struct diff_dev *a = p->a, *b = p->b;
	const uint64_t fa[] = {a->host_features, a->dev_features, a->drv_features};
	const uint64_t fb[] = {b->host_features, b->dev_features, b->drv_features};
	const bool ka[] = {a->has_host_features, a->has_dev_features, a->has_drv_features};
	const bool kb[] = {b->has_host_features, b->has_dev_features, b->has_drv_features};
	bool same;

	for (unsigned i = 0; i < DIFF_BARS; i++)
		p->state_labelled += diff_bar_label(p, i, &same) && !same;
	for (unsigned k = 0; k < 3; k++)
		p->state_labelled += ka[k] && kb[k] && diff_features_label(p, fa[k], fb[k]);
	for (unsigned q = 0; q < DIFF_QUEUES_MAX && a->has_queues && b->has_queues; q++)
		p->state_labelled += (a->q[q].seen && b->q[q].seen && diff_queue_label(p)) ||
				     (diff_queue_extra(p, q) && a->q[q].seen != b->q[q].seen);
}

int diff_compare(struct diff_cmp *p, const struct diff_opts *o)
{
	p->nrows = diff_align(p, DIFF_PART_HANDSHAKE, &p->rows);
	size_t na = p->a->nreq < o->requests ? p->a->nreq : o->requests;
	size_t nb = p->b->nreq < o->requests ? p->b->nreq : o->requests;
	p->nreqs = diff_edit(na, nb, req_cmp, p, &p->reqs);
	if (p->nrows < 0 || p->nreqs < 0)
		return -ENOMEM;
	for (int part = DIFF_PART_PCI; part < DIFF_PARTS; part += 2) { /* PCI, IO */
		p->npart_rows[part] = diff_align(p, part, &p->part_rows[part]);
		if (p->npart_rows[part] < 0)
			return -ENOMEM;
		for (long k = 0; k < p->npart_rows[part]; k++)
			p->part_mismatches[part] +=
			    p->part_rows[part][k].op != DIFF_SAME && !p->part_rows[part][k].label;
	}
	for (long k = 0; k < p->nrows; k++) {
		const struct diff_row *r = &p->rows[k];
		p->same += r->op == DIFF_SAME;
		p->changed += r->op == DIFF_CHANGED;
		p->labelled += r->op != DIFF_SAME && r->label;
		p->mismatches += r->op != DIFF_SAME && !r->label;
	}
	p->match = reached_driver_ok(p->a) && reached_driver_ok(p->b) && !p->mismatches;
	const struct diff_dev *a = p->a, *b = p->b;
	p->state_differs =
	    (a->has_dev_features && b->has_dev_features && a->dev_features != b->dev_features &&
	     !diff_features_label(p, a->dev_features, b->dev_features)) ||
	    (a->has_drv_features && b->has_drv_features && a->drv_features != b->drv_features &&
	     !diff_features_label(p, a->drv_features, b->drv_features));
	for (unsigned q = 0; q < DIFF_QUEUES_MAX && a->has_queues && b->has_queues; q++)
		p->state_differs |= !diff_queue_extra(p, q) &&
				    (a->q[q].seen != b->q[q].seen || a->q[q].size != b->q[q].size);
	count_state_labels(p);
	return 0;
}

void diff_cmp_free(struct diff_cmp *p)
{
	free(p->rows);
	free(p->reqs);
	for (int part = 0; part < DIFF_PARTS; part++)
		free(p->part_rows[part]);
}

/* --- The command. --- */
static int usage(FILE *f, int status)
{
	fprintf(
	    f,
	    "usage: kvmscope diff A B [--format text|json] [--requests N] [--all]\n"
	    "Compares two runs of the same guest, device by device: the driver sessions, the PCI\n"
	    "enumeration, the handshake aligned step by step, features, queues (aligned by\n"
	    "index, each with its IO), config fields read and the first requests. PCI\n"
	    "enumeration and the first requests' IO are aligned step by step too: counted here,\n"
	    "listed by --format json and by kvmscope view A --compare B. A and B are each a\n"
	    "kvmscope trace (run --trace) or a QEMU log (-trace ... -D LOG, as\n"
	    "guest/qemu-trace.sh makes it).\n"
	    "Differences one side cannot show are labelled as expected, not counted; so are,\n"
	    "legacy against modern, those virtio 1.2 requires (no FEATURES_OK for a legacy\n"
	    "driver, VERSION_1, PFN against ring addresses, BAR0 against BAR4), and what one\n"
	    "device's extra queues bring (VIRTIO_BLK_F_MQ, num_queues, their setup and IO).\n"
	    "  --format json  one JSON document instead of the text report\n"
	    "  --requests N   requests shown side by side (default %d)\n"
	    "  --all          every handshake step, no folding of long one-sided runs\n"
	    "Exit status: 0 the handshakes match, 1 they differ, 2 bad input.\n",
	    REQUESTS_DEFAULT);
	return status;
}

static int parse(int argc, char **argv, struct diff_opts *o, const char **paths)
{
	int npaths = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, 0) - 1;
		if (!strncmp(a, "--format", 8) || !strncmp(a, "--requests", 10)) {
			const char *eq = strchr(a, '=');
			v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
			if (!v) {
				fprintf(stderr, "kvmscope diff: %s needs a value\n", a);
				return 2;
			}
		}
		if (!strncmp(a, "--format", 8) && (!strcmp(v, "text") || !strcmp(v, "json"))) {
			o->json = !strcmp(v, "json");
		} else if (!strncmp(a, "--format", 8)) {
			fprintf(stderr, "kvmscope diff: --format %s: expected text or json\n", v);
			return 2;
		} else if (!strncmp(a, "--requests", 10)) {
			char *end;
			o->requests = strtoul(v, &end, 10);
			if (*end || !*v || *v == '-') {
				fprintf(stderr, "kvmscope diff: --requests %s: expected a number\n",
					v);
				return 2;
			}
		} else if (!strcmp(a, "--all")) {
			o->all = true;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "kvmscope diff: unknown option '%s'\n", a);
			return usage(stderr, 2);
		} else if (npaths == 2) {
			fprintf(stderr, "kvmscope diff: unexpected argument '%s'\n", a);
			return usage(stderr, 2);
		} else {
			paths[npaths++] = a;
		}
	}
	return npaths == 2 ? 0 : usage(stderr, 2);
}

size_t diff_pair_devices(const struct diff_side *a, const struct diff_side *b, struct diff_cmp *cmp)
{
	size_t n = 0;
	bool used[b->ndev + 1];
	memset(used, 0, sizeof(used));
	for (size_t i = 0; i < a->ndev; i++)
		for (size_t j = 0; j < b->ndev; j++)
			if (!used[j] && b->dev[j].kind == a->dev[i].kind) {
				used[j] = true;
				cmp[n++] = (struct diff_cmp){
				    .sa = a, .sb = b, .a = &a->dev[i], .b = &b->dev[j]};
				break;
			}
	return n;
}

int diff_cmd_main(int argc, char **argv)
{
	struct diff_opts o = {.requests = REQUESTS_DEFAULT};
	const char *paths[2];
	struct diff_side side[2];
	char err[512];
	int ret = parse(argc, argv, &o, paths);

	if (ret)
		return ret < 0 ? 0 : ret;
	for (int k = 0; k < 2; k++) {
		if (diff_side_load(&side[k], paths[k], err, sizeof(err)) < 0) {
			fprintf(stderr, "kvmscope diff: %s\n", err);
			if (k)
				diff_side_free(&side[0]);
			return 2;
		}
		side[k].letter = 'A' + k;
		if (side[k].tf.warning[0]) /* cut short: compared up to its last record */
			fprintf(stderr, "kvmscope diff: warning: %s\n", side[k].tf.warning);
	}
	size_t most = side[0].ndev < side[1].ndev ? side[1].ndev : side[0].ndev;
	struct diff_cmp *cmp = calloc(most + 1, sizeof(*cmp));
	size_t n = cmp ? diff_pair_devices(&side[0], &side[1], cmp) : 0;
	if (!cmp) {
		fprintf(stderr, "kvmscope diff: out of memory\n");
		ret = 1;
	}
	bool match = cmp && n && side[0].ndev == n && side[1].ndev == n;
	for (size_t i = 0; cmp && i < n; i++) {
		if (diff_compare(&cmp[i], &o) < 0) {
			fprintf(stderr, "kvmscope diff: out of memory\n");
			match = false;
			ret = 1;
		}
		match &= cmp[i].match;
	}
	if (cmp && !ret) {
		if (o.json)
			diff_report_json(stdout, &side[0], &side[1], cmp, n, &o);
		else
			diff_report_text(stdout, &side[0], &side[1], cmp, n, &o);
	}
	for (size_t i = 0; cmp && i < n; i++)
		diff_cmp_free(&cmp[i]);
	free(cmp);
	diff_side_free(&side[0]);
	diff_side_free(&side[1]);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "kvmscope diff: writing the report: %s\n", strerror(errno));
		return 1;
	}
	return match ? 0 : 1;
}
