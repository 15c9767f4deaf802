/* trace/trace.h - front door of the trace layer, the floor every other layer records into: the
 * event catalogue, the one-line TRACE() point, guest context, and `run --trace`'s options. The
 * readers live in rooms of their own under trace/ (report/, compare/, view/), each with its own
 * front door; nothing here knows them.
 * File format: docs/trace-format.md. Events: docs/events.md (generated from the table below). */
#ifndef KVMSCOPE_TRACE_H
#define KVMSCOPE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- The catalogue: ONE table; the enum, the argument checks, the decoder and docs/events.md
 * are all generated from it.
 * X(ID, "name", CLASS, "what happened", slot...) with at most 4 slots, each slot either
 *   A(name, FMT)                    one 64-bit argument, or
 *   P(name, FMT, name2, FMT2)       two 32-bit halves: pass TRACE_PAIR(lo, hi).
 * FMT names a decoder in trace/decode.c (TRACE_FMT_*). */
#define TRACE_EVENTS(X, A, P)                                                                      \
	/* host side: the device's own init path */                                                \
	X(DEV_CREATE, "dev_create", HOST, "device created and placed on the PCI bus", A(slot, U),  \
	  A(function, U))                                                                          \
	X(CFG_SPACE_BUILT, "cfg_space_built", HOST,                                                \
	  "PCI config header filled (virtio 1.2 §4.1.2)", P(vendor, HEX, device, HEX),             \
	  A(revision, U), A(class, HEX), P(subsys_vendor, HEX, subsys, HEX))                       \
	X(BAR_REGISTER, "bar_register", HOST, "BAR registered with its size and kind", A(bar, U),  \
	  A(size, HEX), A(type, BARTYPE))                                                          \
	X(MSIX_ALLOC, "msix_alloc", HOST, "MSI-X vectors allocated: table and PBA in a BAR",       \
	  A(vectors, U), A(bar, U), A(table, HEX), A(pba, HEX))                                    \
	X(QUEUE_ADD, "queue_add", HOST, "virtqueue added with its maximum size", A(queue, U),      \
	  A(size, U))                                                                              \
	X(HOST_FEATURES, "host_features", HOST,                                                    \
	  "feature bits the device offers (virtio 1.2 §2.2)", A(features, FEAT))                   \
	X(VM_STATE, "vm_state", HOST, "VM running, paused or stopped", A(state, VMSTATE))          \
	X(BACKEND_START, "backend_start", HOST,                                                    \
	  "DRIVER_OK: the IO backend starts, notifies and interrupts wired", A(wiring, WIRING),    \
	  A(queues, U), A(backend, STR))                                                           \
	X(BACKEND_STOP, "backend_stop", HOST, "reset or NEEDS_RESET: the IO backend stops",        \
	  A(why, STR))                                                                             \
	/* guest side: PCI */                                                                      \
	X(PCI_CFG_READ, "pci_cfg_read", PCI, "guest read PCI config space", A(off, PCIREG),        \
	  A(len, U), A(val, HEX), A(cap, PCICAP))                                                  \
	X(PCI_CFG_WRITE, "pci_cfg_write", PCI, "guest wrote PCI config space", A(off, PCIREG),     \
	  A(len, U), A(val, HEX), A(cap, PCICAP))                                                  \
	X(BAR_MAP, "bar_map", PCI, "BAR placed at an address with decoding enabled", A(bar, U),    \
	  A(addr, HEX), A(size, HEX), A(type, BARTYPE))                                            \
	X(BAR_UNMAP, "bar_unmap", PCI, "BAR moved away or decoding disabled", A(bar, U),           \
	  A(addr, HEX), A(size, HEX), A(type, BARTYPE))                                            \
	X(MSIX_TABLE_WRITE, "msix_table_write", PCI, "guest wrote an MSI-X table entry",           \
	  A(entry, U), A(field, MSIXFIELD), A(val, HEX))                                           \
	X(MSIX_ENABLE, "msix_enable", PCI, "MSI-X enable / function mask in Message Control",      \
	  A(enabled, U), A(masked, U))                                                             \
	X(MSIX_MASK, "msix_mask", PCI, "an MSI-X vector masked or unmasked", A(entry, U),          \
	  A(masked, U), A(pending, U))                                                             \
	/* virtio status and features */                                                           \
	X(VIRTIO_STATUS, "virtio_status", STATUS, "driver wrote device status (virtio 1.2 §2.1)",  \
	  A(old, STATUS), A(new, STATUS))                                                          \
	X(DEVICE_RESET, "device_reset", STATUS, "device reset (virtio 1.2 §2.4)", A(old, STATUS))  \
	X(DEVICE_FEATURES_READ, "device_features_read", FEATURES,                                  \
	  "driver read one 32-bit window of device features", A(sel, U), A(bits, FEATWIN))         \
	X(DRIVER_FEATURES_WRITE, "driver_features_write", FEATURES,                                \
	  "driver wrote one 32-bit window of driver features", A(sel, U), A(bits, FEATWIN))        \
	X(FEATURES_OK, "features_ok", FEATURES, "FEATURES_OK accepted: the negotiated set",        \
	  A(features, FEAT))                                                                       \
	X(FEATURES_REFUSED, "features_refused", FEATURES,                                          \
	  "FEATURES_OK refused: the driver asked for bits the device lacks", A(features, FEAT),    \
	  A(unsupported, FEAT))                                                                    \
	/* virtqueue setup (virtio 1.2 §4.1.5.1.3) */                                             \
	X(QUEUE_SELECT, "queue_select", QUEUE, "driver selected a queue", A(queue, U))             \
	X(QUEUE_SIZE, "queue_size", QUEUE, "queue size read or written", A(queue, U), A(size, U),  \
	  A(rw, RW))                                                                               \
	X(QUEUE_PFN, "queue_pfn", QUEUE, "legacy: ring page frame number", A(queue, U),            \
	  A(pfn, HEX), A(rw, RW))                                                                  \
	X(QUEUE_DESC, "queue_desc", QUEUE, "descriptor table address", A(queue, U), A(addr, HEX))  \
	X(QUEUE_DRIVER, "queue_driver", QUEUE, "driver (avail) ring address", A(queue, U),         \
	  A(addr, HEX))                                                                            \
	X(QUEUE_DEVICE, "queue_device", QUEUE, "device (used) ring address", A(queue, U),          \
	  A(addr, HEX))                                                                            \
	X(QUEUE_ENABLE, "queue_enable", QUEUE, "queue_enable read or written", A(queue, U),        \
	  A(enable, U), A(rw, RW))                                                                 \
	X(QUEUE_MSIX_VECTOR, "queue_msix_vector", QUEUE,                                           \
	  "queue MSI-X vector written (virtio 1.2 §4.1.5.1.2)", A(queue, U), A(vector, VEC),       \
	  A(result, VEC))                                                                          \
	X(CONFIG_MSIX_VECTOR, "config_msix_vector", QUEUE, "configuration-change MSI-X vector",    \
	  A(vector, VEC), A(result, VEC))                                                          \
	/* configuration space */                                                                  \
	X(CONFIG_READ, "config_read", CONFIG, "driver read device config (virtio 1.2 §4.1.4.6)",   \
	  A(off, DEVCFG), A(len, U), A(val, HEX))                                                  \
	X(CONFIG_WRITE, "config_write", CONFIG, "driver wrote device config", A(off, DEVCFG),      \
	  A(len, U), A(val, HEX))                                                                  \
	X(COMMON_CFG_READ, "common_cfg_read", CONFIG,                                              \
	  "transport register read with no event of its own (virtio 1.2 §4.1.4.3, §4.1.4.8)",      \
	  A(reg, VREG), A(len, U), A(val, HEX))                                                    \
	X(COMMON_CFG_WRITE, "common_cfg_write", CONFIG,                                            \
	  "transport register write with no event of its own", A(reg, VREG), A(len, U),            \
	  A(val, HEX))                                                                             \
	/* the IO path */                                                                          \
	X(QUEUE_NOTIFY, "queue_notify", NOTIFY, "driver notified a queue (virtio 1.2 §4.1.5.2)",   \
	  A(queue, U), A(via, VIA), A(avail_idx, RINGIDX))                                         \
	X(CHAIN_POP, "chain_pop", REQUEST, "descriptor chain popped: a virtio-blk request",        \
	  P(queue, U, head, U), A(type, BLKTYPE), A(sector, U), P(segs, U, bytes, U))              \
	X(REQ_COMPLETE, "req_complete", REQUEST, "request done (virtio 1.2 §5.2.6)",               \
	  P(queue, U, head, U), A(status, BLKSTATUS), A(ns, U), A(written, U))                     \
	X(USED_PUSH, "used_push", REQUEST,                                                         \
	  "chain published in the used ring (packed: head is the buffer id, used_idx the next "    \
	  "used slot and wrap)",                                                                   \
	  P(queue, U, head, U), A(len, U), A(used_idx, RINGIDX))                                   \
	X(IRQ_RAISE, "irq_raise", IRQ,                                                             \
	  "interrupt raised (virtio 1.2 §4.1.5.3); INTx: vector=GSI, data=level",                  \
	  P(queue, QUEUE, kind, IRQKIND), A(vector, VEC), A(addr, HEX), A(data, HEX))              \
	X(IRQ_SUPPRESS, "irq_suppress", IRQ,                                                       \
	  "interrupt not raised: the driver asked not to be told (virtio 1.2 §2.7.7)",             \
	  A(queue, QUEUE), A(why, SUPPRESS), A(used_idx, RINGIDX), A(used_event, RINGIDX))         \
	X(ISR_READ, "isr_read", IRQ, "driver read (and cleared) the ISR (virtio 1.2 §4.1.4.5)",    \
	  A(isr, ISR))                                                                             \
	/* the guest, errors, exits */                                                             \
	X(GUEST_MARKER, "guest_marker", MARKER, "the guest wrote a phase marker", A(text, STR))    \
	X(GUEST_ERROR, "guest_error", ERROR, "the driver broke a rule: NEEDS_RESET or IOERR",      \
	  A(reason, STR), A(val, HEX))                                                             \
	X(EMU_FALLBACK, "emu_fallback", ERROR,                                                     \
	  "kvmscope completed an instruction KVM could not emulate", A(insn, STR),                 \
	  A(bytes, BYTES), A(len, U))                                                              \
	X(KVM_EXIT, "kvm_exit", EXIT, "every exit to kvmscope (verbose)", A(reason, EXIT),         \
	  A(addr, HEX), P(len, U, rw, RW), A(data, HEX))                                           \
	X(TRACE_DROPS, "trace_drops", TRACE, "the ring was full: records lost since the last one", \
	  A(dropped, U), A(total, U))                                                              \
	X(TRACE_PAUSE, "trace_pause", TRACE,                                                       \
	  "recording paused (1) or resumed (0) by a SIGUSR2 to kvmscope", A(paused, U),            \
	  A(signals, U))                                                                           \
	X(IMPORTED, "imported", TRACE,                                                             \
	  "imported: an event of another tracer (QEMU log, bpftrace) with no counterpart here",    \
	  A(event, STR), A(args, STR), A(line, U))                                                 \
	/* vhost-user: kvmscope <-> the backend serving the queue (trace/vhost-user-proto.h) */    \
	X(VHOST_USER_SEND, "vhost_user_send", VHOST, "kvmscope sent a vhost-user message",         \
	  P(request, VUREQ, flags, VUFLAGS), P(size, U, fds, U), A(payload, VUPAY),                \
	  A(payload2, VUPAY))                                                                      \
	X(VHOST_USER_RECV, "vhost_user_recv", VHOST, "the vhost-user backend replied",             \
	  P(request, VUREQ, flags, VUFLAGS), P(size, U, fds, U), A(payload, VUPAY),                \
	  A(payload2, VUPAY))                                                                      \
	X(VHOST_USER_REGION, "vhost_user_region", VHOST,                                           \
	  "one guest RAM region of SET_MEM_TABLE, its memfd passed with the message",              \
	  A(guest_addr, HEX), A(size, HEX), A(user_addr, HEX), A(mmap_offset, HEX))                \
	X(VHOST_USER_VRING_ADDR, "vhost_user_vring_addr", VHOST,                                   \
	  "SET_VRING_ADDR's ring addresses, in kvmscope's mapping of guest RAM", A(desc, HEX),     \
	  A(avail, HEX), A(used, HEX), A(log, HEX))                                                \
	X(VHOST_USER_ERROR, "vhost_user_error", ERROR,                                             \
	  "the vhost-user backend failed: socket closed, no reply, a request refused",             \
	  A(why, STR), A(request, VUREQ), A(err, ERRNO))                                           \
	/* Appended, not placed by class: an event's number is its code in trace files. */         \
	X(PACKED_POP, "packed_pop", REQUEST,                                                       \
	  "packed ring: the device found a chain available at slot with its wrap counter "         \
	  "(virtio 1.2 §2.8.1, §2.8.6)",                                                           \
	  P(queue, U, id, U), P(slot, U, wrap, U), A(descs, U), A(flags, DESCFLAGS))            \
	X(SPLIT_POP, "split_pop", REQUEST,                                                         \
	  "split ring: the device took a chain's head from the avail ring (virtio 1.2 §2.7.13.2)", \
	  P(queue, U, head, U), A(avail, RINGIDX), A(avail_idx, RINGIDX), A(descs, U))             \
	X(COALESCED_IO, "coalesced_io", EXIT,                                                      \
	  "a guest write KVM kept in its coalesced ring (no exit), applied by kvmscope in order "  \
	  "at a later exit or console tick; pio=1 for a port",                                     \
	  A(addr, HEX), P(len, U, pio, U), A(data, HEX))

/* Event classes: what --trace-events and --events can name besides single events. */
#define TRACE_CLASSES(C)                                                                           \
	C(HOST, "host-init")                                                                       \
	C(PCI, "pci")                                                                              \
	C(STATUS, "virtio-status")                                                                 \
	C(FEATURES, "features")                                                                    \
	C(QUEUE, "queue-setup")                                                                    \
	C(CONFIG, "config")                                                                        \
	C(NOTIFY, "notify")                                                                        \
	C(REQUEST, "request")                                                                      \
	C(IRQ, "irq")                                                                              \
	C(MARKER, "guest-marker")                                                                  \
	C(ERROR, "error")                                                                          \
	C(EXIT, "exit")                                                                            \
	C(TRACE, "trace")                                                                          \
	C(VHOST, "vhost-user")

/* Helpers for expanding the table; TRACE_NARG counts arguments for the check in TRACE(). */
#define TRACE_IGNORE_(...)
#define TRACE_ONE_(...)				       1
#define TRACE_NARG(...)				       TRACE_NARG_(0, ##__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define TRACE_NARG_(z, a, b, c, d, e, f, g, h, n, ...) n
#define TRACE_EV_ENUM_(id, name, cls, doc, ...)	       TRACE_EV_##id,
enum trace_event { TRACE_EVENTS(TRACE_EV_ENUM_, TRACE_IGNORE_, TRACE_IGNORE_) TRACE_EV_NR };
#define TRACE_CLASS_ENUM_(id, name) TRACE_CLASS_##id,
enum trace_class { TRACE_CLASSES(TRACE_CLASS_ENUM_) TRACE_CLASS_NR };
_Static_assert(TRACE_EV_NR <= 64, "the enabled mask is one 64-bit word");

#define TRACE_NSLOTS_ENUM_(id, name, cls, doc, ...) TRACE_NSLOTS_##id = TRACE_NARG(__VA_ARGS__),
enum { TRACE_EVENTS(TRACE_NSLOTS_ENUM_, TRACE_ONE_, TRACE_ONE_) };

/* Two 32-bit values in one slot (P(...) in the table). */
#define TRACE_PAIR(lo, hi) ((uint64_t)(uint32_t)(lo) | (uint64_t)(uint32_t)(hi) << 32)

/* Argument values with names in the decoder. BARTYPE takes the BAR's PCI type bits
 * (PCI_BASE_ADDRESS_SPACE_IO, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_MEM_PREFETCH). */
enum { TRACE_READ = 0, TRACE_WRITE = 1 };				   /* RW */
enum { TRACE_VIA_EXIT = 0, TRACE_VIA_IOEVENTFD = 1 };			   /* VIA */
enum { TRACE_IRQ_MSIX = 0, TRACE_IRQ_MSIX_IRQFD = 1, TRACE_IRQ_INTX = 2 }; /* IRQKIND */
enum {
	TRACE_SUPPRESS_NO_INTERRUPT = 0,
	TRACE_SUPPRESS_EVENT_IDX = 1,
	TRACE_SUPPRESS_MASKED = 2,
	TRACE_SUPPRESS_NO_VECTOR = 3,
	TRACE_SUPPRESS_EVENT_DISABLE = 4, /* packed: the driver's event flags say DISABLE */
	TRACE_SUPPRESS_EVENT_DESC = 5	  /* packed: its event offset was not reached */
};					  /* SUPPRESS */
/* RINGIDX: a split ring's 16-bit index as it is; a packed ring's slot and wrap counter marked
 * with bit 16 (the wrap counter in bit 15, as the spec's off_wrap words carry it). */
#define TRACE_RING_IDX_PACKED(slot, wrap)                                                          \
	((uint64_t)1 << 16 | (uint64_t) !!(wrap) << 15 | ((uint64_t)(slot)&0x7fff))
enum { TRACE_VM_RUNNING = 0, TRACE_VM_PAUSED = 1, TRACE_VM_STOPPED = 2 }; /* VMSTATE */
enum { TRACE_WIRE_IOEVENTFD = 1, TRACE_WIRE_IRQFD = 2 };		  /* WIRING: bits */
#define TRACE_QUEUE_CONFIG 0xffff /* QUEUE: the configuration-change interrupt */
/* VREG: a transport register offset; legacy header offsets carry this bit. */
#define TRACE_VREG_LEGACY 0x10000
/* PCICAP: which capability an access fell in, so the decoder names the field (0: none).
 * vtype is the virtio cfg_type of a vendor capability (VIRTIO_PCI_CAP_*), else 0. */
#define TRACE_PCI_CAP(start, cap_id, vtype)                                                        \
	((uint64_t)(start) | (uint64_t)(cap_id) << 8 | (uint64_t)(vtype) << 16)

/* --- A chain's descriptors as the device walked them (the DESCS chunk, docs/trace-format.md):
 * the first TRACE_DESCS_MAX, in walk order, and how many it read in all. idx: split, the
 * descriptor's index in its table (the ring's, or the indirect table after an INDIRECT one);
 * packed, its ring slot, or its index in the indirect table. 16 bytes, the file's layout. --- */
struct trace_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, idx;
};
_Static_assert(sizeof(struct trace_desc) == 16, "a descriptor is 16 bytes in the file");
#define TRACE_DESCS_MAX 16
struct trace_descs {
	uint16_t n;	 /* kept in d[] */
	uint16_t walked; /* read in all: walked - n were not recorded */
	bool on;	 /* set before the walk: trace_on() of the event that will carry them */
	/* + 2: the ring copies them 3 at a time (trace/internal.h), the last 3 from d[15] */
	struct trace_desc d[TRACE_DESCS_MAX + 2];
};

static inline void trace_descs_start(struct trace_descs *l, bool on)
{
	l->on = on;
	l->n = l->walked = 0;
}

/* One descriptor read by the walk; a load and a branch while its event is off. */
static inline void trace_descs_add(struct trace_descs *l, uint64_t addr, uint32_t len,
				   uint16_t flags, uint16_t idx)
{
	if (__builtin_expect(l->on, 0)) {
		if (l->n < TRACE_DESCS_MAX)
			l->d[l->n++] = (struct trace_desc){addr, len, flags, idx};
		l->walked++;
	}
}

/* --- The trace point. Nearly free when off: one load and one predictable branch. --- */
struct trace_site {
	uint16_t ev, id; /* id: this call site in the file's site table, set on first use */
	const char *func, *file;
	int line;
};

extern uint64_t trace_mask; /* bit n: event n is recorded */

/* TRACE(EV, dev, args...): dev from trace_dev_register() or 0; as many args as the table's
 * slots for EV (checked at compile time). */
#define TRACE(ev, dev, ...)                                                                        \
	TRACE_POINT_(ev, trace_emit(&trace_site_, (dev), TRACE_PAD4_(0, ##__VA_ARGS__, 0, 0, 0, 0)), \
		     __VA_ARGS__)
/* TRACE_DESCS(EV, dev, descs, args...): TRACE() with the descriptors of a struct trace_descs
 * attached to the record when the walk kept them (descs->on; the DESCS chunk). */
#define TRACE_DESCS(ev, dev, descs, ...)                                                           \
	TRACE_POINT_(ev,                                                                           \
		     trace_emit_descs(&trace_site_, (dev), (descs)->on ? (descs) : NULL,           \
				      TRACE_PAD4_(0, ##__VA_ARGS__, 0, 0, 0, 0)),                  \
		     __VA_ARGS__)
/* Both: the count check, the one load and branch, the site made once, then call. */
#define TRACE_POINT_(ev, call, ...)                                                                \
	do {                                                                                       \
		_Static_assert(TRACE_NARG(__VA_ARGS__) == TRACE_NSLOTS_##ev,                       \
			       "TRACE(" #ev "): argument count differs from the catalogue");       \
		if (__builtin_expect(                                                              \
			(__atomic_load_n(&trace_mask, __ATOMIC_RELAXED) >> TRACE_EV_##ev) & 1,     \
			0)) {                                                                      \
			static struct trace_site trace_site_ = {TRACE_EV_##ev, 0, __func__,        \
								__FILE__, __LINE__};               \
			call;                                                                      \
		}                                                                                  \
	} while (0)
#define TRACE_PAD4_(z, a, b, c, d, ...) (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), (uint64_t)(d)

static inline bool trace_on(enum trace_event ev)
{
	return (__atomic_load_n(&trace_mask, __ATOMIC_RELAXED) >> ev) & 1;
}

void trace_emit(struct trace_site *site, unsigned dev, uint64_t a0, uint64_t a1, uint64_t a2,
		uint64_t a3);
void trace_emit_descs(struct trace_site *site, unsigned dev, const struct trace_descs *descs,
		      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3);
/* CLOCK_MONOTONIC in ns, the records' clock: for durations an event reports (req_complete). */
uint64_t trace_now_ns(void);

/* --- Names: devices, threads, long strings. --- */
/* A device's id for TRACE(); kind is its virtio device id (VIRTIO_ID_BLOCK ...) or 0. */
uint16_t trace_dev_register(const char *name, uint32_t kind);
/* A string's id for STR arguments (marker text, error reasons); 0 when the table is full. */
uint32_t trace_intern(const char *s);
uint32_t trace_intern_len(const char *s, size_t len);

enum trace_thread_kind {
	TRACE_THREAD_MAIN,
	TRACE_THREAD_VCPU,
	TRACE_THREAD_IO,
	TRACE_THREAD_WRITER
};
void trace_thread_set(enum trace_thread_kind kind, unsigned index); /* name the calling thread */

/* --- Guest context: which guest code caused an event. ---
 * A vCPU thread gives a source once; at every exit it calls trace_guest_exit(); the first event
 * of that exit asks the source for RIP and a stack (lazily: exits with no event cost nothing). */
typedef void (*trace_guest_fn)(void *opaque, uint64_t *rip, uint32_t *stack);
void trace_guest_source(trace_guest_fn fn, void *opaque);

struct trace_thread {
	uint16_t tid;
	bool ctx_stale;
	trace_guest_fn ctx_fn;
	void *ctx_opaque;
	uint64_t rip;
	uint32_t stack;
};
extern __thread struct trace_thread trace_self;

static inline void trace_guest_exit(void)
{
	trace_self.ctx_stale = true;
}

/* Events from here to the next trace_guest_exit() have no guest context: what caused them ran
 * before this exit (writes KVM held in its coalesced ring), at code the trace cannot name. */
static inline void trace_guest_none(void)
{
	trace_self.ctx_stale = false;
	trace_self.rip = 0;
	trace_self.stack = 0;
}

/* Reads guest memory at addr (physical or virtual, per the function); 0 or -errno. */
typedef int (*trace_read_fn)(void *opaque, uint64_t addr, void *buf, size_t len);

#define TRACE_STACK_MAX		  8
#define TRACE_KERNEL_MAP	  0xffffffff80000000ULL /* x86-64 kernel text: phys = va - this */
#define TRACE_PAGE_OFFSET_DEFAULT 0xffff888000000000ULL /* direct map without KASLR */

/* Guest-virtual reads for the walker: the two linear kernel maps, else a 4-level page walk
 * from cr3 (0: no page walk). */
struct trace_guest_mem {
	trace_read_fn read_phys;
	void *opaque;
	uint64_t cr3;
	uint64_t page_offset_base;
};
uint64_t trace_kva_to_pa(uint64_t va, uint64_t page_offset_base); /* UINT64_MAX: neither map */
int trace_guest_read_virt(void *guest_mem, uint64_t va, void *buf, size_t len);
/* Follows frame pointers from rbp: [rbp] = caller's rbp, [rbp + 8] = return address. */
unsigned trace_stack_walk(uint64_t rbp, trace_read_fn read_virt, void *opaque,
			  uint64_t pcs[TRACE_STACK_MAX]);
uint32_t trace_stack_intern(const uint64_t *pcs, unsigned n); /* 0 for none */
/* Walk + intern: what a trace_guest_fn usually returns as *stack. */
uint32_t trace_guest_stack(const struct trace_guest_mem *gm, uint64_t rbp);

/* --- `kvmscope run --trace FILE [--trace-events GLOB,...] [--trace-buffer SIZE] [--symbols F]` */
struct trace_options {
	const char *path;    /* NULL: tracing off */
	const char *events;  /* NULL: every class but "exit" */
	size_t buffer_bytes; /* 0: TRACE_BUFFER_DEFAULT */
	const char *symbols; /* guest vmlinux; NULL: "vmlinux" beside kernel, or kernel if ELF */
	const char *kernel;  /* the kernel booted */
};
#define TRACE_BUFFER_DEFAULT (8u << 20)
#define TRACE_BUFFER_MIN     (64u << 10)
#define TRACE_BUFFER_MAX     (1u << 30) /* 16 M records: the ring is allocated and touched whole */

/* "64K", "16M", "1G", "1GiB", "1048576" (binary units) into *out: 0, -EINVAL for no size, -ERANGE
 * when it does not fit in 64 bits. The size options of `kvmscope run` (--mem, --trace-buffer). */
int trace_parse_size(const char *s, uint64_t *out);

/* If argv[*i] is one of the options above, take it and its value ("--opt V" or "--opt=V"),
 * leave *i on the last argument taken and return 1; 0 when it is not a trace option; -1 after
 * one line on stderr. */
int trace_parse_option(struct trace_options *o, int argc, char **argv, int *i);
/* Whether a trace file can be created or replaced at path (not a directory, its folder
 * writable): 0 or -errno, nothing printed. Whatever it refuses is the user's bad path. */
int trace_path_writable(const char *path);
/* trace_path_writable for the --trace file, before any VM exists: 0, or -errno after one line on
 * stderr naming the file. */
int trace_check(const struct trace_options *o);
/* Opens the file, writes the header, starts the writer, enables the events; -errno after one line
 * on stderr naming the file or value. */
int trace_start(const struct trace_options *o);
/* Disables events, drains the ring, writes the end of the file. Call after the emitters stop. */
void trace_stop(void);
/* A key=value line for the file's info block (transport, io_path, version, host_kvm ...); may be
 * called before trace_start(). */
void trace_info(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
