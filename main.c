/* main.c - kvmscope's command line: parse, then call one entry point per subcommand. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk/blk.h"
#include "build-info.h"
#include "kvm/kvm.h"
#include "pci/pci.h"
#include "trace/compare/compare.h"
#include "trace/report/report.h"
#include "trace/trace.h"
#include "trace/view/view.h"
#include "virtio/virtio.h"

static const char usage_main[] =
    "Usage: kvmscope COMMAND [OPTIONS]\n"
    "An educational hypervisor: boots Linux on KVM with virtio-pci and virtio-blk and shows\n"
    "every step of the virtio handshake and the block IO path.\n"
    "\n"
    "Commands:\n"
    "  run       boot a kernel (Linux bzImage or vmlinux, or the mini test guest)\n"
    "  trace     read a trace: dump, stats, events\n"
    "  view      replay a trace in the ncurses viewer, or two side by side (--compare)\n"
    "  import    turn a QEMU log (or a bpftrace log) into a kvmscope trace\n"
    "  diff      compare two runs' handshakes and IO (kvmscope traces or QEMU logs)\n"
    "  bench     the IO paths against QEMU's: a table, results.csv, a chart and report.md\n"
    "  help      this text; `kvmscope COMMAND --help` for a command's options\n"
    "\n"
    "Options: --help, --version\n"
    "Exit status: the guest's (debug-exit port) or 0 after a clean reboot; 1 when the VM\n"
    "failed; 2 for bad input.\n";

static const char usage_run[] =
    "Usage: kvmscope run [--kernel FILE] [OPTIONS]\n"
    "Boot FILE (a bzImage, an ELF vmlinux, or guest/out/mini.elf) with the guest console on\n"
    "this terminal. kvmscope exits when the guest reboots (Linux: `reboot -f`, reboot=k) or\n"
    "writes its exit status to port 0xf4, or halts with interrupts off (a power-off\n"
    "without ACPI). Ctrl-C stops the guest. The --disk image is locked meanwhile.\n"
    "\n"
    "  --kernel FILE        kernel to boot; without it, the installed Linux guest\n"
    "                       (" KVMSCOPE_GUESTDIR "/vmlinux, initrd.img, and a scratch copy\n"
    "                       of disk.img that is gone after the run), or the mini guest\n"
    "                       (mini.elf, test=blk on a blank scratch disk) when that is all\n"
    "                       there is\n"
    "  --initrd FILE        initial ramdisk (an uncompressed cpio boots fastest)\n"
    "  --append STR         more kernel command-line words (after kvmscope's own:\n"
    "                       console=ttyS0 reboot=k panic=1, plus the --compat words)\n"
    "  --disk FILE[,ro]     a raw disk image as a virtio-blk device (,ro: read-only)\n"
    "  --mem SIZE           guest RAM, e.g. 256M or 1G (default 256M; 16M to 1T)\n"
    "  --smp N              N vCPUs, one thread each (default 1; at most what the host's\n"
    "                       KVM allows, and 64); the guest starts the others itself\n"
    "  --virtio MODE        virtio-pci transport: transitional (default), legacy, modern\n"
    "  --irq MODE           device interrupts: msix (default) or intx\n"
    "  --blk-io PATH        where requests are served: vcpu (default), iothread, uring,\n"
    "                       or vhost-user,socket=SOCK: a vhost-user-blk backend (e.g.\n"
    "                       guest/vhost-user-blk.sh IMAGE SOCK) serves them, without --disk\n"
    "  --blk-queues N       virtio-blk queues (1 to 16; default: one per vCPU as QEMU 7.2,\n"
    "                       at most 16; 1 with vhost-user); more than one offers\n"
    "                       VIRTIO_BLK_F_MQ\n"
    "  --iothreads M        IO threads of --blk-io iothread or uring (default 1, at most\n"
    "                       one per queue): queue q is served by thread q % M\n"
    "  --ring LAYOUT        split (default): offer the split virtqueue only; packed: offer\n"
    "                       VIRTIO_F_RING_PACKED too, which the driver may take (needs\n"
    "                       --virtio modern or transitional)\n"
    "  --in-order           offer VIRTIO_F_IN_ORDER (feature bit 35; off by default, as in\n"
    "                       QEMU): if the driver takes it, every queue uses its buffers\n"
    "                       in the order they were made available, holding back requests\n"
    "                       the backend finished early (needs --virtio modern or\n"
    "                       transitional; Linux 6.1 does not take it, the mini guest's\n"
    "                       in_order=1 does)\n"
    "  --compat MODE        auto (default): on a software KVM (kvm_pvm) whose CPUID is not\n"
    "                       virtualized, switch off the guest features it cannot run\n"
    "                       ("
    "noxsave clearcpuid=...); on: always; off: never. Unless off, the\n"
    "                       guest is also told its TSC rate (tsc_early_khz=, from KVM)\n"
    "  --trace FILE         record the virtio handshake and IO path into FILE; a SIGUSR2\n"
    "                       to kvmscope pauses recording, the next resumes it\n"
    "  --trace-events LIST  event names, classes or globs (default: all but 'exit')\n"
    "  --trace-buffer SIZE  trace ring size (default 8M; 64K to 1G); a full ring\n"
    "                       drops and counts\n"
    "  --symbols FILE       guest vmlinux for symbols (default: beside --kernel)\n"
    "  --step[=CLASSES]     step through the run in the viewer: the VM pauses at each event\n"
    "                       of CLASSES (default virtio-status,features,queue-setup); n next,\n"
    "                       c continue to a breakpoint, b toggle one, q stop (needs a tty)\n"
    "  --pvh                enter an ELF kernel through its PVH note (32-bit, paging off,\n"
    "                       as QEMU's -kernel vmlinux does) instead of the 64-bit entry\n"
    "  --no-coalesce        every byte the guest prints, and every PCI configuration address\n"
    "                       it writes, exits to kvmscope (by default KVM keeps the console's\n"
    "                       transmit-register writes and the 0xCF8 address writes in its\n"
    "                       coalesced ring, KVM_CAP_COALESCED_PIO, and kvmscope applies them\n"
    "                       in order before the next exit: no exit for each)\n"
    "  --no-sandbox         let the vCPU and IO threads make any system call (by default\n"
    "                       they run under a seccomp allow-list once the machine is\n"
    "                       built; a forbidden call is named and stops the guest)\n"
    "  --help               this text\n";

struct machine_options {
	const char *kernel, *initrd, *append, *disk, *vhost_socket;
	const char *disk_serial; /* GET_ID's answer; NULL: the disk file's name */
	bool disk_ro, msix, pvh, no_sandbox, no_coalesce;
	uint64_t mem_size;
	int smp;
	unsigned blk_queues, iothreads; /* 0: the default (one queue per vCPU; one thread) */
	enum compat_mode compat;
	enum virtio_pci_mode virtio;
	enum blk_io blk_io;
	enum virtio_ring ring;
	bool in_order; /* --in-order: offer VIRTIO_F_IN_ORDER */
	struct trace_options trace;
	const char *step; /* --step[=CLASSES]: "" for the default classes; NULL: no stepping */
};

static void step_stop_vm(void *opaque)
{
	vm_stop(opaque, VM_STOP_USER, 0);
}

static bool step_vm_stopped(void *opaque)
{
	return ((struct vm *)opaque)->stop_reason != VM_RUNNING;
}

static const char *virtio_words_of(enum virtio_pci_mode m)
{
	return m == VIRTIO_PCI_LEGACY	? "legacy"
	       : m == VIRTIO_PCI_MODERN ? "modern"
					: "transitional";
}

static int run_status(int r)
{
	/* Bad input from the user is 2 (a disk in use counts); other run-time failures are 1. */
	return r == -ENOENT || r == -EACCES || r == -ENOEXEC || r == -E2BIG || r == -EINVAL ||
		       r == -EISDIR || r == -EBUSY || r == -ENOTDIR || r == -EROFS
		   ? 2
		   : 1;
}

/* The user's files, checked before /dev/kvm is opened: a bad one is named even on a machine
 * without KVM. One line on stderr, the exit status; 0 when all are fine. */
static int check_files(const struct machine_options *mo)
{
	struct boot_config bc = {.kernel = mo->kernel, .initrd = mo->initrd, .pvh = mo->pvh};
	struct blk_config disk = {.path = mo->disk,
				  .ro = mo->disk_ro,
				  .io = mo->blk_io,
				  .queues = mo->blk_queues,
				  .iothreads = mo->iothreads};
	int r = boot_check(&bc);
	if (!r && (mo->disk || mo->vhost_socket))
		r = blk_check(&disk);
	if (!r)
		r = trace_check(&mo->trace);
	return r < 0 ? run_status(r) : 0;
}

/* The machine: a VM, its devices, the kernel; runs until the guest stops. */
static int machine_run(const struct machine_options *mo)
{
	/* Stepping: the guest console goes to the viewer's pane, not the terminal. */
	struct vm_config vc = {.mem_size = mo->mem_size,
			       .nr_vcpus = mo->smp,
			       .serial_out_fd = mo->step ? -1 : STDOUT_FILENO,
			       .shared_ram = mo->blk_io == BLK_IO_VHOST_USER,
			       .no_coalesce = mo->no_coalesce};
	struct vm *vm = calloc(1, sizeof(*vm));
	struct pci *pci = calloc(1, sizeof(*pci));
	struct virtio_dev *blk = NULL;
	char *cmdline = NULL;
	bool compat, traced = false;
	int r;

	if ((r = check_files(mo)) || !vm || !pci) {
		free(vm);
		free(pci);
		return r ? r : 1;
	}
	r = vm_create(vm, &vc);
	if (r < 0) {
		vm_destroy(vm);
		free(vm);
		free(pci);
		return r == -ENOENT || r == -EACCES || r == -E2BIG ? 2 : 1;
	}
	vm->sandbox = !mo->no_sandbox;
	compat = mo->compat == COMPAT_ON || (mo->compat == COMPAT_AUTO && vm->is_pvm);
	char words[160];
	compat_cmdline(compat, mo->compat == COMPAT_OFF ? 0 : vm_tsc_khz(vm), words, sizeof(words));
	if (asprintf(&cmdline, "console=ttyS0 reboot=k panic=1 %s%s%s", words, *words ? " " : "",
		     mo->append ? mo->append : "") < 0) {
		r = -ENOMEM;
		goto out;
	}
	/* Tracing starts before the devices exist: their creation is the first chapter. */
	if (mo->trace.path) {
		struct trace_options to = mo->trace;
		to.kernel = mo->kernel;
		trace_info("kernel", "%s", mo->kernel);
		trace_info("transport", "%s",
			   mo->disk || mo->vhost_socket ? virtio_words_of(mo->virtio) : "none");
		trace_info("irq", "%s", mo->msix ? "msix" : "intx");
		trace_info("io_path", "%s", blk_io_name(mo->blk_io));
		trace_info("ring", "%s", mo->ring == VIRTIO_RING_PACKED ? "packed" : "split");
		trace_info("in_order", "%s", mo->in_order ? "offered" : "off");
		trace_info("blk_queues", "%u", mo->blk_queues);
		trace_info("iothreads", "%u", mo->iothreads ? mo->iothreads : 1);
		trace_info("host_kvm", "%s", vm->is_pvm ? "kvm_pvm" : "kvm");
		trace_info("vcpus", "%d", vm->nr_vcpus);
		/* whether a console byte (and a PCI configuration address write) is a kvm_exit or a
		 * coalesced_io record */
		trace_info("console_writes", "%s",
			   vm->coalesced ? "coalesced (KVM_CAP_COALESCED_PIO)" : "exit");
		trace_info("version", "kvmscope %s", KVMSCOPE_VERSION);
		trace_info("cmdline", "%s", cmdline);
		r = trace_start(&to);
		if (r < 0)
			goto out;
		traced = true;
	}
	r = pci_init(pci, vm);
	if (r < 0) {
		fprintf(stderr, "kvmscope: PCI bus: %s\n", strerror(-r));
		goto out;
	}
	if (mo->disk || mo->vhost_socket) {
		struct blk_config bcfg = {.path = mo->disk,
					  .ro = mo->disk_ro,
					  .io = mo->blk_io,
					  .serial = mo->disk_serial,
					  .socket = mo->vhost_socket,
					  .queues = mo->blk_queues,
					  .iothreads = mo->iothreads};
		r = blk_create(vm, &bcfg, &blk);
		if (r < 0)
			goto out;
		virtio_dev_set_ring(blk, mo->ring, mo->in_order);
		r = virtio_pci_create(pci, blk, mo->virtio, mo->msix);
		if (r < 0) {
			fprintf(stderr, "kvmscope: virtio-pci: %s\n", strerror(-r));
			goto out;
		}
		/* A vhost-user backend serves the ring itself and may not offer these. */
		if (mo->ring == VIRTIO_RING_PACKED &&
		    !(blk->host_features & 1ULL << VIRTIO_F_RING_PACKED))
			fprintf(stderr, "kvmscope: --ring packed: the backend does not offer "
					"VIRTIO_F_RING_PACKED; the driver gets the split ring\n");
		if (mo->in_order && !(blk->host_features & 1ULL << VIRTIO_F_IN_ORDER))
			fprintf(stderr, "kvmscope: --in-order: the backend does not offer "
					"VIRTIO_F_IN_ORDER; the device does not offer it either\n");
	}
	struct boot_config bc = {
	    .kernel = mo->kernel, .initrd = mo->initrd, .cmdline = cmdline, .pvh = mo->pvh};
	const struct pci_irq_route *routes;
	bc.nr_pci_irqs = pci_irq_routes(pci, &routes);
	bc.pci_irqs = routes;
	r = boot_load(vm, &bc);
	if (r < 0)
		goto out;
	if (compat && mo->compat == COMPAT_AUTO)
		fprintf(stderr,
			"kvmscope: host KVM is kvm_pvm (CPUID not virtualized): adding '%s' "
			"to the guest command line (--compat=off to stop this)\n",
			words);
	if (mo->step) {
		struct view_live_config lc = {.trace_path = mo->trace.path,
					      .classes = *mo->step ? mo->step : NULL,
					      .stop_vm = step_stop_vm,
					      .vm_stopped = step_vm_stopped,
					      .opaque = vm};
		r = view_live_start(&lc);
		if (r < 0)
			goto out;
		vm_set_console_sink(vm, view_live_console, NULL);
		r = vm_run(vm, -1); /* the keys belong to the viewer */
		view_live_end(r,
			      vm->stop_reason != VM_STOP_SIGNAL && vm->stop_reason != VM_STOP_USER);
	} else {
		r = vm_run(vm, STDIN_FILENO);
	}
	/* What kvmscope itself kept resident, the trace ring included, once the guest is done:
	 * nothing is freed before this, so it is the run's peak ("kvmscope trace stats" shows it;
	 * kvmscope bench reports it). */
	if (traced) {
		long kib = vmm_rss_beyond_ram_kib(&vm->mem, "/proc/self/smaps");
		if (kib >= 0)
			trace_info("vmm_rss_kib", "%ld", kib);
	}
out:
	/* The device stops (joins its IO thread, unwires its eventfds) before its transport goes.
	 */
	if (blk)
		virtio_reset(blk);
	pci_destroy(pci);
	if (blk)
		blk_destroy(blk);
	if (traced)
		trace_stop();
	vm_destroy(vm);
	free(vm);
	free(pci);
	free(cmdline);
	return r < 0 ? run_status(r) : r;
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "kvmscope: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return 2;
}

/* Which of several words s is; -1 when none. */
static int pick(const char *s, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	return -1;
}

/* No --kernel: the guest make install shipped; the guest writes to a scratch disk, not to it. */
static int default_guest(struct machine_options *mo, struct shipped_guest *sg)
{
	static char disk[64];
	int fd;

	if (shipped_guest(sg) < 0)
		return bad(
		    "run: no --kernel given and no guest installed (%s); pass --kernel FILE, "
		    "or build and install one with 'make install-guest' in the source tree",
		    sg->kernel);
	mo->kernel = sg->kernel;
	if (!mo->initrd && sg->initrd[0])
		mo->initrd = sg->initrd;
	if (sg->mini && !mo->append)
		mo->append = "test=blk";
	if (!mo->disk && !mo->vhost_socket && (sg->disk[0] || sg->mini)) {
		fd = blk_scratch_disk(sg->disk[0] ? sg->disk : NULL, 64ULL << 20, disk,
				      sizeof(disk));
		if (fd < 0) {
			fprintf(stderr, "kvmscope: run: scratch disk: %s\n", strerror(-fd));
			return 1;
		}
		mo->disk = disk; /* fd stays open until kvmscope exits */
		mo->disk_serial = "kvmscope-scratch";
	}
	fprintf(stderr, "kvmscope: no --kernel: booting the installed %s %s%s%s%s\n",
		sg->mini ? "mini guest" : "Linux guest", sg->kernel, mo->initrd ? " with " : "",
		mo->initrd ? mo->initrd : "", mo->disk == disk ? " and a scratch disk" : "");
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {{"kernel", required_argument, NULL, 'k'},
					     {"initrd", required_argument, NULL, 'i'},
					     {"append", required_argument, NULL, 'a'},
					     {"disk", required_argument, NULL, 'd'},
					     {"mem", required_argument, NULL, 'm'},
					     {"smp", required_argument, NULL, 'n'},
					     {"compat", required_argument, NULL, 'c'},
					     {"virtio", required_argument, NULL, 'v'},
					     {"irq", required_argument, NULL, 'q'},
					     {"blk-io", required_argument, NULL, 'b'},
					     {"ring", required_argument, NULL, 'r'},
					     {"in-order", no_argument, NULL, 'O'},
					     {"blk-queues", required_argument, NULL, 'Q'},
					     {"iothreads", required_argument, NULL, 'T'},
					     {"pvh", no_argument, NULL, 'p'},
					     {"step", optional_argument, NULL, 's'},
					     {"no-sandbox", no_argument, NULL, 'S'},
					     {"no-coalesce", no_argument, NULL, 'C'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	static const char *const compat_words[] = {"auto", "on", "off"};
	static const char *const virtio_words[] = {"legacy", "modern", "transitional"};
	static const char *const irq_words[] = {"msix", "intx"};
	static const char *const ring_words[] = {"split", "packed"};
	static const enum virtio_pci_mode virtio_modes[] = {VIRTIO_PCI_LEGACY, VIRTIO_PCI_MODERN,
							    VIRTIO_PCI_TRANSITIONAL};
	struct machine_options mo = {.mem_size = 256ULL << 20,
				     .smp = 1,
				     .compat = COMPAT_AUTO,
				     .virtio = VIRTIO_PCI_TRANSITIONAL,
				     .msix = true};
	int c, n = 0;

	/* The trace layer parses its own options (--trace, --trace-events, ...); getopt the rest.
	 */
	for (int i = 0; i < argc; i++) {
		int t = i > 0 ? trace_parse_option(&mo.trace, argc, argv, &i) : 0;
		if (t < 0)
			return 2;
		if (t == 0)
			argv[n++] = argv[i];
	}
	argc = n;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			mo.kernel = optarg;
			break;
		case 'i':
			mo.initrd = optarg;
			break;
		case 'a':
			mo.append = optarg;
			break;
		case 'd': {
			char *comma = strchr(optarg, ',');
			if (comma && strcmp(comma, ",ro") != 0)
				return bad("--disk %s: the only option is ,ro", optarg);
			mo.disk_ro = comma != NULL;
			if (comma)
				*comma = 0;
			mo.disk = optarg;
			break;
		}
		case 'm':
			if (trace_parse_size(optarg, &mo.mem_size) < 0 ||
			    mo.mem_size > (1ULL << 40))
				return bad("--mem %s: not a size from 16M to 1T (e.g. 256M, 1G)",
					   optarg);
			if (mo.mem_size < (16ULL << 20))
				return bad("--mem %s: at least 16M of guest RAM is needed", optarg);
			break;
		case 'n': {
			char *end;
			long v = strtol(optarg, &end, 10);
			_Static_assert(VM_MAX_VCPUS == 64, "the --smp message names the limit");
			if (end == optarg || *end || v < 1 || v > VM_MAX_VCPUS)
				return bad("--smp %s: expected a vCPU count from 1 to 64", optarg);
			mo.smp = (int)v;
			break;
		}
		case 'c':
			if ((c = pick(optarg, compat_words, 3)) < 0)
				return bad("--compat %s: expected auto, on or off", optarg);
			mo.compat = (enum compat_mode)c;
			break;
		case 'v':
			if ((c = pick(optarg, virtio_words, 3)) < 0)
				return bad("--virtio %s: expected legacy, modern or transitional",
					   optarg);
			mo.virtio = virtio_modes[c];
			break;
		case 'q':
			if ((c = pick(optarg, irq_words, 2)) < 0)
				return bad("--irq %s: expected msix or intx", optarg);
			mo.msix = c == 0;
			break;
		case 'b':
			if (blk_io_parse_opts(optarg, &mo.blk_io, &mo.vhost_socket) < 0)
				return bad("--blk-io %s: expected vcpu, iothread, uring or "
					   "vhost-user,socket=PATH",
					   optarg);
			break;
		case 'r':
			if ((c = pick(optarg, ring_words, 2)) < 0)
				return bad("--ring %s: expected split or packed", optarg);
			mo.ring = c == 1 ? VIRTIO_RING_PACKED : VIRTIO_RING_SPLIT;
			break;
		case 'O':
			mo.in_order = true;
			break;
		case 'Q':
		case 'T': {
			char *end;
			long v = strtol(optarg, &end, 10);
			_Static_assert(VIRTIO_MAX_QUEUES == 16, "the messages name the limit");
			if (end == optarg || *end || v < 1 || v > VIRTIO_MAX_QUEUES)
				return bad(c == 'Q'
					       ? "--blk-queues %s: expected a count from 1 to 16"
					       : "--iothreads %s: expected a count from 1 to 16",
					   optarg);
			*(c == 'Q' ? &mo.blk_queues : &mo.iothreads) = (unsigned)v;
			break;
		}
		case 'p':
			mo.pvh = true;
			break;
		case 's':
			mo.step = optarg ? optarg : "";
			break;
		case 'S':
			mo.no_sandbox = true;
			break;
		case 'C':
			mo.no_coalesce = true;
			break;
		case 'h':
			fputs(usage_run, stdout);
			return 0;
		default:
			fputs("Try 'kvmscope run --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc)
		return bad("run: unexpected argument '%s'", argv[optind]);
	/* A legacy driver sees 32 feature bits: VIRTIO_F_RING_PACKED (34) is beyond them. */
	if (mo.ring == VIRTIO_RING_PACKED && mo.virtio == VIRTIO_PCI_LEGACY)
		return bad("--ring packed: %s",
			   "needs --virtio modern or transitional (a legacy driver cannot see "
			   "feature bit 34, VIRTIO_F_RING_PACKED)");
	if (mo.in_order && mo.virtio == VIRTIO_PCI_LEGACY)
		return bad("--in-order: %s",
			   "needs --virtio modern or transitional (a legacy driver cannot see "
			   "feature bit 35, VIRTIO_F_IN_ORDER)");
	if (mo.vhost_socket && mo.disk)
		return bad("run: --disk %s: with --blk-io=vhost-user the backend serves the disk; "
			   "drop --disk",
			   mo.disk);
	if (mo.vhost_socket && mo.virtio == VIRTIO_PCI_LEGACY)
		return bad("run: --virtio %s: vhost-user backends serve virtio 1.0 drivers only "
			   "(use modern or transitional)",
			   "legacy");
	struct shipped_guest sg;
	if (!mo.kernel && (n = default_guest(&mo, &sg)) != 0)
		return n;
	if ((mo.blk_queues || mo.iothreads) && !mo.disk && !mo.vhost_socket)
		return bad("--%s: there is no virtio-blk device (no --disk)",
			   mo.blk_queues ? "blk-queues" : "iothreads");
	/* QEMU 7.2 (since 5.2): a virtio-blk-pci has one queue per vCPU unless told otherwise. */
	if (!mo.blk_queues && !mo.vhost_socket)
		mo.blk_queues = mo.smp < VIRTIO_MAX_QUEUES ? (unsigned)mo.smp : VIRTIO_MAX_QUEUES;
	if (mo.step && !isatty(STDIN_FILENO))
		return bad("run --step: %s", "needs a terminal (record with --trace FILE, then "
					     "'kvmscope trace dump FILE')");
	if (mo.step && !mo.trace.path) {
		mo.trace.path = "kvmscope-step.kvt";
		fprintf(stderr, "kvmscope: --step records the trace to %s\n", mo.trace.path);
	}
	return machine_run(&mo);
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the command's name */
};

/* Run the command argv[1] names; usage on stdout for --help, on stderr (status 2) for nothing. */
static int dispatch(const struct command *cmds, size_t n, int argc, char **argv, const char *usage,
		    const char *what)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "kvmscope: %sunknown command '%s' (try 'kvmscope %s--help')\n", what,
		argv[1], what);
	return 2;
}

static int cmd_trace(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: kvmscope trace COMMAND FILE [OPTIONS]\n"
	    "  dump FILE [--format text|json|chrome] [--events LIST]   the events, decoded\n"
	    "  stats FILE                                              counts, drops, latencies\n"
	    "  events [--markdown]                                     the event catalogue\n";
	static const struct command cmds[] = {
	    {"dump", trace_cmd_dump}, {"stats", trace_cmd_stats}, {"events", trace_cmd_events}};

	return dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), argc, argv, usage, "trace ");
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("kvmscope %s\n", KVMSCOPE_VERSION);
	return 0;
}

/* Every thread kvmscope starts (vCPUs, IO threads, the trace writer, the viewer's) gets a stack of
 * THREAD_STACK instead of glibc's default, the stack rlimit (8 MiB). Where transparent huge pages
 * are "always" (Debian's default) the first touch of an 8 MiB stack can fault in a whole 2 MiB
 * page: 2 MiB resident per thread for the few KiB it uses. A mapping under 2 MiB holds no huge
 * page. Our threads keep no large arrays on their stacks. */
#define THREAD_STACK (1024 * 1024)

static void small_thread_stacks(void)
{
	pthread_attr_t a;

	if (pthread_attr_init(&a))
		return;
	if (!pthread_attr_setstacksize(&a, THREAD_STACK))
		pthread_setattr_default_np(&a); /* on failure, glibc's default: more memory, no harm */
	pthread_attr_destroy(&a);
}

int main(int argc, char **argv)
{
	static const struct command cmds[] = {
	    {"run", cmd_run},	       {"trace", cmd_trace},
	    {"view", view_cmd_main},   {"import", import_cmd_main},
	    {"diff", diff_cmd_main},   {"bench", bench_cmd_main},
	    {"--version", cmd_version}};

	small_thread_stacks();
	return dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), argc, argv, usage_main, "");
}
