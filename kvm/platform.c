/* kvm/platform.c - the fixed ports of the kvmscope machine: debug exit, phase markers, the
 * i8042 reset line, a CMOS clock, and the POST port Linux uses as an I/O delay. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kvm/internal.h"
#include "trace/trace.h"

#define I8042_DATA  0x60
#define I8042_CMD   0x64
#define I8042_RESET 0xfe /* pulse the CPU reset line: what Linux writes with reboot=k */
#define CMOS_INDEX  0x70
#define POST_PORT   0x80

struct platform {
	struct io_dev exit_dev, marker_dev, kbd_data_dev, kbd_cmd_dev, cmos_dev, post_dev;
	uint8_t cmos_index;
};

static void debug_exit_io(struct io_dev *dev, uint64_t off, void *data, uint32_t len, bool wr)
{
	struct vm *vm = dev->opaque;

	(void)off;
	(void)len;
	if (wr)
		vm_stop(vm, VM_STOP_EXIT_PORT, *(uint8_t *)data);
	else
		*(uint8_t *)data = 0;
}

static void marker_io(struct io_dev *dev, uint64_t off, void *data, uint32_t len, bool wr)
{
	struct vm *vm = dev->opaque;
	const uint8_t *p = data;

	(void)off;
	if (!wr) {
		memset(data, 0, len);
		return;
	}
	for (uint32_t i = 0; i < len; i++) {
		if (p[i] == '\n' || p[i] == 0) {
			if (vm->marker_len)
				TRACE(GUEST_MARKER, 0,
				      trace_intern_len(vm->marker, vm->marker_len));
			vm->marker_len = 0;
		} else if (vm->marker_len < sizeof(vm->marker) - 1) {
			vm->marker[vm->marker_len++] = p[i];
		}
	}
}

static void i8042_io(struct io_dev *dev, uint64_t off, void *data, uint32_t len, bool wr)
{
	struct vm *vm = dev->opaque;

	(void)len;
	if (!wr) {
		*(uint8_t *)data = 0; /* status: no output data, input buffer empty */
		return;
	}
	(void)off;
	if (dev->base == I8042_CMD && *(uint8_t *)data == I8042_RESET)
		vm_stop(vm, VM_STOP_RESET, 0);
}

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* An MC146818 as Linux reads it: BCD, 24-hour, never mid-update. */
static uint8_t cmos_read(uint8_t index)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (index) {
	case 0x00:
		return bcd(tm.tm_sec);
	case 0x02:
		return bcd(tm.tm_min);
	case 0x04:
		return bcd(tm.tm_hour);
	case 0x06:
		return bcd(tm.tm_wday + 1);
	case 0x07:
		return bcd(tm.tm_mday);
	case 0x08:
		return bcd(tm.tm_mon + 1);
	case 0x09:
		return bcd(tm.tm_year % 100);
	case 0x0a:
		return 0x26; /* UIP clear, 32.768 kHz base, 1024 Hz rate */
	case 0x0b:
		return 0x02; /* 24-hour mode, BCD */
	case 0x0d:
		return 0x80; /* battery good */
	case 0x32:
		return bcd((1900 + tm.tm_year) / 100); /* century */
	default:
		return 0;
	}
}

static void cmos_io(struct io_dev *dev, uint64_t off, void *data, uint32_t len, bool wr)
{
	struct platform *pf = dev->opaque;
	uint8_t *p = data;

	(void)len;
	if (off == 0) {
		if (wr)
			pf->cmos_index = *p & 0x7f; /* bit 7 is the NMI mask */
		else
			*p = pf->cmos_index;
	} else if (!wr) {
		*p = cmos_read(pf->cmos_index);
	}
}

static void post_io(struct io_dev *dev, uint64_t off, void *data, uint32_t len, bool wr)
{
	(void)dev;
	(void)off;
	if (!wr)
		memset(data, 0, len);
}

int platform_init(struct vm *vm)
{
	static struct platform pf;
	struct io_dev *devs[] = {&pf.exit_dev,	  &pf.marker_dev, &pf.kbd_data_dev,
				 &pf.kbd_cmd_dev, &pf.cmos_dev,	  &pf.post_dev};

	pf.exit_dev = (struct io_dev){PORT_DEBUG_EXIT, 1, debug_exit_io, vm, "debug-exit"};
	pf.marker_dev = (struct io_dev){PORT_MARKER, 1, marker_io, vm, "marker"};
	/* Two ranges: port 0x61 between them belongs to the in-kernel PIT. */
	pf.kbd_data_dev = (struct io_dev){I8042_DATA, 1, i8042_io, vm, "i8042"};
	pf.kbd_cmd_dev = (struct io_dev){I8042_CMD, 1, i8042_io, vm, "i8042"};
	pf.cmos_dev = (struct io_dev){CMOS_INDEX, 2, cmos_io, &pf, "cmos"};
	pf.post_dev = (struct io_dev){POST_PORT, 1, post_io, NULL, "post"};
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		int r = bus_add(&vm->pio, devs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
