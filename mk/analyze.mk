# Analysis (issue #8): `minflux analyze DIR` (raw reader with damage report, HMM
# segmentation, numLMS and 2D MLE refinement, MSD/OLSF, tracking error, plots, .npy
# export), `minflux localize --estimator numlms|mle`, `minflux crb --map`.
HOST_SRCS += host/analyze_raw.c host/npy.c host/hmm.c host/numlms.c
HOST_SRCS += host/mle2d.c host/olsf.c host/plot.c host/analyze.c host/analyze_out.c host/cmd_analyze.c
HOST_LIBS += $(shell pkg-config --libs cairo)
CFLAGS_H  += $(shell pkg-config --cflags cairo)

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
