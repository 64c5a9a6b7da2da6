# Host side of the tracking controller (issue #5, docs/controller.md): acquisition keys ->
# CTL registers (host/ctl_regs.c), their unit test; `minflux acquire controller=on` is
# tested end to end in tests/test_acquire.sh.
HOST_SRCS   += host/ctl_regs.c host/img_regs.c

ALL_TARGETS += $(BUILD)/tests/test_ctl_regs
TESTS       += test_ctl_regs
CMD_test_ctl_regs = $(BUILD)/tests/test_ctl_regs
