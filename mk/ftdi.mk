# FT2232H transport (channel B UART of the iCEBreaker) through libftdi1. See docs/ftdi.md.
HOST_SRCS += host/transport_ftdi.c
HOST_LIBS += $(shell pkg-config --libs libftdi1)
CFLAGS_H  += $(shell pkg-config --cflags libftdi1)

# Runs without a board: checks the "not found" messages (a board, if present, is just opened
# and closed).
ALL_TARGETS += $(BUILD)/tests/test_ftdi
TESTS += test_ftdi
CMD_test_ftdi = $(BUILD)/tests/test_ftdi
