/* tests/unit/test_pci_qemu.c - kvmscope's virtio-blk-pci function against QEMU 7.2's, byte for
 * byte: the whole config space and each BAR's sizing answer, in the legacy, transitional and
 * modern modes. QEMU's side is tests/fixtures/qemu-pci-MODE.txt (tests/tools/qemu-pcidump.sh);
 * the only bits allowed to differ are the rows of docs/pci.md's table, read from that file, so
 * the documentation and the test cannot drift apart. Run from the repository root. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "blk/blk.h"
#include "tests/check.h"
#include "tests/unit/test_pci_harness.h"
#include "virtio/virtio.h"

#define TABLE_DOC  "docs/pci.md"
#define TABLE_MARK "<!-- config-differences"

struct dump {
	uint8_t cfg[PCI_CFG_SIZE];
	uint32_t sizing[PCI_STD_NUM_BARS];
	unsigned rows, sizings; /* how many of each the file had */
};

/* "XX: b0 .. b15" rows and "sizing XX: VALUE" lines; '#' lines are the file's provenance. */
static int load_dump(const char *path, struct dump *d)
{
	char line[256];
	FILE *f = fopen(path, "r");

	memset(d, 0, sizeof(*d));
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned off, v, b[16];

		if (sscanf(line, "sizing %x: %x", &off, &v) == 2 && off >= PCI_BASE_ADDRESS_0 &&
		    off <= PCI_BASE_ADDRESS_5 && off % 4 == 0) {
			d->sizing[(off - PCI_BASE_ADDRESS_0) / 4] = v;
			d->sizings++;
		} else if (sscanf(line, "%x: %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x", &off,
				  &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8],
				  &b[9], &b[10], &b[11], &b[12], &b[13], &b[14], &b[15]) == 17 &&
			   off % 16 == 0 && off < PCI_CFG_SIZE) {
			for (int i = 0; i < 16; i++)
				d->cfg[off + i] = b[i];
			d->rows++;
		}
	}
	fclose(f);
	return 0;
}

/* The table after TABLE_MARK: rows "| `0xA` | `0xM` | ..." or "| `0xA-0xB` | `0xM` | ...",
 * until the first line that is not a table row. Returns the rows read, -1 without the file. */
static int load_allowed(uint8_t allowed[PCI_CFG_SIZE])
{
	char line[1024];
	FILE *f = fopen(TABLE_DOC, "r");
	int rows = 0, in_table = 0;

	memset(allowed, 0, PCI_CFG_SIZE);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned lo, hi, mask;

		if (!in_table) {
			in_table = !strncmp(line, TABLE_MARK, strlen(TABLE_MARK));
			continue;
		}
		if (line[0] != '|')
			break;
		if (sscanf(line, "| `0x%x-0x%x` | `0x%x` |", &lo, &hi, &mask) == 3 ||
		    (sscanf(line, "| `0x%x` | `0x%x` |", &lo, &mask) == 2 && (hi = lo, 1))) {
			for (unsigned o = lo; o <= hi && o < PCI_CFG_SIZE; o++)
				allowed[o] |= mask;
			rows++;
		}
	}
	fclose(f);
	return rows;
}

/* What the guest reads: every byte through conf1, and each BAR's answer to all ones. */
static void read_kvmscope(int slot, struct dump *d)
{
	for (unsigned off = 0; off < PCI_CFG_SIZE; off += 4) {
		uint32_t v = cfg_rd(slot, off, 4);

		memcpy(&d->cfg[off], &v, 4);
	}
	for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
		uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * i, orig = cfg_rd(slot, reg, 4);

		cfg_wr(slot, reg, 0xffffffffu, 4);
		d->sizing[i] = cfg_rd(slot, reg, 4);
		cfg_wr(slot, reg, orig, 4);
	}
}

static void compare(const char *mode, int slot, const uint8_t allowed[PCI_CFG_SIZE])
{
	char path[128];
	struct dump q, k;
	unsigned strict = 0, bad = 0, excused = 0;

	snprintf(path, sizeof(path), "tests/fixtures/qemu-pci-%s.txt", mode);
	CHECK(load_dump(path, &q) == 0 && q.rows == 16 && q.sizings == PCI_STD_NUM_BARS,
	      "%s: QEMU's dump has 16 rows and 6 sizing answers", path);
	read_kvmscope(slot, &k);
	for (unsigned o = 0; o < PCI_CFG_SIZE; o++) {
		uint8_t x = q.cfg[o] ^ k.cfg[o];

		strict += allowed[o] == 0;
		excused += x && !(x & ~allowed[o]);
		if ((x & ~allowed[o]) && bad++ < 16)
			printf(
			    "  %s: 0x%02x: QEMU 0x%02x, kvmscope 0x%02x (bits 0x%02x not in %s)\n",
			    mode, o, q.cfg[o], k.cfg[o], x & ~allowed[o], TABLE_DOC);
	}
	CHECK(bad == 0, "%s: config space is QEMU 7.2's but for %u documented bytes (%u differ)",
	      mode, excused, bad);
	CHECK(strict >= 220, "%s: %u of 256 bytes compared exactly", mode, strict);
	for (int i = 0; i < PCI_STD_NUM_BARS; i++)
		CHECK(k.sizing[i] == q.sizing[i], "%s: BAR%d sizing reads 0x%08x (QEMU 0x%08x)",
		      mode, i, k.sizing[i], q.sizing[i]);
}

int main(void)
{
	static const struct {
		const char *name;
		enum virtio_pci_mode mode;
	} modes[] = {
	    {"legacy", VIRTIO_PCI_LEGACY},
	    {"transitional", VIRTIO_PCI_TRANSITIONAL},
	    {"modern", VIRTIO_PCI_MODERN},
	};
	struct virtio_dev *vdev[3] = {0};
	char disk[3][40];
	uint8_t allowed[PCI_CFG_SIZE];
	int rows = load_allowed(allowed);

	CHECK(rows >= 5, "%s: %d rows of allowed differences after '%s'", TABLE_DOC, rows,
	      TABLE_MARK);
	CHECK(harness_init() == 0, "a PCI bus without KVM");
	for (int m = 0; m < 3; m++) {
		struct blk_config cfg = {.path = disk[m], .io = BLK_IO_VCPU};
		bool ok;
		int fd;

		/* One disk each: a device locks its file. */
		snprintf(disk[m], sizeof(disk[m]), "/tmp/kvmscope-test-pci-qemu-XXXXXX");
		fd = mkstemp(disk[m]);
		if (fd >= 0 && ftruncate(fd, 1 << 20) < 0)
			disk[m][0] = 0;
		if (fd >= 0)
			close(fd);
		/* QEMU's default: MSI-X with num_queues + 1 vectors. */
		ok = fd >= 0 && blk_create(&vm, &cfg, &vdev[m]) == 0 &&
		     virtio_pci_create(&pci, vdev[m], modes[m].mode, true) == 0;
		CHECK(ok, "%s virtio-blk-pci at slot %d", modes[m].name, m + 1);
		if (ok)
			compare(modes[m].name, m + 1, allowed);
	}
	pci_destroy(&pci);
	for (int m = 0; m < 3; m++) {
		if (vdev[m])
			blk_destroy(vdev[m]);
		unlink(disk[m]);
	}
	return CHECK_DONE();
}
