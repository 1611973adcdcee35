# deskcam: `make run` serves the test pattern on :8080; `make test` runs every test.
CARGO ?= cargo
ARGS ?=
# `make install`: where the files go (tools/install.sh).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR ?=
# The Raspberry Pi builds (settings in tools/cross.sh, deliberately not in .cargo/config.toml).
PI_TARGETS = aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf
PI_STATIC = aarch64-unknown-linux-musl

.PHONY: build run test unit e2e bench lint deps-test deps-bench deps-pi deps-deb clean \
	pi pi-static pi-test-build deb install

build:
	@tools/deps.sh build
	$(CARGO) build --release -p deskcam

# The main job: the built-in test pattern on http://0.0.0.0:8080/ (override with ARGS="...").
run: build
	./target/release/deskcam $(ARGS)

deps-test:
	@tools/deps.sh test
	@tools/deps.sh pi
	@tools/deps.sh deb

deps-bench:
	@tools/deps.sh bench
	@tools/deps.sh pi

deps-pi:
	@tools/deps.sh pi

deps-deb:
	@tools/deps.sh deb

# Raspberry Pi 3/4/5 (64-bit OS) and Pi 2/3/Zero 2 (32-bit OS), with libjpeg-turbo's NEON encoder:
# target/aarch64-unknown-linux-gnu/release/deskcam, target/armv7-unknown-linux-gnueabihf/release/deskcam
pi: deps-pi
	@for t in $(PI_TARGETS); do echo "tools/cross.sh $$t build"; tools/cross.sh $$t build || exit 1; done

# A fully static 64-bit build for older systems (bullseye): target/aarch64-unknown-linux-musl/release/deskcam
pi-static: deps-pi
	tools/cross.sh $(PI_STATIC) build

# The ARM unit tests, built ahead so `cargo test` only runs them (tests/arm.rs, under qemu-user).
pi-test-build: deps-pi
	@for t in $(PI_TARGETS) $(PI_STATIC); do tools/cross.sh $$t test --lib --bins --no-run -q || exit 1; done

# Debian packages for amd64, arm64 and armhf in target/deb/ (tools/deb.sh).
deb: deps-deb deps-pi
	tools/deb.sh amd64 arm64 armhf

# The packages' files from source: binary (libjpeg-turbo build, as in the amd64 package), man
# page, systemd unit, sysusers.d entry, example configuration.
install:
	@tools/deps.sh install
	CARGO_TARGET_DIR=target/turbojpeg $(CARGO) build -p deskcam --release --features turbojpeg
	tools/install.sh target/turbojpeg/release/deskcam "$(DESTDIR)" "$(PREFIX)" "$(SYSCONFDIR)"

# Unit tests beside the code (ours, then the vendored HTTP parser's), then end-to-end tests
# against the real binary; then the band encoder's byte- and pixel-identity tests again with
# libjpeg-turbo (they must hold for both encoders). The ARM builds and the packages are built
# first, so the tests that check them do not compete with the timing-sensitive ones for the CPU
# while compiling.
test: deps-test pi pi-static pi-test-build deb
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
	@# Raspberry Pi builds under qemu-user next to the native ones (benches/pi.rs).
	$(CARGO) bench --bench pi

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

clean:
	$(CARGO) clean
