/* tests/check.h - the unit-test harness: one line per check, counted by tests/run.sh. */
#ifndef KVMSCOPE_TESTS_CHECK_H
#define KVMSCOPE_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_failed;

/* CHECK(cond, name): prints "ok NAME" or "FAIL NAME (file:line: cond)". */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		int check_ok_ = !!(cond);                                                          \
		printf(check_ok_ ? "ok " : "FAIL ");                                               \
		check_failed += !check_ok_;                                                        \
		printf(__VA_ARGS__);                                                               \
		if (!check_ok_)                                                                    \
			printf(" (%s:%d: %s)", __FILE__, __LINE__, #cond);                         \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
	} while (0)

/* SKIP(reason): the whole test program is skipped (exit 77). */
#define SKIP(...)                                                                                  \
	do {                                                                                       \
		printf("SKIP ");                                                                   \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		exit(77);                                                                          \
	} while (0)

#define CHECK_DONE() (check_failed ? 1 : 0)

/* Runs a subcommand's entry point with its stdout captured into out (NUL-terminated, at most
 * outlen - 1 bytes); returns its exit status. */
static inline int check_run_captured(int (*cmd)(int, char **), char *out, size_t outlen, int argc,
				     char **argv)
{
	char tmp[] = "/tmp/kvmscope-out-XXXXXX";
	int fd = mkstemp(tmp), saved = dup(1);
	fflush(stdout);
	dup2(fd, 1);
	int ret = cmd(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	ssize_t n = pread(fd, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = 0;
	close(fd);
	unlink(tmp);
	return ret;
}

/* The viewer tests' tool modes: `--write FILE` writes their sample trace, `--view FILE ...` opens
 * it in the viewer (view_cmd_main); the exit status, or -1 for neither (run the checks). */
static inline int check_view_modes(int argc, char **argv, int (*write)(const char *path),
				   int (*view)(int, char **))
{
	if (argc == 3 && !strcmp(argv[1], "--write"))
		return write(argv[2]) < 0 ? 1 : 0;
	if (argc >= 3 && !strcmp(argv[1], "--view")) {
		argv[1] = "view";
		return view(argc - 1, argv + 1);
	}
	return -1;
}

#endif
