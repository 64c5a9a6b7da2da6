# iCEBreaker board top and bitstream (yosys -> nextpnr-ice40 -> icepack).
# The firmware without PLL/pins (also what the virtual board Verilates).
HDL_SYSTEM := hdl/minflux_system.v hdl/host_link.v hdl/uart_rx.v hdl/uart_tx.v
HDL_BOARD := hdl/icebreaker_top.v $(HDL_SYSTEM)
LINT_TOPS += hdl/icebreaker_top.v
PCF       := constraints/icebreaker.pcf
FREQ_MHZ  := 48

$(BUILD)/icebreaker.json: $(HDL_BOARD) $(HDL_CORE) $(GEN)/minflux_regs.vh $(GEN)/est_tables.vh | deps
	@mkdir -p $(BUILD)
	yosys -q -l $(BUILD)/yosys.log -p 'read_verilog -I$(GEN) -Ihdl $(HDL_BOARD) $(HDL_CORE); synth_ice40 -dsp -top icebreaker_top -json $@'

# Placement seeds tried in turn; the first that meets FREQ_MHZ wins, none: the build fails.
PNR_SEEDS ?= 3 1
$(BUILD)/icebreaker.asc: $(BUILD)/icebreaker.json $(PCF)
	@rm -f $@.tmp; for s in $(PNR_SEEDS); do \
	  echo "nextpnr-ice40 --up5k --package sg48 --freq $(FREQ_MHZ) --seed $$s"; \
	  if nextpnr-ice40 -q --up5k --package sg48 --json $< --pcf $(PCF) --freq $(FREQ_MHZ) \
	       --asc $@.tmp --log $(BUILD)/nextpnr.log --seed $$s 2>/dev/null; then break; fi; \
	  grep -E "Max frequency for clock +'clk'" $(BUILD)/nextpnr.log | tail -1; rm -f $@.tmp; \
	done; \
	if [ ! -f $@.tmp ]; then echo "bitstream: no seed of $(PNR_SEEDS) meets $(FREQ_MHZ) MHz" >&2; \
	  mk/report.sh $(BUILD)/nextpnr.log $(FREQ_MHZ) || true; exit 1; fi
	mv $@.tmp $@

$(BUILD)/icebreaker.bin: $(BUILD)/icebreaker.asc
	icepack $< $@

bitstream: $(BUILD)/icebreaker.bin
	@mk/report.sh $(BUILD)/nextpnr.log $(FREQ_MHZ) | tee $(BUILD)/utilisation.txt
	@grep -q ': PASS' $(BUILD)/utilisation.txt

# CI builds the bitstream too: synthesis, place and route at 48 MHz must pass.
TESTS += bitstream
CMD_bitstream = $(MAKE) --no-print-directory bitstream
