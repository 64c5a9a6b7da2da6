# Formal verification (issue #9): the safety properties under `ifdef FORMAL at the end of
# hdl/dac_spi.v, hdl/mux_sequencer.v, hdl/minflux_core.v and hdl/host_link.v, proven with
# yosys + yosys-smtbmc (z3): BMC from reset, then k-induction (unbounded); every cover
# reached with ABC bmc3 (tests/formal/prove.sh). `make formal` prints one line per
# property with PASS and how it was proven, one per cover with its step; it is the test
# `formal` of `make test`. `make formal-deep` (in `make bench`) adds the covers too deep
# for CI, `make formal-mutants` (in `make bench`) shows that mutated RTL fails the proofs.
# docs/reliability.md lists the properties.
FORMAL_OUT  = $(BUILD)/formal
FORMAL_INC  = -I$(GEN) -Ihdl
# NAME | TOP | BMC depth | induction depth | cover depth | covers of this job | files
FORMAL_JOBS := dac_spi mux_sequencer host_link minflux_core
F_dac_spi       = dac_spi 8 4 200 . hdl/dac_spi.v
F_mux_sequencer = mux_sequencer 10 4 40 . hdl/mux_sequencer.v
F_host_link     = host_link 12 3 100 ^C_link_(ping|record_framed|tracked|frame_left|bad_crc|wdog) hdl/host_link.v
F_minflux_core  = minflux_core 8 4 200 ^C_core_ $(HDL_CORE)
# the core job cuts the blocks the properties do not depend on (their outputs become free)
FX_minflux_core = cutpoint minflux_core/u_mlms minflux_core/u_gauss minflux_core/u_cnt minflux_core/u_apd0 minflux_core/u_apd1;

# $(call formal_job,NAME,TOP BMC IND COVER COVERS FILES...,DEFINE)
formal_job = COVERS='$(word 5,$(2))' tests/formal/prove.sh $(1) $(FORMAL_OUT) $(word 2,$(2)) $(word 3,$(2)) \
  $(word 4,$(2)) $(word 1,$(2)) "$(3)" "$(FX_$(1))" $(FORMAL_INC) $(wordlist 6,999,$(2))

.PHONY: formal formal-deep $(addprefix formal-,$(FORMAL_JOBS))
$(addprefix formal-,$(FORMAL_JOBS)): formal-%: $(GEN)/minflux_regs.vh $(GEN)/est_tables.vh
	@mkdir -p $(FORMAL_OUT)
	@$(call formal_job,$*,$(F_$*),FORMAL_$(shell echo $* | tr a-z A-Z)) >$(FORMAL_OUT)/$*.out 2>&1; \
	  rc=$$?; cat $(FORMAL_OUT)/$*.out; exit $$rc

# two jobs at a time (the machine has 2 cores); the summary counts every PASS line
formal: deps
	@$(MAKE) --no-print-directory -j2 -k $(addprefix formal-,$(FORMAL_JOBS)); rc=$$?; \
	  cat $(addprefix $(FORMAL_OUT)/,$(addsuffix .out,$(FORMAL_JOBS))) 2>/dev/null | awk \
	    '/ PASS \(/ {p++} / FAIL$$/ {f++} / reached at step/ {c++} / NOT reached/ {u++} \
	     END {printf "formal: %d properties PASS, %d FAIL; %d covers reached, %d not\n", p, f, c, u}'; exit $$rc

# Records dropped for lack of FIFO room: the FIFO fills only after ~700 cycles of records.
formal-deep: $(GEN)/minflux_regs.vh
	@mkdir -p $(FORMAL_OUT)
	@COVERS=C_link_record_dropped tests/formal/prove.sh host_link_fill $(FORMAL_OUT) 0 0 800 host_link \
	  "FORMAL_HOST_LINK -DFORMAL_COVER_FILL" "" $(FORMAL_INC) hdl/host_link.v

# The properties can fail: ten single mutations of the safety logic, each must be caught.
.PHONY: formal-mutants
formal-mutants: $(GEN)/minflux_regs.vh
	@rm -rf $(FORMAL_OUT)/mutants
	@tests/formal/mutants.sh $(FORMAL_OUT)/mutants $(GEN)

TESTS += formal
CMD_formal = $(MAKE) --no-print-directory formal
BENCHES += formal_deep formal_mutants
CMD_formal_deep = $(MAKE) --no-print-directory formal-deep
CMD_formal_mutants = $(MAKE) --no-print-directory formal-mutants
