#!/bin/sh
# Installs deskcam's files: the binary, the man page deskcam(1) and the bash and zsh
# completions (made by the program from its flag table, `deskcam --generate`, so they cannot
# drift from it), the systemd template unit deskcam@.service, the sysusers.d entry for the
# `deskcam` user and an example configuration. `make install` and the Debian packages
# (tools/deb.sh) both use it, so they install the same files.
#
# Usage: tools/install.sh BINARY DESTDIR [PREFIX [SYSCONFDIR]]
#   BINARY     the deskcam to install (any architecture)
#   DESTDIR    staging root ("" or / for the live system)
#   PREFIX     /usr/local by default; the packages use /usr
#   SYSCONFDIR /etc by default (where deskcam@.service looks for NAME.conf)
# HELP_BINARY may name a deskcam this machine can run, for the man page and completions, when
# BINARY is for another architecture (they are the same on every architecture).
set -eu
[ $# -ge 2 ] || { sed -n '/^# Usage/,/^set -eu/{/^set/d; s/^# \{0,1\}//; p}' "$0" >&2; exit 2; }
binary=$1 dest=${2%/} prefix=${3:-/usr/local} sysconfdir=${4:-/etc}
help_binary=${HELP_BINARY:-$binary}
here=$(cd "$(dirname "$0")/.." && pwd)
src=$here/packaging
[ -x "$binary" ] || { echo "tools/install.sh: $binary is not an executable; build it first" >&2; exit 1; }
# systemd looks for units and sysusers.d entries under /usr/local/lib as well as /usr/lib.
unitdir=$prefix/lib/systemd/system
sysusersdir=$prefix/lib/sysusers.d
mandir=$prefix/share/man/man1
bashdir=$prefix/share/bash-completion/completions
# Debian's zsh looks in vendor-completions for the system's packages, site-functions for local ones.
case $prefix in
  /usr) zshdir=$prefix/share/zsh/vendor-completions ;;
  *) zshdir=$prefix/share/zsh/site-functions ;;
esac
fill() { # fill FILE: the packaging template with this installation's paths
  sed -e "s|@BINDIR@|$prefix/bin|g" -e "s|@SYSCONFDIR@|$sysconfdir|g" -e "s|@UNITDIR@|$unitdir|g" "$1"
}
install -d "$dest$prefix/bin" "$dest$unitdir" "$dest$sysusersdir" "$dest$mandir" "$dest$sysconfdir/deskcam" \
  "$dest$bashdir" "$dest$zshdir"
install -m 755 "$binary" "$dest$prefix/bin/deskcam"
fill "$src/deskcam@.service.in" > "$dest$unitdir/deskcam@.service"
install -m 644 "$src/sysusers.conf" "$dest$sysusersdir/deskcam.conf"
fill "$src/example.conf" > "$dest$sysconfdir/deskcam/example.conf"
chmod 644 "$dest$unitdir/deskcam@.service" "$dest$sysconfdir/deskcam/example.conf"
# The page's date is the last commit's (reproducible builds), else today.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
# The page names the configuration folder as /etc/deskcam; say where it really is.
"$help_binary" --generate man | sed "s|/etc/deskcam|$sysconfdir/deskcam|g" > "$dest$mandir/deskcam.1"
gzip -9n -f "$dest$mandir/deskcam.1"
"$help_binary" --generate complete-bash > "$dest$bashdir/deskcam"
"$help_binary" --generate complete-zsh > "$dest$zshdir/_deskcam"
chmod 644 "$dest$mandir/deskcam.1.gz" "$dest$bashdir/deskcam" "$dest$zshdir/_deskcam"
# Into the live system: create the user now rather than at the next boot, and tell systemd.
if [ -z "$dest" ] && [ "$(id -u)" = 0 ]; then
  if command -v systemd-sysusers >/dev/null; then systemd-sysusers "$sysusersdir/deskcam.conf"; fi
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
fi
