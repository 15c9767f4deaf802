/* kvm/serial.c - a 16550A UART at 0x3F8/IRQ 4: guest console on stdout, stdin to the guest.
 * Its transmit interrupt matters: Linux's tty layer (user-space output) waits for THRE. */
#include <errno.h>
#include <linux/serial_reg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvm/internal.h"

#define RX_SIZE	 256
#define OUT_SIZE 512 /* console output held until a newline: one write() a line, not a byte */

struct serial {
	struct vm *vm;
	struct io_dev dev;
	pthread_mutex_t lock;
	int out_fd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, msr_delta;
	bool thr_ipending; /* THR became empty and nobody read IIR or wrote THR since */
	int irq_level;
	uint8_t rx[RX_SIZE];
	unsigned rx_head, rx_count;
	uint64_t tx_bytes;
	struct serial_sink sink;
	uint8_t out[OUT_SIZE];
	unsigned out_len;
};

/* The interrupt the UART reports now, as IIR encodes it (UART_IIR_NO_INT when none). */
static uint8_t pending_iir(const struct serial *s)
{
	if ((s->ier & UART_IER_RDI) && s->rx_count)
		return UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_ipending)
		return UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && s->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void update_irq(struct serial *s)
{
	int level = pending_iir(s) != UART_IIR_NO_INT;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	vm_irq_line(s->vm, IRQ_COM1, level);
}

static void rx_push(struct serial *s, uint8_t c)
{
	if (s->rx_count == RX_SIZE)
		return; /* overrun: the byte is lost, as on the real chip */
	s->rx[(s->rx_head + s->rx_count) % RX_SIZE] = c;
	s->rx_count++;
}

static uint8_t rx_pop(struct serial *s)
{
	uint8_t c;

	if (!s->rx_count)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % RX_SIZE;
	s->rx_count--;
	return c;
}

static void flush_locked(struct serial *s)
{
	unsigned done = 0;

	while (done < s->out_len && s->out_fd >= 0) {
		ssize_t n = write(s->out_fd, s->out + done, s->out_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			s->out_fd = -1; /* the terminal went away: keep running, stop writing */
		if (n <= 0)
			break; /* a full non-blocking pipe drops the rest, as a UART overruns */
		done += (unsigned)n;
	}
	s->out_len = 0;
}

static void transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & UART_MCR_LOOP) {
		rx_push(s, c);
	} else {
		s->out[s->out_len++] = c;
		if (c == '\n' || s->out_len == OUT_SIZE)
			flush_locked(s);
		if (s->sink.fn)
			s->sink.fn(s->sink.opaque, c);
		s->tx_bytes++;
	}
	s->thr_ipending = true; /* the byte left at once: THR is empty again */
}

/* MSR as the driver reads it; in loopback the modem inputs follow MCR (the 8250 probe checks). */
static uint8_t read_msr(struct serial *s)
{
	uint8_t msr;

	if (s->mcr & UART_MCR_LOOP) {
		msr = 0;
		if (s->mcr & UART_MCR_RTS)
			msr |= UART_MSR_CTS;
		if (s->mcr & UART_MCR_DTR)
			msr |= UART_MSR_DSR;
		if (s->mcr & UART_MCR_OUT1)
			msr |= UART_MSR_RI;
		if (s->mcr & UART_MCR_OUT2)
			msr |= UART_MSR_DCD;
	} else {
		msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	}
	msr |= s->msr_delta;
	s->msr_delta = 0;
	return msr;
}

static uint8_t serial_read(struct serial *s, unsigned reg)
{
	bool dlab = s->lcr & UART_LCR_DLAB;
	uint8_t v = 0;

	switch (reg) {
	case UART_RX:
		v = dlab ? s->dll : rx_pop(s);
		break;
	case UART_IER:
		v = dlab ? s->dlm : s->ier;
		break;
	case UART_IIR:
		v = pending_iir(s);
		if (v == UART_IIR_THRI)
			s->thr_ipending = false; /* reading IIR acknowledges a THRE interrupt */
		if (s->fcr & UART_FCR_ENABLE_FIFO)
			v |= 0xc0; /* FIFOs enabled: what makes Linux call us a 16550A */
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = UART_LSR_TEMT | UART_LSR_THRE | (s->rx_count ? UART_LSR_DR : 0);
		break;
	case UART_MSR:
		v = read_msr(s);
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	return v;
}

static void serial_write(struct serial *s, unsigned reg, uint8_t v)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		if (dlab)
			s->dll = v;
		else
			transmit(s, v);
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = v;
			break;
		}
		/* Linux ends each console write and each transmit burst with an IER write: the
		 * end of the guest's output for now, so the partial line (a prompt) goes out. */
		flush_locked(s);
		/* Enabling THRI with THR empty raises THRE at once, as the 16550 does. */
		if ((v & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thr_ipending = true;
		s->ier = v & 0x0f;
		break;
	case UART_FCR:
		s->fcr = v & (UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK);
		if (v & UART_FCR_CLEAR_RCVR)
			s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

static void serial_io(struct io_dev *dev, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct serial *s = dev->opaque;
	uint8_t *p = data;

	pthread_mutex_lock(&s->lock);
	/* A wider access touches consecutive registers, one byte each. */
	for (uint32_t i = 0; i < len && off + i < 8; i++) {
		if (is_write)
			serial_write(s, off + i, p[i]);
		else
			p[i] = serial_read(s, off + i);
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

struct serial *serial_create(struct vm *vm, int out_fd)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->vm = vm;
	s->out_fd = out_fd;
	s->mcr = UART_MCR_OUT2;
	pthread_mutex_init(&s->lock, NULL);
	s->dev = (struct io_dev){
	    .base = PORT_COM1, .len = 8, .io = serial_io, .opaque = s, .name = "serial"};
	if (bus_add(&vm->pio, &s->dev) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	bus_del(&s->vm->pio, &s->dev);
	flush_locked(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void serial_flush(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	flush_locked(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_input(struct serial *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < len; i++)
		rx_push(s, p[i]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_set_sink(struct serial *s, const struct serial_sink *sink)
{
	pthread_mutex_lock(&s->lock);
	s->sink = *sink;
	pthread_mutex_unlock(&s->lock);
}
