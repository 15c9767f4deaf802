/* kvm/run.c - running the guest: one thread per vCPU and its exits, the console, stopping. */
#include <asm/processor-flags.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "kvm/internal.h"
#include "trace/trace.h"

void vm_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	/* The first reason wins: a reset after an error is still an error. */
	if (__sync_bool_compare_and_swap(&vm->stop_reason, VM_RUNNING, why))
		vm->exit_status = status;
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].run)
			vm->vcpus[i].run->immediate_exit = 1;
	uint64_t one = 1;
	if (vm->stop_fd >= 0 && write(vm->stop_fd, &one, sizeof(one)) < 0)
		return; /* the counter is saturated: a wake-up is pending anyway */
}

/* An access's value as the trace shows it (little-endian, up to 8 bytes). */
static uint64_t read_le(const uint8_t *p, uint32_t len)
{
	uint64_t v = 0;

	memcpy(&v, p, len < 8 ? len : 8);
	return v;
}

static int read_phys(void *opaque, uint64_t addr, void *buf, size_t len)
{
	const void *p = guest_ptr(opaque, addr, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

/* Which guest code caused the exit: asked by the trace layer on the first event of an exit only.
 * The first time it takes two ioctls; then KVM_RUN copies the registers into kvm_run at every
 * exit (KVM_CAP_SYNC_REGS), which costs no system call: two per exit were a traced run's largest
 * cost on real KVM. */
static void guest_context(void *opaque, uint64_t *rip, uint32_t *stack)
{
	struct vcpu *vcpu = opaque;
	struct kvm_run *run = vcpu->run;
	struct kvm_regs io_r, *r = &run->s.regs.regs;
	struct kvm_sregs io_s, *s = &run->s.regs.sregs;

	*rip = 0;
	*stack = 0;
	if ((run->kvm_valid_regs & SYNC_REGS) != SYNC_REGS) {
		if (ioctl(vcpu->fd, KVM_GET_REGS, &io_r) < 0 ||
		    ioctl(vcpu->fd, KVM_GET_SREGS, &io_s) < 0)
			return;
		r = &io_r;
		s = &io_s;
		if (vcpu->vm->sync_regs) /* from the next exit on; read only: kvm_dirty_regs stays 0 */
			run->kvm_valid_regs |= SYNC_REGS;
	}
	*rip = r->rip;
	struct trace_guest_mem gm = {
	    .read_phys = read_phys, .opaque = &vcpu->vm->mem, .cr3 = s->cr3};
	*stack = trace_guest_stack(&gm, r->rbp);
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;
	bool wr = run->io.direction == KVM_EXIT_IO_OUT;

	/* A string instruction with a rep prefix arrives as count items of size bytes. */
	for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size) {
		bus_dispatch(&vcpu->vm->pio, run->io.port, p, run->io.size, wr);
		TRACE(KVM_EXIT, 0, KVM_EXIT_IO, run->io.port, TRACE_PAIR(run->io.size, wr),
		      read_le(p, run->io.size));
	}
}

static const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN:
		return "unknown";
	case KVM_EXIT_EXCEPTION:
		return "exception";
	case KVM_EXIT_DEBUG:
		return "debug";
	case KVM_EXIT_FAIL_ENTRY:
		return "fail_entry";
	case KVM_EXIT_SYSTEM_EVENT:
		return "system_event";
	default:
		return "unhandled";
	}
}

/* One exit; returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		bus_dispatch(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			     run->mmio.is_write);
		TRACE(KVM_EXIT, 0, KVM_EXIT_MMIO, run->mmio.phys_addr,
		      TRACE_PAIR(run->mmio.len, run->mmio.is_write),
		      read_le(run->mmio.data, run->mmio.len));
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* Only seen without an in-kernel LAPIC taking the halt: nothing can wake us. */
		vm_stop(vm, VM_STOP_HALTED, 0);
		return false;
	case KVM_EXIT_SHUTDOWN:
		fprintf(stderr, "kvmscope: guest shut down (triple fault or reset)\n");
		vm_stop(vm, VM_STOP_RESET, 0);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (emulate_internal_error(vcpu) == 0)
			return true;
		vm_stop(vm, VM_STOP_ERROR, 1);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "kvmscope: vCPU entry failed, hardware reason 0x%llx\n",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vm_stop(vm, VM_STOP_ERROR, 1);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		vm_stop(vm, VM_STOP_RESET, 0);
		return false;
	default:
		fprintf(stderr, "kvmscope: unhandled exit %u (%s)\n", run->exit_reason,
			exit_name(run->exit_reason));
		vm_stop(vm, VM_STOP_ERROR, 1);
		return false;
	}
}

/*
 * With the in-kernel LAPIC a HLT never reaches us: a guest that halts with interrupts off (Linux's
 * `poweroff -f` without ACPI ends so, in a loop of cli; hlt, on every CPU) would keep kvmscope
 * waiting for ever. The console loop starts a check round now and then (HALT_CHECK_MS) and
 * interrupts every vCPU's KVM_RUN; each vCPU looks at itself on its own thread (a vCPU's ioctls
 * wait while it runs). A vCPU is idle when it is halted with IF clear (only an NMI could wake
 * it, and nothing here sends one) or is an AP still waiting for INIT/SIPI. When every vCPU was
 * idle in the same round and at least one halted, nothing can run again: a power-off.
 */
static bool vcpu_idle(struct vcpu *vcpu)
{
	struct kvm_mp_state mp;
	struct kvm_regs r;

	vcpu->halted = false;
	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) < 0)
		return false;
	if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED || mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return true;
	if (mp.mp_state != KVM_MP_STATE_HALTED || ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    (r.rflags & X86_EFLAGS_IF))
		return false;
	vcpu->halted = true;
	vcpu->idle_rip = r.rip;
	return true;
}

static bool halted_for_good(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	bool idle = vcpu_idle(vcpu), all = true;
	const struct vcpu *halted = NULL;

	pthread_mutex_lock(&vm->halt_lock);
	vcpu->idle_round = idle ? vm->halt_round : 0;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = &vm->vcpus[i];

		all = all && vm->halt_round && v->idle_round == vm->halt_round;
		if (v->halted && !halted)
			halted = v;
	}
	/* The last vCPU of the round to look finds them all idle; one says so. */
	all = all && halted && vm->stop_reason == VM_RUNNING;
	if (all) {
		fprintf(stderr,
			"kvmscope: the guest halted with interrupts off at RIP 0x%llx (vCPU %d%s; a "
			"power-off without ACPI, or a stopped guest): nothing can wake it, "
			"stopping\n",
			(unsigned long long)halted->idle_rip, halted->id,
			vm->nr_vcpus > 1 ? ", every other vCPU idle too" : "");
		vm_stop(vm, VM_STOP_HALTED, 0);
	}
	pthread_mutex_unlock(&vm->halt_lock);
	return all;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;

	trace_thread_set(TRACE_THREAD_VCPU, vcpu->id);
	trace_guest_source(guest_context, vcpu);
	/* Setup is over: from here on this thread and its IO threads run the guest only. */
	if (vm->sandbox && (errno = -sandbox_enter(vm))) {
		fprintf(stderr, "kvmscope: sandbox: %s (--no-sandbox runs without it)\n",
			strerror(errno));
		vm_stop(vm, VM_STOP_ERROR, 1);
		return NULL;
	}
	while (vm->stop_reason == VM_RUNNING) {
		int ran = ioctl(vcpu->fd, KVM_RUN, 0);

		/* The writes KVM held back came first: they reach the devices before this exit. */
		coalesced_drain(vm);
		if (ran < 0) {
			if (errno == EINTR && halted_for_good(vcpu))
				break;
			/* KVM did return to user space (kvm_userspace_exit with -EINTR): record it. */
			if (errno == EINTR)
				TRACE(KVM_EXIT, 0, KVM_EXIT_INTR, 0, 0, 0);
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "kvmscope: KVM_RUN: %s\n", strerror(errno));
			vm_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
		vcpu->exits++;
		trace_guest_exit();
		if (!handle_exit(vcpu))
			break;
	}
	return NULL;
}

static struct vm *signalled_vm;

static void on_signal(int sig)
{
	if (sig != SIGUSR1 && signalled_vm)
		vm_stop(signalled_vm, VM_STOP_SIGNAL, 130);
	/* SIGUSR1 only interrupts KVM_RUN and poll() so that they see the stop. */
}

static int exit_status(const struct vm *vm)
{
	switch (vm->stop_reason) {
	case VM_STOP_EXIT_PORT:
		return vm->exit_status;
	case VM_STOP_RESET:
	case VM_STOP_HALTED:
	case VM_STOP_USER:
		return 0;
	case VM_STOP_SIGNAL:
		return 130;
	default:
		return 1;
	}
}

#define HALT_CHECK_MS 1000 /* a quiet console this long: look for a guest halted for good */
/* How late a byte the guest printed may show when the guest makes no exit after it (it printed
 * a prompt and halted): the coalesced ring and the serial's partial line are looked at so often. */
#define CONSOLE_TICK_MS 50

static void kick_vcpus(struct vm *vm, int nr)
{
	for (int i = 0; i < nr; i++)
		pthread_kill(vm->vcpus[i].thread, SIGUSR1);
}

static void halt_check_round(struct vm *vm)
{
	pthread_mutex_lock(&vm->halt_lock);
	vm->halt_round++;
	pthread_mutex_unlock(&vm->halt_lock);
	kick_vcpus(vm, vm->nr_vcpus);
}

/* Forward console input until the guest stops. */
static void console_loop(struct vm *vm, int in_fd)
{
	struct pollfd pfd[2] = {{.fd = vm->stop_fd, .events = POLLIN},
				{.fd = in_fd, .events = POLLIN}};
	char buf[64];
	int quiet_ms = 0;

	while (vm->stop_reason == VM_RUNNING) {
		pfd[1].fd = in_fd; /* a negative fd is skipped by poll() */
		int n = poll(pfd, 2, CONSOLE_TICK_MS);

		if (n == 0) {
			coalesced_drain(vm);
			serial_flush(vm->serial);
			quiet_ms += CONSOLE_TICK_MS;
		}
		if (quiet_ms >= HALT_CHECK_MS) { /* quiet for a while: halted for good? */
			quiet_ms = 0;
			halt_check_round(vm);
		}
		if (n <= 0 || !(pfd[1].revents & (POLLIN | POLLHUP)))
			continue;
		quiet_ms = 0;
		ssize_t len = read(in_fd, buf, sizeof(buf));
		if (len <= 0) {
			in_fd = -1; /* end of input: the guest keeps running without it */
			continue;
		}
		serial_input(vm->serial, buf, len);
	}
}

void vm_set_console_sink(struct vm *vm, void (*fn)(void *opaque, uint8_t c), void *opaque)
{
	struct serial_sink sink = {.fn = fn, .opaque = opaque};

	serial_set_sink(vm->serial, &sink);
}

/* One line for the user: what kvmscope completed that KVM could not emulate. */
static void report_fallbacks(const struct vm *vm)
{
	char line[256];
	int len = 0;

	for (int k = 0; k < EMU_NR; k++)
		if (vm->emu_count[k] && len < (int)sizeof(line))
			len +=
			    snprintf(line + len, sizeof(line) - len, "%s%s x%llu", len ? ", " : "",
				     emu_kind_name(k), (unsigned long long)vm->emu_count[k]);
	if (len)
		fprintf(stderr, "kvmscope: completed instructions KVM could not emulate: %s\n",
			line);
}

int vm_run(struct vm *vm, int console_in_fd)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct termios saved, raw;
	bool tty = console_in_fd >= 0 && tcgetattr(console_in_fd, &saved) == 0;
	int r;

	signalled_vm = vm;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (tty) {
		/* Keys go to the guest as typed; Ctrl-C still stops kvmscope (ISIG stays on). */
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_iflag &= ~ICRNL;
		tcsetattr(console_in_fd, TCSANOW, &raw);
	}

	TRACE(VM_STATE, 0, TRACE_VM_RUNNING);
	int started = 0;
	for (; started < vm->nr_vcpus; started++) {
		struct vcpu *v = &vm->vcpus[started];

		r = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (r) {
			fprintf(stderr, "kvmscope: vCPU %d thread: %s\n", started, strerror(r));
			vm_stop(vm, VM_STOP_ERROR, 1);
			break;
		}
		char name[16]; /* for top -H, perf and /proc/PID/task/TID/comm */
		snprintf(name, sizeof(name), "vcpu%d", v->id);
		pthread_setname_np(v->thread, name);
	}
	if (started == vm->nr_vcpus)
		console_loop(vm, console_in_fd);
	/* A vCPU blocked in KVM_RUN (halted, or an AP never started) comes back on the signal;
	 * immediate_exit, set by vm_stop(), catches one that was about to enter. */
	kick_vcpus(vm, started);
	for (int i = 0; i < started; i++)
		pthread_join(vm->vcpus[i].thread, NULL);
	/* What the guest wrote last, if no exit followed it, is still owed to the console. */
	coalesced_drain(vm);
	serial_flush(vm->serial);

	TRACE(VM_STATE, 0, TRACE_VM_STOPPED);
	report_fallbacks(vm);
	if (tty)
		tcsetattr(console_in_fd, TCSANOW, &saved);
	signalled_vm = NULL;
	return exit_status(vm);
}
