# GroupsClient, the live API client of the npm package, against the API emulator (started by
# the tests on a free port): in Node, and in headless Chromium from another origin (CORS).

.PHONY: test-client test-client-node test-client-browser client-test-deps client-emulator
TEST_TARGETS += test-client

test-client: test-client-node test-client-browser

# npm ci only when the lock file changed since the last install.
tests/client/node_modules/.package-lock.json: tests/client/package-lock.json tests/client/package.json
	cd tests/client && npm ci --no-audit --no-fund
	touch $@

client-test-deps: tests/client/node_modules/.package-lock.json

# The tests spawn target/debug/group-identity-emulator themselves (EMULATOR_BIN overrides).
# Built as `cargo test --workspace` builds it (test-native has, so this is instant): a
# `cargo build -p` would unify other features and compile its web-server crates again.
client-emulator:
	$(CARGO) test --workspace --no-run

test-client-node: package client-emulator
	cd tests/client && node --test --test-concurrency=1 node.test.mjs

test-client-browser: package client-emulator client-test-deps tool-chromium
	cd tests/client && node --test browser.test.mjs
