/* trace/symbols.c - function symbols of the guest kernel (an ELF vmlinux, read with libelf), so
 * a guest RIP reads as symbol+offset. The writer copies the symbols a trace uses into the file;
 * a file's symbols are loaded back into the same table. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/internal.h"

int trace_symtab_add(struct trace_symtab *t, uint64_t addr, uint32_t size, const char *name,
		     size_t len)
{
	if (trace_vec_grow(&t->v, &t->cap, t->n + 1, sizeof(*t->v)) ||
	    trace_vec_grow(&t->names, &t->names_cap, t->names_len + len + 1, 1))
		return -ENOMEM;
	t->v[t->n++] = (struct trace_sym){addr, size, t->names_len};
	memcpy(t->names + t->names_len, name, len);
	t->names[t->names_len + len] = 0;
	t->names_len += len + 1;
	return 0;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct trace_sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->size < y->size ? 1 : x->size > y->size ? -1 : 0; /* the sized alias first */
}

/* Sorted by address, one symbol per address. */
void trace_symtab_sort(struct trace_symtab *t)
{
	size_t out = 0;
	if (!t->n)
		return;
	qsort(t->v, t->n, sizeof(*t->v), sym_cmp);
	for (size_t i = 0; i < t->n; i++)
		if (!out || t->v[out - 1].addr != t->v[i].addr)
			t->v[out++] = t->v[i];
	t->n = out;
}

long trace_symtab_find(const struct trace_symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n; /* the last symbol at or below addr is at lo - 1 */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	const struct trace_sym *s = &t->v[lo - 1];
	if (s->size ? addr - s->addr < s->size : lo < t->n || addr - s->addr < 0x10000)
		return lo - 1;
	return -1;
}

const char *trace_symtab_format(const struct trace_symtab *t, uint64_t addr, char *buf, size_t len)
{
	long i = trace_symtab_find(t, addr);
	if (i < 0)
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	else
		snprintf(buf, len, "%s+0x%llx", trace_symtab_name(t, i),
			 (unsigned long long)(addr - t->v[i].addr));
	return buf;
}

void trace_symtab_free(struct trace_symtab *t)
{
	free(t->v);
	free(t->names);
	*t = (struct trace_symtab){0};
}

/* The symbol table section: .symtab, or .dynsym when the file is stripped. */
static Elf_Scn *find_symtab(Elf *e, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL, *dyn = NULL;
	GElf_Shdr dyn_shdr;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			*shdr = sh;
			return scn;
		}
		if (sh.sh_type == SHT_DYNSYM) {
			dyn = scn;
			dyn_shdr = sh;
		}
	}
	if (dyn)
		*shdr = dyn_shdr;
	return dyn;
}

static int load_elf(struct trace_symtab *t, Elf *e, const char *path, char *err, size_t errlen)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = find_symtab(e, &shdr);
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;

	if (!data || !shdr.sh_entsize) {
		snprintf(err, errlen, "%s: no symbol table (stripped?)", path);
		return -ENOENT;
	}
	size_t n = shdr.sh_size / shdr.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		if (!gelf_getsym(data, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    !sym.st_value || sym.st_shndx == SHN_UNDEF ||
		    !(name = elf_strptr(e, shdr.sh_link, sym.st_name)) || !*name)
			continue;
		uint32_t size = sym.st_size > UINT32_MAX ? UINT32_MAX : sym.st_size;
		if (trace_symtab_add(t, sym.st_value, size, name, strlen(name))) {
			snprintf(err, errlen, "%s: out of memory reading symbols", path);
			return -ENOMEM;
		}
	}
	if (!t->n) {
		snprintf(err, errlen, "%s: no function symbols", path);
		return -ENOENT;
	}
	trace_symtab_sort(t);
	return 0;
}

int trace_symtab_load(struct trace_symtab *t, const char *path, char *err, size_t errlen)
{
	int ret;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		ret = -EINVAL;
	} else {
		ret = load_elf(t, e, path, err, errlen);
	}
	if (e)
		elf_end(e);
	close(fd);
	if (ret)
		trace_symtab_free(t);
	return ret;
}
