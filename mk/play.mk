# The playground (www/): build it with trunk offline, serve it with the API emulator behind
# trunk's proxy (`make play`), and test it end to end in headless Chromium.

# Must match the [[proxy]] backends and [serve] port in www/Trunk.toml.
EMULATOR_PORT := 8787
PLAY_PORT := 8000
BROWSER_TESTS := tests/browser
EMULATOR_BIN = $(or $(CARGO_TARGET_DIR),target)/debug/group-identity-emulator

.PHONY: play build-www test-playground test-browser emulator-bin
TEST_TARGETS += test-playground test-browser

build-www: tool-wasm-target tool-wasm-bindgen tool-trunk
	cd www && trunk build --release --offline

# The driver is behind the `playground` feature, which the workspace-wide checks leave off.
test-playground: tool-wasm-target tool-rust-components
	$(CARGO) clippy -p group-identity-web --features playground --all-targets -- -D warnings
	$(CARGO) clippy -p group-identity-web --features playground --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) test -p group-identity-web --features playground --lib playground

emulator-bin:
	$(CARGO) build -p group-identity-emulator

# Ctrl-C stops trunk; the trap then stops the emulator.
play: tool-wasm-target tool-wasm-bindgen tool-trunk emulator-bin
	@$(EMULATOR_BIN) --port $(EMULATOR_PORT) --quiet > /dev/null & emulator=$$!; \
	trap 'kill $$emulator 2>/dev/null || true' EXIT INT TERM; \
	echo "Playground: http://127.0.0.1:$(PLAY_PORT)/  (API emulator on 127.0.0.1:$(EMULATOR_PORT), proxied; client local-client/local-secret, workspace 1000; Ctrl-C stops both)"; \
	cd www && trunk serve --release --offline --no-autoreload

$(BROWSER_TESTS)/node_modules/.installed: $(BROWSER_TESTS)/package-lock.json
	cd $(BROWSER_TESTS) && npm ci --no-audit --no-fund
	touch $@

# A test may wait 5 minutes at most (a 1M-profile file on a slow machine); a hung one
# stops at 7, not eating CI's time.
test-browser: build-www tool-chromium emulator-bin $(BROWSER_TESTS)/node_modules/.installed
	cd $(BROWSER_TESTS) && EMULATOR_BIN="$(abspath $(EMULATOR_BIN))" node --test --test-concurrency=1 --test-timeout=420000 playground.test.mjs
