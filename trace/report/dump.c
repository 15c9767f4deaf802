/* trace/report/dump.c - `kvmscope trace dump FILE [--format text|json|chrome] [--events GLOB,...]`.
 * text reads like QEMU's log trace backend (TID@SECONDS.MICROS:event args), so the two sit side
 * by side; json is one object a line; chrome is Trace Event JSON that ui.perfetto.dev opens. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/report/report.h"

enum format { TEXT, JSON, CHROME };

struct dump {
	const struct trace_file *tf;
	FILE *out;
	enum format format;
	uint64_t mask;
	struct trace_req_match req;
	struct trace_tags tags; /* each record's init or IO step (trace/steps.c) */
	bool first;
	bool slices; /* both ends of a request are shown: draw it as a slice */
};

/* Writes s as the inside of a JSON string (quote true) or a C-like quoted word. */
static void put_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const char *dev_name(const struct trace_file *tf, uint16_t dev)
{
	return dev && dev < tf->names.ndev ? trace_file_str(tf, tf->names.dev[dev].name) : NULL;
}

static const char *func_name(const struct trace_file *tf, uint16_t site)
{
	return trace_file_str(tf, tf->names.site[site].func);
}

static void text_guest(struct dump *d, const struct trace_rec *r)
{
	const struct trace_symtab *syms = &d->tf->syms;
	char buf[256];
	if (!r->rip)
		return;
	fprintf(d->out, " guest=%s", trace_symtab_format(syms, r->rip, buf, sizeof(buf)));
	const struct trace_stack_ent *s = &d->tf->names.stack[r->stack];
	for (unsigned i = 0; i < s->n; i++) {
		long k = trace_symtab_find(syms, s->pc[i]);
		if (k >= 0)
			fprintf(d->out, " <- %s", trace_symtab_name(syms, k));
		else
			fprintf(d->out, " <- 0x%llx", (unsigned long long)s->pc[i]);
	}
}

/* The record's step, or TRACE_STEP_NONE. */
static unsigned step_of(const struct dump *d, const struct trace_rec *r)
{
	size_t i = r - d->tf->rec;
	return i < d->tags.n ? d->tags.step[i] : TRACE_STEP_NONE;
}

/* The chain a pop carries, as the device walked it: " chain=[desc[0] 0x... len=16 NEXT, ...]",
 * with the count of those the trace did not keep (docs/trace-format.md, DESCS). */
static void text_descs(struct dump *d, const struct trace_rec *r)
{
	const struct trace_descs_ent *e = trace_file_descs(d->tf, r);
	char buf[160];

	if (!e)
		return;
	fputs(" chain=[", d->out);
	for (unsigned k = 0; k < e->n; k++)
		fprintf(d->out, "%s%s", k ? ", " : "",
			trace_decode_desc(r, e, &d->tf->desc[e->first], k, buf, sizeof(buf)));
	if (e->walked > e->n)
		fprintf(d->out, "%s+%u not recorded", e->n ? ", " : "", e->walked - e->n);
	fputc(']', d->out);
}

/* "descs":{"walked":N,"recorded":[{"idx":..,"addr":..,"len":..,"flags":..,"text":".."}]} */
static void json_descs(struct dump *d, const struct trace_rec *r)
{
	const struct trace_descs_ent *e = trace_file_descs(d->tf, r);
	char buf[160];

	if (!e)
		return;
	fprintf(d->out, ",\"descs\":{\"walked\":%u,\"not_recorded\":%u,\"recorded\":[", e->walked,
		e->walked - e->n);
	for (unsigned k = 0; k < e->n; k++) {
		const struct trace_desc *x = &d->tf->desc[e->first + k];
		fprintf(d->out, "%s{\"idx\":%u,\"addr\":%llu,\"len\":%u,\"flags\":%u,\"text\":",
			k ? "," : "", x->idx, (unsigned long long)x->addr, x->len, x->flags);
		put_escaped(d->out,
			    trace_decode_desc(r, e, &d->tf->desc[e->first], k, buf, sizeof(buf)));
		fputc('}', d->out);
	}
	fputs("]}", d->out);
}

static void text_record(struct dump *d, const struct trace_rec *r)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	uint64_t t = r->ts - d->tf->hdr.start_ns;
	char tid[32], buf[512];
	const char *dev = dev_name(d->tf, r->dev);

	fprintf(d->out, "%s@%llu.%06llu:%s", trace_tid_name(r->tid, tid, sizeof(tid)),
		(unsigned long long)(t / 1000000000), (unsigned long long)(t % 1000000000 / 1000),
		e->name);
	if (dev)
		fprintf(d->out, " dev=%s", dev);
	for (unsigned i = 0; e->args[i].name; i++) {
		fprintf(d->out, " %s=", e->args[i].name);
		trace_decode_arg(d->tf, r, i, buf, sizeof(buf));
		if (e->args[i].fmt == TRACE_FMT_STR)
			put_escaped(d->out, buf);
		else
			fputs(buf, d->out);
	}
	text_descs(d, r);
	char src[160];
	if (step_of(d, r) != TRACE_STEP_NONE) /* where it is in the spec: {step 5 of §3.1.1: ...} */
		fprintf(d->out, " {%s}", trace_step_words(step_of(d, r), src, sizeof(src)));
	if (trace_rec_source(d->tf, r, src, sizeof(src)))
		fprintf(d->out, " [%s, %s]", func_name(d->tf, r->site), src);
	else if (r->site)
		fprintf(d->out, " [%s]", func_name(d->tf, r->site));
	text_guest(d, r);
	fputc('\n', d->out);
}

/* "args":{raw numbers},"decoded":{words} (words only where the decoder has some). */
static void json_args(struct dump *d, const struct trace_rec *r, bool decoded_only)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	char buf[512];
	if (!decoded_only) {
		fputs("\"args\":{", d->out);
		for (unsigned i = 0; e->args[i].name; i++) /* null: the source did not record it */
			if (trace_arg_unknown(d->tf, r, i))
				fprintf(d->out, "%s\"%s\":null", i ? "," : "", e->args[i].name);
			else
				fprintf(d->out, "%s\"%s\":%llu", i ? "," : "", e->args[i].name,
					(unsigned long long)trace_arg_value(e, i, r->a));
		fputs("},\"decoded\":{", d->out);
	}
	bool first = true;
	for (unsigned i = 0; e->args[i].name; i++) {
		if (!decoded_only && trace_fmt_is_number(e->args[i].fmt) &&
		    !trace_arg_unknown(d->tf, r, i))
			continue;
		fprintf(d->out, "%s\"%s\":", first ? "" : ",", e->args[i].name);
		put_escaped(d->out, trace_decode_arg(d->tf, r, i, buf, sizeof(buf)));
		first = false;
	}
	if (!decoded_only)
		fputc('}', d->out);
}

static void json_common(struct dump *d, const struct trace_rec *r)
{
	char buf[256];
	const char *dev = dev_name(d->tf, r->dev);
	const struct trace_site_ent *site = &d->tf->names.site[r->site];
	const struct trace_origin *o = trace_file_origin(d->tf, r);

	if (dev) {
		fputs(",\"dev\":", d->out);
		put_escaped(d->out, dev);
	}
	if (o) { /* imported: the source's event, log and line, and the line as it was */
		fputs(",\"func\":", d->out);
		put_escaped(d->out, trace_file_str(d->tf, site->func));
		fputs(",\"source\":{\"log\":", d->out);
		put_escaped(d->out, trace_file_str(d->tf, site->file));
		fprintf(d->out, ",\"line\":%u,\"text\":", o->line);
		put_escaped(d->out, trace_file_str(d->tf, o->raw));
		fputc('}', d->out);
	} else if (r->site) {
		fputs(",\"func\":", d->out);
		put_escaped(d->out, trace_file_str(d->tf, site->func));
		snprintf(buf, sizeof(buf), "%s:%u", trace_file_str(d->tf, site->file), site->line);
		fputs(",\"site\":", d->out);
		put_escaped(d->out, buf);
	}
	if (r->rip) {
		fprintf(d->out,
			",\"guest\":{\"rip\":\"0x%llx\",\"sym\":", (unsigned long long)r->rip);
		put_escaped(d->out, trace_symtab_format(&d->tf->syms, r->rip, buf, sizeof(buf)));
		fputs(",\"stack\":[", d->out);
		const struct trace_stack_ent *s = &d->tf->names.stack[r->stack];
		for (unsigned i = 0; i < s->n; i++) {
			fputs(i ? "," : "", d->out);
			put_escaped(d->out,
				    trace_symtab_format(&d->tf->syms, s->pc[i], buf, sizeof(buf)));
		}
		fputs("]}", d->out);
	}
}

static void json_record(struct dump *d, const struct trace_rec *r)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	char tid[32];
	fprintf(d->out, "{\"ts\":%llu,\"thread\":\"%s\",\"event\":\"%s\",\"class\":\"%s\",",
		(unsigned long long)(r->ts - d->tf->hdr.start_ns),
		trace_tid_name(r->tid, tid, sizeof(tid)), e->name, trace_class_names[e->cls]);
	json_args(d, r, false);
	json_common(d, r);
	json_descs(d, r);
	unsigned s = step_of(d, r);
	if (s != TRACE_STEP_NONE) {
		fprintf(d->out, ",\"step\":{\"path\":\"%s\",\"num\":\"%s\",\"name\":",
			trace_step_path(s) == TRACE_PATH_INIT ? "init" : "io", trace_steps[s].num);
		put_escaped(d->out, trace_steps[s].name);
		fputs(",\"spec\":", d->out);
		put_escaped(d->out, trace_steps[s].spec);
		fputc('}', d->out);
	}
	fputs("}\n", d->out);
}

/* Chrome Trace Event format: instants on thread tracks, requests as async slices. */
static void chrome_event(struct dump *d, const struct trace_rec *r, const char *ph,
			 const char *name, unsigned long long id)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	uint64_t t = r->ts - d->tf->hdr.start_ns;
	fprintf(d->out, "%s\n{\"ph\":\"%s\",\"cat\":\"%s\",\"name\":", d->first ? "" : ",", ph,
		trace_class_names[e->cls]);
	put_escaped(d->out, name);
	fprintf(d->out, ",\"pid\":1,\"tid\":%u,\"ts\":%llu.%03llu", 100u + r->tid,
		(unsigned long long)(t / 1000), (unsigned long long)(t % 1000));
	if (*ph == 'i')
		fputs(",\"s\":\"t\"", d->out);
	if (*ph == 'b' || *ph == 'e')
		fprintf(d->out, ",\"id\":%llu", id);
	fputs(",\"args\":{", d->out);
	json_args(d, r, true);
	json_common(d, r);
	fputs("}}", d->out);
	d->first = false;
}

static void chrome_record(struct dump *d, size_t i)
{
	const struct trace_rec *r = &d->tf->rec[i];
	char name[160], type[64];

	if (r->ev == TRACE_EV_CHAIN_POP && d->slices) {
		trace_decode_arg(d->tf, r, 2, type, sizeof(type));
		snprintf(name, sizeof(name), "%s sector %llu", type,
			 (unsigned long long)trace_arg_value(&trace_events[r->ev], 3, r->a));
		trace_req_begin(&d->req, r, i);
		chrome_event(d, r, "b", name, i);
		return;
	}
	if (r->ev == TRACE_EV_REQ_COMPLETE && d->slices) {
		long pop = trace_req_end(&d->req, r);
		if (pop >= 0) {
			const struct trace_rec *p = &d->tf->rec[pop];
			trace_decode_arg(d->tf, p, 2, type, sizeof(type));
			snprintf(
			    name, sizeof(name), "%s sector %llu", type,
			    (unsigned long long)trace_arg_value(&trace_events[p->ev], 3, p->a));
			chrome_event(d, r, "e", name, pop);
			return;
		}
	}
	chrome_event(d, r, "i", trace_events[r->ev].name, 0);
}

static void chrome_begin(struct dump *d)
{
	bool seen[1 << 16] = {false};
	char tid[32];
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", d->out);
	fputs(
	    "\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"kvmscope\"}}",
	    d->out);
	for (size_t i = 0; i < d->tf->nrec; i++) {
		uint16_t t = d->tf->rec[i].tid;
		if (seen[t])
			continue;
		seen[t] = true;
		fprintf(d->out,
			",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%u,"
			"\"args\":{\"name\":\"%s\"}}",
			100u + t, trace_tid_name(t, tid, sizeof(tid)));
	}
	d->first = false;
	d->slices = (d->mask >> TRACE_EV_CHAIN_POP & 1) && (d->mask >> TRACE_EV_REQ_COMPLETE & 1);
}

static int usage(FILE *f, int status)
{
	fprintf(f,
		"usage: kvmscope trace dump FILE [--format text|json|chrome] [--events GLOB,...]\n"
		"Prints the records of a trace written by `kvmscope run --trace FILE`.\n"
		"  --format text    one line per record, like QEMU's log trace backend (default)\n"
		"  --format json    one JSON object per record\n"
		"  --format chrome  Trace Event JSON for ui.perfetto.dev or chrome://tracing\n"
		"  --events GLOBS   only these events or classes (see `kvmscope trace events`);\n"
		"                   a leading '-' removes: --events '*,-pci'\n");
	return status;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when argv[*i] is not --name. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t len = strlen(name);
	if (strncmp(argv[*i], name, len))
		return NULL;
	if (argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (argv[*i][len])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

int trace_cmd_dump(int argc, char **argv)
{
	struct dump d = {.out = stdout, .format = TEXT, .mask = TRACE_MASK_ALL, .first = true};
	const char *path = NULL, *v;
	char err[256];
	bool missing = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout, 0);
		if ((v = opt_value(argc, argv, &i, "--format", &missing))) {
			if (!strcmp(v, "text"))
				d.format = TEXT;
			else if (!strcmp(v, "json"))
				d.format = JSON;
			else if (!strcmp(v, "chrome"))
				d.format = CHROME;
			else {
				fprintf(stderr,
					"kvmscope trace dump: --format %s: expected text, "
					"json or chrome\n",
					v);
				return 2;
			}
		} else if ((v = opt_value(argc, argv, &i, "--events", &missing))) {
			if (trace_events_mask(v, TRACE_MASK_ALL, &d.mask, err, sizeof(err))) {
				fprintf(stderr, "kvmscope trace dump: --events %s: %s\n", v, err);
				return 2;
			}
		} else if (missing) {
			fprintf(stderr, "kvmscope trace dump: %s needs a value\n", argv[i]);
			return 2;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "kvmscope trace dump: unexpected argument '%s'\n", argv[i]);
			return usage(stderr, 2);
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return usage(stderr, 2);

	struct trace_file tf;
	int ret = trace_cli_load("dump", path, &tf);
	if (ret)
		return ret;
	d.tf = &tf;
	if (trace_tags_update(&d.tags, &tf) < 0) {
		fprintf(stderr, "kvmscope trace dump: %s: out of memory\n", path);
		trace_file_free(&tf);
		return 1;
	}
	if (d.format == CHROME)
		chrome_begin(&d);
	for (size_t i = 0; i < tf.nrec; i++) {
		if (!(d.mask >> tf.rec[i].ev & 1))
			continue;
		if (d.format == TEXT)
			text_record(&d, &tf.rec[i]);
		else if (d.format == JSON)
			json_record(&d, &tf.rec[i]);
		else
			chrome_record(&d, i);
	}
	if (d.format == CHROME)
		fputs("\n]}\n", d.out);
	trace_req_free(&d.req);
	trace_tags_free(&d.tags);
	trace_file_free(&tf);
	if (fflush(d.out) || ferror(d.out)) {
		fprintf(stderr, "kvmscope trace dump: writing the output: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
