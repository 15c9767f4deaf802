/* trace/decode.c - numbers into words, for dump, stats and the viewer (never the hot path).
 * Names come from the uapi headers' constants (linux/virtio_*.h, linux/pci_regs.h, linux/kvm.h)
 * and the spec's field names. */
#include <linux/kvm.h>
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "trace/internal.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct name {
	uint64_t val;
	const char *name;
};

/* A register: offset, width, name. */
struct reg {
	uint16_t off, size;
	const char *name;
};

/* snprintf that returns buf. */
static const char *say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

/* snprintf at the end of what buf holds. */
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strlen(buf);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

/* Appends a word to buf, joined by '|'. */
static void join(char *buf, size_t len, const char *word)
{
	append(buf, len, "%s%s", buf[0] ? "|" : "", word);
}

static const char *bits(uint64_t v, const struct name *names, size_t n, unsigned skip, char *buf,
			size_t len)
{
	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		if (v & names[i].val) {
			join(buf, len, names[i].name + skip);
			v &= ~names[i].val;
		}
	for (unsigned b = 0; v; b++, v >>= 1)
		if (v & 1) {
			char w[24];
			snprintf(w, sizeof(w), "0x%llx", 1ULL << b);
			join(buf, len, w);
		}
	return buf[0] ? buf : say(buf, len, "0");
}

static const char *one_of(uint64_t v, const struct name *names, size_t n, unsigned skip, char *buf,
			  size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (names[i].val == v)
			return say(buf, len, "%s", names[i].name + skip);
	return say(buf, len, "%llu", (unsigned long long)v);
}

/* The register holding off ("BAR2", "msix.control+1"), or NULL. An access wider than the
 * register names the registers it covers: "vendor/device". */
static const char *reg_name(const struct reg *t, size_t n, unsigned off, unsigned len,
			    const char *prefix, char *buf, size_t buflen)
{
	for (size_t i = 0; i < n; i++) {
		if (off < t[i].off || off >= t[i].off + t[i].size)
			continue;
		say(buf, buflen, "%s%s", prefix, t[i].name);
		if (off != t[i].off)
			append(buf, buflen, "+%u", off - t[i].off);
		for (size_t j = i + 1; j < n && t[j].off < off + len; j++)
			if (t[j].off >= t[i].off + t[i].size)
				append(buf, buflen, "/%s", t[j].name);
		return buf;
	}
	return NULL;
}

#define N(c)                                                                                       \
	{                                                                                          \
		c, #c                                                                              \
	}

const char *trace_decode_status(uint64_t status, char *buf, size_t len)
{
	static const struct name names[] = {
	    N(VIRTIO_CONFIG_S_ACKNOWLEDGE), N(VIRTIO_CONFIG_S_DRIVER),
	    N(VIRTIO_CONFIG_S_FEATURES_OK), N(VIRTIO_CONFIG_S_DRIVER_OK),
	    N(VIRTIO_CONFIG_S_NEEDS_RESET), N(VIRTIO_CONFIG_S_FAILED)};
	if (!status)
		return say(buf, len, "0");
	return bits(status, names, COUNT(names), strlen("VIRTIO_CONFIG_S_"), buf, len);
}

#define F(c)                                                                                       \
	{                                                                                          \
		1ULL << c, #c                                                                      \
	}
/* Bit 30 has no uapi name: QEMU's, VIRTIO_F_BAD_FEATURE, a trap a legacy driver never acks. */
#define F_BIT(bit, name)                                                                           \
	{                                                                                          \
		1ULL << (bit), name                                                                \
	}
static const struct name transport_features[] = {
    F(VIRTIO_F_NOTIFY_ON_EMPTY),       F(VIRTIO_F_ANY_LAYOUT),	   F(VIRTIO_RING_F_INDIRECT_DESC),
    F_BIT(30, "VIRTIO_F_BAD_FEATURE"), F(VIRTIO_RING_F_EVENT_IDX), F(VIRTIO_F_VERSION_1),
    F(VIRTIO_F_ACCESS_PLATFORM),       F(VIRTIO_F_RING_PACKED),	   F(VIRTIO_F_IN_ORDER),
    F(VIRTIO_F_ORDER_PLATFORM),	       F(VIRTIO_F_SR_IOV),	   F(VIRTIO_F_RING_RESET)};
static const struct name blk_features[] = {
    F(VIRTIO_BLK_F_BARRIER),	  F(VIRTIO_BLK_F_SIZE_MAX),    F(VIRTIO_BLK_F_SEG_MAX),
    F(VIRTIO_BLK_F_GEOMETRY),	  F(VIRTIO_BLK_F_RO),	       F(VIRTIO_BLK_F_BLK_SIZE),
    F(VIRTIO_BLK_F_SCSI),	  F(VIRTIO_BLK_F_FLUSH),       F(VIRTIO_BLK_F_TOPOLOGY),
    F(VIRTIO_BLK_F_CONFIG_WCE),	  F(VIRTIO_BLK_F_MQ),	       F(VIRTIO_BLK_F_DISCARD),
    F(VIRTIO_BLK_F_WRITE_ZEROES), F(VIRTIO_BLK_F_SECURE_ERASE)};

/* bits start at feature bit first_bit (a 32-bit select window starts at 32 * sel). Device bits
 * (0-23) are named for the device kind; bits without a name print as hex of their mask. */
const char *trace_decode_features(uint64_t bits_in, unsigned first_bit, uint32_t dev_kind,
				  char *buf, size_t len)
{
	struct name all[COUNT(transport_features) + COUNT(blk_features)];
	size_t n = 0;
	if (first_bit >= 64)
		return say(buf, len, "0x%llx", (unsigned long long)bits_in);
	for (size_t i = 0; dev_kind == VIRTIO_ID_BLOCK && i < COUNT(blk_features); i++)
		all[n++] = blk_features[i]; /* device bits first: the words come in bit order */
	for (size_t i = 0; i < COUNT(transport_features); i++)
		all[n++] = transport_features[i];
	/* shift the names into the window rather than the value, so the hex of an unnamed
	 * bit is what the driver saw in that window */
	for (size_t i = 0; i < n; i++)
		all[i].val = all[i].val >> first_bit << first_bit == all[i].val
				 ? all[i].val >> first_bit
				 : 0;
	return bits(bits_in, all, n, strlen("VIRTIO_"), buf, len);
}

static const struct reg pci_header[] = {{PCI_VENDOR_ID, 2, "vendor"},
					{PCI_DEVICE_ID, 2, "device"},
					{PCI_COMMAND, 2, "command"},
					{PCI_STATUS, 2, "status"},
					{PCI_REVISION_ID, 1, "revision"},
					{PCI_CLASS_PROG, 1, "prog_if"},
					{PCI_CLASS_DEVICE, 2, "class"},
					{PCI_CACHE_LINE_SIZE, 1, "cache_line"},
					{PCI_LATENCY_TIMER, 1, "latency"},
					{PCI_HEADER_TYPE, 1, "header_type"},
					{PCI_BIST, 1, "bist"},
					{PCI_BASE_ADDRESS_0, 4, "BAR0"},
					{PCI_BASE_ADDRESS_1, 4, "BAR1"},
					{PCI_BASE_ADDRESS_2, 4, "BAR2"},
					{PCI_BASE_ADDRESS_3, 4, "BAR3"},
					{PCI_BASE_ADDRESS_4, 4, "BAR4"},
					{PCI_BASE_ADDRESS_5, 4, "BAR5"},
					{PCI_CARDBUS_CIS, 4, "cardbus_cis"},
					{PCI_SUBSYSTEM_VENDOR_ID, 2, "subsys_vendor"},
					{PCI_SUBSYSTEM_ID, 2, "subsys"},
					{PCI_ROM_ADDRESS, 4, "rom"},
					{PCI_CAPABILITY_LIST, 1, "cap_ptr"},
					{PCI_INTERRUPT_LINE, 1, "int_line"},
					{PCI_INTERRUPT_PIN, 1, "int_pin"},
					{PCI_MIN_GNT, 1, "min_gnt"},
					{PCI_MAX_LAT, 1, "max_lat"}};
static const struct reg msix_cap[] = {{PCI_CAP_LIST_ID, 1, "cap_id"},
				      {PCI_CAP_LIST_NEXT, 1, "next"},
				      {PCI_MSIX_FLAGS, 2, "control"},
				      {PCI_MSIX_TABLE, 4, "table"},
				      {PCI_MSIX_PBA, 4, "pba"}};
/* A struct member as a register: its offset, width and name. */
#define FIELD(type, f)                                                                             \
	{                                                                                          \
		offsetof(type, f), sizeof(((type *)0)->f), #f                                      \
	}
#define VCAP(f) FIELD(struct virtio_pci_cap, f)
static const struct reg virtio_cap[] = {VCAP(cap_vndr), VCAP(cap_next), VCAP(cap_len),
					VCAP(cfg_type), VCAP(bar),	VCAP(id),
					VCAP(padding),	VCAP(offset),	VCAP(length)};
/* what follows struct virtio_pci_cap depends on cfg_type */
static const struct reg virtio_notify_cap[] = {
    {offsetof(struct virtio_pci_notify_cap, notify_off_multiplier), 4, "notify_off_multiplier"}};
static const struct reg virtio_pci_cfg_cap[] = {
    {offsetof(struct virtio_pci_cfg_cap, pci_cfg_data), 4, "pci_cfg_data"}};

static const char *virtio_cap_name(unsigned vtype)
{
	static const char *const names[] = {[VIRTIO_PCI_CAP_COMMON_CFG] = "virtio-common",
					    [VIRTIO_PCI_CAP_NOTIFY_CFG] = "virtio-notify",
					    [VIRTIO_PCI_CAP_ISR_CFG] = "virtio-isr",
					    [VIRTIO_PCI_CAP_DEVICE_CFG] = "virtio-device",
					    [VIRTIO_PCI_CAP_PCI_CFG] = "virtio-pci_cfg",
					    [VIRTIO_PCI_CAP_SHARED_MEMORY_CFG] = "virtio-shm"};
	return vtype < COUNT(names) && names[vtype] ? names[vtype] : "virtio";
}

static const char *pci_cap(uint64_t cap, char *buf, size_t len)
{
	unsigned start = cap & 0xff, id = (cap >> 8) & 0xff, vtype = (cap >> 16) & 0xff;
	if (!cap)
		return say(buf, len, "none");
	if (id == PCI_CAP_ID_MSIX)
		return say(buf, len, "msix@0x%x", start);
	if (id == PCI_CAP_ID_VNDR)
		return say(buf, len, "%s@0x%x", virtio_cap_name(vtype), start);
	return say(buf, len, "cap0x%02x@0x%x", id, start);
}

/* The register table of the capability an access at rel (from its start) falls in. */
static const struct reg *cap_regs(uint64_t cap, unsigned rel, size_t *n)
{
	unsigned id = (cap >> 8) & 0xff, vtype = (cap >> 16) & 0xff;
	const struct reg *t = NULL;

	if (id == PCI_CAP_ID_MSIX) {
		t = msix_cap;
		*n = COUNT(msix_cap);
	} else if (id != PCI_CAP_ID_VNDR) {
		return NULL;
	} else if (rel < sizeof(struct virtio_pci_cap)) {
		t = virtio_cap;
		*n = COUNT(virtio_cap);
	} else if (vtype == VIRTIO_PCI_CAP_NOTIFY_CFG) {
		t = virtio_notify_cap;
		*n = COUNT(virtio_notify_cap);
	} else if (vtype == VIRTIO_PCI_CAP_PCI_CFG) {
		t = virtio_pci_cfg_cap;
		*n = COUNT(virtio_pci_cfg_cap);
	}
	return t;
}

const char *trace_decode_pci_reg(unsigned off, unsigned width, uint64_t cap, char *buf, size_t len)
{
	unsigned start = cap & 0xff, id = (cap >> 8) & 0xff;
	char prefix[32];
	size_t n = 0;

	if (cap && off >= start) {
		const struct reg *t = cap_regs(cap, off - start, &n);
		say(prefix, sizeof(prefix), "%s.",
		    id == PCI_CAP_ID_MSIX ? "msix" : virtio_cap_name((cap >> 16) & 0xff));
		if (t && reg_name(t, n, off - start, width, prefix, buf, len))
			return buf;
		return say(buf, len, "%s+%u", pci_cap(cap, prefix, sizeof(prefix)), off - start);
	}
	if (!reg_name(pci_header, COUNT(pci_header), off, width, "", buf, len))
		say(buf, len, "0x%x", off);
	return buf;
}

static const struct reg common_cfg[] = {{VIRTIO_PCI_COMMON_DFSELECT, 4, "device_feature_select"},
					{VIRTIO_PCI_COMMON_DF, 4, "device_feature"},
					{VIRTIO_PCI_COMMON_GFSELECT, 4, "driver_feature_select"},
					{VIRTIO_PCI_COMMON_GF, 4, "driver_feature"},
					{VIRTIO_PCI_COMMON_MSIX, 2, "config_msix_vector"},
					{VIRTIO_PCI_COMMON_NUMQ, 2, "num_queues"},
					{VIRTIO_PCI_COMMON_STATUS, 1, "device_status"},
					{VIRTIO_PCI_COMMON_CFGGENERATION, 1, "config_generation"},
					{VIRTIO_PCI_COMMON_Q_SELECT, 2, "queue_select"},
					{VIRTIO_PCI_COMMON_Q_SIZE, 2, "queue_size"},
					{VIRTIO_PCI_COMMON_Q_MSIX, 2, "queue_msix_vector"},
					{VIRTIO_PCI_COMMON_Q_ENABLE, 2, "queue_enable"},
					{VIRTIO_PCI_COMMON_Q_NOFF, 2, "queue_notify_off"},
					{VIRTIO_PCI_COMMON_Q_DESCLO, 4, "queue_desc_lo"},
					{VIRTIO_PCI_COMMON_Q_DESCHI, 4, "queue_desc_hi"},
					{VIRTIO_PCI_COMMON_Q_AVAILLO, 4, "queue_driver_lo"},
					{VIRTIO_PCI_COMMON_Q_AVAILHI, 4, "queue_driver_hi"},
					{VIRTIO_PCI_COMMON_Q_USEDLO, 4, "queue_device_lo"},
					{VIRTIO_PCI_COMMON_Q_USEDHI, 4, "queue_device_hi"},
					{VIRTIO_PCI_COMMON_Q_NDATA, 2, "queue_notify_data"},
					{VIRTIO_PCI_COMMON_Q_RESET, 2, "queue_reset"}};
static const struct reg legacy_cfg[] = {{VIRTIO_PCI_HOST_FEATURES, 4, "host_features"},
					{VIRTIO_PCI_GUEST_FEATURES, 4, "guest_features"},
					{VIRTIO_PCI_QUEUE_PFN, 4, "queue_pfn"},
					{VIRTIO_PCI_QUEUE_NUM, 2, "queue_num"},
					{VIRTIO_PCI_QUEUE_SEL, 2, "queue_sel"},
					{VIRTIO_PCI_QUEUE_NOTIFY, 2, "queue_notify"},
					{VIRTIO_PCI_STATUS, 1, "status"},
					{VIRTIO_PCI_ISR, 1, "isr"},
					{VIRTIO_MSI_CONFIG_VECTOR, 2, "config_vector"},
					{VIRTIO_MSI_QUEUE_VECTOR, 2, "queue_vector"}};

const char *trace_decode_vreg(uint64_t reg, unsigned width, char *buf, size_t len)
{
	bool legacy = reg & TRACE_VREG_LEGACY;
	unsigned off = reg & 0xffff;
	if (!(legacy ? reg_name(legacy_cfg, COUNT(legacy_cfg), off, width, "legacy.", buf, len)
		     : reg_name(common_cfg, COUNT(common_cfg), off, width, "common.", buf, len)))
		snprintf(buf, len, "%s+0x%x", legacy ? "legacy" : "common", off);
	return buf;
}

#define BLKCFG(f) FIELD(struct virtio_blk_config, f)
static const struct reg blk_cfg[] = {BLKCFG(capacity),
				     BLKCFG(size_max),
				     BLKCFG(seg_max),
				     BLKCFG(geometry.cylinders),
				     BLKCFG(geometry.heads),
				     BLKCFG(geometry.sectors),
				     BLKCFG(blk_size),
				     BLKCFG(physical_block_exp),
				     BLKCFG(alignment_offset),
				     BLKCFG(min_io_size),
				     BLKCFG(opt_io_size),
				     BLKCFG(wce),
				     BLKCFG(unused),
				     BLKCFG(num_queues),
				     BLKCFG(max_discard_sectors),
				     BLKCFG(max_discard_seg),
				     BLKCFG(discard_sector_alignment),
				     BLKCFG(max_write_zeroes_sectors),
				     BLKCFG(max_write_zeroes_seg),
				     BLKCFG(write_zeroes_may_unmap),
				     BLKCFG(max_secure_erase_sectors),
				     BLKCFG(max_secure_erase_seg),
				     BLKCFG(secure_erase_sector_alignment)};

const char *trace_decode_devcfg(unsigned off, unsigned width, uint32_t dev_kind, char *buf,
				size_t len)
{
	if (dev_kind != VIRTIO_ID_BLOCK ||
	    !reg_name(blk_cfg, COUNT(blk_cfg), off, width, "", buf, len))
		snprintf(buf, len, "0x%x", off);
	return buf;
}

static const struct reg msix_entry[] = {{PCI_MSIX_ENTRY_LOWER_ADDR, 4, "addr_lo"},
					{PCI_MSIX_ENTRY_UPPER_ADDR, 4, "addr_hi"},
					{PCI_MSIX_ENTRY_DATA, 4, "data"},
					{PCI_MSIX_ENTRY_VECTOR_CTRL, 4, "vector_ctrl"}};

#define E(c)                                                                                       \
	{                                                                                          \
		c, #c                                                                              \
	}
static const struct name exits[] = {E(KVM_EXIT_UNKNOWN),
				    E(KVM_EXIT_EXCEPTION),
				    E(KVM_EXIT_IO),
				    E(KVM_EXIT_HYPERCALL),
				    E(KVM_EXIT_DEBUG),
				    E(KVM_EXIT_HLT),
				    E(KVM_EXIT_MMIO),
				    E(KVM_EXIT_IRQ_WINDOW_OPEN),
				    E(KVM_EXIT_SHUTDOWN),
				    E(KVM_EXIT_FAIL_ENTRY),
				    E(KVM_EXIT_INTR),
				    E(KVM_EXIT_SET_TPR),
				    E(KVM_EXIT_TPR_ACCESS),
				    E(KVM_EXIT_NMI),
				    E(KVM_EXIT_INTERNAL_ERROR),
				    E(KVM_EXIT_SYSTEM_EVENT),
				    E(KVM_EXIT_IOAPIC_EOI),
				    E(KVM_EXIT_X86_RDMSR),
				    E(KVM_EXIT_X86_WRMSR),
				    E(KVM_EXIT_X86_BUS_LOCK),
				    E(KVM_EXIT_NOTIFY)};
static const struct name blk_types[] = {E(VIRTIO_BLK_T_IN),	      E(VIRTIO_BLK_T_OUT),
					E(VIRTIO_BLK_T_SCSI_CMD),     E(VIRTIO_BLK_T_FLUSH),
					E(VIRTIO_BLK_T_GET_ID),	      E(VIRTIO_BLK_T_DISCARD),
					E(VIRTIO_BLK_T_WRITE_ZEROES), E(VIRTIO_BLK_T_SECURE_ERASE)};
static const struct name blk_status[] = {E(VIRTIO_BLK_S_OK), E(VIRTIO_BLK_S_IOERR),
					 E(VIRTIO_BLK_S_UNSUPP)};
static const struct name rw[] = {{TRACE_READ, "read"}, {TRACE_WRITE, "write"}};
static const struct name via[] = {{TRACE_VIA_EXIT, "exit"}, {TRACE_VIA_IOEVENTFD, "ioeventfd"}};
static const struct name irq_kinds[] = {
    {TRACE_IRQ_MSIX, "msix"}, {TRACE_IRQ_MSIX_IRQFD, "msix-irqfd"}, {TRACE_IRQ_INTX, "intx"}};
static const struct name suppress[] = {{TRACE_SUPPRESS_NO_INTERRUPT, "NO_INTERRUPT"},
				       {TRACE_SUPPRESS_EVENT_IDX, "EVENT_IDX"},
				       {TRACE_SUPPRESS_MASKED, "masked"},
				       {TRACE_SUPPRESS_NO_VECTOR, "NO_VECTOR"},
				       {TRACE_SUPPRESS_EVENT_DISABLE, "EVENT_DISABLE"},
				       {TRACE_SUPPRESS_EVENT_DESC, "EVENT_DESC"}};
/* Descriptor flags (virtio 1.2 §2.7.5, §2.8.1): the split ring's, then the packed ring's two. */
static const struct name desc_flags[] = {{VRING_DESC_F_NEXT, "NEXT"},
					 {VRING_DESC_F_WRITE, "WRITE"},
					 {VRING_DESC_F_INDIRECT, "INDIRECT"},
					 {1 << VRING_PACKED_DESC_F_AVAIL, "AVAIL"},
					 {1 << VRING_PACKED_DESC_F_USED, "USED"}};
static const struct name vm_states[] = {
    {TRACE_VM_RUNNING, "running"}, {TRACE_VM_PAUSED, "paused"}, {TRACE_VM_STOPPED, "stopped"}};
static const struct name wiring[] = {{TRACE_WIRE_IOEVENTFD, "ioeventfd"},
				     {TRACE_WIRE_IRQFD, "irqfd"}};
static const struct name isr_bits[] = {{1, "queue"}, {VIRTIO_PCI_ISR_CONFIG, "config"}};

/* The value of the argument called name, or def. */
static uint64_t arg_named(const struct trace_event_info *e, const uint64_t a[4], const char *name,
			  uint64_t def)
{
	for (unsigned i = 0; e->args[i].name; i++)
		if (!strcmp(e->args[i].name, name))
			return trace_arg_value(e, i, a);
	return def;
}

static const char *bytes(uint64_t v, unsigned n, char *buf, size_t len)
{
	buf[0] = 0;
	n = n < 1 ? 1 : n > 8 ? 8 : n;
	for (unsigned i = 0; i < n; i++)
		append(buf, len, "%s%02x", i ? " " : "", (unsigned)(v >> (8 * i)) & 0xff);
	return buf;
}

bool trace_fmt_is_number(enum trace_fmt f)
{
	return f == TRACE_FMT_U || f == TRACE_FMT_HEX;
}

const char *trace_decode_arg(const struct trace_file *tf, const struct trace_rec *r, unsigned i,
			     char *buf, size_t len)
{
	const struct trace_event_info *e = &trace_events[r->ev];
	uint64_t v = trace_arg_value(e, i, r->a);
	uint32_t kind = tf ? trace_file_dev_kind(tf, r->dev) : 0;
	unsigned width = arg_named(e, r->a, "len", 1);

	if (trace_arg_unknown(tf, r, i))
		return say(buf, len, "?");
	switch (e->args[i].fmt) {
	case TRACE_FMT_HEX:
		return say(buf, len, "0x%llx", (unsigned long long)v);
	case TRACE_FMT_STR:
		return say(buf, len, "%s", tf ? trace_file_str(tf, v) : "?");
	case TRACE_FMT_RW:
		return one_of(v, rw, COUNT(rw), 0, buf, len);
	case TRACE_FMT_STATUS:
		return trace_decode_status(v, buf, len);
	case TRACE_FMT_FEAT:
		return trace_decode_features(v, 0, kind, buf, len);
	case TRACE_FMT_FEATWIN: /* the select window is the argument before */
		return trace_decode_features(v, i ? 32 * trace_arg_value(e, i - 1, r->a) : 0, kind,
					     buf, len);
	case TRACE_FMT_PCIREG:
		return trace_decode_pci_reg(v, width, arg_named(e, r->a, "cap", 0), buf, len);
	case TRACE_FMT_PCICAP:
		return pci_cap(v, buf, len);
	case TRACE_FMT_BARTYPE: /* PCI 3.0 §6.2.5.1: the low bits of a BAR */
		if (v & PCI_BASE_ADDRESS_SPACE_IO)
			return say(buf, len, "io");
		say(buf, len,
		    (v & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64 ? "mem64"
											 : "mem32");
		if (v & PCI_BASE_ADDRESS_MEM_PREFETCH)
			join(buf, len, "prefetch");
		return buf;
	case TRACE_FMT_MSIXFIELD:
		if (!reg_name(msix_entry, COUNT(msix_entry), v % PCI_MSIX_ENTRY_SIZE, 1, "", buf,
			      len))
			snprintf(buf, len, "0x%llx", (unsigned long long)v);
		return buf;
	case TRACE_FMT_VEC:
		if (v == VIRTIO_MSI_NO_VECTOR)
			return say(buf, len, "NO_VECTOR");
		return say(buf, len, "%llu", (unsigned long long)v);
	case TRACE_FMT_QUEUE:
		if (v == TRACE_QUEUE_CONFIG)
			return say(buf, len, "config");
		return say(buf, len, "%llu", (unsigned long long)v);
	case TRACE_FMT_DEVCFG:
		return trace_decode_devcfg(v, width, kind, buf, len);
	case TRACE_FMT_VREG:
		return trace_decode_vreg(v, width, buf, len);
	case TRACE_FMT_VIA:
		return one_of(v, via, COUNT(via), 0, buf, len);
	case TRACE_FMT_BLKTYPE:
		return one_of(v, blk_types, COUNT(blk_types), strlen("VIRTIO_BLK_T_"), buf, len);
	case TRACE_FMT_BLKSTATUS:
		return one_of(v, blk_status, COUNT(blk_status), strlen("VIRTIO_BLK_S_"), buf, len);
	case TRACE_FMT_IRQKIND:
		return one_of(v, irq_kinds, COUNT(irq_kinds), 0, buf, len);
	case TRACE_FMT_SUPPRESS:
		return one_of(v, suppress, COUNT(suppress), 0, buf, len);
	case TRACE_FMT_ISR:
		return bits(v, isr_bits, COUNT(isr_bits), 0, buf, len);
	case TRACE_FMT_EXIT:
		return one_of(v, exits, COUNT(exits), strlen("KVM_EXIT_"), buf, len);
	case TRACE_FMT_BYTES:
		return bytes(v, i + 1 < trace_event_nargs(e) ? trace_arg_value(e, i + 1, r->a) : 8,
			     buf, len);
	case TRACE_FMT_VMSTATE:
		return one_of(v, vm_states, COUNT(vm_states), 0, buf, len);
	case TRACE_FMT_WIRING:
		return v ? bits(v, wiring, COUNT(wiring), 0, buf, len) : say(buf, len, "none");
	case TRACE_FMT_VUREQ:
	case TRACE_FMT_VUFLAGS:
	case TRACE_FMT_VUPAY:
		return trace_decode_vhost_user(e, r->a, i, buf, len);
	case TRACE_FMT_ERRNO: /* a negative errno */
		return say(buf, len, "%s", strerror(-(int64_t)v));
	case TRACE_FMT_RINGIDX: /* TRACE_RING_IDX_PACKED(): slot(wrapN) */
		if (v >> 16 == 1)
			return say(buf, len, "%llu(wrap%llu)", (unsigned long long)(v & 0x7fff),
				   (unsigned long long)(v >> 15 & 1));
		return say(buf, len, "%llu", (unsigned long long)v);
	case TRACE_FMT_DESCFLAGS:
		return v ? bits(v, desc_flags, COUNT(desc_flags), 0, buf, len)
			 : say(buf, len, "none");
	default:
		return say(buf, len, "%llu", (unsigned long long)v);
	}
}

const char *trace_decode_desc(const struct trace_rec *r, const struct trace_descs_ent *e,
			      const struct trace_desc *list, unsigned k, char *buf, size_t len)
{
	const struct trace_desc *d = &list[k];
	char flags[64];
	bool table = false;

	for (unsigned j = 0; j < k && j < e->n; j++) /* after an INDIRECT one: in its table */
		table |= (list[j].flags & VRING_DESC_F_INDIRECT) != 0;
	if (d->flags)
		bits(d->flags, desc_flags, COUNT(desc_flags), 0, flags, sizeof(flags));
	else
		say(flags, sizeof(flags), "-");
	return say(buf, len, "%s[%u] 0x%llx len=%u %s",
		   table		? "table"
		   : trace_rec_packed(r) ? "slot"
					: "desc",
		   d->idx, (unsigned long long)d->addr, d->len, flags);
}

bool trace_rec_packed(const struct trace_rec *r)
{
	return r->ev == TRACE_EV_PACKED_POP ||
	       (r->ev == TRACE_EV_USED_PUSH && trace_rec_arg(r, "used_idx", 0) >> 16 == 1);
}
