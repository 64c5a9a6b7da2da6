# Imaging mode, host side (issue #10, docs/imaging.md): the imaging keys -> registers
# (host/img_regs.c, listed in mk/ctl_host.mk), stage localizations, events, sites and
# precision (host/image.c), their files and `minflux analyze` of an imaging run
# (host/image_out.c).
HOST_SRCS += host/image.c host/image_out.c

# Unit test: localizations from synthetic records (stage sums, aborts by the host rules,
# events) and clustering of sites 12 and 6 nm apart (random seed, printed).
ALL_TARGETS += $(BUILD)/tests/test_image
TESTS += image_unit
CMD_image_unit = $(BUILD)/tests/test_image

# Synthetic imaging runs (a behavioural model of the controller, tests/test_image_gen.c)
ALL_TARGETS += $(BUILD)/tests/test_image_gen

# End to end on the virtual board: the origami scenario (sim/scenarios/origami.ini)
# through `minflux acquire --mode image` and `minflux analyze`.
TESTS += image_cli
CMD_image_cli = tests/test_image.sh $(BUILD)/minflux $(BUILD)/tests/test_image_gen

# The unit test and the synthetic end-to-end cases again on the ASan + UBSan build
# (mk/sanitize.mk; the virtual-board case is skipped there: it needs the ASan vboard).
IMAGE_ASAN_TARGETS = $(ASAN_BUILD)/minflux $(ASAN_BUILD)/tests/test_image $(ASAN_BUILD)/tests/test_image_gen
TESTS += image_asan
CMD_image_asan = $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC="$(ASAN_CC)" $(IMAGE_ASAN_TARGETS) \
  >$(BUILD)/asan-image.log 2>&1 || { cat $(BUILD)/asan-image.log; exit 1; }; \
  $(ASAN_ENV) $(ASAN_BUILD)/tests/test_image >$(BUILD)/asan-image-unit.log 2>&1 \
  || { cat $(BUILD)/asan-image-unit.log; exit 1; }; tail -1 $(BUILD)/asan-image-unit.log; \
  $(ASAN_ENV) IMAGE_NO_VBOARD=1 tests/test_image.sh $(ASAN_BUILD)/minflux $(ASAN_BUILD)/tests/test_image_gen
