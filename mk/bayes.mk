# Bayesian MINFLUX (issue #6): float reference and D(sigma) tool (host/bayes_float.c,
# `minflux bayes`), unit tests, and the photon-efficiency benchmark against the hexagon mode.
FLOAT_SRCS  += host/bayes_float.c
HOST_SRCS   += host/cmd_bayes.c host/acq_bayes.c host/acq_hex.c

ALL_TARGETS += $(BUILD)/tests/test_bayes $(BUILD)/tests/bench_bayes
TESTS += bayes_unit bayes_cli
CMD_bayes_unit = $(BUILD)/tests/test_bayes
CMD_bayes_cli  = tests/test_cli_bayes.sh $(BUILD)/minflux

# `minflux acquire --mode bayes` (host/acq_bayes.c): keys, record decoding and the bit-exact
# replay without a board (test_acq_bayes), and end to end on the virtual board
# (tests/test_acquire_bayes.sh; the refusal of a firmware without the block is
# tests/test_acquire_image_fw.sh on the board image's configuration, mk/link.mk).
ALL_TARGETS += $(BUILD)/tests/test_acq_bayes
TESTS += bayes_acq_unit bayes_acquire
CMD_bayes_acq_unit = $(BUILD)/tests/test_acq_bayes
CMD_bayes_acquire  = tests/test_acquire_bayes.sh $(BUILD)/minflux

# `minflux acquire --mode hex` (host/acq_hex.c): the iterative hexagon mode of the comparison,
# the host running the stages on the firmware's K = 7 pattern; on the virtual board and on
# the board image's configuration (vboard_image, mk/link.mk).
TESTS += hex_acquire
CMD_hex_acquire = tests/test_acquire_hex.sh $(BUILD)/minflux $(BUILD)/vl/vboard_image/vboard_image

# The benchmark plots with libcairo.
$(BUILD)/obj/tests/bench_bayes.o: CFLAGS_H += $(shell pkg-config --cflags cairo)
$(BUILD)/tests/bench_bayes: HOST_LIBS += $(shell pkg-config --libs cairo)

# `make bench-bayes`: mu = 0.1, b = 0.01, BAYES_RUNS = 2000 localizations (~5 min here: with
# 500 the photons to 1 nm of one method scatter by ~7 % from seed to seed, too much to compare
# fixed-point and float within 10 %); `make bench-bayes-full`: mu in {0.1, 0.5, 2} x
# b in {0.01, 0.05}, BAYES_FULL_RUNS = 500 each. A new seed each time (printed; BAYES_SEED=S
# repeats a run). Results in $(BUILD)/bench_bayes/.
BAYES_RUNS ?= 2000
BAYES_FULL_RUNS ?= 500
BAYES_SEED ?= $(shell date +%s)
.PHONY: bench-bayes bench-bayes-full
bench-bayes: deps
	@$(MAKE) --no-print-directory $(BUILD)/tests/bench_bayes
	$(BUILD)/tests/bench_bayes --runs $(BAYES_RUNS) --seed $(BAYES_SEED) --out $(BUILD)/bench_bayes
bench-bayes-full: deps
	@$(MAKE) --no-print-directory $(BUILD)/tests/bench_bayes
	$(BUILD)/tests/bench_bayes --full --runs $(BAYES_FULL_RUNS) --seed $(BAYES_SEED) --out $(BUILD)/bench_bayes

# `make bench-bayes-grid`: what a smaller posterior window costs (docs/bayes.md "Fitting the
# UP5K"). The fixed-point model built with BAYES_STUDY_N = 16 and 24 (its re-gridding rules
# scaled with the window; hls-c/bayes.c) against the block's 32, each with the float
# reference on the same window; BAYES_GRID_RUNS localizations each (~3 min per window here).
BAYES_GRID_RUNS ?= 1000
BAYES_GRID_NS := 16 24
$(BUILD)/obj/study/bayes_n%.o: hls-c/bayes.c $(wildcard hls-c/*.h) $(BAYES_TABLES) | $(GEN)/minflux_regs.vh
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_M) -DBAYES_STUDY_N=$* -c $< -o $@
# the study's model object first: the library's bayes.o is then not linked
# (bench_bayes stands for its objects: HOST_OBJS is complete only when the recipe runs)
$(BUILD)/tests/bench_bayes_n%: $(BUILD)/obj/study/bayes_n%.o $(BUILD)/tests/bench_bayes
	$(CC) $< $(BUILD)/obj/tests/bench_bayes.o $(HOST_OBJS) $(BUILD)/libmodels.a -o $@ $(CHECK_LIBS) $(HOST_LIBS) $(shell pkg-config --libs cairo)
.PHONY: bench-bayes-grid
bench-bayes-grid: deps
	@$(MAKE) --no-print-directory $(BUILD)/tests/bench_bayes $(foreach n,$(BAYES_GRID_NS),$(BUILD)/tests/bench_bayes_n$(n))
	@for n in $(BAYES_GRID_NS) 32; do \
	  b=$(BUILD)/tests/bench_bayes_n$$n; [ $$n = 32 ] && b=$(BUILD)/tests/bench_bayes; \
	  grid=$$(awk -v n=$$n 'BEGIN {printf "%d,%.4f,%.4f,%g", n, 1.41421 * n / 32, 5.65685 * n / 32, 4 * n / 32}'); \
	  $$b --runs $(BAYES_GRID_RUNS) --seed $(BAYES_SEED) --grid $$grid --out $(BUILD)/bench_bayes_grid/n$$n \
	    | tee $(BUILD)/bench_bayes_grid.n$$n.log | sed -n 's/^bayes mu/bayes grid '"$$n"' x '"$$n"': mu/p; s/^bench_bayes mu0.1_b0.01: bootstrap/bayes grid '"$$n"': bootstrap/p' || exit 1; \
	done

# Fixed-point model and its tables (ONE generator for the C header and the Verilog macros).
BAYES_TABLES := $(GEN)/bayes_tables.h $(GEN)/bayes_tables.vh
$(GEN)/gen_bayes_tables: hls-c/gen_bayes_tables.c hls-c/regmap.h hls-c/regmap_bayes.h
	@mkdir -p $(GEN)
	$(CC) $(CFLAGS_M) $< -o $@ -lm
$(GEN)/bayes_tables.h: $(GEN)/gen_bayes_tables
	$< c > $@.tmp && mv $@.tmp $@
$(GEN)/bayes_tables.vh: $(GEN)/gen_bayes_tables
	$< vh > $@.tmp && mv $@.tmp $@
$(GEN)/gen_regs: hls-c/regmap_bayes.h
MODEL_SRCS  += hls-c/bayes.c
HOST_SRCS   += host/bayes_regs.c
$(BUILD)/obj/hls-c/bayes.o: $(BAYES_TABLES)
ALL_TARGETS += $(BAYES_TABLES)

# RTL: hdl/bayes.v (+ the SPRAM wrapper); Verilator gets the SPRAM behavioural model.
BAYES_RTL := hdl/bayes.v hdl/bayes_spram.v
$(eval $(call vl_exe,cosim_bayes,bayes,$(BAYES_RTL) sim/spram/SB_SPRAM256KA.v,sim/cosim_bayes.cpp))
$(BUILD)/vl/cosim_bayes/cosim_bayes: $(BAYES_TABLES)
TESTS += cosim_bayes
CMD_cosim_bayes = $(BUILD)/vl/cosim_bayes/cosim_bayes --runs 8 --exposures 1500

# The block is not in the core yet: linted here with the SPRAM model on the search path.
.PHONY: lint-bayes
lint: lint-bayes
lint-bayes: $(GEN)/minflux_regs.vh $(BAYES_TABLES)
	@echo "verilator --lint-only -Wall bayes"
	@$(VERILATOR) --lint-only -Wall -Ihdl -I$(GEN) -y hdl -y sim/spram --top-module bayes hdl/bayes.v
	@$(VERILATOR) --lint-only -Wall -Ihdl -I$(GEN) -y hdl -y sim/spram --top-module bayes_run hdl/bayes_run.v
$(BUILD)/obj/tests/test_bayes.o: $(BAYES_TABLES)

# Standalone synthesis of the block (not part of `make`): yosys synth_ice40 -dsp cell counts.
.PHONY: bayes-synth
bayes-synth: $(GEN)/minflux_regs.vh $(BAYES_TABLES)
	@mkdir -p $(BUILD)/bayes_synth
	@cd $(BUILD)/bayes_synth && yosys -q -l bayes.yosys.log -p "read_verilog -I$(abspath $(GEN)) \
	  $(addprefix $(CURDIR)/,$(BAYES_RTL)); synth_ice40 -dsp -top bayes -json bayes.json" >/dev/null
	@echo "bayes-synth (yosys synth_ice40 -dsp, module alone):" $$(awk '/=== bayes ===/ {delete c} \
	  /SB_(LUT4|CARRY|DFF|MAC16|RAM40|SPRAM)/ {k = $$1; sub(/SB_DFF.*/, "SB_DFF*", k); c[k] += $$2} \
	  END {for (k in c) printf "%s %d; ", k, c[k]}' $(BUILD)/bayes_synth/bayes.yosys.log)

# How far a Bayes-only board image is from fitting (not part of `make`): the board image with
# the block and without the live mLMS (MINFLUX_NO_EST) and the controller, yosys synth_ice40
# -dsp, then nextpnr-ice40 --pack-only for the logic cells it needs (docs/bayes.md).
.PHONY: bayes-image-size
bayes-image-size: $(GEN)/minflux_regs.vh $(GEN)/est_tables.vh $(BAYES_TABLES) | deps
	@mkdir -p $(BUILD)/bayes_image
	@yosys -q -l $(BUILD)/bayes_image/yosys.log -p "read_verilog -DMINFLUX_NO_CTL -DMINFLUX_NO_EST -I$(GEN) -Ihdl \
	  $(HDL_BOARD) $(filter-out hdl/mlms.v,$(HDL_CORE)) hdl/bayes_run.v $(BAYES_RTL); \
	  synth_ice40 -dsp -top icebreaker_top -json $(BUILD)/bayes_image/bayes_image.json" >/dev/null 2>&1
	@nextpnr-ice40 --up5k --package sg48 --json $(BUILD)/bayes_image/bayes_image.json --pcf $(PCF) --pack-only \
	  >$(BUILD)/bayes_image/pack.log 2>&1 || true
	@grep -E "ICESTORM_(LC|RAM|DSP|SPRAM):" $(BUILD)/bayes_image/pack.log | sed 's/^Info:[[:space:]]*//; s/[[:space:]][[:space:]]*/ /g; s/^/bayes-image-size: /'
	@grep -q "ICESTORM_LC:" $(BUILD)/bayes_image/pack.log || { echo "bayes-image-size: nextpnr gave no utilisation:"; tail -5 $(BUILD)/bayes_image/pack.log; exit 1; }

# Area study of a microcoded engine (hdl/study/bayes_engine.v: a datapath with no program, not
# a working block; not part of `make`): the engine alone at datapath widths 16/24/32/48 and the
# Bayes-only image without any Bayes logic, yosys synth_ice40 -dsp and nextpnr-ice40
# --pack-only; prints each width's logic cells and the sum of the two, then each width placed
# and routed alone (hdl/study/bayes_engine_pins.v) for its clock rate (docs/bayes.md).
BAYES_ENGINE_W ?= 16 24 32 48
BAYES_ENGINE_SEEDS ?= 1 2 3 4
BAYES_ENGINE_V := hdl/study/bayes_engine.v hdl/bayes_spram.v
# The smoke test first (hdl/study/tb_bayes_engine.v): the measured datapath does compute.
.PHONY: bayes-engine-smoke bayes-engine-area
bayes-engine-smoke: | deps
	@mkdir -p $(BUILD)/bayes_engine/tb
	@$(VERILATOR) --binary --timing -Wno-fatal -Wno-lint -Wno-style -Ihdl --top-module tb_bayes_engine \
	  --Mdir $(BUILD)/bayes_engine/tb -o tb hdl/study/tb_bayes_engine.v $(BAYES_ENGINE_V) \
	  sim/spram/SB_SPRAM256KA.v >$(BUILD)/bayes_engine/tb/build.log 2>&1 || \
	  { tail -20 $(BUILD)/bayes_engine/tb/build.log; exit 1; }
	@$(BUILD)/bayes_engine/tb/tb >$(BUILD)/bayes_engine/tb/run.log 2>&1; rc=$$?; grep -v finish $(BUILD)/bayes_engine/tb/run.log; exit $$rc
bayes-engine-area: bayes-engine-smoke $(GEN)/minflux_regs.vh $(GEN)/est_tables.vh | deps
	@mkdir -p $(BUILD)/bayes_engine
	@yosys -q -l $(BUILD)/bayes_engine/image.yosys.log -p "read_verilog -DMINFLUX_NO_CTL -DMINFLUX_NO_EST \
	  -DMINFLUX_NO_BAYES -I$(GEN) -Ihdl $(HDL_BOARD) $(filter-out hdl/mlms.v,$(HDL_CORE)); \
	  synth_ice40 -dsp -top icebreaker_top -json $(BUILD)/bayes_engine/image.json" >/dev/null 2>&1
	@nextpnr-ice40 --up5k --package sg48 --json $(BUILD)/bayes_engine/image.json --pcf $(PCF) --pack-only \
	  >$(BUILD)/bayes_engine/image.pack.log 2>&1 || true
	@set -e; lc() { sed -n "s/.*ICESTORM_$$1:[[:space:]]*\([0-9]*\)\/.*/\1/p" $$2; }; \
	img=$$(lc LC $(BUILD)/bayes_engine/image.pack.log); imgram=$$(lc RAM $(BUILD)/bayes_engine/image.pack.log); \
	test -n "$$img" || { echo "bayes-engine-area: nextpnr gave no utilisation for the image:"; \
	  tail -5 $(BUILD)/bayes_engine/image.pack.log; exit 1; }; \
	echo "bayes-engine-area: image without Bayes logic $$img LC, $$imgram EBR"; \
	for w in $(BAYES_ENGINE_W); do \
	  yosys -q -l $(BUILD)/bayes_engine/e$$w.yosys.log -p "read_verilog $(BAYES_ENGINE_V); \
	    chparam -set W $$w bayes_engine; synth_ice40 -dsp -top bayes_engine -json $(BUILD)/bayes_engine/e$$w.json" \
	    >/dev/null 2>&1 || { echo "bayes-engine-area: W=$$w: yosys failed:"; tail -5 $(BUILD)/bayes_engine/e$$w.yosys.log; exit 1; }; \
	  nextpnr-ice40 --up5k --package sg48 --json $(BUILD)/bayes_engine/e$$w.json --pack-only \
	    >$(BUILD)/bayes_engine/e$$w.pack.log 2>&1 || true; \
	  e=$$(lc LC $(BUILD)/bayes_engine/e$$w.pack.log); test -n "$$e" || { echo "bayes-engine-area: W=$$w: no utilisation:"; \
	    tail -5 $(BUILD)/bayes_engine/e$$w.pack.log; exit 1; }; \
	  echo "bayes-engine-area: W=$$w engine $$e LC, $$(lc RAM $(BUILD)/bayes_engine/e$$w.pack.log) EBR," \
	    "$$(lc DSP $(BUILD)/bayes_engine/e$$w.pack.log) DSP, $$(lc SPRAM $(BUILD)/bayes_engine/e$$w.pack.log) SPRAM;" \
	    "image + engine $$((img + e)) of 5280 LC ($$((100 * (img + e) / 5280)) %), $$((imgram + $$(lc RAM $(BUILD)/bayes_engine/e$$w.pack.log))) of 30 EBR"; \
	done; \
	for w in $(BAYES_ENGINE_W); do \
	  yosys -q -p "read_verilog hdl/study/bayes_engine_pins.v $(BAYES_ENGINE_V); \
	    chparam -set W $$w bayes_engine_pins; synth_ice40 -dsp -top bayes_engine_pins \
	    -json $(BUILD)/bayes_engine/pins$$w.json" >$(BUILD)/bayes_engine/pins$$w.yosys.log 2>&1 || \
	    { echo "bayes-engine-area: W=$$w on pins: yosys failed:"; tail -5 $(BUILD)/bayes_engine/pins$$w.yosys.log; exit 1; }; \
	  f=""; for seed in $(BAYES_ENGINE_SEEDS); do \
	    nextpnr-ice40 --up5k --package sg48 --json $(BUILD)/bayes_engine/pins$$w.json --freq 48 --seed $$seed \
	      >$(BUILD)/bayes_engine/pins$$w.s$$seed.log 2>&1 || true; \
	    m=$$(grep "Max frequency for clock" $(BUILD)/bayes_engine/pins$$w.s$$seed.log | tail -1 | \
	      sed 's/.*: *\([0-9.]*\) MHz.*/\1/'); f="$$f $${m:-none}"; \
	  done; \
	  echo "bayes-engine-area: W=$$w alone on two pins, placed and routed, MHz at seeds $(BAYES_ENGINE_SEEDS):$$f"; \
	done

# The block in the virtual board's firmware (hdl/bayes_run.v) against the C model through the
# host link: every exposure record bit-exact, stop conditions, CTRL stop, safe window.
ALL_TARGETS += $(BUILD)/tests/test_bayes_vboard
TESTS += bayes_vboard
CMD_bayes_vboard = MINFLUX_VBOARD=$(BUILD)/vl/vboard/vboard $(BUILD)/tests/test_bayes_vboard --locs 4
