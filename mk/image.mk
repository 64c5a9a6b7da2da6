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
