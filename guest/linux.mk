# guest/linux.mk: the Linux guest for kvmscope, built from Debian's linux-source-6.1.
# From the top: `make guest-linux`, which runs `$(MAKE) -C guest -f linux.mk`. Produces, in guest/out/:
#   vmlinux     ELF kernel with a PVH entry note (boot this on kvm_pvm, see docs/guest.md)
#   bzImage     the same kernel for bzImage loaders (hardware KVM)
#   initrd.img  uncompressed newc cpio: static busybox + initrd/init
#   disk.img    64 MiB raw disk for virtio-blk (made once, never overwritten)
# `make -C guest -f linux.mk bench` adds initrd-fio.img: the same with a static fio (built from
# Debian's source package) and guest/bench/init, for tests/bench/fio.sh (docs/bench.md).
# `make -C guest -f linux.mk smp` adds vmlinux-smp: the same kernel with CONFIG_SMP
# (config/smp.config), in its own build dir, for `kvmscope run --smp N`.
# Each is rebuilt only when its inputs change. Details: docs/guest.md, docs/guest-patches.md.

OUT      := out
TARBALL  ?= /usr/src/linux-source-6.1.tar.xz
SRC      := $(OUT)/linux-source-6.1
KBUILD   := $(OUT)/linux-build
FRAGMENT := config/kvmscope.config
PATCHES  := $(sort $(wildcard patches/*.patch))
BUSYBOX  ?= /bin/busybox
JOBS     ?= 2
PKGS     := linux-source-6.1 xz-utils patch flex bison bc libelf-dev gcc make binutils busybox-static cpio

.PHONY: all bench smp deps bench-deps clean distclean
all: $(OUT)/vmlinux $(OUT)/bzImage $(OUT)/initrd.img $(OUT)/disk.img
bench: $(OUT)/vmlinux $(OUT)/initrd-fio.img

deps:
	@sh ../tests/deps.sh $(PKGS)

# Files from packages: after `deps` has installed what was missing, they must be there.
$(TARBALL) $(BUSYBOX): | deps
	@test -r $@ || { echo "guest: $@ missing (PKGS in guest/linux.mk, installed by tests/deps.sh)" >&2; exit 1; }

$(SRC)/.kvmscope-patched: $(TARBALL) $(PATCHES) build-source.sh | deps
	@sh build-source.sh $(TARBALL) $(SRC) $(PATCHES)

$(KBUILD)/.config: $(FRAGMENT) $(SRC)/.kvmscope-patched build-config.sh
	@sh build-config.sh $(SRC) $(KBUILD) $(FRAGMENT)

$(OUT)/vmlinux: $(KBUILD)/.config $(SRC)/.kvmscope-patched build-linux.sh
	@bash build-linux.sh $(SRC) $(KBUILD) $(JOBS) vmlinux bzImage
	cp $(KBUILD)/vmlinux $@.tmp && mv $@.tmp $@
	cp $(KBUILD)/arch/x86/boot/bzImage $(OUT)/bzImage

$(OUT)/bzImage: $(OUT)/vmlinux
	@test -f $@ || { bash build-linux.sh $(SRC) $(KBUILD) $(JOBS) bzImage && \
		cp $(KBUILD)/arch/x86/boot/bzImage $@; }

# The SMP kernel: kvmscope.config without its "CONFIG_SMP is not set", plus smp.config.
KBUILD_SMP := $(OUT)/linux-build-smp
smp: $(OUT)/vmlinux-smp $(OUT)/initrd.img $(OUT)/disk.img

$(OUT)/smp-fragment.config: $(FRAGMENT) config/smp.config
	@mkdir -p $(OUT)
	grep -vx '# CONFIG_SMP is not set' $(FRAGMENT) >$@.tmp && cat config/smp.config >>$@.tmp && mv $@.tmp $@

$(KBUILD_SMP)/.config: $(OUT)/smp-fragment.config $(SRC)/.kvmscope-patched build-config.sh
	@sh build-config.sh $(SRC) $(KBUILD_SMP) $(OUT)/smp-fragment.config

$(OUT)/vmlinux-smp: $(KBUILD_SMP)/.config $(SRC)/.kvmscope-patched build-linux.sh
	@bash build-linux.sh $(SRC) $(KBUILD_SMP) $(JOBS) vmlinux
	cp $(KBUILD_SMP)/vmlinux $@.tmp && mv $@.tmp $@

# The kernel's own cpio writer: device nodes without root, same bytes for the same inputs.
$(OUT)/gen_init_cpio: | $(SRC)/.kvmscope-patched
	$(CC) -O2 -o $@ $(SRC)/usr/gen_init_cpio.c

# The fio that tests/bench/fio.sh runs in the guest: by default a static one built from Debian's fio
# source package (bench/build-fio.sh); FIO=/usr/bin/fio takes Debian's dynamically linked binary,
# whose 63 shared objects cost minutes per boot here (docs/bench.md).
FIO      ?= $(OUT)/fio
FIO_PKGS := dpkg-dev libaio-dev zlib1g-dev binutils
bench-deps:
	@sh ../tests/deps.sh $(if $(filter $(OUT)/fio,$(FIO)),$(FIO_PKGS),fio)
$(OUT)/fio: bench/build-fio.sh | bench-deps
	@JOBS=$(JOBS) sh bench/build-fio.sh $@ $(OUT)/fio-build
ifneq ($(FIO),$(OUT)/fio)
$(FIO): | bench-deps
	@test -x $@ || { echo "guest: $@ missing (package fio, installed by tests/deps.sh)" >&2; exit 1; }
endif

$(OUT)/initrd-fio.img: bench/init bench/build.sh initrd/fstab build-initrd.sh $(BUSYBOX) $(FIO) \
		$(OUT)/gen_init_cpio | deps
	@sh bench/build.sh $@ $(OUT)/gen_init_cpio $(BUSYBOX) $(FIO)

$(OUT)/initrd.img: initrd/init initrd/fstab build-initrd.sh $(BUSYBOX) $(OUT)/gen_init_cpio | deps
	@sh build-initrd.sh $@ $(OUT)/gen_init_cpio initrd $(BUSYBOX)

# Made only when missing: it holds what the guest wrote.
$(OUT)/disk.img:
	@mkdir -p $(OUT)
	truncate -s 64M $@

# guest/out/ is shared with the other guests (mini): remove only what this file makes.
clean:
	rm -rf $(KBUILD) $(KBUILD_SMP) $(OUT)/vmlinux $(OUT)/vmlinux-smp $(OUT)/smp-fragment.config \
		$(OUT)/bzImage $(OUT)/initrd.img $(OUT)/initrd-fio.img \
		$(OUT)/gen_init_cpio $(OUT)/fio $(OUT)/fio-build

distclean: clean
	rm -rf $(SRC) $(OUT)/disk.img
