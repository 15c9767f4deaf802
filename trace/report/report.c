/* trace/report/report.c - what the `kvmscope trace` reports share: a trace file loaded for the
 * command line, and each request's completion paired with its pop. */
#include <stdlib.h>

#include "trace/report/report.h"

int trace_cli_load(const char *cmd, const char *path, struct trace_file *tf)
{
	char err[512];
	if (trace_file_load(tf, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "kvmscope trace %s: %s\n", cmd, err);
		return 2;
	}
	if (tf->warning[0])
		fprintf(stderr, "kvmscope trace %s: warning: %s\n", cmd, tf->warning);
	return 0;
}

#define PENDING_MAX 65536 /* more requests in flight than this: completions were lost */

struct trace_req_pending {
	uint64_t key;
	size_t idx;
};

static uint64_t req_key(const struct trace_rec *r)
{
	/* slot 0 of chain_pop and req_complete: queue (low half), head (high half) */
	return (uint64_t)r->dev << 32 | (r->a[0] & 0xffff) << 16 | (r->a[0] >> 32 & 0xffff);
}

void trace_req_begin(struct trace_req_match *m, const struct trace_rec *pop, size_t idx)
{
	uint64_t key = req_key(pop);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key == key) { /* the head came back: its completion was not seen */
			m->v[i].idx = idx;
			return;
		}
	if (m->n >= PENDING_MAX)
		m->n = 0;
	if (trace_vec_grow(&m->v, &m->cap, m->n + 1, sizeof(*m->v)))
		return;
	m->v[m->n++] = (struct trace_req_pending){key, idx};
}

long trace_req_end(struct trace_req_match *m, const struct trace_rec *complete)
{
	uint64_t key = req_key(complete);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key == key) {
			long idx = m->v[i].idx;
			m->v[i] = m->v[--m->n];
			return idx;
		}
	return -1;
}

void trace_req_free(struct trace_req_match *m)
{
	free(m->v);
	*m = (struct trace_req_match){0};
}
