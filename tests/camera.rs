//! Camera end-to-end tests against real V4L2 drivers: vivid (a virtual camera) and
//! v4l2loopback fed by ffmpeg, inside the qemu test bed (`../shared/v4l2-testbed`), because
//! this machine's kernel has no video drivers. Every scenario runs in ONE guest boot
//! (`tests/camera/scenarios.sh`, 20-40 s per boot); this test asserts each expected check
//! printed PASS. A missing test bed is a failure, not a skip.

use std::path::PathBuf;
use std::process::Command;

use crate::util;

/// Every check the scenario script must pass (its `PASS name` lines).
const EXPECTED: &[&str] = &[
    // --list-formats / --list-devices
    "list-formats-yuyv",
    "list-formats-yuyv-line",
    "list-devices",
    // one line and exit status 2
    "missing-device",
    "not-a-camera",
    "unsupported-size",
    "list-formats-missing",
    // vivid YUYV, encoded
    "yuyv-640x480-snapshot",
    "yuyv-640x480-state",
    "yuyv-640x480-ffmpeg-stream",
    "yuyv-640x480-curl-stream",
    "yuyv-1280x720-snapshot",
    "yuyv-1280x720-state",
    "yuyv-1280x720-curl-stream",
    "default-size-720p",
    "flip-encodes",
    // injected driver errors
    "buf-flag-error-counted",
    "buf-flag-error-stays-online",
    "fatal-error-detected",
    "fatal-error-recovers",
    "fatal-error-online",
    "fatal-error-alive",
    // capture only while watched
    "idle-closes-device",
    "idle-state-not-capturing",
    "idle-reopens",
    "idle-device-open-again",
    // unplug and replug
    "unplug-offline",
    "unplug-logged",
    "unplug-device-closed",
    "unplug-placeholder-snapshot",
    "unplug-placeholder-size",
    "unplug-stream-keeps-going",
    "unplug-still-offline",
    "unplug-alive",
    "replug-online",
    "replug-frames-resume",
    "replug-real-snapshot",
    "replug-stream-client-kept",
    "reload-rmmod",
    "reload-placeholder",
    "reload-offline",
    "reload-online",
    "reload-frames-resume",
    "reload-alive",
    // MJPEG passthrough (v4l2loopback)
    "passthrough-flip-refused",
    "mjpeg-byte-identical",
    "mjpeg-state",
    "mjpeg-stall-detected",
    "mjpeg-stall-log",
    "mjpeg-stall-placeholder",
    "mjpeg-stall-alive",
    "mjpeg-dht-inserted",
    "mjpeg-dht-decodes",
    "mjpeg-dht-same-picture",
    "passthrough-rotate-refused",
    // pixel formats: each encoded, vivid's colour bars where they belong
    "list-formats-new-formats",
    "format-yuyv-state",
    "format-uyvy-state",
    "format-nv12-state",
    "format-yuv420-state",
    "format-rgb24-state",
    "format-bgr24-state",
    "format-grey-state",
    "format-yuyv-colour-bars",
    "format-uyvy-colour-bars",
    "format-nv12-colour-bars",
    "format-yuv420-colour-bars",
    "format-rgb24-colour-bars",
    "format-bgr24-colour-bars",
    "format-grey-colour-bars",
    // --rotate
    "rotate-90-size",
    "rotate-270-size",
    "rotate-90-bars-top-to-bottom",
    "rotate-270-bars-bottom-to-top",
    "rotate-auto-raw-format",
    "rotate-placeholder-turned",
    // image controls: --list-controls, --set, GET/POST /camera/controls, kept across a replug
    "list-controls-brightness",
    "list-controls-menu",
    "set-unknown-control",
    "set-out-of-range",
    "set-refused-nothing-changed",
    "set-flag-brightness",
    "set-flag-contrast",
    "set-flag-auto-first",
    "set-flag-auto-off",
    "post-needs-camera-controls",
    "post-refused-unchanged",
    "get-controls-json",
    "post-brightness",
    "post-read-back-brightness",
    "post-read-back-saturation",
    "post-answer-json",
    "post-unknown-400",
    "post-unknown-one-line",
    "post-out-of-range-400",
    "post-all-or-nothing",
    "post-range-unchanged",
    "post-cross-site-403",
    "post-cross-site-unchanged",
    "replug-controls-rmmod",
    "replug-controls-defaults",
    "replug-controls-online",
    "replug-restores-http-value",
    "replug-restores-flag-value",
    "replug-restores-saturation",
    // the page's controls panel in headless Chromium (inside the guest)
    "panel-ran",
    "panel-changed-brightness",
    "panel-value-on-camera",
];

fn testbed() -> PathBuf {
    std::env::var_os("V4L2_TESTBED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/v4l2-testbed"))
}

#[test]
fn camera_scenarios_in_the_v4l2_testbed() {
    let run = testbed().join("run");
    assert!(
        run.exists(),
        "the V4L2 test bed is missing ({}); set V4L2_TESTBED to its directory",
        run.display()
    );
    let out = Command::new(&run)
        .args([
            "-t",
            "2700",
            &format!("DESKCAM='{}' sh tests/camera/scenarios.sh", util::binary()),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run the test bed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The figures and the ustreamer comparison, for `cargo test -- --nocapture`.
    for line in text.lines().filter(|l| l.starts_with("INFO")) {
        eprintln!("{line}");
    }
    let failed: Vec<&str> = text.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert!(
        failed.is_empty(),
        "failed checks:\n{}\n\nfull output:\n{text}",
        failed.join("\n")
    );
    let passed = |name: &str| {
        text.lines()
            .any(|l| l.strip_prefix("PASS ").and_then(|r| r.split(' ').next()) == Some(name))
    };
    let missing: Vec<&&str> = EXPECTED.iter().filter(|n| !passed(n)).collect();
    assert!(
        missing.is_empty(),
        "checks that never passed: {missing:?}\n\nfull output:\n{text}"
    );
    assert!(
        text.lines().any(|l| l == "DONE"),
        "the scenario script did not finish:\n{text}"
    );
}
