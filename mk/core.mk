# Foundations (issue #2): APD capture, photon counters, multiplex sequencer, DAC driver.
HDL_CORE   += hdl/apd_capture.v hdl/photon_counter.v hdl/mux_sequencer.v hdl/dac_spi.v \
              hdl/mlms.v hdl/gauss1d.v hdl/track_ctl.v hdl/minflux_core.v
LINT_TOPS  += hdl/minflux_core.v
MODEL_SRCS += hls-c/apd_capture.c hls-c/photon_counter.c hls-c/mux_sequencer.c hls-c/core_config.c \
              hls-c/dac_spi.c hls-c/track_ctl.c hls-c/minflux_core.c

VL_EXTRA_cosim_core := $(BUILD)/obj/host/est_regs.o $(BUILD)/obj/host/est_float.o  # demo estimator setup
$(eval $(call vl_exe,cosim_core,minflux_core,$(HDL_CORE),sim/cosim_core.cpp))
$(BUILD)/vl/cosim_core/cosim_core: $(GEN)/est_tables.vh
# random seed each run (printed; rerun with --seed S)
TESTS += cosim_core
CMD_cosim_core = $(BUILD)/vl/cosim_core/cosim_core --cycles 2000000

ALL_TARGETS += $(BUILD)/tests/test_core
TESTS += test_core
CMD_test_core = $(BUILD)/tests/test_core

BENCHES += cosim_core_speed
CMD_cosim_core_speed = $(BUILD)/vl/cosim_core/cosim_core --cycles 5000000 --bench
