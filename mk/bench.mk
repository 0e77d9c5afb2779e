# Benchmarks and fuzzing: run on demand, never part of `make test`.

FUZZ_SECONDS ?= 60
# Every file in fuzz_targets is a target, except the module the profile targets share.
FUZZ_TARGETS = $(filter-out profiles_common,$(basename $(notdir $(wildcard core/fuzz/fuzz_targets/*.rs))))

.PHONY: bench fuzz tool-cargo-fuzz
bench:
	$(CARGO) bench -p group-identity --bench preview

CARGO_FUZZ_VERSION := 0.13.2
tool-cargo-fuzz:
	@if [ "$$(cargo fuzz --version 2>/dev/null | awk '{print $$2}')" != "$(CARGO_FUZZ_VERSION)" ]; then \
	  $(CARGO) install cargo-fuzz --version "$(CARGO_FUZZ_VERSION)" --locked --force; \
	fi

# cargo fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
fuzz: tool-cargo-fuzz
	@for target in $(FUZZ_TARGETS); do \
	  echo "fuzzing $$target for $(FUZZ_SECONDS) s"; \
	  (cd core/fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$target -s none -- \
	    -max_total_time=$(FUZZ_SECONDS)) || exit 1; \
	done
