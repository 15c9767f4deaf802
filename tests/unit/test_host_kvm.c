/* Unit tests of kvm/host.c: the KVM kind a report names, from a made-up /sys (module directories
 * and DMI files) and made-up CPUID facts. No /dev/kvm needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "tests/check.h"

static char root[64];

static void put(const char *path, const char *text)
{
	char full[256], dir[320];

	snprintf(full, sizeof(full), "%s%s", root, path);
	snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", full);
	if (system(dir) != 0)
		exit(1);
	if (text) {
		FILE *f = fopen(full, "w");

		if (!f || fputs(text, f) < 0 || fclose(f))
			exit(1);
	} else if (mkdir(full, 0755) < 0) {
		exit(1);
	}
}

static void reset(void)
{
	char cmd[192];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", root, root);
	if (system(cmd) != 0)
		exit(1);
}

static void describe(struct host_kvm *h, bool hv, const char *sig, char *buf, size_t len)
{
	h->hypervisor = hv;
	snprintf(h->hv_sig, sizeof(h->hv_sig), "%s", sig);
	host_kvm_describe(h, buf, len);
}

int main(void)
{
	struct host_kvm h;
	char line[512];

	snprintf(root, sizeof(root), "/tmp/kvmscope-host-kvm.%d", (int)getpid());

	/* this machine's kind: a software KVM inside a VM without DMI (the build machines) */
	reset();
	put("/sys/module/kvm_pvm", NULL);
	put("/sys/module/kvm", NULL);
	CHECK(host_kvm_probe(root, &h) == 0 && strcmp(h.module, "kvm_pvm") == 0,
	      "host_kvm: kvm_pvm found before kvm");
	CHECK(h.vendor[0] == 0 && h.product[0] == 0, "host_kvm: no DMI files, no vendor");
	describe(&h, true, "", line, sizeof(line));
	CHECK(strncmp(line, "kvm_pvm (software KVM", 21) == 0 && strstr(line, "machine: no DMI"),
	      "host_kvm: kvm_pvm named as a software KVM, no DMI said (%s)", line);

	/* L1: kvm_amd inside QEMU's emulator, SeaBIOS's DMI */
	reset();
	put("/sys/module/kvm", NULL);
	put("/sys/module/kvm_amd", NULL);
	put("/sys/class/dmi/id/sys_vendor", "QEMU\n");
	put("/sys/class/dmi/id/product_name", "Standard PC (i440FX + PIIX, 1996)\n");
	CHECK(host_kvm_probe(root, &h) == 0 && strcmp(h.module, "kvm_amd") == 0 &&
		  strcmp(h.vendor, "QEMU") == 0 &&
		  strcmp(h.product, "Standard PC (i440FX + PIIX, 1996)") == 0,
	      "host_kvm: kvm_amd and the DMI vendor and product, newlines cut");
	describe(&h, true, "TCGTCGTCGTCG", line, sizeof(line));
	CHECK(strstr(line, "kvm_amd inside a machine emulated by QEMU's emulator (TCG)") &&
		  strstr(line, "real-KVM harness") &&
		  strstr(line, "machine: QEMU Standard PC (i440FX + PIIX, 1996)"),
	      "host_kvm: kvm_amd under TCG is the real-KVM harness (%s)", line);
	describe(&h, true, "", line, sizeof(line));
	CHECK(strstr(line, "kvm_amd nested: KVM inside a virtual machine of QEMU"),
	      "host_kvm: QEMU's DMI without a signature: nested in QEMU, no accelerator claimed "
	      "(%s)",
	      line);

	/* nested on KVM: the signature says so whatever the DMI */
	describe(&h, true, "KVMKVMKVM", line, sizeof(line));
	CHECK(strstr(line, "kvm_amd nested: KVM inside a virtual machine of KVM"),
	      "host_kvm: the KVM signature names the outer hypervisor (%s)", line);

	/* hardware: no hypervisor bit, a real vendor */
	reset();
	put("/sys/module/kvm_intel", NULL);
	put("/sys/class/dmi/id/sys_vendor", "Dell Inc.\n");
	put("/sys/class/dmi/id/product_name", "PowerEdge R650\n");
	CHECK(host_kvm_probe(root, &h) == 0, "host_kvm: kvm_intel probed");
	describe(&h, false, "", line, sizeof(line));
	CHECK(strcmp(line, "kvm_intel (hardware KVM); machine: Dell Inc. PowerEdge R650") == 0,
	      "host_kvm: hardware KVM said plainly (%s)", line);

	/* no module at all */
	reset();
	CHECK(host_kvm_probe(root, &h) < 0 && h.module[0] == 0, "host_kvm: no module, -ENOENT");
	describe(&h, false, "", line, sizeof(line));
	CHECK(strncmp(line, "no kvm module loaded", 20) == 0, "host_kvm: no module said (%s)",
	      line);

	/* this machine, for the log: whatever it is, one line and no made-up value */
	host_kvm_probe("", &h);
	host_kvm_cpuid(&h);
	host_kvm_describe(&h, line, sizeof(line));
	CHECK(line[0] && strlen(line) < sizeof(line) - 1, "host_kvm: this machine: %s", line);

	reset();
	rmdir(root);
	return CHECK_DONE();
}
