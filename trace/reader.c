/* trace/reader.c - a trace file read back into memory. A file cut short (kill -9, a full disk)
 * reads up to its last complete record with a warning; anything else that is wrong is an error
 * naming the offset. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/internal.h"

/* Bounds-checked reading of one chunk's payload. */
struct cur {
	const uint8_t *p, *end;
	bool ok;
};

static void get(struct cur *c, void *dst, size_t n)
{
	if (!c->ok || (size_t)(c->end - c->p) < n) {
		c->ok = false;
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p, n);
	c->p += n;
}

static uint32_t get32(struct cur *c)
{
	uint32_t v;
	get(c, &v, sizeof(v));
	return v;
}

struct reader {
	struct trace_file *tf;
	const uint8_t *base;
	size_t size;
	char *err;
	size_t errlen;
};

static int fail(struct reader *r, size_t off, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->errlen, "%s: offset %zu: ", r->tf->path, off);
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Tables arrive in id order: a chunk's first id must be the next one. */
static int check_first(struct reader *r, size_t off, struct cur *c, size_t have)
{
	uint32_t first = get32(c);
	if (c->ok && first != have)
		return fail(r, off, "table chunk starts at id %u, expected %zu (corrupt file)",
			    first, have);
	return 0;
}

static int read_table(struct reader *r, size_t off, uint32_t type, struct cur *c, uint32_t count)
{
	struct trace_names *n = &r->tf->names;
	size_t have = type == TRACE_CHUNK_STRINGS   ? n->nstr
		      : type == TRACE_CHUNK_SITES   ? n->nsite
		      : type == TRACE_CHUNK_DEVICES ? n->ndev
						    : n->nstack;
	if (check_first(r, off, c, have))
		return -1;
	for (uint32_t i = 0; i < count && c->ok; i++) {
		int err = 0;
		if (type == TRACE_CHUNK_STRINGS) {
			uint32_t len = get32(c);
			if (len > TRACE_STRING_MAX || (size_t)(c->end - c->p) < len)
				c->ok = false;
			else if ((err = trace_names_add_str(n, (const char *)c->p, len)) >= 0)
				c->p += len, err = 0;
		} else if (type == TRACE_CHUNK_SITES) {
			if (!(err = trace_vec_grow(&n->site, &n->site_cap, n->nsite + 1,
						   sizeof(*n->site))))
				get(c, &n->site[n->nsite++], sizeof(*n->site));
		} else if (type == TRACE_CHUNK_DEVICES) {
			if (!(err = trace_vec_grow(&n->dev, &n->dev_cap, n->ndev + 1,
						   sizeof(*n->dev))))
				get(c, &n->dev[n->ndev++], sizeof(*n->dev));
		} else {
			struct trace_stack_ent s = {.n = get32(c)};
			if (s.n > TRACE_STACK_MAX) { /* never read more than pc[] holds */
				c->ok = false;
				break;
			}
			get(c, s.pc, s.n * sizeof(s.pc[0]));
			if (!(err = trace_vec_grow(&n->stack, &n->stack_cap, n->nstack + 1,
						   sizeof(s))))
				n->stack[n->nstack++] = s;
		}
		if (err)
			return fail(r, off, "out of memory");
	}
	return 0;
}

static int read_symbols(struct reader *r, size_t off, struct cur *c, uint32_t count)
{
	for (uint32_t i = 0; i < count && c->ok; i++) {
		uint64_t addr;
		uint32_t size, len;
		get(c, &addr, sizeof(addr));
		get(c, &size, sizeof(size));
		len = get32(c);
		if (!c->ok || (size_t)(c->end - c->p) < len) {
			c->ok = false;
			break;
		}
		if (trace_symtab_add(&r->tf->syms, addr, size, (const char *)c->p, len))
			return fail(r, off, "out of memory");
		c->p += len;
	}
	return 0;
}

/* A record must name things the file has defined before it. */
static int check_record(struct reader *r, size_t off, const struct trace_rec *rec)
{
	const struct trace_names *n = &r->tf->names;
	if (rec->ev >= TRACE_EV_NR)
		return fail(r, off, "record with unknown event %u (corrupt file?)", rec->ev);
	if (rec->site >= n->nsite || rec->dev >= n->ndev || rec->stack >= n->nstack)
		return fail(r, off,
			    "record refers to site %u, device %u or stack %u not defined "
			    "before it (corrupt file)",
			    rec->site, rec->dev, rec->stack);
	return 0;
}

static int read_records(struct reader *r, size_t off, const uint8_t *p, size_t count)
{
	struct trace_file *tf = r->tf;
	if (trace_vec_grow(&tf->rec, &tf->rec_cap, tf->nrec + count, sizeof(*tf->rec)))
		return fail(r, off, "out of memory for %zu records", tf->nrec + count);
	for (size_t i = 0; i < count; i++) {
		struct trace_rec *rec = &tf->rec[tf->nrec];
		memcpy(rec, p + i * sizeof(*rec), sizeof(*rec));
		if (check_record(r, off + i * sizeof(*rec), rec))
			return -1;
		tf->nrec++;
	}
	return 0;
}

/* Origins come after the records they describe, in record order. */
static int read_origin(struct reader *r, size_t off, struct cur *c, uint32_t count)
{
	struct trace_file *tf = r->tf;
	for (uint32_t i = 0; i < count && c->ok; i++) {
		struct trace_origin o;
		get(c, &o, sizeof(o));
		if (!c->ok)
			break;
		if (o.rec >= tf->nrec ||
		    (tf->norigin && o.rec <= tf->origin[tf->norigin - 1].rec) ||
		    o.raw >= tf->names.nstr)
			return fail(
			    r, off,
			    "origin of record %u out of order, or of a record or string not "
			    "defined before it (corrupt file)",
			    o.rec);
		if (trace_vec_grow(&tf->origin, &tf->origin_cap, tf->norigin + 1, sizeof(o)))
			return fail(r, off, "out of memory");
		tf->origin[tf->norigin++] = o;
	}
	return 0;
}

/* Descriptors come after the records they belong to, in record order, at most
 * TRACE_DESCS_MAX of the walked ones each. */
static int read_descs(struct reader *r, size_t off, struct cur *c, uint32_t count)
{
	struct trace_file *tf = r->tf;
	for (uint32_t i = 0; i < count && c->ok; i++) {
		struct trace_descs_ent e = {.rec = get32(c)};
		get(c, &e.n, sizeof(e.n));
		get(c, &e.walked, sizeof(e.walked));
		if (!c->ok || (size_t)(c->end - c->p) < e.n * sizeof(struct trace_desc)) {
			c->ok = false;
			break;
		}
		if (e.rec >= tf->nrec || (tf->ndescs && e.rec <= tf->descs[tf->ndescs - 1].rec) ||
		    e.n > TRACE_DESCS_MAX || e.n > e.walked)
			return fail(r, off,
				    "descriptors of record %u out of order, of a record not defined "
				    "before them, or %u of %u walked (corrupt file)",
				    e.rec, e.n, e.walked);
		if (trace_vec_grow(&tf->descs, &tf->descs_cap, tf->ndescs + 1, sizeof(e)) ||
		    trace_vec_grow(&tf->desc, &tf->desc_cap, tf->ndesc + e.n, sizeof(*tf->desc)))
			return fail(r, off, "out of memory");
		e.first = tf->ndesc;
		memcpy(&tf->desc[tf->ndesc], c->p, e.n * sizeof(struct trace_desc));
		c->p += e.n * sizeof(struct trace_desc);
		tf->ndesc += e.n;
		tf->descs[tf->ndescs++] = e;
	}
	return 0;
}

static int read_chunk(struct reader *r, size_t off, const struct trace_chunk_header *h)
{
	struct trace_file *tf = r->tf;
	const uint8_t *payload = r->base + off + sizeof(*h);
	struct cur c = {payload, payload + h->len, true};
	size_t poff = off + sizeof(*h);
	int ret = 0;

	switch (h->type) {
	case TRACE_CHUNK_INFO:
		if (trace_vec_grow(&tf->info, &tf->info_cap, tf->info_len + h->len + 1, 1))
			return fail(r, poff, "out of memory");
		memcpy(tf->info + tf->info_len, payload, h->len);
		tf->info_len += h->len;
		tf->info[tf->info_len] = 0;
		c.p = c.end;
		break;
	case TRACE_CHUNK_RECORDS:
		if (h->len != (uint64_t)h->count * sizeof(struct trace_rec))
			return fail(r, off,
				    "records chunk of %u bytes holds %u records (corrupt file)",
				    h->len, h->count);
		ret = read_records(r, poff, payload, h->count);
		c.p = c.end;
		break;
	case TRACE_CHUNK_SYMBOLS:
		ret = read_symbols(r, poff, &c, h->count);
		break;
	case TRACE_CHUNK_ORIGIN:
		ret = read_origin(r, poff, &c, h->count);
		break;
	case TRACE_CHUNK_DESCS:
		ret = read_descs(r, poff, &c, h->count);
		break;
	case TRACE_CHUNK_END:
		get(&c, &tf->end_records, sizeof(tf->end_records));
		get(&c, &tf->end_drops, sizeof(tf->end_drops));
		c.p = c.end; /* later versions may say more */
		tf->ended = c.ok;
		break;
	default:
		ret = read_table(r, poff, h->type, &c, h->count);
		break;
	}
	if (!ret && (!c.ok || c.p != c.end))
		return fail(r, poff,
			    "chunk type %u does not hold the %u entries it announces "
			    "(corrupt file)",
			    h->type, h->count);
	return ret;
}

static int read_header(struct reader *r)
{
	struct trace_file_header *h = &r->tf->hdr;
	if (r->size < sizeof(*h))
		return fail(r, r->size, "file too short for a trace header (%zu bytes)", r->size);
	memcpy(h, r->base, sizeof(*h));
	if (memcmp(h->magic, TRACE_MAGIC, sizeof(h->magic)))
		return fail(r, 0, "not a kvmscope trace (bad magic)");
	if (h->version != TRACE_VERSION)
		return fail(r, 8, "trace format version %u; this kvmscope reads version %u",
			    h->version, TRACE_VERSION);
	if (h->header_size < sizeof(*h) || h->header_size > r->size || h->header_size & 7)
		return fail(r, 12, "bad header size %u", h->header_size);
	if (h->record_size != sizeof(struct trace_rec))
		return fail(r, 16, "record size %u, expected %zu", h->record_size,
			    sizeof(struct trace_rec));
	return 0;
}

static void warn_cut(struct reader *r, size_t off, const char *what)
{
	snprintf(r->tf->warning, sizeof(r->tf->warning),
		 "%s: cut short at offset %zu (%s); read %zu complete records", r->tf->path, off,
		 what, r->tf->nrec);
}

static int read_all(struct reader *r)
{
	struct trace_file *tf = r->tf;
	if (read_header(r))
		return -1;
	if (trace_names_add_str(&tf->names, "", 0) < 0 ||
	    trace_vec_grow(&tf->names.site, &tf->names.site_cap, 1, sizeof(*tf->names.site)) ||
	    trace_vec_grow(&tf->names.dev, &tf->names.dev_cap, 1, sizeof(*tf->names.dev)) ||
	    trace_vec_grow(&tf->names.stack, &tf->names.stack_cap, 1, sizeof(*tf->names.stack)))
		return fail(r, 0, "out of memory");
	tf->names.site[0] = (struct trace_site_ent){0};
	tf->names.dev[0] = (struct trace_dev_ent){0};
	tf->names.stack[0] = (struct trace_stack_ent){0};
	tf->names.nsite = tf->names.ndev = tf->names.nstack = 1;

	size_t off = tf->hdr.header_size;
	while (off < r->size) {
		struct trace_chunk_header h;
		size_t left = r->size - off;
		if (left < sizeof(h)) {
			warn_cut(r, off, "in a chunk header");
			break;
		}
		memcpy(&h, r->base + off, sizeof(h));
		if (h.type == 0 || h.type >= TRACE_CHUNK_NR)
			return fail(r, off, "unknown chunk type %u (corrupt file)", h.type);
		if (h.len > TRACE_CHUNK_MAX)
			return fail(r, off, "chunk length %u is too large (corrupt file)", h.len);
		if (h.len > left - sizeof(h)) {
			/* the last chunk was being written: keep its whole records */
			size_t whole = (left - sizeof(h)) / sizeof(struct trace_rec);
			if (h.type == TRACE_CHUNK_RECORDS && whole < h.count &&
			    read_records(r, off + sizeof(h), r->base + off + sizeof(h), whole))
				return -1;
			warn_cut(r, off, "in a chunk");
			break;
		}
		if (trace_crc32c(r->base + off + sizeof(h), h.len) != h.crc)
			return fail(r, off, "chunk checksum mismatch (corrupt file)");
		if (read_chunk(r, off, &h))
			return -1;
		off += sizeof(h) + ((h.len + 7) & ~7u);
	}
	if (!tf->warning[0] && !tf->ended)
		snprintf(tf->warning, sizeof(tf->warning),
			 "%s: no end marker: kvmscope did not stop cleanly; read %zu complete "
			 "records",
			 tf->path, tf->nrec);
	trace_symtab_sort(&tf->syms);
	return 0;
}

int trace_file_load(struct trace_file *tf, const char *path, char *err, size_t errlen)
{
	struct reader r = {.tf = tf, .err = err, .errlen = errlen};
	struct stat st;
	int ret = -1;

	memset(tf, 0, sizeof(*tf));
	tf->path = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) { /* mmap would say "No such device" */
		snprintf(err, errlen, "%s: %s, not a trace file", path,
			 S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
		close(fd);
		return -1;
	}
	r.size = st.st_size;
	if (r.size) {
		r.base = mmap(NULL, r.size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (r.base == MAP_FAILED) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	ret = read_all(&r);
	if (r.size)
		munmap((void *)r.base, r.size);
	if (ret)
		trace_file_free(tf);
	return ret;
}

void trace_file_free(struct trace_file *tf)
{
	trace_names_free(&tf->names);
	trace_symtab_free(&tf->syms);
	free(tf->info);
	free(tf->rec);
	free(tf->origin);
	free(tf->descs);
	free(tf->desc);
	tf->info = NULL;
	tf->rec = NULL;
	tf->origin = NULL;
	tf->descs = NULL;
	tf->desc = NULL;
	tf->nrec = tf->rec_cap = tf->info_len = tf->info_cap = 0;
	tf->norigin = tf->origin_cap = 0;
	tf->ndescs = tf->descs_cap = tf->ndesc = tf->desc_cap = 0;
}

const char *trace_file_info(const struct trace_file *tf, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *found = NULL;
	for (const char *p = tf->info; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
		if (!strncmp(p, key, klen) && p[klen] == '=')
			found = p + klen + 1; /* the last line for a key wins */
	if (!found)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(found, "\n"), found);
	return buf;
}

const char *trace_file_str(const struct trace_file *tf, uint32_t id)
{
	return id < tf->names.nstr ? tf->names.str[id] : "?";
}

uint32_t trace_file_dev_kind(const struct trace_file *tf, uint16_t dev)
{
	return dev < tf->names.ndev ? tf->names.dev[dev].kind : 0;
}

/* The entry for record r in an array of n entries of size bytes, each starting with its record's
 * index (u32), in record order; NULL for none. */
static const void *find_rec(const struct trace_file *tf, const struct trace_rec *r,
			    const void *v, size_t n, size_t size)
{
	if (!tf || !n || r < tf->rec || r >= tf->rec + tf->nrec)
		return NULL;
	size_t want = r - tf->rec, lo = 0, hi = n;
	uint32_t at;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		memcpy(&at, (const char *)v + mid * size, sizeof(at));
		if (at < want)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n)
		return NULL;
	memcpy(&at, (const char *)v + lo * size, sizeof(at));
	return at == want ? (const char *)v + lo * size : NULL;
}

const struct trace_origin *trace_file_origin(const struct trace_file *tf, const struct trace_rec *r)
{
	return tf ? find_rec(tf, r, tf->origin, tf->norigin, sizeof(*tf->origin)) : NULL;
}

const struct trace_descs_ent *trace_file_descs(const struct trace_file *tf,
					       const struct trace_rec *r)
{
	return tf ? find_rec(tf, r, tf->descs, tf->ndescs, sizeof(*tf->descs)) : NULL;
}

bool trace_arg_unknown(const struct trace_file *tf, const struct trace_rec *r, unsigned i)
{
	const struct trace_origin *o = trace_file_origin(tf, r);
	return o && i < 32 && (o->unknown >> i & 1);
}

const char *trace_rec_source(const struct trace_file *tf, const struct trace_rec *r, char *buf,
			     size_t len)
{
	const struct trace_origin *o = trace_file_origin(tf, r);
	if (!o)
		return NULL;
	const char *from = r->site && r->site < tf->names.nsite
			       ? trace_file_str(tf, tf->names.site[r->site].file)
			       : "imported";
	if (o->line)
		snprintf(buf, len, "%s, line %u", from, o->line);
	else
		snprintf(buf, len, "%s", from);
	return buf;
}

uint64_t trace_file_recorded(const struct trace_file *tf)
{
	char buf[1024], err[128];
	uint64_t mask;
	if (trace_file_info(tf, "events", buf, sizeof(buf)) &&
	    !trace_events_mask(buf, TRACE_MASK_DEFAULT, &mask, err, sizeof(err)))
		return mask;
	return TRACE_MASK_DEFAULT;
}
