/* tests/unit/test_trace.c - the ring alone (no loss while not full, exact drops when full, order
 * per producer), then the whole path: TRACE() from several threads -> writer -> file -> reader. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/check.h"
#include "trace/internal.h"

#define THREADS 4

struct producer {
	struct trace_ring *ring;
	unsigned id, n;
	uint64_t pushed, dropped;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (unsigned i = 0; i < p->n; i++) {
		uint64_t pos;
		struct trace_rec *r = trace_ring_claim(p->ring, &pos);
		if (!r) {
			p->dropped++;
			continue;
		}
		r->tid = p->id;
		r->a[0] = i;
		trace_ring_commit(p->ring, r, pos);
		p->pushed++;
	}
	return NULL;
}

/* Drains everything; checks each producer's records come in its order with none missing
 * between the ones seen, and the claim order (seq) never goes back. */
static size_t drain_check(struct trace_ring *r, uint64_t next[THREADS], bool *ordered)
{
	struct trace_rec buf[256];
	size_t n, total = 0;
	while ((n = trace_ring_drain(r, buf, 256))) {
		for (size_t i = 0; i < n; i++) {
			if (buf[i].tid >= THREADS || buf[i].a[0] < next[buf[i].tid])
				*ordered = false;
			else
				next[buf[i].tid] = buf[i].a[0] + 1;
		}
		total += n;
	}
	return total;
}

static void test_ring_no_loss(void)
{
	struct trace_ring r;
	struct producer p[THREADS];
	pthread_t t[THREADS];
	uint64_t next[THREADS] = {0};
	bool ordered = true;
	const unsigned n = 20000;

	CHECK(trace_ring_init(&r, THREADS * n * sizeof(struct trace_rec) * 2) == 0, "ring: init");
	for (unsigned i = 0; i < THREADS; i++) {
		p[i] = (struct producer){&r, i, n, 0, 0};
		pthread_create(&t[i], NULL, produce, &p[i]);
	}
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	size_t got = drain_check(&r, next, &ordered);
	CHECK(got == THREADS * n, "ring: %d producers, not full: %zu of %u records", THREADS, got,
	      THREADS * n);
	CHECK(r.drops == 0, "ring: not full: no drops");
	CHECK(ordered, "ring: each producer's records in its order");
	for (unsigned i = 0; i < THREADS; i++)
		CHECK(next[i] == n, "ring: producer %u: all %u records", i, n);
	trace_ring_free(&r);
}

static void test_ring_full(void)
{
	struct trace_ring r;
	struct producer p = {&r, 0, 0, 0, 0};
	uint64_t next[THREADS] = {0};
	bool ordered = true;

	trace_ring_init(&r, 64 * 1024);
	size_t cap = trace_ring_capacity(&r);
	CHECK(cap == 1024, "ring: 64 KiB holds 1024 records (%zu)", cap);
	p.n = cap + 37;
	produce(&p);
	CHECK(p.pushed == cap && p.dropped == 37 && r.drops == 37,
	      "ring: full: exactly 37 dropped and counted (%llu)", (unsigned long long)r.drops);
	CHECK(drain_check(&r, next, &ordered) == cap && ordered, "ring: full: the first %zu kept",
	      cap);
	/* room again after the drain: the next lap works */
	p.n = 10;
	p.pushed = 0;
	produce(&p);
	CHECK(p.pushed == 10, "ring: after a drain the ring takes records again");
	trace_ring_free(&r);
}

/* Producers against a concurrent consumer on a small ring: every record is either read, in
 * order, or counted as dropped. */
static struct trace_ring small_ring;
static bool producers_done;

static void *consume(void *arg)
{
	uint64_t *next = arg;
	bool ordered = true;
	size_t got = 0;
	while (!__atomic_load_n(&producers_done, __ATOMIC_ACQUIRE))
		got += drain_check(&small_ring, next, &ordered);
	got += drain_check(&small_ring, next, &ordered);
	return (void *)(ordered ? got : 0);
}

static void test_ring_concurrent(void)
{
	struct producer p[THREADS];
	pthread_t t[THREADS], c;
	uint64_t next[THREADS] = {0}, pushed = 0;
	void *got;

	trace_ring_init(&small_ring, 64 * 1024);
	pthread_create(&c, NULL, consume, next);
	for (unsigned i = 0; i < THREADS; i++) {
		p[i] = (struct producer){&small_ring, i, 50000, 0, 0};
		pthread_create(&t[i], NULL, produce, &p[i]);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		pushed += p[i].pushed;
	}
	__atomic_store_n(&producers_done, true, __ATOMIC_RELEASE);
	pthread_join(c, &got);
	CHECK((uint64_t)(uintptr_t)got == pushed && pushed + small_ring.drops == THREADS * 50000,
	      "ring: concurrent drain: %llu read + %llu dropped = %u, in order",
	      (unsigned long long)(uintptr_t)got, (unsigned long long)small_ring.drops,
	      THREADS * 50000);
	trace_ring_free(&small_ring);
}

/* --- the whole path --- */

static char path[64];
static uint16_t test_dev;

struct emitter {
	unsigned index, n;
};

static void *emit_events(void *arg)
{
	struct emitter *e = arg;
	trace_thread_set(TRACE_THREAD_VCPU, e->index);
	for (unsigned i = 0; i < e->n; i++)
		TRACE(QUEUE_NOTIFY, test_dev, e->index, TRACE_VIA_IOEVENTFD, i);
	return NULL;
}

static int start(size_t buffer, const char *events)
{
	struct trace_options o = {.path = path, .buffer_bytes = buffer, .events = events};
	strcpy(path, "/tmp/kvmscope-test-XXXXXX");
	int fd = mkstemp(path);
	if (fd >= 0)
		close(fd);
	return trace_start(&o);
}

static void test_pipeline_no_loss(void)
{
	struct emitter e[THREADS];
	pthread_t t[THREADS];
	struct trace_file tf;
	char err[256] = "";
	const unsigned n = 5000;

	test_dev = trace_dev_register("blk0", 2);
	CHECK(start(4 << 20, NULL) == 0, "pipeline: trace_start");
	for (unsigned i = 0; i < THREADS; i++) {
		e[i] = (struct emitter){i, n};
		pthread_create(&t[i], NULL, emit_events, &e[i]);
	}
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	trace_stop();

	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "pipeline: file reads back (%s)",
	      err);
	CHECK(!tf.warning[0] && tf.ended, "pipeline: clean end, no warning (%s)", tf.warning);
	uint64_t next[THREADS] = {0}, last_ts[THREADS] = {0}, count = 0;
	bool ok = true;
	for (size_t i = 0; i < tf.nrec; i++) {
		const struct trace_rec *r = &tf.rec[i];
		if (r->ev != TRACE_EV_QUEUE_NOTIFY)
			continue;
		unsigned v = TRACE_TID_INDEX(r->tid);
		ok &= TRACE_TID_KIND(r->tid) == TRACE_THREAD_VCPU && v < THREADS && r->a[0] == v &&
		      r->a[1] == TRACE_VIA_IOEVENTFD && r->a[2] == next[v] && r->ts >= last_ts[v] &&
		      r->dev == test_dev && r->ts >= tf.hdr.start_ns;
		if (v < THREADS) {
			next[v] = r->a[2] + 1;
			last_ts[v] = r->ts;
		}
		count++;
	}
	CHECK(count == THREADS * n && tf.end_records == count && tf.end_drops == 0,
	      "pipeline: %u threads x %u events: %llu in the file", THREADS, n,
	      (unsigned long long)count);
	CHECK(ok, "pipeline: fields and per-thread order survive the file");
	uint16_t site = tf.nrec ? tf.rec[0].site : 0;
	CHECK(!strcmp(trace_file_str(&tf, tf.names.site[site].func), "emit_events"),
	      "pipeline: the emitting function is recorded (%s)",
	      trace_file_str(&tf, tf.names.site[site].func));
	CHECK(strstr(trace_file_str(&tf, tf.names.site[site].file), "test_trace.c") &&
		  tf.names.site[site].line > 0,
	      "pipeline: and its file:line");
	CHECK(!strcmp(trace_file_str(&tf, tf.names.dev[test_dev].name), "blk0") &&
		  trace_file_dev_kind(&tf, test_dev) == 2,
	      "pipeline: the device name and kind");
	trace_file_free(&tf);
	unlink(path);
}

static void test_pipeline_drops(void)
{
	struct emitter e = {0, 1024 + 100};
	struct trace_file tf;
	char err[256] = "";

	CHECK(start(64 << 10, "notify") == 0, "drops: trace_start with a 64 KiB ring");
	trace_writer_pause(true);
	usleep(5000); /* let a flush in progress finish */
	emit_events(&e);
	trace_writer_pause(false);
	trace_stop();
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "drops: file reads back (%s)",
	      err);
	uint64_t notifies = 0, dropped = 0, total = 0;
	for (size_t i = 0; i < tf.nrec; i++) {
		if (tf.rec[i].ev == TRACE_EV_QUEUE_NOTIFY)
			notifies++;
		if (tf.rec[i].ev == TRACE_EV_TRACE_DROPS) {
			dropped += tf.rec[i].a[0];
			total = tf.rec[i].a[1];
		}
	}
	CHECK(notifies == 1024 && dropped == 100 && total == 100 && tf.end_drops == 100,
	      "drops: 1024 kept, exactly 100 dropped, recorded as trace_drops (%llu, %llu)",
	      (unsigned long long)notifies, (unsigned long long)dropped);
	trace_file_free(&tf);
	unlink(path);
}

static void test_filter_and_off(void)
{
	struct trace_file tf;
	char err[256] = "";

	CHECK(start(0, "virtio-status,-device_reset") == 0, "filter: start with a class minus one");
	CHECK(trace_on(TRACE_EV_VIRTIO_STATUS) && !trace_on(TRACE_EV_DEVICE_RESET) &&
		  !trace_on(TRACE_EV_QUEUE_NOTIFY),
	      "filter: only the chosen events are on");
	TRACE(VIRTIO_STATUS, 0, 0, 1);
	TRACE(DEVICE_RESET, 0, 1);
	TRACE(QUEUE_NOTIFY, 0, 0, 0, 0);
	trace_stop();
	CHECK(!trace_on(TRACE_EV_VIRTIO_STATUS), "filter: all off after trace_stop");
	TRACE(VIRTIO_STATUS, 0, 0, 1); /* must not crash or record */
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0 && tf.nrec == 1 &&
		  tf.rec[0].ev == TRACE_EV_VIRTIO_STATUS,
	      "filter: the file holds the one enabled event (%zu records)", tf.nrec);
	trace_file_free(&tf);
	unlink(path);
}

static unsigned ctx_calls;

static void fake_ctx(void *opaque, uint64_t *rip, uint32_t *stack)
{
	static const uint64_t pcs[] = {0xffffffff81000100, 0xffffffff81000200};
	(void)opaque;
	ctx_calls++;
	*rip = 0xffffffff81000042;
	*stack = trace_stack_intern(pcs, 2);
}

static void test_guest_context(void)
{
	struct trace_file tf;
	char err[256] = "";

	CHECK(start(0, NULL) == 0, "guest ctx: start");
	trace_guest_source(fake_ctx, NULL);
	trace_guest_exit();
	trace_guest_exit(); /* an exit with no event costs no lookup */
	TRACE(VIRTIO_STATUS, 0, 0, 1);
	TRACE(VIRTIO_STATUS, 0, 1, 3);
	CHECK(ctx_calls == 1, "guest ctx: looked up once per exit that records (%u)", ctx_calls);
	trace_guest_source(NULL, NULL);
	trace_guest_exit();
	TRACE(VIRTIO_STATUS, 0, 3, 7);
	trace_stop();
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0 && tf.nrec == 3,
	      "guest ctx: three records");
	const struct trace_rec *r = tf.rec;
	CHECK(r[0].rip == 0xffffffff81000042 && r[1].rip == r[0].rip && r[1].stack == r[0].stack &&
		  r[0].stack && tf.names.stack[r[0].stack].n == 2 &&
		  tf.names.stack[r[0].stack].pc[1] == 0xffffffff81000200,
	      "guest ctx: RIP and stack recorded and stored");
	CHECK(r[2].rip == 0 && r[2].stack == 0, "guest ctx: none without a source");
	trace_file_free(&tf);
	unlink(path);
}

static void test_options(void)
{
	struct trace_options o = {0};
	char *argv[] = {
	    "run",	 "--trace", "t.kvt",  "--trace-buffer=16M", "--trace-events", "pci,irq",
	    "--symbols", "vmlinux", "--other"};
	int argc = sizeof(argv) / sizeof(argv[0]), i, taken = 0;
	for (i = 1; i < argc; i++)
		if (trace_parse_option(&o, argc, argv, &i) == 1)
			taken++;
	CHECK(taken == 4 && !strcmp(o.path, "t.kvt") && o.buffer_bytes == 16 << 20 &&
		  !strcmp(o.events, "pci,irq") && !strcmp(o.symbols, "vmlinux"),
	      "options: --trace, --trace-buffer=, --trace-events, --symbols parsed");
	char *bad1[] = {"run", "--trace-buffer", "12Q"}, *bad2[] = {"run", "--trace-events=nope*"},
	     *bad3[] = {"run", "--trace"};
	i = 1;
	CHECK(trace_parse_option(&o, 3, bad1, &i) == -1, "options: a bad size is refused");
	i = 1;
	CHECK(trace_parse_option(&o, 2, bad2, &i) == -1, "options: a glob matching nothing too");
	i = 1;
	CHECK(trace_parse_option(&o, 2, bad3, &i) == -1, "options: a missing value too");
	/* sizes that wrap past 64 bits or exceed the bound are refused, not read modulo 2^64 */
	char *wrap[] = {"run", "--trace-buffer=17179869185G"},
	     *huge[] = {"run", "--trace-buffer=2G"};
	i = 1;
	CHECK(trace_parse_option(&o, 2, wrap, &i) == -1,
	      "options: 17179869185G (2^64 + 1G) refused");
	i = 1;
	CHECK(trace_parse_option(&o, 2, huge, &i) == -1, "options: a ring above 1G refused");
	uint64_t v = 0;
	CHECK(trace_parse_size("1GiB", &v) == 0 && v == 1ULL << 30 &&
		  trace_parse_size("16777216T", &v) == -EINVAL &&
		  trace_parse_size("17179869184G", &v) == -ERANGE &&
		  trace_parse_size("17179869183G", &v) == 0 && v == 0xffffffffc0000000ULL,
	      "sizes: units, and the largest that fits in 64 bits");
	struct trace_options nofile = {.path = "/nonexistent-dir/t.kvt"};
	CHECK(trace_start(&nofile) < 0, "options: an unwritable file fails trace_start");
}

/* Until the writer has applied a SIGUSR2 (it looks between flushes): false after 5 s. */
static bool notify_becomes(bool on)
{
	for (int i = 0; i < 5000; i++) {
		if (trace_on(TRACE_EV_QUEUE_NOTIFY) == on)
			return true;
		usleep(1000);
	}
	return false;
}

/* A site that saw its event on just before a SIGUSR2 pause and records just after it (the
 * vCPU thread between TRACE's check and trace_emit): the record must not land inside the
 * pause. Seen on kvm_amd, where guest_refresh() between the two can take milliseconds. */
static void test_pause_race(void)
{
	static struct trace_site site = {TRACE_EV_QUEUE_NOTIFY, 0, __func__, __FILE__, __LINE__};
	struct trace_file tf;
	char err[256] = "";
	size_t notifies = 0, pauses = 0;

	CHECK(start(0, "notify") == 0, "pause race: trace_start");
	bool was_on = trace_on(TRACE_EV_QUEUE_NOTIFY); /* TRACE()'s check */
	raise(SIGUSR2);
	bool paused = notify_becomes(false);
	trace_emit(&site, 0, 0, 0, 0, 0); /* ... and its trace_emit, after the pause */
	raise(SIGUSR2);
	bool resumed = notify_becomes(true);
	trace_stop();
	CHECK(was_on && paused && resumed, "pause race: on, paused, resumed by SIGUSR2");
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "pause race: file reads back (%s)",
	      err);
	for (size_t i = 0; i < tf.nrec; i++) {
		notifies += tf.rec[i].ev == TRACE_EV_QUEUE_NOTIFY;
		pauses += tf.rec[i].ev == TRACE_EV_TRACE_PAUSE;
	}
	CHECK(pauses == 2 && notifies == 0,
	      "pause race: the late record is dropped, not put inside the pause (%zu pause "
	      "markers, %zu notify records)",
	      pauses, notifies);
	trace_file_free(&tf);
	unlink(path);
}

/* A file's pause markers, notify records, and those of them between a pause and its resume. */
static void count_in_pauses(const struct trace_file *tf, size_t *pauses, size_t *notifies,
			    size_t *inside)
{
	bool paused = false;
	for (size_t i = 0; i < tf->nrec; i++) {
		if (tf->rec[i].ev == TRACE_EV_TRACE_PAUSE) {
			paused = tf->rec[i].a[0];
			(*pauses)++;
		} else if (tf->rec[i].ev == TRACE_EV_QUEUE_NOTIFY) {
			(*notifies)++;
			*inside += paused;
		}
	}
}

/* A record made at once after a resume may be drained in the same pass as the resume marker;
 * the marker must still come first in the file, or the record reads as made inside the pause
 * (tests/integration/mini.sh saw one so in an L1 run). Many rounds: the window is the writer's
 * own, between putting the events back on and draining. */
static void test_resume_order(void)
{
	static struct trace_site site = {TRACE_EV_QUEUE_NOTIFY, 0, __func__, __FILE__, __LINE__};
	struct trace_file tf;
	char err[256] = "";
	size_t inside = 0, notifies = 0, pauses = 0;
	bool ok = true;
	int rounds = 300;

	CHECK(start(0, "notify") == 0, "resume order: trace_start");
	for (int i = 0; i < rounds && ok; i++) {
		raise(SIGUSR2);
		ok = notify_becomes(false);
		raise(SIGUSR2);
		/* spin, not sleep: the record must come while the writer is still in its pass */
		long spins = 0;
		while (!trace_on(TRACE_EV_QUEUE_NOTIFY) && ++spins < 4000000000L)
			;
		ok = ok && trace_on(TRACE_EV_QUEUE_NOTIFY);
		trace_emit(&site, 0, 0, 0, 0, 0); /* right after the resume */
	}
	trace_stop();
	CHECK(ok, "resume order: %d rounds of pause and resume by SIGUSR2", rounds);
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "resume order: file reads back (%s)",
	      err);
	count_in_pauses(&tf, &pauses, &notifies, &inside);
	CHECK(pauses == 2 * (size_t)rounds && notifies == (size_t)rounds && inside == 0,
	      "resume order: every record after its resume marker (%zu markers, %zu records, %zu "
	      "inside a pause)",
	      pauses, notifies, inside);
	trace_file_free(&tf);
	unlink(path);
}

/* A pause while the ring holds more than one batch (1024 records) of records made before it: the
 * pause marker goes after all of them. It went after the pass's first batch, so the rest read as
 * recorded inside the pause (tests/integration/mini.sh saw it once the writer slept 50 ms). */
static void test_pause_after_backlog(void)
{
	struct emitter e = {0, 3000};
	struct trace_file tf;
	char err[256] = "";
	size_t inside = 0, notifies = 0, pauses = 0;
	bool off, on;

	CHECK(start(0, "notify") == 0, "pause backlog: trace_start");
	trace_writer_pause(true); /* the records wait in the ring */
	usleep(5000);		  /* let a flush in progress finish */
	emit_events(&e);
	raise(SIGUSR2); /* applied by the writer even while it does not drain */
	off = notify_becomes(false);
	trace_writer_pause(false); /* one pass: 3 batches, then the marker */
	struct stat st;		   /* ... written before the resume, or it would be the resume's */
	for (int i = 0; i < 5000 && !(stat(path, &st) == 0 && st.st_size > 3000 * 64); i++)
		usleep(1000);
	raise(SIGUSR2);
	on = notify_becomes(true);
	trace_stop();
	CHECK(off && on, "pause backlog: paused and resumed by SIGUSR2");
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0,
	      "pause backlog: file reads back (%s)", err);
	count_in_pauses(&tf, &pauses, &notifies, &inside);
	CHECK(pauses == 2 && notifies == 3000 && inside == 0,
	      "pause backlog: the 3000 records before the pause marker (%zu markers, %zu records, "
	      "%zu inside the pause)",
	      pauses, notifies, inside);
	trace_file_free(&tf);
	unlink(path);
}

/* A huge size must end in -ENOMEM, not loop for ever while n * 64 wraps (the alarm fails it). */
static void test_ring_huge(void)
{
	struct trace_ring r;
	alarm(10);
	CHECK(trace_ring_init(&r, SIZE_MAX) == -ENOMEM &&
		  trace_ring_init(&r, 1ULL << 63) == -ENOMEM,
	      "ring: sizes of 2^63 and more are refused at once");
	alarm(0);
}

/* Pages of the ring that are resident (mincore). */
static size_t ring_resident(const struct trace_ring *r)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE),
	       len = trace_ring_capacity(r) * sizeof(*r->slots);
	size_t pages = (len + page - 1) / page, n = 0;
	unsigned char *v = calloc(pages, 1);

	if (!v || mincore(r->slots, len, v) < 0) {
		free(v);
		return (size_t)-1;
	}
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	free(v);
	return n;
}

/* An 8 MiB ring costs memory only where records went: the VMM's resident set with tracing on
 * (docs/bench.md) must not carry the whole ring from the start. */
static void test_ring_lazy(void)
{
	struct trace_ring r;
	struct producer p = {&r, 0, 100, 0, 0};
	uint64_t next[THREADS] = {0};
	bool ordered = true;

	CHECK(trace_ring_init(&r, 8 << 20) == 0, "ring: 8 MiB");
	CHECK(ring_resident(&r) == 0, "ring: no page resident after init (%zu)", ring_resident(&r));
	produce(&p);
	size_t n = ring_resident(&r);
	CHECK(n >= 1 && n <= 2, "ring: 100 records make 1-2 pages resident (%zu)", n);
	CHECK(drain_check(&r, next, &ordered) == 100 && ordered, "ring: the 100 drain in order");
	trace_ring_free(&r);
}

int main(void)
{
	test_ring_huge();
	test_ring_lazy();
	test_ring_no_loss();
	test_ring_full();
	test_ring_concurrent();
	test_pipeline_no_loss();
	test_pipeline_drops();
	test_filter_and_off();
	test_pause_race();
	test_resume_order();
	test_pause_after_backlog();
	test_guest_context();
	test_options();
	return CHECK_DONE();
}
