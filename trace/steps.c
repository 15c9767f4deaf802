/* trace/steps.c - which step of a virtio device's init (virtio 1.2 §3.1.1) or of the IO path
 * each record is: one pass over the records, per device, extended as records arrive (live). The
 * viewer's Path pane and `trace dump`'s step column both read it. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>

#include "trace/internal.h"

const struct trace_step_info trace_steps[TRACE_STEP_NR] = {
    [TRACE_STEP_DEVICE] = {"device built", "", "§4.1.2",
			   "kvmscope builds the device: PCI header, BARs, MSI-X, queues, features"},
    [TRACE_STEP_PCI] = {"PCI probe", "", "§4.1.2",
			"the guest enumerates PCI, maps the BARs, enables the function"},
    [TRACE_STEP_RESET] = {"reset", "1", "§3.1.1", "reset the device (status 0)"},
    [TRACE_STEP_ACK] = {"ACKNOWLEDGE", "2", "§3.1.1", "the guest noticed the device"},
    [TRACE_STEP_DRIVER] = {"DRIVER", "3", "§3.1.1", "the guest knows how to drive it"},
    [TRACE_STEP_FEATURES] = {"features", "4", "§3.1.1",
			     "read device features, write the subset the driver understands"},
    [TRACE_STEP_FEATURES_OK] = {"FEATURES_OK", "5", "§3.1.1",
				"no more feature bits will be accepted"},
    [TRACE_STEP_REREAD] = {"re-read status", "6", "§3.1.1",
			   "FEATURES_OK still set: the device accepts the subset"},
    [TRACE_STEP_SETUP] = {"device setup", "7", "§3.1.1, §4.1.5.1.3",
			  "virtqueues, MSI-X vectors, device config"},
    [TRACE_STEP_DRIVER_OK] = {"DRIVER_OK", "8", "§3.1.1", "the device is live"},
    [TRACE_STEP_NOTIFY] = {"notify", "", "§4.1.5.2", "the driver kicks the queue"},
    [TRACE_STEP_POP] = {"pop", "", "§2.7.13", "the device takes a descriptor chain: one request"},
    [TRACE_STEP_BACKEND] = {"backend", "", "§5.2.6", "the request is served from the image"},
    [TRACE_STEP_COMPLETE] = {"complete", "", "§5.2.6", "status written into the request"},
    [TRACE_STEP_USED] = {"used", "", "§2.7.8", "the chain is published in the used ring"},
    [TRACE_STEP_IRQ] = {"interrupt", "", "§4.1.5.3", "the driver is told (or asked not to be)"},
};

enum trace_path trace_step_path(unsigned step)
{
	return step <= TRACE_INIT_LAST ? TRACE_PATH_INIT
	       : step <= TRACE_IO_LAST ? TRACE_PATH_IO
				       : TRACE_PATH_NONE;
}

const char *trace_step_words(unsigned step, char *buf, size_t len)
{
	const struct trace_step_info *s = step < TRACE_STEP_NR ? &trace_steps[step] : NULL;
	if (!s)
		snprintf(buf, len, "%s", "");
	else if (s->num[0])
		snprintf(buf, len, "step %s of %s: %s", s->num, s->spec, s->name);
	else if (trace_step_path(step) == TRACE_PATH_IO)
		snprintf(buf, len, "IO path: %s (%s)", s->name, s->spec);
	else
		snprintf(buf, len, "%s (%s)", s->name, s->spec);
	return buf;
}

static bool is_status_reg(uint64_t reg)
{
	return reg == (TRACE_VREG_LEGACY | VIRTIO_PCI_STATUS) || reg == VIRTIO_PCI_COMMON_STATUS;
}

static bool is_feature_reg(uint64_t reg)
{
	return reg == VIRTIO_PCI_COMMON_DFSELECT || reg == VIRTIO_PCI_COMMON_GFSELECT ||
	       reg == VIRTIO_PCI_COMMON_DF || reg == VIRTIO_PCI_COMMON_GF ||
	       reg == (TRACE_VREG_LEGACY | VIRTIO_PCI_HOST_FEATURES) ||
	       reg == (TRACE_VREG_LEGACY | VIRTIO_PCI_GUEST_FEATURES);
}

/* Enters an init step: the device's state follows. */
static uint8_t enter(struct trace_dev_state *s, uint8_t step)
{
	s->step = step;
	return step;
}

/* Bits the driver added in a status write decide the step: the highest one. */
static uint8_t status_step(struct trace_dev_state *s, uint64_t old, uint64_t new, uint8_t carry)
{
	uint64_t added = new & ~old;
	s->status = new;
	if (new == 0) {
		s->ready = false;
		return enter(s, TRACE_STEP_RESET);
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		s->ready = true;
		return enter(s, TRACE_STEP_DRIVER_OK);
	}
	if (added & VIRTIO_CONFIG_S_FEATURES_OK)
		return enter(s, TRACE_STEP_FEATURES_OK);
	if (added & VIRTIO_CONFIG_S_DRIVER)
		return enter(s, TRACE_STEP_DRIVER);
	if (added & VIRTIO_CONFIG_S_ACKNOWLEDGE)
		return enter(s, TRACE_STEP_ACK);
	return carry;
}

/* A transport register with no event of its own: a status read right after FEATURES_OK is the
 * re-read of step 6; feature selects belong to step 4; other queue registers to step 7. */
static uint8_t common_cfg_step(struct trace_dev_state *s, const struct trace_rec *r, uint8_t carry)
{
	uint64_t reg = trace_rec_arg(r, "reg", 0);
	if (s->ready)
		return TRACE_STEP_NONE;
	if (is_status_reg(reg))
		return r->ev == TRACE_EV_COMMON_CFG_READ && s->step == TRACE_STEP_FEATURES_OK
			   ? enter(s, TRACE_STEP_REREAD)
			   : carry;
	if (is_feature_reg(reg))
		return enter(s, TRACE_STEP_FEATURES);
	if (!(reg & TRACE_VREG_LEGACY) && reg >= VIRTIO_PCI_COMMON_NUMQ &&
	    reg != VIRTIO_PCI_COMMON_CFGGENERATION)
		return enter(s, TRACE_STEP_SETUP);
	return carry;
}

static uint8_t tag_one(struct trace_dev_state *s, const struct trace_rec *r)
{
	bool before_driver = s->step == TRACE_STEP_NONE || s->step <= TRACE_STEP_PCI;
	/* an event with no step of its own belongs to the init step in progress */
	uint8_t carry = s->step != TRACE_STEP_NONE && !s->ready ? s->step : TRACE_STEP_NONE;

	switch (r->ev) {
	case TRACE_EV_DEV_CREATE:
	case TRACE_EV_CFG_SPACE_BUILT:
	case TRACE_EV_BAR_REGISTER:
	case TRACE_EV_MSIX_ALLOC:
	case TRACE_EV_QUEUE_ADD:
	case TRACE_EV_HOST_FEATURES:
		return s->step == TRACE_STEP_NONE ? enter(s, TRACE_STEP_DEVICE) : carry;
	case TRACE_EV_BACKEND_START:
		return TRACE_STEP_DRIVER_OK;
	case TRACE_EV_BACKEND_STOP:
		return s->step == TRACE_STEP_RESET ? TRACE_STEP_RESET : TRACE_STEP_NONE;
	case TRACE_EV_VIRTIO_STATUS: /* a 0 before any guest access: QEMU's machine-start reset */
		if (!trace_rec_arg(r, "new", 0) && !trace_rec_arg(r, "old", 0) &&
		    (s->step == TRACE_STEP_NONE || s->step == TRACE_STEP_DEVICE))
			return enter(s, TRACE_STEP_DEVICE);
		return status_step(s, trace_rec_arg(r, "old", 0), trace_rec_arg(r, "new", 0),
				   carry);
	case TRACE_EV_DEVICE_RESET:
		s->ready = false;
		s->status = 0;
		return enter(s, TRACE_STEP_RESET);
	case TRACE_EV_DEVICE_FEATURES_READ:
	case TRACE_EV_DRIVER_FEATURES_WRITE:
		return s->ready ? TRACE_STEP_NONE : enter(s, TRACE_STEP_FEATURES);
	case TRACE_EV_FEATURES_OK:
	case TRACE_EV_FEATURES_REFUSED:
		return enter(s, TRACE_STEP_FEATURES_OK);
	case TRACE_EV_CONFIG_READ:
	case TRACE_EV_CONFIG_WRITE:
		if (s->ready)
			return TRACE_STEP_NONE;
		return s->step != TRACE_STEP_NONE && s->step >= TRACE_STEP_FEATURES
			   ? enter(s, TRACE_STEP_SETUP)
			   : carry;
	case TRACE_EV_COMMON_CFG_READ:
	case TRACE_EV_COMMON_CFG_WRITE:
		return common_cfg_step(s, r, carry);
	case TRACE_EV_QUEUE_NOTIFY:
		return TRACE_STEP_NOTIFY;
	case TRACE_EV_CHAIN_POP:
		return TRACE_STEP_POP;
	case TRACE_EV_REQ_COMPLETE:
		return TRACE_STEP_COMPLETE;
	case TRACE_EV_USED_PUSH:
		return TRACE_STEP_USED;
	case TRACE_EV_IRQ_RAISE:
	case TRACE_EV_IRQ_SUPPRESS:
		return trace_rec_arg(r, "queue", 0) == TRACE_QUEUE_CONFIG ? carry : TRACE_STEP_IRQ;
	case TRACE_EV_ISR_READ:
		return s->ready ? TRACE_STEP_IRQ : carry;
	default:
		break;
	}
	switch (trace_events[r->ev].cls) {
	case TRACE_CLASS_PCI:
		return before_driver ? enter(s, TRACE_STEP_PCI) : carry;
	case TRACE_CLASS_QUEUE:
		return s->ready ? TRACE_STEP_NONE : enter(s, TRACE_STEP_SETUP);
	default:
		return TRACE_STEP_NONE;
	}
}

int trace_tags_update(struct trace_tags *t, const struct trace_file *tf)
{
	if (trace_vec_grow(&t->step, &t->cap, tf->nrec, 1))
		return -ENOMEM;
	for (; t->n < tf->nrec; t->n++) {
		const struct trace_rec *r = &tf->rec[t->n];
		if (r->dev >= t->ndev) {
			size_t n = (size_t)r->dev + 1, cap = t->ndev;
			struct trace_dev_state *d = realloc(t->dev, n * sizeof(*d));
			if (!d)
				return -ENOMEM;
			for (; cap < n; cap++)
				d[cap] = (struct trace_dev_state){.step = TRACE_STEP_NONE};
			t->dev = d;
			t->ndev = n;
		}
		/* the paths are a virtio device's: not the host bridge's, not the VM's */
		bool virtio = r->dev && trace_file_dev_kind(tf, r->dev) != 0;
		t->step[t->n] =
		    virtio && r->ev < TRACE_EV_NR ? tag_one(&t->dev[r->dev], r) : TRACE_STEP_NONE;
	}
	return 0;
}

void trace_tags_free(struct trace_tags *t)
{
	free(t->step);
	free(t->dev);
	memset(t, 0, sizeof(*t));
}
