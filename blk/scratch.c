/* blk/scratch.c - a throwaway disk: what `kvmscope run` without --disk gives the shipped guest, so
 * the guest's writes never reach the installed image (which may be read-only, and is shared). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk/blk.h"

/* Copy [pos, end) of in to out at the same offsets. */
static int copy_range(int in, int out, off_t pos, off_t end)
{
	static char buf[1 << 16];

	while (pos < end) {
		size_t want = end - pos < (off_t)sizeof(buf) ? (size_t)(end - pos) : sizeof(buf);
		ssize_t n = pread(in, buf, want, pos);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		for (ssize_t done = 0, w; done < n; done += w)
			if ((w = pwrite(out, buf + done, n - done, pos + done)) < 0)
				return -errno;
		pos += n;
	}
	return 0;
}

/* A file in dir with no name: the file is gone when kvmscope exits, however it exits. Where the
 * file system cannot make one (overlayfs before Linux 6.6, as in containers; NFS: EOPNOTSUPP, or
 * EISDIR from a kernel that does not know O_TMPFILE), a named file removed at once: only a crash
 * between the two calls leaves it behind. */
static int unnamed_file(const char *dir)
{
	char name[PATH_MAX];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	if (snprintf(name, sizeof(name), "%s/kvmscope-scratch.XXXXXX", dir) >= (int)sizeof(name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(name, O_CLOEXEC);
	if (fd >= 0)
		unlink(name);
	return fd;
}

int blk_scratch_disk(const char *src, uint64_t size, char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int in = -1, out = -1, r = 0;
	struct stat st;

	if (src) {
		in = open(src, O_RDONLY | O_CLOEXEC);
		if (in < 0 || fstat(in, &st) < 0) {
			r = -errno;
			goto out;
		}
		size = st.st_size;
	}
	out = unnamed_file(dir && *dir ? dir : "/var/tmp");
	if (out < 0 || ftruncate(out, size) < 0) {
		r = -errno;
		goto out;
	}
	/* Only the extents that hold data: a blank image is one hole and copies in no time. */
	for (off_t pos = 0; in >= 0 && r == 0 && (pos = lseek(in, pos, SEEK_DATA)) >= 0;) {
		off_t end = lseek(in, pos, SEEK_HOLE);
		r = end < 0 ? -errno : copy_range(in, out, pos, end);
		pos = end;
	}
	if (r == 0)
		snprintf(path, len, "/proc/self/fd/%d", out);
out:
	if (in >= 0)
		close(in);
	if (r < 0 && out >= 0)
		close(out);
	return r < 0 ? r : out;
}
