/* trace/internal.h - the inside of the trace layer: the record, the ring, the catalogue expanded,
 * the file format, the id tables, guest symbols, a file read back (with what an imported record's
 * source did not record), the decoder and the spec steps records belong to. Shared by the
 * files of trace/, by the readers in its subfolders (trace/report/, trace/compare/, trace/view/)
 * and by the trace unit tests. The other layers include trace/trace.h only. */
#ifndef KVMSCOPE_TRACE_INTERNAL_H
#define KVMSCOPE_TRACE_INTERNAL_H

#include <stdio.h>

#include "trace/trace.h"

/* --- One record: 64 bytes, the same in the ring and in the file (little-endian). --- */
struct trace_rec {
	uint64_t ts;	/* CLOCK_MONOTONIC ns */
	uint32_t seq;	/* ring: the slot's sequence; file: claim order, mod 2^32 */
	uint16_t ev;	/* enum trace_event */
	uint16_t tid;	/* TRACE_TID(kind, index) */
	uint16_t dev;	/* device table id, 0: none */
	uint16_t site;	/* site table id: the kvmscope function that emitted it */
	uint32_t stack; /* stack table id, 0: none */
	uint64_t rip;	/* guest RIP when the guest caused it, else 0 */
	uint64_t a[4];
};
_Static_assert(sizeof(struct trace_rec) == 64, "a record is one cache line");

#define TRACE_TID(kind, index) ((uint16_t)((kind) << 12 | ((index)&0xfff)))
#define TRACE_TID_KIND(tid)    ((tid) >> 12)
#define TRACE_TID_INDEX(tid)   ((tid)&0xfff)
/* "vcpu0", "io1", "main", "writer" */
const char *trace_tid_name(uint16_t tid, char *buf, size_t len);

/* --- The ring: bounded, lock-free, many producers, one consumer (the writer). ---
 * Each slot's seq says whose turn it is (D. Vyukov's bounded queue): pos when free for the
 * producer claiming pos, pos + 1 once that record is committed. Stored less the slot's index
 * (trace_ring_lap), so that zeroed memory is an empty ring: the slots are mapped, not written,
 * and a page becomes resident only when the first record reaches it. */
struct trace_ring {
	struct trace_rec *slots;
	uint64_t mask;
	uint64_t wake_at; /* a claim past this position wakes the writer (trace_writer_kick) */
	char pad0[40];
	uint64_t head; /* next position to claim (producers, atomic) */
	char pad1[56];
	uint64_t tail;	/* next position to drain (consumer only) */
	uint64_t drops; /* records lost to a full ring (atomic) */
};

int trace_ring_init(struct trace_ring *r, size_t bytes); /* rounds down to a power of 2 */
void trace_ring_free(struct trace_ring *r);
size_t trace_ring_capacity(const struct trace_ring *r);

/* pos less its slot's index: what a slot's stored seq is compared with. */
static inline uint32_t trace_ring_lap(const struct trace_ring *r, uint64_t pos)
{
	return (uint32_t)(pos & ~r->mask);
}

/* A record with descriptors (TRACE_DESCS) is followed in the ring by extension slots holding
 * them, 3 a slot around the ring's seq word, the first slot also their counts; the record's ev
 * carries the number of extension slots in its high byte until the writer moves them into a
 * DESCS chunk. The consumer frees slots in order, so when the group's last slot is free for its
 * position, so are the others. */
struct trace_ext_slot {
	uint16_t n, walked; /* first extension slot only: struct trace_descs's counts */
	uint32_t pad;
	uint32_t seq; /* the ring's, as in struct trace_rec */
	uint32_t pad2;
	struct trace_desc d[3];
};
_Static_assert(sizeof(struct trace_ext_slot) == 64, "an extension slot is one record slot");
#define TRACE_EXT_PER	      3
#define TRACE_EXT_SLOTS(n)    (1 + ((n) ? (n)-1 : 0) / TRACE_EXT_PER)
#define TRACE_EXT_SLOTS_MAX   TRACE_EXT_SLOTS(TRACE_DESCS_MAX)
_Static_assert(TRACE_EXT_SLOTS_MAX * TRACE_EXT_PER <= TRACE_DESCS_MAX + 2,
	       "struct trace_descs holds every entry the extension slots copy");
#define TRACE_REC_EXT(ev)     ((ev) >> 8)
#define TRACE_REC_EV(ev)      ((ev)&0xff)

/* The first of k consecutive slots (the record and its extension slots), or NULL when the ring
 * is full (and the drop counted: one record lost). */
static inline struct trace_rec *trace_ring_claim_n(struct trace_ring *r, unsigned k,
						   uint64_t *pos_out)
{
	uint64_t pos = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	for (;;) {
		struct trace_rec *s = &r->slots[pos & r->mask];
		int32_t d = (int32_t)(__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) - trace_ring_lap(r, pos));
		if (d == 0 && k > 1) {
			uint64_t last = pos + k - 1;
			d = (int32_t)(__atomic_load_n(&r->slots[last & r->mask].seq,
						      __ATOMIC_ACQUIRE) -
				      trace_ring_lap(r, last));
		}
		if (d == 0) {
			if (__atomic_compare_exchange_n(&r->head, &pos, pos + k, true,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
				*pos_out = pos;
				return s;
			}
		} else if (d < 0) {
			__atomic_fetch_add(&r->drops, 1, __ATOMIC_RELAXED);
			return NULL;
		} else {
			pos = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
		}
	}
}

static inline struct trace_rec *trace_ring_claim(struct trace_ring *r, uint64_t *pos_out)
{
	return trace_ring_claim_n(r, 1, pos_out);
}

static inline void trace_ring_commit(struct trace_ring *r, struct trace_rec *s, uint64_t pos)
{
	__atomic_store_n(&s->seq, trace_ring_lap(r, pos) + 1, __ATOMIC_RELEASE);
}

/* Copies up to max committed slots out (seq = claim order) and frees them; a record and its
 * extension slots come out together or not at all. */
size_t trace_ring_drain(struct trace_ring *r, struct trace_rec *out, size_t max);
/* Whether a claimed record is still being written (trace_stop waits for it). */
bool trace_ring_busy(struct trace_ring *r);

extern struct trace_ring trace_ring_main; /* the one trace_emit() writes */
/* Live stepping (trace/view/live.c): when set, trace_emit() calls it on the emitting thread after
 * committing each record, with a copy whose seq is the claim order; it may block that thread. */
extern void (*trace_step_hook)(const struct trace_rec *r);

/* --- The catalogue, expanded (trace/events.c). --- */
#define TRACE_FMTS(F)                                                                              \
	F(U)                                                                                       \
	F(HEX)                                                                                     \
	F(STR)                                                                                     \
	F(RW)                                                                                      \
	F(STATUS)                                                                                  \
	F(FEAT) F(FEATWIN) F(PCIREG) F(PCICAP) F(BARTYPE) F(MSIXFIELD) F(VEC) F(QUEUE) F(DEVCFG)   \
	    F(VREG) F(VIA) F(BLKTYPE) F(BLKSTATUS) F(IRQKIND) F(SUPPRESS) F(ISR) F(EXIT) F(BYTES)  \
		F(VMSTATE) F(WIRING) F(VUREQ) F(VUFLAGS) F(VUPAY) F(ERRNO) F(RINGIDX) F(DESCFLAGS)
#define TRACE_FMT_ENUM_(f) TRACE_FMT_##f,
enum trace_fmt { TRACE_FMTS(TRACE_FMT_ENUM_) TRACE_FMT_NR };

#define TRACE_MAX_ARGS 8
struct trace_arg_info {
	const char *name;
	uint8_t fmt;  /* enum trace_fmt */
	uint8_t half; /* 0: the whole slot, 1: its low 32 bits, 2: its high 32 bits */
};
struct trace_event_info {
	const char *name, *id, *doc;
	uint8_t cls; /* enum trace_class */
	uint8_t nslots;
	struct trace_arg_info args[TRACE_MAX_ARGS + 1]; /* ends with name == NULL */
};
extern const struct trace_event_info trace_events[TRACE_EV_NR];
extern const char *const trace_class_names[TRACE_CLASS_NR];
extern const char *const trace_fmt_names[TRACE_FMT_NR];

unsigned trace_event_nargs(const struct trace_event_info *e);
uint64_t trace_arg_value(const struct trace_event_info *e, unsigned i, const uint64_t a[4]);
/* "GLOB,GLOB,-GLOB": each names events or classes (fnmatch); a leading "-" removes. The set
 * starts empty, or from `base` when the first item removes. -1 with a message in err. */
int trace_events_mask(const char *globs, uint64_t base, uint64_t *mask, char *err, size_t errlen);
#define TRACE_MASK_ALL	   ((TRACE_EV_NR == 64 ? 0 : (1ULL << TRACE_EV_NR)) - 1)
/* The verbose class, one record per exit or per console byte, is off unless asked for. */
#define TRACE_MASK_DEFAULT                                                                         \
	(TRACE_MASK_ALL & ~(1ULL << TRACE_EV_KVM_EXIT | 1ULL << TRACE_EV_COALESCED_IO))
/* An argument by its name in the catalogue: set (its index in the event's arguments, or -1 when
 * the event has none of that name) and read (def when none). */
int trace_rec_set(struct trace_rec *r, const char *name, uint64_t v);
uint64_t trace_rec_arg(const struct trace_rec *r, const char *name, uint64_t def);
/* The catalogue as text (one event a line) or as the markdown table in docs/events.md. */
void trace_events_print(FILE *f, bool markdown);

/* --- Growable arrays and byte buffers (trace/file.c). --- */
int trace_vec_grow(void *arrp, size_t *cap, size_t need, size_t elsize); /* 0 or -ENOMEM */

struct trace_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};
void trace_buf_put(struct trace_buf *b, const void *data, size_t len);
void trace_buf_free(struct trace_buf *b);

/* --- The file (docs/trace-format.md). --- */
#define TRACE_MAGIC	     "KVMTRACE"
#define TRACE_VERSION	     1
#define TRACE_CLOCK_MONO     1
#define TRACE_CLOCK_IMPORTED 2 /* header clock: timestamps from another tracer's clock */
#define TRACE_CHUNK_MAX	     (64u << 20)
#define TRACE_STRING_MAX     4096

struct trace_file_header {
	char magic[8];
	uint32_t version, header_size, record_size, clock;
	uint64_t start_ns; /* CLOCK_MONOTONIC at trace_start(): dump shows times from here */
};
struct trace_chunk_header {
	uint32_t type, len, crc, count; /* len: payload bytes; the next chunk starts 8-aligned */
};
enum trace_chunk_type {
	TRACE_CHUNK_INFO = 1,
	TRACE_CHUNK_STRINGS,
	TRACE_CHUNK_SITES,
	TRACE_CHUNK_DEVICES,
	TRACE_CHUNK_STACKS,
	TRACE_CHUNK_SYMBOLS,
	TRACE_CHUNK_RECORDS,
	TRACE_CHUNK_END,
	TRACE_CHUNK_ORIGIN,
	TRACE_CHUNK_DESCS,
	TRACE_CHUNK_NR
};

/* CRC-32C of a chunk's payload, by whichever of SSE4.2 and tables is faster here; each alone for
 * the tests (_hw: -ENOTSUP without SSE4.2). */
uint32_t trace_crc32c(const void *data, size_t len);
uint32_t trace_crc32c_sw(const void *data, size_t len);
int trace_crc32c_hw(const void *data, size_t len, uint32_t *crc);
/* Chunk framing into a buffer: begin returns the header's offset, end fills len/crc/count. */
size_t trace_chunk_begin(struct trace_buf *b, uint32_t type);
void trace_chunk_end(struct trace_buf *b, size_t at, uint32_t count);

struct trace_site_ent {
	uint32_t func, file, line; /* string ids */
};
struct trace_dev_ent {
	uint32_t name, kind; /* kind: virtio device id */
};
struct trace_stack_ent {
	uint32_t n;
	uint64_t pc[TRACE_STACK_MAX];
};

/* The id tables, the same shape in the process (trace/tables.c) and in a file read back. */
struct trace_names {
	char **str;
	size_t nstr, str_cap;
	struct trace_site_ent *site;
	size_t nsite, site_cap;
	struct trace_dev_ent *dev;
	size_t ndev, dev_cap;
	struct trace_stack_ent *stack;
	size_t nstack, stack_cap;
};
int trace_names_add_str(struct trace_names *n, const char *s, size_t len); /* id or -ENOMEM */
void trace_names_free(struct trace_names *n);

/* Where a file's writer is in the process tables; export appends the new entries as chunks and
 * calls on_pc for each new stack address (to find its symbol). */
struct trace_cursor {
	size_t str, site, dev, stack;
};
void trace_tables_export(struct trace_cursor *c, struct trace_buf *out,
			 void (*on_pc)(void *opaque, uint64_t pc), void *opaque);
uint16_t trace_site_intern(struct trace_site *s);

/* --- Guest symbols (trace/symbols.c). --- */
struct trace_sym {
	uint64_t addr;
	uint32_t size; /* 0: up to the next symbol */
	uint32_t name; /* offset in names */
};
struct trace_symtab {
	struct trace_sym *v;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
};
/* Function symbols of an ELF file; -errno with a message in err. */
int trace_symtab_load(struct trace_symtab *t, const char *path, char *err, size_t errlen);
int trace_symtab_add(struct trace_symtab *t, uint64_t addr, uint32_t size, const char *name,
		     size_t len);
void trace_symtab_sort(struct trace_symtab *t);
long trace_symtab_find(const struct trace_symtab *t, uint64_t addr); /* index or -1 */
static inline const char *trace_symtab_name(const struct trace_symtab *t, long i)
{
	return t->names + t->v[i].name;
}
void trace_symtab_free(struct trace_symtab *t);
/* "sym+0x1a" or "0xffffffff81234567" */
const char *trace_symtab_format(const struct trace_symtab *t, uint64_t addr, char *buf, size_t len);

/* Where an imported record came from, and which of its arguments the source did not record
 * (ORIGIN chunks, docs/trace-format.md). Records without one are kvmscope's own: all known. */
struct trace_origin {
	uint32_t rec;	  /* the record's index in the file */
	uint32_t unknown; /* bit i: argument i (catalogue order) not recorded: shown as "?" */
	uint32_t line;	  /* the line of the source log, 0: none */
	uint32_t raw;	  /* string id: that line as the source wrote it, 0: none */
};

/* The descriptors attached to a record (DESCS chunks): n of them in trace_file.desc from first,
 * of the walked the device read. Records without one carry none. */
struct trace_descs_ent {
	uint32_t rec;
	uint16_t n, walked;
	size_t first;
};

/* --- A file read back (trace/reader.c). --- */
struct trace_file {
	const char *path;
	struct trace_file_header hdr;
	char *info; /* "key=value\n" lines */
	size_t info_len, info_cap;
	struct trace_names names;
	struct trace_symtab syms;
	struct trace_rec *rec;
	size_t nrec, rec_cap;
	struct trace_origin *origin; /* in record order; NULL: every record is kvmscope's own */
	size_t norigin, origin_cap;
	struct trace_descs_ent *descs; /* in record order; NULL: no record carries descriptors */
	size_t ndescs, descs_cap;
	struct trace_desc *desc; /* every entry's descriptors, one after the other */
	size_t ndesc, desc_cap;
	bool ended; /* an END chunk was read */
	uint64_t end_records, end_drops;
	char warning[256]; /* non-empty: the file is cut short, read up to there */
};
/* 0, or -1 with "FILE: offset N: what is wrong" in err. */
int trace_file_load(struct trace_file *tf, const char *path, char *err, size_t errlen);
void trace_file_free(struct trace_file *tf);
const char *trace_file_info(const struct trace_file *tf, const char *key, char *buf, size_t len);
const char *trace_file_str(const struct trace_file *tf, uint32_t id);
uint32_t trace_file_dev_kind(const struct trace_file *tf, uint16_t dev);
/* The origin of record r (a pointer into tf->rec), NULL for a record kvmscope made itself. */
const struct trace_origin *trace_file_origin(const struct trace_file *tf,
					     const struct trace_rec *r);
/* The descriptors record r carries (a pointer into tf->rec), NULL for none. */
const struct trace_descs_ent *trace_file_descs(const struct trace_file *tf,
					       const struct trace_rec *r);
/* The events the file could hold (bit per event): those a kvmscope run enabled, or those an
 * imported log has (its `events` info line). What is not in it was not recorded, not absent. */
uint64_t trace_file_recorded(const struct trace_file *tf);
/* "QEMU 7.2 log, line 812": where an imported record came from (the site's file is the source's
 * name); NULL for a record kvmscope made itself. */
const char *trace_rec_source(const struct trace_file *tf, const struct trace_rec *r, char *buf,
			     size_t len);
/* Whether argument i of r is one its source did not record (shown as "?", json null). */
bool trace_arg_unknown(const struct trace_file *tf, const struct trace_rec *r, unsigned i);

/* --- Numbers into words (trace/decode.c). Each returns buf. --- */
const char *trace_decode_status(uint64_t status, char *buf, size_t len);
/* VUREQ, VUFLAGS and VUPAY arguments of the vhost_user_* events (trace/decode-vhost-user.c). */
const char *trace_decode_vhost_user(const struct trace_event_info *e, const uint64_t a[4],
				    unsigned i, char *buf, size_t len);
const char *trace_decode_features(uint64_t bits, unsigned first_bit, uint32_t dev_kind, char *buf,
				  size_t len);
/* Registers by offset; an access of width bytes that covers several names them all. */
const char *trace_decode_pci_reg(unsigned off, unsigned width, uint64_t cap, char *buf, size_t len);
const char *trace_decode_vreg(uint64_t reg, unsigned width, char *buf, size_t len);
const char *trace_decode_devcfg(unsigned off, unsigned width, uint32_t dev_kind, char *buf,
				size_t len);
/* Argument i of record r: words when the format has them, else the number. Returns buf. */
const char *trace_decode_arg(const struct trace_file *tf, const struct trace_rec *r, unsigned i,
			     char *buf, size_t len);
/* Descriptor k of the list a record carries (e): "desc[3] 0x1e4000 len=16 NEXT" (split: its
 * index in the descriptor table), "slot[5] ..." (packed: its ring slot), "table[0] ..." (one in
 * the indirect table the INDIRECT one before it names). Returns buf. */
const char *trace_decode_desc(const struct trace_rec *r, const struct trace_descs_ent *e,
			      const struct trace_desc *list, unsigned k, char *buf, size_t len);
/* Whether r is about a packed ring: a packed_pop, or a used_push with a slot and wrap counter. */
bool trace_rec_packed(const struct trace_rec *r);
/* Whether format f prints a number as is (json: no "decoded" entry). */
bool trace_fmt_is_number(enum trace_fmt f);

/* --- The two paths and their steps (trace/steps.c): which step each record is. --- */
enum trace_path { TRACE_PATH_NONE, TRACE_PATH_INIT, TRACE_PATH_IO };
enum trace_step {
	TRACE_STEP_DEVICE, /* host: the device built (before the driver) */
	TRACE_STEP_PCI,	   /* guest: PCI enumeration, BARs, bus master */
	TRACE_STEP_RESET,  /* virtio 1.2 §3.1.1 steps 1..8 */
	TRACE_STEP_ACK,
	TRACE_STEP_DRIVER,
	TRACE_STEP_FEATURES,
	TRACE_STEP_FEATURES_OK,
	TRACE_STEP_REREAD,
	TRACE_STEP_SETUP,
	TRACE_STEP_DRIVER_OK,
	TRACE_STEP_NOTIFY, /* the IO path */
	TRACE_STEP_POP,
	TRACE_STEP_BACKEND,
	TRACE_STEP_COMPLETE,
	TRACE_STEP_USED,
	TRACE_STEP_IRQ,
	TRACE_STEP_NR,
	TRACE_STEP_NONE = 0xff
};
#define TRACE_INIT_FIRST TRACE_STEP_DEVICE
#define TRACE_INIT_LAST	 TRACE_STEP_DRIVER_OK
#define TRACE_IO_FIRST	 TRACE_STEP_NOTIFY
#define TRACE_IO_LAST	 TRACE_STEP_IRQ

struct trace_step_info {
	const char *name; /* as the path pane shows it */
	const char *num;  /* the step's number in virtio 1.2 §3.1.1, or "" */
	const char *spec; /* the spec section */
	const char *what; /* one line */
};
extern const struct trace_step_info trace_steps[TRACE_STEP_NR];
enum trace_path trace_step_path(unsigned step);
/* "step 5 of §3.1.1: FEATURES_OK", "PCI probe (§4.1.2)", "IO path: pop (§2.7.13)"; "" for
 * TRACE_STEP_NONE. Returns buf. */
const char *trace_step_words(unsigned step, char *buf, size_t len);

/* Per device while tagging, in record order. */
struct trace_dev_state {
	uint8_t step;	/* the init step in progress, TRACE_STEP_NONE before any */
	uint8_t status; /* the device status as last written */
	bool ready;	/* DRIVER_OK set and not reset since */
};

/* Step tags of the records, computed in one pass and extended as records arrive (live). */
struct trace_tags {
	uint8_t *step; /* per record: enum trace_step or TRACE_STEP_NONE */
	size_t n, cap;
	struct trace_dev_state *dev;
	size_t ndev;
};
int trace_tags_update(struct trace_tags *t, const struct trace_file *tf); /* 0 or -ENOMEM */
void trace_tags_free(struct trace_tags *t);

/* --- The writer (trace/writer.c): tests pause it to fill the ring. --- */
void trace_writer_pause(bool paused);
/* A producer's claim passed the ring's wake_at: wake the writer early (the first of the producers
 * that pass it only; a system call once per fill mark, never per record). */
void trace_writer_kick(void);

#endif
