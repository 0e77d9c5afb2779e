# Tools the build needs, installed only when missing, from crates.io, rustup and Debian only.

export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
# The wasm-bindgen CLI must equal the crate version in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
TRUNK_VERSION := 0.21.14
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: tools tool-wasm-target tool-wasm-bindgen tool-trunk tool-chromium
tools: tool-wasm-target tool-wasm-bindgen tool-trunk tool-chromium

tool-wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown

tool-wasm-bindgen:
	@if [ "$$(wasm-bindgen --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 3 minutes)"; \
	  $(CARGO) install wasm-bindgen-cli --version "$(WASM_BINDGEN_VERSION)" --locked --force; \
	fi

tool-trunk:
	@if [ "$$(trunk --version 2>/dev/null | awk '{print $$2}')" != "$(TRUNK_VERSION)" ]; then \
	  echo "installing trunk $(TRUNK_VERSION) (about 9 minutes)"; \
	  $(CARGO) install trunk --version "$(TRUNK_VERSION)" --locked --force; \
	fi

# Debian's Chromium and its driver, for the browser tests.
tool-chromium:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi
