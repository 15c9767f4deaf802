/* tests/unit/test_scratch.c - the throwaway disk (blk/scratch.c): a copy of the image with the
 * same bytes and no name left behind, also where the file system refuses O_TMPFILE (overlayfs
 * before Linux 6.6, as in a container or in L1's root, NFS): a seccomp filter in a child process
 * makes every open with O_TMPFILE fail with EOPNOTSUPP, as such a file system does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blk/blk.h"
#include "tests/check.h"

#define IMAGE_SIZE (256 << 10)

/* openat(..., flags & __O_TMPFILE) -> EOPNOTSUPP; every other call as before. The flag's bits
 * all lie in the low word of the argument. */
static int refuse_tmpfile(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, __O_TMPFILE & ~O_DIRECTORY, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* The child's verdict in its exit status: 0 all right, else the number of the first thing wrong. */
static int scratch_in(const char *dir, const char *image, int refuse)
{
	char path[64], a[4096], b[4096];
	int fd, src;

	if (refuse && refuse_tmpfile() < 0)
		return 10;
	if (refuse && open(dir, O_TMPFILE | O_RDWR, 0600) >= 0)
		return 11; /* the filter must bite, or this proves nothing */
	setenv("TMPDIR", dir, 1);
	fd = blk_scratch_disk(image, 0, path, sizeof(path));
	if (fd < 0)
		return 1;
	if (entries(dir) != 0)
		return 2; /* a name is left where a crash would leave it for good */
	src = open(image, O_RDONLY);
	for (off_t pos = 0; pos < IMAGE_SIZE; pos += sizeof(a))
		if (pread(src, a, sizeof(a), pos) != (ssize_t)sizeof(a) ||
		    pread(fd, b, sizeof(b), pos) != (ssize_t)sizeof(b) || memcmp(a, b, sizeof(a)))
			return 3;
	if (pwrite(fd, "x", 1, 0) != 1 || pread(src, a, 1, 0) != 1 || a[0] == 'x')
		return 4; /* the guest's writes must not reach the image */
	return 0;
}

static int run(const char *dir, const char *image, int refuse)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(scratch_in(dir, image, refuse));
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int main(void)
{
	char dir[] = "/tmp/test-scratch.XXXXXX", image[64], buf[4096];
	int fd, r;

	if (!mkdtemp(dir))
		SKIP("test_scratch: no temporary directory: %s", strerror(errno));
	snprintf(image, sizeof(image), "%s.img", dir);
	fd = open(image, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	for (int i = 0; i < IMAGE_SIZE / (int)sizeof(buf); i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			SKIP("test_scratch: cannot write %s", image);
	}
	close(fd);

	r = run(dir, image, 0);
	CHECK(r == 0, "scratch disk: the image's bytes, no name left in TMPDIR, writes stay in the copy (%d)", r);
	r = run(dir, image, 1);
	CHECK(r == 0, "scratch disk where O_TMPFILE is not supported (overlayfs before 6.6): the same, from a named file removed at once (%d)", r);
	CHECK(entries(dir) == 0, "scratch disk: TMPDIR is empty afterwards");

	unlink(image);
	rmdir(dir);
	return CHECK_DONE();
}
