# Tools the build needs, installed only when missing, from crates.io, rustup and Debian only.

# Where `cargo install` puts binaries: $CARGO_HOME/bin (Rust's Docker images set it), else
# ~/.cargo/bin. First on PATH, so an older copy elsewhere is not taken for the pinned one.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)
CARGO ?= cargo
# Trunk asks crates.io for a newer version of itself on every run, --offline or not.
export TRUNK_SKIP_VERSION_CHECK := true
# The wasm-bindgen CLI must equal the crate version in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
TRUNK_VERSION := 0.21.14
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# apt-get as root or through sudo (which resets the environment, hence `env`), one at a
# time: under `make -j` two recipes may install at once, and apt waits for the dpkg lock
# (the timeout) but fails at once on the lock of its package lists, so `flock` (Debian's
# util-linux, always there) queues them.
APT_GET := $(SUDO) flock /tmp/group-identity-apt.lock env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600

.PHONY: tools tool-rust-components tool-wasm-target tool-wasm-bindgen tool-trunk tool-chromium
tools: tool-rust-components tool-wasm-target tool-wasm-bindgen tool-trunk tool-chromium

# rustup must not run twice at once (`make -j`): `flock` queues its installs, as for apt.
RUSTUP := flock /tmp/group-identity-rustup.lock rustup

# rustup's minimal profile (Rust's Docker images) has neither rustfmt nor clippy; a
# cargo that has them (rustup's default profile, a distribution's) needs nothing.
tool-rust-components:
	@$(CARGO) fmt --version >/dev/null 2>&1 || $(RUSTUP) component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || $(RUSTUP) component add clippy

tool-wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || $(RUSTUP) target add wasm32-unknown-unknown

# The CLI and the test runner the wasm tests use come from the same crate: both are checked.
tool-wasm-bindgen:
	@if [ "$$(wasm-bindgen --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ] \
	  || [ "$$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 3 minutes)"; \
	  $(CARGO) install wasm-bindgen-cli --version "$(WASM_BINDGEN_VERSION)" --locked --force; \
	fi

# Trunk.toml names the wasm-bindgen trunk runs offline: it must be the pinned one, or trunk
# fails late, asking to download it. Trunk itself is built without its fat LTO: it is a
# build tool, and that halves its install time.
tool-trunk:
	@grep -q '^wasm_bindgen = "$(WASM_BINDGEN_VERSION)"' www/Trunk.toml \
	  || { echo "www/Trunk.toml must pin wasm_bindgen = \"$(WASM_BINDGEN_VERSION)\" (Cargo.lock's)"; exit 1; }
	@if [ "$$(trunk --version 2>/dev/null | awk '{print $$2}')" != "$(TRUNK_VERSION)" ]; then \
	  echo "installing trunk $(TRUNK_VERSION) (about 5 minutes)"; \
	  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	    $(CARGO) install trunk --version "$(TRUNK_VERSION)" --locked --force; \
	fi

# Debian's Chromium and its driver, for the browser tests: checked where the tests launch
# them (a chromium elsewhere on PATH, a snap, is not the one they use).
tool-chromium:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  $(APT_GET) update -qq; \
	  $(APT_GET) install -y -qq chromium chromium-driver; \
	fi
