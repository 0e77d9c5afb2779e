# The npm package `group-identity` (web/pkg) and its tests: wasm-bindgen-test in Node and in
# headless Chromium, the packed package from Node (import and require), and its TypeScript
# declarations under tsc. `make bench-wasm` compares wasm, plain JavaScript and native.

.PHONY: package test-wasm test-wasm-node test-wasm-browser test-node test-types node-test-deps \
	bench-wasm bench-wasm-stream
TEST_TARGETS += test-wasm test-node test-types

WASM_TEST_ENV := CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	WASM_BINDGEN_TEST_TIMEOUT=300
WASM_TEST := $(CARGO) test -p group-identity-web --target wasm32-unknown-unknown --test api
BENCH_DATA := target/bench-data

package: tool-wasm-target tool-wasm-bindgen
	CARGO="$(CARGO)" scripts/package.sh

test-wasm: test-wasm-node test-wasm-browser

test-wasm-node: tool-wasm-target tool-wasm-bindgen
	$(WASM_TEST_ENV) $(WASM_TEST)

# The runner drives Chromium through chromedriver; Chromium gets a fresh profile directory
# each run (webdriver.json is a template for it).
test-wasm-browser: tool-wasm-target tool-wasm-bindgen tool-chromium
	tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	sed "s|@USER_DATA_DIR@|$$tmp/profile|" web/tests/webdriver.json >"$$tmp/webdriver.json"; \
	$(WASM_TEST_ENV) WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER="$$(command -v chromedriver)" \
	  WASM_BINDGEN_TEST_WEBDRIVER_JSON="$$tmp/webdriver.json" $(WASM_TEST)

# npm ci only when the lock file changed since the last install.
tests/node/node_modules/.package-lock.json: tests/node/package-lock.json tests/node/package.json | package
	cd tests/node && npm ci --no-audit --no-fund
	touch $@

node-test-deps: tests/node/node_modules/.package-lock.json

# The native engine's previews of generated profiles in every format, for the Node test that
# checks the wasm build against them.
NATIVE_PREVIEWS := target/native-previews

test-node: package
	mkdir -p $(NATIVE_PREVIEWS)
	$(CARGO) run -q -p group-identity --example generate -- --definition >$(NATIVE_PREVIEWS)/definition.json
	for format in ndjson json csv; do \
	  $(CARGO) run -q -p group-identity --example generate -- --profiles 3000 --format $$format \
	    --seed 5 --edge-cases >$(NATIVE_PREVIEWS)/profiles.$$format && \
	  $(CARGO) run -q -p group-identity --example preview_json -- $(NATIVE_PREVIEWS)/definition.json \
	    $(NATIVE_PREVIEWS)/profiles.$$format >$(NATIVE_PREVIEWS)/preview.$$format.json || exit 1; \
	done
	NATIVE_PREVIEWS=$(NATIVE_PREVIEWS) node --test tests/node/api.test.mjs

test-types: package node-test-deps
	node tests/node/types/check-types.mjs

# Generated profile files, made by the core's seeded generator, and made again when the
# generator changes.
GENERATOR_SOURCES := core/src/generator.rs core/examples/generate.rs core/src/definition.rs
$(BENCH_DATA)/profiles-%.ndjson: $(GENERATOR_SOURCES)
	mkdir -p $(BENCH_DATA)
	$(CARGO) run --release -q -p group-identity --example generate -- \
	  --profiles $* --format ndjson --seed 1 >$@.tmp
	mv $@.tmp $@

$(BENCH_DATA)/definition.json: $(GENERATOR_SOURCES)
	mkdir -p $(BENCH_DATA)
	$(CARGO) run --release -q -p group-identity --example generate -- --definition >$@.tmp
	mv $@.tmp $@

bench-wasm: package $(BENCH_DATA)/definition.json $(BENCH_DATA)/profiles-100000.ndjson \
		$(BENCH_DATA)/profiles-1000000.ndjson
	$(CARGO) build --release -p group-identity --example time_preview
	node --expose-gc bench/wasm/bench.mjs $(BENCH_DATA)/definition.json \
	  $(BENCH_DATA)/profiles-100000.ndjson $(BENCH_DATA)/profiles-1000000.ndjson

# PreviewSession over a 10M-profile file through a read stream (long: several minutes, and
# the file is a few GB), so not part of bench-wasm.
bench-wasm-stream: package $(BENCH_DATA)/definition.json $(BENCH_DATA)/profiles-10000000.ndjson
	node bench/wasm/stream.mjs $(BENCH_DATA)/definition.json $(BENCH_DATA)/profiles-10000000.ndjson
