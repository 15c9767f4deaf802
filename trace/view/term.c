/* trace/view/term.c - `kvmscope view FILE`: the terminal, the keys, and the terminal given back as
 * it was on every way out: q, end of input, SIGTERM/SIGHUP/SIGINT, and crashes. The live stepper
 * (trace/view/live.c) runs the same loop with a source that feeds records and takes n/c/b/q. */
#include <poll.h>
#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "trace/view/view.h"
#include <term.h> /* last: it defines macros such as lines */

/* --- The terminal, and putting it back from a signal handler (write and tcsetattr only). --- */
static struct {
	volatile sig_atomic_t active;
	struct termios tio;
	char restore[256];
	size_t restore_len;
	SCREEN *screen;
} term;

static void restore_add(const char *cap)
{
	char *s = tigetstr((char *)cap);
	size_t n = s && s != (char *)-1 ? strlen(s) : 0;
	if (n && term.restore_len + n < sizeof(term.restore)) {
		memcpy(term.restore + term.restore_len, s, n);
		term.restore_len += n;
	}
}

static void restore_now(void)
{
	if (!term.active)
		return;
	term.active = 0;
	if (write(STDOUT_FILENO, term.restore, term.restore_len) < 0) {
		/* nothing better to do on the way out */
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &term.tio);
}

void (*view_fatal_hook)(void);

static void on_signal(int sig)
{
	restore_now();
	if (view_fatal_hook)
		view_fatal_hook();
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV,
				    SIGBUS, SIGFPE,  SIGILL, SIGABRT};

int view_term_open(struct view_ui *ui, const char *cmd, bool keep_int)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr,
			"kvmscope %s: needs a terminal; for text use `kvmscope trace dump "
			"FILE`\n",
			cmd);
		return -ENOTTY;
	}
	if (tcgetattr(STDIN_FILENO, &term.tio) < 0) {
		fprintf(stderr, "kvmscope %s: terminal: %s\n", cmd, strerror(errno));
		return -ENOTTY;
	}
	setlocale(LC_ALL, "");
	ui->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
		if (keep_int && fatal_signals[i] != SIGSEGV && fatal_signals[i] != SIGBUS &&
		    fatal_signals[i] != SIGFPE && fatal_signals[i] != SIGILL &&
		    fatal_signals[i] != SIGABRT)
			continue; /* the VM's own handlers stop it cleanly; view_term_close follows
				   */
		sigaction(fatal_signals[i], &sa, NULL);
	}
	term.screen = newterm(NULL, stdout, stdin);
	if (!term.screen) {
		fprintf(stderr,
			"kvmscope %s: cannot drive terminal type '%s'; for text use "
			"`kvmscope trace dump FILE`\n",
			cmd, getenv("TERM") ? getenv("TERM") : "");
		return -ENOTTY;
	}
	restore_add("sgr0");
	restore_add("cnorm");
	restore_add("rmkx");
	restore_add("rmcup");
	term.active = 1;
	atexit(view_term_close);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	view_colors_init(ui);
	return 0;
}

void view_term_close(void)
{
	if (!term.active)
		return;
	endwin();
	term.active = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &term.tio);
	if (term.screen) {
		delscreen(term.screen);
		term.screen = NULL;
	}
}

uint64_t view_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* --- Keys --- */

/* A line typed on the status line; false when Esc (or end of input) cancels it. */
static bool prompt(const struct view_ui *ui, const char *label, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	curs_set(1);
	timeout(-1);
	for (;;) {
		view_draw_prompt(ui, label, buf);
		int ch = getch();
		if (ch == '\r' || ch == '\n' || ch == KEY_ENTER)
			break;
		if (ch == 27 || ch == ERR || ch == 3 || ch == 7) {
			curs_set(0);
			return false;
		}
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n)
			buf[--n] = 0;
		else if (ch >= 0x20 && ch < 0x7f && n + 1 < len) {
			buf[n++] = ch;
			buf[n] = 0;
		}
	}
	curs_set(0);
	return true;
}

static void filter_menu(struct view_ui *ui, struct view *v)
{
	timeout(-1);
	for (;;) {
		view_draw(ui, v);
		view_draw_filter(ui, v);
		int ch = getch();
		if (ch >= 'a' && ch < 'a' + TRACE_CLASS_NR) {
			uint64_t m = view_class_mask(ch - 'a');
			view_set_filter(v, (v->show & m) == m ? v->show & ~m : v->show | m);
		} else if (ch >= '0' && ch <= '9') {
			view_set_vcpu(v, v->vcpu == ch - '0' ? -1 : ch - '0');
		} else if (ch == 'q') { /* q N: only queue N's events; q N again: every queue */
			ch = getch();
			if (ch >= '0' && ch <= '9')
				view_set_queue(v, v->queue == ch - '0' ? -1 : ch - '0');
		} else if (ch == '*') {
			v->vcpu = -1;
			v->queue = -1;
			view_set_filter(v, TRACE_MASK_ALL);
		} else if (ch != KEY_RESIZE) {
			break;
		}
	}
	snprintf(v->msg, sizeof(v->msg), "%zu of %zu events shown", v->nrows, v->tf->nrec);
}

/* What is under a popup, redrawn on resize. */
typedef void (*redraw_fn)(const struct view_ui *ui, void *opaque);

static void help(struct view_ui *ui, redraw_fn redraw, void *opaque)
{
	int ch;
	timeout(-1);
	do {
		redraw(ui, opaque);
		view_draw_help(ui);
	} while ((ch = getch()) == KEY_RESIZE);
}

/* The keys every screen has: moving among nrows rows (*delta), z, ?, Ctrl-L. False: not one. */
static bool common_key(struct view_ui *ui, int ch, size_t nrows, long *delta, redraw_fn redraw,
		       void *opaque)
{
	long page = LINES > 6 ? LINES / 2 - 2 : 1;
	*delta = 0;
	switch (ch) {
	case KEY_UP:
	case 'k':
	case KEY_DOWN:
	case 'j':
		*delta = ch == KEY_UP || ch == 'k' ? -1 : 1;
		return true;
	case KEY_PPAGE:
	case KEY_NPAGE:
		*delta = ch == KEY_PPAGE ? -page : page;
		return true;
	case KEY_HOME:
	case '<':
	case KEY_END:
	case '>':
		*delta = ch == KEY_HOME || ch == '<' ? -(long)nrows : (long)nrows;
		return true;
	case 'z':
		ui->zoom = !ui->zoom;
		return true;
	case '?':
	case 'h':
		help(ui, redraw, opaque);
		return true;
	case 12: /* Ctrl-L */
		clearok(curscr, TRUE);
		return true;
	default:
		return false;
	}
}

static void redraw_view(const struct view_ui *ui, void *v)
{
	view_draw(ui, v);
}

/* One key the replay and the live viewer share; false for q (or end of input). */
static bool key(struct view_ui *ui, struct view *v, int ch, bool live)
{
	char buf[128];
	long delta;

	if (common_key(ui, ch, v->nrows, &delta, redraw_view, v)) {
		view_move(v, delta);
		return true;
	}
	switch (ch) {
	case 'q':
	case 'Q':
	case 3: /* Ctrl-C in raw mode */
		return false;
	case 'n':
	case 'p':
		if (!live)
			view_step(v, ch == 'n' ? 1 : -1);
		break;
	case '/':
		if (prompt(ui, "/", buf, sizeof(buf)))
			view_search(v, buf, 1);
		break;
	case 'g':
		if (prompt(ui, "go to (event number, or a time like 1.5s): ", buf, sizeof(buf)) &&
		    buf[0])
			view_goto(v, buf);
		break;
	case 'f':
		filter_menu(ui, v);
		break;
	case '[':
	case ']':
		view_pane_queue_next(v, ch == ']' ? 1 : -1);
		break;
	case ' ':
		if (!live)
			view_play(v, !v->playing, view_now_ns());
		break;
	case '+':
	case '=':
	case '-':
		if (!live)
			view_speed(v, ch == '-' ? -1 : 1, view_now_ns());
		break;
	default:
		break;
	}
	return true;
}

/* The terminal hung up (its window closed, ssh dropped): getch() only ever says ERR now. */
static bool tty_gone(void)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

int view_loop(struct view_ui *ui, struct view *v, const struct view_source *src)
{
	for (;;) {
		if (src && !src->poll(src->opaque, v, ui))
			return 0;
		uint64_t wait = v->playing ? view_play_tick(v, view_now_ns()) : 0;
		view_draw(ui, v);
		int ms = v->playing ? (int)(wait / 1000000) + 1 : src ? 50 : -1;
		timeout(ms > 100 ? 100 : ms);
		int ch = getch();
		if (ch == ERR && !v->playing && !src)
			return 0; /* end of input */
		if (ch == ERR && src && tty_gone()) {
			src->key(src->opaque, v, ui, 'q'); /* as if the user quit: the VM stops */
			return 0;
		}
		if (ch != ERR && ch != KEY_RESIZE)
			v->msg[0] = 0; /* a message lasts until the next key */
		if (src && ch != ERR && src->key(src->opaque, v, ui, ch))
			continue;
		if (!key(ui, v, ch, src != NULL))
			return 0;
	}
}

/* --- `view A --compare B`: the aligned pair, its own keys, the same terminal. --- */
static void redraw_compare(const struct view_ui *ui, void *c)
{
	view_draw_compare(ui, c);
}

static bool cmp_key(struct view_ui *ui, struct view_cmp *c, int ch)
{
	long delta;

	if (common_key(ui, ch, c->nrows, &delta, redraw_compare, c)) {
		view_cmp_move(c, delta);
		return true;
	}
	switch (ch) {
	case 'q':
	case 'Q':
	case 3:
		return false;
	case 'n':
	case 'p':
		view_cmp_step(c, ch == 'n' ? 1 : -1);
		break;
	case 'd':
	case 'D':
	case 'm':
	case 'M':
		view_cmp_diff(c, ch == 'd' || ch == 'm' ? 1 : -1, ch == 'm' || ch == 'M');
		break;
	case 's':
	case 'S':
		view_cmp_part(c, ch == 's' ? 1 : -1);
		break;
	default:
		break;
	}
	return true;
}

static int compare_main(const char *a, const char *b)
{
	struct view_cmp c;
	struct view_ui ui = {.title = a, .compare = true};
	char err[512];
	int r = view_cmp_load(&c, a, b, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "kvmscope view: %s\n", err);
		return r == -ENOMEM ? 1 : 2;
	}
	for (int k = 0; k < 2 && !c.msg[0]; k++)
		if (c.side[k].tf.warning[0])
			snprintf(c.msg, sizeof(c.msg), "warning: %s", c.side[k].tf.warning);
	int ret = view_term_open(&ui, "view", false) < 0 ? 2 : 0;
	if (!ret) {
		for (;;) {
			view_draw_compare(&ui, &c);
			timeout(-1);
			int ch = getch();
			if (ch == ERR)
				break; /* end of input */
			if (ch != KEY_RESIZE)
				c.msg[0] = 0;
			if (!cmp_key(&ui, &c, ch))
				break;
		}
		view_term_close();
	}
	view_cmp_free(&c);
	return ret;
}

/* A printf format: its one %s is the data directory (shipped_dir()); a literal percent is %%. */
static const char usage[] =
    "Usage: kvmscope view [FILE] [--events GLOB,...]\n"
    "       kvmscope view A --compare B\n"
    "Replay a trace beside the virtio init and IO paths, in the terminal (80x24 or more).\n"
    "Without FILE, the demo trace make install ships (%s/traces/demo.kvt).\n"
    "Panes: Timeline, Detail (with the guest, kvmscope and QEMU 7.2 functions), Path (virtio\n"
    "1.2 3.1.1 init steps, or notify -> pop -> backend -> complete -> used -> interrupt) and\n"
    "Queue (the virtqueue as of the selected event, one queue at a time: [ and ] pick it;\n"
    "the chain as the device walked it, and the ring entries around it). Press ? inside for\n"
    "the keys.\n"
    "FILE is a kvmscope trace, or a QEMU log (imported on the fly, as `kvmscope import qemu`).\n"
    "\n"
    "  --events GLOB,...  show only these events or classes (as `trace dump --events`)\n"
    "  --compare B        A and B side by side, aligned as `kvmscope diff A B` aligns them\n"
    "                     (each a kvmscope trace or a QEMU log; docs/compare.md): PCI\n"
    "                     enumeration, the handshake and the first requests' IO\n"
    "\n"
    "Exit status: 0; 2 for a bad file or option, or without a terminal.\n";

int view_cmd_main(int argc, char **argv)
{
	const char *path = NULL, *events = NULL, *other = NULL;
	char demo[4096];
	struct trace_file tf;
	struct view v;
	struct view_ui ui = {0};
	char err[512];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf(usage, shipped_dir(SHIPPED_DATA));
			return 0;
		} else if (!strncmp(argv[i], "--events", 8) && (argv[i][8] == '=' || !argv[i][8])) {
			events = argv[i][8] ? argv[i] + 9 : i + 1 < argc ? argv[++i] : NULL;
			if (!events) {
				fprintf(stderr, "kvmscope view: --events needs a value\n");
				return 2;
			}
		} else if (!strncmp(argv[i], "--compare", 9) &&
			   (argv[i][9] == '=' || !argv[i][9])) {
			other = argv[i][9] ? argv[i] + 10 : i + 1 < argc ? argv[++i] : NULL;
			if (!other) {
				fprintf(stderr, "kvmscope view: --compare needs a file\n");
				return 2;
			}
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "kvmscope view: unexpected '%s'\n", argv[i]);
			fprintf(stderr, usage, shipped_dir(SHIPPED_DATA));
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path && shipped_path(SHIPPED_DATA, "traces/demo.kvt", demo, sizeof(demo)) < 0) {
		fprintf(stderr, "kvmscope view: which trace file? (no demo trace at %s)\n", demo);
		fprintf(stderr, usage, shipped_dir(SHIPPED_DATA));
		return 2;
	}
	path = path ? path : demo;
	if (other && events) {
		fprintf(stderr, "kvmscope view: --events does not apply to --compare\n");
		return 2;
	}
	if (other)
		return compare_main(path, other);
	uint64_t show = TRACE_MASK_ALL;
	if (events && trace_events_mask(events, TRACE_MASK_ALL, &show, err, sizeof(err))) {
		fprintf(stderr, "kvmscope view: --events %s: %s\n", events, err);
		return 2;
	}
	size_t plen = strlen(path); /* a .kvt is read as a trace, so a bad one says why */
	bool kvt = plen > 4 && !strcmp(path + plen - 4, ".kvt");
	if ((kvt ? trace_file_load(&tf, path, err, sizeof(err))
		 : trace_load_any(&tf, path, "kvmscope view", err, sizeof(err))) < 0) {
		fprintf(stderr, "kvmscope view: %s\n", err);
		return 2;
	}
	if (view_init(&v, &tf) < 0 || view_set_filter(&v, show) < 0) {
		fprintf(stderr, "kvmscope view: %s: out of memory\n", path);
		trace_file_free(&tf);
		return 1;
	}
	ui.title = path;
	if (tf.warning[0])
		snprintf(v.msg, sizeof(v.msg), "warning: %s", tf.warning);
	int ret = view_term_open(&ui, "view", false) < 0 ? 2 : 0;
	if (!ret) {
		view_loop(&ui, &v, NULL);
		view_term_close();
	}
	view_free(&v);
	trace_file_free(&tf);
	return ret;
}
