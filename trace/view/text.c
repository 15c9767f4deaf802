/* trace/view/text.c - a record read for the viewer: its arguments by meaning, whatever their
 * slot; the timeline's one-line summary and the detail pane's lines (decoded and raw arguments,
 * guest symbol and stack, the kvmscope function that emitted it, the QEMU function that does the
 * same job). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "trace/view/view.h"

static const char *const arg_names[VA_NR] = {[VA_QUEUE] = "queue",
					     [VA_HEAD] = "head",
					     [VA_SIZE] = "size",
					     [VA_ADDR] = "addr",
					     [VA_PFN] = "pfn",
					     [VA_RW] = "rw",
					     [VA_OLD] = "old",
					     [VA_NEW] = "new",
					     [VA_REG] = "reg",
					     [VA_ENABLE] = "enable",
					     [VA_VECTOR] = "vector",
					     [VA_AVAIL_IDX] = "avail_idx",
					     [VA_USED_IDX] = "used_idx",
					     [VA_TYPE] = "type",
					     [VA_SECTOR] = "sector",
					     [VA_SEGS] = "segs",
					     [VA_BYTES] = "bytes",
					     [VA_STATUS] = "status",
					     [VA_NS] = "ns",
					     [VA_LEN] = "len",
					     [VA_BACKEND] = "backend",
					     [VA_VIA] = "via",
					     [VA_KIND] = "kind",
					     [VA_RESULT] = "result",
					     [VA_ID] = "id",
					     [VA_SLOT] = "slot",
					     [VA_WRAP] = "wrap",
					     [VA_DESCS] = "descs",
					     [VA_FEATURES] = "features",
					     [VA_AVAIL] = "avail"};

/* arg_index[ev][a]: the position of argument a in event ev's table, -1 when it has none. */
static int8_t arg_index[TRACE_EV_NR][VA_NR];
static pthread_once_t arg_once = PTHREAD_ONCE_INIT;

static void arg_index_init(void)
{
	for (unsigned ev = 0; ev < TRACE_EV_NR; ev++)
		for (unsigned a = 0; a < VA_NR; a++) {
			arg_index[ev][a] = -1;
			for (unsigned i = 0; trace_events[ev].args[i].name; i++)
				if (!strcmp(trace_events[ev].args[i].name, arg_names[a]))
					arg_index[ev][a] = i;
		}
}

bool view_has(const struct trace_rec *r, enum view_arg a)
{
	pthread_once(&arg_once, arg_index_init);
	return r->ev < TRACE_EV_NR && arg_index[r->ev][a] >= 0;
}

uint64_t view_arg(const struct trace_rec *r, enum view_arg a, uint64_t def)
{
	if (!view_has(r, a))
		return def;
	return trace_arg_value(&trace_events[r->ev], arg_index[r->ev][a], r->a);
}

bool view_arg_known(const struct trace_file *tf, const struct trace_rec *r, enum view_arg a)
{
	return view_has(r, a) && !trace_arg_unknown(tf, r, arg_index[r->ev][a]);
}

const char *view_arg_str(const struct trace_file *tf, const struct trace_rec *r, enum view_arg a,
			 char *buf, size_t len)
{
	if (!view_has(r, a))
		snprintf(buf, len, "-");
	else if (!view_arg_known(tf, r, a))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%llu", (unsigned long long)view_arg(r, a, 0));
	return buf;
}

uint64_t view_time(const struct trace_file *tf, const struct trace_rec *r)
{
	return r->ts > tf->hdr.start_ns ? r->ts - tf->hdr.start_ns : 0;
}

const char *view_time_str(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%llu.%06llu", (unsigned long long)(ns / 1000000000),
		 (unsigned long long)(ns % 1000000000 / 1000));
	return buf;
}

const char *view_dev_name(const struct trace_file *tf, uint16_t dev)
{
	if (!dev || dev >= tf->names.ndev)
		return NULL;
	return trace_file_str(tf, tf->names.dev[dev].name);
}

const char *view_func_name(const struct trace_file *tf, const struct trace_rec *r)
{
	if (!r->site || r->site >= tf->names.nsite)
		return "";
	return trace_file_str(tf, tf->names.site[r->site].func);
}

/* snprintf at the end of what buf holds, never past len. */
static void add(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strlen(buf);
	va_list ap;
	if (at + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

const char *view_summary(const struct trace_file *tf, const struct trace_rec *r, char *buf,
			 size_t len)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	char val[256];

	snprintf(buf, len, "%s", e->name);
	for (unsigned i = 0; e->args[i].name; i++) {
		trace_decode_arg(tf, r, i, val, sizeof(val));
		add(buf, len, e->args[i].fmt == TRACE_FMT_STR ? " %s=\"%s\"" : " %s=%s",
		    e->args[i].name, val);
	}
	return buf;
}

/* Status bits in short, all of them, when a column is too narrow for the text (80 columns): the
 * detail has them in full. DRIVER_OK before DRIVER. */
const char *view_status_short(const char *text, int w, char *buf, size_t len)
{
	static const char *const words[][2] = {{"ACKNOWLEDGE", "ACK"},
					       {"FEATURES_OK", "FEAT_OK"},
					       {"DRIVER_OK", "DRV_OK"},
					       {"DRIVER", "DRV"}};
	snprintf(buf, len, "%s", text);
	for (unsigned k = 0; k < 4 && (int)strlen(text) > w; k++) {
		char *at;
		size_t from = strlen(words[k][0]), to = strlen(words[k][1]);
		while ((at = strstr(buf, words[k][0]))) {
			memcpy(at, words[k][1], to);
			memmove(at + to, at + from, strlen(at + from) + 1);
		}
	}
	return buf;
}

const char *view_summary_fit(const struct trace_file *tf, const struct trace_rec *r, int width,
			     char *buf, size_t len)
{
	if (r->ev != TRACE_EV_VIRTIO_STATUS)
		return view_summary(tf, r, buf, len);
	char old[128], new[128], change[260];
	const struct trace_event_info *e = &trace_events[r->ev];
	trace_decode_arg(tf, r, 0, old, sizeof(old));
	trace_decode_arg(tf, r, 1, new, sizeof(new));
	char full[260];
	int room = width - (int)strlen(e->name) - 1;
	snprintf(full, sizeof(full), "%s->%s", old, new);
	view_status_short(full, room, change, sizeof(change));
	int n = strlen(change), arrow = strstr(change, "->") - change;
	if (room < 8 || n <= room)
		snprintf(buf, len, "%s %s", e->name, change);
	else if (n - arrow <= room - 2) /* the end of the old value, the whole new one */
		snprintf(buf, len, "%s ..%s", e->name, change + n - (room - 2));
	else { /* the end of the new value, whole bits: the ones the driver just added */
		const char *tail = change + n - (room - 4), *bar = strchr(tail, '|');
		snprintf(buf, len, "%s ..->%s", e->name, bar && bar[1] ? bar + 1 : tail);
	}
	return buf;
}

void view_say(view_line_fn emit, void *opaque, int attr, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(opaque, attr, line);
}

static void detail_args(const struct trace_file *tf, const struct trace_rec *r, view_line_fn emit,
			void *opaque)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	char val[512];
	int w = 1;

	for (unsigned i = 0; e->args[i].name; i++) /* names aligned, no wider than they need */
		w = (int)strlen(e->args[i].name) > w ? (int)strlen(e->args[i].name) : w;
	for (unsigned i = 0; e->args[i].name; i++) {
		uint64_t raw = trace_arg_value(e, i, r->a);
		trace_decode_arg(tf, r, i, val, sizeof(val));
		if (e->args[i].fmt == TRACE_FMT_STR)
			view_say(emit, opaque, VIEW_TEXT, " %-*s \"%s\"", w, e->args[i].name, val);
		else if (trace_fmt_is_number(e->args[i].fmt))
			view_say(emit, opaque, VIEW_TEXT, " %-*s %s", w, e->args[i].name, val);
		else
			view_say(emit, opaque, VIEW_TEXT, " %-*s %s (0x%llx)", w, e->args[i].name,
				 val, (unsigned long long)raw);
	}
}

/* A status 0 in an imported log before the guest touched the device: QEMU resets every device
 * when the machine starts (qemu_system_reset), which its log shows as virtio_set_status 0. */
static bool machine_reset(const struct trace_file *tf, size_t rec)
{
	const struct trace_rec *r = &tf->rec[rec];
	if (r->ev != TRACE_EV_VIRTIO_STATUS || view_arg(r, VA_NEW, 1) || view_arg(r, VA_OLD, 1))
		return false;
	for (size_t i = 0; i < rec; i++)
		if (tf->rec[i].dev == r->dev &&
		    (TRACE_TID_KIND(tf->rec[i].tid) == TRACE_THREAD_VCPU ||
		     trace_events[tf->rec[i].ev].cls == TRACE_CLASS_PCI))
			return false;
	return true;
}

const char *view_when(const struct trace_file *tf, const struct trace_rec *r, char *buf, size_t len)
{
	char t[32], tid[32];
	const char *dev = view_dev_name(tf, r->dev);
	snprintf(buf, len, "+%s%03llu s %s%s%s", view_time_str(view_time(tf, r), t, sizeof(t)),
		 (unsigned long long)(view_time(tf, r) % 1000),
		 trace_tid_name(r->tid, tid, sizeof(tid)), dev ? " " : "", dev ? dev : "");
	return buf;
}

void view_detail(const struct trace_file *tf, size_t rec, unsigned step, view_line_fn emit,
		 void *opaque)
{
	const struct trace_rec *r = &tf->rec[rec];
	const struct trace_event_info *e = &trace_events[r->ev];
	const struct qemu_func *q = qemu_func_for(r->ev);
	const struct trace_site_ent *site =
	    r->site < tf->names.nsite ? &tf->names.site[r->site] : &tf->names.site[0];
	const struct trace_stack_ent *stack =
	    r->stack < tf->names.nstack ? &tf->names.stack[r->stack] : &tf->names.stack[0];
	const struct trace_origin *origin = trace_file_origin(tf, r);
	char sym[256], src[160];

	/* first what a newcomer needs: what (when is in the pane's title), the three functions */
	view_say(emit, opaque, VIEW_HEAD, "#%zu %s [%s]", rec, e->name, trace_class_names[e->cls]);
	detail_args(tf, r, emit, opaque);
	if (origin && machine_reset(tf, rec))
		view_say(emit, opaque, VIEW_KEY,
			 "QEMU's machine-start reset: no guest involved yet");
	if (r->rip) { /* where, and the two callers that usually say why */
		char line[512];
		snprintf(line, sizeof(line), "guest    %s",
			 trace_symtab_format(&tf->syms, r->rip, sym, sizeof(sym)));
		for (unsigned i = 0; i < stack->n && i < 2; i++) {
			long k = trace_symtab_find(&tf->syms, stack->pc[i]);
			if (k >= 0)
				add(line, sizeof(line), " <- %s", trace_symtab_name(&tf->syms, k));
		}
		emit(opaque, VIEW_KEY, line);
	}
	if (origin) /* imported: the source's own event and where it is, not a kvmscope function */
		view_say(emit, opaque, VIEW_KEY, "%s: %s",
			 trace_rec_source(tf, r, src, sizeof(src)), trace_file_str(tf, site->func));
	else if (r->site)
		view_say(emit, opaque, VIEW_KEY, "kvmscope %s()", trace_file_str(tf, site->func));
	view_say(emit, opaque, VIEW_KEY, "QEMU 7.2 %s",
		 q && q->func ? q->func : "(no counterpart)");
	if (step < TRACE_STEP_NR) /* where the student is in the spec */
		view_say(emit, opaque, VIEW_KEY, "%s", trace_step_words(step, sym, sizeof(sym)));

	/* then the rest, for a taller pane or the zoomed one */
	view_say(emit, opaque, VIEW_DIM, "%s", e->doc);
	for (unsigned i = 0; i < stack->n; i++)
		view_say(emit, opaque, VIEW_TEXT, "  guest <- %s",
			 trace_symtab_format(&tf->syms, stack->pc[i], sym, sizeof(sym)));
	if (origin && origin->raw)
		view_say(emit, opaque, VIEW_TEXT, "  log: %s", trace_file_str(tf, origin->raw));
	else if (r->site)
		view_say(emit, opaque, VIEW_TEXT, "  kvmscope in %s:%u",
			 trace_file_str(tf, site->file), site->line);
	if (q && q->from)
		view_say(emit, opaque, VIEW_TEXT, "  QEMU from %s", q->from);
	if (q && q->file)
		view_say(emit, opaque, VIEW_TEXT, "  QEMU in %s", q->file);
	if (q && q->note)
		view_say(emit, opaque, VIEW_DIM, "  %s", q->note);
}
