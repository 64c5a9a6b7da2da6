# Host link co-simulation (issue #4): hdl/host_link.v against its cycle-exact C model
# hls-c/host_link.c, every port and register every cycle, plus a decode of the UART byte
# stream (host/protocol.c) checked against the harness's own expectations.
MODEL_SRCS += hls-c/host_link.c

VL_EXTRA_cosim_link := $(BUILD)/obj/host/protocol.o   # frame encoder and stream decoder
# the link-rate fallback after 2^12 quiet cycles instead of 2^26, so random runs reach it
# (the model takes the same width: sim/cosim_link.cpp)
COSIM_LINK_QUIET_W := 12
# the host watchdog's unit 2^4 cycles instead of 2^14, so that random silences trip it
COSIM_LINK_WDOG_PRE_W := 4
VL_OPTS_cosim_link := -GQUIET_W=$(COSIM_LINK_QUIET_W) -GWDOG_PRE_W=$(COSIM_LINK_WDOG_PRE_W) \
  -CFLAGS -DCOSIM_LINK_QUIET_W=$(COSIM_LINK_QUIET_W) -CFLAGS -DCOSIM_LINK_WDOG_PRE_W=$(COSIM_LINK_WDOG_PRE_W)
$(eval $(call vl_exe,cosim_link,host_link,hdl/host_link.v,sim/cosim_link.cpp))

# random seed each run (printed; rerun with --seed S)
TESTS += cosim_link
CMD_cosim_link = $(BUILD)/vl/cosim_link/cosim_link --cycles 2000000
