/* tests/unit/test_trace_file.c - the trace file: a round trip of every field, files cut short at
 * many offsets (read up to the last complete record, with a warning), corrupted files (an error
 * naming the offset), and the dump and stats commands on them. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/check.h"
#include "trace/report/report.h"

#define NOTIFIES 3000 /* several RECORDS chunks */

static char path[64], cut_path[80];
static uint64_t main_addr; /* main's address in this ELF, from its symbol table */

static uint8_t *slurp(const char *p, size_t *len)
{
	struct stat st;
	int fd = open(p, O_RDONLY);
	uint8_t *buf = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0 && (buf = malloc(st.st_size + 1)))
		*len = read(fd, buf, st.st_size);
	if (fd >= 0)
		close(fd);
	return buf;
}

static void spill(const char *p, const uint8_t *buf, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, buf, len) != (ssize_t)len)
			perror(p);
		close(fd);
	}
}

static void guest_ctx(void *opaque, uint64_t *rip, uint32_t *stack)
{
	uint64_t pcs[] = {main_addr + 0x10, 0x1234};
	(void)opaque;
	*rip = main_addr + 5;
	*stack = trace_stack_intern(pcs, 2);
}

/* A trace of a small handshake and two requests, then many notifies. */
static void write_sample(void)
{
	struct trace_options o = {.path = path, .symbols = "/proc/self/exe", .events = "*"};
	strcpy(path, "/tmp/kvmscope-test-XXXXXX");
	close(mkstemp(path));
	snprintf(cut_path, sizeof(cut_path), "%s.cut", path);

	trace_info("transport", "virtio-pci-modern");
	CHECK(trace_start(&o) == 0, "sample: trace_start with --symbols /proc/self/exe");
	uint16_t dev = trace_dev_register("blk0", 2);
	trace_thread_set(TRACE_THREAD_VCPU, 0);
	trace_guest_source(guest_ctx, NULL);
	trace_guest_exit();
	TRACE(VIRTIO_STATUS, dev, 1, 3);
	TRACE(DEVICE_FEATURES_READ, dev, 1, 1);
	TRACE(PCI_CFG_READ, dev, 0x50 + 2, 2, 0x8001, TRACE_PCI_CAP(0x50, 0x11, 0));
	TRACE(GUEST_MARKER, 0, trace_intern("io start"));
	TRACE(CHAIN_POP, dev, TRACE_PAIR(0, 7), 0, 2048, TRACE_PAIR(3, 4096));
	TRACE(CHAIN_POP, dev, TRACE_PAIR(0, 8), 1, 4096, TRACE_PAIR(3, 512));
	trace_guest_source(NULL, NULL);
	trace_guest_exit();
	trace_thread_set(TRACE_THREAD_IO, 0);
	TRACE(REQ_COMPLETE, dev, TRACE_PAIR(0, 8), 0, 1500, 0);
	TRACE(REQ_COMPLETE, dev, TRACE_PAIR(0, 7), 0, 2500, 4097);
	TRACE(IRQ_RAISE, dev, TRACE_PAIR(0, TRACE_IRQ_MSIX_IRQFD), 1, 0xfee00000, 0x4021);
	for (unsigned i = 0; i < NOTIFIES; i++)
		TRACE(QUEUE_NOTIFY, dev, 0, TRACE_VIA_EXIT, i);
	trace_stop();
	trace_thread_set(TRACE_THREAD_MAIN, 0);
}

static void test_round_trip(void)
{
	struct trace_file tf;
	char err[256] = "", buf[256];

	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "round trip: loads (%s)", err);
	CHECK(tf.nrec == 9 + NOTIFIES && tf.ended && !tf.warning[0] && tf.end_records == tf.nrec,
	      "round trip: %zu records, clean end", tf.nrec);
	const struct trace_rec *r = tf.rec;
	CHECK(r[0].ev == TRACE_EV_VIRTIO_STATUS && r[0].a[0] == 1 && r[0].a[1] == 3 &&
		  r[0].tid == TRACE_TID(TRACE_THREAD_VCPU, 0) && r[0].rip == main_addr + 5,
	      "round trip: event, args, thread and RIP");
	CHECK(!strcmp(trace_file_str(&tf, tf.names.site[r[0].site].func), "write_sample"),
	      "round trip: the emitting function");
	CHECK(!strcmp(trace_file_str(&tf, tf.names.dev[r[0].dev].name), "blk0"),
	      "round trip: the device name");
	const struct trace_stack_ent *s = &tf.names.stack[r[0].stack];
	CHECK(s->n == 2 && s->pc[0] == main_addr + 0x10 && s->pc[1] == 0x1234,
	      "round trip: the guest stack");
	CHECK(!strcmp(trace_symtab_format(&tf.syms, r[0].rip, buf, sizeof(buf)), "main+0x5"),
	      "round trip: symbols stored in the file resolve the RIP (%s)", buf);
	CHECK(tf.syms.n < 8, "round trip: only the symbols used are stored (%zu)", tf.syms.n);
	CHECK(r[3].ev == TRACE_EV_GUEST_MARKER &&
		  !strcmp(trace_file_str(&tf, r[3].a[0]), "io start"),
	      "round trip: an interned string argument");
	CHECK(r[6].tid == TRACE_TID(TRACE_THREAD_IO, 0) && r[6].rip == 0 && r[6].stack == 0,
	      "round trip: IO thread events carry no guest context");
	CHECK(trace_file_info(&tf, "transport", buf, sizeof(buf)) &&
		  !strcmp(buf, "virtio-pci-modern") && trace_file_info(&tf, "clock", buf, 64) &&
		  !strcmp(buf, "CLOCK_MONOTONIC"),
	      "round trip: the info block");
	bool ordered = true;
	for (size_t i = 1; i < tf.nrec; i++)
		ordered &= tf.rec[i].ts >= tf.rec[i - 1].ts;
	CHECK(ordered && tf.rec[0].ts >= tf.hdr.start_ns, "round trip: timestamps never go back");
	trace_file_free(&tf);
}

/* Records in complete RECORDS chunks before cut, plus whole records of one cut in the middle. */
static size_t records_before(const uint8_t *buf, size_t cut)
{
	size_t off = sizeof(struct trace_file_header), n = 0;
	while (off + sizeof(struct trace_chunk_header) <= cut) {
		struct trace_chunk_header h;
		memcpy(&h, buf + off, sizeof(h));
		size_t payload = off + sizeof(h);
		if (payload + h.len > cut) {
			if (h.type == TRACE_CHUNK_RECORDS)
				n += (cut - payload) / sizeof(struct trace_rec);
			break;
		}
		if (h.type == TRACE_CHUNK_RECORDS)
			n += h.count;
		off = payload + ((h.len + 7) & ~7u);
	}
	return n;
}

static void test_truncated(void)
{
	size_t len = 0;
	uint8_t *buf = slurp(path, &len);
	struct trace_file tf;
	char err[256] = "";
	unsigned ok = 0, tried = 0;

	CHECK(buf && len > NOTIFIES * sizeof(struct trace_rec), "truncated: sample is %zu bytes",
	      len);
	/* every 997 bytes, plus around each chunk boundary */
	for (size_t cut = sizeof(struct trace_file_header); cut < len; cut += 997) {
		for (int d = 0; d < 3; d++) {
			size_t at = cut + (size_t)d * 31;
			if (at >= len)
				continue;
			spill(cut_path, buf, at);
			tried++;
			size_t want = records_before(buf, at);
			if (trace_file_load(&tf, cut_path, err, sizeof(err)) == 0 &&
			    tf.nrec == want && tf.warning[0] && !tf.ended)
				ok++;
			else
				printf("# cut at %zu: want %zu records, got %zu (%s) %s\n", at,
				       want, tf.nrec, tf.warning, err);
			trace_file_free(&tf);
		}
	}
	CHECK(ok == tried, "truncated: %u of %u cuts read back to the last complete record", ok,
	      tried);
	spill(cut_path, buf, len - 100);
	trace_file_load(&tf, cut_path, err, sizeof(err));
	CHECK(strstr(tf.warning, "cut short at offset") && strstr(tf.warning, cut_path),
	      "truncated: the warning names the file and offset (%s)", tf.warning);
	trace_file_free(&tf);
	spill(cut_path, buf, 20);
	CHECK(trace_file_load(&tf, cut_path, err, sizeof(err)) < 0 && strstr(err, "offset 20"),
	      "truncated: a file cut in its header is an error (%s)", err);
	free(buf);
}

static void corrupt_case(const uint8_t *orig, size_t len, size_t at, uint32_t val, size_t width,
			 const char *want, const char *name)
{
	uint8_t *buf = malloc(len);
	struct trace_file tf;
	char err[256] = "";
	memcpy(buf, orig, len);
	memcpy(buf + at, &val, width);
	spill(cut_path, buf, len);
	int ret = trace_file_load(&tf, cut_path, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, want) && strstr(err, cut_path), "corrupt: %s -> %s", name,
	      err);
	free(buf);
}

static void test_corrupted(void)
{
	size_t len = 0, first = sizeof(struct trace_file_header), rec_chunk = 0;
	uint8_t *buf = slurp(path, &len);
	char want[64];

	for (size_t off = first; off < len;) { /* find the first RECORDS chunk */
		struct trace_chunk_header h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.type == TRACE_CHUNK_RECORDS) {
			rec_chunk = off;
			break;
		}
		off += sizeof(h) + ((h.len + 7) & ~7u);
	}
	corrupt_case(buf, len, 0, 'X', 1, "offset 0: not a kvmscope trace", "bad magic");
	corrupt_case(buf, len, 8, 99, 4, "offset 8: trace format version 99", "bad version");
	snprintf(want, sizeof(want), "offset %zu: unknown chunk type", first);
	corrupt_case(buf, len, first, 77, 4, want, "bad chunk type");
	snprintf(want, sizeof(want), "offset %zu: chunk length", first);
	corrupt_case(buf, len, first + 4, 0x7fffffff, 4, want, "absurd chunk length");
	snprintf(want, sizeof(want), "offset %zu: chunk checksum mismatch", rec_chunk);
	/* in the chunk's first record: a slow writer (seen in L1) may flush one record a chunk */
	corrupt_case(buf, len, rec_chunk + 16 + 20, 0x5a, 1, want, "a flipped record byte");
	free(buf);
}

/* A STACKS chunk whose one entry claims n return addresses: more than TRACE_STACK_MAX is refused
 * before anything is read into the entry (a 56-byte file used to smash the reader's stack). */
static void stacks_case(uint32_t n, size_t pcs)
{
	struct {
		struct trace_file_header h;
		struct trace_chunk_header c;
		uint32_t first, n;
		uint64_t pc[9];
	} f = {.h = {.version = TRACE_VERSION,
		     .header_size = sizeof(struct trace_file_header),
		     .record_size = sizeof(struct trace_rec)},
	       .c = {.type = TRACE_CHUNK_STACKS, .len = 8 + pcs * 8, .count = 1},
	       .first = 1,
	       .n = n};
	struct trace_file tf;
	char err[256] = "";
	memcpy(f.h.magic, TRACE_MAGIC, sizeof(f.h.magic));
	f.c.crc = trace_crc32c(&f.first, f.c.len);
	spill(cut_path, (const uint8_t *)&f, sizeof(f.h) + sizeof(f.c) + f.c.len);
	int ret = trace_file_load(&tf, cut_path, err, sizeof(err));
	CHECK(ret < 0 && strstr(err, "offset 48: chunk type 5 does not hold the 1 entries"),
	      "corrupt: a stack of %u return addresses in a %u-byte chunk -> %s", n, f.c.len, err);
}

static void test_bad_stacks(void)
{
	stacks_case(0x10000000, 0); /* the 56-byte file */
	stacks_case(TRACE_STACK_MAX + 1, TRACE_STACK_MAX + 1);
}

/* Runs a `kvmscope trace` subcommand with stdout in a file; returns its status. */
static int run(int (*cmd)(int, char **), char *out, size_t outlen, int argc, char **argv)
{
	return check_run_captured(cmd, out, outlen, argc, argv);
}

/* Python's json module reads text (python3 is a test package, Makefile TEST_PKGS). A missing
 * python3 fails the check, never passes it; SIGPIPE is ignored so that a reader that exits early
 * shows as a failed check, not a killed test. */
static bool valid_json(const char *text)
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	FILE *p = popen("python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null", "w");
	bool ok = p && fputs(text, p) >= 0;

	ok = p && pclose(p) == 0 && ok;
	signal(SIGPIPE, old);
	return ok;
}

static void test_commands(void)
{
	size_t cap = 4 << 20;
	char *out = malloc(cap);

	char *text[] = {"dump", path, "--events", "virtio-status,pci,guest-marker"};
	CHECK(run(trace_cmd_dump, out, cap, 4, text) == 0, "dump: text exits 0");
	CHECK(strstr(out, "vcpu0@0.") && strstr(out, ":virtio_status dev=blk0 old=ACKNOWLEDGE "
						     "new=ACKNOWLEDGE|DRIVER {step 3 of "
						     "§3.1.1: DRIVER} [write_sample] "
						     "guest=main+0x5 <- main <- 0x1234\n"),
	      "dump: a QEMU-like line, decoded and symbolized");
	CHECK(strstr(out, "pci_cfg_read dev=blk0 off=msix.control len=2 val=0x8001 cap=msix@0x50"),
	      "dump: a PCI register named inside its capability");
	CHECK(strstr(out, "guest_marker text=\"io start\"") && !strstr(out, "queue_notify"),
	      "dump: --events keeps only what it names");

	char *json[] = {"dump", path, "--format=json", "--events", "device_features_read"};
	CHECK(run(trace_cmd_dump, out, cap, 5, json) == 0 &&
		  strstr(out, "\"event\":\"device_features_read\"") &&
		  strstr(out, "\"decoded\":{\"bits\":\"F_VERSION_1\"}"),
	      "dump: json, with feature bits of window 1 named");
	CHECK(strstr(out, "\"step\":{\"path\":\"init\",\"num\":\"4\",\"name\":\"features\","
			  "\"spec\":\"§3.1.1\"}"),
	      "dump: json, the spec step as a field");

	char *chrome[] = {"dump", path, "--format", "chrome"};
	CHECK(run(trace_cmd_dump, out, cap, 4, chrome) == 0 && strstr(out, "\"ph\":\"b\"") &&
		  strstr(out, "\"ph\":\"e\"") && strstr(out, "\"name\":\"IN sector 2048\""),
	      "dump: chrome, requests as slices");
	CHECK(valid_json(out), "dump: chrome output is valid JSON (python3's json module)");

	char *stats[] = {"stats", path};
	CHECK(run(trace_cmd_stats, out, cap, 2, stats) == 0 &&
		  strstr(out, "requests: 2 completed") && strstr(out, "p50") &&
		  strstr(out, "drops: 0") && strstr(out, "3000  queue_notify"),
	      "stats: counts, drops, latency percentiles");
	CHECK(
	    strstr(out,
		   "exits per IO: 1500.00 (queue_notify by exit 3000 / 2 requests; 0 by ioeventfd"),
	    "stats: exits per IO");

	char *missing[] = {"dump", "/nonexistent.kvt"}, *badfmt[] = {"dump", path, "--format=xml"},
	     *corrupt[] = {"stats", cut_path};
	CHECK(run(trace_cmd_dump, out, cap, 2, missing) == 2, "dump: a missing file exits 2");
	CHECK(run(trace_cmd_dump, out, cap, 3, badfmt) == 2, "dump: a bad --format exits 2");
	CHECK(run(trace_cmd_stats, out, cap, 2, corrupt) == 2, "stats: a corrupt file exits 2");
	char *help[] = {"dump", "--help"};
	CHECK(run(trace_cmd_dump, out, cap, 2, help) == 0 && strstr(out, "usage:"), "dump: --help");
	free(out);
}

/* CRC-32C one bit at a time, straight from the polynomial: what every faster path must match. */
static uint32_t crc_bitwise(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffff;
	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0x82f63b78 ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffff;
}

static bool crc_paths_agree(const uint8_t *bytes, size_t n)
{
	for (size_t at = 0; at < 8; at++)
		for (size_t len = 0; at + len <= n; len++) {
			uint32_t want = crc_bitwise(bytes + at, len), hw;
			if (trace_crc32c_sw(bytes + at, len) != want ||
			    trace_crc32c(bytes + at, len) != want ||
			    (trace_crc32c_hw(bytes + at, len, &hw) == 0 && hw != want))
				return false;
		}
	return true;
}

int main(void)
{
	struct trace_symtab self = {0};
	char err[256] = "";
	CHECK(trace_symtab_load(&self, "/proc/self/exe", err, sizeof(err)) == 0,
	      "symbols of this test binary (%s)", err);
	for (size_t i = 0; i < self.n; i++)
		if (!strcmp(trace_symtab_name(&self, i), "main"))
			main_addr = self.v[i].addr;
	trace_symtab_free(&self);

	uint8_t bytes[108];
	for (unsigned i = 0; i < sizeof(bytes); i++)
		bytes[i] = i * 7;
	CHECK(trace_crc32c("123456789", 9) == 0xe3069283 &&
		  trace_crc32c_sw("123456789", 9) == 0xe3069283 && trace_crc32c("", 0) == 0,
	      "crc32c: the Castagnoli check value, with and without SSE4.2");
	CHECK(crc_paths_agree(bytes, sizeof(bytes)),
	      "crc32c: tables, SSE4.2 and the chosen path agree with a bit-by-bit CRC on every "
	      "length to 100 at every alignment to 7");
	write_sample();
	test_round_trip();
	test_truncated();
	test_corrupted();
	test_bad_stacks();
	test_commands();
	unlink(path);
	unlink(cut_path);
	return CHECK_DONE();
}
