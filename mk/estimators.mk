# Live position estimators (issue #3): mLMS (k = 1, 2) and Gaussian 1D MLE.
# Float references, bit-exact C models, RTL, co-simulation, `minflux crb|localize`.

# Table generator: the ONE source of the reciprocal/log tables (C header + Verilog macros).
EST_TABLES := $(GEN)/est_tables.h $(GEN)/est_tables.vh

$(GEN)/gen_est_tables: hls-c/gen_est_tables.c hls-c/regmap.h hls-c/regmap_est.h
	@mkdir -p $(GEN)
	$(CC) $(CFLAGS_M) $< -o $@ -lm

$(GEN)/est_tables.h: $(GEN)/gen_est_tables
	$< c > $@.tmp && mv $@.tmp $@

$(GEN)/est_tables.vh: $(GEN)/gen_est_tables
	$< vh > $@.tmp && mv $@.tmp $@

MODEL_SRCS  += hls-c/mlms.c hls-c/gauss1d.c
FLOAT_SRCS  += host/est_float.c
HOST_SRCS   += host/est_regs.c host/cmd_crb.c host/cmd_localize.c
HOST_LIBS   += $(shell pkg-config --libs gsl)
LINT_TOPS   += hdl/mlms.v hdl/gauss1d.v

$(BUILD)/obj/hls-c/mlms.o $(BUILD)/obj/hls-c/gauss1d.o: $(GEN)/est_tables.h
lint: $(EST_TABLES)

# Co-simulation of the RTL against the C models (exhaustive small counts + random).
$(eval $(call vl_exe,cosim_mlms,mlms,hdl/mlms.v,sim/cosim_mlms.cpp))
$(eval $(call vl_exe,cosim_gauss1d,gauss1d,hdl/gauss1d.v,sim/cosim_gauss1d.cpp))
$(BUILD)/vl/cosim_mlms/cosim_mlms $(BUILD)/vl/cosim_gauss1d/cosim_gauss1d: $(EST_TABLES)

ALL_TARGETS += $(EST_TABLES) $(BUILD)/tests/test_estimators $(BUILD)/tests/bench_estimators

# CI checks (a random seed on every run, printed; rerun with EST_SEED=S or --seed S).
TESTS += est_unit est_cli cosim_mlms cosim_gauss1d
CMD_est_unit      = BUILD=$(BUILD) $(BUILD)/tests/test_estimators
CMD_est_cli       = tests/test_cli_estimators.sh $(BUILD)/minflux
CMD_cosim_mlms    = $(BUILD)/vl/cosim_mlms/cosim_mlms
CMD_cosim_gauss1d = $(BUILD)/vl/cosim_gauss1d/cosim_gauss1d

# Full fixed-vs-float sweep: every quartet with N <= 1000 (~4.2e10, the n1 <= n2 half
# evaluated) for the live mLMS set, every gauss1d pair; ~10 min on 2 cores.
# `build/tests/bench_estimators 1000 a` adds the k=2 and L = 300 nm sets.
BENCHES += est_sweep
CMD_est_sweep = $(BUILD)/tests/bench_estimators 1000 l

$(BUILD)/obj/tests/test_estimators.o $(BUILD)/obj/tests/bench_estimators.o: $(EST_TABLES) tests/est_sweep.h

# Standalone synthesis and timing of each estimator (not part of `make`): yosys cells of the
# module alone, then nextpnr-ice40 of sim/est_synth_wrap.v over EST_SEEDS placer seeds.
# Module LCs = wrapper LCs - the wrapper's own cells (its shift register and XOR tree,
# counted with the estimator as a blackbox).
EST_SEEDS ?= 1 2 3 4 5
.PHONY: est-synth
est-synth: $(GEN)/minflux_regs.vh $(EST_TABLES)
	@mkdir -p $(BUILD)/est_synth
	@set -e; cd $(BUILD)/est_synth; R=$(CURDIR); G=$(abspath $(GEN)); \
	for m in mlms gauss1d; do \
	  yosys -q -l $$m.yosys.log -p "read_verilog -I$$G $$R/hdl/$$m.v; synth_ice40 -dsp -top $$m" >/dev/null; \
	  echo "est-synth $$m (yosys synth_ice40 -dsp, module alone):" $$(awk '/=== '$$m' ===/ {delete c} \
	    /SB_(LUT4|CARRY|DFF|MAC16|RAM40)/ {c[$$1] += $$2} END {for (k in c) printf "%s %d; ", k, c[k]}' $$m.yosys.log); \
	  yosys -q -l wrapbb_$$m.yosys.log -p "read_verilog -I$$G -lib $$R/hdl/$$m.v; \
	    read_verilog $$R/sim/est_synth_wrap.v; synth_ice40 -top est_wrap_$$m" >/dev/null; \
	  own=$$(awk '/=== est_wrap_'$$m' ===/ {s = 0} /SB_(LUT4|DFF)/ {s += $$2} END {print s}' wrapbb_$$m.yosys.log); \
	  yosys -q -p "read_verilog -I$$G $$R/hdl/$$m.v $$R/sim/est_synth_wrap.v; \
	    synth_ice40 -dsp -top est_wrap_$$m -json $$m.json" >/dev/null; \
	  for s in $(EST_SEEDS); do \
	    nextpnr-ice40 --up5k --package sg48 --json $$m.json --freq 48 --seed $$s \
	      --timing-allow-fail --log $$m.nextpnr.$$s.log >/dev/null 2>&1; \
	    lc=$$(grep -m1 'ICESTORM_LC:' $$m.nextpnr.$$s.log | awk '{print $$3}' | cut -d/ -f1); \
	    f=$$(grep 'Max frequency' $$m.nextpnr.$$s.log | tail -1 | grep -oE '[0-9.]+ MHz \((PASS|FAIL)'); \
	    echo "est-synth $$m seed $$s: $$lc LCs with the wrapper, $$own of them the wrapper's -> $$((lc - own)) LCs; $$f at 48 MHz)"; \
	  done; \
	done
