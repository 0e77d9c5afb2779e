# Group Identity Kit. Two commands a newcomer needs: `make play` and `make test`.
# Each area keeps its own targets in mk/<area>.mk; this file only ties them together.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Areas append their test targets to TEST_TARGETS, in the order they should run.
TEST_TARGETS :=

include mk/tools.mk
include mk/native.mk
include $(filter-out mk/tools.mk mk/native.mk,$(sort $(wildcard mk/*.mk)))

.PHONY: help test
help:
	@echo "make play   build and serve the playground with the API emulator on 127.0.0.1"
	@echo "make test   everything the project checks (native, wasm in Node, headless Chromium)"
	@echo "make bench  the criterion benchmark (native); make bench-wasm: the wasm package in Node"
	@echo "make fuzz   run every fuzz target for a while (FUZZ_SECONDS, default 60)"

test: $(TEST_TARGETS)
	@echo "make test: all checks passed"
