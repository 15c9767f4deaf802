/* trace/view/view.h - front door of the viewer: `kvmscope view FILE [--compare B]` and
 * `kvmscope run --step`, and the viewer's model, shared by the files of trace/view/ and the
 * viewer's unit tests. The top floor of the trace layer: it reads files through trace/internal.h
 * and takes --compare's rows from trace/compare/compare.h; nothing below includes it. Everything
 * but draw.c, term.c and live.c is plain computation on a struct trace_file: what is selected
 * and shown, the round of init or IO steps around an event (which step each record is:
 * trace/steps.c), the virtqueue rebuilt as of an event. trace/view/draw.c draws it. */
#ifndef KVMSCOPE_TRACE_VIEW_H
#define KVMSCOPE_TRACE_VIEW_H

#include "trace/compare/compare.h"
#include "trace/internal.h"

/* `kvmscope view FILE [--events GLOB,...]`: the ncurses viewer (docs/viewer.md); argv[0] "view". */
int view_cmd_main(int argc, char **argv);

/* `kvmscope run --trace FILE --step[=CLASSES]`: the same viewer on the VM as it runs. The VM
 * pauses at each event of CLASSES (default: virtio-status,features,queue-setup), every thread
 * that emits an event waiting, until the user presses n (to the next such event) or c (to the
 * next breakpoint); q stops it. The guest console goes to a pane (a serial sink). */
struct view_live_config {
	const char *trace_path;		  /* the --trace FILE (required: the viewer reads it) */
	const char *classes;		  /* --step=CLASSES, or NULL */
	void (*stop_vm)(void *opaque);	  /* q: stop the VM cleanly */
	bool (*vm_stopped)(void *opaque); /* the VM is stopping: paused threads go on */
	void *opaque;
};
/* After trace_start(), before the VM runs: takes the terminal, starts the viewer thread and the
 * hook. 0, or -errno after one line on stderr (-ENOTTY: no terminal; -EINVAL: bad CLASSES). */
int view_live_start(const struct view_live_config *c);
void view_live_console(void *opaque, uint8_t c); /* a serial sink: one byte the guest printed */
/* After the VM stopped, before trace_stop(): with wait, shows the exit status until q; gives the
 * terminal back and removes the hook. */
void view_live_end(int status, bool wait);

/* --- Arguments by meaning, whatever their slot (trace/view/text.c). --- */
enum view_arg {
	VA_QUEUE,
	VA_HEAD,
	VA_SIZE,
	VA_ADDR,
	VA_PFN,
	VA_RW,
	VA_OLD,
	VA_NEW,
	VA_REG,
	VA_ENABLE,
	VA_VECTOR,
	VA_AVAIL_IDX,
	VA_USED_IDX,
	VA_TYPE,
	VA_SECTOR,
	VA_SEGS,
	VA_BYTES,
	VA_STATUS,
	VA_NS,
	VA_LEN,
	VA_BACKEND,
	VA_VIA,
	VA_KIND,
	VA_RESULT,
	VA_ID,
	VA_SLOT,
	VA_WRAP,
	VA_DESCS,
	VA_FEATURES,
	VA_AVAIL,
	VA_NR
};
bool view_has(const struct trace_rec *r, enum view_arg a);
uint64_t view_arg(const struct trace_rec *r, enum view_arg a, uint64_t def);
/* The event has argument a and its source recorded it (imported traces may not). */
bool view_arg_known(const struct trace_file *tf, const struct trace_rec *r, enum view_arg a);
/* Argument a as a number, or "?" when not recorded ("-" when the event has none). */
const char *view_arg_str(const struct trace_file *tf, const struct trace_rec *r, enum view_arg a,
			 char *buf, size_t len);

/* --- A path around a record (trace/view/path.c); the steps are trace/steps.c's. --- */
/* One pass of a path around a selected record: for each step, the record that realized it
 * (SIZE_MAX: none). Init: since the device's last reset. IO: one request, found by its head. */
enum view_mark {
	VIEW_MARK_TODO,
	VIEW_MARK_DONE,
	VIEW_MARK_NOW,
	VIEW_MARK_SKIPPED,
	VIEW_MARK_UNLOGGED /* the trace could not hold this step: not in QEMU's log, say */
};
struct view_round {
	enum trace_path path;
	uint16_t dev;
	uint8_t cur; /* the selected record's step */
	size_t at[TRACE_STEP_NR];
	uint8_t mark[TRACE_STEP_NR]; /* enum view_mark */
	size_t begin, end;	     /* init: the records of this round [begin, end) */
	uint32_t queue, head;	     /* IO */
	bool has_head;
	/* init: the device's PCI config accesses since its previous session (or the start) */
	size_t pci_reads, pci_writes;
	bool firmware; /* a QEMU log's first session of several: SeaBIOS reading the boot disk */
	bool machine_reset; /* the device step is QEMU's reset at machine start, not a build */
};
/* "not in QEMU's log" for a step the trace could not hold (VIEW_MARK_UNLOGGED). */
const char *view_unlogged_text(const struct trace_file *tf);
/* Whether record rec is QEMU's machine-start reset (a status 0 before any guest access). */
bool view_machine_reset(const struct trace_file *tf, const struct trace_tags *t, size_t rec);
/* 0, or -1 when the record belongs to no path (the round is then empty). */
int view_round_get(const struct trace_file *tf, const struct trace_tags *t, size_t sel,
		   struct view_round *out);
/* The record of the next (dir > 0) or previous step of the selected record's path; SIZE_MAX when
 * there is none. Records hidden by the filter are the caller's business. */
size_t view_step_next(const struct trace_file *tf, const struct trace_tags *t, size_t sel, int dir);

/* --- The virtqueue as of a record (trace/view/queue.c). --- */
#define VIEW_QUEUE_INFLIGHT_MAX 16
#define VIEW_QUEUE_SLOTS	256 /* packed ring slots drawn; a larger ring is drawn in part */
struct view_inflight {
	uint32_t head;
	size_t pop;	/* the chain_pop record */
	bool completed; /* req_complete seen, used_push not yet */
};
struct view_queue {
	uint16_t dev;
	uint32_t queue;
	bool known; /* the trace says anything about this queue */
	/* the trace cannot hold queue setup (a QEMU log): size, rings and vector are not logged;
	 * snapshot: they are what QEMU's monitor said after the run (the -status.log beside it) */
	bool setup_unlogged, snapshot;
	bool legacy; /* addresses from a PFN */
	bool enabled;
	uint32_t max_size, size, vector;
	uint64_t desc, driver, device, pfn;
	bool have_avail, have_used;
	uint32_t avail_idx, used_idx; /* packed: TRACE_RING_IDX_PACKED() words */
	/* Packed ring (VIRTIO_F_RING_PACKED in the device's features_ok): each slot's flags as the
	 * trace last showed them, up to VIEW_QUEUE_SLOTS slots: '.' nothing seen, 'A'/'a'
	 * available (AVAIL != USED, wrap 1/0), 'U'/'u' used (AVAIL = USED = 1/0), '-' a slot its
	 * list's used descriptor skipped; the slot and wrap of the next used descriptor. */
	bool packed;
	char slot[VIEW_QUEUE_SLOTS + 1];
	uint32_t used_slot;
	bool used_wrap;
	/* Split ring: the head each avail entry held when the device took it (split_pop), and
	 * the {id, len} each used entry got (used_push), up to VIEW_QUEUE_SLOTS entries; never
	 * guessed: an entry the trace did not show is unknown. */
	struct view_ring_ent {
		bool known;
		uint32_t id, len;
	} avail_ent[VIEW_QUEUE_SLOTS], used_ent[VIEW_QUEUE_SLOTS];
	/* The chain shown: the pop (split_pop, packed_pop) of the selected event's chain when it
	 * is on this queue, else this queue's last pop before it; SIZE_MAX: none. The used entry or
	 * descriptor it got, when it was completed by then. */
	size_t chain_pop, chain_used;
	uint64_t pops, completes, used, irqs, suppressed, notifies;
	struct view_inflight inflight[VIEW_QUEUE_INFLIGHT_MAX];
	unsigned ninflight;    /* shown (at most VIEW_QUEUE_INFLIGHT_MAX) */
	uint64_t inflight_all; /* all of them */
	size_t last_reset;     /* SIZE_MAX: none */
};
/* The queue the record is about (its queue argument, else the device's last queue_select). */
void view_queue_get(const struct trace_file *tf, size_t sel, struct view_queue *q);
/* The same for queue number queue of the record's device (VIEW_QUEUE_OF_EVENT: the event's). */
#define VIEW_QUEUE_OF_EVENT (-1)
void view_queue_get_on(const struct trace_file *tf, size_t sel, int queue, struct view_queue *q);
/* How many queues the device has in the trace (its queue_add events, else the highest queue
 * number any of its events names, plus one). */
unsigned view_queue_count(const struct trace_file *tf, uint16_t dev);
/* The chain the Queue pane shows (q->chain_pop) as lines: what it is, its descriptors as the
 * device walked them (an indirect table's indented), then the ring around it: split, the avail
 * and used entries (head, id/len; '?' where the trace saw none), packed, the slots with their
 * flags. Returns the lines written, at most max. */
#define VIEW_LINE_MAX 160
unsigned view_queue_chain_lines(const struct trace_file *tf, const struct view_queue *q,
				char (*lines)[VIEW_LINE_MAX], unsigned max);
/* Whether record r is about queue (it names that queue). */
bool view_rec_on_queue(const struct trace_rec *r, unsigned queue);

/* --- The model of the screen (trace/view/model.c). --- */
enum view_speed { VIEW_SPEED_MIN = -16, VIEW_SPEED_MAX = 16 }; /* powers of two */
#define VIEW_PLAY_GAP_MAX_NS 2000000000ULL /* longer pauses are cut to this much wall time */

struct view {
	const struct trace_file *tf;
	struct trace_tags tags;
	uint64_t show; /* events shown: bit per enum trace_event */
	int vcpu;      /* only the records of thread vcpuN; -1: every thread's */
	int queue;     /* only the records about queue N; -1: every record */
	int pane_queue; /* the Queue pane's queue; VIEW_QUEUE_OF_EVENT: the selected event's */
	size_t *rows;  /* records shown, in order */
	size_t nrows, rows_cap, scanned;
	size_t row; /* the selected row (meaningful when nrows > 0) */
	size_t top; /* first row on screen */
	bool playing;
	int speed;		     /* 2^speed times recorded time */
	uint64_t play_wall, play_ts; /* wall ns and trace ts when playback (re)started */
	char search[128];
	char msg[320]; /* one line for the status bar */
};
int view_init(struct view *v, const struct trace_file *tf);
void view_free(struct view *v);
/* Take records that arrived since (live) or that the filter now shows; keeps the selection. */
int view_refresh(struct view *v);
int view_set_filter(struct view *v, uint64_t show);
int view_set_vcpu(struct view *v, int vcpu); /* -1: every thread again; keeps the selection */
int view_set_queue(struct view *v, int queue); /* -1: every record again; keeps the selection */
/* The Queue pane to the next (dir > 0) or previous queue of the selected event's device, then
 * back to following the event; says which in v->msg. */
void view_pane_queue_next(struct view *v, int dir);
uint64_t view_class_mask(unsigned cls);	    /* events of one class */
size_t view_selected(const struct view *v); /* the record, SIZE_MAX when nothing is shown */
/* Selects the shown row holding rec, else the nearest shown one after it (before, at the end). */
void view_select_record(struct view *v, size_t rec);
void view_move(struct view *v, long delta);	      /* by rows, clamped */
void view_scroll_to(struct view *v, unsigned height); /* keeps the selection on screen */
/* The first row on screen (*top) that keeps row on screen, height rows of nrows. */
void view_scroll_fit(size_t row, size_t nrows, unsigned height, size_t *top);
/* row moved by delta, clamped to [0, nrows); row itself when there are no rows. */
size_t view_row_moved(size_t row, long delta, size_t nrows);
/* n/p: the next or previous step of the path, among shown records; false with v->msg set. */
bool view_step(struct view *v, int dir);
/* Search names, decoded arguments, functions and guest symbols; wraps. false: not found. */
bool view_search(struct view *v, const char *text, int dir);
/* "123" (event number), "1.5s", "250ms", "40us", "+0.002" (time since start). */
bool view_goto(struct view *v, const char *text);
/* Playback: start/stop, speed, and the tick that moves the selection to recorded time. */
void view_play(struct view *v, bool on, uint64_t wall_ns);
void view_speed(struct view *v, int delta, uint64_t wall_ns);
/* Moves the selection; returns the wall ns to wait for the next record (0: stopped). */
uint64_t view_play_tick(struct view *v, uint64_t wall_ns);
const char *view_speed_name(int speed, char *buf, size_t len);

/* --- Text the panes show (trace/view/text.c): one record as words. --- */
uint64_t view_time(const struct trace_file *tf, const struct trace_rec *r); /* ns since start */
const char *view_time_str(uint64_t ns, char *buf, size_t len);		    /* "1.234567" */
/* "virtio_status old=ACKNOWLEDGE new=ACKNOWLEDGE|DRIVER" */
const char *view_summary(const struct trace_file *tf, const struct trace_rec *r, char *buf,
			 size_t len);
/* The summary in at most width columns, for the timeline: a status write is "name OLD->NEW",
 * cut from the left when narrow ("virtio_status ..DRIVER->ACKNOWLEDGE|DRIVER|FEATURES_OK") so
 * that what changed stays in view; other events as view_summary(), cut at the right. */
const char *view_summary_fit(const struct trace_file *tf, const struct trace_rec *r, int width,
			     char *buf, size_t len);
const char *view_dev_name(const struct trace_file *tf, uint16_t dev); /* NULL: none */
/* Status bits in short (ACK|DRV|FEAT_OK|DRV_OK) when text is wider than w; returns buf. */
const char *view_status_short(const char *text, int w, char *buf, size_t len);
/* "+0.012345678 s vcpu0 blk0": when, on which thread, about which device */
const char *view_when(const struct trace_file *tf, const struct trace_rec *r, char *buf,
		      size_t len);
const char *view_func_name(const struct trace_file *tf, const struct trace_rec *r);
/* The detail pane's lines, each call appends one (line, len) through emit. */
typedef void (*view_line_fn)(void *opaque, int attr, const char *text);
enum view_attr { VIEW_TEXT, VIEW_HEAD, VIEW_DIM, VIEW_KEY };
/* step: the record's (view_tags), named under its header; TRACE_STEP_NONE for none. */
void view_detail(const struct trace_file *tf, size_t rec, unsigned step, view_line_fn emit,
		 void *opaque);
/* emit() with a formatted line. */
void view_say(view_line_fn emit, void *opaque, int attr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* --- Two runs side by side: `kvmscope view A --compare B` (trace/view/compare.c). The rows are
 * `kvmscope diff`'s alignment of each pair of devices (trace/compare/compare.h), not another: its
 * PCI enumeration, handshake and IO path, each under a title row; the view opens on the
 * handshake. */
#define VIEW_CMP_NOTES_MAX 32
struct view_cmp_row {
	uint8_t op;	 /* enum diff_op */
	uint8_t part;	 /* enum diff_part: PCI enumeration, handshake, IO */
	bool title;	 /* the part's title row (no step on either side) */
	uint8_t step;	 /* the init step reached (view tags of A's record, else B's; never back) */
	bool step_start; /* the first row of its step */
	unsigned pair;	 /* the device pair: index in cmp[] */
	unsigned note;	 /* the label's number, 1.. (0: none) */
	const char *label; /* why the difference is expected; NULL: same, or a mismatch */
	const struct diff_step *a, *b;
};
struct view_cmp {
	struct diff_side side[2];
	struct diff_cmp *cmp;
	size_t ncmp;
	struct trace_tags tags[2];
	struct view_cmp_row *rows;
	size_t nrows, row, top;
	const char *notes[VIEW_CMP_NOTES_MAX];
	unsigned nnotes;
	size_t same, expected, mismatches;
	char msg[320];
};
/* 0; -1 with err naming the file (bad input); -ENOMEM with err. */
int view_cmp_load(struct view_cmp *c, const char *a, const char *b, char *err, size_t len);
void view_cmp_free(struct view_cmp *c);
/* "same", "differs", "only in A", "only in B" */
const char *view_cmp_mark(const struct view_cmp_row *r);
void view_cmp_move(struct view_cmp *c, long delta);
/* n/p: the first row of the next or previous init step; false with c->msg set. */
bool view_cmp_step(struct view_cmp *c, int dir);
/* d/D: the next or previous run of differences; m/M (mismatch_only): of unexplained ones. */
bool view_cmp_diff(struct view_cmp *c, int dir, bool mismatch_only);
/* s/S: the title row of the next or previous part (PCI enumeration, handshake, IO). */
bool view_cmp_part(struct view_cmp *c, int dir);
const char *view_cmp_part_name(unsigned part); /* "PCI enumeration", "handshake", "IO" */
/* The detail of the selected row: side -1 what the row is (mark, label, step), 0 A's event, 1
 * B's event (its decoded fields, functions, as view_detail). */
void view_cmp_detail(const struct view_cmp *c, int side, view_line_fn emit, void *opaque);

/* --- The screen (trace/view/draw.c): where the panes go, and drawing them with ncurses. --- */
struct view_box {
	int y, x, h, w;
};
struct view_layout {
	struct view_box head, timeline, detail, path, queue, console, status;
	struct view_box side[2]; /* compare: A's and B's event; detail is then the row's marks */
};
#define VIEW_PATH_ROWS 11 /* a title and the ten init steps */
void view_layout(int lines, int cols, int console_rows, bool zoom, struct view_layout *l);
/* Compare: the aligned rows on top, what the row is, then A's and B's event side by side. */
void view_layout_compare(int lines, int cols, bool zoom, struct view_layout *l);

#define VIEW_CONSOLE_LINES 8
#define VIEW_CONSOLE_COLS  160
struct view_ui {
	const char *title; /* the file, or "live" */
	bool zoom;	   /* the detail pane over the whole body */
	bool compare;	   /* view A --compare B: the help says its keys */
	bool utf8, color;
	/* live stepping (trace/view/live.c fills these before each draw) */
	bool live;
	char state[160]; /* "paused at #12 (virtio-status): n next, c continue" */
	char console[VIEW_CONSOLE_LINES][VIEW_CONSOLE_COLS];
	int nconsole;
};
void view_draw(const struct view_ui *ui, struct view *v);
void view_draw_help(const struct view_ui *ui);
void view_draw_compare(const struct view_ui *ui, struct view_cmp *c);
void view_draw_filter(const struct view_ui *ui, const struct view *v);
void view_draw_prompt(const struct view_ui *ui, const char *label, const char *text);
void view_colors_init(struct view_ui *ui);

/* --- The terminal program (trace/view/term.c). --- */
/* What a live VM adds to the loop (trace/view/live.c): poll takes new records and fills the live
 * parts of ui before each frame (false: the loop ends); key takes the keys it owns (true: taken).
 */
struct view_source {
	bool (*poll)(void *opaque, struct view *v, struct view_ui *ui);
	bool (*key)(void *opaque, struct view *v, struct view_ui *ui, int key);
	void *opaque;
};
/* Takes the terminal (-ENOTTY after one line on stderr naming cmd); keep_int leaves SIGINT,
 * SIGTERM and SIGHUP to the VM's handlers. The terminal is restored by view_term_close(), at
 * exit, and on fatal signals. */
int view_term_open(struct view_ui *ui, const char *cmd, bool keep_int);
/* Called from the fatal-signal handler after the terminal is restored (async-signal-safe only). */
extern void (*view_fatal_hook)(void);
void view_term_close(void);
int view_loop(struct view_ui *ui, struct view *v, const struct view_source *src);
uint64_t view_now_ns(void);

#endif
