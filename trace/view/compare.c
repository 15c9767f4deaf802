/* trace/view/compare.c - `kvmscope view A --compare B`'s model: the rows are what `kvmscope diff`
 * aligned (trace/compare/compare.h: the same loading, pairing and edit distance, the same labels)
 * for each device pair: its PCI enumeration (BAR sizing, the capability walk), its handshake and
 * its IO path (notify, pop, completion, interrupt), each part under a title row. Each row is
 * tagged with the init step it is on (trace/view/path.c's tags, virtio 1.2 §3.1.1), so that n/p
 * walk the handshake of both runs at once; d/D, m/M jump between differences, s/S between parts. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace/view/view.h"

#define CMP_REQUESTS 8 /* diff's default; the viewer shows the handshake only */

/* What each part holds, for its title row's detail. */
static const char *const part_what[DIFF_PARTS] = {
    "the device's config space as Linux's PCI core walked it before the compared session: BAR "
    "sizing and placement, the capability walk, the writes",
    "the compared driver session, from the reset to DRIVER_OK (virtio 1.2 3.1.1)",
    "after DRIVER_OK, the first requests: notify, pop, completion, interrupt, by queue"};

const char *view_cmp_mark(const struct view_cmp_row *r)
{
	static const char *const marks[] = {"same", "differs", "only in A", "only in B"};
	return r->op < 4 ? marks[r->op] : "?";
}

static unsigned note_of(struct view_cmp *c, const char *label)
{
	unsigned i = 0;
	if (!label)
		return 0;
	while (i < c->nnotes && strcmp(c->notes[i], label))
		i++;
	if (i == c->nnotes && c->nnotes < VIEW_CMP_NOTES_MAX)
		c->notes[c->nnotes++] = label;
	return i < c->nnotes ? i + 1 : 0;
}

/* The init step of a step's record on side k, TRACE_STEP_NONE when it is on no init step. */
static unsigned init_step(const struct view_cmp *c, int k, const struct diff_step *s)
{
	if (!s || s->rec >= c->tags[k].n)
		return TRACE_STEP_NONE;
	unsigned t = c->tags[k].step[s->rec];
	return t >= TRACE_STEP_RESET && t <= TRACE_INIT_LAST ? t : TRACE_STEP_NONE;
}

const char *view_cmp_part_name(unsigned part)
{
	static const char *const names[] = {"PCI enumeration", "handshake", "IO"};
	return part < DIFF_PARTS ? names[part] : "?";
}

/* A pair's rows of one part: the handshake's, or PCI enumeration's and IO's. */
static const struct diff_row *part_rows(const struct diff_cmp *p, unsigned part, long *n)
{
	*n = part == DIFF_PART_HANDSHAKE ? p->nrows : p->npart_rows[part];
	*n = *n > 0 ? *n : 0;
	return part == DIFF_PART_HANDSHAKE ? p->rows : p->part_rows[part];
}

static int build_rows(struct view_cmp *c)
{
	size_t n = 0, opened = SIZE_MAX;
	long np;
	for (size_t p = 0; p < c->ncmp; p++)
		for (unsigned part = 0; part < DIFF_PARTS; part++)
			n += 1 + (part_rows(&c->cmp[p], part, &np), (size_t)np);
	c->rows = calloc(n + 1, sizeof(*c->rows));
	if (!c->rows)
		return -ENOMEM;
	for (size_t p = 0; p < c->ncmp; p++) {
		unsigned reached = TRACE_STEP_NONE;
		for (unsigned part = 0; part < DIFF_PARTS; part++) {
			const struct diff_row *rows = part_rows(&c->cmp[p], part, &np);
			c->rows[c->nrows++] =
			    (struct view_cmp_row){.part = part, .title = true, .pair = p};
			if (part == DIFF_PART_HANDSHAKE && opened == SIZE_MAX)
				opened = c->nrows; /* the view opens on the first handshake's first
						      step */
			for (long k = 0; k < np; k++) {
				const struct diff_row *d = &rows[k];
				struct view_cmp_row *r = &c->rows[c->nrows++];
				unsigned t = d->a ? init_step(c, 0, d->a) : init_step(c, 1, d->b);
				*r = (struct view_cmp_row){
				    .op = d->op, .part = part, .pair = p, .a = d->a, .b = d->b};
				if (d->op != DIFF_SAME) {
					r->label = d->label;
					r->note = note_of(c, d->label);
				}
				c->same += d->op == DIFF_SAME;
				c->expected += d->op != DIFF_SAME && d->label;
				c->mismatches += d->op != DIFF_SAME && !d->label;
				if (part == DIFF_PART_HANDSHAKE && t != TRACE_STEP_NONE &&
				    (reached == TRACE_STEP_NONE || t > reached)) {
					r->step_start = true;
					reached = t;
				}
				r->step = part == DIFF_PART_HANDSHAKE ? reached : TRACE_STEP_NONE;
			}
		}
	}
	c->row = opened < c->nrows ? opened : 0;
	return 0;
}

int view_cmp_load(struct view_cmp *c, const char *a, const char *b, char *err, size_t len)
{
	const char *paths[2] = {a, b};
	struct diff_opts o = {.requests = CMP_REQUESTS};

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < 2; k++) {
		if (diff_side_load(&c->side[k], paths[k], err, len) < 0) {
			if (k)
				diff_side_free(&c->side[0]);
			memset(c, 0, sizeof(*c));
			return -1;
		}
		c->side[k].letter = 'A' + k;
	}
	size_t most = c->side[0].ndev > c->side[1].ndev ? c->side[0].ndev : c->side[1].ndev;
	c->cmp = calloc(most + 1, sizeof(*c->cmp));
	int r = c->cmp ? 0 : -ENOMEM;
	if (c->cmp)
		c->ncmp = diff_pair_devices(&c->side[0], &c->side[1], c->cmp);
	for (size_t p = 0; !r && p < c->ncmp; p++)
		r = diff_compare(&c->cmp[p], &o);
	for (int k = 0; !r && k < 2; k++)
		r = trace_tags_update(&c->tags[k], &c->side[k].tf);
	if (!r)
		r = build_rows(c);
	if (r) {
		snprintf(err, len, "%s, %s: out of memory", a, b);
		view_cmp_free(c);
		return -ENOMEM;
	}
	if (!c->ncmp)
		snprintf(c->msg, sizeof(c->msg), "no virtio device of A has a counterpart in B");
	return 0;
}

void view_cmp_free(struct view_cmp *c)
{
	for (size_t p = 0; c->cmp && p < c->ncmp; p++)
		diff_cmp_free(&c->cmp[p]);
	free(c->cmp);
	free(c->rows);
	for (int k = 0; k < 2; k++) {
		trace_tags_free(&c->tags[k]);
		diff_side_free(&c->side[k]);
	}
	memset(c, 0, sizeof(*c));
}

void view_cmp_move(struct view_cmp *c, long delta)
{
	c->row = view_row_moved(c->row, delta, c->nrows);
}

/* The next (dir > 0) or previous row after c->row where is(c, k) holds; SIZE_MAX: none. */
static size_t find(const struct view_cmp *c, int dir, bool (*is)(const struct view_cmp *, size_t))
{
	for (size_t k = c->row + dir; k < c->nrows; k += dir)
		if (is(c, k))
			return k;
	return SIZE_MAX;
}

static bool is_step_start(const struct view_cmp *c, size_t k)
{
	return c->rows[k].step_start;
}

/* The first of a run of differences of one kind (only in A, only in B, differs), or of
 * mismatches (differences no label explains). */
static bool run_start(const struct view_cmp *c, size_t k, bool mismatch)
{
	const struct view_cmp_row *r = &c->rows[k], *q = k ? &c->rows[k - 1] : NULL;
	if (r->op == DIFF_SAME || (mismatch && r->label))
		return false;
	return !q || q->op != r->op || q->pair != r->pair || (mismatch && q->label);
}

static bool is_diff_start(const struct view_cmp *c, size_t k)
{
	return run_start(c, k, false);
}

static bool is_mismatch_start(const struct view_cmp *c, size_t k)
{
	return run_start(c, k, true);
}

static void say(struct view_cmp *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
}

bool view_cmp_step(struct view_cmp *c, int dir)
{
	size_t k = find(c, dir, is_step_start);
	if (k == SIZE_MAX) {
		say(c, dir > 0 ? "no later init step (d: the next difference)"
			       : "no earlier init step");
		return false;
	}
	c->row = k;
	say(c, "step %s %s (virtio 1.2 3.1.1)", trace_steps[c->rows[k].step].num,
	    trace_steps[c->rows[k].step].name);
	return true;
}

bool view_cmp_diff(struct view_cmp *c, int dir, bool mismatch_only)
{
	size_t k = find(c, dir, mismatch_only ? is_mismatch_start : is_diff_start), n = 1;
	if (k == SIZE_MAX) {
		say(c, "no %s %s", mismatch_only ? "mismatch" : "difference",
		    dir > 0 ? "further down" : "further up");
		return false;
	}
	c->row = k;
	const struct view_cmp_row *r = &c->rows[k];
	size_t labelled = r->label != NULL;
	bool one_label = true;
	while (k + n < c->nrows && !run_start(c, k + n, mismatch_only) &&
	       c->rows[k + n].op == r->op && (!mismatch_only || !c->rows[k + n].label)) {
		labelled += c->rows[k + n].label != NULL;
		one_label &= c->rows[k + n].label == r->label;
		n++;
	}
	if (r->label && one_label)
		say(c, "%s, %zu row%s, expected [%u]: %s", view_cmp_mark(r), n, n > 1 ? "s" : "",
		    r->note, r->label);
	else if (labelled == n)
		say(c, "%s, %zu rows, all expected (the labels are in the detail)",
		    view_cmp_mark(r), n);
	else
		say(c, "%s, %zu row%s: %zu mismatch%s", view_cmp_mark(r), n, n > 1 ? "s" : "",
		    n - labelled, n - labelled > 1 ? "es" : "");
	return true;
}

static bool is_title(const struct view_cmp *c, size_t k)
{
	return c->rows[k].title;
}

bool view_cmp_part(struct view_cmp *c, int dir)
{
	size_t k = find(c, dir, is_title);
	if (k == SIZE_MAX) {
		say(c, dir > 0 ? "the last part (s/S: next/previous part)" : "the first part");
		return false;
	}
	c->row = k;
	say(c, "%s: %s", view_cmp_part_name(c->rows[k].part), part_what[c->rows[k].part]);
	return true;
}

void view_cmp_detail(const struct view_cmp *c, int side, view_line_fn emit, void *opaque)
{
	if (!c->nrows)
		return;
	const struct view_cmp_row *r = &c->rows[c->row];
	if (r->title) {
		const struct diff_cmp *p = &c->cmp[r->pair];
		if (side < 0) {
			view_say(emit, opaque, VIEW_HEAD, "%s", view_cmp_part_name(r->part));
			view_say(emit, opaque, VIEW_DIM, "%s", part_what[r->part]);
			view_say(emit, opaque, VIEW_DIM, "device: A %s, B %s", p->a->name,
				 p->b->name);
		} else {
			const struct diff_steps *l = diff_part_steps(side ? p->b : p->a, r->part);
			view_say(emit, opaque, VIEW_DIM, "%zu steps on %c's side", l->n,
				 side ? 'B' : 'A');
		}
		return;
	}
	if (side < 0) {
		const struct diff_cmp *p = &c->cmp[r->pair];
		if (r->op == DIFF_SAME)
			view_say(emit, opaque, VIEW_HEAD, "= same in both runs");
		else if (r->label)
			view_say(emit, opaque, VIEW_HEAD, "%s: expected [%u] %s", view_cmp_mark(r),
				 r->note, r->label);
		else
			view_say(emit, opaque, VIEW_HEAD, "%s: a mismatch, no label explains it",
				 view_cmp_mark(r));
		if (r->step != TRACE_STEP_NONE)
			view_say(emit, opaque, VIEW_DIM, "step %s %s: %s", trace_steps[r->step].num,
				 trace_steps[r->step].name, trace_steps[r->step].what);
		view_say(emit, opaque, VIEW_DIM, "device: A %s, B %s", p->a->name, p->b->name);
		return;
	}
	const struct diff_step *st = side ? r->b : r->a;
	if (!st) {
		view_say(emit, opaque, VIEW_DIM, "- not in %c%s%s", side ? 'B' : 'A',
			 r->label ? ": " : "", r->label ? r->label : "");
		return;
	}
	view_detail(&c->side[side].tf, st->rec,
		    st->rec < c->tags[side].n ? c->tags[side].step[st->rec] : TRACE_STEP_NONE, emit,
		    opaque);
}
