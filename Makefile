# kvmscope - one binary, one Makefile. `make demo` and `make check` are the two front doors.

CC       ?= gcc
BUILD    ?= build
CFLAGS   ?= -O2 -g
# SANITIZE=1 (make asan): AddressSanitizer and UBSan, objects in build-asan/.
ifeq ($(SANITIZE),1)
CFLAGS   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
CFLAGS   += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -pthread -MMD -MP -I.
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

# Debian packages the host build, the guest build and the tests need.
HOST_PKGS  := gcc make pkg-config libelf-dev libncurses-dev linux-libc-dev
OPT_PKGS   := liburing-dev tmux bpftrace
# the tests' tools: pgrep (view.sh), python3's json module (the chrome export's check)
TEST_PKGS  := procps python3
GUEST_PKGS := linux-source-6.1 xz-utils patch flex bison bc libelf-dev busybox-static cpio
# L1, the emulated machine with a real KVM (guest/l1/): QEMU, and what builds its image from
# Debian's kernel package (apt-get download, dpkg-deb, depmod). L1=0 leaves it out of make check.
L1_PKGS    := qemu-system-x86 busybox-static cpio kmod dpkg apt coreutils
L1         ?= 1
L1_OUT     := guest/out/l1

.PHONY: all guest guest-linux guest-deps mini tools check test unit demo deps test-deps asan clean format help \
	l1 l1-deps

all: kvmscope

help:
	@echo "make            build ./kvmscope"
	@echo "make demo       install what is missing, build kvmscope and the guest, boot Linux"
	@echo "make check      build everything and run every test"
	@echo "make guest      build guest/out/{vmlinux,bzImage,initrd.img,disk.img,mini.elf}"
	@echo "make asan       build ./kvmscope-asan with AddressSanitizer and UBSan"
	@echo "make l1         build L1, the emulated machine with a real KVM (guest/l1/run.sh runs in it)"
	@echo "                make check and make demo use it; L1=0 turns it off"

kvmscope: $(BUILD)/main.o $(BUILD)/libkvmscope.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libkvmscope.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkvmscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libkvmscope.a $(LDLIBS)

asan:
	$(MAKE) BUILD=build-asan SANITIZE=1 kvmscope-asan

kvmscope-asan: $(BUILD)/main.o $(BUILD)/libkvmscope.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

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
	$(MAKE) asan
	$(if $(filter 0,$(L1)),,$(MAKE) l1)
	L1=$(L1) sh tests/run.sh

test: kvmscope unit mini tools
	sh tests/run.sh

# Where the guest can boot is asked first: no minutes of building for a demo that cannot run.
demo:
	@where=$$(L1=$(L1) sh tests/demo.sh --where) || exit 2; \
	l1=; [ "$$where" = l1 ] && l1=l1; \
	$(MAKE) deps guest-deps $${l1:+l1-deps} && $(MAKE) kvmscope guest $$l1 && L1=$(L1) sh tests/demo.sh

format:
	clang-format -i main.c $(LIB_SRCS) $(wildcard */*.h */*/*.h) $(TEST_SRCS)

clean:
	rm -rf build build-asan kvmscope kvmscope-asan

-include $(LIB_OBJS:.o=.d) $(BUILD)/main.d $(TEST_BINS:=.d)
