# Sanitizers (issue #9): the C tests and the host program built again with AddressSanitizer
# and UndefinedBehaviorSanitizer into build-asan/ (models, host, Check tests; any report
# aborts: -fno-sanitize-recover) and run: the Check tests, and the shell tests that drive
# build-asan/minflux (the virtual board is the normal Verilated one from $(BUILD)).
# `make test-asan` alone; `make test` runs it as the test `asan`.
ASAN_BUILD ?= build-asan
ASAN_CC    ?= gcc -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_ENV   := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ASAN_CHECKS := test_protocol test_link test_core test_estimators test_ftdi test_physics test_track_error test_acq_bayes
ASAN_TARGETS = $(ASAN_BUILD)/minflux $(addprefix $(ASAN_BUILD)/tests/,$(ASAN_CHECKS))

# NAME=COMMAND entries for tests/runner.sh (the same commands as the normal tests, on the
# sanitized executables)
ASAN_TESTS = \
  'asan_test_protocol=$(ASAN_ENV) $(ASAN_BUILD)/tests/test_protocol' \
  'asan_test_link=$(ASAN_ENV) MINFLUX_VBOARD=$(BUILD)/vl/vboard/vboard $(ASAN_BUILD)/tests/test_link' \
  'asan_test_core=$(ASAN_ENV) $(ASAN_BUILD)/tests/test_core' \
  'asan_est_unit=$(ASAN_ENV) BUILD=$(ASAN_BUILD) $(ASAN_BUILD)/tests/test_estimators' \
  'asan_test_ftdi=$(ASAN_ENV) $(ASAN_BUILD)/tests/test_ftdi' \
  'asan_test_physics=$(ASAN_ENV) $(ASAN_BUILD)/tests/test_physics' \
  'asan_test_track_error=$(ASAN_ENV) $(ASAN_BUILD)/tests/test_track_error' \
  'asan_test_acq_bayes=$(ASAN_ENV) $(ASAN_BUILD)/tests/test_acq_bayes' \
  'asan_est_cli=$(ASAN_ENV) tests/test_cli_estimators.sh $(ASAN_BUILD)/minflux' \
  'asan_test_acquire=$(ASAN_ENV) MINFLUX_VBOARD=$(BUILD)/vl/vboard/vboard tests/test_acquire.sh $(ASAN_BUILD)/minflux' \
  'asan_test_fault=$(ASAN_ENV) MINFLUX_VBOARD=$(BUILD)/vl/vboard/vboard tests/test_fault.sh $(ASAN_BUILD)/minflux' \
  'asan_hex_acquire=$(ASAN_ENV) MINFLUX_VBOARD=$(BUILD)/vl/vboard/vboard tests/test_acquire_hex.sh $(ASAN_BUILD)/minflux $(BUILD)/vl/vboard_image/vboard_image' \
  'asan_acquire_image_fw=$(ASAN_ENV) tests/test_acquire_image_fw.sh $(ASAN_BUILD)/minflux $(BUILD)/vl/vboard_image/vboard_image'

.PHONY: asan-build test-asan
asan-build: deps
	@mkdir -p $(BUILD)
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC="$(ASAN_CC)" $(ASAN_TARGETS) \
	  >$(BUILD)/asan-build.log 2>&1 || { cat $(BUILD)/asan-build.log; exit 1; }
	@# every executable must carry both runtimes (a build that silently lost the flags fails)
	@for e in $(ASAN_TARGETS); do ldd $$e | grep -q libasan && ldd $$e | grep -q libubsan \
	  || { echo "asan-build: $$e is not linked with libasan + libubsan"; exit 1; }; done
	@echo "asan-build: $(words $(ASAN_TARGETS)) executables in $(ASAN_BUILD)/ with $(ASAN_CC)"

test-asan: asan-build $(BUILD)/vl/vboard/vboard $(BUILD)/vl/vboard_image/vboard_image
	@tests/runner.sh $(ASAN_TESTS)

TESTS += asan
CMD_asan = $(MAKE) --no-print-directory test-asan

.PHONY: clean-asan
clean: clean-asan
clean-asan:
	rm -rf $(ASAN_BUILD)
