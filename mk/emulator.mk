# The API emulator (emulator/). Its tests run under `make test` through test-native
# (`cargo test --workspace`); these targets are conveniences.
#   make run-emulator                      127.0.0.1:8080, client local-client/local-secret, workspace 1000
#   make run-emulator EMULATOR_ARGS='--port 0 --state emulator-state.json'

EMULATOR_ARGS ?= --port 8080

.PHONY: run-emulator test-emulator
run-emulator:
	$(CARGO) run -p group-identity-emulator -- $(EMULATOR_ARGS)

test-emulator:
	$(CARGO) test -p group-identity-emulator
