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
					     [VA_RESULT] = "result"};

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

const char *view_when(const struct trace_file *tf, const struct trace_rec *r, char *buf, size_t len)
{
	char t[32], tid[32];
	const char *dev = view_dev_name(tf, r->dev);
	snprintf(buf, len, "+%s%03llu s %s%s%s", view_time_str(view_time(tf, r), t, sizeof(t)),
		 (unsigned long long)(view_time(tf, r) % 1000),
		 trace_tid_name(r->tid, tid, sizeof(tid)), dev ? " " : "", dev ? dev : "");
	return buf;
}

void view_detail(const struct trace_file *tf, size_t rec, view_line_fn emit, void *opaque)
{
	const struct trace_rec *r = &tf->rec[rec];
	const struct trace_event_info *e = &trace_events[r->ev];
	const struct qemu_func *q = qemu_func_for(r->ev);
	const struct trace_site_ent *site =
	    r->site < tf->names.nsite ? &tf->names.site[r->site] : &tf->names.site[0];
	const struct trace_stack_ent *stack =
	    r->stack < tf->names.nstack ? &tf->names.stack[r->stack] : &tf->names.stack[0];
	char sym[256];

	/* first what a newcomer needs: what (when is in the pane's title), the three functions */
	view_say(emit, opaque, VIEW_HEAD, "#%zu %s [%s]", rec, e->name, trace_class_names[e->cls]);
	detail_args(tf, r, emit, opaque);
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
	if (r->site)
		view_say(emit, opaque, VIEW_KEY, "kvmscope %s()", trace_file_str(tf, site->func));
	view_say(emit, opaque, VIEW_KEY, "QEMU 7.2 %s",
		 q && q->func ? q->func : "(no counterpart)");

	/* then the rest, for a taller pane or the zoomed one */
	view_say(emit, opaque, VIEW_DIM, "%s", e->doc);
	for (unsigned i = 0; i < stack->n; i++)
		view_say(emit, opaque, VIEW_TEXT, "  guest <- %s",
			 trace_symtab_format(&tf->syms, stack->pc[i], sym, sizeof(sym)));
	if (r->site)
		view_say(emit, opaque, VIEW_TEXT, "  kvmscope in %s:%u",
			 trace_file_str(tf, site->file), site->line);
	if (q && q->from)
		view_say(emit, opaque, VIEW_TEXT, "  QEMU from %s", q->from);
	if (q && q->file)
		view_say(emit, opaque, VIEW_TEXT, "  QEMU in %s", q->file);
	if (q && q->note)
		view_say(emit, opaque, VIEW_DIM, "  %s", q->note);
}
