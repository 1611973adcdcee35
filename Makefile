# deskcam: `make run` serves the test pattern on :8080; `make test` runs every test.
CARGO ?= cargo
ARGS ?=

.PHONY: build run test unit e2e bench lint deps-test deps-bench clean

build:
	@tools/deps.sh build
	$(CARGO) build --release

# The main job: the built-in test pattern on http://0.0.0.0:8080/ (override with ARGS="...").
run: build
	./target/release/deskcam $(ARGS)

deps-test:
	@tools/deps.sh test

deps-bench:
	@tools/deps.sh bench

# Unit tests beside the code (ours, then the vendored HTTP parser's), then end-to-end tests
# against the real binary; then the band encoder's byte- and pixel-identity tests again with
# libjpeg-turbo (they must hold for both encoders).
test: deps-test
	$(CARGO) test --release -p tiny_http
	$(CARGO) test --release
	CARGO_TARGET_DIR=target/turbojpeg $(CARGO) test --release --features turbojpeg --lib encode::
	CARGO_TARGET_DIR=target/turbojpeg $(CARGO) test --release --features turbojpeg --test tests bands::

bench: deps-bench
	$(CARGO) build --release
	$(CARGO) bench --bench fanout
	$(CARGO) bench --bench snapshot
	@# The screen bench compares the default build with a libjpeg-turbo build of its own.
	CARGO_TARGET_DIR=target/turbojpeg $(CARGO) build --release --features turbojpeg || \
		echo "turbojpeg build failed: the screen bench reports it as not measured"
	$(CARGO) bench --bench screen
	$(CARGO) bench --bench input
	$(CARGO) bench --bench camera
	CARGO_TARGET_DIR=target/turbojpeg $(CARGO) bench --bench camera --features turbojpeg

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

clean:
	$(CARGO) clean
