# Bayesian MINFLUX (issue #6): float reference and D(sigma) tool (host/bayes_float.c,
# `minflux bayes`), unit tests, and the photon-efficiency benchmark against the hexagon mode.
FLOAT_SRCS  += host/bayes_float.c
HOST_SRCS   += host/cmd_bayes.c

ALL_TARGETS += $(BUILD)/tests/test_bayes $(BUILD)/tests/bench_bayes
TESTS += bayes_unit bayes_cli
CMD_bayes_unit = $(BUILD)/tests/test_bayes
CMD_bayes_cli  = tests/test_cli_bayes.sh $(BUILD)/minflux

# The benchmark plots with libcairo.
$(BUILD)/obj/tests/bench_bayes.o: CFLAGS_H += $(shell pkg-config --cflags cairo)
$(BUILD)/tests/bench_bayes: HOST_LIBS += $(shell pkg-config --libs cairo)

# `make bench-bayes`: mu = 0.1, b = 0.01; `make bench-bayes-full`: mu in {0.1, 0.5, 2} x
# b in {0.01, 0.05}. BAYES_RUNS localizations per setting (>= 500), a new seed each time
# (printed; BAYES_SEED=S repeats a run). Results in $(BUILD)/bench_bayes/.
BAYES_RUNS ?= 500
BAYES_SEED ?= $(shell date +%s)
.PHONY: bench-bayes bench-bayes-full
bench-bayes: deps
	@$(MAKE) --no-print-directory $(BUILD)/tests/bench_bayes
	$(BUILD)/tests/bench_bayes --runs $(BAYES_RUNS) --seed $(BAYES_SEED) --out $(BUILD)/bench_bayes
bench-bayes-full: deps
	@$(MAKE) --no-print-directory $(BUILD)/tests/bench_bayes
	$(BUILD)/tests/bench_bayes --full --runs $(BAYES_RUNS) --seed $(BAYES_SEED) --out $(BUILD)/bench_bayes
