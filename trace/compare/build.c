/* trace/compare/build.c - the in-memory trace file an importer fills: the same struct trace_file
 * the reader makes, so dump, stats, view and diff read it unchanged; saving it in the format of
 * docs/trace-format.md; and the exact line matcher the importers read their logs with. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/compare/compare.h"

#define RECS_PER_CHUNK	  4096
#define ENTRIES_PER_CHUNK 4096
#define MALFORMED_SHOWN	  20  /* lines reported one by one; the rest are counted */
#define MALFORMED_CHARS	  240 /* one report at most */
#define ARGS_QUOTED	  64  /* of a line's arguments */

int trace_build_init(struct trace_build *b, const char *path)
{
	memset(b, 0, sizeof(*b));
	struct trace_file *tf = &b->tf;
	tf->path = path;
	tf->ended = true;
	memcpy(tf->hdr.magic, TRACE_MAGIC, sizeof(tf->hdr.magic));
	tf->hdr.version = TRACE_VERSION;
	tf->hdr.header_size = sizeof(tf->hdr);
	tf->hdr.record_size = sizeof(struct trace_rec);
	tf->hdr.clock = TRACE_CLOCK_IMPORTED;
	/* entry 0 of every table: none */
	if (trace_names_add_str(&tf->names, "", 0) < 0 ||
	    trace_vec_grow(&tf->names.site, &tf->names.site_cap, 1, sizeof(*tf->names.site)) ||
	    trace_vec_grow(&tf->names.dev, &tf->names.dev_cap, 1, sizeof(*tf->names.dev)) ||
	    trace_vec_grow(&tf->names.stack, &tf->names.stack_cap, 1, sizeof(*tf->names.stack)))
		return -ENOMEM;
	tf->names.site[0] = (struct trace_site_ent){0};
	tf->names.dev[0] = (struct trace_dev_ent){0};
	tf->names.stack[0] = (struct trace_stack_ent){0};
	tf->names.nsite = tf->names.ndev = tf->names.nstack = 1;
	return 0;
}

/* Names (events, devices, functions) are few: a linear search over them is enough; one-off texts
 * (raw arguments) go through trace_build_text() and are never searched. */
uint32_t trace_build_str(struct trace_build *b, const char *s)
{
	struct trace_names *n = &b->tf.names;
	for (size_t i = 0; i < b->nnamed; i++)
		if (!strcmp(n->str[b->named[i]], s))
			return b->named[i];
	uint32_t id = trace_build_text(b, s, strlen(s));
	if (id && !trace_vec_grow(&b->named, &b->named_cap, b->nnamed + 1, sizeof(*b->named)))
		b->named[b->nnamed++] = id;
	return id;
}

uint32_t trace_build_text(struct trace_build *b, const char *s, size_t len)
{
	if (len > TRACE_STRING_MAX)
		len = TRACE_STRING_MAX;
	int id = trace_names_add_str(&b->tf.names, s, len);
	if (id < 0) {
		b->oom = true;
		return 0;
	}
	return id;
}

uint16_t trace_build_dev(struct trace_build *b, const char *name, uint32_t kind)
{
	struct trace_names *n = &b->tf.names;
	uint32_t sid = trace_build_str(b, name);
	if (n->ndev >= UINT16_MAX ||
	    trace_vec_grow(&n->dev, &n->dev_cap, n->ndev + 1, sizeof(*n->dev))) {
		b->oom = true;
		return 0;
	}
	n->dev[n->ndev] = (struct trace_dev_ent){sid, kind};
	return n->ndev++;
}

uint16_t trace_build_site(struct trace_build *b, const char *func, const char *file)
{
	struct trace_names *n = &b->tf.names;
	uint32_t f = trace_build_str(b, func), fl = trace_build_str(b, file);
	for (size_t i = 1; i < n->nsite; i++)
		if (n->site[i].func == f && n->site[i].file == fl)
			return i;
	if (n->nsite >= UINT16_MAX ||
	    trace_vec_grow(&n->site, &n->site_cap, n->nsite + 1, sizeof(*n->site))) {
		b->oom = true;
		return 0;
	}
	n->site[n->nsite] = (struct trace_site_ent){f, fl, 0};
	return n->nsite++;
}

void *trace_build_push(struct trace_build *b, void *arrp, size_t *n, size_t *cap, size_t size)
{
	if (trace_vec_grow(arrp, cap, *n + 1, size)) {
		b->oom = true;
		return NULL;
	}
	char *p = *(char **)arrp + (*n)++ * size;
	memset(p, 0, size);
	return p;
}

struct trace_rec *trace_build_rec(struct trace_build *b, uint64_t ts, uint16_t ev)
{
	struct trace_file *tf = &b->tf;
	if (trace_vec_grow(&tf->rec, &tf->rec_cap, tf->nrec + 1, sizeof(*tf->rec))) {
		b->oom = true;
		return NULL;
	}
	struct trace_rec *r = &tf->rec[tf->nrec];
	*r = (struct trace_rec){.ts = ts, .seq = tf->nrec, .ev = ev};
	tf->nrec++;
	return r;
}

void trace_build_info(struct trace_build *b, const char *key, const char *fmt, ...)
{
	struct trace_file *tf = &b->tf;
	char *val;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	val[strcspn(val, "\n")] = 0; /* one line a key */
	size_t len = strlen(key) + strlen(val) + 2;
	if (trace_vec_grow(&tf->info, &tf->info_cap, tf->info_len + len + 1, 1))
		b->oom = true;
	else
		tf->info_len += snprintf(tf->info + tf->info_len, len + 1, "%s=%s\n", key, val);
	free(val);
}

void trace_build_malformed(struct trace_build *b, size_t line, const char *fmt, ...)
{
	char msg[MALFORMED_CHARS];
	va_list ap;
	if (b->malformed++ >= MALFORMED_SHOWN || !b->diag)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap); /* a line of any length quotes a part */
	va_end(ap);
	fprintf(b->diag, "%s: %s:%zu: %s%s\n", b->cmd ? b->cmd : "kvmscope import", b->tf.path, line,
		msg, n >= (int)sizeof(msg) ? "..." : "");
}

void trace_build_bad_args(struct trace_build *b, size_t line, const char *event, const char *args,
			  const char *expected)
{
	size_t len = strlen(args);
	trace_build_malformed(b, line, "%s: arguments '%.*s%s' do not match '%s'", event,
			      len > ARGS_QUOTED ? ARGS_QUOTED : (int)len, args,
			      len > ARGS_QUOTED ? "..." : "", expected);
}

void trace_build_finish(struct trace_build *b, struct trace_file *tf)
{
	if (b->malformed > MALFORMED_SHOWN && b->diag)
		fprintf(b->diag, "%s: %s: %zu more malformed lines not shown\n",
			b->cmd ? b->cmd : "kvmscope import", b->tf.path,
			b->malformed - MALFORMED_SHOWN);
	if (b->tf.nrec) {
		b->tf.hdr.start_ns = b->tf.rec[0].ts;
		b->tf.end_records = b->tf.nrec;
	}
	*tf = b->tf;
	b->tf = (struct trace_file){0};
	free(b->named);
	b->named = NULL;
}

int trace_build_origin(struct trace_build *b, uint32_t unknown, uint32_t line, uint32_t raw)
{
	struct trace_file *tf = &b->tf;
	if (!tf->nrec)
		return -EINVAL;
	struct trace_origin *o = tf->norigin ? &tf->origin[tf->norigin - 1] : NULL;
	if (!o || o->rec != tf->nrec - 1) {
		if (!(o = trace_build_push(b, &tf->origin, &tf->norigin, &tf->origin_cap,
					   sizeof(*o))))
			return -ENOMEM;
		o->rec = tf->nrec - 1;
	}
	o->unknown |= unknown;
	o->line = line;
	o->raw = raw;
	return 0;
}

void trace_build_free(struct trace_build *b)
{
	trace_file_free(&b->tf);
	free(b->named);
	b->named = NULL;
}

/* --- Saving: the chunks trace/writer.c would have written, all at once. --- */
static void put_table(struct trace_buf *out, const struct trace_file *tf, uint32_t type)
{
	const struct trace_names *n = &tf->names;
	size_t count = type == TRACE_CHUNK_STRINGS   ? n->nstr
		       : type == TRACE_CHUNK_SITES   ? n->nsite
		       : type == TRACE_CHUNK_DEVICES ? n->ndev
						     : n->nstack;
	for (uint32_t first = 1; first < count; first += ENTRIES_PER_CHUNK) {
		uint32_t end =
		    count - first > ENTRIES_PER_CHUNK ? first + ENTRIES_PER_CHUNK : count;
		size_t at = trace_chunk_begin(out, type);
		trace_buf_put(out, &first, sizeof(first));
		for (uint32_t id = first; id < end; id++) {
			if (type == TRACE_CHUNK_STRINGS) {
				uint32_t len = strlen(n->str[id]);
				trace_buf_put(out, &len, sizeof(len));
				trace_buf_put(out, n->str[id], len);
			} else if (type == TRACE_CHUNK_SITES) {
				trace_buf_put(out, &n->site[id], sizeof(n->site[id]));
			} else if (type == TRACE_CHUNK_DEVICES) {
				trace_buf_put(out, &n->dev[id], sizeof(n->dev[id]));
			} else {
				trace_buf_put(out, &n->stack[id].n, sizeof(n->stack[id].n));
				trace_buf_put(out, n->stack[id].pc,
					      n->stack[id].n * sizeof(uint64_t));
			}
		}
		trace_chunk_end(out, at, end - first);
	}
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

int trace_file_save(const struct trace_file *tf, const char *path, char *err, size_t errlen)
{
	struct trace_buf out = {0};
	uint32_t lines = 0;

	trace_buf_put(&out, &tf->hdr, sizeof(tf->hdr));
	for (size_t i = 0; i < tf->info_len; i++)
		lines += tf->info[i] == '\n';
	if (lines) {
		size_t at = trace_chunk_begin(&out, TRACE_CHUNK_INFO);
		trace_buf_put(&out, tf->info, tf->info_len);
		trace_chunk_end(&out, at, lines);
	}
	put_table(&out, tf, TRACE_CHUNK_STRINGS);
	put_table(&out, tf, TRACE_CHUNK_SITES);
	put_table(&out, tf, TRACE_CHUNK_DEVICES);
	put_table(&out, tf, TRACE_CHUNK_STACKS);
	for (size_t i = 0; i < tf->nrec; i += RECS_PER_CHUNK) {
		size_t n = tf->nrec - i > RECS_PER_CHUNK ? RECS_PER_CHUNK : tf->nrec - i;
		size_t at = trace_chunk_begin(&out, TRACE_CHUNK_RECORDS);
		trace_buf_put(&out, &tf->rec[i], n * sizeof(tf->rec[0]));
		trace_chunk_end(&out, at, n);
	}
	for (size_t i = 0; i < tf->norigin; i += RECS_PER_CHUNK) {
		size_t n = tf->norigin - i > RECS_PER_CHUNK ? RECS_PER_CHUNK : tf->norigin - i;
		size_t at = trace_chunk_begin(&out, TRACE_CHUNK_ORIGIN);
		trace_buf_put(&out, &tf->origin[i], n * sizeof(tf->origin[0]));
		trace_chunk_end(&out, at, n);
	}
	struct {
		uint64_t records, drops, end_ns;
	} end = {tf->nrec, 0, tf->nrec ? tf->rec[tf->nrec - 1].ts : tf->hdr.start_ns};
	size_t at = trace_chunk_begin(&out, TRACE_CHUNK_END);
	trace_buf_put(&out, &end, sizeof(end));
	trace_chunk_end(&out, at, 1);

	int ret = out.oom ? -ENOMEM : 0;
	int fd = ret ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (!ret && fd < 0)
		ret = -errno;
	if (!ret)
		ret = write_all(fd, out.p, out.len);
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	trace_buf_free(&out);
	return ret;
}

/* --- Lines of text. --- */
int trace_scan(const char *in, const char *pat, uint64_t *v, unsigned nv, const char **word,
	       size_t *wlen)
{
	unsigned n = 0;
	while (*pat) {
		if (*pat != '%') {
			if (*in++ != *pat++)
				return -1;
			continue;
		}
		char c = pat[1], *end;
		pat += 2;
		if (c == 's') {
			*word = in;
			while (*in && *in != ' ')
				in++;
			*wlen = in - *word;
			if (!*wlen)
				return -1;
			continue;
		}
		if (n >= nv)
			return -1;
		if (c == 'p' && !strncmp(in, "(nil)", 5)) {
			v[n++] = 0;
			in += 5;
			continue;
		}
		if (c == 'p' && strncmp(in, "0x", 2))
			return -1;
		in += c == 'p' ? 2 : 0;
		if (!(c == 'd' && *in == '-') &&
		    !(c == 'u' || c == 'd' ? isdigit((unsigned char)*in)
					   : isxdigit((unsigned char)*in)))
			return -1;
		errno = 0;
		v[n++] = c == 'd' ? (uint64_t)strtoll(in, &end, 10)
				  : strtoull(in, &end, c == 'u' ? 10 : 16);
		if (errno)
			return -1;
		in = end;
	}
	return *in ? -1 : (int)n;
}
