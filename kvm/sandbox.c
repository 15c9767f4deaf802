/*
 * kvm/sandbox.c - the seccomp-bpf allow-list the vCPU thread enters once the machine is built
 * (and the IO threads it starts inherit): the system calls that running a guest needs, and
 * ioctl() only for KVM's own requests. Anything else is refused, not run: a SIGSYS handler names
 * the call on stderr, makes it fail with EPERM and stops the guest, so the run ends through the
 * normal exit path (the trace is still flushed). docs/reliability.md lists the calls and why.
 * As Firecracker does, the filter is per thread: the main thread, the trace writer and the
 * viewer keep opening files and drawing.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "kvm/internal.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a SIGSYS sent by a seccomp filter (asm-generic/siginfo.h) */
#endif

/* x86-64 system call names by number, generated from <asm/unistd_64.h> by the Makefile. */
static const char *const syscall_names[] = {
#include "kvm/syscall-names.h"
};

/* What a vCPU or IO thread may call after setup, and why (docs/reliability.md, "Sandbox"). */
static const int allowed[] = {
    /* running the guest: KVM_RUN and the other KVM ioctls (checked below), exits' work */
    SYS_ioctl,
    /* the serial console, eventfds (ioeventfd, irqfd, stop), the trace's wake-ups */
    SYS_read,
    SYS_write,
    SYS_readv,
    SYS_writev,
    SYS_poll,
    SYS_ppoll,
    SYS_eventfd2,
    SYS_close,
    /* virtio-blk on the disk that was opened before: reads, writes, FLUSH, DISCARD */
    SYS_pread64,
    SYS_pwrite64,
    SYS_preadv,
    SYS_pwritev,
    SYS_preadv2,
    SYS_pwritev2,
    SYS_fsync,
    SYS_fdatasync,
    SYS_fallocate,
    SYS_lseek,
    SYS_fstat,
    SYS_newfstatat,
    /* --blk-io=vhost-user: the queue is handed over at DRIVER_OK and taken back at reset, in
     * messages on the socket connected before (file descriptors ride along) */
    SYS_sendmsg,
    SYS_recvmsg,
    /* --blk-io=uring: the ring is set up at DRIVER_OK, on this thread */
    SYS_io_uring_setup,
    SYS_io_uring_enter,
    SYS_io_uring_register,
    /* memory: malloc, thread stacks, the ring's mappings */
    SYS_brk,
    SYS_mmap,
    SYS_munmap,
    SYS_mprotect,
    SYS_madvise,
    SYS_mremap,
    /* threads: the IO thread starts at DRIVER_OK; locks, joins, the viewer's step wait */
    SYS_clone,
    SYS_clone3,
    SYS_set_robust_list,
    SYS_rseq,
    SYS_futex,
    SYS_sched_yield,
    SYS_nanosleep,
    SYS_clock_nanosleep,
    SYS_clock_gettime,
    SYS_gettid,
    SYS_getpid,
    /* signals: SIGUSR1 kicks, a handler's return, abort() in the sanitizer build */
    SYS_rt_sigprocmask,
    SYS_rt_sigreturn,
    SYS_sigaltstack,
    SYS_tgkill,
    SYS_restart_syscall,
    /* the end of a thread or of the process */
    SYS_exit,
    SYS_exit_group,
#ifdef __SANITIZE_ADDRESS__
    /* AddressSanitizer's own reports read /proc/self/maps and name the binary */
    SYS_openat,
    SYS_readlink,
    SYS_prctl,
    SYS_getrlimit,
    SYS_prlimit64,
    SYS_sched_getaffinity,
#endif
};

static struct vm *sandboxed_vm;

/* Decimal of v into p (at most 20 digits); returns the end. Signal-safe, unlike snprintf. */
static char *put_uint(char *p, unsigned long v)
{
	char d[20];
	int n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 20);
	while (n)
		*p++ = d[--n];
	return p;
}

static char *put_str(char *p, const char *s, const char *end)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

const char *sandbox_syscall_name(long nr)
{
	if (nr >= 0 && nr < (long)(sizeof(syscall_names) / sizeof(syscall_names[0])) &&
	    syscall_names[nr])
		return syscall_names[nr];
	return NULL;
}

/* SIGSYS from the filter: name the call, make it fail with EPERM, stop the guest. */
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	const char *name = sandbox_syscall_name(si->si_syscall);
	char line[256], *p = line, *end = line + sizeof(line) - 1;
	int saved = errno;

	(void)sig;
	if (si->si_code != SYS_SECCOMP)
		return;
	p = put_str(p, "kvmscope: sandbox: a vCPU or IO thread called ", end);
	p = put_str(p, name ? name : "an unknown system call", end);
	p = put_str(p, " (system call ", end);
	p = put_uint(p, (unsigned long)si->si_syscall);
	if (si->si_syscall == SYS_ioctl) {
		p = put_str(p, ", request 0x", end);
		for (int s = 28; s >= 0; s -= 4)
			*p++ = "0123456789abcdef"[(uc->uc_mcontext.gregs[REG_RSI] >> s) & 15];
	}
	p = put_str(p,
		    "), which the sandbox does not allow: refused, stopping the guest "
		    "(--no-sandbox turns the sandbox off)\n",
		    end);
	if (write(STDERR_FILENO, line, p - line) < 0) {
		/* nothing more to say it with */
	}
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
	if (sandboxed_vm)
		vm_stop(sandboxed_vm, VM_STOP_ERROR, 1);
	errno = saved;
}

#define STMT(code, k)	      ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define NR_ALLOWED	      (sizeof(allowed) / sizeof(allowed[0]))
/* arch check (3), nr load and x32 check (2), one test per call and a jump past the ioctl test
 * (1), the ioctl test (3), the two returns (2) */
#define PROG_LEN (5 + NR_ALLOWED + 1 + 3 + 2)

/* The program: x86-64 only, x32 numbers refused, then the list; ioctl only of type KVMIO.
 * A jump's offset counts from the instruction after it. */
static unsigned build(struct sock_filter *f)
{
	const unsigned ioctl_test = 5 + NR_ALLOWED + 1, trap = PROG_LEN - 2, allow = PROG_LEN - 1;
	unsigned n = 0;

	f[n] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)), n++;
	f[n] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0), n++;
	f[n] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS), n++;
	f[n] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)), n++;
	f[n] = JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000 /* __X32_SYSCALL_BIT */, trap - n - 1, 0),
	n++;
	for (unsigned i = 0; i < NR_ALLOWED; i++, n++)
		f[n] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed[i],
			    (allowed[i] == SYS_ioctl ? ioctl_test : allow) - n - 1, 0);
	f[n] = JUMP(BPF_JMP | BPF_JA, trap - n - 1, 0, 0), n++;
	/* ioctl: the request's type byte (bits 8-15) must be KVMIO */
	f[n] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])), n++;
	f[n] = STMT(BPF_ALU | BPF_AND | BPF_K, 0xff00), n++;
	f[n] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, KVMIO << 8, allow - n - 1, 0), n++;
	f[n] = STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP), n++;
	f[n] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW), n++;
	return n;
}

int sandbox_enter(struct vm *vm)
{
	struct sock_filter f[PROG_LEN];
	struct sock_fprog prog = {.len = (unsigned short)build(f), .filter = f};
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};

	sandboxed_vm = vm;
	/* Lazy set-up that would open files later: the RTC's gmtime_r() reads /etc/localtime on
	 * its first call (found by booting Linux with the sandbox on). */
	tzset();
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	/* Without no_new_privs an unprivileged process may not install a filter. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	return 0;
}
