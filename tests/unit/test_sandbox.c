/* tests/unit/test_sandbox.c - the vCPU threads' seccomp allow-list (kvm/sandbox.c), entered in a
 * child process: what it lets through, what it refuses, and that a refusal is named on stderr,
 * fails with EPERM and stops the VM. No /dev/kvm. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "tests/check.h"

/* What the sandboxed child saw, one flag each; its exit status carries them. */
enum {
	WRITE_OK = 1 << 0,   /* write(2) still works */
	KVM_IOCTL = 1 << 1,  /* a KVM ioctl reaches the kernel (EBADF on fd -1), not the filter */
	OPEN_EPERM = 1 << 2, /* openat is refused with EPERM */
	STOPPED = 1 << 3,    /* and the VM was told to stop, with status 1 */
	TTY_EPERM = 1 << 4,  /* a terminal ioctl is refused */
	PPID_EPERM = 1 << 5, /* getppid is refused */
	ENTERED = 1 << 6,    /* sandbox_enter() returned 0 */
};

static int child(int err_fd)
{
	struct vm vm;
	struct termios t;
	int seen = 0;

	memset(&vm, 0, sizeof(vm));
	vm.stop_fd = -1;
	dup2(err_fd, STDERR_FILENO);
	if (sandbox_enter(&vm) != 0)
		return 0;
	seen |= ENTERED;
	if (write(err_fd, "", 0) == 0)
		seen |= WRITE_OK;
	if (ioctl(-1, KVM_GET_API_VERSION, 0) < 0 && errno == EBADF)
		seen |= KVM_IOCTL;
	if (open("/etc/hostname", O_RDONLY) < 0 && errno == EPERM)
		seen |= OPEN_EPERM;
	if (vm.stop_reason == VM_STOP_ERROR && vm.exit_status == 1)
		seen |= STOPPED;
	if (tcgetattr(STDIN_FILENO, &t) < 0 && errno == EPERM)
		seen |= TTY_EPERM;
	if (syscall(SYS_getppid) < 0 && errno == EPERM)
		seen |= PPID_EPERM;
	return seen;
}

int main(void)
{
	int p[2], status = 0;
	char text[4096] = "";
	ssize_t n, len = 0;
	pid_t pid;

	CHECK(sandbox_syscall_name(257) && !strcmp(sandbox_syscall_name(257), "openat") &&
		  !strcmp(sandbox_syscall_name(16), "ioctl") && !sandbox_syscall_name(-1) &&
		  !sandbox_syscall_name(100000),
	      "system call names by number (257 openat, 16 ioctl, none for -1 and 100000)");
	if (pipe(p) < 0)
		SKIP("test_sandbox: pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0)
		_exit(child(p[1]));
	close(p[1]);
	while ((n = read(p[0], text + len, sizeof(text) - 1 - len)) > 0)
		len += n;
	text[len] = 0;
	waitpid(pid, &status, 0);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	if (!(status & ENTERED) && strstr(text, "Invalid argument"))
		SKIP("test_sandbox: the kernel has no seccomp filters");
	CHECK(status & ENTERED, "sandbox_enter() installs the filter");
	CHECK(status & WRITE_OK, "allowed: write");
	CHECK(status & KVM_IOCTL, "allowed: a KVM ioctl (KVM_GET_API_VERSION reaches the kernel)");
	CHECK(status & OPEN_EPERM, "refused: open (openat) fails with EPERM");
	CHECK(strstr(text, "called openat (system call 257), which the sandbox does not allow"),
	      "the refusal names openat on stderr");
	CHECK(status & STOPPED, "a refusal stops the VM with status 1");
	CHECK(status & TTY_EPERM, "refused: a terminal ioctl (TCGETS)");
	CHECK(strstr(text, "called ioctl (system call 16, request 0x00005401)"),
	      "the refusal names the ioctl request");
	CHECK(status & PPID_EPERM, "refused: getppid");
	CHECK(strstr(text, "called getppid"), "the refusal names getppid");
	return CHECK_DONE();
}
