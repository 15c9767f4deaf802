/* tests/unit/test_trace_descs.c - a pop's chain in the trace (the DESCS chunk,
 * docs/trace-format.md): the split and packed rings popped on synthetic guest memory with
 * tracing on, the file read back, the bound of TRACE_DESCS_MAX with the count of the rest,
 * indirect tables, the ring's extension slots, corrupt DESCS chunks, and a file written before
 * the chunk existed (tests/fixtures/kvmscope-modern.kvt) reading as it did. No /dev/kvm. */
#include <endian.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/check.h"
#include "tests/unit/test_vq_harness.h"
#include "trace/internal.h"
#include "trace/report/report.h"

#define DESC_GPA  0x1000
#define AVAIL_GPA 0x3000 /* packed: the driver event structure */
#define USED_GPA  0x4000 /* packed: the device event structure */
#define INDIR_GPA 0x8000
#define BUF_GPA	  0x10000

static char path[64];
static struct trace_file tf;
static char err[512];
static struct vq_chain chain;
static int r;

static void start(const char *events)
{
	struct trace_options o = {.path = path, .events = events};

	strcpy(path, "/tmp/kvmscope-test-XXXXXX");
	close(mkstemp(path));
	trace_file_free(&tf);
	CHECK(trace_start(&o) == 0, "trace_start (%s)", events);
	vq.vdev = NULL;
}

static void stop_and_load(void)
{
	trace_stop();
	CHECK(trace_file_load(&tf, path, err, sizeof(err)) == 0, "the trace reads back (%s)", err);
}

/* The first record of event ev, and its descriptors. */
static const struct trace_rec *find(enum trace_event ev, const struct trace_descs_ent **e)
{
	for (size_t i = 0; i < tf.nrec; i++)
		if (tf.rec[i].ev == ev) {
			*e = trace_file_descs(&tf, &tf.rec[i]);
			return &tf.rec[i];
		}
	*e = NULL;
	return NULL;
}

static bool desc_is(const struct trace_descs_ent *e, unsigned k, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t idx)
{
	const struct trace_desc *d = &tf.desc[e->first + k];
	return k < e->n && d->addr == addr && d->len == len && d->flags == flags && d->idx == idx;
}

/* A split chain: one direct descriptor, then an indirect table of three (Linux's shape). */
static void test_split_indirect(void)
{
	const struct trace_descs_ent *e;
	const struct trace_rec *rec;
	char buf[160];

	vq_setup(8, DESC_GPA, AVAIL_GPA, USED_GPA);
	vq_set_desc(DESC_GPA, 5, BUF_GPA + 0x300, 8, VRING_DESC_F_NEXT, 2);
	vq_set_desc(DESC_GPA, 2, INDIR_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	vq_set_desc(INDIR_GPA, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 2);
	vq_set_desc(INDIR_GPA, 2, BUF_GPA + 0x100, 4096, VRING_DESC_F_NEXT, 1);
	vq_set_desc(INDIR_GPA, 1, BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	vq_drv_publish(AVAIL_GPA, 5);
	start("request");
	r = vq_pop(&vq, &chain);
	vq_push(&vq, &chain, 4097);
	stop_and_load();
	CHECK(r == 1, "split: the indirect chain pops");
	const struct trace_descs_ent *pe;
	const struct trace_rec *push = find(TRACE_EV_USED_PUSH, &pe);
	CHECK(
	    push && pe && pe->n == 5 && pe->walked == 5 &&
		desc_is(pe, 4, BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE, 1) &&
		trace_rec_arg(push, "used_idx", 0) == 1 && trace_rec_arg(push, "len", 0) == 4097,
	    "split: used_push carries the same chain at completion, with used entry 0 = {5, 4097}");
	rec = find(TRACE_EV_SPLIT_POP, &e);
	CHECK(rec && trace_rec_arg(rec, "head", 99) == 5 && trace_rec_arg(rec, "avail", 99) == 0 &&
		  trace_rec_arg(rec, "avail_idx", 99) == 1 && trace_rec_arg(rec, "descs", 0) == 5,
	      "split_pop: head 5 from avail entry 0 of idx 1, 5 descriptors walked");
	CHECK(e && e->n == 5 && e->walked == 5, "split_pop carries all 5 descriptors");
	CHECK(e && desc_is(e, 0, BUF_GPA + 0x300, 8, VRING_DESC_F_NEXT, 5) &&
		  desc_is(e, 1, INDIR_GPA, 48, VRING_DESC_F_INDIRECT, 2) &&
		  desc_is(e, 2, BUF_GPA, 16, VRING_DESC_F_NEXT, 0) &&
		  desc_is(e, 3, BUF_GPA + 0x100, 4096, VRING_DESC_F_NEXT, 2) &&
		  desc_is(e, 4, BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE, 1),
	      "split: walk order, table indices, the indirect table after its INDIRECT descriptor");
	CHECK(e &&
		  !strcmp(trace_decode_desc(rec, e, &tf.desc[e->first], 1, buf, sizeof(buf)),
			  "desc[2] 0x8000 len=48 INDIRECT") &&
		  !strcmp(trace_decode_desc(rec, e, &tf.desc[e->first], 4, buf, sizeof(buf)),
			  "table[1] 0x12000 len=1 WRITE"),
	      "split: a descriptor in words (%s)", buf);
}

/* A chain longer than the bound: the first TRACE_DESCS_MAX, and the rest counted. */
static void test_bound(void)
{
	const struct trace_descs_ent *e;
	const unsigned n = TRACE_DESCS_MAX + 4;
	static char out[1 << 16];

	vq_setup(32, DESC_GPA, AVAIL_GPA, USED_GPA);
	for (unsigned i = 0; i < n; i++)
		vq_set_desc(DESC_GPA, i, BUF_GPA + 0x100 * i, 16 + i,
			    i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
	vq_drv_publish(AVAIL_GPA, 0);
	start("request");
	r = vq_pop(&vq, &chain);
	stop_and_load();
	find(TRACE_EV_SPLIT_POP, &e);
	CHECK(r == 1 && e && e->n == TRACE_DESCS_MAX && e->walked == n &&
		  desc_is(e, TRACE_DESCS_MAX - 1, BUF_GPA + 0x100 * (TRACE_DESCS_MAX - 1),
			  16 + TRACE_DESCS_MAX - 1, VRING_DESC_F_NEXT, TRACE_DESCS_MAX - 1),
	      "bound: %u of %u descriptors kept, the first ones, the rest counted", TRACE_DESCS_MAX,
	      n);

	char *argv[] = {"dump", path, "--events", "split_pop", NULL};
	check_run_captured(trace_cmd_dump, out, sizeof(out), 4, argv);
	CHECK(strstr(out, "chain=[desc[0] 0x10000 len=16 NEXT, desc[1] ") &&
		  strstr(out, ", +4 not recorded]"),
	      "dump text: the chain, and the 4 the trace did not keep");
	char *jargv[] = {"dump", path, "--events", "split_pop", "--format", "json", NULL};
	check_run_captured(trace_cmd_dump, out, sizeof(out), 6, jargv);
	CHECK(strstr(out, "\"descs\":{\"walked\":20,\"not_recorded\":4,\"recorded\":[{\"idx\":0,"
			  "\"addr\":65536,\"len\":16,\"flags\":1,\"text\":\"desc[0] 0x10000 "
			  "len=16 NEXT\"}"),
	      "dump json: walked, not_recorded and each descriptor");
}

/* Packed: a list of three in ring slots across the end of the ring, then an indirect one. */
static void packed_put(uint16_t slot, uint64_t addr, uint32_t len, uint16_t flags, uint16_t id)
{
	struct vring_packed_desc *d = (struct vring_packed_desc *)gp(DESC_GPA) + slot;

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->id = htole16(id);
	d->flags = htole16(flags);
}

static void test_packed(void)
{
	const uint16_t av1 = 1 << VRING_PACKED_DESC_F_AVAIL, av0 = 1 << VRING_PACKED_DESC_F_USED;
	const struct trace_descs_ent *e;
	const struct trace_rec *rec;
	char buf[160];

	vq_setup(4, DESC_GPA, AVAIL_GPA, USED_GPA);
	vq.packed = true;
	vq.last_avail = 3; /* the device stands at the last slot: the list wraps */
	vq.used_idx = 3;
	packed_put(3, BUF_GPA, 16, VRING_DESC_F_NEXT | av1, 7);
	packed_put(0, BUF_GPA + 0x1000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE | av0, 7);
	packed_put(1, BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE | av0, 7);
	start("request");
	r = vq_pop(&vq, &chain);
	vq_push(&vq, &chain, 512);
	stop_and_load();
	const struct trace_descs_ent *pe;
	const struct trace_rec *push = find(TRACE_EV_USED_PUSH, &pe);
	CHECK(push && pe && pe->n == 3 && trace_rec_packed(push) &&
		  trace_rec_arg(push, "used_idx", 0) == TRACE_RING_IDX_PACKED(2, 0) &&
		  !strcmp(trace_decode_desc(push, pe, &tf.desc[pe->first], 0, buf, sizeof(buf)),
			  "slot[3] 0x10000 len=16 NEXT|AVAIL"),
	      "packed: used_push carries the list at completion; the next used slot 2, wrap 0");
	rec = find(TRACE_EV_PACKED_POP, &e);
	CHECK(r == 1 && rec && trace_rec_arg(rec, "slot", 99) == 3 &&
		  trace_rec_arg(rec, "wrap", 99) == 1 && trace_rec_arg(rec, "id", 0) == 7,
	      "packed_pop: id 7 at slot 3, wrap counter 1");
	CHECK(
	    e && e->n == 3 && e->walked == 3 &&
		desc_is(e, 0, BUF_GPA, 16, VRING_DESC_F_NEXT | av1, 3) &&
		desc_is(e, 1, BUF_GPA + 0x1000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE | av0,
			0) &&
		desc_is(e, 2, BUF_GPA + 0x2000, 1, VRING_DESC_F_WRITE | av0, 1),
	    "packed: the list's slots 3, 0, 1 with their flags (the wrap counter flips at slot 0)");
	CHECK(e && !strcmp(trace_decode_desc(rec, e, &tf.desc[e->first], 1, buf, sizeof(buf)),
			   "slot[0] 0x11000 len=512 NEXT|WRITE|USED"),
	      "packed: a slot in words (%s)", buf);

	/* an indirect descriptor alone in slot 2 (the second lap: AVAIL 0, USED 1) */
	struct vring_packed_desc *t = gp(INDIR_GPA);
	for (unsigned i = 0; i < 3; i++) {
		t[i].addr = htole64(BUF_GPA + 0x100 * i);
		t[i].len = htole32(16);
		t[i].flags = htole16(i == 2 ? VRING_DESC_F_WRITE : 0);
	}
	packed_put(2, INDIR_GPA, 48, VRING_DESC_F_INDIRECT | av0, 9);
	start("request");
	r = vq_pop(&vq, &chain);
	stop_and_load();
	rec = find(TRACE_EV_PACKED_POP, &e);
	CHECK(r == 1 && e && e->n == 4 && e->walked == 4 &&
		  desc_is(e, 0, INDIR_GPA, 48, VRING_DESC_F_INDIRECT | av0, 2) &&
		  desc_is(e, 3, BUF_GPA + 0x200, 16, VRING_DESC_F_WRITE, 2),
	      "packed indirect: the slot, then the table's three");
	CHECK(e && !strcmp(trace_decode_desc(rec, e, &tf.desc[e->first], 3, buf, sizeof(buf)),
			   "table[2] 0x10200 len=16 WRITE"),
	      "packed indirect: a table entry in words (%s)", buf);
}

/* The pop's event off: nothing kept, no DESCS chunk, the file as before. */
static void test_off(void)
{
	vq_setup(8, DESC_GPA, AVAIL_GPA, USED_GPA);
	vq_set_desc(DESC_GPA, 0, BUF_GPA, 16, 0, 0);
	vq_drv_publish(AVAIL_GPA, 0);
	start("*,-split_pop");
	r = vq_pop(&vq, &chain);
	stop_and_load();
	CHECK(r == 1 && !chain.descs.on && chain.descs.n == 0 && tf.ndescs == 0 && tf.nrec == 0,
	      "split_pop off: the walk keeps nothing, no record, no descriptors");
}

/* The ring: a record and its extension slots are claimed, drained and dropped as one. */
static void test_ring(void)
{
	struct trace_ring ring;
	struct trace_rec out[8];
	uint64_t pos;

	trace_ring_init(&ring, 4 * sizeof(struct trace_rec)); /* 4 slots */
	struct trace_rec *a = trace_ring_claim(&ring, &pos);
	a->ev = TRACE_EV_QUEUE_NOTIFY;
	trace_ring_commit(&ring, a, pos);
	struct trace_rec *g = trace_ring_claim_n(&ring, 3, &pos);
	CHECK(g && pos == 1, "ring: a record with 2 extension slots fits behind one");
	trace_ring_commit(&ring, &ring.slots[2], 2);
	trace_ring_commit(&ring, &ring.slots[3], 3);
	g->ev = TRACE_EV_SPLIT_POP | 2 << 8;
	trace_ring_commit(&ring, g, pos);
	CHECK(trace_ring_drain(&ring, out, 2) == 1,
	      "ring: a drain with room for 2 leaves the group of 3");
	CHECK(trace_ring_claim_n(&ring, 2, &pos) == NULL && ring.drops == 1,
	      "ring: a group that does not fit is dropped whole, counted once");
	CHECK(trace_ring_drain(&ring, out, 8) == 3 && TRACE_REC_EXT(out[0].ev) == 2,
	      "ring: the group comes out whole");
	CHECK(trace_ring_claim_n(&ring, 4, &pos) != NULL && pos == 4,
	      "ring: a group may wrap round the end of the slots");
	trace_ring_free(&ring);
}

/* A DESCS chunk that lies: each is an error naming the offset. */
static void test_corrupt(void)
{
	struct {
		uint32_t rec;
		uint16_t n, walked;
		struct trace_desc d;
	} bad[] = {
	    {0, 1, 0, {1, 2, 3, 4}},   /* more kept than walked */
	    {999, 1, 1, {1, 2, 3, 4}}, /* a record not defined before it */
	};
	char cut[80];
	FILE *in, *out;

	vq_setup(8, DESC_GPA, AVAIL_GPA, USED_GPA);
	vq_set_desc(DESC_GPA, 0, BUF_GPA, 16, 0, 0);
	vq_drv_publish(AVAIL_GPA, 0);
	start("request");
	vq_pop(&vq, &chain);
	stop_and_load();
	snprintf(cut, sizeof(cut), "%s.bad", path);
	for (unsigned k = 0; k < 2; k++) {
		struct trace_buf b = {0};
		size_t at;
		char data[1 << 16];
		size_t len;

		in = fopen(path, "rb");
		len = fread(data, 1, sizeof(data), in);
		fclose(in);
		at = trace_chunk_begin(&b, TRACE_CHUNK_DESCS);
		trace_buf_put(&b, &bad[k], sizeof(bad[k]));
		trace_chunk_end(&b, at, 1);
		out = fopen(cut, "wb");
		fwrite(data, 1, len, out);
		fwrite(b.p, 1, b.len, out);
		fclose(out);
		trace_buf_free(&b);
		struct trace_file t2 = {0};
		CHECK(trace_file_load(&t2, cut, err, sizeof(err)) < 0 &&
			  strstr(err, "descriptors of record") && strstr(err, "offset"),
		      "corrupt DESCS chunk %u is an error naming the offset (%s)", k, err);
		trace_file_free(&t2);
	}
	unlink(cut);
}

/* A trace written before DESCS existed reads as it did: a fixture recorded before then (the
 * shipped corpus is recorded again with chains; this file must not be). */
static void test_old_file(void)
{
	struct trace_file old = {0};
	static char text[1 << 20];

	CHECK(trace_file_load(&old, "tests/fixtures/kvmscope-modern.kvt", err, sizeof(err)) == 0 &&
		  old.nrec > 0 && old.ndescs == 0 && trace_file_descs(&old, &old.rec[0]) == NULL,
	      "an older trace (tests/fixtures/kvmscope-modern.kvt, %zu records) reads, with no "
	      "descriptors",
	      old.nrec);
	char *argv[] = {"dump", "tests/fixtures/kvmscope-modern.kvt", NULL};
	int ret = check_run_captured(trace_cmd_dump, text, sizeof(text), 2, argv);
	CHECK(ret == 0 && strstr(text, ":used_push ") && !strstr(text, "chain=["),
	      "an older trace dumps as before: no chain on any line");
	trace_file_free(&old);
}

int main(void)
{
	ram_init();
	test_split_indirect();
	test_bound();
	test_packed();
	test_off();
	test_ring();
	test_corrupt();
	test_old_file();
	trace_file_free(&tf);
	unlink(path);
	return CHECK_DONE();
}
