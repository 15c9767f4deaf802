/* trace/view/model.c - what the viewer shows and where it stands: the filtered rows, the
 * selection, n/p along the path, search, go-to, and playback in recorded time. No drawing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/view/view.h"

uint64_t view_class_mask(unsigned cls)
{
	uint64_t m = 0;
	for (unsigned ev = 0; ev < TRACE_EV_NR; ev++)
		if (trace_events[ev].cls == cls)
			m |= 1ULL << ev;
	return m;
}

int view_init(struct view *v, const struct trace_file *tf)
{
	memset(v, 0, sizeof(*v));
	v->tf = tf;
	v->show = TRACE_MASK_ALL;
	v->vcpu = -1;
	v->queue = -1;
	v->pane_queue = VIEW_QUEUE_OF_EVENT;
	return view_refresh(v);
}

void view_free(struct view *v)
{
	trace_tags_free(&v->tags);
	free(v->rows);
	v->rows = NULL;
	v->nrows = v->rows_cap = 0;
}

static bool shown(const struct view *v, size_t rec)
{
	const struct trace_rec *r = &v->tf->rec[rec];

	return ((v->show >> r->ev) & 1) &&
	       (v->vcpu < 0 || r->tid == TRACE_TID(TRACE_THREAD_VCPU, v->vcpu)) &&
	       (v->queue < 0 || view_rec_on_queue(r, v->queue));
}

int view_refresh(struct view *v)
{
	int err = trace_tags_update(&v->tags, v->tf);
	if (err)
		return err;
	for (; v->scanned < v->tf->nrec; v->scanned++) {
		if (!shown(v, v->scanned))
			continue;
		if (trace_vec_grow(&v->rows, &v->rows_cap, v->nrows + 1, sizeof(*v->rows)))
			return -ENOMEM;
		v->rows[v->nrows++] = v->scanned;
	}
	return 0;
}

size_t view_selected(const struct view *v)
{
	return v->nrows ? v->rows[v->row] : SIZE_MAX;
}

/* The first shown row whose record is at or after rec (nrows when none). */
static size_t row_at_or_after(const struct view *v, size_t rec)
{
	size_t lo = 0, hi = v->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->rows[mid] < rec)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void view_select_record(struct view *v, size_t rec)
{
	size_t row = row_at_or_after(v, rec);
	v->row = row < v->nrows ? row : v->nrows ? v->nrows - 1 : 0;
}

/* The rows again from the first record, after the filter changed. */
static int refilter(struct view *v)
{
	size_t sel = view_selected(v);
	v->nrows = v->scanned = 0;
	v->top = 0;
	int err = view_refresh(v);
	if (sel != SIZE_MAX)
		view_select_record(v, sel);
	return err;
}

int view_set_filter(struct view *v, uint64_t show)
{
	v->show = show;
	return refilter(v);
}

int view_set_vcpu(struct view *v, int vcpu)
{
	v->vcpu = vcpu;
	return refilter(v);
}

int view_set_queue(struct view *v, int queue)
{
	v->queue = queue;
	return refilter(v);
}

void view_pane_queue_next(struct view *v, int dir)
{
	size_t sel = view_selected(v);
	unsigned n = sel == SIZE_MAX ? 0 : view_queue_count(v->tf, v->tf->rec[sel].dev);
	/* the cycle: following the event, q0, q1, ..., q(n-1), following the event */
	int at = v->pane_queue + 1 + (dir > 0 ? 1 : -1) + (int)n + 1;

	v->pane_queue = n ? at % (int)(n + 1) - 1 : VIEW_QUEUE_OF_EVENT;
	if (v->pane_queue == VIEW_QUEUE_OF_EVENT)
		snprintf(v->msg, sizeof(v->msg), "Queue pane: the selected event's queue");
	else
		snprintf(v->msg, sizeof(v->msg), "Queue pane: q%d of %u ([ ] to switch)",
			 v->pane_queue, n);
}

size_t view_row_moved(size_t row, long delta, size_t nrows)
{
	long to = (long)row + delta;

	if (!nrows)
		return row;
	return to < 0 ? 0 : (size_t)to >= nrows ? nrows - 1 : (size_t)to;
}

void view_move(struct view *v, long delta)
{
	v->row = view_row_moved(v->row, delta, v->nrows);
}

void view_scroll_fit(size_t row, size_t nrows, unsigned height, size_t *top)
{
	if (!height)
		return;
	if (row < *top)
		*top = row;
	else if (row >= *top + height)
		*top = row - height + 1;
	if (nrows > height && *top > nrows - height)
		*top = nrows - height;
}

void view_scroll_to(struct view *v, unsigned height)
{
	view_scroll_fit(v->row, v->nrows, height, &v->top);
}

bool view_step(struct view *v, int dir)
{
	size_t rec = view_selected(v);
	while (rec != SIZE_MAX) {
		rec = view_step_next(v->tf, &v->tags, rec, dir);
		if (rec != SIZE_MAX && shown(v, rec)) {
			view_select_record(v, rec);
			v->msg[0] = 0;
			return true;
		}
	}
	snprintf(v->msg, sizeof(v->msg), "no %s step on this path", dir > 0 ? "next" : "previous");
	return false;
}

static bool matches(const struct view *v, size_t rec, const char *text)
{
	const struct trace_file *tf = v->tf;
	const struct trace_rec *r = &tf->rec[rec];
	char buf[512];
	const char *dev = view_dev_name(tf, r->dev);

	if (strcasestr(view_summary(tf, r, buf, sizeof(buf)), text) ||
	    strcasestr(trace_class_names[trace_events[r->ev].cls], text) ||
	    strcasestr(view_func_name(tf, r), text) || (dev && strcasestr(dev, text)))
		return true;
	if (r->rip && strcasestr(trace_symtab_format(&tf->syms, r->rip, buf, sizeof(buf)), text))
		return true;
	/* the QEMU 7.2 function doing the same job, the spec section and the step */
	const struct qemu_func *q = qemu_func_for(r->ev);
	if ((q && q->func && strcasestr(q->func, text)) ||
	    (q && q->from && strcasestr(q->from, text)) ||
	    strcasestr(trace_events[r->ev].doc, text))
		return true;
	if (rec < v->tags.n && v->tags.step[rec] != TRACE_STEP_NONE &&
	    strcasestr(trace_step_words(v->tags.step[rec], buf, sizeof(buf)), text))
		return true;
	const struct trace_stack_ent *s = &tf->names.stack[r->stack];
	for (unsigned i = 0; i < s->n; i++)
		if (strcasestr(trace_symtab_format(&tf->syms, s->pc[i], buf, sizeof(buf)), text))
			return true;
	return false;
}

bool view_search(struct view *v, const char *text, int dir)
{
	if (text && *text)
		snprintf(v->search, sizeof(v->search), "%s", text);
	if (!v->search[0] || !v->nrows) {
		snprintf(v->msg, sizeof(v->msg), "nothing to search for");
		return false;
	}
	for (size_t k = 1; k <= v->nrows; k++) {
		size_t row = dir > 0 ? (v->row + k) % v->nrows : (v->row + v->nrows - k) % v->nrows;
		if (matches(v, v->rows[row], v->search)) {
			bool wrapped = dir > 0 ? row <= v->row : row >= v->row;
			v->row = row;
			snprintf(v->msg, sizeof(v->msg), "/%s%s", v->search,
				 wrapped ? " (wrapped)" : "");
			return true;
		}
	}
	snprintf(v->msg, sizeof(v->msg), "/%s: not found", v->search);
	return false;
}

bool view_goto(struct view *v, const char *text)
{
	char *end;
	const char *p = text + (*text == '+' || *text == '#');
	double d = strtod(p, &end);
	bool is_time = *text == '+' || strchr(p, '.') || *end;

	if (end == p || d < 0 || !v->nrows)
		goto bad;
	if (!is_time) {
		if (d >= v->tf->nrec)
			goto bad;
		view_select_record(v, (size_t)d);
	} else {
		double scale = !*end || !strcmp(end, "s") ? 1e9
			       : !strcmp(end, "ms")	  ? 1e6
			       : !strcmp(end, "us")	  ? 1e3
			       : !strcmp(end, "ns")	  ? 1
							  : -1;
		if (scale < 0)
			goto bad;
		uint64_t ns = (uint64_t)(d * scale), start = v->tf->hdr.start_ns;
		size_t lo = 0,
		       hi = v->nrows; /* records are in time order per claim; close enough */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (v->tf->rec[v->rows[mid]].ts - start < ns)
				lo = mid + 1;
			else
				hi = mid;
		}
		v->row = lo < v->nrows ? lo : v->nrows - 1;
	}
	v->msg[0] = 0;
	return true;
bad:
	snprintf(v->msg, sizeof(v->msg),
		 "go to '%s': give an event number (0..%zu) or a time like 1.5s, 250ms, 40us", text,
		 v->tf->nrec ? v->tf->nrec - 1 : 0);
	return false;
}

const char *view_speed_name(int speed, char *buf, size_t len)
{
	if (speed >= 0)
		snprintf(buf, len, "x%llu", 1ULL << speed);
	else
		snprintf(buf, len, "x1/%llu", 1ULL << -speed);
	return buf;
}

void view_play(struct view *v, bool on, uint64_t wall_ns)
{
	char sp[32];
	v->playing = on && v->nrows > 0;
	if (!v->playing) {
		v->msg[0] = 0;
		return;
	}
	if (v->row + 1 >= v->nrows)
		v->row = 0; /* at the end: play from the start */
	v->play_wall = wall_ns;
	snprintf(v->msg, sizeof(v->msg), "playing %s (space stops, +/- speed)",
		 view_speed_name(v->speed, sp, sizeof(sp)));
}

void view_speed(struct view *v, int delta, uint64_t wall_ns)
{
	char sp[32];
	v->speed += delta;
	if (v->speed < VIEW_SPEED_MIN)
		v->speed = VIEW_SPEED_MIN;
	if (v->speed > VIEW_SPEED_MAX)
		v->speed = VIEW_SPEED_MAX;
	if (v->playing)
		v->play_wall = wall_ns; /* the new speed applies from now */
	snprintf(v->msg, sizeof(v->msg), "%s speed %s", v->playing ? "playing at" : "playback",
		 view_speed_name(v->speed, sp, sizeof(sp)));
}

/* Wall ns between two shown rows at the current speed, long pauses cut. */
static uint64_t wall_gap(const struct view *v, size_t row)
{
	const struct trace_rec *a = &v->tf->rec[v->rows[row]], *b = &v->tf->rec[v->rows[row + 1]];
	uint64_t gap = b->ts > a->ts ? b->ts - a->ts : 0;
	if (gap > VIEW_PLAY_GAP_MAX_NS << (VIEW_SPEED_MAX > 0 ? VIEW_SPEED_MAX : 0))
		return VIEW_PLAY_GAP_MAX_NS; /* and no shift below can overflow */
	gap = v->speed >= 0 ? gap >> v->speed : gap << -v->speed;
	return gap > VIEW_PLAY_GAP_MAX_NS ? VIEW_PLAY_GAP_MAX_NS : gap;
}

uint64_t view_play_tick(struct view *v, uint64_t wall_ns)
{
	if (!v->playing)
		return 0;
	for (;;) {
		if (v->row + 1 >= v->nrows) {
			v->playing = false;
			snprintf(v->msg, sizeof(v->msg),
				 "end of trace (space plays from the start)");
			return 0;
		}
		uint64_t due = v->play_wall + wall_gap(v, v->row);
		if (wall_ns < due)
			return due - wall_ns;
		v->row++;
		v->play_wall = due; /* the schedule, not the tick, so that late ticks catch up */
	}
}
