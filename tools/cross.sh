#!/bin/sh
# The Raspberry Pi builds, in one place for make and the tests: the linker, features and
# qemu-user runner of each ARM target. Passed as environment variables rather than committed to
# .cargo/config.toml because on a Pi the host is ARM itself: a committed linker or runner would
# break plain `cargo build` and `cargo run` there.
#
# Usage: tools/cross.sh TARGET build|test [CARGO-ARGS...]   cargo build/test --release --target TARGET
#        tools/cross.sh TARGET exec PROGRAM [ARGS...]        run an ARM program (qemu-user if needed)
#        tools/cross.sh TARGET binary                        print where `build` puts deskcam
# TARGET: aarch64-unknown-linux-gnu      Pi 3/4/5 with 64-bit Raspberry Pi OS (bookworm or later)
#         armv7-unknown-linux-gnueabihf  Pi 2/3/4/Zero 2 with 32-bit Raspberry Pi OS (bookworm)
#         aarch64-unknown-linux-musl     64-bit, fully static: older systems such as bullseye
# FEATURES, if set (even empty), replaces the target's cargo features (the bench builds the
# ARM targets without turbojpeg too, into another CARGO_TARGET_DIR).
set -eu
usage() { sed -n '/^# Usage/,/^set -eu/{/^set/d; s/^# \{0,1\}//; p}' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
target=$1 verb=$2
shift 2
case $target in
  aarch64-unknown-linux-gnu)
    # libjpeg-turbo (cargo feature turbojpeg) is the only NEON-accelerated JPEG encoder here:
    # jpeg-encoder's SIMD is x86 only. Its C part is built by cmake with the cross gcc.
    linker=aarch64-linux-gnu-gcc qemu=qemu-aarch64 sysroot=/usr/aarch64-linux-gnu
    features=turbojpeg machine=aarch64 ;;
  armv7-unknown-linux-gnueabihf)
    linker=arm-linux-gnueabihf-gcc qemu=qemu-arm sysroot=/usr/arm-linux-gnueabihf
    features=turbojpeg machine=armv7l ;;
  aarch64-unknown-linux-musl)
    # rust-lld (shipped with rustup) links musl's own start files: no musl C toolchain, fully
    # static. libjpeg-turbo would need a musl C cross compiler, which Debian lacks, so this
    # build keeps the pure-Rust encoder.
    # ring (rustls's cryptography) has C and assembly parts; they call nothing from the C
    # library, so Debian's glibc cross gcc compiles them and rust-lld links them with musl.
    export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
    linker=rust-lld qemu=qemu-aarch64 sysroot=
    features= machine=aarch64 ;;
  *) echo "tools/cross.sh: unknown target '$target'" >&2; usage ;;
esac
features=${FEATURES-$features}
var=$(echo "$target" | tr 'a-z-' 'A-Z_')
export "CARGO_TARGET_${var}_LINKER=$linker"
# A runner only where the host cannot run the binary itself.
runner=""
if [ "$(uname -m)" != "$machine" ]; then
  runner=$qemu
  [ -n "$sysroot" ] && runner="$qemu -L $sysroot"
  export "CARGO_TARGET_${var}_RUNNER=$runner"
fi
root=$(cd "$(dirname "$0")/.." && pwd)
case $verb in
  build|test)
    # -p deskcam: the workspace's test helpers (testkit) are no part of a Pi build.
    exec "${CARGO:-cargo}" "$verb" -p deskcam --release --target "$target" ${features:+--features "$features"} "$@" ;;
  exec)
    [ $# -ge 1 ] || usage
    exec $runner "$@" ;;
  binary)
    echo "${CARGO_TARGET_DIR:-$root/target}/$target/release/deskcam" ;;
  *) usage ;;
esac
