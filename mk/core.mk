# Foundations (issue #2): APD capture, photon counters, multiplex sequencer, DAC driver.
HDL_CORE   += hdl/apd_capture.v hdl/photon_counter.v hdl/mux_sequencer.v hdl/dac_spi.v \
              hdl/minflux_core.v
LINT_TOPS  += hdl/minflux_core.v
MODEL_SRCS += hls-c/apd_capture.c hls-c/photon_counter.c hls-c/mux_sequencer.c \
              hls-c/dac_spi.c hls-c/minflux_core.c

$(eval $(call vl_exe,cosim_core,minflux_core,$(HDL_CORE),sim/cosim_core.cpp))
TESTS += cosim_core=$(BUILD)/vl/cosim_core/cosim_core --cycles 2000000
