# Native checks: formatting, lints, tests, and the core building for wasm32.

.PHONY: check-fmt clippy test-native build-core-wasm
TEST_TARGETS += check-fmt clippy test-native build-core-wasm

# The fuzz targets are a crate of their own, outside the workspace (cargo fuzz's flags).
check-fmt: tool-rust-components
	$(CARGO) fmt --all --check
	rustfmt --check --edition 2021 core/fuzz/fuzz_targets/*.rs

clippy: tool-rust-components
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-native:
	$(CARGO) test --workspace

build-core-wasm: tool-wasm-target
	$(CARGO) build -p group-identity --target wasm32-unknown-unknown
