/*
 * guest/mini/status.h - mini.elf's exit statuses, the value written to debug-exit port 0xF4.
 *
 * This enum is the one source of the table in docs/mini-guest.md. Rules behind the numbers:
 * 1 and 2 are left to kvmscope itself (runtime failure, bad input), so a guest status never
 * looks like a VMM error; every value is below 128, because QEMU's isa-debug-exit reports
 * (N << 1) | 1 and that must still fit an 8-bit process status; each step of the test has its
 * own decade so a status names the step at a glance.
 */
#ifndef MINI_STATUS_H
#define MINI_STATUS_H

enum mini_status {
	ST_OK = 0,
	/* 3-9: the guest itself */
	ST_BAD_ARG = 3,	  /* a word of the command line has a bad value */
	ST_EXCEPTION = 4, /* a CPU exception or an unexpected interrupt vector */
	ST_EMU = 5,	  /* test=emu: an instruction kvmscope completes left the wrong state */
	ST_SMP = 6,	  /* test=smp: no MP table, an AP did not start or did not finish */
	/* 10-19: PCI (steps 1-2) */
	ST_NO_DEVICE = 10,    /* no 1AF4:1001 or 1AF4:1042 on bus 0 */
	ST_BAR = 11,	      /* a BAR is zero, misaligned to its size or beyond 4 GiB */
	ST_CAP = 12,	      /* a capability is missing or names a bad BAR/offset/length */
	ST_NO_TRANSPORT = 13, /* the device does not offer the transport= asked for */
	/* 20-29: virtio handshake (step 3) */
	ST_RESET = 20,	     /* device_status does not read 0 after reset */
	ST_FEATURES = 21,    /* a required feature is not offered (VERSION_1, EVENT_IDX, RING_PACKED) */
	ST_FEATURES_OK = 22, /* FEATURES_OK did not stick */
	ST_QUEUE = 23,	     /* queue 0 missing (size 0), too big, or already enabled */
	ST_MSIX_VECTOR = 24, /* the device answered VIRTIO_MSI_NO_VECTOR */
	ST_NEEDS_RESET = 25, /* device_status has NEEDS_RESET or FAILED after DRIVER_OK */
	ST_AFTER_RESET = 26, /* test=smp-reset: the device wrote a request after reset read 0 */
	/* 30-39: interrupts (step 4) */
	ST_IRQ_SETUP = 30, /* no interrupt pin/line for INTx, no LAPIC, bad GSI */
	/* 40-49: I/O (step 5) and the load test (step 6) */
	ST_TIMEOUT = 40,    /* the used ring did not advance in time */
	ST_NO_IRQ = 41,	    /* a completion arrived, its interrupt did not */
	ST_REQ_STATUS = 42, /* a request came back with a status other than VIRTIO_BLK_S_OK */
	ST_MISMATCH = 43,   /* the data read back differs from the pattern written */
	ST_GET_ID = 44,	    /* GET_ID failed or returned an empty id */
	ST_PAST_END = 45,   /* a read past capacity did not return VIRTIO_BLK_S_IOERR */
	ST_UNSUITABLE = 46, /* disk too small for the range, or read-only */
	ST_USED_RING = 47,  /* a used element names an id that is not in flight */
	ST_HOSTILE = 48,    /* test=hostile: the device answered a broken rule against the spec */
	ST_RECOVER = 49,    /* test=hostile: after the reset the device did not work again */
};

/* Short name of a status for the one-line failure reason. */
const char *status_name(int st);

#endif
