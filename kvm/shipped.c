/* kvm/shipped.c - where an installed kvmscope finds the files `make install` put beside it: the
 * guests (GUESTDIR) and the demo trace (DATADIR), both fixed at build time in build-info.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build-info.h"
#include "kvm/kvm.h"

/* The root the binary was installed under: "" for /usr/local/bin/kvmscope itself, D for a copy
 * installed with DESTDIR=D (make check runs one), so each finds its own files. A binary outside
 * BINDIR (./kvmscope in the source tree) uses the installed files. */
static void install_root(char *root, size_t len)
{
	static const char tail[] = KVMSCOPE_BINDIR "/kvmscope";
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t t = strlen(tail);

	root[0] = 0;
	if (n <= 0)
		return;
	exe[n] = 0;
	if ((size_t)n > t && strcmp(exe + n - t, tail) == 0 && (size_t)n - t < len)
		snprintf(root, len, "%.*s", (int)((size_t)n - t), exe);
}

const char *shipped_dir(enum shipped_dir dir)
{
	return dir == SHIPPED_GUEST ? KVMSCOPE_GUESTDIR : KVMSCOPE_DATADIR;
}

int shipped_path(enum shipped_dir dir, const char *name, char *buf, size_t len)
{
	char root[PATH_MAX];

	install_root(root, sizeof(root));
	if ((size_t)snprintf(buf, len, "%s%s/%s", root, shipped_dir(dir), name) >= len)
		return -ENAMETOOLONG;
	return access(buf, R_OK) == 0 ? 0 : -errno;
}

int shipped_guest(struct shipped_guest *g)
{
	char mini[sizeof(g->kernel)];

	memset(g, 0, sizeof(*g));
	if (shipped_path(SHIPPED_GUEST, "vmlinux", g->kernel, sizeof(g->kernel)) < 0) {
		if (shipped_path(SHIPPED_GUEST, "mini.elf", mini, sizeof(mini)) < 0)
			return -ENOENT; /* g->kernel names the missing vmlinux */
		memcpy(g->kernel, mini, sizeof(mini));
		g->mini = true;
		return 0;
	}
	if (shipped_path(SHIPPED_GUEST, "initrd.img", g->initrd, sizeof(g->initrd)) < 0)
		g->initrd[0] = 0;
	if (shipped_path(SHIPPED_GUEST, "disk.img", g->disk, sizeof(g->disk)) < 0)
		g->disk[0] = 0;
	return 0;
}
