#!/bin/sh
# The amd64 package installed and run by a real systemd: run inside the V4L2 test bed's
# systemd guest (tools/v4l2-testbed/run --systemd), which boots systemd as PID 1 on a throwaway
# writable layer over the host's root, with vivid at /dev/video0. Prints "PASS name" or
# "FAIL name: why" per check and DONE at the end; tests/deb.rs asserts every check passed.
# Usage (from the repository root): tools/v4l2-testbed/run --systemd 'sh tests/deb/systemd.sh PACKAGE'
set -u
DEB=$1
pass() { echo "PASS $1 ($(date +%T))"; }
fail() { echo "FAIL $1: $2 ($(date +%T))"; }
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "$*"; fi; }
poll() { # poll SECONDS COMMAND...: until COMMAND succeeds (guest time runs slow: generous)
  t=$1; shift; i=0
  while [ "$i" -lt $((t * 5)) ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; i=$((i + 1)); done
  return 1
}
size_of() { file -b "$1" 2>/dev/null | sed -n 's/.*, \([0-9]*\)x\([0-9]*\), components.*/\1x\2/p'; }
snap_is() { # snap_is PORT WxH: a snapshot of that size
  curl -sf --max-time 10 -o /tmp/snap.jpg "http://127.0.0.1:$1/snapshot" && [ "$(size_of /tmp/snap.jpg)" = "$2" ]
}
conf() { # conf NAME ARGS...: /etc/deskcam/NAME.conf from the example, with these arguments
  sed "s|^DESKCAM_ARGS=.*|DESKCAM_ARGS=$2|" /etc/deskcam/example.conf > "/etc/deskcam/$1.conf"
}
main_pid() { systemctl show -p MainPID --value "deskcam@$1"; }
status_has() { grep -q "^$2" "/proc/$(main_pid "$1")/status" && grep "^$2" "/proc/$(main_pid "$1")/status" | grep -q "$3"; }
tls_snap_is() { # tls_snap_is PORT WxH: over HTTPS, trusting the kept self-signed certificate
  curl -sf --max-time 10 --cacert /var/lib/deskcam/tls-self-signed.pem -o /tmp/tls.jpg \
    "https://127.0.0.1:$1/snapshot" && [ "$(size_of /tmp/tls.jpg)" = "$2" ]
}
journal() { journalctl -u "deskcam@$1" --no-pager -o cat 2>/dev/null | tail -n 5 | tr '\n' '|'; }

# The guest's root is this machine's, under a throwaway layer. Two things in it are not what a
# Pi has: a container's policy-rc.d that forbids starting services, and man-db's trigger, which
# would re-index every man page (over 10 minutes in the emulated guest).
rm -f /usr/sbin/policy-rc.d /var/lib/man-db/auto-update
check dpkg-install dpkg -i "$DEB"
check user-in-video sh -c 'id -nG deskcam | grep -qw video'
check unit-loaded systemctl cat deskcam@example.service
check man-page sh -c 'man -w deskcam'

# The pattern: the service starts as the deskcam user with the hardening in force.
conf pattern "--source pattern --size 320x240 --listen 127.0.0.1:8091"
check enable-now systemctl enable --now deskcam@pattern
check pattern-serves poll 60 snap_is 8091 320x240
check pattern-runs-as-deskcam sh -c "ps -o user= -p $(main_pid pattern) | grep -qx deskcam"
check pattern-no-new-privileges status_has pattern NoNewPrivs 1
check pattern-no-capabilities status_has pattern CapEff 0000000000000000
check pattern-enabled sh -c 'systemctl is-enabled deskcam@pattern | grep -qx enabled'
# ProtectSystem=strict, ProtectHome: not even its own files are writable, homes are empty.
check pattern-root-read-only sh -c "nsenter -t $(main_pid pattern) -m sh -c '! touch /usr/.x && ! touch /etc/deskcam/.x'"
check pattern-home-hidden sh -c "nsenter -t $(main_pid pattern) -m sh -c '[ -z \"\$(ls -A /root)\" ] && [ -z \"\$(ls -A /home)\" ]'"
echo "INFO pattern journal: $(journal pattern)"

# A camera: DeviceAllow=char-video4linux and the video group let it open /dev/video0.
conf cam "--source camera --device /dev/video0 --size 640x480 --listen 127.0.0.1:8092"
check camera-start systemctl start deskcam@cam
check camera-serves poll 90 snap_is 8092 640x480
echo "INFO camera journal: $(journal cam)"

# A desktop: the X socket reaches the private /tmp, and xhost lets the deskcam user in.
xauth -q -f /tmp/xauth add :9 . "$(mcookie)"
Xvfb :9 -auth /tmp/xauth -noreset -nolisten tcp -screen 0 400x300x24 >/dev/null 2>&1 &
poll 60 test -S /tmp/.X11-unix/X9
check xhost-grants env DISPLAY=:9 XAUTHORITY=/tmp/xauth xhost +SI:localuser:deskcam
conf desk "--source screen --display :9 --listen 127.0.0.1:8093"
check screen-start systemctl start deskcam@desk
check screen-serves poll 60 snap_is 8093 400x300
echo "INFO screen journal: $(journal desk)"

# A mistake in the configuration: one line in the journal, and the unit keeps trying.
conf broken "--source nonsense --listen 127.0.0.1:8094"
systemctl start deskcam@broken
check broken-restarts poll 60 sh -c '[ "$(systemctl show -p NRestarts --value deskcam@broken)" -ge 1 ]'
check broken-says-why sh -c 'journalctl -u deskcam@broken --no-pager -o cat | grep -q -- "--source"'
echo "INFO broken journal: $(journal broken)"
systemctl stop deskcam@broken

# HTTPS with a self-signed certificate, made in the unit's state directory (the read-only system
# leaves no other place) and private to the deskcam user.
conf tls "--source pattern --size 320x240 --listen 127.0.0.1:8095 --tls-self-signed"
check tls-start systemctl start deskcam@tls
check tls-serves poll 60 tls_snap_is 8095 320x240
check tls-key-private sh -c '[ "$(stat -c "%U %a" /var/lib/deskcam/tls-self-signed.key)" = "deskcam 600" ]'
# systemctl reload: the certificate is read again and the instance keeps serving.
check tls-reload systemctl reload deskcam@tls
check tls-reloaded poll 60 sh -c 'journalctl -u deskcam@tls --no-pager -o cat | grep -q "reloaded the TLS certificate"'
check tls-serves-after-reload poll 60 tls_snap_is 8095 320x240
echo "INFO tls journal: $(journal tls)"

# Removing the package stops every instance first.
check dpkg-remove dpkg -r deskcam
check removed-instances-stopped sh -c '! systemctl is-active -q deskcam@pattern deskcam@cam deskcam@desk deskcam@tls'
check removed-port-closed sh -c '! curl -sf --max-time 5 -o /dev/null http://127.0.0.1:8091/snapshot'
echo DONE
