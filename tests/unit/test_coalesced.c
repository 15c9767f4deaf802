/* tests/unit/test_coalesced.c - KVM's coalesced ring as kvmscope applies it, and the console's
 * output: the UART's transmit-register writes taken from a ring (wrapping round its end) reach
 * the console in the order the guest made them, none lost, each traced with its byte and no
 * guest context; a partial line waits for its newline, an IER write or a flush. No /dev/kvm:
 * the ring is a page of this process, as KVM lays it out. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/serial_reg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/internal.h"
#include "tests/check.h"
#include "trace/internal.h"

#define PAGE 4096u
#define MAX  ((PAGE - sizeof(struct kvm_coalesced_mmio_ring)) / sizeof(struct kvm_coalesced_mmio))

static union {
	struct kvm_coalesced_mmio_ring ring;
	uint8_t page[PAGE];
} r;

/* As KVM's coalesced_mmio_write() does: the entry at last, then last moves on. */
static void kvm_put(uint64_t addr, const char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct kvm_coalesced_mmio *e = &r.ring.coalesced_mmio[r.ring.last];
		*e = (struct kvm_coalesced_mmio){.phys_addr = addr, .len = 1, .pio = 1};
		e->data[0] = (uint8_t)bytes[i];
		r.ring.last = (r.ring.last + 1) % MAX;
	}
}

/* Everything the console's fd holds now. */
static size_t drain_pipe(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (size_t)n : 0;
}

/* A second device on the bus: the order across devices is kept too. */
static char other_log[64];
static size_t other_n;
static void other_io(struct io_dev *d, uint64_t off, void *data, uint32_t len, bool wr)
{
	(void)d;
	(void)off;
	(void)len;
	if (wr && other_n < sizeof(other_log) - 1)
		other_log[other_n++] = *(char *)data;
}

/* The guest context a vCPU thread's exit would give: a RIP the coalesced writes must not get. */
static void fake_context(void *opaque, uint64_t *rip, uint32_t *stack)
{
	(void)opaque;
	*rip = 0xffffffff81234567ULL;
	*stack = 0;
}

int main(void)
{
	char path[] = "/tmp/kvmscope-coalesced-XXXXXX", err[256] = "", out[4096];
	struct trace_options o = {.path = path, .events = "*"};
	struct vm vm = {.vm_fd = -1}; /* no KVM: the UART's interrupt line goes nowhere */
	struct io_dev other = {.base = 0x80, .len = 1, .io = other_io, .name = "other"};
	struct bus mmio;
	int p[2];

	close(mkstemp(path));
	CHECK(trace_start(&o) == 0, "trace started");
	CHECK(pipe2(p, O_NONBLOCK) == 0, "a pipe for the console");
	bus_init(&vm.pio);
	bus_init(&mmio);
	bus_add(&vm.pio, &other);
	struct serial *s = serial_create(&vm, p[1]);
	CHECK(s != NULL, "a UART without KVM");

	/* as on a vCPU thread that just returned from KVM_RUN */
	trace_guest_source(fake_context, NULL);
	trace_guest_exit();

	/* 1: a line in the ring, across its end, then a write to another port */
	r.ring.first = r.ring.last = MAX - 5;
	kvm_put(PORT_COM1, "hello, ", 7);
	kvm_put(0x80, "X", 1);
	kvm_put(PORT_COM1, "world\n", 6);
	unsigned n = coalesced_ring_apply(&r.ring, MAX, &vm.pio, &mmio);
	drain_pipe(p[0], out, sizeof(out));
	CHECK(n == 14 && r.ring.first == r.ring.last && r.ring.last == 9,
	      "14 writes applied across the ring's end, first caught up with last (%u, %u/%u)", n,
	      r.ring.first, r.ring.last);
	CHECK(!strcmp(out, "hello, world\n"), "the console got the line in order");
	CHECK(other_n == 1 && other_log[0] == 'X', "the other port's write was applied too");

	/* 2: a partial line waits; an IER write (Linux ends each console write so) sends it */
	kvm_put(PORT_COM1, "# ", 2);
	coalesced_ring_apply(&r.ring, MAX, &vm.pio, &mmio);
	CHECK(drain_pipe(p[0], out, sizeof(out)) == 0, "a prompt without newline is held");
	uint8_t ier = UART_IER_RDI;
	bus_dispatch(&vm.pio, PORT_COM1 + UART_IER, &ier, 1, true);
	drain_pipe(p[0], out, sizeof(out));
	CHECK(!strcmp(out, "# "), "an IER write sends the held prompt: '%s'", out);

	/* 3: serial_flush (the console loop's tick, the end of the run) sends what is held */
	kvm_put(PORT_COM1, "ab", 2);
	coalesced_ring_apply(&r.ring, MAX, &vm.pio, &mmio);
	serial_flush(s);
	drain_pipe(p[0], out, sizeof(out));
	CHECK(!strcmp(out, "ab"), "serial_flush sends a partial line: '%s'", out);

	/* 4: a long line without newline: written in pieces as the buffer fills, none lost */
	char big[1500];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	size_t got = 0;
	bool same = true;
	for (size_t i = 0; i < sizeof(big); i += 100) {
		kvm_put(PORT_COM1, big + i, 100);
		coalesced_ring_apply(&r.ring, MAX, &vm.pio, &mmio);
		size_t k = drain_pipe(p[0], out, sizeof(out));
		same = same && !memcmp(out, big + got, k);
		got += k;
	}
	serial_flush(s);
	size_t k = drain_pipe(p[0], out, sizeof(out));
	same = same && !memcmp(out, big + got, k);
	got += k;
	CHECK(got == sizeof(big) && same, "1500 bytes in 100-byte batches arrive whole (%zu)", got);

	/* after the ring, the exit's own events have its guest context again */
	TRACE(GUEST_MARKER, 0, 0);

	/* 5: indices KVM never wrote (out of range) are left alone */
	r.ring.first = MAX + 3;
	CHECK(coalesced_ring_apply(&r.ring, MAX, &vm.pio, &mmio) == 0 && r.ring.first == MAX + 3,
	      "a ring with an index out of range applies nothing");

	serial_destroy(s);
	trace_stop();
	struct trace_file tf;
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "the trace reads back (%s)", err);
	char traced[2048];
	size_t nt = 0, others = 0;
	bool no_ctx = true;
	for (size_t i = 0; i < tf.nrec; i++) {
		const struct trace_rec *t = &tf.rec[i];
		if (t->ev != TRACE_EV_COALESCED_IO)
			continue;
		no_ctx = no_ctx && t->rip == 0 && t->stack == 0 && (t->a[1] >> 32) == 1;
		if (t->a[0] == PORT_COM1 && nt < sizeof(traced) - 1)
			traced[nt++] = (char)t->a[2];
		else
			others++;
	}
	traced[nt] = 0;
	bool marker_ctx = false;
	for (size_t i = 0; i < tf.nrec; i++)
		if (tf.rec[i].ev == TRACE_EV_GUEST_MARKER)
			marker_ctx = tf.rec[i].rip == 0xffffffff81234567ULL;
	CHECK(marker_ctx, "the exit's own event after the ring has the exit's guest RIP");
	CHECK(nt == 13 + 2 + 2 + sizeof(big) && others == 1 &&
		  !strncmp(traced, "hello, world\n# ab", 17),
	      "each applied write is one coalesced_io record with its byte, in order (%zu + %zu)",
	      nt, others);
	CHECK(no_ctx, "coalesced_io records carry no guest RIP or stack, and pio=1");
	trace_file_free(&tf);
	unlink(path);
	return CHECK_DONE();
}
