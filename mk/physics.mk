# Physics of the virtual board's sample (issue #5): scenario parser, sample model, the
# tracking-error math (S81/S82) and the tracking bench. sim/physics.c and sim/scenario.c
# are host sources (mk/link.mk) so that the host refuses a bad scenario itself.
HOST_SRCS   += host/track_error.c

ALL_TARGETS += $(BUILD)/tests/test_physics $(BUILD)/tests/test_track_error $(BUILD)/tests/bench_track

# Statistics of the model (a new seed each run, printed; PHYS_SEED=S repeats) and parser refusals.
TESTS += test_physics test_track_error test_physics_vboard
CMD_test_physics       = $(BUILD)/tests/test_physics
CMD_test_track_error   = $(BUILD)/tests/test_track_error
CMD_test_physics_vboard = tests/test_physics_vboard.sh $(BUILD)

# The must-show runs of issue #5 on the virtual board with their tables (minutes).
BENCHES += bench_track
CMD_bench_track = tests/bench_track.sh $(BUILD)
