# kvmscope - one binary, one Makefile. `make demo` and `make check` are the two front doors.

CC       ?= gcc
BUILD    ?= build
CFLAGS   ?= -O2 -g
# SANITIZE=1 (make asan): AddressSanitizer and UBSan, objects in build-asan/.
ifeq ($(SANITIZE),1)
CFLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# SANITIZE=fuzz (make fuzz, with CC=clang): the same plus libFuzzer's coverage, in build-fuzz/.
ifeq ($(SANITIZE),fuzz)
CFLAGS   := -O1 -g -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
endif
# SANITIZE=thread (make tsan): ThreadSanitizer, objects in build-tsan/; gcc cannot model the full
# fences of vq_should_signal/vq_set_notify (-Wtsan), which order guest memory, not our threads.
ifeq ($(SANITIZE),thread)
CFLAGS   := -O1 -g -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
endif
CFLAGS   += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread -MMD -MP -I. -I$(BUILD)
LDLIBS   += -lelf -lpthread

# liburing is optional: without it `--blk-io=uring` says it is unavailable.
HAVE_URING := $(shell pkg-config --exists liburing 2>/dev/null && echo 1)
ifeq ($(HAVE_URING),1)
CFLAGS   += -DHAVE_LIBURING
LDLIBS   += -luring
endif
NCURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)
LDLIBS   += $(NCURSES_LIBS)

# trace/'s rooms (view/, compare/, report/) are folders of their own: one wildcard level deeper.
LIB_SRCS  := $(sort $(wildcard kvm/*.c pci/*.c virtio/*.c blk/*.c trace/*.c trace/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# Where `make install` puts things; DESTDIR is prepended to each (packaging, make check).
# The binary looks for its guests and demo trace in GUESTDIR and DATADIR (build-info.h).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/kvmscope
GUESTDIR   ?= $(DATADIR)
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/kvmscope
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

# The version: `git describe` of this checkout; the release number in VERSION when built from a
# tarball (no .git of its own). A tagless history describes as RELEASE-gHASH.
RELEASE := $(shell cat VERSION)
VERSION := $(shell [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ] && \
	{ git describe --tags --dirty 2>/dev/null | sed -n 's/^v//; p; q' | grep . || \
	  echo "$(RELEASE)-g$$(git describe --always --dirty)"; })
VERSION := $(or $(VERSION),$(RELEASE))

# Debian packages the host build, the guest build and the tests need.
HOST_PKGS  := gcc make pkg-config libelf-dev libncurses-dev linux-libc-dev
# gnuplot-nox draws kvmscope bench's chart (without it: no chart.png, said so)
OPT_PKGS   := liburing-dev tmux bpftrace gnuplot-nox
# the tests' tools: pgrep (view.sh), python3's json module (the chrome export's check), man and
# bash-completion's loader (install.sh checks the installed man pages and completion),
# qemu-storage-daemon (the vhost-user-blk backend of vhost_user.sh), strace (durability.sh sees
# RWF_DSYNC on writethrough writes)
TEST_PKGS  := procps python3 man-db bash-completion qemu-system-common strace
GUEST_PKGS := linux-source-6.1 xz-utils patch flex bison bc libelf-dev busybox-static cpio
# L1, the emulated machine with a real KVM (guest/l1/): QEMU, and what builds its image from
# Debian's kernel package (apt-get download, dpkg-deb, depmod). L1=0 leaves it out of make check.
L1_PKGS    := qemu-system-x86 busybox-static cpio kmod dpkg apt coreutils
L1         ?= 1
L1_OUT     := guest/out/l1

.PHONY: all guest guest-linux guest-deps mini tools check test unit demo deps test-deps asan tsan tsan-build clean format help \
	FORCE man install install-guest uninstall deb dist version l1 l1-deps

all: kvmscope

help:
	@echo "make            build ./kvmscope"
	@echo "make demo       install what is missing, build kvmscope and the guest, boot Linux"
	@echo "make check      build everything and run every test"
	@echo "make guest      build guest/out/{vmlinux,bzImage,initrd.img,disk.img,mini.elf}"
	@echo "make asan       build ./kvmscope-asan with AddressSanitizer and UBSan"
	@echo "make tsan       run the unit tests with threads (IO threads, resets) under ThreadSanitizer"
	@echo "make fuzz       run each libFuzzer target for FUZZ_TIME seconds (docs/reliability.md)"
	@echo "make install    install under PREFIX (/usr/local), DESTDIR honoured; make uninstall"
	@echo "make install-guest  build the Linux guest and install it (only it) in GUESTDIR"
	@echo "make deb        build the Debian package in build/deb/ (dpkg-buildpackage, lintian)"
	@echo "make l1         build L1, the emulated machine with a real KVM (guest/l1/run.sh runs in it)"
	@echo "                make check and make demo use it; L1=0 turns it off"

kvmscope: $(BUILD)/main.o $(BUILD)/libkvmscope.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Rewritten only when its text changes, so a new commit recompiles the two files that include it.
$(BUILD)/build-info.h: FORCE
	@mkdir -p $(BUILD)
	@printf '%s\n' '/* Generated by the Makefile: the version and where make install puts things. */' \
		'#define KVMSCOPE_VERSION "$(VERSION)"' '#define KVMSCOPE_BINDIR "$(BINDIR)"' \
		'#define KVMSCOPE_DATADIR "$(DATADIR)"' '#define KVMSCOPE_GUESTDIR "$(GUESTDIR)"' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/main.o $(BUILD)/kvm/shipped.o: $(BUILD)/build-info.h

$(BUILD)/libkvmscope.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# kvm/sandbox.c names a refused system call: the x86-64 numbers of <asm/unistd_64.h> as a table.
$(BUILD)/gen/kvm/syscall-names.h:
	@mkdir -p $(dir $@)
	echo | $(CC) -E -dM -include asm/unistd_64.h - | \
		sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$$/[\2] = "\1",/p' >$@.tmp
	@test -s $@.tmp || { echo "no system call numbers in asm/unistd_64.h" >&2; exit 1; }
	mv $@.tmp $@
$(BUILD)/kvm/sandbox.o: $(BUILD)/gen/kvm/syscall-names.h
$(BUILD)/kvm/sandbox.o: CFLAGS += -I$(BUILD)/gen

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkvmscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libkvmscope.a $(LDLIBS)

asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 kvmscope-asan

# The unit tests whose device runs threads beside the test's own, and the trace's ring, writer and
# pause/resume (test_trace); a data race fails the run (ThreadSanitizer's exit status 66).
TSAN_TESTS := test_blk test_blk_mq test_blk_inorder test_blk_reset test_trace
# make check builds them (tsan-build) and tests/integration/tsan.sh runs them.
tsan-build:
	$(MAKE) BUILD=build-tsan SANITIZE=thread $(TSAN_TESTS:%=build-tsan/tests/%)
tsan: tsan-build
	@for t in $(TSAN_TESTS); do echo "== $$t (ThreadSanitizer)"; \
		TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/$$t || exit 1; done

kvmscope-asan: $(BUILD)/main.o $(BUILD)/libkvmscope.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Install what is missing (root, apt-get); names the package that failed.
deps:
	@sh tests/deps.sh $(HOST_PKGS) -- $(OPT_PKGS)

test-deps:
	@sh tests/deps.sh $(TEST_PKGS)

guest-deps:
	@sh tests/deps.sh $(GUEST_PKGS)

guest: guest-linux mini

guest-linux: guest-deps
	$(MAKE) -C guest -f linux.mk

mini:
	$(MAKE) -C guest/mini

l1-deps:
	@sh tests/deps.sh $(L1_PKGS)

l1: l1-deps $(L1_OUT)/vmlinuz

$(L1_OUT)/vmlinuz: guest/l1/build.sh guest/l1/init | l1-deps
	@sh guest/l1/build.sh $(L1_OUT)

unit: $(TEST_BINS)

tools:
	$(MAKE) -C tests/tools

check: deps test-deps guest-deps
	$(MAKE) kvmscope unit mini tools
	$(MAKE) guest-linux
	$(MAKE) -C guest -f linux.mk smp
	$(MAKE) asan fuzz-replay tsan-build
	$(if $(filter 0,$(L1)),,$(MAKE) l1)
	L1=$(L1) sh tests/run.sh

test: kvmscope unit mini tools
	sh tests/run.sh

# Where the guest can boot is asked first: no minutes of building for a demo that cannot run.
# Nowhere (no KVM, no L1): only kvmscope is built, and the shipped trace is shown. An L1 that
# cannot be set up (its packages, its image) falls back to the shipped trace as well.
demo:
	@where=$$(L1=$(L1) sh tests/demo.sh --where) || exit 2; l1=$(L1); \
	if [ "$$where" = trace ]; then $(MAKE) deps && $(MAKE) kvmscope || exit 1; \
	else $(MAKE) deps guest-deps && $(MAKE) kvmscope guest || exit 1; \
		[ "$$where" = here ] || $(MAKE) l1-deps l1 || \
		{ l1=0; echo "demo: L1 could not be set up here (above)"; }; fi; \
	L1=$$l1 sh tests/demo.sh

# --- Installing: make install [PREFIX=/usr/local] [DESTDIR=...]; make uninstall the same way. ---
# The Linux guest goes in only when it has been built (make guest-linux, or make install-guest).
INSTALL      ?= install
LINUX_GUEST  := $(wildcard guest/out/vmlinux guest/out/initrd.img guest/out/disk.img)
TRACES       := $(wildcard docs/traces/*.kvt)
QEMU_LOGS    := $(wildcard tests/fixtures/qemu-*.log)
DOCS         := $(wildcard docs/*.md)

# The man pages, from the binary's own --help texts (docs/man/mkman.sh), one per command.
man: kvmscope
	@rm -rf $(BUILD)/man
	DATADIR=$(DATADIR) GUESTDIR=$(GUESTDIR) DOCDIR=$(DOCDIR) sh docs/man/mkman.sh ./kvmscope $(BUILD)/man

install: kvmscope mini man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(GUESTDIR) $(DESTDIR)$(DATADIR)/traces \
		$(DESTDIR)$(DATADIR)/qemu $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DOCDIR)/docs
	$(INSTALL) -m 755 kvmscope $(DESTDIR)$(BINDIR)/kvmscope
	$(INSTALL) -m 644 guest/out/mini.elf $(LINUX_GUEST) $(DESTDIR)$(GUESTDIR)/
	$(if $(TRACES),$(INSTALL) -m 644 $(TRACES) $(DESTDIR)$(DATADIR)/traces/)
	$(INSTALL) -m 644 $(QEMU_LOGS) $(DESTDIR)$(DATADIR)/qemu/
	$(INSTALL) -m 755 trace/compare/kvm.bt trace/report/bench.sh $(DESTDIR)$(DATADIR)/
	$(INSTALL) -m 644 $(addprefix $(BUILD)/man/,$(shell cat $(BUILD)/man/pages)) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 docs/completion/kvmscope.bash $(DESTDIR)$(BASHCOMPDIR)/kvmscope
	$(INSTALL) -m 644 README.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 644 $(DOCS) $(DESTDIR)$(DOCDIR)/docs/
	@$(if $(LINUX_GUEST),,echo "install: no Linux guest in guest/out (make install-guest builds and installs it); 'kvmscope run' without --kernel will boot the mini guest")

# The Linux guest alone (minutes: it builds a kernel), into GUESTDIR; kept out of `make deb`. For
# the Debian package's kvmscope: make install-guest GUESTDIR=/usr/lib/kvmscope (as root).
install-guest: guest-linux
	$(INSTALL) -d $(DESTDIR)$(GUESTDIR)
	$(INSTALL) -m 644 guest/out/vmlinux guest/out/initrd.img guest/out/disk.img $(DESTDIR)$(GUESTDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kvmscope $(DESTDIR)$(BASHCOMPDIR)/kvmscope \
		$(DESTDIR)$(MANDIR)/man1/kvmscope.1 $(DESTDIR)$(MANDIR)/man1/kvmscope-*.1
	rm -f $(addprefix $(DESTDIR)$(GUESTDIR)/,mini.elf vmlinux initrd.img disk.img)
	rm -rf $(DESTDIR)$(DATADIR)/traces $(DESTDIR)$(DATADIR)/qemu $(DESTDIR)$(DATADIR)/kvm.bt $(DESTDIR)$(DATADIR)/bench.sh \
		$(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(GUESTDIR) $(DESTDIR)$(DATADIR) 2>/dev/null

# A source tarball: no .git in it, so its kvmscope --version is the release number in VERSION.
dist:
	git archive --prefix=kvmscope-$(RELEASE)/ -o kvmscope-$(RELEASE).tar.gz HEAD
	@echo "dist: kvmscope-$(RELEASE).tar.gz (HEAD; uncommitted changes are not in it)"

# The Debian package (debian/, tests/deb.sh): dpkg-buildpackage, then lintian. Only make deb
# installs these (as root); CI's make check does not build the package.
DEB_PKGS := dpkg-dev debhelper lintian
deb:
	@DEB_PKGS="$(DEB_PKGS)" sh tests/deb.sh

version:
	@echo $(VERSION)

format:
	clang-format -i main.c $(LIB_SRCS) $(wildcard */*.h */*/*.h) $(TEST_SRCS)

clean:
	rm -rf build build-asan build-fuzz build-tsan kvmscope kvmscope-asan

include tests/fuzz/fuzz.mk

-include $(LIB_OBJS:.o=.d) $(BUILD)/main.d $(TEST_BINS:=.d)
