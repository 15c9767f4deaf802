/* trace/compare/import-bpftrace.c - `kvmscope import bpftrace LOG`: the host's view of a VMM
 * process, as trace/compare/kvm.bt prints the KVM tracepoints ("kvmbt NS TID EVENT key=value ...").
 * Each exit to user space (kvm_userspace_exit) becomes a kvm_exit record with the port or address
 * it was for; every line is also kept as `imported`, so what KVM handled without user space
 * (ioeventfd kicks as kvm_fast_mmio or a kvm_pio with no exit, irqfd interrupts as kvm_msi_set_irq)
 * stays visible. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "trace/compare/compare.h"

#define NVAL 6

enum { B_EXIT, B_USER_EXIT, B_PIO, B_MMIO, B_FAST_MMIO, B_MSI, B_IRQ };

/* trace/compare/kvm.bt's lines after "kvmbt NS TID NAME " */
static const struct {
	const char *name, *args;
} events[] = {
    [B_EXIT] = {"kvm_exit", "reason=%u isa=%u rip=0x%x vcpu=%u"},
    [B_USER_EXIT] = {"kvm_userspace_exit", "reason=%u errno=%d"},
    [B_PIO] = {"kvm_pio", "rw=%u port=0x%x size=%u count=%u val=0x%x"},
    [B_MMIO] = {"kvm_mmio", "type=%u len=%u gpa=0x%x val=0x%x"},
    [B_FAST_MMIO] = {"kvm_fast_mmio", "gpa=0x%x"},
    [B_MSI] = {"kvm_msi_set_irq", "address=0x%x data=0x%x"},
    [B_IRQ] = {"kvm_set_irq", "gsi=%u level=%d source=%d"},
};
#define NEVENTS (sizeof(events) / sizeof(events[0]))

struct bline {
	size_t no;
	uint64_t ts;
	uint32_t tid;
	int ev;
	uint64_t v[NVAL];
	char *args;
	bool used; /* a pio or mmio folded into its exit */
};

struct bimp {
	struct trace_build *b;
	struct bline *l;
	size_t n, cap;
	uint32_t *vcpus; /* threads that exit to user space, in order */
	size_t nvcpu, vcpu_cap;
	long pid;
};

static int parse(struct bimp *im, char *s, size_t no)
{
	unsigned long long ts;
	unsigned tid;
	char name[64];
	int at = -1;
	if (sscanf(s, "kvmbt-start pid=%ld", &im->pid) == 1 || strncmp(s, "kvmbt ", 6))
		return 0; /* bpftrace's own lines, warnings */
	if (sscanf(s, "kvmbt %llu %u %63s %n", &ts, &tid, name, &at) != 3 || at < 0) {
		trace_build_malformed(im->b, no, "expected 'kvmbt NS TID EVENT ...'");
		return -1;
	}
	struct bline *l = trace_build_push(im->b, &im->l, &im->n, &im->cap, sizeof(*l));
	if (!l)
		return -1;
	*l = (struct bline){.no = no, .ts = ts, .tid = tid, .ev = -1};
	if (asprintf(&l->args, "%s %s", name, s + at) < 0) {
		l->args = NULL;
		im->b->oom = true;
	}
	for (size_t i = 0; i < NEVENTS; i++) {
		const char *word;
		size_t wlen;
		if (strcmp(name, events[i].name))
			continue;
		if (trace_scan(s + at, events[i].args, l->v, NVAL, &word, &wlen) >= 0)
			l->ev = i;
		else
			trace_build_bad_args(im->b, no, name, s + at, events[i].args);
	}
	return 1;
}

static uint16_t tid_of(struct bimp *im, uint32_t tid)
{
	for (size_t i = 0; i < im->nvcpu; i++)
		if (im->vcpus[i] == tid)
			return TRACE_TID(TRACE_THREAD_VCPU, i);
	return TRACE_TID(TRACE_THREAD_IO, 0);
}

/* The pio or mmio an exit to user space was for: a write is traced before the exit, a read after
 * (when user space has supplied the value). Where the log has KVM's kvm_exit lines (hardware KVM,
 * not kvm_pvm), a write counts only after the last of them: one before it was a write KVM kept in
 * the kernel and entered the guest again after, as a coalesced console byte is, and the exit that
 * follows is the next access's, often the read whose value user space supplies. */
static struct bline *access_of(struct bimp *im, size_t at)
{
	for (size_t k = at; k-- > 0 && im->l[k].tid == im->l[at].tid;) {
		struct bline *p = &im->l[k];
		if (p->ev == B_USER_EXIT || p->ev == B_EXIT)
			break;
		if (!p->used && ((p->ev == B_PIO && p->v[0]) || (p->ev == B_MMIO && p->v[0] == 2)))
			return p;
	}
	for (size_t k = at + 1; k < im->n; k++) {
		struct bline *p = &im->l[k];
		if (p->tid != im->l[at].tid)
			continue;
		if (p->ev == B_USER_EXIT)
			break;
		if (!p->used && (p->ev == B_PIO || p->ev == B_MMIO))
			return p;
	}
	return NULL;
}

static void put(struct bimp *im, const struct bline *l, uint16_t site)
{
	struct trace_rec *r;
	if (l->ev == B_USER_EXIT && (r = trace_build_rec(im->b, l->ts, TRACE_EV_KVM_EXIT))) {
		/* Only an IO or MMIO exit was for an access: an EINTR exit (KVM_EXIT_INTR) after an
		 * in-kernel LAPIC write must not take that write as its own. */
		bool io = l->v[0] == KVM_EXIT_IO || l->v[0] == KVM_EXIT_MMIO;
		struct bline *a = io ? access_of(im, l - im->l) : NULL;
		r->tid = tid_of(im, l->tid);
		r->site = site;
		trace_rec_set(r, "reason", l->v[0]);
		if (a) {
			a->used = true;
			bool pio = a->ev == B_PIO;
			trace_rec_set(r, "addr", a->v[1 + !pio]);
			trace_rec_set(r, "len", pio ? a->v[2] : a->v[1]);
			trace_rec_set(r, "rw", pio ? a->v[0] : a->v[0] == 2);
			trace_rec_set(r, "data", pio ? a->v[4] : a->v[3]);
		}
	}
	if ((r = trace_build_rec(im->b, l->ts, TRACE_EV_IMPORTED))) {
		const char *text = l->args ? l->args : "", *sp = strchr(text, ' ');
		size_t nlen = sp ? (size_t)(sp - text) : strlen(text);
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)nlen, text);
		r->tid = tid_of(im, l->tid);
		r->site = site;
		trace_rec_set(r, "event", trace_build_str(im->b, name));
		trace_rec_set(r, "args",
			      trace_build_text(im->b, sp ? sp + 1 : "", sp ? strlen(sp + 1) : 0));
		trace_rec_set(r, "line", l->no);
		im->b->raw++;
	}
}

int trace_import_bpftrace(struct trace_build *b, FILE *in, char *err, size_t errlen)
{
	struct bimp im = {.b = b, .pid = -1};
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&buf, &cap, in)) >= 0) {
		b->lines++;
		buf[strcspn(buf, "\r\n")] = 0;
		int kind = parse(&im, buf, b->lines);
		b->skipped += kind == 0;
		b->events += kind > 0;
	}
	free(buf);
	int ret = 0;
	if (ferror(in)) {
		snprintf(err, errlen, "%s: %s", b->tf.path, strerror(EIO));
		ret = -1;
	} else if (!im.n) {
		snprintf(
		    err, errlen,
		    "%s: no kvmbt lines in %zu lines (expected the output of trace/compare/kvm.bt)",
		    b->tf.path, b->lines);
		ret = -1;
	}
	for (size_t i = 0; !ret && i < im.n; i++) { /* vCPUs: the threads that exit to user space */
		bool known = false;
		for (size_t k = 0; k < im.nvcpu; k++)
			known |= im.vcpus[k] == im.l[i].tid;
		uint32_t *t;
		if (im.l[i].ev == B_USER_EXIT && !known &&
		    (t = trace_build_push(b, &im.vcpus, &im.nvcpu, &im.vcpu_cap, sizeof(*t))))
			*t = im.l[i].tid;
	}
	uint16_t site = trace_build_site(b, "trace/compare/kvm.bt", "bpftrace");
	for (size_t i = 0; !ret && i < im.n; i++)
		put(&im, &im.l[i], site);
	if (!ret) {
		trace_build_info(b, "source", "bpftrace");
		trace_build_info(b, "clock",
				 "CLOCK_MONOTONIC (bpftrace nsecs), the clock of kvmscope's "
				 "own traces");
		if (im.pid >= 0)
			trace_build_info(b, "pid", "%ld", im.pid);
		trace_build_info(b, "events", "kvm_exit,imported");
	}
	for (size_t i = 0; i < im.n; i++)
		free(im.l[i].args);
	free(im.l);
	free(im.vcpus);
	return ret;
}
