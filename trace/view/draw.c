/* trace/view/draw.c - the viewer's panes drawn with ncurses from what the model computes:
 * Timeline | Detail over Path | Queue, a header, a status line, and in live mode the guest
 * console. Works from 80x24 up; everything is redrawn from the model on every frame. */
#include <curses.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#include "trace/view/view.h"

void view_layout(int lines, int cols, int console_rows, bool zoom, struct view_layout *l)
{
	int body = lines - 2 - console_rows, left, bottom;

	memset(l, 0, sizeof(*l));
	if (lines < 4 || cols < 20)
		return;
	if (body < 2) {
		console_rows = 0;
		body = lines - 2;
	}
	l->head = (struct view_box){0, 0, 1, cols};
	l->status = (struct view_box){lines - 1, 0, 1, cols};
	l->console = (struct view_box){1 + body, 0, console_rows, cols};
	if (zoom) {
		l->detail = (struct view_box){1, 0, body, cols};
		return;
	}
	bottom = body >= 2 * VIEW_PATH_ROWS ? VIEW_PATH_ROWS + (body - 2 * VIEW_PATH_ROWS) / 4
					    : body / 2;
	left = cols >= 120 ? cols * 11 / 20 : cols / 2;
	l->timeline = (struct view_box){1, 0, body - bottom, left};
	l->detail = (struct view_box){1, left + 1, body - bottom, cols - left - 1};
	l->path = (struct view_box){1 + body - bottom, 0, bottom, left};
	l->queue = (struct view_box){1 + body - bottom, left + 1, bottom, cols - left - 1};
}

/* Colour pairs: one per class, then the UI's own. */
enum { PAIR_TITLE = TRACE_CLASS_NR + 1, PAIR_NOW, PAIR_PAUSED };
static const struct {
	short fg, bg;
	attr_t attr;
} class_colors[TRACE_CLASS_NR] = {
    [TRACE_CLASS_HOST] = {COLOR_BLUE, -1, A_BOLD},
    [TRACE_CLASS_PCI] = {COLOR_CYAN, -1, 0},
    [TRACE_CLASS_STATUS] = {COLOR_YELLOW, -1, A_BOLD},
    [TRACE_CLASS_FEATURES] = {COLOR_MAGENTA, -1, A_BOLD},
    [TRACE_CLASS_QUEUE] = {COLOR_GREEN, -1, 0},
    [TRACE_CLASS_CONFIG] = {COLOR_CYAN, -1, A_BOLD},
    [TRACE_CLASS_NOTIFY] = {COLOR_RED, -1, 0},
    [TRACE_CLASS_REQUEST] = {COLOR_GREEN, -1, A_BOLD},
    [TRACE_CLASS_IRQ] = {COLOR_RED, -1, A_BOLD},
    [TRACE_CLASS_MARKER] = {COLOR_BLACK, COLOR_WHITE, 0},
    [TRACE_CLASS_ERROR] = {COLOR_WHITE, COLOR_RED, A_BOLD},
    [TRACE_CLASS_EXIT] = {-1, -1, A_DIM},
    [TRACE_CLASS_TRACE] = {-1, -1, A_DIM},
    [TRACE_CLASS_VHOST] = {COLOR_BLUE, -1, 0},
};

void view_colors_init(struct view_ui *ui)
{
	ui->color = has_colors() && start_color() == OK;
	if (!ui->color)
		return;
	use_default_colors();
	for (unsigned c = 0; c < TRACE_CLASS_NR; c++)
		init_pair(c + 1, class_colors[c].fg, class_colors[c].bg);
	init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(PAIR_NOW, COLOR_BLACK, COLOR_YELLOW);
	init_pair(PAIR_PAUSED, COLOR_WHITE, COLOR_RED);
}

static attr_t class_attr(const struct view_ui *ui, unsigned cls)
{
	attr_t a = class_colors[cls].attr;
	return ui->color ? a | COLOR_PAIR(cls + 1) : a & ~A_DIM;
}

static attr_t title_attr(const struct view_ui *ui)
{
	return ui->color ? COLOR_PAIR(PAIR_TITLE) : A_REVERSE;
}

/* Text at (y, x), at most w columns, padded with spaces when pad; bytes outside ASCII become
 * '?' unless the terminal speaks UTF-8 ("§" in the catalogue's texts). */
static void put(const struct view_ui *ui, int y, int x, int w, attr_t attr, bool pad, const char *s)
{
	char buf[1024];
	int n = 0;

	if (w <= 0)
		return;
	for (; *s && n < w && n < (int)sizeof(buf) - 4; s++) {
		unsigned char c = *s;
		if (c < 0x80) {
			buf[n++] = c >= 0x20 ? c : ' ';
		} else if (!ui->utf8) {
			if ((c & 0xc0) != 0x80) /* one '?' per character */
				buf[n++] = '?';
		} else {
			buf[n] = c;
			n++;
			if ((c & 0xc0) == 0x80)
				w++; /* a continuation byte takes no column */
		}
	}
	while (pad && n < w && n < (int)sizeof(buf) - 1)
		buf[n++] = ' ';
	buf[n] = 0;
	attron(attr);
	mvaddstr(y, x, buf);
	attroff(attr);
}

static void title(const struct view_ui *ui, const struct view_box *b, const char *text)
{
	put(ui, b->y, b->x, b->w, title_attr(ui), true, text);
}

/* --- Timeline --- */

static void draw_timeline(const struct view_ui *ui, struct view *v, const struct view_box *b)
{
	const struct trace_file *tf = v->tf;
	char line[512], sum[400], t[32], head[96], who[32] = "", tid[24], info[16];
	int rows = b->h - 1, digits = 1;
	/* a run on several vCPUs (kvmscope run --smp N): each row says which thread recorded it */
	bool threads = trace_file_info(tf, "vcpus", info, sizeof(info)) && atoi(info) > 1;

	for (size_t n = tf->nrec; n >= 10; n /= 10)
		digits++;

	snprintf(head, sizeof(head), " Timeline  %zu/%zu shown", v->nrows, tf->nrec);
	title(ui, b, head);
	if (!v->nrows) {
		put(ui, b->y + 1, b->x, b->w, A_DIM, false,
		    tf->nrec ? " nothing passes the filter (f)" : " no events in this trace");
		return;
	}
	view_scroll_to(v, rows);
	for (int i = 0; i < rows && v->top + i < v->nrows; i++) {
		size_t row = v->top + i, rec = v->rows[row];
		const struct trace_rec *r = &tf->rec[rec];
		bool sel = row == v->row;
		view_time_str(view_time(tf, r), t, sizeof(t));
		if (threads)
			snprintf(who, sizeof(who), "%-6s ", trace_tid_name(r->tid, tid, sizeof(tid)));
		/* after "> 123 0.000001 " and the thread */
		int room = b->w - digits - (int)strlen(t) - 3 - (int)strlen(who);
		snprintf(line, sizeof(line), "%c%*zu %s %s%s", sel ? '>' : ' ', digits, rec, t, who,
			 view_summary_fit(tf, r, room, sum, sizeof(sum)));
		attr_t a = class_attr(ui, trace_events[r->ev].cls);
		put(ui, b->y + 1 + i, b->x, b->w, sel ? (a | A_REVERSE) : a, sel, line);
	}
}

/* --- Detail: lines wrapped to the pane --- */

struct detail_ctx {
	const struct view_ui *ui;
	const struct view_box *b;
	int y;
};

static void detail_line(void *opaque, int attr, const char *text)
{
	struct detail_ctx *c = opaque;
	attr_t a = attr == VIEW_HEAD || attr == VIEW_KEY ? A_BOLD : attr == VIEW_DIM ? A_DIM : 0;
	size_t len = strlen(text), at = 0;

	do {
		char part[1024];
		int indent = at ? 3 : 0, take = c->b->w - indent;
		if (c->y >= c->b->y + c->b->h || take <= 0)
			return;
		size_t n = len - at < (size_t)take ? len - at : (size_t)take;
		if (at + n < len) { /* break after a space, comma or '|' when there is one */
			size_t k = n;
			while (k > (size_t)take / 2 && !strchr(" ,|", text[at + k - 1]))
				k--;
			if (k > (size_t)take / 2)
				n = k;
		}
		while (at + n < len && n > 1 && ((unsigned char)text[at + n] & 0xc0) == 0x80)
			n--; /* never split a UTF-8 character */
		snprintf(part, sizeof(part), "%*s%.*s", indent, "", (int)n, text + at);
		put(c->ui, c->y++, c->b->x, c->b->w, a, false, part);
		at += n;
		while (at < len && text[at] == ' ')
			at++;
	} while (at < len);
}

static void draw_detail(const struct view_ui *ui, struct view *v, const struct view_box *b)
{
	struct detail_ctx c = {ui, b, b->y + 1};
	size_t rec = view_selected(v);
	char head[160], when[96] = "";
	if (rec != SIZE_MAX)
		view_when(v->tf, &v->tf->rec[rec], when, sizeof(when));
	snprintf(head, sizeof(head), " Detail %s  (z: %s)", when, ui->zoom ? "panes" : "zoom");
	title(ui, b, head);
	if (rec != SIZE_MAX)
		view_detail(v->tf, rec, rec < v->tags.n ? v->tags.step[rec] : TRACE_STEP_NONE,
			    detail_line, &c);
}

/* --- Path --- */

/* The decoded argument of record r whose format is fmt, without the uapi prefix. */
static const char *word(const struct trace_file *tf, const struct trace_rec *r, unsigned fmt,
			char *buf, size_t len)
{
	static const char *const prefixes[] = {"VIRTIO_BLK_T_", "VIRTIO_BLK_S_"};
	buf[0] = 0;
	for (unsigned i = 0; trace_events[r->ev].args[i].name; i++)
		if (trace_events[r->ev].args[i].fmt == fmt)
			trace_decode_arg(tf, r, i, buf, len);
	for (unsigned k = 0; k < 2; k++)
		if (!strncmp(buf, prefixes[k], strlen(prefixes[k])))
			memmove(buf, buf + strlen(prefixes[k]),
				strlen(buf) - strlen(prefixes[k]) + 1);
	return buf;
}

/* A chain_pop as a request: "IN sector 8, 4096 B". */
static void request_words(const struct trace_file *tf, const struct trace_rec *r, char *buf,
			  size_t len)
{
	char type[64], sector[32], bytes[32]; /* "?" where the source did not log them */
	snprintf(buf, len, "%s sector %s, %s B", word(tf, r, TRACE_FMT_BLKTYPE, type, sizeof(type)),
		 view_arg_str(tf, r, VA_SECTOR, sector, sizeof(sector)),
		 view_arg_str(tf, r, VA_BYTES, bytes, sizeof(bytes)));
}

/* A few words about the record that realized a step. */
static void step_note(const struct trace_file *tf, const struct view_round *o, unsigned s,
		      char *buf, size_t len)
{
	const struct trace_rec *r;
	char a[64];

	buf[0] = 0;
	if (s == TRACE_STEP_BACKEND) {
		size_t c = o->at[TRACE_STEP_COMPLETE];
		if (c != SIZE_MAX && view_arg_known(tf, &tf->rec[c], VA_NS))
			snprintf(buf, len, "%.1f us", view_arg(&tf->rec[c], VA_NS, 0) / 1000.0);
		return;
	}
	if (s == TRACE_STEP_PCI && o->pci_reads + o->pci_writes) /* what the trace has of it */
		snprintf(buf, len, "%zu reads, %zu writes", o->pci_reads, o->pci_writes);
	if (o->at[s] == SIZE_MAX || buf[0])
		return;
	r = &tf->rec[o->at[s]];
	if (s == TRACE_STEP_DEVICE && o->machine_reset) {
		snprintf(buf, len, "machine-start reset");
		return;
	}
	if (o->path == TRACE_PATH_INIT) { /* when */
		snprintf(buf, len, "%s", view_time_str(view_time(tf, r), a, sizeof(a)));
		return;
	}
	switch (r->ev) {
	case TRACE_EV_QUEUE_NOTIFY:
		snprintf(buf, len, "avail %s", view_arg_str(tf, r, VA_AVAIL_IDX, a, sizeof(a)));
		break;
	case TRACE_EV_CHAIN_POP:
		request_words(tf, r, buf, len);
		break;
	case TRACE_EV_REQ_COMPLETE:
		snprintf(buf, len, "%s", word(tf, r, TRACE_FMT_BLKSTATUS, a, sizeof(a)));
		break;
	case TRACE_EV_USED_PUSH:
		snprintf(buf, len, "used idx %s", view_arg_str(tf, r, VA_USED_IDX, a, sizeof(a)));
		break;
	case TRACE_EV_IRQ_RAISE: {
		char vec[32];
		snprintf(buf, len, "%s vector %s", word(tf, r, TRACE_FMT_IRQKIND, a, sizeof(a)),
			 view_arg_str(tf, r, VA_VECTOR, vec, sizeof(vec)));
		break;
	}
	case TRACE_EV_IRQ_SUPPRESS:
		snprintf(buf, len, "suppressed: %s", word(tf, r, TRACE_FMT_SUPPRESS, a, sizeof(a)));
		break;
	default:
		snprintf(buf, len, "%s", trace_events[r->ev].name);
	}
}

static void draw_path(const struct view_ui *ui, struct view *v, const struct view_box *b)
{
	static const char *const marks[] = {"[ ]", "[x]", "[>]", "[-]", "[~]"};
	struct view_round o;
	size_t rec = view_selected(v);
	const char *dev;
	char head[128], line[256], note[96], at[24], num[8];

	if (rec == SIZE_MAX || view_round_get(v->tf, &v->tags, rec, &o) < 0) {
		title(ui, b, " Path");
		put(ui, b->y + 1, b->x, b->w, A_DIM, false,
		    rec == SIZE_MAX ? "" : " this event is on neither path; n/p find one");
		return;
	}
	dev = view_dev_name(v->tf, o.dev);
	if (o.path == TRACE_PATH_INIT)
		snprintf(head, sizeof(head), " Path: init%s %s (virtio 1.2 3.1.1)",
			 o.firmware ? " by SeaBIOS" : "", dev ? dev : "");
	else if (o.has_head) /* an imported log may have no heads: its request number stands in */
		snprintf(head, sizeof(head), " Path: IO %s q%u %s %u", dev ? dev : "", o.queue,
			 view_arg_known(v->tf, &v->tf->rec[o.at[TRACE_STEP_POP]], VA_HEAD)
			     ? "head"
			     : "request",
			 o.head);
	else
		snprintf(head, sizeof(head), " Path: IO %s q%u", dev ? dev : "", o.queue);
	title(ui, b, head);

	unsigned first = o.path == TRACE_PATH_INIT ? TRACE_INIT_FIRST : TRACE_IO_FIRST;
	unsigned last = o.path == TRACE_PATH_INIT ? TRACE_INIT_LAST : TRACE_IO_LAST;
	int rows = b->h - 1, nsteps = last - first + 1, skip = 0;
	if (nsteps > rows) { /* keep the lit step in view */
		skip = (int)(o.cur - first) - rows / 2;
		skip = skip < 0 ? 0 : skip > nsteps - rows ? nsteps - rows : skip;
	}
	for (int i = 0; i < rows && skip + i < nsteps; i++) {
		unsigned s = first + skip + i;
		at[0] = 0;
		if (o.at[s] != SIZE_MAX)
			snprintf(at, sizeof(at), "#%zu", o.at[s]);
		step_note(v->tf, &o, s, note, sizeof(note));
		if (o.mark[s] == VIEW_MARK_SKIPPED)
			snprintf(note, sizeof(note), "skipped");
		else if (o.mark[s] == VIEW_MARK_UNLOGGED && !note[0])
			snprintf(note, sizeof(note), "%s", view_unlogged_text(v->tf));
		num[0] = 0;
		if (o.path == TRACE_PATH_INIT) /* the spec's step number */
			snprintf(num, sizeof(num), "%-1s ", trace_steps[s].num);
		snprintf(line, sizeof(line), "%s %s%-*s %-*s%s%s", marks[o.mark[s]], num,
			 o.path == TRACE_PATH_INIT ? 14 : 9, trace_steps[s].name, at[0] ? 5 : 0, at,
			 at[0] ? " " : "", note);
		attr_t a = o.mark[s] == VIEW_MARK_NOW
			       ? (ui->color ? COLOR_PAIR(PAIR_NOW) | A_BOLD : A_REVERSE | A_BOLD)
			   : o.mark[s] == VIEW_MARK_DONE ? 0
							 : A_DIM;
		put(ui, b->y + 1 + i, b->x, b->w, a, o.mark[s] == VIEW_MARK_NOW, line);
	}
}

/* --- Queue --- */

/* An index a notify or used event carried: a split ring's number, a packed ring's slot/wrap. */
static void ring_idx(bool have, uint32_t v, char *buf, size_t len)
{
	if (!have)
		snprintf(buf, len, "-");
	else if (v >> 16 == 1)
		snprintf(buf, len, "%u/w%u", v & 0x7fff, v >> 15 & 1);
	else
		snprintf(buf, len, "%u", v);
}

/* A packed ring as itself (virtio 1.2 §2.8): one character per slot, its flags as the trace
 * last showed them, a legend, then as many rows of slots as fit. Returns the next free row. */
static int draw_slots(const struct view_ui *ui, const struct view_box *b,
		      const struct view_queue *q, int n)
{
	uint32_t size = q->size ? q->size : q->max_size, shown = size, per = 64;
	char row[80];

	if (shown > VIEW_QUEUE_SLOTS)
		shown = VIEW_QUEUE_SLOTS;
	if (n < b->h - 1)
		put(ui, b->y + 1 + n++, b->x, b->w, A_DIM, false,
		    "A/a avail wrap 1/0  U/u used  - skipped  . unseen");
	for (uint32_t at = 0; at < shown && n < b->h - 1; at += per, n++) {
		uint32_t k = shown - at < per ? shown - at : per;

		snprintf(row, sizeof(row), "%3u %.*s", at, (int)k, q->slot + at);
		put(ui, b->y + 1 + n, b->x, b->w, 0, false, row);
	}
	if (size > shown && n < b->h - 1)
		put(ui, b->y + 1 + n++, b->x, b->w, A_DIM, false, "(first 256 slots shown)");
	return n;
}

static void draw_queue(const struct view_ui *ui, struct view *v, const struct view_box *b)
{
	static struct view_queue q;
	size_t rec = view_selected(v);
	char line[40][VIEW_LINE_MAX], head[96], vec[24], avail[16], used[16];
	int n = 0;
	unsigned nq;
	bool chain_first;

	if (rec == SIZE_MAX || !v->tf->rec[rec].dev) {
		title(ui, b, " Queue");
		if (rec != SIZE_MAX)
			put(ui, b->y + 1, b->x, b->w, A_DIM, false, " this event names no device");
		return;
	}
	view_queue_get_on(v->tf, rec, v->pane_queue, &q);
	const char *dev = view_dev_name(v->tf, q.dev);
	nq = view_queue_count(v->tf, q.dev);
	if (nq > 1) /* [ and ] choose among them */
		snprintf(head, sizeof(head), " Queue %s q%u of %u%s as of #%zu", dev ? dev : "",
			 q.queue, nq, v->pane_queue == VIEW_QUEUE_OF_EVENT ? "" : ", chosen,", rec);
	else
		snprintf(head, sizeof(head), " Queue %s q%u as of #%zu", dev ? dev : "", q.queue,
			 rec);
	title(ui, b, head);
	/* the event is about a chain of this queue: the chain first, as the device walked it */
	chain_first = q.chain_pop != SIZE_MAX && view_rec_on_queue(&v->tf->rec[rec], q.queue) &&
		      (view_has(&v->tf->rec[rec], VA_HEAD) || view_has(&v->tf->rec[rec], VA_ID));
	if (chain_first)
		n += view_queue_chain_lines(v->tf, &q, line, 20);
	if (!q.known) {
		put(ui, b->y + 1, b->x, b->w, A_DIM, false, " nothing recorded about it yet");
		return;
	}
	if (q.vector == VIRTIO_MSI_NO_VECTOR)
		snprintf(vec, sizeof(vec), "none");
	else
		snprintf(vec, sizeof(vec), "%u", q.vector);
	if (q.snapshot) { /* QEMU logs no queue setup: its monitor's answer after the run */
		snprintf(line[n++], sizeof(line[0]), "size %u, vector not logged", q.size);
		snprintf(line[n++], sizeof(line[0]), "  (QEMU's monitor after the run)");
	} else if (q.setup_unlogged) {
		snprintf(line[n++], sizeof(line[0]), "size, rings, vector: %s",
			 view_unlogged_text(v->tf));
	} else {
		snprintf(line[n++], sizeof(line[0]), "size %u (max %u) %s vector %s", q.size,
			 q.max_size, q.enabled ? "enabled" : "disabled", vec);
	}
	if (!q.setup_unlogged || q.snapshot) {
		snprintf(line[n++], sizeof(line[0]), "desc   0x%llx%s", (unsigned long long)q.desc,
			 q.legacy ? " (PFN)" : "");
		snprintf(line[n++], sizeof(line[0]), "driver 0x%llx", (unsigned long long)q.driver);
		snprintf(line[n++], sizeof(line[0]), "device 0x%llx", (unsigned long long)q.device);
	}
	ring_idx(q.have_avail, q.avail_idx, avail, sizeof(avail));
	if (!q.have_avail && q.notifies) /* notifies whose index the log does not give */
		snprintf(avail, sizeof(avail), "?");
	ring_idx(q.have_used, q.used_idx, used, sizeof(used));
	if (q.packed)
		snprintf(line[n++], sizeof(line[0]), "packed: driver next %s  next used %s", avail,
			 used);
	else
		snprintf(line[n++], sizeof(line[0]), "avail idx %s  used idx %s", avail, used);
	snprintf(line[n++], sizeof(line[0]), "kicks %llu pops %llu done %llu irqs %llu/%llu",
		 (unsigned long long)q.notifies, (unsigned long long)q.pops,
		 (unsigned long long)q.completes, (unsigned long long)q.irqs,
		 (unsigned long long)(q.irqs + q.suppressed));
	snprintf(line[n++], sizeof(line[0]), "in flight %llu", (unsigned long long)q.inflight_all);
	if (!chain_first)
		n += view_queue_chain_lines(v->tf, &q, line + n, 20);
	for (int i = 0; i < n && i < b->h - 1; i++)
		put(ui, b->y + 1 + i, b->x, b->w, 0, false, line[i]);
	if (q.packed)
		n = draw_slots(ui, b, &q, n);
	for (unsigned k = 0; k < q.ninflight && n < b->h - 1; k++, n++) {
		char req[128], text[200];
		const struct view_inflight *f = &q.inflight[k];
		request_words(v->tf, &v->tf->rec[f->pop], req, sizeof(req));
		snprintf(text, sizeof(text), " %s %u #%zu %s%s",
			 view_arg_known(v->tf, &v->tf->rec[f->pop], VA_HEAD) ? "head" : "request",
			 f->head, f->pop, req, f->completed ? ", done" : "");
		put(ui, b->y + 1 + n, b->x, b->w, f->pop == rec ? A_BOLD : 0, false, text);
	}
}

/* --- Header, status, console --- */

static void draw_header(const struct view_ui *ui, const struct view *v, const struct view_box *b)
{
	char line[512], sp[32] = "";
	if (v->playing)
		view_speed_name(v->speed, sp, sizeof(sp));
	snprintf(line, sizeof(line), " kvmscope %s %s  %zu events%s%s%s%s  ? help",
		 ui->live ? "run --step" : "view", ui->title, v->tf->nrec,
		 v->show != TRACE_MASK_ALL || v->vcpu >= 0 || v->queue >= 0 ? "  [filtered]" : "", v->playing ? "  [playing " : "",
		 sp, v->playing ? "]" : "");
	put(ui, b->y, b->x, b->w, title_attr(ui) | A_BOLD, true, line);
}

static void draw_status(const struct view_ui *ui, const struct view *v, const struct view_box *b)
{
	const char *keys = ui->live
			       ? "n next event  c continue  b breakpoint  arrows  / search  "
				 "f filter  ? help  q quit"
			       : "arrows move  n/p step  / search  f filter  space play  g go  "
				 "? help  q quit";
	if (ui->live && ui->state[0] && !v->msg[0]) {
		bool paused = !strncmp(ui->state, "paused", 6);
		attr_t a = paused ? (ui->color ? COLOR_PAIR(PAIR_PAUSED) | A_BOLD : A_REVERSE) : 0;
		put(ui, b->y, b->x, b->w, a, true, ui->state);
		return;
	}
	put(ui, b->y, b->x, b->w, v->msg[0] ? A_BOLD : A_DIM, true, v->msg[0] ? v->msg : keys);
}

static void draw_console(const struct view_ui *ui, const struct view_box *b)
{
	if (b->h <= 0)
		return;
	title(ui, b, " Guest console");
	int rows = b->h - 1, first = ui->nconsole > rows ? ui->nconsole - rows : 0;
	for (int i = 0; first + i < ui->nconsole && i < rows; i++)
		put(ui, b->y + 1 + i, b->x, b->w, 0, false, ui->console[first + i]);
}

void view_draw(const struct view_ui *ui, struct view *v)
{
	struct view_layout l;
	int crow = ui->live ? (LINES >= 30 ? 6 : 3) : 0;

	view_layout(LINES, COLS, crow, ui->zoom, &l);
	erase();
	if (!l.head.w) {
		put(ui, 0, 0, COLS, A_BOLD, false, "terminal too small");
		refresh();
		return;
	}
	draw_header(ui, v, &l.head);
	if (l.timeline.h > 0)
		draw_timeline(ui, v, &l.timeline);
	draw_detail(ui, v, &l.detail);
	if (l.path.h > 0) {
		draw_path(ui, v, &l.path);
		draw_queue(ui, v, &l.queue);
		for (int y = l.timeline.y; y < l.path.y + l.path.h; y++)
			mvaddch(y, l.timeline.w, ACS_VLINE);
	}
	draw_console(ui, &l.console);
	draw_status(ui, v, &l.status);
	refresh();
}

/* --- Compare: `view A --compare B` --- */

void view_layout_compare(int lines, int cols, bool zoom, struct view_layout *l)
{
	int body = lines - 2, info = 4, top = zoom ? 0 : body * 2 / 5, half = cols / 2;

	memset(l, 0, sizeof(*l));
	if (lines < 12 || cols < 40)
		return;
	l->head = (struct view_box){0, 0, 1, cols};
	l->status = (struct view_box){lines - 1, 0, 1, cols};
	l->timeline = (struct view_box){1, 0, top, cols};
	l->detail = (struct view_box){1 + top, 0, info, cols};
	l->side[0] = (struct view_box){1 + top + info, 0, body - top - info, half};
	l->side[1] =
	    (struct view_box){1 + top + info, half + 1, body - top - info, cols - half - 1};
}

/* One column of a row: a step's text in its record's class colour, "-" when the side has none. */
static void cmp_cell(const struct view_ui *ui, const struct view_cmp *c, int side,
		     const struct diff_step *s, int y, int x, int w, attr_t sel)
{
	attr_t a = s ? class_attr(ui, trace_events[c->side[side].tf.rec[s->rec].ev].cls) : A_DIM;
	char buf[DIFF_TEXT];
	put(ui, y, x, w, a | sel, true, s ? view_status_short(s->text, w, buf, sizeof(buf)) : "-");
}

static void draw_cmp_rows(const struct view_ui *ui, struct view_cmp *c, const struct view_box *b)
{
	int w = (b->w - 11) / 2, rows = b->h - 1; /* mark, A, " | ", B, " [nn]" */
	char head[512];

	snprintf(head, sizeof(head), "%*s | B %s (%s)", w + 3, "", c->side[1].path,
		 diff_side_kind(&c->side[1]));
	title(ui, b, head);
	snprintf(head, sizeof(head), "   A %s (%s)", c->side[0].path, diff_side_kind(&c->side[0]));
	put(ui, b->y, b->x, w + 3, title_attr(ui), true, head);
	if (!c->nrows) {
		put(ui, b->y + 1, b->x, b->w, A_DIM, false, " no handshake to compare");
		return;
	}
	view_scroll_fit(c->row, c->nrows, rows, &c->top);
	for (int i = 0; i < rows && c->top + i < c->nrows; i++) {
		size_t k = c->top + i;
		const struct view_cmp_row *r = &c->rows[k];
		attr_t sel = k == c->row ? A_REVERSE : 0;
		char mark[4], tag[16];
		if (r->title) { /* a part's title: PCI enumeration, handshake, IO */
			snprintf(head, sizeof(head), "%c-- %s --", sel ? '>' : ' ',
				 view_cmp_part_name(r->part));
			put(ui, b->y + 1 + i, b->x, b->w, title_attr(ui) | A_BOLD | sel, true,
			    head);
			continue;
		}
		snprintf(mark, sizeof(mark), "%c%c ", sel ? '>' : ' ', "=~<>"[r->op & 3]);
		if (r->note)
			snprintf(tag, sizeof(tag), " [%u]", r->note);
		else
			snprintf(tag, sizeof(tag), r->op == DIFF_SAME ? "" : " !!");
		attr_t ma = r->op == DIFF_SAME ? 0 : r->label ? A_DIM : A_BOLD;
		put(ui, b->y + 1 + i, b->x, 3, ma | sel, true, mark);
		cmp_cell(ui, c, 0, r->a, b->y + 1 + i, b->x + 3, w, sel);
		put(ui, b->y + 1 + i, b->x + 3 + w, 3, sel, true, " | ");
		cmp_cell(ui, c, 1, r->b, b->y + 1 + i, b->x + 6 + w, w, sel);
		put(ui, b->y + 1 + i, b->x + 6 + 2 * w, b->w - 6 - 2 * w,
		    (r->label ? 0 : A_BOLD) | sel, true, tag);
	}
}

static void draw_cmp_side(const struct view_ui *ui, const struct view_cmp *c, int side,
			  const struct view_box *b)
{
	struct detail_ctx d = {ui, b, b->y + 1};
	const struct view_cmp_row *r = c->nrows ? &c->rows[c->row] : NULL;
	const struct diff_step *s = !r ? NULL : side ? r->b : r->a;
	char head[160], when[96] = "";

	if (s)
		view_when(&c->side[side].tf, &c->side[side].tf.rec[s->rec], when, sizeof(when));
	snprintf(head, sizeof(head), " %c %s", side ? 'B' : 'A', when);
	title(ui, b, head);
	view_cmp_detail(c, side, detail_line, &d);
}

void view_draw_compare(const struct view_ui *ui, struct view_cmp *c)
{
	struct view_layout l;
	char line[512], head[256];

	view_layout_compare(LINES, COLS, ui->zoom, &l);
	erase();
	if (!l.head.w) {
		put(ui, 0, 0, COLS, A_BOLD, false, "terminal too small");
		refresh();
		return;
	}
	snprintf(line, sizeof(line),
		 " kvmscope view --compare  %zu same, %zu expected, %zu mismatch%s"
		 "  ? help",
		 c->same, c->expected, c->mismatches, c->mismatches == 1 ? "" : "es");
	put(ui, 0, 0, COLS, title_attr(ui) | A_BOLD, true, line);
	if (l.timeline.h > 0)
		draw_cmp_rows(ui, c, &l.timeline);
	struct detail_ctx d = {ui, &l.detail, l.detail.y + 1};
	const struct diff_cmp *p = c->nrows ? &c->cmp[c->rows[c->row].pair] : NULL;
	snprintf(head, sizeof(head), " Row %zu/%zu  %s | %s  (z: %s)", c->nrows ? c->row + 1 : 0,
		 c->nrows, p ? p->a->name : "", p ? p->b->name : "", ui->zoom ? "panes" : "zoom");
	title(ui, &l.detail, head);
	view_cmp_detail(c, -1, detail_line, &d);
	for (int k = 0; k < 2; k++)
		draw_cmp_side(ui, c, k, &l.side[k]);
	for (int y = l.side[0].y; y < l.side[0].y + l.side[0].h; y++)
		mvaddch(y, l.side[0].w, ACS_VLINE);
	put(ui, l.status.y, 0, COLS, c->msg[0] ? A_BOLD : A_DIM, true,
	    c->msg[0]
		? c->msg
		: "arrows  n/p step  d/D difference  m/M mismatch  s/S part  z zoom  ? help  q quit");
	refresh();
}

/* --- Popups over the panes --- */

static void popup(const struct view_ui *ui, const char *const *lines, int n)
{
	int w = 0;
	for (int i = 0; i < n; i++)
		w = (int)strlen(lines[i]) > w ? (int)strlen(lines[i]) : w;
	w = w + 4 > COLS ? COLS - 4 : w;
	int h = n + 2 > LINES ? LINES : n + 2, y = (LINES - h) / 2, x = (COLS - w - 4) / 2;
	for (int i = 0; i < h; i++)
		put(ui, y + i, x, w + 4, A_REVERSE, true, "");
	for (int i = 0; i < n && i < h - 2; i++)
		put(ui, y + 1 + i, x + 2, w, A_REVERSE, true, lines[i]);
	refresh();
}

void view_draw_help(const struct view_ui *ui)
{
	static const char *const replay[] = {
	    "kvmscope view: keys",
	    "",
	    "Up/Down k/j     one event       PgUp/PgDn   half a screen",
	    "Home/End        first/last      g           go to #N or a time (1.5s, 40us)",
	    "n / p           next / previous step of the init or IO path",
	    "/               search (Enter on an empty line: again)",
	    "f               filter by class, vCPU or queue  z   zoom the detail pane",
	    "[ / ]           the Queue pane's queue: previous / next, then the event's",
	    "space           play in recorded time        + / -   faster / slower",
	    "?               this help        q          quit",
	    "",
	    "Path: [x] done  [>] this event  [ ] to come  [-] skipped",
	    "      [~] the trace cannot hold it (not in QEMU's log, say)",
	    "any key closes this"};
	static const char *const live[] = {
	    "kvmscope run --step: keys",
	    "",
	    "n               let the VM run to its next event",
	    "c               continue to the next breakpoint",
	    "b               breakpoint on/off for the selected event's class",
	    "Up/Down PgUp/PgDn Home/End, / search, f filter, z zoom: as in view",
	    "q               stop the VM (the trace is kept) and quit",
	    "",
	    "any key closes this"};
	static const char *const compare[] = {
	    "kvmscope view A --compare B: keys",
	    "",
	    "Up/Down k/j     one row         PgUp/PgDn   half a screen",
	    "Home/End        first/last row",
	    "n / p           next / previous init step (virtio 1.2 3.1.1)",
	    "d / D           next / previous run of differences",
	    "m / M           next / previous mismatch (a difference no label explains)",
	    "s / S           next / previous part: PCI enumeration, handshake, IO",
	    "z               zoom the detail panes",
	    "?               this help        q          quit",
	    "",
	    "= same  ~ differs  < only in A  > only in B",
	    "[n] expected (the label is in the detail)  !! a mismatch",
	    "any key closes this"};
	if (ui->compare)
		popup(ui, compare, sizeof(compare) / sizeof(compare[0]));
	else if (ui->live)
		popup(ui, live, sizeof(live) / sizeof(live[0]));
	else
		popup(ui, replay, sizeof(replay) / sizeof(replay[0]));
}

void view_draw_filter(const struct view_ui *ui, const struct view *v)
{
	char text[TRACE_CLASS_NR + 5][64];
	const char *lines[TRACE_CLASS_NR + 5];
	int n = 0;

	snprintf(text[n++], sizeof(text[0]), "Show classes (letter: on/off, *: all)");
	for (unsigned c = 0; c < TRACE_CLASS_NR; c++) {
		uint64_t m = view_class_mask(c);
		snprintf(text[n++], sizeof(text[0]), "%c [%c] %s", 'a' + c,
			 (v->show & m) == m ? 'x'
			 : (v->show & m)    ? '~'
					    : ' ',
			 trace_class_names[c]);
	}
	if (v->vcpu < 0)
		snprintf(text[n++], sizeof(text[0]), "0-9 only vCPU N's events (now: every thread)");
	else
		snprintf(text[n++], sizeof(text[0]), "0-9 only vCPU N's events (now: vcpu%d)",
			 v->vcpu);
	if (v->queue < 0)
		snprintf(text[n++], sizeof(text[0]), "q 0-9 only queue N's events (now: every queue)");
	else
		snprintf(text[n++], sizeof(text[0]), "q 0-9 only queue N's events (now: q%d)",
			 v->queue);
	snprintf(text[n++], sizeof(text[0]), "Enter or Esc: done");
	for (int i = 0; i < n; i++)
		lines[i] = text[i];
	popup(ui, lines, n);
}

void view_draw_prompt(const struct view_ui *ui, const char *label, const char *text)
{
	char line[512];
	snprintf(line, sizeof(line), "%s%s", label, text);
	put(ui, LINES - 1, 0, COLS, A_BOLD, true, line);
	move(LINES - 1, (int)strlen(line) < COLS ? (int)strlen(line) : COLS - 1);
	refresh();
}
