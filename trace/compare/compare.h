/* trace/compare/compare.h - front door of the comparison: other tracers' logs imported into
 * kvmscope's format (trace/compare/import*.c, build.c), the QEMU 7.2 function for each event
 * (qemu-map.c), and `kvmscope diff A B` (diff*.c; diff-labels.c says why a difference is
 * expected), whose model the viewer's --compare reuses.
 * Each side of a diff is a trace file (a kvmscope trace, or a QEMU log imported on the fly); each
 * virtio device in it is cut into driver sessions (reset ... DRIVER_OK ... the next reset), and
 * the last session that reached DRIVER_OK is compared: its PCI enumeration, handshake steps,
 * features, queues, config reads and requests. */
#ifndef KVMSCOPE_TRACE_COMPARE_H
#define KVMSCOPE_TRACE_COMPARE_H

#include "trace/internal.h"

/* `kvmscope import qemu|bpftrace LOG -o FILE` and `kvmscope diff A B` (docs/compare.md). */
int import_cmd_main(int argc, char **argv);
int diff_cmd_main(int argc, char **argv);

/* --- Traces from other tracers (trace/compare/build.c, import*.c; docs/compare.md): an importer
 * fills a struct trace_file in memory, the same shape the reader makes, so dump, stats, view and
 * diff read it unchanged; trace_file_save() writes it in the format of docs/trace-format.md. --- */
struct trace_build {
	struct trace_file tf;
	uint32_t *named; /* string ids deduplicated by trace_build_str() */
	size_t nnamed, named_cap;
	bool oom;
	FILE *diag;	 /* malformed lines are reported here (NULL: only counted) */
	const char *cmd; /* prefix of those reports */
	size_t lines, events, raw, skipped, malformed;
};
int trace_build_init(struct trace_build *b, const char *path);	/* 0 or -ENOMEM */
uint32_t trace_build_str(struct trace_build *b, const char *s); /* a name: deduplicated */
uint32_t trace_build_text(struct trace_build *b, const char *s, size_t len); /* one-off text */
uint16_t trace_build_dev(struct trace_build *b, const char *name, uint32_t kind);
uint16_t trace_build_site(struct trace_build *b, const char *func, const char *file);
/* Grows an array (trace_vec_grow) by one zeroed element; NULL when out of memory (b->oom set). */
void *trace_build_push(struct trace_build *b, void *arrp, size_t *n, size_t *cap, size_t size);
/* A new zeroed record with ts and ev, appended; NULL when out of memory (b->oom set). */
struct trace_rec *trace_build_rec(struct trace_build *b, uint64_t ts, uint16_t ev);
/* Says of the last record made where it came from (line, raw: the line's text as a string id)
 * and which of its arguments the source did not record (bit i: argument i): 0 or -errno. */
int trace_build_origin(struct trace_build *b, uint32_t unknown, uint32_t line, uint32_t raw);
void trace_build_info(struct trace_build *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "EVENT: arguments 'ARGS' do not match 'EXPECTED'", quoting at most a screen line of ARGS. */
void trace_build_bad_args(struct trace_build *b, size_t line, const char *event, const char *args,
			  const char *expected);
/* Counts a malformed input line and reports it ("cmd: path:line: what") on b->diag. */
void trace_build_malformed(struct trace_build *b, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void trace_build_finish(struct trace_build *b, struct trace_file *tf); /* moves the file out */
void trace_build_free(struct trace_build *b);
int trace_file_save(const struct trace_file *tf, const char *path, char *err, size_t errlen);
/* Importers: 0, or -1 with "path: what" in err when the input is not that tracer's log. */
int trace_import_qemu(struct trace_build *b, FILE *in, char *err, size_t errlen);
int trace_import_bpftrace(struct trace_build *b, FILE *in, char *err, size_t errlen);
/* QEMU's monitor's answers saved beside the log (STEM-status.log), if there, as info keys. */
void trace_import_qemu_status(struct trace_build *b, const char *log);
int trace_import_path(struct trace_build *b, const char *path, bool bpftrace, char *err,
		      size_t errlen);
bool trace_path_is_kvt(const char *path); /* starts with the trace magic */
/* Matches a whole line of text against pat, sscanf-like but exact: other characters stand for
 * themselves; %s a word (into *word, *wlen), %d/%u decimal, %x hex digits, %p a pointer (0x... or
 * "(nil)"), numbers into v[0..nv). The number of numbers read, or -1 when the text differs. */
int trace_scan(const char *in, const char *pat, uint64_t *v, unsigned nv, const char **word,
	       size_t *wlen);
/* A kvmscope trace, or a QEMU log imported on the fly (malformed lines reported on stderr
 * prefixed with cmd): 0, or -1 with the reason in err. */
int trace_load_any(struct trace_file *tf, const char *path, const char *cmd, char *err,
		   size_t errlen);

/* --- The QEMU 7.2 function doing the same job as an event (trace/compare/qemu-map.c). --- */
struct qemu_func {
	const char *func; /* "virtio_set_status()" or NULL: QEMU has no counterpart */
	const char *from; /* the callers that reach it, "a() / b()" */
	const char *file; /* in QEMU's tree */
	const char *note; /* what differs, or NULL */
};
const struct qemu_func *qemu_func_for(unsigned ev);

/* --- `kvmscope diff`'s model (trace/compare/diff-model.c). --- */

#define DIFF_SESSIONS_MAX 16
#define DIFF_QUEUES_MAX	  16
#define DIFF_BARS	  7 /* BAR0-5 and the expansion ROM */
#define DIFF_TEXT	  128
#define DIFF_NONE	  SIZE_MAX

/* What a handshake step is about: the report groups and labels steps by it. */
enum diff_kind { DK_STATUS, DK_FEATURES, DK_QUEUE, DK_CONFIG, DK_TRANSPORT, DK_MSIX, DK_PCI, DK_IO };

/* One step of a handshake, normalised: key is what is compared, text what is shown (the key with
 * what differs from run to run, such as ring addresses, left out of the key). */
struct diff_step {
	uint16_t ev;
	uint8_t kind;
	size_t rec;
	char key[DIFF_TEXT], text[DIFF_TEXT];
};

struct diff_session {
	size_t first,
	    last;	  /* its records: from the reset before it to the record before the next */
	size_t driver_ok; /* the DRIVER_OK write, DIFF_NONE: never reached */
	size_t last_status; /* its last status write */
	char path[256];	    /* "reset > ACKNOWLEDGE > ACKNOWLEDGE|DRIVER > ..." */
};

struct diff_queue {
	bool seen, legacy; /* seen: the driver set it up */
	uint32_t size, max_size, vector;
	bool has_vector;
	uint64_t desc, driver, device;
	size_t reqs, notifies, irqs; /* IO after DRIVER_OK on this queue */
};

/* A list of steps: the handshake's, the PCI enumeration's, the IO path's. */
struct diff_steps {
	struct diff_step *v;
	size_t n, cap;
};

struct diff_req {
	size_t pop; /* its chain_pop record: what the source did not log prints as "?" */
	uint32_t queue, head;
	uint64_t type, sector, bytes, status, ns;
	bool done;
};

struct diff_bar {
	bool mapped;
	uint64_t addr, size, type;
};

struct diff_dev {
	uint16_t dev;
	uint32_t kind;
	const char *name;
	int slot; /* its PCI slot on bus 0 (kvmscope's dev_create, QEMU's device name); -1: unknown
		   */
	struct diff_session sess[DIFF_SESSIONS_MAX];
	unsigned nsess;
	int cmp; /* the compared session: the last to reach DRIVER_OK (else the last); -1: none */
	/* PCI enumeration: the device's config accesses between the session before and this one */
	size_t pci_reads, pci_writes;
	struct diff_bar bar[DIFF_BARS]; /* as mapped when the handshake ends */
	uint32_t pci_id;		/* vendor | device << 16 as a read showed it; 0: not seen */
	struct diff_steps pci;		/* BAR sizing and mapping, the capability walk, writes */
	/* the handshake: the compared session up to DRIVER_OK */
	struct diff_steps steps;
	/* IO after DRIVER_OK, the first requests' notifies, pops, completions, interrupts */
	struct diff_steps io;
	size_t io_done, io_irqs; /* completions and interrupts among them */
	uint64_t host_features, dev_features, drv_features, accepted;
	bool has_host_features, has_dev_features, has_drv_features, has_accepted, refused;
	bool has_queues, has_config; /* the side can know them */
	bool snapshot; /* features and queues from QEMU's monitor (info virtio-status), not steps */
	unsigned
	    nq_dev; /* the queues the device has (kvmscope's queue_add, QEMU's num_vqs); 0: ? */
	struct diff_queue q[DIFF_QUEUES_MAX];
	char config[512]; /* device config fields read, in first-read order */
	/* IO: after DRIVER_OK */
	struct diff_req *req;
	size_t nreq, req_cap;
	size_t notify_exit, notify_ioeventfd, notify_empty;
	size_t irq_msix, irq_irqfd, irq_intx, irq_suppressed;
	size_t irq_unknown; /* of a kind the source did not log (a QEMU log without MSI-X state) */
	char backend[64];
	uint64_t wiring;
};

struct diff_side {
	const char *path;
	struct trace_file tf;
	bool qemu;	   /* an imported QEMU log */
	char letter;	   /* 'A' or 'B': how the reports name it */
	uint64_t possible; /* QEMU: the events its log could hold had -trace enabled them */
	uint64_t recorded; /* the events this side could have recorded */
	char transport[32], io_path[96];
	struct diff_dev *dev; /* the virtio devices, in id order */
	size_t ndev, dev_cap;
};

/* Loads path (a kvmscope trace or a QEMU log) and builds the model: 0, or -1 with err. */
int diff_side_load(struct diff_side *s, const char *path, char *err, size_t errlen);
void diff_side_free(struct diff_side *s);
/* "QEMU 7.2 log" or "kvmscope trace" */
const char *diff_side_kind(const struct diff_side *s);

/* --- Alignment (trace/compare/diff-align.c). --- */
/* Edit distance between two sequences: cmp(ctx, i, j) is 0 when a[i] and b[j] are the same, 1 when
 * one may stand for the other (a change), 2 when not. *pairs (malloc'd) gets the alignment in
 * order: (i, j), (i, DIFF_NONE) only in a, (DIFF_NONE, j) only in b. Returns its length or -1. */
struct diff_pair {
	size_t i, j;
};
long diff_edit(size_t na, size_t nb, int (*cmp)(void *ctx, size_t i, size_t j), void *ctx,
	       struct diff_pair **pairs);
enum diff_op { DIFF_SAME, DIFF_CHANGED, DIFF_ONLY_A, DIFF_ONLY_B };
struct diff_row {
	uint8_t op;	   /* enum diff_op */
	const char *label; /* expected: why this difference is not a mismatch; NULL: a mismatch */
	const struct diff_step *a, *b;
};
/* The three parts of a device's run that are aligned step by step. */
enum diff_part { DIFF_PART_PCI, DIFF_PART_HANDSHAKE, DIFF_PART_IO, DIFF_PARTS };
const struct diff_steps *diff_part_steps(const struct diff_dev *d, enum diff_part part);
/* Why side `other` has no step like s, when it could not have recorded one; NULL otherwise. */
const char *diff_unrecorded(const struct diff_side *other, uint16_t ev);

/* --- A device of A and its counterpart in B, compared (trace/compare/diff.c) and reported
 * (trace/compare/diff-report.c). --- */
struct diff_opts {
	bool json, all; /* all: no folding of long one-sided runs */
	size_t requests;
};
struct diff_cmp {
	const struct diff_side *sa, *sb;
	const struct diff_dev *a, *b;
	struct diff_row *rows; /* the handshake */
	long nrows;
	struct diff_row *part_rows[DIFF_PARTS]; /* PCI enumeration and IO (the handshake: rows) */
	long npart_rows[DIFF_PARTS];
	size_t part_mismatches[DIFF_PARTS]; /* their differences no label explains */
	struct diff_pair *reqs;		    /* the first requests */
	long nreqs;
	size_t same, changed, mismatches, labelled;
	size_t state_labelled; /* BARs, feature sets and queues that differ, each labelled */
	bool match;	       /* both reached DRIVER_OK and every difference is labelled */
	bool state_differs;    /* features or queues both sides know differ (summary, not steps) */
};
/* Aligns a part of two devices' runs (edit distance over the steps both sides can record; the
 * others are placed where they happened, labelled). *rows is malloc'd; the number of rows, or
 * -1. */
long diff_align(const struct diff_cmp *p, enum diff_part part, struct diff_row **rows);
/* Pairs each virtio device of A with the next unpaired one of B of the same kind: cmp (room for
 * the smaller side's ndev) gets sa, sb, a, b set; returns how many pairs. */
size_t diff_pair_devices(const struct diff_side *a, const struct diff_side *b,
			 struct diff_cmp *cmp);
/* Aligns a pair's handshake and first requests, counts and the verdict: 0 or -ENOMEM (what was
 * allocated is in p->rows and p->reqs either way, for the caller to free). */
int diff_compare(struct diff_cmp *p, const struct diff_opts *o);
void diff_cmp_free(struct diff_cmp *p); /* what diff_compare allocated */
/* Labels of expected differences (trace/compare/diff-labels.c), NULL when there is none to
 * explain. */
const char *diff_sessions_label(const struct diff_cmp *p);
const char *diff_bar_label(const struct diff_cmp *p, unsigned bar, bool *same);
const char *diff_notify_label(const struct diff_cmp *p);
const char *diff_irq_label(const struct diff_cmp *p);
const char *diff_slot_label(const struct diff_cmp *p);
/* A handshake step only one side has because one run takes INTx and the other MSI-X. */
const char *diff_irq_mode_label(const struct diff_side *sa, const struct diff_dev *da,
				const struct diff_step *a, const struct diff_side *sb,
				const struct diff_dev *db, const struct diff_step *b);
/* One side a legacy device, the other driven through the modern interface (transitional or
 * modern): the differences virtio 1.2 requires are labelled, not mismatches. */
bool diff_interfaces_differ(const struct diff_side *sa, const struct diff_side *sb);
/* Why queue placement differs (legacy PFN against addresses), or NULL. */
const char *diff_queue_label(const struct diff_cmp *p);
/* Why a handshake row (a, b: either may be NULL) differs between the two interfaces, or NULL. */
const char *diff_interface_label(const struct diff_side *sa, const struct diff_step *a,
				 const struct diff_side *sb, const struct diff_step *b);
/* One device has more queues than the other (VIRTIO_BLK_F_MQ): the label, or NULL. */
const char *diff_mq_label(const struct diff_cmp *p);
/* Whether queue q is one only the device with more queues has (diff_mq_label applies). */
bool diff_queue_extra(const struct diff_cmp *p, unsigned q);
/* How the requests spread over the queues differs, the totals being the same: the label. */
const char *diff_queue_spread_label(const struct diff_cmp *p);
/* Why a row of a part (a, b: either may be NULL) differs for the platform, the queue count or
 * the IO path; NULL when nothing explains it. */
const char *diff_step_label(const struct diff_cmp *p, enum diff_part part,
			    const struct diff_step *a, const struct diff_step *b);
/* Why feature sets a and b differ, when every bit apart is explained (docs/pci.md); or NULL. */
const char *diff_features_label(const struct diff_cmp *p, uint64_t a, uint64_t b);
void diff_report_text(FILE *f, const struct diff_side *a, const struct diff_side *b,
		      const struct diff_cmp *cmp, size_t n, const struct diff_opts *o);
void diff_report_json(FILE *f, const struct diff_side *a, const struct diff_side *b,
		      const struct diff_cmp *cmp, size_t n, const struct diff_opts *o);

#endif
