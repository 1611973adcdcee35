#!/bin/sh
# Camera end-to-end scenarios, run inside the V4L2 test bed guest (vivid at /dev/video0,
# v4l2loopback at /dev/video10) in ONE boot, because each boot costs 20-40 s.
# Prints one "PASS name" or "FAIL name: why" line per check, "INFO ..." lines for figures and
# the ustreamer comparison, and "PICTURE name file" for each snapshot whose pixels matter:
# tests/camera.rs, which runs this script, asserts every expected check passed and judges those
# pictures on the host (colour bars, NO SIGNAL, flipped), where decoding is fast.
# Environment: DESKCAM names the binary [default: target/release/deskcam]; SCRATCH a directory
# in the shared working directory for files and logs [default: a new one under target/], where
# tests/camera.rs has put fixed.jpg and bare.jpg (one MJPEG frame with and without its Huffman
# tables) for the passthrough section.
set -u
B=${DESKCAM:-target/release/deskcam}
# Scratch files and every deskcam log go to the shared working directory, so they survive the
# guest (its /tmp does not) for a look after a failure.
mkdir -p target
W=${SCRATCH:-$(mktemp -d "$(pwd)/target/camera-e2e.XXXXXX")}
echo "INFO scratch files and logs: $W"
PORT=8081
U="http://127.0.0.1:$PORT"

pass() { echo "PASS $1 ($(date +%T))"; }
fail() { echo "FAIL $1: $2 ($(date +%T))"; }
# check NAME COMMAND...: PASS when COMMAND succeeds.
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then pass "$n"; else fail "$n" "$*"; fi; }
# poll SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds or time runs out.
poll() {
  t=$1; shift; i=0
  while [ "$i" -lt $((t * 5)) ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; i=$((i + 1)); done
  return 1
}
# size_of FILE: "W,H" of a JPEG. `file` rather than ffprobe: ffmpeg's tools take 5-10 s to
# start in the emulated guest.
size_of() { file -b "$1" 2>/dev/null | sed -n 's/.*, \([0-9]*\)x\([0-9]*\), components.*/\1,\2/p'; }
decodes() { [ -s "$1" ] && ffmpeg -v error -i "$1" -f null - 2>&1 | { ! grep -q .; }; }
state() { curl -sf --max-time 5 "$U/state"; }
state_has() { state | grep -q "$1"; }
snap() { curl -sf --max-time 15 -o "$1" "$U/snapshot${2:-}"; }
# picture NAME FILE: hands a snapshot to tests/camera.rs, which knows what NAME must show.
picture() { echo "PICTURE $1 $2"; }
# grows FILE BYTES: FILE is now longer than BYTES.
grows() { [ "$(wc -c <"$1")" -gt "$2" ]; }
video_fds() { ls -l /proc/"$1"/fd 2>/dev/null | grep -c '/dev/video'; }
no_video_fd() { [ "$(video_fds "$1")" = 0 ]; }
has_video_fd() { [ "$(video_fds "$1")" -gt 0 ]; }
alive() { kill -0 "$1" 2>/dev/null; }
frames() { state | sed -n 's/.*"camera_frames":\([0-9]*\).*/\1/p'; }
frames_above() { f=$(frames); [ -n "$f" ] && [ "$f" -gt "$1" ]; }
# start NAME ARGS...: deskcam in the background on $PORT, log in $W/NAME.log, pid in $PID.
start() {
  name=$1; shift
  "$B" --source camera --listen "127.0.0.1:$PORT" "$@" 2>"$W/$name.log" &
  PID=$!
  poll 30 state || { fail "$name-start" "no answer; log: $(tr '\n' ' ' <"$W/$name.log")"; return 1; }
}
# stop: SIGTERM, and deskcam must be gone within 10 s.
stop() {
  kill "$PID" 2>/dev/null
  if poll 10 sh -c "! kill -0 $PID"; then wait "$PID" 2>/dev/null; else
    fail "$name-exits-on-sigterm" "still running 10 s after SIGTERM"; kill -9 "$PID"; wait "$PID" 2>/dev/null
  fi
}
# want SECTION: whether to run it (all sections unless some are named on the command line).
want() { [ -z "$SECTIONS" ] || echo " $SECTIONS " | grep -q " $1 "; }
SECTIONS="$*"
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "STEP $1 at $(date +%T)"; }
# exit2 NAME EXPECTED-TEXT ARGS...: deskcam must exit 2 with exactly one stderr line holding TEXT.
exit2() {
  name=$1; text=$2; shift 2
  timeout 60 "$B" "$@" --listen "127.0.0.1:$PORT" >/dev/null 2>"$W/$name.err"; rc=$?
  lines=$(wc -l <"$W/$name.err")
  if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -q -- "$text" "$W/$name.err"; then
    pass "$name"; echo "INFO $name message: $(cat "$W/$name.err")"
  else
    fail "$name" "rc=$rc lines=$lines: $(tr '\n' ' ' <"$W/$name.err")"
  fi
}
replug_vivid() {
  rmmod vivid 2>/dev/null
  modprobe vivid n_devs=1 vid_cap_nr=0 && poll 20 test -e /dev/video0
}

echo "INFO guest kernel $(uname -r)"

# --- listing ---------------------------------------------------------------------------------
if want listing; then
step listing
"$B" --list-formats --device /dev/video0 >"$W/formats.txt" 2>&1
check list-formats-yuyv grep -q '^  YUYV .*1280x720\|^    1280x720' "$W/formats.txt"
check list-formats-yuyv-line grep -q '^  YUYV' "$W/formats.txt"
"$B" --list-devices >"$W/devices.txt" 2>&1
check list-devices grep -q '^/dev/video0.*vivid.*YUYV' "$W/devices.txt"
fi

# --- bad setups: one line, exit 2 ------------------------------------------------------------
if want errors; then
step errors
exit2 missing-device "no such device" --source camera --device /dev/video99
exit2 not-a-camera "not a V4L2 camera" --source camera --device /dev/null
exit2 unsupported-size "does not offer --size 800x600" --source camera --device /dev/video0 --size 800x600
exit2 list-formats-missing "no such device" --list-formats --device /dev/video99
fi

# --- vivid YUYV, encoded ---------------------------------------------------------------------
if want yuyv; then
step yuyv
for size in 640x480 1280x720; do
  if start "yuyv-$size" --device /dev/video0 --size "$size"; then
    snap "$W/yuyv-$size.jpg"
    picture "yuyv-$size" "$W/yuyv-$size.jpg"
    got=$(size_of "$W/yuyv-$size.jpg")
    if [ "$got" = "$(echo $size | tr x ,)" ] && decodes "$W/yuyv-$size.jpg"; then
      pass "yuyv-$size-snapshot"
    else
      fail "yuyv-$size-snapshot" "got '$got'"
    fi
    check "yuyv-$size-state" state_has '"format":"YUYV","mode":"encode","size":"'"$size"'"'
    # The stream, read by ffmpeg as a client would: 5 frames of the right size (once: ffmpeg is
    # slow to start in the guest).
    rm -f "$W"/part-*.jpg
    [ "$size" = 640x480 ] && timeout 60 ffmpeg -v error -f mjpeg -i "$U/stream" -frames:v 5 -c copy "$W/part-%d.jpg" </dev/null
    n=$(ls "$W"/part-*.jpg 2>/dev/null | wc -l)
    if [ "$size" != 640x480 ]; then :
    elif [ "$n" = 5 ] && [ "$(size_of "$W/part-5.jpg")" = "$(echo $size | tr x ,)" ]; then
      pass "yuyv-$size-ffmpeg-stream"
    else
      fail "yuyv-$size-ffmpeg-stream" "$n frames"
    fi
    # And by curl: several multipart parts in 3 s.
    curl -s --max-time 3 "$U/stream" >"$W/stream.bin"
    parts=$(grep -ac 'Content-Type: image/jpeg' "$W/stream.bin")
    if [ "$parts" -ge 3 ]; then pass "yuyv-$size-curl-stream"; else fail "yuyv-$size-curl-stream" "$parts parts"; fi
    echo "INFO yuyv-$size state: $(state)"
    stop
  fi
done
fi

# No --size: the mode nearest 1280x720.
if want default; then
step default
if start default-size --device /dev/video0; then
  snap "$W/default.jpg"
  picture default "$W/default.jpg"
  check default-size-720p test "$(size_of "$W/default.jpg")" = "1280,720"
  stop
fi
fi

# --flip/--mirror while encoding: the same still picture unturned, upside down and sideways.
# vivid's colour squares (an 8x8 grid in which a flip changes every cell), without its text.
if want flip; then
step flip
timeout 20 v4l2-ctl -d /dev/video0 -c test_pattern=4 -c osd_text_mode=2
turned() { # turned NAME [FLAGS...]: a snapshot with FLAGS, handed on as flip-NAME
  turn=$1; shift
  if start "flip-$turn" --device /dev/video0 --size 640x480 "$@"; then
    snap "$W/flip-$turn.jpg" && picture "flip-$turn" "$W/flip-$turn.jpg"
    stop
  fi
}
turned plain
turned flipped --flip
turned mirrored --mirror
timeout 20 v4l2-ctl -d /dev/video0 -c test_pattern=0 -c osd_text_mode=0
fi

# --- injected errors -------------------------------------------------------------------------
if want inject; then
step inject
if start inject --device /dev/video0 --size 640x480 --idle-stop 0; then
  snap "$W/inject0.jpg"
  timeout 20 v4l2-ctl -d /dev/video0 -c inject_v4l2_buf_flag_error=1
  check buf-flag-error-counted poll 10 state_has '"dropped":[1-9]'
  check buf-flag-error-stays-online state_has '"online":true'
  curl -s --max-time 60 "$U/stream" >/dev/null &
  C=$!
  poll 10 state_has '"clients":1'
  f0=$(frames)
  timeout 20 v4l2-ctl -d /dev/video0 -c inject_fatal_streaming_error=1
  check fatal-error-detected poll 15 grep -q 'source lost' "$W/inject.log"
  check fatal-error-recovers poll 20 frames_above "$((f0 + 10))"
  check fatal-error-online poll 10 state_has '"online":true'
  check fatal-error-alive alive "$PID"
  kill "$C" 2>/dev/null
  stop
fi
fi

# --- idle stop: the device is closed without clients and reopened by the next one ----------
if want idle; then
step idle
if start idle --device /dev/video0 --size 640x480 --idle-stop 2; then
  snap "$W/idle0.jpg"
  check idle-closes-device poll 15 no_video_fd "$PID"
  check idle-state-not-capturing state_has '"capturing":false'
  # The snapshot must be a new camera picture (judged on the host), so the device reopened.
  t=$(curl -sf --max-time 15 -o "$W/idle1.jpg" -w '%{time_total}' "$U/snapshot")
  picture idle-reopened "$W/idle1.jpg"
  # And it stays open while someone watches (after a snapshot alone, the next idle stop may
  # close it before a slow guest looks).
  curl -s --max-time 60 "$U/stream" >/dev/null &
  C=$!
  check idle-device-open-again poll 15 has_video_fd "$PID"
  kill "$C" 2>/dev/null
  if [ -n "$t" ] && decodes "$W/idle1.jpg"; then
    pass idle-reopens
    echo "INFO first frame after reopen (guest time, software-emulated): ${t} s"
  else
    fail idle-reopens "no snapshot after idle"
  fi
  stop
fi
fi

# --- unplug and replug -----------------------------------------------------------------------
# vivid re-registers a disconnected device as soon as its last user closes it (vivid-core.c,
# vivid_fop_release: "reconnect"), and deskcam closes the device when it sees the loss, so a
# second process holds the node open: the camera then stays gone until that holder lets go.
if want unplug; then
step unplug
if start unplug --device /dev/video0 --size 640x480 --idle-stop 0; then
  curl -s --max-time 200 "$U/stream" >"$W/unplug-stream.bin" &
  C=$!
  sh -c 'exec 3</dev/video0; exec sleep 300' &
  H=$!
  poll 10 state_has '"online":true'
  timeout 20 v4l2-ctl -d /dev/video0 -c disconnect=1
  check unplug-offline poll 15 state_has '"online":false'
  check unplug-logged grep -q 'unplugged' "$W/unplug.log"
  check unplug-device-closed poll 10 no_video_fd "$PID"
  # ?fresh=1: a frame drawn after the request, so not the last camera frame published just
  # before the placeholder.
  check unplug-placeholder-snapshot snap "$W/placeholder.jpg" "?fresh=1"
  picture unplug-placeholder "$W/placeholder.jpg"
  check unplug-placeholder-size test "$(size_of "$W/placeholder.jpg")" = "640,480"
  check unplug-stream-keeps-going poll 10 grows "$W/unplug-stream.bin" "$(wc -c <"$W/unplug-stream.bin")"
  check unplug-still-offline state_has '"online":false'
  check unplug-alive alive "$PID"
  t0=$(date +%s.%N)
  kill "$H"; wait "$H" 2>/dev/null
  check replug-online poll 30 state_has '"online":true'
  echo "INFO back online after the camera returned (guest time): $(since "$t0") s"
  f0=$(frames)
  check replug-frames-resume poll 20 frames_above "$((f0 + 5))"
  check replug-real-snapshot snap "$W/replugged.jpg" "?fresh=1"
  picture replugged "$W/replugged.jpg"
  check replug-stream-client-kept alive "$C"
  kill "$C" 2>/dev/null
  stop
fi
# The driver itself removed and loaded again (rmmod needs every user gone: deskcam is idle).
if start reload --device /dev/video0 --size 640x480 --idle-stop 1; then
  snap "$W/reload0.jpg"
  poll 15 no_video_fd "$PID"
  check reload-rmmod rmmod vivid
  check reload-placeholder snap "$W/reload-ph.jpg" "?fresh=1"
  picture reload-placeholder "$W/reload-ph.jpg"
  check reload-offline state_has '"online":false'
  curl -s --max-time 200 "$U/stream" >/dev/null &
  C=$!
  t0=$(date +%s.%N)
  modprobe vivid n_devs=1 vid_cap_nr=0
  check reload-online poll 30 state_has '"online":true'
  echo "INFO back online after modprobe (guest time): $(since "$t0") s"
  f0=$(frames)
  check reload-frames-resume poll 20 frames_above "$((f0 + 5))"
  check reload-alive alive "$PID"
  kill "$C" 2>/dev/null
  stop
fi
fi

# --- MJPEG passthrough through v4l2loopback --------------------------------------------------
if want mjpeg; then
step mjpeg
# fixed.jpg: ffmpeg's testsrc2 with `-huffman default` (the Annex K tables, which a UVC camera
# that omits its DHT relies on); bare.jpg: the same without its DHT segments, as many UVC
# cameras send it. Both made on the host by tests/camera.rs.
check mjpeg-inputs test -s "$W/fixed.jpg" -a -s "$W/bare.jpg"
# A fresh loopback device: once a producer has left, v4l2loopback (exclusive_caps=1) keeps
# its capture format and refuses the next producer's VIDIOC_G_FMT (EINVAL), so reload it.
reset_loopback() {
  rmmod v4l2loopback && modprobe v4l2loopback devices=1 video_nr=10 exclusive_caps=1 card_label=loopback &&
    poll 20 test -e /dev/video10
}
feed() { # feed FILE: ffmpeg as the MJPEG camera; pid in $F
  timeout 300 ffmpeg -nostdin -v error -re -loop 1 -framerate 15 -i "$1" -c:v copy -f v4l2 /dev/video10 &
  F=$!
  poll 30 sh -c "timeout 20 v4l2-ctl -d /dev/video10 --list-formats | grep -q MJPG"
}
feed "$W/fixed.jpg"
"$B" --list-formats --device /dev/video10 >"$W/loop-formats.txt" 2>&1
echo "INFO loopback formats: $(tr '\n' ' ' <"$W/loop-formats.txt")"
exit2 passthrough-flip-refused "flip control" --source camera --device /dev/video10 --format mjpeg --flip
if start mjpeg --device /dev/video10 --idle-stop 0; then
  snap "$W/pass.jpg" "?fresh=1"
  check mjpeg-byte-identical cmp "$W/fixed.jpg" "$W/pass.jpg"
  check mjpeg-state state_has '"format":"MJPEG","mode":"passthrough"'
  # The producer stops: a stalled camera (no frames, no error). NO SIGNAL, and the stream is
  # restarted every 2 s. (A new producer cannot attach while deskcam keeps reopening the
  # node: v4l2loopback with exclusive_caps=1 refuses the output format while a reader has it
  # open, so recovery is checked on vivid above, not here.)
  kill "$F"; wait "$F" 2>/dev/null
  curl -s --max-time 60 "$U/stream" >/dev/null &
  C=$!
  check mjpeg-stall-detected poll 20 state_has '"online":false'
  check mjpeg-stall-log grep -q 'stalled' "$W/mjpeg.log"
  check mjpeg-stall-placeholder snap "$W/stall.jpg" "?fresh=1"
  picture mjpeg-stall "$W/stall.jpg"
  check mjpeg-stall-alive alive "$PID"
  kill "$C" 2>/dev/null
  stop
fi
kill "$F" 2>/dev/null; wait "$F" 2>/dev/null
check loopback-reset reset_loopback
feed "$W/bare.jpg"
if start mjpeg-dht --device /dev/video10; then
  snap "$W/dht.jpg" "?fresh=1"
  bare=$(wc -c <"$W/bare.jpg"); got=$(wc -c <"$W/dht.jpg")
  check mjpeg-dht-inserted test "$got" -eq $((bare + 420))
  # Decodes cleanly to exactly the pixels of the original (which carried the same tables).
  ffmpeg -v error -i "$W/fixed.jpg" -i "$W/dht.jpg" -map 0 -f md5 "$W/md5-a" -map 1 -f md5 "$W/md5-b" \
    </dev/null 2>"$W/dht-decode.err"
  check mjpeg-dht-decodes test -s "$W/md5-b" -a ! -s "$W/dht-decode.err"
  check mjpeg-dht-same-picture cmp "$W/md5-a" "$W/md5-b"
  stop
fi
kill "$F" 2>/dev/null; wait "$F" 2>/dev/null
fi

# --- the peer: Debian's ustreamer on the same scenarios (INFO only) ---------------------------
if want ustreamer; then
step ustreamer
if command -v ustreamer >/dev/null; then
  UU=http://127.0.0.1:8090
  ustreamer --device /dev/video0 --resolution 640x480 --format YUYV --host 127.0.0.1 --port 8090 \
    >"$W/ust.log" 2>&1 &
  S=$!
  poll 60 curl -sf -o "$W/ust.jpg" "$UU/snapshot"
  echo "INFO ustreamer snapshot: $(size_of "$W/ust.jpg") $(wc -c <"$W/ust.jpg") bytes"
  sleep 4
  echo "INFO ustreamer /dev/video descriptors after 4 s without clients: $(video_fds $S)"
  sh -c 'exec 3</dev/video0; exec sleep 300' &
  H=$!
  timeout 20 v4l2-ctl -d /dev/video0 -c disconnect=1
  sleep 5
  code=$(curl -s -o "$W/ust-unplug.jpg" -w '%{http_code}' --max-time 10 "$UU/snapshot")
  echo "INFO ustreamer after unplug: alive=$(alive $S && echo yes || echo no) snapshot HTTP $code $(size_of "$W/ust-unplug.jpg") descriptors=$(video_fds $S)"
  echo "INFO ustreamer state after unplug: $(curl -s --max-time 5 "$UU/state" | tr -d ' \n' | head -c 400)"
  t0=$(date +%s.%N)
  kill "$H"; wait "$H" 2>/dev/null
  if poll 60 sh -c "curl -s --max-time 5 $UU/state | tr -d ' ' | grep -q '\"online\":true'"; then
    echo "INFO ustreamer back online after the camera returned (guest time): $(since "$t0") s"
  else
    echo "INFO ustreamer not online 60 s after the camera returned"
  fi
  kill "$S" 2>/dev/null; wait "$S" 2>/dev/null
  echo "INFO ustreamer log: $(grep -v '^ *$' "$W/ust.log" | tail -12 | cut -c1-160 | tr '\n' '|')"
else
  echo "INFO ustreamer is not installed: no comparison"
fi
fi

echo "DONE"
