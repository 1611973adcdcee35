#!/bin/sh
# Makes sure the system packages a make target needs are installed.
# Usage: tools/deps.sh build|run|test|bench|pi|deb|install
# As root it installs what is missing with apt-get; otherwise it prints the exact command.
#   pi   cross builds for the Raspberry Pi from an x86_64 Debian machine (tools/cross.sh) and
#        running them under qemu-user: rustup targets, cross gcc, cross C library headers
#   deb  Debian packages (tools/deb.sh): lintian, systemd-analyze
#   install  `make install`: the turbojpeg build, nothing for checking packages
set -eu
need=""
want() { # want COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || need="$need $2"
}
want_file() { # want_file PATH PACKAGE
  [ -e "$1" ] || need="$need $2"
}
case "${1:-build}" in
  build|run)
    want cc build-essential
    want_file /usr/share/doc/libclang-dev libclang-dev  # camera: bindgen builds v4l2-sys-mit
    ;;
  install)
    want cc build-essential
    want_file /usr/share/doc/libclang-dev libclang-dev
    want cmake cmake                                    # libjpeg-turbo (turbojpeg)
    want nasm nasm
    ;;
  test|bench)
    want cc build-essential
    want curl curl
    want ffmpeg ffmpeg
    want ffprobe ffmpeg
    want Xvfb xvfb
    want xdpyinfo x11-utils
    want xrandr x11-xserver-utils
    want xsetroot x11-xserver-utils
    want xdotool xdotool
    want setxkbmap x11-xkb-utils                        # control: keyboard layouts on Xvfb
    want chromium chromium
    want firefox-esr firefox-esr                        # the page in a second engine (WebDriver BiDi)
    want node nodejs
    want npm npm
    want python3 python3
    want_file /usr/share/doc/python3-venv python3-venv
    want cmake cmake
    want nasm nasm
    want_file /usr/share/doc/libclang-dev libclang-dev  # camera: bindgen builds v4l2-sys-mit
    want file file                                      # camera: JPEG sizes in the test bed guest
    want ustreamer ustreamer                            # camera: the peer compared in the test bed
    want tjbench libjpeg-turbo-progs                    # camera bench: libjpeg-turbo baseline
    want openssl openssl                                # HTTPS tests: the test CA
    want certutil libnss3-tools                         # HTTPS tests: Chromium trusts the test CA
    want nginx nginx                                    # reverse-proxy test (docs/proxy.md)
    want zsh zsh                                        # flags test: zsh completes from the script
    want man man-db                                     # flags test: the man page renders cleanly
    ;;
  pi)
    if [ "$(uname -m)" != x86_64 ]; then
      echo "tools/deps.sh pi sets up cross builds on an x86_64 machine; on the Pi itself build" >&2
      echo "natively: cargo build --release --features turbojpeg (needs cmake, libclang-dev)" >&2
      exit 1
    fi
    want cc build-essential
    want_file /usr/share/doc/libclang-dev libclang-dev  # bindgen (v4l2-sys-mit) for each target
    want cmake cmake                                    # libjpeg-turbo (turbojpeg); no nasm on ARM
    want aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
    want arm-linux-gnueabihf-gcc gcc-arm-linux-gnueabihf
    # Named explicitly: with --no-install-recommends nothing else brings the cross C library,
    # and bindgen then fails with "'sys/time.h' file not found".
    want_file /usr/aarch64-linux-gnu/include/sys/time.h libc6-dev-arm64-cross
    want_file /usr/arm-linux-gnueabihf/include/sys/time.h libc6-dev-armhf-cross
    want qemu-aarch64 qemu-user                         # the tests and bench run ARM builds
    want qemu-arm qemu-user
    ;;
  deb)
    want cc build-essential
    want_file /usr/share/doc/libclang-dev libclang-dev
    want cmake cmake                                    # the amd64 package is a turbojpeg build
    want nasm nasm
    want lintian lintian
    want systemd-analyze systemd                        # verifies the unit (no running systemd needed)
    want readelf binutils                               # the glibc version a binary needs
    # The package installed in the test bed's systemd guest (tests/deb/systemd.sh) uses these
    # from this machine's root.
    want adduser adduser
    want man man-db
    want xauth xauth
    want xhost x11-xserver-utils
    want Xvfb xvfb
    want file file
    want curl curl
    ;;
esac
# The screen bench's tutorial baseline: pyautogui takes X11 screenshots with scrot.
[ "${1:-}" = bench ] && want scrot scrot
command -v cargo >/dev/null 2>&1 || {
  echo "cargo is missing: install Rust 1.88 or newer with rustup, https://rustup.rs" >&2
  exit 1
}
# Rust targets of the Raspberry Pi builds (rustup needs no root).
pi_targets() {
  [ "${1:-}" = pi ] || return 0
  targets="aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf aarch64-unknown-linux-musl"
  if ! command -v rustup >/dev/null 2>&1; then
    echo "rustup is missing: the Raspberry Pi builds need rustup's targets ($targets); https://rustup.rs" >&2
    exit 1
  fi
  installed=$(rustup target list --installed)
  for t in $targets; do
    echo "$installed" | grep -qx "$t" || rustup target add "$t" >&2
  done
  # The headers bindgen and cmake compile against for each target.
  for f in /usr/aarch64-linux-gnu/include/sys/time.h /usr/aarch64-linux-gnu/include/linux/videodev2.h \
           /usr/arm-linux-gnueabihf/include/sys/time.h /usr/arm-linux-gnueabihf/include/linux/videodev2.h; do
    [ -e "$f" ] || { echo "cross headers missing: $f (packages libc6-dev-arm64-cross, libc6-dev-armhf-cross)" >&2; exit 1; }
  done
}
browser_deps() { # the browser tests' playwright-core and puppeteer-core, pinned by package-lock.json
  case "${1:-build}" in test|bench) ;; *) return 0 ;; esac
  dir="$(dirname "$0")/../tests/browser"
  command -v npm >/dev/null 2>&1 || return 0
  # Installed and the locked versions: nothing to do (a changed lock installs again).
  fresh=yes
  for pkg in playwright-core puppeteer-core; do
    locked=$(sed -n "/\"node_modules\/$pkg\"/,/\"version\"/s/.*\"version\": \"\(.*\)\".*/\1/p" "$dir/package-lock.json")
    # No node_modules yet (a fresh clone): sed fails, and set -e must not end the script here.
    installed=$(sed -n 's/^  "version": "\(.*\)".*/\1/p' "$dir/node_modules/$pkg/package.json" 2>/dev/null || true)
    { [ -n "$locked" ] && [ "$locked" = "$installed" ]; } || fresh=no
  done
  [ "$fresh" = yes ] && return 0
  (cd "$dir" && npm ci --no-audit --no-fund >/dev/null)
}
if [ -z "$need" ]; then
  browser_deps "${1:-build}"
  pi_targets "${1:-build}"
  exit 0
fi
need=$(echo $need | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing:$need" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  browser_deps "${1:-build}"
  pi_targets "${1:-build}"
else
  echo "missing system packages; install them with:" >&2
  echo "  sudo apt-get install -y $need" >&2
  exit 1
fi
