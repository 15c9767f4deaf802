/* kvm/emulate.c - KVM_EXIT_INTERNAL_ERROR: instructions a software KVM's emulator gives up on.
 * A few are safe to complete here (docs/platform.md lists where they were seen); every other
 * one stops the VM with a one-line diagnosis naming the instruction and, where known, the fix. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/internal.h"
#include "trace/trace.h"

#define INSN_MAX 15

struct insn {
	uint8_t b[INSN_MAX];
	unsigned len; /* bytes we could read */
};

static const char *const emu_names[EMU_NR] = {
    [EMU_INT3] = "int3",       [EMU_FWAIT] = "fwait",	  [EMU_FNCLEX] = "fnclex",
    [EMU_LDMXCSR] = "ldmxcsr", [EMU_STMXCSR] = "stmxcsr",
};

const char *emu_kind_name(enum emu_kind k)
{
	return k < EMU_NR ? emu_names[k] : "?";
}

/* Guest-virtual to host pointer through the vCPU's own page tables. */
static void *guest_virt(struct vcpu *vcpu, uint64_t va, uint64_t len)
{
	struct kvm_translation t = {.linear_address = va};

	/* A range that crosses a page is refused rather than translated twice. */
	if ((va & 0xfff) + len > 0x1000)
		return NULL;
	if (ioctl(vcpu->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return NULL;
	return guest_ptr(&vcpu->vm->mem, t.physical_address, len);
}

static void fetch_insn(struct vcpu *vcpu, uint64_t rip, struct insn *in)
{
	const struct kvm_run *run = vcpu->run;

	in->len = 0;
	if (run->emulation_failure.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		in->len = run->emulation_failure.insn_size;
		if (in->len > INSN_MAX)
			in->len = INSN_MAX;
		memcpy(in->b, run->emulation_failure.insn_bytes, in->len);
	}
	/* Older kernels give no bytes, kvm_pvm only those it decoded: read the rest, one byte at a
	 * time so that a page end is crossed. */
	while (in->len < INSN_MAX) {
		uint8_t *p = guest_virt(vcpu, rip + in->len, 1);
		if (!p)
			break;
		in->b[in->len++] = *p;
	}
}

/* A general-purpose register by its 4-bit number, as ModRM/SIB encode it. */
static uint64_t gpr(const struct kvm_regs *r, unsigned n)
{
	const uint64_t v[16] = {r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				r->r8,	r->r9,	r->r10, r->r11, r->r12, r->r13, r->r14, r->r15};
	return v[n & 15];
}

/* The memory operand of a 64-bit ModRM instruction starting at in->b[at]; returns the total
 * instruction length or 0 when the operand is a register or the bytes run out. */
static unsigned modrm_address(const struct insn *in, unsigned at, uint8_t rex,
			      const struct kvm_regs *r, uint64_t *ea)
{
	unsigned p = at + 1, mod, rm;
	int64_t disp = 0;

	if (at >= in->len)
		return 0;
	mod = in->b[at] >> 6;
	rm = in->b[at] & 7;
	if (mod == 3)
		return 0;
	if (rm == 4) { /* SIB byte follows */
		if (p >= in->len)
			return 0;
		uint8_t sib = in->b[p++];
		unsigned base = (sib & 7) | ((rex & 1) << 3),
			 index = ((sib >> 3) & 7) | ((rex & 2) << 2);
		*ea = index == 4 ? 0 : gpr(r, index) << (sib >> 6);
		if ((sib & 7) == 5 && mod == 0) {
			mod = 2; /* no base, disp32 */
		} else {
			*ea += gpr(r, base);
		}
	} else if (rm == 5 && mod == 0) {
		*ea = 0; /* RIP-relative: added once the length is known */
	} else {
		*ea = gpr(r, rm | ((rex & 1) << 3));
	}
	unsigned dlen = mod == 1 ? 1 : (mod == 2 || (rm == 5 && in->b[at] >> 6 == 0)) ? 4 : 0;
	if (p + dlen > in->len)
		return 0;
	if (dlen == 1)
		disp = (int8_t)in->b[p];
	else if (dlen == 4)
		disp = (int32_t)(in->b[p] | in->b[p + 1] << 8 | in->b[p + 2] << 16 |
				 (uint32_t)in->b[p + 3] << 24);
	p += dlen;
	*ea += disp;
	if (rm == 5 && in->b[at] >> 6 == 0)
		*ea += r->rip + p;
	return p;
}

/* ldmxcsr m32 (0f ae /2) and stmxcsr m32 (0f ae /3): MXCSR to or from guest memory. Through
 * KVM_GET/SET_XSAVE (MXCSR at byte 24 of the FXSAVE area): kvm_pvm's KVM_GET_FPU reads MXCSR
 * as 0 and its KVM_SET_FPU ignores it (docs/platform.md). KVM_GET/SET_FPU where XSAVE fails. */
static int complete_mxcsr(struct vcpu *vcpu, const struct insn *in, unsigned op, uint8_t rex,
			  struct kvm_regs *r, bool load)
{
	static struct kvm_xsave xs; /* 4 KiB: the vCPU thread is the only user */
	struct kvm_fpu fpu;
	uint64_t ea;
	unsigned len = modrm_address(in, op + 2, rex, r, &ea);
	uint32_t *mem = len ? guest_virt(vcpu, ea, 4) : NULL;
	bool xsave = ioctl(vcpu->fd, KVM_GET_XSAVE, &xs) == 0;

	if (!mem || (!xsave && ioctl(vcpu->fd, KVM_GET_FPU, &fpu) < 0))
		return -1;
	uint32_t *mxcsr = xsave ? &xs.region[6] : &fpu.mxcsr;
	if (!load) {
		*mem = *mxcsr;
	} else {
		*mxcsr = *mem;
		if (ioctl(vcpu->fd, xsave ? KVM_SET_XSAVE : KVM_SET_FPU,
			  xsave ? (void *)&xs : &fpu) < 0)
			return -1;
	}
	r->rip += len;
	return 0;
}

/* #BP is a trap: the guest's handler expects RIP after the int3. */
static int inject_bp(struct vcpu *vcpu, struct kvm_regs *r)
{
	struct kvm_vcpu_events ev;

	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -1;
	ev.exception.injected = 1;
	ev.exception.nr = 3;
	ev.exception.has_error_code = 0;
	r->rip += 1;
	return ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -1 : 0;
}

/* What a Linux command line can do about an instruction we cannot complete. */
static const char *name_insn(const struct insn *in, unsigned op, const char **fix)
{
	const uint8_t *b = in->b + op;
	unsigned left = in->len - op;

	*fix = NULL;
	if (left >= 3 && b[0] == 0x0f && b[1] == 0x01 && (b[2] == 0xca || b[2] == 0xcb)) {
		*fix = "clearcpuid=smap,smep";
		return b[2] == 0xca ? "clac" : "stac";
	}
	if (left >= 3 && b[0] == 0x0f && b[1] == 0xae && (b[2] >> 6) != 3) {
		static const char *const grp15[8] = {"fxsave", "fxrstor", "ldmxcsr",  "stmxcsr",
						     "xsave",  "xrstor",  "xsaveopt", "clflush"};
		unsigned reg = (b[2] >> 3) & 7;
		if (reg >= 4 && reg <= 6)
			*fix = "noxsave";
		return grp15[reg];
	}
	if (left >= 3 && b[0] == 0x0f && b[1] == 0xb8 && op > 0 && in->b[0] == 0xf3) {
		*fix = "clearcpuid=popcnt";
		return "popcnt";
	}
	if (left >= 3 && b[0] == 0x0f && b[1] == 0xc7 && ((b[2] >> 3) & 7) == 1) {
		*fix = "clearcpuid=cx16";
		return "cmpxchg16b";
	}
	return NULL;
}

int emulate_internal_error(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_regs r;
	struct insn in;
	unsigned op = 0;
	uint8_t rex = 0;
	int kind = -1, ok = -1;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0) {
		fprintf(stderr, "kvmscope: internal error %u and KVM_GET_REGS failed: %s\n",
			vcpu->run->internal.suberror, strerror(errno));
		return -1;
	}
	fetch_insn(vcpu, r.rip, &in);
	/* Skip legacy prefixes and REX to the opcode. */
	while (op < in.len && (in.b[op] == 0x66 || in.b[op] == 0xf2 || in.b[op] == 0xf3 ||
			       in.b[op] == 0xf0 || (in.b[op] & 0xf0) == 0x40)) {
		if ((in.b[op] & 0xf0) == 0x40)
			rex = in.b[op];
		op++;
	}

	if (op < in.len && in.b[op] == 0xcc && op == 0) {
		kind = EMU_INT3;
		ok = inject_bp(vcpu, &r);
	} else if (op < in.len && in.b[op] == 0x9b && op == 0) {
		kind = EMU_FWAIT; /* no x87 exception can be pending: a no-op */
		r.rip += 1;
		ok = 0;
	} else if (op + 1 < in.len && in.b[op] == 0xdb && in.b[op + 1] == 0xe2 && op == 0) {
		kind = EMU_FNCLEX; /* clears x87 exception flags nobody raised here */
		r.rip += 2;
		ok = 0;
	} else if (op + 2 < in.len && in.b[op] == 0x0f && in.b[op + 1] == 0xae &&
		   (((in.b[op + 2] >> 3) & 7) == 2 || ((in.b[op + 2] >> 3) & 7) == 3) &&
		   (in.b[op + 2] >> 6) != 3) {
		bool load = ((in.b[op + 2] >> 3) & 7) == 2;
		kind = load ? EMU_LDMXCSR : EMU_STMXCSR;
		ok = complete_mxcsr(vcpu, &in, op, rex, &r, load);
	}

	if (kind >= 0 && ok == 0 && ioctl(vcpu->fd, KVM_SET_REGS, &r) == 0) {
		uint64_t bytes = 0;
		memcpy(&bytes, in.b, in.len < 8 ? in.len : 8);
		__atomic_fetch_add(&vm->emu_count[kind], 1, __ATOMIC_RELAXED); /* any vCPU */
		vcpu->fallbacks++;
		TRACE(EMU_FALLBACK, 0, trace_intern(emu_names[kind]), bytes, in.len);
		return 0;
	}

	char bytes[3 * INSN_MAX + 1] = "";
	for (unsigned i = 0; i < in.len && i < 8; i++)
		snprintf(bytes + 3 * i, 4, "%s%02x", i ? " " : "", in.b[i]);
	const char *fix, *name = name_insn(&in, op, &fix);
	fprintf(stderr,
		"kvmscope: guest stopped: KVM cannot emulate %s at RIP 0x%llx (bytes %s, "
		"suberror %u)%s%s%s\n",
		name ? name : "an instruction", (unsigned long long)r.rip,
		in.len ? bytes : "unreadable", vcpu->run->internal.suberror,
		fix ? "; try --append '" : "", fix ? fix : "", fix ? "' or --compat=on" : "");
	return -1;
}
