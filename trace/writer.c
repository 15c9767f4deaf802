/* trace/writer.c - `kvmscope run --trace FILE`: the options, trace_start()/trace_stop(), and the
 * background thread that drains the ring into the file in self-contained chunks, tables first,
 * so a file cut short by kill -9 still reads back up to its last complete record. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "trace/internal.h"

#define BATCH 1024 /* records per RECORDS chunk */
/* The writer drains the ring when producers fill a quarter of it past what it last drained
 * (the first producer past the mark wakes it) or when its period has passed, whichever comes
 * first. It used to wake every 2 ms, 500 times a second however little there was, and where the
 * writer's CPU time is the vCPU's (a nested KVM on one host thread), each pass cost the guest.
 * The period is the time the producers took, at the last pass's rate, to fill an eighth of the
 * ring, from 2 to 50 ms: a producer's wake-up can wait for a CPU (on a loaded host, or in L1 for
 * its one host thread), which a small ring filling fast cannot afford. */
#define WAKE_NS_MAX 50000000
#define WAKE_NS_MIN 2000000
#define PERIOD_PART 8 /* the period: the time to fill 1/PERIOD_PART of the ring */
#define WAKE_FILL   4 /* the mark: 1/WAKE_FILL of the ring */
/* The ring is mapped, not written (its memory grows with use), so each page's first record took
 * two page faults on the producer's thread (the read of a slot's sequence word mapped the zero
 * page, the write copied it): a vCPU stopped in its exit handling twice per 64 records, a large
 * part of a traced run's cost on a nested KVM. The writer keeps the next
 * PREFAULT bytes past the head resident, in one madvise per wake-up, until the ring has gone
 * round once (then every page is). */
#define PREFAULT     (1u << 20)
#define STOP_WAIT_MS 100 /* how long trace_stop waits for a record still being written */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, stop, paused, failed;
	int fd;
	char path[4096];
	struct trace_cursor cursor;
	struct trace_symtab syms;
	bool *sym_sent;
	long *sym_pending;
	size_t nsym_pending, sym_pending_cap;
	struct trace_buf out;
	struct trace_rec batch[BATCH + 2]; /* + a trace_drops and a trace_pause record */
	uint64_t drops_reported, records;
	size_t prefaulted; /* bytes of the ring from its start made resident ahead of producers */
	uint64_t last_pass_ns; /* when the last pass began (period) */
	/* SIGUSR2 pauses and resumes recording: the handler counts, the writer applies */
	unsigned toggles_seen;
	bool rec_off, pause_pending;
	uint64_t mask_saved, pause_ns;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .fd = -1};

static unsigned toggles_asked; /* SIGUSR2s so far: written only by the signal handler */

static pthread_mutex_t info_lock = PTHREAD_MUTEX_INITIALIZER;
static struct trace_buf info_pending;
static uint32_t info_lines;

void trace_info(const char *key, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n = snprintf(line, sizeof(line), "%s=", key);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	strcat(line, "\n");
	pthread_mutex_lock(&info_lock);
	trace_buf_put(&info_pending, line, strlen(line));
	info_lines++;
	pthread_mutex_unlock(&info_lock);
}

static void want_symbol(void *opaque, uint64_t addr)
{
	(void)opaque;
	long i = trace_symtab_find(&w.syms, addr);
	if (i < 0 || w.sym_sent[i] ||
	    trace_vec_grow(&w.sym_pending, &w.sym_pending_cap, w.nsym_pending + 1, sizeof(long)))
		return;
	w.sym_sent[i] = true;
	w.sym_pending[w.nsym_pending++] = i;
}

static void put_symbols(struct trace_buf *b)
{
	if (!w.nsym_pending)
		return;
	size_t at = trace_chunk_begin(b, TRACE_CHUNK_SYMBOLS);
	for (size_t k = 0; k < w.nsym_pending; k++) {
		const struct trace_sym *s = &w.syms.v[w.sym_pending[k]];
		const char *name = trace_symtab_name(&w.syms, w.sym_pending[k]);
		uint32_t len = strlen(name);
		trace_buf_put(b, &s->addr, sizeof(s->addr));
		trace_buf_put(b, &s->size, sizeof(s->size));
		trace_buf_put(b, &len, sizeof(len));
		trace_buf_put(b, name, len);
	}
	trace_chunk_end(b, at, w.nsym_pending);
	w.nsym_pending = 0;
}

static void put_info(struct trace_buf *b)
{
	pthread_mutex_lock(&info_lock);
	if (info_lines) {
		size_t at = trace_chunk_begin(b, TRACE_CHUNK_INFO);
		trace_buf_put(b, info_pending.p, info_pending.len);
		trace_chunk_end(b, at, info_lines);
		info_pending.len = 0;
		info_lines = 0;
	}
	pthread_mutex_unlock(&info_lock);
}

/* The file is written whole chunks at a time; a failure stops tracing, once, with a message. */
static void write_out(struct trace_buf *b)
{
	size_t done = 0;
	if (b->oom && !w.failed) {
		fprintf(stderr, "kvmscope: trace %s: out of memory; tracing stopped\n", w.path);
		w.failed = true;
	}
	while (!w.failed && done < b->len) {
		ssize_t n = write(w.fd, b->p + done, b->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "kvmscope: trace %s: write failed: %s; tracing stopped\n",
				w.path, n < 0 ? strerror(errno) : "no progress");
			w.failed = true;
			break;
		}
		done += n;
	}
	if (w.failed)
		__atomic_store_n(&trace_mask, 0, __ATOMIC_RELAXED);
	b->len = 0;
	b->oom = false;
}

/* A record of the writer's own, outside the ring (so a full ring or a zero mask cannot lose it). */
static struct trace_rec writer_rec(unsigned ev, uint64_t ts, uint64_t a0, uint64_t a1)
{
	return (struct trace_rec){.ts = ts,
				  .seq = UINT32_MAX,
				  .ev = ev,
				  .tid = TRACE_TID(TRACE_THREAD_WRITER, 0),
				  .a = {a0, a1}};
}

/* The drained slots' extension slots out of the batch, into a DESCS chunk entry per record
 * that had them (docs/trace-format.md); returns the records left, in order. */
static size_t take_descs(size_t n, struct trace_buf *descs, uint32_t *count)
{
	size_t nrec = 0;
	for (size_t i = 0; i < n; nrec++) {
		struct trace_rec *r = &w.batch[i];
		size_t k = 1 + TRACE_REC_EXT(r->ev);
		if (__builtin_expect(k == 1, 1)) { /* most records: nothing to take */
			if (nrec != i) /* only behind a record that had extension slots */
				w.batch[nrec] = *r;
			i++;
			continue;
		}
		if (i + k <= n) {
			const struct trace_ext_slot *x = (const void *)&w.batch[i + 1];
			uint32_t rec = w.records + nrec;
			uint16_t m = x->n < TRACE_DESCS_MAX ? x->n : TRACE_DESCS_MAX;
			trace_buf_put(descs, &rec, sizeof(rec));
			trace_buf_put(descs, &m, sizeof(m));
			trace_buf_put(descs, &x->walked, sizeof(x->walked));
			for (uint16_t j = 0; j < m; j++)
				trace_buf_put(descs, &x[j / TRACE_EXT_PER].d[j % TRACE_EXT_PER],
					      sizeof(struct trace_desc));
			(*count)++;
		}
		r->ev = TRACE_REC_EV(r->ev);
		if (nrec != i) /* only behind a record that had extension slots */
			w.batch[nrec] = *r;
		i += k;
	}
	return nrec;
}

/* n records as one RECORDS chunk of the output. */
static void put_records(const struct trace_rec *recs, size_t n)
{
	size_t at = trace_chunk_begin(&w.out, TRACE_CHUNK_RECORDS);

	trace_buf_put(&w.out, recs, n * sizeof(*recs));
	trace_chunk_end(&w.out, at, (uint32_t)n);
	w.records += n;
}

/* One pass: everything the ring holds now, as [INFO] [tables] [SYMBOLS] RECORDS [DESCS]. */
static size_t flush(void)
{
	static struct trace_buf descs;
	size_t n, all = 0;
	bool more;
	if (w.pause_pending && !w.rec_off) {
		/* Resumed: whatever the ring holds now was recorded once the events were back on,
		 * so the marker goes before it, in a chunk of its own (after it, a record made
		 * between the resume and this drain looked as if it had been recorded inside the
		 * pause). */
		struct trace_rec m =
		    writer_rec(TRACE_EV_TRACE_PAUSE, w.pause_ns, 0, w.toggles_seen);
		put_records(&m, 1);
		w.pause_pending = false;
	}
	do {
		n = trace_ring_drain(&trace_ring_main, w.batch, BATCH);
		all += n;
		more = n + TRACE_EXT_SLOTS_MAX >= BATCH; /* the batch was full: more may wait */
		uint64_t drops = __atomic_load_n(&trace_ring_main.drops, __ATOMIC_RELAXED);
		uint32_t ndescs = 0;
		descs.len = 0;
		size_t nrec = take_descs(n, &descs, &ndescs);
		if (drops != w.drops_reported) { /* never silent: the loss is itself a record */
			w.batch[nrec++] = writer_rec(TRACE_EV_TRACE_DROPS, trace_now_ns(),
						     drops - w.drops_reported, drops);
			w.drops_reported = drops;
		}
		/* paused: after everything that came before (the last batch of the pass: a ring
		 * that held more than one batch once put records made before the pause after its
		 * marker); the gap must show */
		if (w.pause_pending && !more) {
			w.batch[nrec++] =
			    writer_rec(TRACE_EV_TRACE_PAUSE, w.pause_ns, w.rec_off, w.toggles_seen);
			w.pause_pending = false;
		}
		put_info(&w.out);
		trace_tables_export(&w.cursor, &w.out, w.sym_sent ? want_symbol : NULL, NULL);
		/* the records of one exit share its RIP: one lookup for a run of them */
		for (size_t i = 0, last = 0; w.sym_sent && i < nrec; i++)
			if (w.batch[i].rip && w.batch[i].rip != last)
				want_symbol(NULL, last = w.batch[i].rip);
		put_symbols(&w.out);
		if (nrec)
			put_records(w.batch, nrec);
		w.out.oom |= descs.oom;
		descs.oom = false;
		if (ndescs) { /* after the records they belong to */
			size_t at = trace_chunk_begin(&w.out, TRACE_CHUNK_DESCS);
			trace_buf_put(&w.out, descs.p, descs.len);
			trace_chunk_end(&w.out, at, ndescs);
		}
		write_out(&w.out);
	} while (more);
	return all;
}

static void on_sigusr2(int sig)
{
	(void)sig;
	__atomic_add_fetch(&toggles_asked, 1, __ATOMIC_RELAXED);
}

/* An odd number of SIGUSR2s since the last look: pause recording (every event off) or resume it
 * (the events chosen at start), and say so once on stderr and once in the file. */
static void apply_toggles(void)
{
	unsigned asked = __atomic_load_n(&toggles_asked, __ATOMIC_RELAXED);
	bool flip = (asked - w.toggles_seen) & 1;

	w.toggles_seen = asked;
	if (!flip || w.failed)
		return;
	w.rec_off = !w.rec_off;
	/* The marker's time brackets the switch so that no record lands inside the pause: off
	 * first, then the time (trace_emit drops a record stamped after it); on resume the time
	 * first, then on (a record that sees it on is stamped after the marker). */
	if (w.rec_off) {
		w.mask_saved = __atomic_exchange_n(&trace_mask, 0, __ATOMIC_SEQ_CST);
		w.pause_ns = trace_now_ns();
	} else {
		w.pause_ns = trace_now_ns();
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(&trace_mask, w.mask_saved, __ATOMIC_SEQ_CST);
	}
	w.pause_pending = true;
	fprintf(stderr, "kvmscope: trace %s: recording %s (SIGUSR2 to %s it)\n", w.path,
		w.rec_off ? "paused" : "resumed", w.rec_off ? "resume" : "pause");
}

/* Pages of the ring the producers will reach next, made resident without writing them (a zero
 * page is an empty slot); where the kernel has no MADV_POPULATE_WRITE (before 5.14) the
 * producers fault them in as before. */
static void prefault(void)
{
	struct trace_ring *r = &trace_ring_main;
	size_t size = trace_ring_capacity(r) * sizeof(struct trace_rec), page = 4096;
	size_t ahead = PREFAULT < size / WAKE_FILL ? PREFAULT : size / WAKE_FILL;
	size_t want =
	    __atomic_load_n(&r->head, __ATOMIC_RELAXED) * sizeof(struct trace_rec) + ahead;

	if (w.prefaulted >= size || want <= w.prefaulted)
		return;
	want = want < size ? (want + page - 1) / page * page : size;
#ifdef MADV_POPULATE_WRITE
	if (madvise((char *)r->slots + w.prefaulted, want - w.prefaulted, MADV_POPULATE_WRITE))
		want = size; /* not here: stop trying */
#else
	want = size;
#endif
	w.prefaulted = want;
}

/* After a pass that drained n records: how long to sleep (above). */
static long period(size_t n)
{
	uint64_t now = trace_now_ns(), since = now - w.last_pass_ns;
	double ns =
	    (double)since * (trace_ring_capacity(&trace_ring_main) / PERIOD_PART) / (n ? n : 1);

	if (!w.last_pass_ns) /* the first pass: no rate yet */
		ns = 0;
	w.last_pass_ns = now;
	return ns < WAKE_NS_MIN ? WAKE_NS_MIN : ns > WAKE_NS_MAX ? WAKE_NS_MAX : (long)ns;
}

void trace_writer_kick(void)
{
	if (__atomic_exchange_n(&trace_ring_main.wake_at, UINT64_MAX, __ATOMIC_SEQ_CST) ==
	    UINT64_MAX)
		return; /* another producer was first, or the writer is not waiting for a mark */
	/* under the lock: the writer holds it from its look at head until it waits */
	pthread_mutex_lock(&w.lock);
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
}

/* Under w.lock, after a pass: the fill mark a producer wakes the writer at (none while paused).
 * False when producers are past it already: drain again at once. The mark is stored before head
 * is read, as a producer claims before it reads the mark, so one of the two sees the other. */
static bool arm(void)
{
	struct trace_ring *r = &trace_ring_main;
	uint64_t mark = w.paused ? UINT64_MAX : r->tail + trace_ring_capacity(r) / WAKE_FILL;

	__atomic_store_n(&r->wake_at, mark, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&r->head, __ATOMIC_SEQ_CST) < mark;
}

static void *writer_main(void *arg)
{
	(void)arg;
	trace_thread_set(TRACE_THREAD_WRITER, 0);
	pthread_mutex_lock(&w.lock);
	while (!w.stop) {
		apply_toggles();
		long wait = WAKE_NS_MAX;
		if (!w.paused) {
			pthread_mutex_unlock(&w.lock);
			prefault();
			wait = period(flush());
			pthread_mutex_lock(&w.lock);
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += wait;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		if (arm() && !w.stop) /* a kick or trace_stop signals; both hold w.lock */
			pthread_cond_timedwait(&w.cond, &w.lock, &until);
	}
	__atomic_store_n(&trace_ring_main.wake_at, UINT64_MAX, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&w.lock);

	/* a producer that passed the mask check just before trace_stop may still be writing */
	for (int ms = 0; ms < STOP_WAIT_MS && (flush(), trace_ring_busy(&trace_ring_main)); ms++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	flush();
	struct {
		uint64_t records, drops, end_ns;
	} end = {w.records, w.drops_reported, trace_now_ns()};
	size_t at = trace_chunk_begin(&w.out, TRACE_CHUNK_END);
	trace_buf_put(&w.out, &end, sizeof(end));
	trace_chunk_end(&w.out, at, 1);
	write_out(&w.out);
	return NULL;
}

void trace_writer_pause(bool paused)
{
	pthread_mutex_lock(&w.lock);
	w.paused = paused;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
}

/* --symbols, else "vmlinux" beside the kernel, else the kernel itself when it is an ELF. Only an
 * explicit --symbols that fails is an error. */
static int load_symbols(const struct trace_options *o)
{
	char err[512], guess[4096];
	const char *tried = NULL;

	if (o->symbols) {
		if (trace_symtab_load(&w.syms, o->symbols, err, sizeof(err)) < 0) {
			fprintf(stderr, "kvmscope: --symbols %s\n", err);
			return -EINVAL;
		}
		tried = o->symbols;
	} else if (o->kernel) {
		snprintf(guess, sizeof(guess), "%s", o->kernel);
		snprintf(guess, sizeof(guess), "%s/vmlinux", dirname(guess));
		if (trace_symtab_load(&w.syms, guess, err, sizeof(err)) == 0)
			tried = guess;
		else if (trace_symtab_load(&w.syms, o->kernel, err, sizeof(err)) == 0)
			tried = o->kernel;
	}
	if (tried) {
		w.sym_sent = calloc(w.syms.n, sizeof(bool));
		if (!w.sym_sent)
			return -ENOMEM;
		trace_info("symbols", "%s (%zu functions)", tried, w.syms.n);
	} else {
		trace_info("symbols", "none");
	}
	return 0;
}

static void start_info(const struct trace_options *o, uint64_t ring_records)
{
	struct utsname u;
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	trace_info("clock", "CLOCK_MONOTONIC");
	trace_info("start_realtime_ns", "%llu",
		   (unsigned long long)wall.tv_sec * 1000000000 + wall.tv_nsec);
	if (uname(&u) == 0)
		trace_info("host", "%s %s %s", u.sysname, u.release, u.machine);
	trace_info("pid", "%d", (int)getpid());
	if (o->kernel)
		trace_info("kernel", "%s", o->kernel);
	trace_info("events", "%s", o->events ? o->events : "default (every class but exit)");
	trace_info("ring_records", "%llu", (unsigned long long)ring_records);
}

static void writer_reset(void)
{
	trace_symtab_free(&w.syms);
	free(w.sym_sent);
	w.sym_sent = NULL;
	w.nsym_pending = 0;
	w.cursor = (struct trace_cursor){0};
	w.stop = w.paused = w.failed = false;
	w.records = 0;
	w.prefaulted = 0;
	w.last_pass_ns = 0;
	w.rec_off = w.pause_pending = false;
	w.toggles_seen = __atomic_load_n(&toggles_asked, __ATOMIC_RELAXED);
}

int trace_path_writable(const char *path)
{
	struct stat st;
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? -EISDIR : access(path, W_OK) ? -errno : 0;
	if (errno != ENOENT)
		return -errno;
	return access(dirname(dir), W_OK | X_OK) ? -errno : 0; /* the file is created in it */
}

int trace_check(const struct trace_options *o)
{
	int r = o->path ? trace_path_writable(o->path) : 0;
	if (r < 0)
		fprintf(stderr, "kvmscope: --trace %s: %s\n", o->path, strerror(-r));
	return r;
}

int trace_start(const struct trace_options *o)
{
	char err[256];
	uint64_t mask = TRACE_MASK_DEFAULT;
	size_t bytes = o->buffer_bytes ? o->buffer_bytes : TRACE_BUFFER_DEFAULT;
	int ret;

	if (w.running)
		return -EBUSY;
	if (o->events &&
	    trace_events_mask(o->events, TRACE_MASK_DEFAULT, &mask, err, sizeof(err))) {
		fprintf(stderr, "kvmscope: --trace-events %s: %s\n", o->events, err);
		return -EINVAL;
	}
	if (bytes < TRACE_BUFFER_MIN || bytes > TRACE_BUFFER_MAX) {
		fprintf(stderr, "kvmscope: --trace-buffer %zu: from %u to %u bytes\n", bytes,
			TRACE_BUFFER_MIN, TRACE_BUFFER_MAX);
		return -EINVAL;
	}
	writer_reset();
	snprintf(w.path, sizeof(w.path), "%s", o->path);
	if ((ret = load_symbols(o)) < 0)
		return ret;
	w.fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w.fd < 0) {
		ret = -errno;
		fprintf(stderr, "kvmscope: --trace %s: %s\n", o->path, strerror(errno));
		return ret;
	}
	trace_ring_free(&trace_ring_main);
	if (trace_ring_init(&trace_ring_main, bytes) < 0) {
		fprintf(stderr, "kvmscope: --trace-buffer %zu: out of memory\n", bytes);
		close(w.fd);
		return -ENOMEM;
	}
	w.drops_reported = 0;
	start_info(o, trace_ring_capacity(&trace_ring_main));

	struct trace_file_header h = {.version = TRACE_VERSION,
				      .header_size = sizeof(h),
				      .record_size = sizeof(struct trace_rec),
				      .clock = TRACE_CLOCK_MONO,
				      .start_ns = trace_now_ns()};
	memcpy(h.magic, TRACE_MAGIC, sizeof(h.magic));
	trace_buf_put(&w.out, &h, sizeof(h));
	write_out(&w.out);
	if (w.failed || (ret = -pthread_create(&w.thread, NULL, writer_main, NULL))) {
		close(w.fd);
		return w.failed ? -EIO : ret;
	}
	pthread_setname_np(w.thread, "trace-writer");
	w.running = true;
	__atomic_store_n(&trace_mask, mask, __ATOMIC_RELEASE);
	/* SA_RESTART: a write or read of another thread must not fail for it */
	sigaction(SIGUSR2, &(struct sigaction){.sa_handler = on_sigusr2, .sa_flags = SA_RESTART},
		  NULL);
	return 0;
}

void trace_stop(void)
{
	if (!w.running)
		return;
	__atomic_store_n(&trace_mask, 0, __ATOMIC_RELEASE);
	pthread_mutex_lock(&w.lock);
	w.stop = true;
	w.paused = false;
	pthread_cond_signal(&w.cond);
	pthread_mutex_unlock(&w.lock);
	pthread_join(w.thread, NULL);
	close(w.fd);
	w.fd = -1;
	w.running = false;
	if (w.drops_reported)
		fprintf(stderr,
			"kvmscope: trace %s: %llu records lost to a full ring; try a larger "
			"--trace-buffer\n",
			w.path, (unsigned long long)w.drops_reported);
	trace_buf_free(&w.out);
	writer_reset();
	/* the ring stays allocated: a late producer may still hold a pointer into it */
}

int trace_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned shift = 0;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'G':
		shift += 10; /* fall through */
	case 'M':
		shift += 10; /* fall through */
	case 'K':
		shift += 10;
		end++;
		if (*end == 'i')
			end++;
		break;
	}
	if (toupper((unsigned char)*end) == 'B')
		end++;
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX >> shift) /* before the shift: 17179869185G is not 1G */
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int trace_parse_option(struct trace_options *o, int argc, char **argv, int *i)
{
	static const char *const names[] = {"--trace", "--trace-events", "--trace-buffer",
					    "--symbols"};
	const char *arg = argv[*i], *val;
	char err[256];
	unsigned k;
	size_t len = 0;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		len = strlen(names[k]);
		if (!strncmp(arg, names[k], len) && (arg[len] == 0 || arg[len] == '='))
			break;
	}
	if (k == sizeof(names) / sizeof(names[0]))
		return 0;
	if (arg[len] == '=') {
		val = arg + len + 1;
	} else if (*i + 1 < argc) {
		val = argv[++*i];
	} else {
		fprintf(stderr, "kvmscope: %s needs a value\n", names[k]);
		return -1;
	}
	uint64_t mask, size;
	switch (k) {
	case 0:
		o->path = val;
		break;
	case 1:
		if (trace_events_mask(val, TRACE_MASK_DEFAULT, &mask, err, sizeof(err))) {
			fprintf(stderr, "kvmscope: --trace-events %s: %s\n", val, err);
			return -1;
		}
		o->events = val;
		break;
	case 2:
		if (trace_parse_size(val, &size) || size < TRACE_BUFFER_MIN ||
		    size > TRACE_BUFFER_MAX) {
			fprintf(stderr,
				"kvmscope: --trace-buffer %s: expected a size from 64K to 1G, "
				"like 16M\n",
				val);
			return -1;
		}
		o->buffer_bytes = size;
		break;
	default:
		o->symbols = val;
		break;
	}
	return 1;
}
