# tests/fuzz/fuzz.mk - the fuzz targets (included by the Makefile; docs/reliability.md).
# make fuzz         libFuzzer (clang) on each target for FUZZ_TIME seconds, from the committed
#                   corpus; prints executions, coverage and findings per target
# make fuzz-replay  each target once on every committed input (corpus and regressions), built
#                   with the sanitizer build (build-asan, gcc): `make check` runs it
FUZZ_TARGETS := trace import_qemu import_bpftrace boot pci blk
FUZZ_TIME    ?= 180
FUZZ_PKGS    := clang libclang-rt-14-dev
FUZZ_COMMON  := tests/fuzz/common.c

.PHONY: fuzz fuzz-bins fuzz-replay fuzz-deps

fuzz-deps:
	@sh tests/deps.sh $(FUZZ_PKGS)

fuzz: fuzz-deps
	$(MAKE) BUILD=build-fuzz SANITIZE=fuzz CC=clang fuzz-bins
	sh tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

fuzz-replay:
	$(MAKE) BUILD=build-asan SANITIZE=1 $(FUZZ_TARGETS:%=build-asan/fuzz/replay_%)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON) tests/fuzz/fuzz.h $(BUILD)/libkvmscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c,$^) $(BUILD)/libkvmscope.a $(LDLIBS)

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c $(FUZZ_COMMON) tests/fuzz/replay.c tests/fuzz/fuzz.h \
			$(BUILD)/libkvmscope.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^) $(BUILD)/libkvmscope.a $(LDLIBS)
