/* trace/tables.c - the process's interned strings, call sites, devices and guest stacks.
 * Append-only: an id, once given, names the same thing for the life of the process; the writer
 * copies new entries into each file before the records that use them. Not the hot path: a call
 * site interns itself once, a vCPU interns a stack once per exit that records an event. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

#define STR_MAX	      (1u << 20)
#define STR_BYTES_MAX (64u << 20)
#define STACK_MAX     (1u << 20)
#define CHUNK_SPLIT   (1u << 20) /* payload bytes before a table chunk is cut */

/* Open addressing over ids; 0 marks an empty slot (id 0 is reserved in every table). */
struct idmap {
	uint32_t *slot;
	size_t cap, used;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct trace_names tab;
static struct idmap str_map, stack_map;
static size_t str_bytes;

static uint64_t hash_bytes(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	while (len--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static uint64_t hash_str(uint32_t id)
{
	return hash_bytes(tab.str[id], strlen(tab.str[id]));
}

static uint64_t hash_stack(uint32_t id)
{
	const struct trace_stack_ent *s = &tab.stack[id];
	return hash_bytes(s->pc, s->n * sizeof(s->pc[0]));
}

/* The slot holding an id equal to key, or the empty slot where it would go. */
static uint32_t *idmap_find(struct idmap *m, uint64_t h, bool (*eq)(uint32_t, const void *),
			    const void *key)
{
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (!m->slot[i] || eq(m->slot[i], key))
			return &m->slot[i];
}

/* Room for one more id, keeping the load under one half. */
static int idmap_reserve(struct idmap *m, uint64_t (*hash)(uint32_t))
{
	if ((m->used + 1) * 2 <= m->cap)
		return 0;
	size_t ncap = m->cap ? m->cap * 2 : 1024;
	uint32_t *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		uint32_t id = m->slot[i];
		if (!id)
			continue;
		size_t j = hash(id) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = id;
	}
	free(m->slot);
	m->slot = ns;
	m->cap = ncap;
	return 0;
}

struct str_key {
	const char *s;
	size_t len;
};

static bool str_eq(uint32_t id, const void *k)
{
	const struct str_key *key = k;
	return !strncmp(tab.str[id], key->s, key->len) && !tab.str[id][key->len];
}

static bool stack_eq(uint32_t id, const void *k)
{
	const struct trace_stack_ent *a = &tab.stack[id], *b = k;
	return a->n == b->n && !memcmp(a->pc, b->pc, a->n * sizeof(a->pc[0]));
}

/* Entry 0 of every table: the empty string, no site, no device, no stack. */
static int tables_init_locked(void)
{
	if (tab.nstr)
		return 0;
	if (trace_names_add_str(&tab, "", 0) < 0 ||
	    trace_vec_grow(&tab.site, &tab.site_cap, 1, sizeof(*tab.site)) ||
	    trace_vec_grow(&tab.dev, &tab.dev_cap, 1, sizeof(*tab.dev)) ||
	    trace_vec_grow(&tab.stack, &tab.stack_cap, 1, sizeof(*tab.stack)))
		return -ENOMEM;
	tab.site[0] = (struct trace_site_ent){0};
	tab.dev[0] = (struct trace_dev_ent){0};
	tab.stack[0] = (struct trace_stack_ent){0};
	tab.nsite = tab.ndev = tab.nstack = 1;
	return 0;
}

static uint32_t intern_locked(const char *s, size_t len)
{
	if (len > TRACE_STRING_MAX)
		len = TRACE_STRING_MAX;
	struct str_key key = {s, strnlen(s, len)};
	if (tables_init_locked() || idmap_reserve(&str_map, hash_str))
		return 0;
	uint32_t *slot = idmap_find(&str_map, hash_bytes(key.s, key.len), str_eq, &key);
	if (*slot)
		return *slot;
	if (tab.nstr >= STR_MAX || str_bytes + key.len > STR_BYTES_MAX)
		return 0;
	int id = trace_names_add_str(&tab, key.s, key.len);
	if (id < 0)
		return 0;
	str_bytes += key.len;
	str_map.used++;
	return *slot = id;
}

uint32_t trace_intern_len(const char *s, size_t len)
{
	pthread_mutex_lock(&lock);
	uint32_t id = intern_locked(s, len);
	pthread_mutex_unlock(&lock);
	return id;
}

uint32_t trace_intern(const char *s)
{
	return s ? trace_intern_len(s, strlen(s)) : 0;
}

uint16_t trace_site_intern(struct trace_site *s)
{
	pthread_mutex_lock(&lock);
	uint16_t id = s->id;
	if (!id && !tables_init_locked() && tab.nsite < UINT16_MAX &&
	    !trace_vec_grow(&tab.site, &tab.site_cap, tab.nsite + 1, sizeof(*tab.site))) {
		tab.site[tab.nsite] =
		    (struct trace_site_ent){intern_locked(s->func, strlen(s->func)),
					    intern_locked(s->file, strlen(s->file)), s->line};
		id = tab.nsite++;
		__atomic_store_n(&s->id, id, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
	return id;
}

uint16_t trace_dev_register(const char *name, uint32_t kind)
{
	uint16_t id = 0;
	pthread_mutex_lock(&lock);
	if (!tables_init_locked() && tab.ndev < UINT16_MAX &&
	    !trace_vec_grow(&tab.dev, &tab.dev_cap, tab.ndev + 1, sizeof(*tab.dev))) {
		tab.dev[tab.ndev] = (struct trace_dev_ent){intern_locked(name, strlen(name)), kind};
		id = tab.ndev++;
	}
	pthread_mutex_unlock(&lock);
	return id;
}

uint32_t trace_stack_intern(const uint64_t *pcs, unsigned n)
{
	struct trace_stack_ent key = {.n = n < TRACE_STACK_MAX ? n : TRACE_STACK_MAX};
	uint32_t id = 0;

	/* a loop of exits meets one stack again and again: the thread's last costs no lock (ids
	 * live as long as the process) */
	static __thread struct trace_stack_ent last;
	static __thread uint32_t last_id;

	if (!key.n)
		return 0;
	memcpy(key.pc, pcs, key.n * sizeof(pcs[0]));
	if (last_id && last.n == key.n && !memcmp(last.pc, key.pc, key.n * sizeof(key.pc[0])))
		return last_id;
	pthread_mutex_lock(&lock);
	if (tables_init_locked() || idmap_reserve(&stack_map, hash_stack))
		goto out;
	uint32_t *slot =
	    idmap_find(&stack_map, hash_bytes(key.pc, key.n * sizeof(key.pc[0])), stack_eq, &key);
	id = *slot;
	if (id || tab.nstack >= STACK_MAX ||
	    trace_vec_grow(&tab.stack, &tab.stack_cap, tab.nstack + 1, sizeof(*tab.stack)))
		goto out;
	tab.stack[tab.nstack] = key;
	id = *slot = tab.nstack++;
	stack_map.used++;
out:
	pthread_mutex_unlock(&lock);
	if (id) {
		last = key;
		last_id = id;
	}
	return id;
}

/* Table entries [from, to) as chunks of type, cut every CHUNK_SPLIT bytes. put() appends one
 * entry's bytes. */
static void export_table(struct trace_buf *out, uint32_t type, size_t from, size_t to,
			 void (*put)(struct trace_buf *, size_t))
{
	while (from < to) {
		size_t at = trace_chunk_begin(out, type), start = out->len;
		uint32_t first = from;
		trace_buf_put(out, &first, sizeof(first));
		while (from < to && out->len - start < CHUNK_SPLIT)
			put(out, from++);
		trace_chunk_end(out, at, from - first);
	}
}

static void put_str(struct trace_buf *b, size_t id)
{
	uint32_t len = strlen(tab.str[id]);
	trace_buf_put(b, &len, sizeof(len));
	trace_buf_put(b, tab.str[id], len);
}

static void put_site(struct trace_buf *b, size_t id)
{
	trace_buf_put(b, &tab.site[id], sizeof(tab.site[id]));
}

static void put_dev(struct trace_buf *b, size_t id)
{
	trace_buf_put(b, &tab.dev[id], sizeof(tab.dev[id]));
}

static void put_stack(struct trace_buf *b, size_t id)
{
	const struct trace_stack_ent *s = &tab.stack[id];
	trace_buf_put(b, &s->n, sizeof(s->n));
	trace_buf_put(b, s->pc, s->n * sizeof(s->pc[0]));
}

void trace_tables_export(struct trace_cursor *c, struct trace_buf *out,
			 void (*on_pc)(void *opaque, uint64_t pc), void *opaque)
{
	pthread_mutex_lock(&lock);
	if (tables_init_locked() == 0) {
		/* ids start at 1 in a file: entry 0 is implied */
		c->str = c->str ? c->str : 1;
		c->site = c->site ? c->site : 1;
		c->dev = c->dev ? c->dev : 1;
		c->stack = c->stack ? c->stack : 1;
		export_table(out, TRACE_CHUNK_STRINGS, c->str, tab.nstr, put_str);
		export_table(out, TRACE_CHUNK_SITES, c->site, tab.nsite, put_site);
		export_table(out, TRACE_CHUNK_DEVICES, c->dev, tab.ndev, put_dev);
		for (size_t i = c->stack; on_pc && i < tab.nstack; i++)
			for (unsigned k = 0; k < tab.stack[i].n; k++)
				on_pc(opaque, tab.stack[i].pc[k]);
		export_table(out, TRACE_CHUNK_STACKS, c->stack, tab.nstack, put_stack);
		c->str = tab.nstr;
		c->site = tab.nsite;
		c->dev = tab.ndev;
		c->stack = tab.nstack;
	}
	pthread_mutex_unlock(&lock);
}
