/* trace/view/live.c - `kvmscope run --step[=CLASSES]`: the viewer on a VM as it runs. A hook in
 * trace_emit() (trace_step_hook) holds the thread that emitted an event of the stepped classes,
 * and every other thread at its next event, until the user says n or c; the viewer thread reads
 * the trace file the writer keeps appending to, so it shows exactly what the file will hold. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace/view/view.h"

#define LIVE_DEFAULT_CLASSES "virtio-status,features,queue-setup" /* the init handshake */
#define RELOAD_NS	     200000000ULL /* while running, the file is read again this often */

enum live_mode { LIVE_STEP, LIVE_CONTINUE };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* the viewer sets these, the emitting threads read them (under lock) */
	uint64_t step_mask, break_mask;
	enum live_mode mode;
	bool paused, quit;
	/* the emitting threads set these */
	uint32_t paused_seq;
	uint16_t paused_ev;
	uint64_t pauses, events;
	/* the guest console, a line at a time */
	char lines[VIEW_CONSOLE_LINES][VIEW_CONSOLE_COLS];
	int nlines;
	char cur[VIEW_CONSOLE_COLS];
	size_t curlen;
	/* main's */
	bool vm_done;
	int vm_status;
	struct view_live_config cfg;
	pthread_t thread;
	bool running;
} live = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static bool vm_stopping(void)
{
	return live.vm_done || (live.cfg.vm_stopped && live.cfg.vm_stopped(live.cfg.opaque));
}

/* On the emitting thread (trace_emit), after the record is committed. */
static void step_hook(const struct trace_rec *r)
{
	struct timespec until;

	pthread_mutex_lock(&live.lock);
	live.events++;
	uint64_t bit = 1ULL << r->ev;
	if (!live.quit && !live.paused &&
	    ((live.mode == LIVE_STEP && (live.step_mask & bit)) || (live.break_mask & bit))) {
		live.paused = true;
		live.paused_seq = r->seq;
		live.paused_ev = r->ev;
		live.pauses++;
	}
	/* While paused, every thread that emits waits: the vCPU and the IO thread alike. */
	while (live.paused && !live.quit && !vm_stopping()) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&live.cond, &live.lock, &until);
	}
	pthread_mutex_unlock(&live.lock);
}

/* One byte into the console pane's lines; under live.lock. */
static void console_byte(uint8_t c)
{
	if (c == '\n' || live.curlen + 1 >= VIEW_CONSOLE_COLS) {
		if (live.nlines == VIEW_CONSOLE_LINES) {
			memmove(live.lines[0], live.lines[1],
				sizeof(live.lines[0]) * (VIEW_CONSOLE_LINES - 1));
			live.nlines--;
		}
		memcpy(live.lines[live.nlines++], live.cur, live.curlen + 1);
		live.curlen = 0;
		live.cur[0] = 0;
	}
	if ((c >= 0x20 && c < 0x7f) || c == '\t') {
		live.cur[live.curlen++] = c == '\t' ? ' ' : c;
		live.cur[live.curlen] = 0;
	}
}

void view_live_console(void *opaque, uint8_t c)
{
	(void)opaque;
	pthread_mutex_lock(&live.lock);
	console_byte(c);
	pthread_mutex_unlock(&live.lock);
}

/* kvmscope's own stderr while the viewer has the terminal: into the console pane, and kept to be
 * written out once the terminal is back. */
static struct {
	int saved, rd;
	struct trace_buf text;
} err = {.saved = -1, .rd = -1};

static void stderr_capture(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	fflush(stderr);
	err.saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 0);
	if (err.saved < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	close(p[1]);
	err.rd = p[0];
	fcntl(err.rd, F_SETFL, O_NONBLOCK);
}

static void stderr_drain(bool to_console)
{
	char buf[4096];
	ssize_t n;
	while (err.rd >= 0 && (n = read(err.rd, buf, sizeof(buf))) > 0) {
		trace_buf_put(&err.text, buf, n);
		if (!to_console)
			continue;
		pthread_mutex_lock(&live.lock);
		for (ssize_t i = 0; i < n; i++)
			console_byte(buf[i]);
		pthread_mutex_unlock(&live.lock);
	}
}

static void stderr_release(void)
{
	if (err.saved < 0)
		return;
	fflush(stderr);
	stderr_drain(false);
	dup2(err.saved, STDERR_FILENO);
	close(err.saved);
	close(err.rd);
	err.saved = err.rd = -1;
	if (err.text.len && write(STDERR_FILENO, err.text.p, err.text.len) < 0) {
		/* the terminal went away: nothing more to do */
	}
	trace_buf_free(&err.text);
}

/* From a fatal signal: messages from here on go to the terminal again. */
static void stderr_fatal(void)
{
	if (err.saved >= 0)
		dup2(err.saved, STDERR_FILENO);
}

/* --- The viewer thread --- */

struct live_view {
	struct trace_file tf;
	bool loaded;
	off_t size;
	uint64_t loaded_at, seen_pauses;
	bool follow; /* the selection stays on the newest record */
};

static size_t find_seq(const struct trace_file *tf, uint32_t seq)
{
	for (size_t i = tf->nrec; i-- > 0;)
		if (tf->rec[i].seq == seq)
			return i;
	return SIZE_MAX;
}

/* Reads the file again when it grew: a new trace_file under the same view, selection kept. */
static void reload(struct live_view *lv, struct view *v, bool now)
{
	struct stat st;
	struct trace_file tf;
	char err[512];
	uint64_t t = view_now_ns();

	if (stat(live.cfg.trace_path, &st) < 0 || (lv->loaded && st.st_size == lv->size) ||
	    (!now && t - lv->loaded_at < RELOAD_NS))
		return;
	if (trace_file_load(&tf, live.cfg.trace_path, err, sizeof(err)) < 0) {
		snprintf(v->msg, sizeof(v->msg), "%.300s", err);
		return;
	}
	size_t sel = view_selected(v);
	bool at_end = !v->nrows || v->row + 1 == v->nrows;
	uint64_t show = v->show;
	char msg[sizeof(v->msg)], search[sizeof(v->search)];
	memcpy(msg, v->msg, sizeof(msg));
	memcpy(search, v->search, sizeof(search));
	view_free(v);
	if (lv->loaded)
		trace_file_free(&lv->tf);
	lv->tf = tf;
	lv->loaded = true;
	lv->size = st.st_size;
	lv->loaded_at = t;
	view_init(v, &lv->tf);
	view_set_filter(v, show);
	memcpy(v->msg, msg, sizeof(msg));
	memcpy(v->search, search, sizeof(search));
	if (sel != SIZE_MAX && !(lv->follow && at_end))
		view_select_record(v, sel);
	else
		view_move(v, (long)v->nrows);
}

static bool live_poll(void *opaque, struct view *v, struct view_ui *ui)
{
	struct live_view *lv = opaque;
	char name[64];

	pthread_mutex_lock(&live.lock);
	bool paused = live.paused, done = live.vm_done, quit = live.quit;
	uint32_t seq = live.paused_seq;
	uint64_t pauses = live.pauses;
	unsigned ev = live.paused_ev;
	/* the last lines, the one being printed included */
	int total = live.nlines + (live.curlen > 0), skip = total > VIEW_CONSOLE_LINES;
	ui->nconsole = total - skip;
	memcpy(ui->console, live.lines[skip], sizeof(live.lines[0]) * (live.nlines - skip));
	if (live.curlen)
		memcpy(ui->console[live.nlines - skip], live.cur, live.curlen + 1);
	pthread_mutex_unlock(&live.lock);
	if (quit)
		return false;
	stderr_drain(true);

	bool new_pause = paused && pauses != lv->seen_pauses;
	reload(lv, v, new_pause || done);
	if (new_pause && lv->loaded) { /* show where the VM stopped, once it is in the file */
		size_t rec = find_seq(&lv->tf, seq);
		if (rec != SIZE_MAX) {
			view_select_record(v, rec);
			lv->seen_pauses = pauses;
		} else {
			reload(lv, v, true);
		}
	}
	snprintf(name, sizeof(name), "%s", ev < TRACE_EV_NR ? trace_events[ev].name : "?");
	if (done)
		snprintf(ui->state, sizeof(ui->state),
			 "VM stopped (exit status %d); the trace is in %s. q quits", live.vm_status,
			 live.cfg.trace_path);
	else if (paused)
		snprintf(ui->state, sizeof(ui->state),
			 "paused at %s (%s): n next  c continue  b break  q quit", name,
			 trace_class_names[trace_events[ev].cls]);
	else
		snprintf(ui->state, sizeof(ui->state),
			 "running: c runs to a breakpoint (b sets one), "
			 "q stops the VM");
	return true;
}

static void resume(enum live_mode mode)
{
	pthread_mutex_lock(&live.lock);
	live.mode = mode;
	live.paused = false;
	pthread_cond_broadcast(&live.cond);
	pthread_mutex_unlock(&live.lock);
}

static bool live_key(void *opaque, struct view *v, struct view_ui *ui, int key)
{
	size_t rec = view_selected(v);
	(void)opaque;
	(void)ui;
	switch (key) {
	case 'n':
		resume(LIVE_STEP);
		return true;
	case 'c':
		resume(LIVE_CONTINUE);
		return true;
	case 'b':
		if (rec != SIZE_MAX) {
			unsigned cls = trace_events[v->tf->rec[rec].ev].cls;
			uint64_t m = view_class_mask(cls);
			pthread_mutex_lock(&live.lock);
			live.break_mask ^= m;
			bool on = (live.break_mask & m) != 0;
			pthread_mutex_unlock(&live.lock);
			snprintf(v->msg, sizeof(v->msg), "breakpoint on %s: %s",
				 trace_class_names[cls], on ? "on" : "off");
		}
		return true;
	case 'q':
	case 'Q':
	case 3:
		pthread_mutex_lock(&live.lock);
		live.quit = true;
		pthread_cond_broadcast(&live.cond);
		bool done = live.vm_done;
		pthread_mutex_unlock(&live.lock);
		if (!done && live.cfg.stop_vm)
			live.cfg.stop_vm(live.cfg.opaque);
		return false; /* the loop ends on it */
	default:
		return false;
	}
}

static void *viewer_main(void *arg)
{
	struct view_ui *ui = arg;
	struct live_view lv = {.follow = true};
	struct trace_file empty = {0};
	struct view v;
	struct view_source src = {live_poll, live_key, &lv};

	/* an empty file until the first read: tables need entry 0 */
	if (view_init(&v, &empty) == 0) {
		reload(&lv, &v, true);
		view_loop(ui, &v, &src);
	}
	view_term_close();
	view_free(&v);
	if (lv.loaded)
		trace_file_free(&lv.tf);
	free(ui);
	return NULL;
}

int view_live_start(const struct view_live_config *c)
{
	char err[256];
	uint64_t step;
	const char *classes = c->classes && *c->classes ? c->classes : LIVE_DEFAULT_CLASSES;
	struct view_ui *ui;

	if (live.running)
		return -EBUSY;
	if (!c->trace_path) {
		fprintf(stderr, "kvmscope: --step needs --trace FILE (the viewer reads it)\n");
		return -EINVAL;
	}
	if (trace_events_mask(classes, TRACE_MASK_ALL, &step, err, sizeof(err))) {
		fprintf(stderr, "kvmscope: --step=%s: %s\n", classes, err);
		return -EINVAL;
	}
	if (!(ui = calloc(1, sizeof(*ui))))
		return -ENOMEM;
	ui->live = true;
	ui->title = c->trace_path;
	int r = view_term_open(ui, "run --step", true);
	if (r < 0) {
		free(ui);
		return r;
	}
	pthread_mutex_lock(&live.lock);
	live.cfg = *c;
	live.step_mask = step;
	live.break_mask = 0;
	live.mode = LIVE_STEP;
	live.paused = live.quit = live.vm_done = false;
	live.nlines = 0;
	live.curlen = 0;
	pthread_mutex_unlock(&live.lock);
	stderr_capture();
	view_fatal_hook = stderr_fatal;
	__atomic_store_n(&trace_step_hook, step_hook, __ATOMIC_RELEASE);
	r = -pthread_create(&live.thread, NULL, viewer_main, ui);
	if (r) {
		__atomic_store_n(&trace_step_hook, NULL, __ATOMIC_RELEASE);
		view_term_close();
		stderr_release();
		free(ui);
		fprintf(stderr, "kvmscope: --step: viewer thread: %s\n", strerror(-r));
		return r;
	}
	live.running = true;
	return 0;
}

void view_live_end(int status, bool wait)
{
	if (!live.running)
		return;
	pthread_mutex_lock(&live.lock);
	live.vm_done = true;
	live.vm_status = status;
	if (!wait)
		live.quit = true;
	pthread_cond_broadcast(&live.cond);
	pthread_mutex_unlock(&live.lock);
	pthread_join(live.thread, NULL); /* the viewer sees quit within one getch() timeout */
	__atomic_store_n(&trace_step_hook, NULL, __ATOMIC_RELEASE);
	stderr_release();
	view_fatal_hook = NULL;
	live.running = false;
}
