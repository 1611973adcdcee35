//! The `--help` text: every flag with its default, grouped by what it configures.

pub const HELP: &str = "\
deskcam: stream a webcam, an X11 desktop or a test pattern to any browser as MJPEG.

Usage: deskcam [OPTIONS]

Source:
  --source pattern|screen|camera  what to stream [default: pattern]
  --size WxH              frame size [default: 1280x720; camera: its mode nearest that;
                          screen: its real size]
  --fps N                 frames per second, 1-1000 (a maximum for the screen) [default: 30]
  --quality N             JPEG quality, 1-100 [default: 80]
  --subsampling 420|422|444  JPEG chroma subsampling [default: 420]
  --workers N             JPEG encoder threads, 1-64 [default: number of CPUs]
  --idle-stop SECONDS     stop capturing after this long without clients; 0 = never [default: 10]

Screen (--source screen):
  --display :N            X display [default: $DISPLAY]
  --region WxH+X+Y        stream only this rectangle of the screen
  --monitor NAME|INDEX    stream only this RandR monitor
  --no-cursor             leave the mouse cursor out of the picture
  --full-frames           encode every frame whole instead of only the bands that
                          changed (costs more CPU; for comparison)
  --control               let authorised viewers click and type (off by default)

Camera (--source camera):
  --device PATH           V4L2 device [default: /dev/video0]
  --format FORMAT         capture format: auto, mjpeg, yuyv, uyvy, nv12, yuv420, rgb24, bgr24
                          or grey; auto prefers the camera's own MJPEG, then the format
                          cheapest to encode [default: auto]
  --rotate 90|180|270     turn the picture clockwise (90 and 270 need a raw format)
  --flip                  turn the picture upside down
  --mirror                mirror the picture left to right
  --set NAME=VALUE        set a camera control at every open, e.g. --set brightness=140
                          (repeatable; names as --list-controls and v4l2-ctl show them)
  --camera-controls       let authorised viewers change the camera's controls (off by default)
  --list-devices          list V4L2 cameras and exit
  --list-formats          list the formats, sizes and rates of --device and exit
  --list-controls         list the controls of --device (range, default, value) and exit

Server:
  --listen [ADDR:]PORT    address to serve on (ADDR may be a host name) [default: 0.0.0.0:8080]
  --max-clients N         concurrent streams, 1-10000; more get 503 [default: 64]
  --auth USER:PASSWORD    require HTTP Basic authentication for everything
  --auth-file PATH        read USER:PASSWORD from the first line of a file
                          (or set DESKCAM_AUTH=USER:PASSWORD; keeps it out of `ps`)
  -q, --quiet             log only warnings and errors
  -h, --help              print this help
  -V, --version           print the version

HTTPS and proxies:
  --tls-cert PATH         serve HTTPS with this PEM certificate chain (re-read on SIGHUP)
  --tls-key PATH          the PEM private key of --tls-cert (re-read on SIGHUP)
  --tls-self-signed       serve HTTPS with a self-signed certificate for this machine's names,
                          made once and kept in --state-dir; prints its SHA-256 fingerprint
  --state-dir PATH        where --tls-self-signed keeps it [default: $STATE_DIRECTORY, else
                          $XDG_STATE_HOME/deskcam, else ~/.local/state/deskcam]
  --allow-plain-http      allow --control off loopback without HTTPS: only behind a TLS proxy
                          on another host (--control on the network needs HTTPS otherwise)
  --trusted-proxy ADDR    requests from this proxy IP name their client in X-Forwarded-For
                          (logs, password lockout and rate limits see the real viewer)

Endpoints: /  /stream  /snapshot[?fresh=1]  /state  POST /input  /camera/controls
";
