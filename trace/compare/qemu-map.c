/* trace/compare/qemu-map.c - for each event, the QEMU 7.2 function that does the same job, the
 * callers that reach it and its file, so the viewer sets kvmscope's path beside QEMU's. Names are
 * from QEMU 7.2's hw/virtio/virtio-pci.c, hw/virtio/virtio.c, hw/virtio/virtio-bus.c,
 * hw/block/virtio-blk.c, hw/block/dataplane/virtio-blk.c, hw/pci/pci.c, hw/pci/msix.c and
 * accel/kvm/kvm-all.c; the older names in the seed's walk (virtio_pci_init, pci_qdev_init,
 * virtio_blk_device_init) became the realize functions named here. */
#include "trace/compare/compare.h"

#define Q(ev, ...) [TRACE_EV_##ev] = {__VA_ARGS__}

static const struct qemu_func map[TRACE_EV_NR] = {
    /* host side: what the seed walks, in QEMU 7.2's names */
    Q(DEV_CREATE, "do_pci_register_device()",
      "pci_qdev_realize() (the seed's pci_qdev_init) for virtio-blk-pci", "hw/pci/pci.c",
      "picks the devfn (slot/function) and puts the device in bus->devices[]"),
    Q(CFG_SPACE_BUILT, "do_pci_register_device(), virtio_pci_device_plugged()",
      "pci_qdev_realize(); virtio_bus_device_plugged()", "hw/pci/pci.c, hw/virtio/virtio-pci.c",
      "the first sets vendor/device/revision/class; the second the subsystem id (legacy) or "
      "device id 0x1040+id (modern)"),
    Q(BAR_REGISTER, "pci_register_bar()", "virtio_pci_device_plugged()", "hw/pci/pci.c",
      "legacy I/O BAR 0, MSI-X BAR 1, modern 64-bit memory BAR 4"),
    Q(MSIX_ALLOC, "msix_init_exclusive_bar()", "virtio_pci_device_plugged()", "hw/pci/msix.c",
      "table and PBA share one BAR of their own"),
    Q(QUEUE_ADD, "virtio_add_queue()",
      "virtio_blk_device_realize() (the seed's virtio_blk_device_init)", "hw/virtio/virtio.c",
      "one call per queue, with virtio_blk_handle_output as the handler"),
    Q(HOST_FEATURES, "virtio_blk_get_features()",
      "virtio_bus_device_plugged() via vdc->get_features; virtio_pci_pre_plugged() adds "
      "VERSION_1",
      "hw/block/virtio-blk.c", NULL),
    Q(VM_STATE, "virtio_vmstate_change()", "vm_state_notify() (handler added by virtio_init())",
      "hw/virtio/virtio.c", NULL),
    Q(BACKEND_START, "virtio_bus_start_ioeventfd()",
      "virtio_pci_common_write() / virtio_ioport_write() on DRIVER_OK via "
      "virtio_pci_start_ioeventfd()",
      "hw/virtio/virtio-bus.c",
      "virtio-blk's start_ioeventfd is virtio_blk_data_plane_start(): ioeventfds, and irqfds "
      "through virtio_pci_set_guest_notifiers()"),
    Q(BACKEND_STOP, "virtio_bus_stop_ioeventfd()",
      "virtio_pci_stop_ioeventfd() from virtio_pci_reset() or a status write without DRIVER_OK",
      "hw/virtio/virtio-bus.c", "virtio-blk's stop_ioeventfd is virtio_blk_data_plane_stop()"),

    /* guest side: PCI */
    Q(PCI_CFG_READ, "pci_default_read_config()",
      "pci_host_data_read() -> pci_data_read() -> pci_host_config_read_common() -> "
      "virtio_read_config()",
      "hw/pci/pci.c", NULL),
    Q(PCI_CFG_WRITE, "pci_default_write_config()",
      "pci_host_data_write() -> pci_data_write() -> pci_host_config_write_common() -> "
      "virtio_write_config()",
      "hw/pci/pci.c",
      "virtio_write_config() also drops DRIVER_OK when bus mastering is switched off"),
    Q(BAR_MAP, "pci_update_mappings()", "pci_default_write_config() (BAR or command write)",
      "hw/pci/pci.c", NULL),
    Q(BAR_UNMAP, "pci_update_mappings()", "pci_default_write_config() (BAR or command write)",
      "hw/pci/pci.c", NULL),
    Q(MSIX_TABLE_WRITE, "msix_table_mmio_write()", "the MSI-X table MemoryRegion", "hw/pci/msix.c",
      NULL),
    Q(MSIX_ENABLE, "msix_write_config()", "pci_default_write_config()", "hw/pci/msix.c", NULL),
    Q(MSIX_MASK, "msix_handle_mask_update()", "msix_table_mmio_write() / msix_write_config()",
      "hw/pci/msix.c", "notifies virtio_pci_vector_mask()/_unmask() for irqfd users"),

    /* status and features */
    Q(VIRTIO_STATUS, "virtio_set_status()",
      "virtio_pci_common_write() (modern) / virtio_ioport_write() (legacy)", "hw/virtio/virtio.c",
      "QEMU 7.2 traces this only as virtio_set_status, with no old value"),
    Q(DEVICE_RESET, "virtio_reset()",
      "virtio_pci_reset() -> virtio_bus_reset(), after a status write of 0", "hw/virtio/virtio.c",
      NULL),
    Q(DEVICE_FEATURES_READ, "virtio_pci_common_read()",
      "case VIRTIO_PCI_COMMON_DF (by dfselect); legacy: virtio_ioport_read() "
      "VIRTIO_PCI_HOST_FEATURES",
      "hw/virtio/virtio-pci.c", "no trace event in QEMU 7.2"),
    Q(DRIVER_FEATURES_WRITE, "virtio_set_features()",
      "virtio_pci_common_write() VIRTIO_PCI_COMMON_GF / virtio_ioport_write() "
      "VIRTIO_PCI_GUEST_FEATURES",
      "hw/virtio/virtio.c", "QEMU masks bits it did not offer instead of refusing them"),
    Q(FEATURES_OK, "virtio_set_status()", "virtio_pci_common_write(), status with FEATURES_OK",
      "hw/virtio/virtio.c", "virtio_validate_features() gets the last word"),
    Q(FEATURES_REFUSED, "virtio_validate_features()", "virtio_set_status()", "hw/virtio/virtio.c",
      "QEMU leaves FEATURES_OK clear only when validation fails; bits it did not offer were "
      "already masked by virtio_set_features()"),

    /* queue setup */
    Q(QUEUE_SELECT, "virtio_pci_common_write()",
      "case VIRTIO_PCI_COMMON_Q_SELECT / virtio_ioport_write() VIRTIO_PCI_QUEUE_SEL",
      "hw/virtio/virtio-pci.c", "sets vdev->queue_sel"),
    Q(QUEUE_SIZE, "virtio_queue_set_num()",
      "virtio_pci_common_write() Q_SIZE stores it, Q_ENABLE applies it; reads: "
      "virtio_queue_get_num()",
      "hw/virtio/virtio.c", NULL),
    Q(QUEUE_PFN, "virtio_queue_set_addr()",
      "virtio_ioport_write() VIRTIO_PCI_QUEUE_PFN (a PFN of 0 resets the device)",
      "hw/virtio/virtio.c", NULL),
    Q(QUEUE_DESC, "virtio_queue_set_rings()",
      "virtio_pci_common_write() Q_DESCLO/HI store it, Q_ENABLE applies it", "hw/virtio/virtio.c",
      NULL),
    Q(QUEUE_DRIVER, "virtio_queue_set_rings()",
      "virtio_pci_common_write() Q_AVAILLO/HI store it, Q_ENABLE applies it", "hw/virtio/virtio.c",
      NULL),
    Q(QUEUE_DEVICE, "virtio_queue_set_rings()",
      "virtio_pci_common_write() Q_USEDLO/HI store it, Q_ENABLE applies it", "hw/virtio/virtio.c",
      NULL),
    Q(QUEUE_ENABLE, "virtio_pci_common_write()", "case VIRTIO_PCI_COMMON_Q_ENABLE",
      "hw/virtio/virtio-pci.c", "calls virtio_queue_set_num() and virtio_queue_set_rings()"),
    Q(QUEUE_MSIX_VECTOR, "virtio_queue_set_vector()",
      "virtio_pci_common_write() Q_MSIX / virtio_ioport_write() VIRTIO_MSI_QUEUE_VECTOR",
      "hw/virtio/virtio.c", "msix_vector_use() failing makes it VIRTIO_NO_VECTOR"),
    Q(CONFIG_MSIX_VECTOR, "virtio_pci_common_write()",
      "case VIRTIO_PCI_COMMON_MSIX / virtio_ioport_write() VIRTIO_MSI_CONFIG_VECTOR",
      "hw/virtio/virtio-pci.c", "sets vdev->config_vector"),

    /* configuration space */
    Q(CONFIG_READ, "virtio_config_modern_readb/w/l()",
      "virtio_pci_device_read(); legacy: virtio_pci_config_read() -> virtio_config_readl()",
      "hw/virtio/virtio.c", "refreshes the bytes with virtio_blk_update_config() first"),
    Q(CONFIG_WRITE, "virtio_config_modern_writeb/w/l()",
      "virtio_pci_device_write(); legacy: virtio_pci_config_write()", "hw/virtio/virtio.c",
      "then virtio_blk_set_config() (only wce is writable)"),
    Q(COMMON_CFG_READ, "virtio_pci_common_read()", "modern; legacy: virtio_ioport_read()",
      "hw/virtio/virtio-pci.c", "no trace event in QEMU 7.2"),
    Q(COMMON_CFG_WRITE, "virtio_pci_common_write()", "modern; legacy: virtio_ioport_write()",
      "hw/virtio/virtio-pci.c", "no trace event in QEMU 7.2"),

    /* the IO path */
    Q(QUEUE_NOTIFY, "virtio_queue_notify()",
      "virtio_pci_notify_write() (exit) / virtio_queue_host_notifier_read() (ioeventfd) -> "
      "virtio_blk_handle_output()",
      "hw/virtio/virtio.c",
      "with ioeventfd QEMU sees no exit; kvmscope records the kick either way"),
    Q(PACKED_POP, "virtqueue_packed_pop()",
      "virtqueue_pop() when VIRTIO_F_RING_PACKED was negotiated", "hw/virtio/virtio.c",
      "QEMU keeps last_avail_idx and last_avail_wrap_counter; no trace event of its own"),
    Q(SPLIT_POP, "virtqueue_split_pop()",
      "virtqueue_pop() when the split ring is in use: virtqueue_get_head(), then "
      "virtqueue_split_read_next_desc() along the chain",
      "hw/virtio/virtio.c", "QEMU logs the popped element (virtqueue_pop), not its descriptors"),
    Q(CHAIN_POP, "virtqueue_pop()",
      "virtio_blk_handle_vq() -> virtio_blk_get_request(); parsed by "
      "virtio_blk_handle_request()",
      "hw/virtio/virtio.c", NULL),
    Q(REQ_COMPLETE, "virtio_blk_req_complete()",
      "virtio_blk_rw_complete() (the block layer's callback)", "hw/block/virtio-blk.c", NULL),
    Q(USED_PUSH, "virtqueue_push()",
      "virtio_blk_req_complete(): virtqueue_fill() + "
      "virtqueue_flush()",
      "hw/virtio/virtio.c", NULL),
    Q(IRQ_RAISE, "virtio_notify()",
      "virtio_blk_req_complete(); dataplane: virtio_blk_data_plane_notify() -> "
      "virtio_notify_irqfd()",
      "hw/virtio/virtio.c",
      "then virtio_irq() -> virtio_notify_vector() -> virtio_pci_notify() -> msix_notify() or "
      "pci_set_irq()"),
    Q(IRQ_SUPPRESS, "virtio_should_notify()",
      "virtio_notify() (vring_need_event(), "
      "VRING_AVAIL_F_NO_INTERRUPT)",
      "hw/virtio/virtio.c", "a masked MSI-X vector is msix_notify() setting the pending bit"),
    Q(ISR_READ, "virtio_pci_isr_read()",
      "modern ISR region; legacy: virtio_ioport_read() "
      "VIRTIO_PCI_ISR",
      "hw/virtio/virtio-pci.c", "reading clears it and lowers INTx (pci_irq_deassert())"),

    /* the guest, errors, exits */
    Q(GUEST_MARKER, NULL, NULL, NULL, "kvmscope's marker port; QEMU has none"),
    Q(GUEST_ERROR, "virtio_error()", "e.g. virtio_blk_handle_request() on a malformed request",
      "hw/virtio/virtio.c", "sets NEEDS_RESET and sends a config interrupt"),
    Q(EMU_FALLBACK, NULL, NULL, NULL,
      "QEMU stops the VM: kvm_cpu_exec() -> kvm_handle_internal_error()"),
    Q(KVM_EXIT, "kvm_cpu_exec()",
      "the vCPU thread's loop: kvm_handle_io(), "
      "address_space_rw() for MMIO",
      "accel/kvm/kvm-all.c", NULL),
    Q(COALESCED_IO, "kvm_flush_coalesced_mmio_buffer()",
      "qemu_flush_coalesced_mmio_buffer(), before an access to a region marked "
      "flush_coalesced",
      "accel/kvm/kvm-all.c",
      "QEMU 7.2 coalesces the RTC's index port 0x70 (hw/rtc/mc146818rtc.c), not its UART"),
    Q(TRACE_DROPS, NULL, NULL, NULL, "kvmscope's own bookkeeping"),
    Q(TRACE_PAUSE, NULL, NULL, NULL,
      "kvmscope's own bookkeeping (QEMU: the monitor's trace-event command)"),
    Q(IMPORTED, NULL, NULL, NULL, "an event of another tracer, kept as its text"),

    /* vhost-user (QEMU 7.2: hw/virtio/vhost-user.c, hw/block/vhost-user-blk.c) */
    Q(VHOST_USER_SEND, "vhost_user_write()",
      "the vhost_ops of vhost-user (vhost_user_set_features(), vhost_user_set_vring_*() ...) "
      "from vhost_dev_init() and vhost_dev_start()",
      "hw/virtio/vhost-user.c", "QEMU's vhost-user-blk-pci; kvmscope's --blk-io=vhost-user"),
    Q(VHOST_USER_RECV, "vhost_user_read()", "vhost_user_get_u64(), process_message_reply()",
      "hw/virtio/vhost-user.c", NULL),
    Q(VHOST_USER_REGION, "vhost_user_set_mem_table()", "vhost_dev_start() -> vhost_set_mem_table",
      "hw/virtio/vhost-user.c", "one region per RAM block whose fd can be shared"),
    Q(VHOST_USER_VRING_ADDR, "vhost_user_set_vring_addr()",
      "vhost_virtqueue_start() -> vhost_virtqueue_set_addr()", "hw/virtio/vhost.c", NULL),
    Q(VHOST_USER_ERROR, "vhost_user_blk_disconnect()", "vhost_user_blk_event() on CHR_EVENT_CLOSED",
      "hw/block/vhost-user-blk.c",
      "QEMU stops the device and waits to reconnect; kvmscope sets NEEDS_RESET"),
};

const struct qemu_func *qemu_func_for(unsigned ev)
{
	return ev < TRACE_EV_NR ? &map[ev] : NULL;
}
