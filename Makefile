# minflux: iCE40 MINFLUX firmware, fixed-point C models, host CLI and virtual board.
# `make` builds everything buildable, `make test` runs every CI check,
# `make lint`, `make bitstream`, `make bench`, `make clean`. See README.md.

BUILD     ?= build
GEN       := $(BUILD)/gen
CC        ?= cc
CXX       ?= c++
OPT       ?= -O2 -g
CWARN     := -Wall -Wextra -Werror
CPPFLAGS  := -Ihls-c -Ihost -Isim -I$(GEN)
CFLAGS_M  := -std=c99 $(OPT) $(CWARN) $(CPPFLAGS)
CFLAGS_H  := -std=c11 -D_GNU_SOURCE $(OPT) $(CWARN) $(CPPFLAGS)
VERILATOR ?= verilator
VL_FLAGS  := -Wall --cc --exe --build -j 2 -O3 --x-assign 0 --x-initial 0 \
             -Ihdl -I$(GEN) --Mdir
SHELL     := /bin/bash

# Lists the fragments in mk/*.mk append to.
HDL_CORE    :=            # synthesizable RTL of the core (no vendor primitives)
MODEL_SRCS  :=            # fixed-point C models (hls-c/), integer only
FLOAT_SRCS  :=            # float references (host side)
HOST_SRCS   :=            # host CLI sources besides host/minflux.c
TESTS       :=            # test names; the command of NAME is $(CMD_NAME)
ALL_TARGETS :=            # what `make` builds
BENCHES     :=            # bench names, commands in $(CMD_NAME) as for TESTS
LINT_TOPS   :=            # RTL files linted one by one (plus the core top)
HOST_LIBS   := -lm        # libraries the host, tests and harnesses link
CHECK_LIBS   = $$(pkg-config --libs check)

# $(call vl_exe,NAME,TOP,RTL files,harness .cpp files): a Verilated co-simulation
# executable $(BUILD)/vl/NAME/NAME linked with the model library (and the objects listed
# in VL_EXTRA_NAME and the libraries in VL_LIBS_NAME, with the Verilator options in VL_OPTS_NAME,
# all set before the call). Verilator keeps its
# objects under $(BUILD)/vl/NAME, so rebuilds are incremental.
define vl_exe
$(BUILD)/vl/$(1)/$(1): $(3) $(4) $(BUILD)/libmodels.a $(VL_EXTRA_$(1)) $(GEN)/minflux_regs.vh $(wildcard sim/*.h hls-c/*.h)
	@mkdir -p $(BUILD)/vl/$(1)
	@# Verilator's own makefile does not relink when only libmodels.a changed: drop the
	@# harness objects so the executable is rebuilt against the current models.
	@rm -f $(foreach h,$(4),$(BUILD)/vl/$(1)/$(basename $(notdir $(h))).o)
	+$(VERILATOR) $(VL_FLAGS) $(BUILD)/vl/$(1) --top-module $(2) -o $(1) \
	  -CFLAGS "-I$(CURDIR)/hls-c -I$(CURDIR)/sim -I$(CURDIR)/host -I$(CURDIR)/$(GEN) -O2" \
	  -LDFLAGS "$(addprefix $(CURDIR)/,$(VL_EXTRA_$(1))) $(CURDIR)/$(BUILD)/libmodels.a $(VL_LIBS_$(1)) -lm" $(VL_OPTS_$(1)) $(3) $(abspath $(4)) >$(BUILD)/vl/$(1).log 2>&1 \
	  || { cat $(BUILD)/vl/$(1).log; exit 1; }
ALL_TARGETS += $(BUILD)/vl/$(1)/$(1)
endef

MK_FRAGMENTS ?= $(sort $(wildcard mk/*.mk))
include $(MK_FRAGMENTS)

.PHONY: all test lint bitstream bench clean deps demo
.SECONDARY:
.DEFAULT_GOAL := all

deps:
	@mk/deps.sh

$(GEN)/gen_regs: hls-c/gen_regs.c hls-c/regmap.h hls-c/regmap_est.h hls-c/regmap_link.h
	@mkdir -p $(GEN)
	$(CC) $(CFLAGS_M) $< -o $@

$(GEN)/minflux_regs.vh: $(GEN)/gen_regs
	$< > $@.tmp && mv $@.tmp $@

# Fixed-point models as one library shared by harnesses, tests and the host.
MODEL_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(MODEL_SRCS))
$(BUILD)/obj/hls-c/%.o: hls-c/%.c $(wildcard hls-c/*.h) | $(GEN)/minflux_regs.vh
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_M) -c $< -o $@
$(BUILD)/libmodels.a: $(MODEL_OBJS)
	rm -f $@ && ar rcs $@ $^

# Host library (protocol, formats, float references, commands).
HOST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(HOST_SRCS) $(FLOAT_SRCS))
$(BUILD)/obj/host/%.o: host/%.c $(wildcard host/*.h host/*.def hls-c/*.h) | $(GEN)/minflux_regs.vh
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_H) -c $< -o $@
$(BUILD)/obj/sim/%.o: sim/%.c $(wildcard sim/*.h host/*.h hls-c/*.h) | $(GEN)/minflux_regs.vh
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_H) -c $< -o $@
$(BUILD)/obj/tests/%.o: tests/%.c $(wildcard tests/*.h host/*.h hls-c/*.h sim/*.h) | $(GEN)/minflux_regs.vh
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_H) $$(pkg-config --cflags check) -c $< -o $@
$(BUILD)/minflux: $(BUILD)/obj/host/minflux.o $(HOST_OBJS) $(BUILD)/libmodels.a
	$(CC) $^ -o $@ $(HOST_LIBS)
ALL_TARGETS += $(BUILD)/minflux

# Check unit tests: tests/NAME.c -> $(BUILD)/tests/NAME, linked with host objects and models.
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(HOST_OBJS) $(BUILD)/libmodels.a
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(CHECK_LIBS) $(HOST_LIBS)


test: deps
	@$(MAKE) --no-print-directory all
	@tests/runner.sh $(foreach t,$(TESTS),'$(t)=$(CMD_$(t))')

bench: deps
	@$(MAKE) --no-print-directory all
	@tests/runner.sh $(foreach t,$(BENCHES),'$(t)=$(CMD_$(t))')

# Every RTL top through `verilator --lint-only -Wall` (submodules found in hdl/, board
# primitives as port-only stand-ins in sim/lint/), and every C file built with -Werror.
lint: deps $(GEN)/minflux_regs.vh
	@set -e; for f in $(LINT_TOPS); do \
	  top=$$(basename $$f .v); echo "verilator --lint-only -Wall $$top"; \
	  $(VERILATOR) --lint-only -Wall -Ihdl -I$(GEN) -y hdl -y sim/lint -y sim/spram --top-module $$top $$f; \
	done
	@$(MAKE) --no-print-directory all
	@echo "lint: clean (verilator -Wall on $(words $(LINT_TOPS)) tops; C with $(CWARN))"

clean:
	rm -rf $(BUILD)

# Last, so that it sees every ALL_TARGETS entry of this file and of the fragments.
all: $(ALL_TARGETS)
