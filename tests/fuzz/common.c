/* tests/fuzz/common.c - the helpers of tests/fuzz/fuzz.h. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "trace/compare/compare.h"
#include "trace/report/report.h"
#include "trace/view/view.h"

static char scratch[64];

static void scratch_remove(void)
{
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd))
		fprintf(stderr, "fuzz: could not remove %s\n", scratch);
}

const char *fuzz_file(const char *name, const void *data, size_t len)
{
	static struct {
		const char *name;
		char path[PATH_MAX];
	} files[4];
	unsigned i = 0;
	if (!scratch[0]) {
		const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(scratch, sizeof(scratch), "%s/kvmscope-fuzz-XXXXXX", tmp);
		if (!mkdtemp(scratch))
			abort();
		atexit(scratch_remove);
	}
	while (i < 4 && files[i].name && strcmp(files[i].name, name))
		i++;
	if (i == 4)
		abort(); /* a target uses at most four files */
	files[i].name = name;
	snprintf(files[i].path, sizeof(files[i].path), "%s/%s", scratch, name);
	int fd = open(files[i].path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		abort();
	close(fd);
	return files[i].path;
}

void fuzz_split(const uint8_t *data, size_t size, size_t *first_len, const uint8_t **rest,
		size_t *rest_len)
{
	const uint8_t *ff = memchr(data, '\f', size);
	*first_len = ff ? (size_t)(ff - data) : size;
	*rest = ff ? ff + 1 : NULL;
	*rest_len = ff ? size - *first_len - 1 : 0;
}

uint64_t fuzz_take(struct fuzz_in *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes && in->left; i++, in->p++, in->left--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static void discard_line(void *opaque, int attr, const char *text)
{
	(void)attr;
	*(size_t *)opaque += strlen(text);
}

/* The viewer's model on every record (at most the first 512): the panes' text, the paths, the
 * queue state, and the keys that search, step and jump. */
static void view_model(const struct trace_file *tf)
{
	struct view v;
	size_t n = tf->nrec < 512 ? tf->nrec : 512, chars = 0;
	char buf[512], chain[20][VIEW_LINE_MAX];
	if (view_init(&v, tf))
		return;
	for (size_t i = 0; i < n; i++) {
		struct view_round round;
		static struct view_queue q;
		view_summary(tf, &tf->rec[i], buf, sizeof(buf));
		view_when(tf, &tf->rec[i], buf, sizeof(buf));
		view_detail(tf, i, i < v.tags.n ? v.tags.step[i] : TRACE_STEP_NONE, discard_line,
			    &chars);
		view_round_get(tf, &v.tags, i, &round);
		view_step_next(tf, &v.tags, i, 1);
		view_step_next(tf, &v.tags, i, -1);
		view_queue_get(tf, i, &q);
		view_queue_chain_lines(tf, &q, chain, 20);
		view_queue_get_on(tf, i, (int)(i % 3), &q);
	}
	view_set_queue(&v, 1);
	view_pane_queue_next(&v, 1);
	view_select_record(&v, tf->nrec / 2);
	view_step(&v, 1);
	view_step(&v, -1);
	view_search(&v, "queue", 1);
	view_search(&v, "blk", -1);
	view_goto(&v, "+0.001");
	view_goto(&v, "3");
	view_move(&v, 1000);
	view_scroll_to(&v, 20);
	view_free(&v);
}

void fuzz_trace_consumers(const char *path)
{
	char *dump[][5] = {{"dump", (char *)path, NULL},
			   {"dump", (char *)path, "--format", "json", NULL},
			   {"dump", (char *)path, "--format", "chrome", NULL}};
	char *stats[] = {"stats", (char *)path, NULL};
	char *diff[] = {"diff", (char *)path, (char *)path, NULL};
	char *diff_json[] = {"diff", (char *)path, (char *)path, "--format=json", NULL};
	struct trace_file tf;
	char err[512];

	if (trace_file_load(&tf, path, err, sizeof(err)))
		return; /* refused with a message: nothing more to read */
	view_model(&tf);
	trace_file_free(&tf);
	if (!freopen("/dev/null", "w", stdout))
		abort();
	for (unsigned i = 0; i < 3; i++)
		trace_cmd_dump(i ? 4 : 2, dump[i]);
	trace_cmd_stats(2, stats);
	diff_cmd_main(3, diff);
	diff_cmd_main(4, diff_json);
}

void fuzz_import(const char *log, bool bpftrace)
{
	struct trace_build b;
	struct trace_file tf, back;
	char err[512];
	const char *out = fuzz_file("imported.kvt", "", 0);

	if (trace_build_init(&b, log))
		return;
	if (trace_import_path(&b, log, bpftrace, err, sizeof(err))) {
		trace_build_free(&b);
		return;
	}
	trace_build_finish(&b, &tf);
	int saved = trace_file_save(&tf, out, err, sizeof(err));
	trace_file_free(&tf);
	if (saved)
		return;
	if (trace_file_load(&back, out, err, sizeof(err)))
		abort(); /* an imported trace that does not read back */
	trace_file_free(&back);
	fuzz_trace_consumers(out);
}
