/* tests/fuzz/replay.c - runs a fuzz target once on each file named (or each file in each folder
 * named), without libFuzzer: `make check` replays the committed corpus and regression inputs
 * through the sanitizer build this way, with gcc or clang. Prints one line per folder. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st)) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		return -1;
	}
	uint8_t *buf = malloc(st.st_size ? st.st_size : 1);
	size_t n = buf ? fread(buf, 1, st.st_size, f) : 0;
	fclose(f);
	if (!buf || n != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			struct dirent **ents;
			int n = scandir(argv[i], &ents, NULL, alphasort), ran = 0;
			for (int k = 0; k < n; k++) {
				char path[4096];
				snprintf(path, sizeof(path), "%s/%s", argv[i], ents[k]->d_name);
				if (ents[k]->d_name[0] != '.' && stat(path, &st) == 0 &&
				    S_ISREG(st.st_mode)) {
					bad |= run_file(path) < 0;
					ran++;
				}
				free(ents[k]);
			}
			free(ents);
			fprintf(stderr, "replay: %s: %d inputs\n", argv[i], ran);
		} else {
			bad |= run_file(argv[i]) < 0;
		}
	}
	return bad;
}
