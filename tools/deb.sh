#!/bin/sh
# Builds the Debian packages with dpkg-deb (in every Debian; see the README for why not
# cargo-deb): target/deb/deskcam_VERSION_ARCH.deb for each ARCH given.
#   amd64  this machine, --features turbojpeg (as in target/turbojpeg, which `make bench` shares)
#   arm64  Raspberry Pi 3/4/5 with 64-bit Raspberry Pi OS bookworm or later (tools/cross.sh)
#   armhf  Raspberry Pi 2/3/4/Zero 2 with 32-bit Raspberry Pi OS bookworm or later
# The files come from tools/install.sh, as for `make install`.
# Usage: tools/deb.sh ARCH...
set -eu
[ $# -ge 1 ] || { echo "usage: tools/deb.sh amd64|arm64|armhf..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
pkg=$root/packaging
out=${CARGO_TARGET_DIR:-$root/target}/deb
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
maintainer="deskcam developers <deskcam@users.noreply.example.org>"
mkdir -p "$out"

build() { # build ARCH: sets $binary, $strip and $help (a deskcam this machine can run)
  tmp=$1
  case $arch in
    amd64)
      CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}/turbojpeg \
        cargo build -p deskcam --quiet --release --features turbojpeg --manifest-path "$root/Cargo.toml"
      binary=${CARGO_TARGET_DIR:-$root/target}/turbojpeg/release/deskcam
      strip=strip help=$binary ;;
    arm64|armhf)
      [ "$arch" = arm64 ] && triple=aarch64-unknown-linux-gnu strip=aarch64-linux-gnu-strip
      [ "$arch" = armhf ] && triple=armv7-unknown-linux-gnueabihf strip=arm-linux-gnueabihf-strip
      "$root/tools/cross.sh" "$triple" build --quiet --manifest-path "$root/Cargo.toml"
      binary=$("$root/tools/cross.sh" "$triple" binary)
      # The ARM build itself (under qemu-user here) prints the man page and completions.
      help=$tmp/bin/deskcam
      mkdir -p "$tmp/bin"
      printf '#!/bin/sh\nexec "%s" %s exec "%s" "$@"\n' "$root/tools/cross.sh" "$triple" "$binary" > "$help"
      chmod 755 "$help" ;;
    *) echo "tools/deb.sh: unknown architecture $arch (amd64, arm64 or armhf)" >&2; exit 2 ;;
  esac
}

# The lowest glibc the binary asks for (its newest versioned symbol).
glibc_needed() {
  readelf -V -W "$1" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1
}

for arch in "$@"; do
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  build "$tmp"
  stage=$tmp/stage
  HELP_BINARY=$help "$root/tools/install.sh" "$binary" "$stage" /usr /etc
  "$strip" --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/deskcam"
  doc=$stage/usr/share/doc/deskcam
  install -d "$doc" "$stage/usr/share/lintian/overrides" "$stage/DEBIAN"
  install -m 644 "$pkg/deb/copyright" "$doc/copyright"
  install -m 644 "$pkg/deb/lintian-overrides" "$stage/usr/share/lintian/overrides/deskcam"
  # A native package's changelog: one entry for this version, dated like the man page.
  date=$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}")
  printf 'deskcam (%s) unstable; urgency=medium\n\n  * Release %s; see README.md for what it does.\n\n -- %s  %s\n' \
    "$version" "$version" "$maintainer" "$date" | gzip -9n > "$doc/changelog.gz"
  chmod 644 "$doc/changelog.gz"
  for s in preinst postinst prerm postrm; do install -m 755 "$pkg/deb/$s" "$stage/DEBIAN/$s"; done
  echo /etc/deskcam/example.conf > "$stage/DEBIAN/conffiles"
  glibc=$(glibc_needed "$stage/usr/bin/deskcam")
  cat > "$stage/DEBIAN/control" <<CONTROL
Package: deskcam
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: libc6 (>= $glibc), libgcc-s1, adduser
Section: video
Priority: optional
Description: stream a webcam, an X11 desktop or a test pattern as MJPEG
 deskcam serves a V4L2 camera, an X11 desktop or a built-in test pattern
 as MJPEG over HTTP to browsers, curl, ffmpeg, VLC, OctoPrint and Home
 Assistant, and lets an authorised viewer control the desktop. It is one
 small program with no runtime dependencies beyond the C library.
 .
 The systemd template unit deskcam@.service runs one hardened instance
 per camera, each configured in /etc/deskcam/NAME.conf.
CONTROL
  (cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
    xargs md5sum) > "$stage/DEBIAN/md5sums"
  chmod 644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/control"
  deb=$out/deskcam_${version}_$arch.deb
  # Built aside and renamed: a test may be reading the previous package at the same moment.
  dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb.$$" >/dev/null
  mv "$deb.$$" "$deb"
  echo "$deb"
  rm -rf "$tmp"
  trap - EXIT
done
