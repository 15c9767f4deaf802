/* trace/events.c - the catalogue of trace/trace.h expanded into a table the decoder, the
 * filters and every reader use: event and class names, arguments by name, the catalogue printed. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "trace/internal.h"

#define TRACE_ARG_(n, f)                                                                           \
	{                                                                                          \
#n, TRACE_FMT_##f, 0                                                               \
	}
#define TRACE_PAIR_(n, f, n2, f2)                                                                  \
	{#n, TRACE_FMT_##f, 1},                                                                    \
	{                                                                                          \
#n2, TRACE_FMT_##f2, 2                                                             \
	}
#define TRACE_INFO_(id_, name_, cls_, doc_, ...)                                                   \
	[TRACE_EV_##id_] = {.name = name_,                                                         \
			    .id = #id_,                                                            \
			    .doc = doc_,                                                           \
			    .cls = TRACE_CLASS_##cls_,                                             \
			    .nslots = TRACE_NSLOTS_##id_,                                          \
			    .args = {__VA_ARGS__}},
const struct trace_event_info trace_events[TRACE_EV_NR] = {
    TRACE_EVENTS(TRACE_INFO_, TRACE_ARG_, TRACE_PAIR_)};

#define TRACE_CLASS_NAME_(id, name) [TRACE_CLASS_##id] = name,
const char *const trace_class_names[TRACE_CLASS_NR] = {TRACE_CLASSES(TRACE_CLASS_NAME_)};

#define TRACE_FMT_NAME_(f) [TRACE_FMT_##f] = #f,
const char *const trace_fmt_names[TRACE_FMT_NR] = {TRACE_FMTS(TRACE_FMT_NAME_)};

unsigned trace_event_nargs(const struct trace_event_info *e)
{
	unsigned n = 0;
	while (n < TRACE_MAX_ARGS && e->args[n].name)
		n++;
	return n;
}

uint64_t trace_arg_value(const struct trace_event_info *e, unsigned i, const uint64_t a[4])
{
	unsigned slot = 0;
	for (unsigned j = 0; j < i; j++)
		if (e->args[j].half != 1) /* a whole slot or a high half ends a slot */
			slot++;
	if (slot >= 4)
		return 0;
	switch (e->args[i].half) {
	case 1:
		return (uint32_t)a[slot];
	case 2:
		return a[slot] >> 32;
	default:
		return a[slot];
	}
}

static bool event_matches(unsigned ev, const char *pat)
{
	return fnmatch(pat, trace_events[ev].name, 0) == 0 ||
	       fnmatch(pat, trace_class_names[trace_events[ev].cls], 0) == 0;
}

int trace_events_mask(const char *globs, uint64_t base, uint64_t *mask, char *err, size_t errlen)
{
	char item[128];
	const char *p = globs;
	bool first = true;
	uint64_t m = 0;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, errlen, "bad event list '%s'", globs);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = 0;
		p += n + (p[n] == ',');
		bool remove = item[0] == '-';
		const char *pat = item + remove;
		if (first && remove)
			m = base;
		first = false;
		bool any = false;
		for (unsigned ev = 0; ev < TRACE_EV_NR; ev++) {
			if (!event_matches(ev, pat))
				continue;
			any = true;
			if (remove)
				m &= ~(1ULL << ev);
			else
				m |= 1ULL << ev;
		}
		if (!any) {
			snprintf(err, errlen, "no trace event or class matches '%s'", pat);
			return -1;
		}
	}
	if (first) {
		snprintf(err, errlen, "empty event list");
		return -1;
	}
	*mask = m;
	return 0;
}

/* --- Arguments by name. --- */
static int arg_index(const struct trace_event_info *e, const char *name)
{
	for (unsigned i = 0; e->args[i].name; i++)
		if (!strcmp(e->args[i].name, name))
			return i;
	return -1;
}

int trace_rec_set(struct trace_rec *r, const char *name, uint64_t v)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	int i = arg_index(e, name);
	if (i < 0)
		return -1;
	unsigned slot = 0;
	for (int j = 0; j < i; j++)
		if (e->args[j].half != 1) /* a whole slot or a high half ends a slot */
			slot++;
	if (e->args[i].half == 1)
		r->a[slot] = (r->a[slot] & ~0xffffffffULL) | (uint32_t)v;
	else if (e->args[i].half == 2)
		r->a[slot] = (uint32_t)r->a[slot] | (uint64_t)(uint32_t)v << 32;
	else
		r->a[slot] = v;
	return i;
}

uint64_t trace_rec_arg(const struct trace_rec *r, const char *name, uint64_t def)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	int i = arg_index(e, name);
	return i < 0 ? def : trace_arg_value(e, i, r->a);
}

const char *trace_tid_name(uint16_t tid, char *buf, size_t len)
{
	static const char *const kinds[] = {"main", "vcpu", "io", "writer"};
	unsigned kind = TRACE_TID_KIND(tid), index = TRACE_TID_INDEX(tid);

	if (kind >= sizeof(kinds) / sizeof(kinds[0]))
		snprintf(buf, len, "thread%u", (unsigned)tid);
	else if (kind == TRACE_THREAD_MAIN || kind == TRACE_THREAD_WRITER)
		snprintf(buf, len, index ? "%s%u" : "%s", kinds[kind], index);
	else
		snprintf(buf, len, "%s%u", kinds[kind], index);
	return buf;
}

static void print_args(FILE *f, const struct trace_event_info *e, const char *sep)
{
	for (unsigned i = 0; i < trace_event_nargs(e); i++)
		fprintf(f, "%s%s:%s", i ? sep : "", e->args[i].name,
			trace_fmt_names[e->args[i].fmt]);
}

void trace_events_print(FILE *f, bool markdown)
{
	if (markdown) {
		fprintf(f, "| event | class | arguments (name:decoder) | what happened |\n");
		fprintf(f, "| --- | --- | --- | --- |\n");
	}
	for (unsigned ev = 0; ev < TRACE_EV_NR; ev++) {
		const struct trace_event_info *e = &trace_events[ev];
		if (markdown) {
			fprintf(f, "| `%s` | %s | ", e->name, trace_class_names[e->cls]);
			print_args(f, e, ", ");
			fprintf(f, " | %s |\n", e->doc);
		} else {
			fprintf(f, "%-22s %-14s ", e->name, trace_class_names[e->cls]);
			print_args(f, e, " ");
			fprintf(f, "\n%37s%s\n", "", e->doc);
		}
	}
}
