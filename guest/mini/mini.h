/* guest/mini/mini.h - what every file of the test guest shares: console, exit, arguments. */
#ifndef MINI_H
#define MINI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define DEBUG_EXIT_PORT 0xF4 /* out N: kvmscope exits with status N */
#define MARKER_PORT	0xF5 /* bytes up to '\n': a phase marker in kvmscope's trace */

/* console.c */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mark(const char *phase);
__attribute__((noreturn)) void mini_exit(int status);
__attribute__((noreturn, format(printf, 2, 3))) void fail(int status, const char *fmt, ...);
__attribute__((noreturn)) void vfail(int status, const char *fmt, __builtin_va_list ap);

/* lib.c: gcc may emit calls to these even in freestanding code. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* args.c: the words of the command line mini.elf understands (docs/mini-guest.md). */
enum mini_test {
	TEST_NONE,
	TEST_BLK,
	TEST_LOAD,
	TEST_EMU,
	TEST_SPIN,
	TEST_HALT,
	TEST_PCIDUMP,
	TEST_SMP,
	TEST_SMP_HALT,
	TEST_SMP_RESET,
	TEST_HOSTILE
};
enum mini_transport { TRANSPORT_MODERN, TRANSPORT_LEGACY };
enum mini_irq { IRQ_MSIX, IRQ_INTX, IRQ_POLL };

struct mini_args {
	uint32_t exit;	     /* exit=N, status when no test= is given */
	enum mini_test test; /* test=blk|load|emu|spin|halt|pcidump|smp|smp-halt|smp-reset|hostile */
	enum mini_transport transport; /* transport=modern|legacy */
	enum mini_irq irq;	       /* irq=msix|intx|poll */
	uint64_t sector;	       /* sector=S, first sector of the pattern */
	uint32_t sectors;	       /* sectors=N, length of the pattern */
	uint32_t seed;		       /* seed=N, pattern seed */
	bool event_idx;		       /* event_idx=1: negotiate VIRTIO_RING_F_EVENT_IDX */
	bool packed;		       /* ring=packed: negotiate VIRTIO_F_RING_PACKED */
	bool in_order;		       /* in_order=1: negotiate VIRTIO_F_IN_ORDER */
	uint32_t depth;		       /* depth=D, requests in flight for test=load */
	uint32_t count;	 /* count=C: test=load requests, test=spin turns, test=smp chunks per CPU
			  * (smp-reset: also resets),
			  * test=smp-halt millions of TSC ticks before an AP halts */
	uint32_t report; /* report=N: test=load prints "load: R reads" every N */
	uint32_t qsize;	 /* qsize=N: modern queue size asked for (power of 2) */
	uint32_t queues; /* queues=N: virtqueues driven (VIRTIO_BLK_F_MQ when more than 1) */
	uint32_t writeback; /* writeback=0|1: CONFIG_WCE and its field; 2: not asked */
	bool hold;	    /* hold=1: test=blk stops after the writes (and flush) */
	const char *hcase;  /* case=NAME of test=hostile (not NUL-terminated) */
	size_t hcase_len;
};

/* Fills *a from the NUL-terminated line; returns 0, or ST_BAD_ARG after printing why. */
int args_parse(const char *cmdline, struct mini_args *a);

/* End of the RAM below 4 GiB, from the e820 map of kvmscope's zero page; 0 when unknown. */
extern uint64_t mini_ram_end;

/* blk.c */
__attribute__((noreturn)) void blk_run(const struct mini_args *a);
/* test=pcidump: the virtio-blk function's config space and BAR sizing on the console. */
__attribute__((noreturn)) void blk_pcidump(void);
/* hostile.c */
__attribute__((noreturn)) void hostile_run(const struct mini_args *a);
/* emu.c */
__attribute__((noreturn)) void emu_run(void);
/* spin.c */
__attribute__((noreturn)) void spin_run(const struct mini_args *a);

#endif
