# Host link (issue #4): UART, framed protocol, record FIFO; virtual board; host transports
# and the info/acquire/decode commands.
LINT_TOPS  += hdl/host_link.v hdl/minflux_system.v
HOST_SRCS  += host/protocol.c
HOST_SRCS  += host/link.c host/transport_sim.c host/cmd_info.c host/acq_config.c host/mfx_files.c \
              host/cmd_acquire.c host/cmd_decode.c sim/physics.c sim/scenario.c
HOST_LIBS  += -lgsl -lgslcblas -linih -ljansson

# The virtual board: the Verilated system top + physics, protocol bytes on stdin/stdout.
VL_EXTRA_vboard := $(BUILD)/obj/sim/physics.o $(BUILD)/obj/sim/scenario.o
VL_LIBS_vboard  := -lgsl -lgslcblas -linih
VL_OPTS_vboard  := -DMINFLUX_VBOARD_SPRAM_1K
# The virtual board's firmware includes the Bayesian block (hdl/bayes_run.v; the board image
# leaves it out, mk/board.mk) with the behavioural SPRAM model.
$(eval $(call vl_exe,vboard,minflux_system,$(HDL_CORE) $(HDL_SYSTEM) hdl/bayes_run.v $(BAYES_RTL) sim/spram/SB_SPRAM256KA.v,sim/vboard.cpp))
$(BUILD)/vl/vboard/vboard: $(GEN)/est_tables.vh $(BAYES_TABLES)

ALL_TARGETS += $(BUILD)/tests/test_protocol
TESTS += test_protocol
CMD_test_protocol = $(BUILD)/tests/test_protocol

ALL_TARGETS += $(BUILD)/tests/test_link
TESTS += test_link
CMD_test_link = MINFLUX_VBOARD=$(BUILD)/vl/vboard/vboard $(BUILD)/tests/test_link

TESTS += test_acquire
CMD_test_acquire = tests/test_acquire.sh $(BUILD)/minflux

# The demo: an acquisition on the virtual board through the host program (README).
demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/minflux $(BUILD)/vl/vboard/vboard $(BUILD)/tests/bench_track
	@mk/demo.sh $(BUILD)

BENCHES += bench_link
CMD_bench_link = tests/bench_link.sh $(BUILD)/minflux

# The board image's firmware (mk/board.mk: MINFLUX_NO_CTL, MINFLUX_NO_BAYES) on the virtual
# board: what the host does against the image's configuration (tests/test_acquire_image_fw.sh).
VL_EXTRA_vboard_image := $(VL_EXTRA_vboard)
VL_LIBS_vboard_image  := $(VL_LIBS_vboard)
VL_OPTS_vboard_image  := -DMINFLUX_NO_CTL -DMINFLUX_NO_BAYES
$(eval $(call vl_exe,vboard_image,minflux_system,$(HDL_CORE) $(HDL_SYSTEM),sim/vboard.cpp))
$(BUILD)/vl/vboard_image/vboard_image: $(GEN)/est_tables.vh
TESTS += acquire_image_fw
CMD_acquire_image_fw = tests/test_acquire_image_fw.sh $(BUILD)/minflux $(BUILD)/vl/vboard_image/vboard_image
