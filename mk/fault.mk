# Fault injection on the virtual board (issue #9): host stall, USB unplug, garbage bursts
# both ways, firmware reset mid-acquisition; exit codes and loss accounting of `minflux
# acquire` (tests/test_fault.sh, docs/reliability.md). Also run on the ASan build
# (mk/sanitize.mk, asan_test_fault).
TESTS += test_fault
CMD_test_fault = MINFLUX_VBOARD=$(BUILD)/vl/vboard/vboard tests/test_fault.sh $(BUILD)/minflux
