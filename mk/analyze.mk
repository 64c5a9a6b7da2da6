# Analysis (issue #8): `minflux analyze DIR` (raw reader with damage report, HMM
# segmentation, numLMS and 2D MLE refinement, MSD/OLSF, tracking error, plots, .npy
# export), `minflux localize --estimator numlms|mle`, `minflux crb --map`.
HOST_SRCS += host/analyze_raw.c host/npy.c host/hmm.c host/numlms.c
HOST_SRCS += host/mle2d.c host/olsf.c host/plot.c host/analyze.c host/analyze_out.c host/cmd_analyze.c
HOST_LIBS += $(shell pkg-config --libs cairo fontconfig)
CFLAGS_H  += $(shell pkg-config --cflags cairo fontconfig)

# Synthetic acquisitions (tests/test_analyze_gen.c): tracking, imaging and static runs in
# the raw.mfx format, written with the protocol library's encoder.
ALL_TARGETS += $(BUILD)/tests/test_analyze_gen

ALL_TARGETS += $(BUILD)/tests/test_analyze
TESTS += analyze_unit
CMD_analyze_unit = $(BUILD)/tests/test_analyze

# End to end: synthetic tracking/imaging runs, damaged raw files, numpy load of export.npy,
# a short virtual-board run, localize numlms|mle, crb --map (random seed, printed).
TESTS += analyze_cli
CMD_analyze_cli = tests/test_analyze.sh $(BUILD)/minflux $(BUILD)/tests/test_analyze_gen

# 10^6 records on one core in < 30 s.
BENCHES += bench_analyze
CMD_bench_analyze = tests/bench_analyze.sh $(BUILD)/minflux $(BUILD)/tests/test_analyze_gen

# The same two tests on AddressSanitizer + UndefinedBehaviorSanitizer builds (compiler and
# options of mk/sanitize.mk, objects in its build-asan/; any report aborts the test).
ANALYZE_ASAN_TARGETS = $(ASAN_BUILD)/minflux $(ASAN_BUILD)/tests/test_analyze $(ASAN_BUILD)/tests/test_analyze_gen
TESTS += analyze_asan
CMD_analyze_asan = $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC="$(ASAN_CC)" $(ANALYZE_ASAN_TARGETS) \
  >$(BUILD)/asan-analyze.log 2>&1 || { cat $(BUILD)/asan-analyze.log; exit 1; }; \
  $(ASAN_ENV) $(ASAN_BUILD)/tests/test_analyze >$(BUILD)/asan-analyze-unit.log 2>&1 \
  || { cat $(BUILD)/asan-analyze-unit.log; exit 1; }; tail -1 $(BUILD)/asan-analyze-unit.log; \
  $(ASAN_ENV) MINFLUX_VBOARD=$(BUILD)/vl/vboard/vboard tests/test_analyze.sh $(ASAN_BUILD)/minflux $(ASAN_BUILD)/tests/test_analyze_gen
