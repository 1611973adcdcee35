#!/bin/sh
# Makes sure the system packages a make target needs are installed.
# Usage: tools/deps.sh build|run|test|bench
# As root it installs what is missing with apt-get; otherwise it prints the exact command.
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
    ;;
esac
# The screen bench's tutorial baseline: pyautogui takes X11 screenshots with scrot.
[ "${1:-}" = bench ] && want scrot scrot
command -v cargo >/dev/null 2>&1 || {
  echo "cargo is missing: install Rust 1.85 or newer (edition 2024) with rustup, https://rustup.rs" >&2
  exit 1
}
browser_deps() { # the browser end-to-end test's playwright-core, pinned by package-lock.json
  case "${1:-build}" in test|bench) ;; *) return 0 ;; esac
  dir="$(dirname "$0")/../tests/browser"
  [ -d "$dir/node_modules/playwright-core" ] && return 0
  command -v npm >/dev/null 2>&1 || return 0
  (cd "$dir" && npm ci --no-audit --no-fund >/dev/null)
}
if [ -z "$need" ]; then
  browser_deps "${1:-build}"
  exit 0
fi
need=$(echo $need | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing:$need" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  browser_deps "${1:-build}"
else
  echo "missing system packages; install them with:" >&2
  echo "  sudo apt-get install -y $need" >&2
  exit 1
fi
