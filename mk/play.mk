# The playground (www/): build it with trunk offline, serve it with the API emulator behind
# trunk's proxy (`make play`), and test it end to end in headless Chromium.

# Must match the [[proxy]] backends and [serve] port in www/Trunk.toml.
EMULATOR_PORT := 8787
PLAY_PORT := 8000
BROWSER_TESTS := tests/browser
EMULATOR_BIN = $(or $(CARGO_TARGET_DIR),target)/debug/group-identity-emulator

.PHONY: play build-www test-playground test-browser emulator-bin fetch-crates
TEST_TARGETS += test-playground test-browser

# Trunk builds with `cargo --offline`: every crate the wasm build needs is fetched first
# (from crates.io, by Cargo.lock), not left to whatever trunk happens to run before.
fetch-crates:
	$(CARGO) fetch --locked

build-www: tool-wasm-target tool-wasm-bindgen tool-trunk fetch-crates
	cd www && trunk build --release --offline

# The driver is behind the `playground` feature, which the workspace-wide checks leave off.
test-playground: tool-wasm-target tool-rust-components
	$(CARGO) clippy -p group-identity-web --features playground --all-targets -- -D warnings
	$(CARGO) clippy -p group-identity-web --features playground --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) test -p group-identity-web --features playground --lib playground

emulator-bin:
	$(CARGO) build -p group-identity-emulator

# Ctrl-C stops trunk; the trap then stops the emulator. The URL is printed only once the
# emulator says it serves (its first line); if it cannot (the port is taken), it says why.
play: tool-wasm-target tool-wasm-bindgen tool-trunk fetch-crates emulator-bin
	@log=$$(mktemp); \
	$(EMULATOR_BIN) --port $(EMULATOR_PORT) --quiet > "$$log" 2>&1 & emulator=$$!; \
	trap 'kill $$emulator 2>/dev/null || true; rm -f "$$log"' EXIT INT TERM; \
	for i in $$(seq 100); do \
	  grep -q "listening on" "$$log" && break; \
	  kill -0 $$emulator 2>/dev/null || break; \
	  sleep 0.1; \
	done; \
	if ! grep -q "listening on" "$$log"; then \
	  echo "The API emulator did not start on 127.0.0.1:$(EMULATOR_PORT):"; cat "$$log"; exit 1; \
	fi; \
	node -e "require('net').createServer().once('error', () => process.exit(1)).listen($(PLAY_PORT), '127.0.0.1', function () { this.close() })" \
	  || { echo "Port $(PLAY_PORT) on 127.0.0.1 is taken (another trunk serve?): stop what uses it."; exit 1; }; \
	echo "Playground: http://127.0.0.1:$(PLAY_PORT)/ once trunk says it serves (it builds first)  (API emulator on 127.0.0.1:$(EMULATOR_PORT), proxied; client local-client/local-secret, workspace 1000; Ctrl-C stops both)"; \
	cd www && trunk serve --release --offline --no-autoreload

$(BROWSER_TESTS)/node_modules/.installed: $(BROWSER_TESTS)/package.json $(BROWSER_TESTS)/package-lock.json
	cd $(BROWSER_TESTS) && npm ci --no-audit --no-fund
	touch $@

# A test may wait 5 minutes at most (a 1M-profile file on a slow machine); a hung one
# stops at 7, not eating CI's time.
test-browser: build-www tool-chromium client-emulator $(BROWSER_TESTS)/node_modules/.installed
	cd $(BROWSER_TESTS) && EMULATOR_BIN="$(abspath $(EMULATOR_BIN))" node --test --test-concurrency=1 --test-timeout=420000 playground.test.mjs
