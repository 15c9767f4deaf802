/* tests/unit/test_trace_decode.c - the catalogue is consistent, docs/events.md is generated from
 * it, and the decoder turns status, feature, register and request numbers into the spec's words. */
#include <ctype.h>
#include <linux/pci_regs.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "trace/internal.h"

static char buf[512];

static void test_catalogue(void)
{
	bool names = true, slots = true, fmts = true, unique = true;
	for (unsigned ev = 0; ev < TRACE_EV_NR; ev++) {
		const struct trace_event_info *e = &trace_events[ev];
		char lower[64];
		size_t i;
		for (i = 0; e->id[i] && i < sizeof(lower) - 1; i++)
			lower[i] = tolower((unsigned char)e->id[i]);
		lower[i] = 0;
		names &= !strcmp(lower, e->name) && e->doc[0] && e->cls < TRACE_CLASS_NR;
		unsigned n = trace_event_nargs(e), used = 0;
		for (i = 0; i < n; i++) {
			fmts &= e->args[i].fmt < TRACE_FMT_NR;
			used += e->args[i].half != 1;
		}
		slots &= n >= 1 && used == e->nslots && e->nslots <= 4;
		for (unsigned k = 0; k < ev; k++)
			unique &= strcmp(trace_events[k].name, e->name) != 0;
	}
	CHECK(names, "catalogue: each name is its enum id in lower case, with a class and a doc");
	CHECK(slots, "catalogue: 1 to 4 slots per event, pairs fill one slot");
	CHECK(fmts && unique, "catalogue: known decoders, unique names");
	CHECK(TRACE_NSLOTS_CHAIN_POP == 4 && TRACE_NSLOTS_DEVICE_RESET == 1,
	      "catalogue: the argument counts TRACE() checks at compile time");
}

static void test_docs(void)
{
	FILE *f = fopen("docs/events.md", "r");
	char *doc = calloc(1, 1 << 20), *table = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&table, &len);

	trace_events_print(m, true);
	fclose(m);
	if (f) {
		size_t n = fread(doc, 1, (1 << 20) - 1, f);
		doc[n] = 0;
		fclose(f);
	}
	CHECK(f && strstr(doc, table),
	      "docs/events.md holds the table `kvmscope trace events --markdown` prints "
	      "(regenerate it when the catalogue changes)");
	free(doc);
	free(table);
}

static void test_masks(void)
{
	uint64_t m;
	char err[128];
	CHECK(trace_events_mask("virtio-status", 0, &m, err, sizeof(err)) == 0 &&
		  m == (1ULL << TRACE_EV_VIRTIO_STATUS | 1ULL << TRACE_EV_DEVICE_RESET),
	      "mask: a class names its events");
	CHECK(trace_events_mask("queue_*,-queue_pfn", 0, &m, err, sizeof(err)) == 0 &&
		  (m >> TRACE_EV_QUEUE_DESC & 1) && (m >> TRACE_EV_QUEUE_NOTIFY & 1) &&
		  !(m >> TRACE_EV_QUEUE_PFN & 1) && !(m >> TRACE_EV_CHAIN_POP & 1),
	      "mask: globs add, '-' removes");
	CHECK(trace_events_mask("-pci", TRACE_MASK_ALL, &m, err, sizeof(err)) == 0 &&
		  !(m >> TRACE_EV_PCI_CFG_READ & 1) && (m >> TRACE_EV_KVM_EXIT & 1),
	      "mask: a removal first starts from the base set");
	CHECK(!(TRACE_MASK_DEFAULT >> TRACE_EV_KVM_EXIT & 1) &&
		  (TRACE_MASK_DEFAULT >> TRACE_EV_CHAIN_POP & 1),
	      "mask: the default leaves out only the verbose exit class");
	CHECK(trace_events_mask("pci,bogus", 0, &m, err, sizeof(err)) < 0 && strstr(err, "bogus"),
	      "mask: an unknown name is an error naming it (%s)", err);
}

static void test_status_features(void)
{
	CHECK(!strcmp(trace_decode_status(0, buf, sizeof(buf)), "0"), "status: 0");
	CHECK(!strcmp(trace_decode_status(15, buf, sizeof(buf)),
		      "ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK"),
	      "status: 15 -> %s", buf);
	CHECK(!strcmp(trace_decode_status(0xc3, buf, sizeof(buf)),
		      "ACKNOWLEDGE|DRIVER|NEEDS_RESET|FAILED"),
	      "status: 0xc3 -> %s", buf);
	CHECK(!strcmp(trace_decode_status(0x13, buf, sizeof(buf)), "ACKNOWLEDGE|DRIVER|0x10"),
	      "status: an undefined bit as hex -> %s", buf);
	uint64_t f = 1ULL << 32 | 1 << 29 | 1 << 2 | 1 << 9 | 1 << 6;
	CHECK(!strcmp(trace_decode_features(f, 0, VIRTIO_ID_BLOCK, buf, sizeof(buf)),
		      "BLK_F_SEG_MAX|BLK_F_BLK_SIZE|BLK_F_FLUSH|RING_F_EVENT_IDX|F_VERSION_1"),
	      "features: virtio-blk and transport bits named -> %s", buf);
	CHECK(!strcmp(trace_decode_features(f, 0, VIRTIO_ID_NET, buf, sizeof(buf)),
		      "RING_F_EVENT_IDX|F_VERSION_1|0x4|0x40|0x200"),
	      "features: device bits of another device left as hex -> %s", buf);
	CHECK(!strcmp(trace_decode_features(0x3 | 1 << 8, 32, VIRTIO_ID_BLOCK, buf, sizeof(buf)),
		      "F_VERSION_1|F_ACCESS_PLATFORM|F_RING_RESET"),
	      "features: the high select window -> %s", buf);
	CHECK(!strcmp(trace_decode_features(1u << 30, 0, VIRTIO_ID_BLOCK, buf, sizeof(buf)),
		      "F_BAD_FEATURE"),
	      "features: bit 30 by QEMU's name -> %s", buf);
	CHECK(!strcmp(trace_decode_features(1u << 31, 0, VIRTIO_ID_BLOCK, buf, sizeof(buf)),
		      "0x80000000"),
	      "features: an unknown bit -> %s", buf);
}

static void test_registers(void)
{
	static const struct {
		unsigned off, width;
		uint64_t cap;
		const char *want;
	} pci[] = {
	    {0x00, 2, 0, "vendor"},
	    {0x00, 4, 0, "vendor/device"},
	    {0x04, 2, 0, "command"},
	    {0x18, 4, 0, "BAR2"},
	    {0x19, 1, 0, "BAR2+1"},
	    {0x34, 1, 0, "cap_ptr"},
	    {0x3c, 1, 0, "int_line"},
	    {0x42, 2, TRACE_PCI_CAP(0x40, 0x11, 0), "msix.control"},
	    {0x44, 4, TRACE_PCI_CAP(0x40, 0x11, 0), "msix.table"},
	    {0x58, 4, TRACE_PCI_CAP(0x50, 0x09, 1), "virtio-common.offset"},
	    {0x63, 1, TRACE_PCI_CAP(0x60, 0x09, 2), "virtio-notify.cfg_type"},
	    {0x70, 4, TRACE_PCI_CAP(0x60, 0x09, 2), "virtio-notify.notify_off_multiplier"},
	    {0x80, 4, TRACE_PCI_CAP(0x70, 0x09, 5), "virtio-pci_cfg.pci_cfg_data"},
	    {0x82, 1, TRACE_PCI_CAP(0x80, 0x05, 0), "cap0x05@0x80+2"},
	    {0x48, 1, 0, "0x48"},
	};
	for (size_t i = 0; i < sizeof(pci) / sizeof(pci[0]); i++)
		CHECK(!strcmp(trace_decode_pci_reg(pci[i].off, pci[i].width, pci[i].cap, buf,
						   sizeof(buf)),
			      pci[i].want),
		      "pci config 0x%x/%u -> %s", pci[i].off, pci[i].width, buf);
	CHECK(!strcmp(trace_decode_vreg(20, 1, buf, sizeof(buf)), "common.device_status"),
	      "common cfg 20 -> %s", buf);
	CHECK(!strcmp(trace_decode_vreg(36, 4, buf, sizeof(buf)), "common.queue_desc_hi"),
	      "common cfg 36 -> %s", buf);
	CHECK(!strcmp(trace_decode_vreg(8 | TRACE_VREG_LEGACY, 4, buf, sizeof(buf)),
		      "legacy.queue_pfn"),
	      "legacy 8 -> %s", buf);
	CHECK(!strcmp(trace_decode_vreg(19 | TRACE_VREG_LEGACY, 1, buf, sizeof(buf)), "legacy.isr"),
	      "legacy 19 -> %s", buf);
	CHECK(!strcmp(trace_decode_devcfg(0, 8, VIRTIO_ID_BLOCK, buf, sizeof(buf)), "capacity"),
	      "blk config 0 -> %s", buf);
	CHECK(!strcmp(trace_decode_devcfg(4, 4, VIRTIO_ID_BLOCK, buf, sizeof(buf)), "capacity+4"),
	      "blk config 4 -> %s", buf);
	CHECK(!strcmp(trace_decode_devcfg(20, 4, VIRTIO_ID_BLOCK, buf, sizeof(buf)), "blk_size"),
	      "blk config 20 -> %s", buf);
	CHECK(!strcmp(trace_decode_devcfg(16, 4, VIRTIO_ID_BLOCK, buf, sizeof(buf)),
		      "geometry.cylinders/geometry.heads/geometry.sectors"),
	      "blk config 16/4 -> %s", buf);
}

/* Arguments of whole records, as dump shows them. */
static const char *arg(enum trace_event ev, unsigned i, uint64_t a0, uint64_t a1, uint64_t a2,
		       uint64_t a3)
{
	struct trace_rec r = {.ev = ev, .a = {a0, a1, a2, a3}};
	return trace_decode_arg(NULL, &r, i, buf, sizeof(buf));
}

static void test_args(void)
{
	CHECK(!strcmp(arg(TRACE_EV_CHAIN_POP, 2, 0, 1, 0, 0), "OUT") &&
		  !strcmp(arg(TRACE_EV_CHAIN_POP, 2, 0, 4, 0, 0), "FLUSH") &&
		  !strcmp(arg(TRACE_EV_CHAIN_POP, 2, 0, 8, 0, 0), "GET_ID"),
	      "blk request types");
	CHECK(!strcmp(arg(TRACE_EV_CHAIN_POP, 1, TRACE_PAIR(2, 77), 0, 0, 0), "77") &&
		  !strcmp(arg(TRACE_EV_CHAIN_POP, 5, 0, 0, 0, TRACE_PAIR(3, 4096)), "4096"),
	      "pairs: the high half of a slot");
	CHECK(!strcmp(arg(TRACE_EV_REQ_COMPLETE, 2, 0, 1, 0, 0), "IOERR"), "blk status IOERR");
	CHECK(!strcmp(arg(TRACE_EV_QUEUE_MSIX_VECTOR, 2, 0, 1, 0xffff, 0), "NO_VECTOR"),
	      "vector 0xffff -> NO_VECTOR");
	CHECK(!strcmp(arg(TRACE_EV_ISR_READ, 0, 3, 0, 0, 0), "queue|config"), "isr 3");
	CHECK(!strcmp(arg(TRACE_EV_KVM_EXIT, 0, 6, 0, 0, 0), "MMIO") &&
		  !strcmp(arg(TRACE_EV_KVM_EXIT, 0, 17, 0, 0, 0), "INTERNAL_ERROR"),
	      "kvm exit reasons");
	CHECK(
	    !strcmp(arg(TRACE_EV_IRQ_SUPPRESS, 1, 0, TRACE_SUPPRESS_EVENT_IDX, 0, 0), "EVENT_IDX"),
	    "irq suppression reason");
	CHECK(!strcmp(arg(TRACE_EV_EMU_FALLBACK, 1, 0, 0xe2db, 2, 0), "db e2"),
	      "instruction bytes, as many as len");
	CHECK(
	    !strcmp(arg(TRACE_EV_BAR_REGISTER, 2, 0, 0,
			PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH, 0),
		    "mem64|prefetch") &&
		!strcmp(arg(TRACE_EV_BAR_REGISTER, 2, 0, 0, PCI_BASE_ADDRESS_SPACE_IO, 0), "io") &&
		!strcmp(arg(TRACE_EV_BAR_REGISTER, 2, 0, 0, 0, 0), "mem32"),
	    "BAR type from the PCI type bits");
	CHECK(!strcmp(arg(TRACE_EV_DEVICE_FEATURES_READ, 1, 1, 1, 0, 0), "F_VERSION_1"),
	      "a feature window decoded with its select");
}

int main(void)
{
	test_catalogue();
	test_docs();
	test_masks();
	test_status_features();
	test_registers();
	test_args();
	return CHECK_DONE();
}
