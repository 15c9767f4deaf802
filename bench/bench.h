/* bench/bench.h - `kvmscope bench`: the IO-path comparison against QEMU in one command. The
 * options are read and checked here; the runs themselves are bench/bench.sh, which forks
 * kvmscope, QEMU and the host's own reads and writes the report (docs/bench.md). */
#ifndef KVMSCOPE_BENCH_H
#define KVMSCOPE_BENCH_H

/* argv[0] is "bench". Returns an exit status (2 bad input, 1 nothing to run) or does not return. */
int bench_cmd_main(int argc, char **argv);

#endif
