# Fuzzing (issue #9): clang libFuzzer targets tests/fuzz/fuzz_NAME.c with ASan + UBSan,
# linked against the host library and the models compiled again with clang into
# $(BUILD)/fuzz/. Seed corpora in tests/fuzz/corpus/NAME/ (read only; new inputs go to
# $(BUILD)/fuzz/work/NAME). `make test` runs the test `fuzz_smoke` (FUZZ_SMOKE_S seconds
# per target); `make fuzz-bench` (also in `make bench`) runs FUZZ_RUNS executions per
# target (FUZZ_SLOW_RUNS for FUZZ_SLOW) and prints execs and crashes; `make fuzz-build` builds only.
FUZZ_TARGETS  := protocol rawfile config scenario localize npy modedecode
FUZZ_BUILD     = $(BUILD)/fuzz
FUZZ_CC       ?= clang
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS    = -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                 -Wall -Wextra $(filter-out -std=% -O% -g -Wall -Wextra -Werror,$(CFLAGS_H))
FUZZ_SMOKE_S  ?= 3
FUZZ_RUNS     ?= 1000000
# targets that decode whole acquisitions (tens of executions per second): fewer runs in the bench
FUZZ_SLOW     := modedecode
FUZZ_SLOW_RUNS ?= 10000
FUZZ_EXES      = $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))

# Every host, float-reference and model source (the lists are complete only once all
# fragments are read, hence the second expansion of the archive's prerequisites).
FUZZ_LIB_OBJS  = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(HOST_SRCS) $(FLOAT_SRCS) $(MODEL_SRCS))
.SECONDEXPANSION:
$(FUZZ_BUILD)/obj/%.o: %.c $(wildcard host/*.h host/*.def hls-c/*.h sim/*.h tests/fuzz/*.h) | $(GEN)/minflux_regs.vh $(EST_TABLES)
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_BUILD)/libfuzzhost.a: $$(FUZZ_LIB_OBJS)
	@rm -f $@ && ar rcs $@ $^
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/libfuzzhost.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(HOST_LIBS)

.PHONY: fuzz-build fuzz-smoke fuzz-bench
fuzz-build: deps
	@$(MAKE) --no-print-directory $(FUZZ_EXES)

fuzz-smoke: fuzz-build
	@tests/fuzz/run.sh time $(FUZZ_SMOKE_S) $(FUZZ_BUILD) $(FUZZ_TARGETS)

fuzz-bench: fuzz-build
	@tests/fuzz/run.sh runs $(FUZZ_RUNS) $(FUZZ_BUILD) $(filter-out $(FUZZ_SLOW),$(FUZZ_TARGETS)) && \
	  tests/fuzz/run.sh runs $(FUZZ_SLOW_RUNS) $(FUZZ_BUILD) $(FUZZ_SLOW)

TESTS += fuzz_smoke
CMD_fuzz_smoke = $(MAKE) --no-print-directory fuzz-smoke
BENCHES += fuzz_bench
CMD_fuzz_bench = $(MAKE) --no-print-directory fuzz-bench
