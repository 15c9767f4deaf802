/* tests/unit/test_import_bpftrace.c - `kvmscope import bpftrace` on lines trace/compare/kvm.bt
 * printed here for the mini guest's test=blk under kvmscope (kvm_pvm: no kvm_exit tracepoint, so
 * exits to user space are kvm_userspace_exit), cut from one real run, plus two malformed lines. */
#include <linux/kvm.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "trace/compare/compare.h"

static const char log_text[] =
    "Attaching 8 probes...\n"
    "kvmbt-start pid=7223\n"
    "kvmbt 3495707628682 7517 kvm_userspace_exit reason=2 errno=0\n"
    "kvmbt 3495707863485 7517 kvm_pio rw=0 port=0x3fd size=1 count=1 val=0x60\n"
    "kvmbt 3495707905157 7517 kvm_pio rw=1 port=0x3f8 size=1 count=1 val=0x6b\n"
    "kvmbt 3495707915703 7517 kvm_userspace_exit reason=2 errno=0\n"
    "kvmbt 3495707962203 7517 kvm_userspace_exit reason=2 errno=0\n"
    "kvmbt 3495707994651 7517 kvm_pio rw=0 port=0x3fd size=1 count=1 val=0x60\n"
    "kvmbt 3495708052098 7517 kvm_pio rw=1 port=0x3f8 size=1 count=1 val=0x76\n"
    "kvmbt 3495708061582 7517 kvm_userspace_exit reason=2 errno=0\n"
    "kvmbt 3495737548845 7517 kvm_pio rw=1 port=0x21 size=1 count=1 val=0xff\n"
    "kvmbt 3495737573502 7517 kvm_pio rw=1 port=0xa1 size=1 count=1 val=0xff\n"
    "kvmbt 3495737614253 7517 kvm_mmio type=1 len=4 gpa=0xfee00030 val=0x50014\n"
    "kvmbt 3495737654674 7517 kvm_mmio type=2 len=4 gpa=0xfee00080 val=0x0\n"
    "kvmbt 3495802054012 7517 kvm_pio rw=1 port=0xf5 size=1 count=1 val=0xa\n"
    "kvmbt 3495802063216 7517 kvm_userspace_exit reason=2 errno=0\n"
    "kvmbt 3495817285491 7517 kvm_mmio type=2 len=2 gpa=0xc0007000 val=0x0\n"
    "kvmbt 3495817295876 7517 kvm_userspace_exit reason=6 errno=0\n"
    "kvmbt 3495817344219 7517 kvm_msi_set_irq address=0xfee00000 data=0x30\n"
    "kvmbt 3495817350000 7517 kvm_mmio type=2 len=4 gpa=0xfee000b0 val=0x0\n"
    "kvmbt 3495817360000 7517 kvm_userspace_exit reason=10 errno=-4\n"
    "kvmbt 3496391899057 7517 kvm_pio rw=1 port=0xf4 size=1 count=1 val=0x0\n"
    "kvmbt 3496391908742 7517 kvm_userspace_exit reason=2 errno=0\n"
    "kvmbt 12 x kvm_pio\n"
    "kvmbt 3496391908743 7517 kvm_pio rw=1 port=zz\n"
    "\n";

/* A log with KVM's kvm_exit lines (hardware KVM): a console byte KVM coalesced (a write, no exit to
 * user space, the guest entered again) and then the line-status read that does exit; then a write
 * that exits. */
static const char coalesced_text[] = "kvmbt-start pid=1\n"
				     "kvmbt 100 5 kvm_exit reason=123 isa=1 rip=0x1000 vcpu=0\n"
				     "kvmbt 101 5 kvm_pio rw=1 port=0x3f8 size=1 count=1 val=0x41\n"
				     "kvmbt 102 5 kvm_exit reason=123 isa=1 rip=0x1002 vcpu=0\n"
				     "kvmbt 103 5 kvm_userspace_exit reason=2 errno=0\n"
				     "kvmbt 104 5 kvm_pio rw=0 port=0x3fd size=1 count=1 val=0x60\n"
				     "kvmbt 105 5 kvm_exit reason=123 isa=1 rip=0x1004 vcpu=0\n"
				     "kvmbt 106 5 kvm_pio rw=1 port=0xf4 size=1 count=1 val=0x0\n"
				     "kvmbt 107 5 kvm_userspace_exit reason=2 errno=0\n";

/* TEXT imported into *tf through a temporary file; 0, or -1 with err set. */
static int import_text(const char *text, struct trace_file *tf, char *err, size_t errlen)
{
	char path[] = "/tmp/kvmscope-test-bpftrace-XXXXXX";
	struct trace_build b;
	int fd = mkstemp(path), ret = -1;
	size_t len = strlen(text);
	snprintf(err, errlen, "cannot write a temporary file");
	if (fd >= 0 && write(fd, text, len) == (ssize_t)len) {
		err[0] = 0;
		trace_build_init(&b, path);
		ret = trace_import_path(&b, path, true, err, errlen);
		if (ret == 0)
			trace_build_finish(&b, tf);
		else
			trace_build_free(&b);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	return ret;
}

static const struct trace_rec *nth(const struct trace_file *tf, unsigned ev, size_t n)
{
	for (size_t i = 0; i < tf->nrec; i++)
		if (tf->rec[i].ev == ev && n-- == 0)
			return &tf->rec[i];
	return NULL;
}

static bool exit_is(const struct trace_rec *r, uint64_t reason, uint64_t addr, uint64_t rw,
		    uint64_t data)
{
	return r && trace_rec_arg(r, "reason", 99) == reason &&
	       trace_rec_arg(r, "addr", 1) == addr && trace_rec_arg(r, "rw", 9) == rw &&
	       trace_rec_arg(r, "data", 1) == data;
}

int main(void)
{
	char path[] = "/tmp/kvmscope-test-bpftrace-XXXXXX", err[256] = "", diag[2048] = "";
	struct trace_build b;
	struct trace_file tf;
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, log_text, sizeof(log_text) - 1) != sizeof(log_text) - 1)
		SKIP("cannot write a temporary file");
	close(fd);
	FILE *d = fmemopen(diag, sizeof(diag) - 1, "w");
	trace_build_init(&b, path);
	b.diag = d;
	int ret = trace_import_path(&b, path, true, err, sizeof(err));
	fclose(d);
	CHECK(ret == 0, "the kvm.bt log imports (%s)", err);
	if (ret) {
		unlink(path);
		return CHECK_DONE();
	}
	CHECK(b.lines == 26 && b.events == 22 && b.skipped == 3 && b.malformed == 2,
	      "26 lines: 22 events (one malformed), 3 of bpftrace's own skipped, 2 malformed (%zu "
	      "%zu %zu %zu)",
	      b.lines, b.events, b.skipped, b.malformed);
	CHECK(strstr(diag, ":24: expected 'kvmbt NS TID EVENT ...'") &&
		  strstr(diag, ":25: kvm_pio: arguments 'rw=1 port=zz' do not match"),
	      "malformed lines are reported with their line numbers:\n%s", diag);
	trace_build_finish(&b, &tf);

	size_t exits = 0, imported = 0;
	for (size_t i = 0; i < tf.nrec; i++) {
		exits += tf.rec[i].ev == TRACE_EV_KVM_EXIT;
		imported += tf.rec[i].ev == TRACE_EV_IMPORTED;
	}
	CHECK(exits == 8 && imported == 22,
	      "8 exits to user space; every event line kept, the malformed one too (%zu, %zu)",
	      exits, imported);
	CHECK(exit_is(nth(&tf, TRACE_EV_KVM_EXIT, 0), KVM_EXIT_IO, 0x3fd, 0, 0x60) &&
		  exit_is(nth(&tf, TRACE_EV_KVM_EXIT, 1), KVM_EXIT_IO, 0x3f8, 1, 0x6b),
	      "an IN exit takes the port and value traced after it, an OUT the one before");
	CHECK(exit_is(nth(&tf, TRACE_EV_KVM_EXIT, 4), KVM_EXIT_IO, 0xf5, 1, 0xa) &&
		  exit_is(nth(&tf, TRACE_EV_KVM_EXIT, 5), KVM_EXIT_MMIO, 0xc0007000, 1, 0) &&
		  exit_is(nth(&tf, TRACE_EV_KVM_EXIT, 7), KVM_EXIT_IO, 0xf4, 1, 0),
	      "PIC writes KVM kept in the kernel are skipped; an MMIO exit gets its address");
	CHECK(exit_is(nth(&tf, TRACE_EV_KVM_EXIT, 6), KVM_EXIT_INTR, 0, 0, 0),
	      "an exit interrupted by a signal (EINTR) takes no access: the LAPIC write before it "
	      "stayed in the kernel");
	const struct trace_rec *e = nth(&tf, TRACE_EV_KVM_EXIT, 0);
	CHECK(e && TRACE_TID_KIND(e->tid) == TRACE_THREAD_VCPU && e->ts == 3495707628682ULL &&
		  tf.hdr.start_ns == 3495707628682ULL,
	      "the exiting thread is vcpu0; times are bpftrace's CLOCK_MONOTONIC ns");
	char buf[64];
	CHECK(trace_file_info(&tf, "pid", buf, sizeof(buf)) && !strcmp(buf, "7223") &&
		  trace_file_info(&tf, "source", buf, sizeof(buf)) && !strcmp(buf, "bpftrace"),
	      "info: the traced pid and the source");
	trace_file_free(&tf);
	unlink(path);

	struct trace_file tc;
	CHECK(import_text(coalesced_text, &tc, err, sizeof(err)) == 0,
	      "the log with kvm_exit lines imports (%s)", err);
	CHECK(
	    exit_is(nth(&tc, TRACE_EV_KVM_EXIT, 0), KVM_EXIT_IO, 0x3fd, 0, 0x60),
	    "with kvm_exit lines, a write KVM kept in the kernel (a coalesced console byte) before "
	    "a new kvm_exit is not the next exit's: that exit is the read after it");
	CHECK(exit_is(nth(&tc, TRACE_EV_KVM_EXIT, 1), KVM_EXIT_IO, 0xf4, 1, 0),
	      "  ... and a write after the last kvm_exit is its exit's");
	trace_file_free(&tc);

	struct trace_build b2;
	char empty[] = "/tmp/kvmscope-test-bpftrace-XXXXXX";
	close(mkstemp(empty));
	trace_build_init(&b2, empty);
	CHECK(trace_import_path(&b2, empty, true, err, sizeof(err)) < 0 &&
		  strstr(err, "no kvmbt lines"),
	      "a file with no kvmbt line is refused: %s", err);
	trace_build_free(&b2);
	unlink(empty);
	return CHECK_DONE();
}
