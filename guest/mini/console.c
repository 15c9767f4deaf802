/* guest/mini/console.c - the 8250 UART, a small printf, trace markers and the debug exit. */
#include <stdarg.h>

#include "io.h"
#include "mini.h"

#define UART_BASE     0x3F8
#define UART_LSR      5
#define UART_LSR_THRE 0x20

static void uart_putc(char c)
{
	/* Bounded: a UART that never reports THRE must not hang the guest (each poll is an exit).
	 */
	for (int spin = 0; spin < 1000 && !(inb(UART_BASE + UART_LSR) & UART_LSR_THRE); spin++)
		cpu_relax();
	outb(UART_BASE, (uint8_t)c);
}

static void put_num(uint64_t v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < (int)sizeof(buf));
	while (width-- > n)
		uart_putc(pad);
	while (n)
		uart_putc(buf[--n]);
}

/* %s %.*s %c %d %u %x, 0-padding width, l/ll/z sizes: all the guest needs. */
static void vkprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			uart_putc(*fmt);
			continue;
		}
		char pad = ' ';
		int width = 0, longs = 0, prec = -1;

		if (*++fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (fmt[0] == '.' && fmt[1] == '*') {
			prec = va_arg(ap, int);
			fmt += 2;
		}
		while (*fmt == 'l' || *fmt == 'z') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			while (*s && prec-- != 0)
				uart_putc(*s++);
			break;
		}
		case 'c':
			uart_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);

			if (v < 0) {
				uart_putc('-');
				v = -v;
			}
			put_num((uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);

			put_num(v, *fmt == 'u' ? 10 : 16, width, pad);
			break;
		}
		case '%':
			uart_putc('%');
			break;
		default: /* unknown conversion: show it rather than guess its argument */
			uart_putc('%');
			if (!*fmt)
				return;
			uart_putc(*fmt);
		}
	}
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

void mark(const char *phase)
{
	/* One byte per out: the contract does not promise that kvmscope handles rep outsb. */
	while (*phase)
		outb(MARKER_PORT, (uint8_t)*phase++);
	outb(MARKER_PORT, '\n');
}

void mini_exit(int status)
{
	__asm__ volatile("cli");
	outb(DEBUG_EXIT_PORT, (uint8_t)status);
	/* Only reached without a debug-exit device: stop here rather than run on. */
	for (;;)
		__asm__ volatile("hlt");
}

void vfail(int status, const char *fmt, va_list ap)
{
	kprintf("kvmscope mini guest: FAIL %d (%s): ", status, status_name(status));
	vkprintf(fmt, ap);
	uart_putc('\n');
	mini_exit(status);
}

void fail(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(status, fmt, ap);
}

const char *status_name(int st)
{
	switch (st) {
	case ST_OK:
		return "ok";
	case ST_BAD_ARG:
		return "bad argument";
	case ST_EXCEPTION:
		return "exception";
	case ST_EMU:
		return "emulation";
	case ST_SMP:
		return "smp";
	case ST_NO_DEVICE:
		return "no device";
	case ST_BAR:
		return "bad BAR";
	case ST_CAP:
		return "bad capability";
	case ST_NO_TRANSPORT:
		return "transport not offered";
	case ST_RESET:
		return "reset";
	case ST_FEATURES:
		return "feature missing";
	case ST_FEATURES_OK:
		return "FEATURES_OK refused";
	case ST_QUEUE:
		return "queue setup";
	case ST_MSIX_VECTOR:
		return "MSI-X vector refused";
	case ST_NEEDS_RESET:
		return "device needs reset";
	case ST_AFTER_RESET:
		return "written after reset";
	case ST_IRQ_SETUP:
		return "interrupt setup";
	case ST_TIMEOUT:
		return "timeout";
	case ST_NO_IRQ:
		return "no interrupt";
	case ST_REQ_STATUS:
		return "request status";
	case ST_MISMATCH:
		return "data mismatch";
	case ST_GET_ID:
		return "GET_ID";
	case ST_PAST_END:
		return "read past end";
	case ST_UNSUITABLE:
		return "disk unsuitable";
	case ST_USED_RING:
		return "bad used ring";
	case ST_HOSTILE:
		return "hostile guest";
	case ST_RECOVER:
		return "no recovery";
	}
	return "?";
}
