# Bitstream flashing (issue #7): `minflux flash` over FT2232H channel A (MPSSE), and its tests
# against an emulated FT2232H + W25Q128 SPI flash + iCE40 configuration port. docs/flashing.md.
FLASH_HOST := host/mpsse.c host/flash_spi.c host/flash_ice40.c host/flash_image.c host/cmd_flash.c
HOST_SRCS  += $(FLASH_HOST)

# The flashing code as the production program links it, plus the FT2232H channel A code it
# shares with the UART transport; the tests link these against tests/ftdi_emu*.c instead of
# libftdi1/libusb (no -lftdi1: a libftdi or libusb call the emulator lacks fails to link).
FLASH_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(FLASH_HOST) host/transport_ftdi.c)
FTDI_EMU_OBJS := $(BUILD)/obj/tests/ftdi_emu.o $(BUILD)/obj/tests/ftdi_emu_dev.o

$(BUILD)/tests/test_flash: $(BUILD)/obj/tests/test_flash.o $(FTDI_EMU_OBJS) $(FLASH_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(CHECK_LIBS) -lm
$(BUILD)/tests/test_flash_bench: $(BUILD)/obj/tests/test_flash_bench.o $(FTDI_EMU_OBJS) $(FLASH_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ -lm
ALL_TARGETS += $(BUILD)/tests/test_flash $(BUILD)/tests/test_flash_bench

# Needs the real bitstream: built here if the bitstream test has not made it yet.
TESTS += test_flash
CMD_test_flash = $(MAKE) --no-print-directory $(BUILD)/icebreaker.bin && $(BUILD)/tests/test_flash $(BUILD)/icebreaker.bin

BENCHES += bench_flash
CMD_bench_flash = $(MAKE) --no-print-directory $(BUILD)/icebreaker.bin && $(BUILD)/tests/test_flash_bench $(BUILD)/icebreaker.bin

# The same checks built with ASan + UBSan (mk/sanitize.mk's compiler and run-time options)
# into $(ASAN_BUILD)/: the emulator and the bitstream parser see every byte of the image.
TESTS += asan_test_flash
CMD_asan_test_flash = $(MAKE) --no-print-directory $(BUILD)/icebreaker.bin && \
  { $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC="$(ASAN_CC)" $(ASAN_BUILD)/tests/test_flash \
    >$(BUILD)/asan-flash-build.log 2>&1 || { cat $(BUILD)/asan-flash-build.log; exit 1; }; } && \
  ldd $(ASAN_BUILD)/tests/test_flash | grep -q libasan && \
  $(ASAN_ENV) $(ASAN_BUILD)/tests/test_flash $(BUILD)/icebreaker.bin
