//! Camera end-to-end tests against real V4L2 drivers: vivid (a virtual camera) and
//! v4l2loopback fed by ffmpeg, inside the project's qemu test bed (`tools/v4l2-testbed`),
//! because this machine's kernel has no video drivers. Every scenario runs in ONE guest boot
//! (`tests/camera/scenarios.sh`, 20-40 s per boot); this test asserts each expected check
//! printed PASS, and judges the snapshots the script names (PICTURE lines) here on the host,
//! where decoding is fast: vivid's colour bars, the NO SIGNAL picture, a flipped picture. A
//! missing test bed is a failure, not a skip.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use deskcam::jpeg::markers;
use testkit::child::tool;
use testkit::picture::{Picture, Rgb, near};
use testkit::report::Report;

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
    "mjpeg-inputs",
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
    // pixel formats: each encoded (its colour bars judged below, in PICTURES)
    "list-formats-new-formats",
    "format-yuyv-state",
    "format-uyvy-state",
    "format-nv12-state",
    "format-yuv420-state",
    "format-rgb24-state",
    "format-bgr24-state",
    "format-grey-state",
    "format-yuyv-size",
    "format-uyvy-size",
    "format-nv12-size",
    "format-yuv420-size",
    "format-rgb24-size",
    "format-bgr24-size",
    "format-grey-size",
    // --rotate
    "rotate-90-size",
    "rotate-270-size",
    "rotate-90-state",
    "rotate-270-state",
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

/// What a snapshot the script names must show.
enum Shows {
    /// vivid's default picture: eight vertical colour bars (its text sits above them).
    Bars,
    /// The placeholder deskcam shows while the camera is gone.
    NoSignal,
    /// vivid's colour squares, as the script sets them for the flip checks.
    Squares,
    /// The bars in a one-component (grey) JPEG: each bar's brightness.
    GreyBars,
    /// The bars turned a quarter: clockwise they run top to bottom, anticlockwise bottom to top.
    QuarterTurnedBars { clockwise: bool },
    /// The picture named `of`, upside down (`flip`) and/or sideways (`mirror`).
    Turned {
        of: &'static str,
        flip: bool,
        mirror: bool,
    },
}

/// Every picture the script must hand over, and what it must show.
const PICTURES: &[(&str, Shows)] = &[
    ("yuyv-640x480", Shows::Bars),
    ("format-yuyv", Shows::Bars),
    ("format-uyvy", Shows::Bars),
    ("format-nv12", Shows::Bars),
    ("format-yuv420", Shows::Bars),
    ("format-rgb24", Shows::Bars),
    ("format-bgr24", Shows::Bars),
    ("format-grey", Shows::GreyBars),
    ("rotate-90", Shows::QuarterTurnedBars { clockwise: true }),
    ("rotate-270", Shows::QuarterTurnedBars { clockwise: false }),
    ("rotate-placeholder", Shows::NoSignal),
    ("yuyv-1280x720", Shows::Bars),
    ("default", Shows::Bars),
    ("idle-reopened", Shows::Bars),
    ("unplug-placeholder", Shows::NoSignal),
    ("replugged", Shows::Bars),
    ("reload-placeholder", Shows::NoSignal),
    ("mjpeg-stall", Shows::NoSignal),
    ("flip-plain", Shows::Squares),
    (
        "flip-flipped",
        Shows::Turned {
            of: "flip-plain",
            flip: true,
            mirror: false,
        },
    ),
    (
        "flip-mirrored",
        Shows::Turned {
            of: "flip-plain",
            flip: false,
            mirror: true,
        },
    ),
];

/// The colours of vivid's bars, left to right, as (red, green, blue) on or off: white, yellow,
/// cyan, green, magenta, red, blue, black. Its colour squares use them too: row r, column c
/// has colour (r + c) mod 8.
const COLOURS: [[bool; 3]; 8] = [
    [true, true, true],
    [true, true, false],
    [false, true, true],
    [false, true, false],
    [true, false, true],
    [true, false, false],
    [false, false, true],
    [false, false, false],
];

/// Each channel clearly on or off (vivid draws 75 % or 100 % and 0 %, in limited range); None
/// for anything in between.
fn channels(rgb: Rgb) -> Option<[bool; 3]> {
    let mut out = [false; 3];
    for (o, c) in out.iter_mut().zip(rgb) {
        *o = match c {
            150.. => true,
            ..70 => false,
            _ => return None,
        };
    }
    Some(out)
}

/// The colour of each of the 8x8 cells, at its centre.
fn cells(p: &Picture) -> Vec<Vec<Option<[bool; 3]>>> {
    let centre = |i: usize| (i as f64 + 0.5) / 8.0;
    (0..8)
        .map(|r| {
            (0..8)
                .map(|c| channels(p.at_fraction(centre(c), centre(r))))
                .collect()
        })
        .collect()
}

fn bars(p: &Picture) -> Result<(), String> {
    // Below vivid's text, which covers the top left.
    let seen: Vec<_> = (0..8)
        .map(|i| p.at_fraction((i as f64 + 0.5) / 8.0, 0.75))
        .collect();
    let ok = seen
        .iter()
        .zip(COLOURS)
        .all(|(&rgb, want)| channels(rgb) == Some(want));
    ok.then_some(())
        .ok_or(format!("not vivid's colour bars: {seen:?}"))
}

/// Grey bars: each within 40 of the brightness (BT.601 luma) of its colour drawn at 75 %, in
/// full or limited range, and darker than the one before.
fn grey_bars(p: &Picture) -> Result<(), String> {
    let seen: Vec<u8> = (0..8)
        .map(|i| p.at_fraction((i as f64 + 0.5) / 8.0, 0.75)[0])
        .collect();
    let luma = |[r, g, b]: [bool; 3]| {
        let on = |c: bool| if c { 191.0 } else { 0.0 };
        0.299 * on(r) + 0.587 * on(g) + 0.114 * on(b)
    };
    let near = seen
        .iter()
        .zip(COLOURS)
        .all(|(&y, c)| (y as f64 - luma(c)).abs() <= 40.0);
    let darkening = seen.windows(2).all(|w| w[0] > w[1]);
    (near && darkening)
        .then_some(())
        .ok_or(format!("not vivid's bars in grey: {seen:?}"))
}

/// The bars turned a quarter. vivid's text (the source's top left) ends up at the top right
/// (clockwise) or the bottom left, so the bars are read in the other half.
fn quarter_turned_bars(p: &Picture, clockwise: bool) -> Result<(), String> {
    if p.width >= p.height {
        return Err(format!("{}x{} is not turned", p.width, p.height));
    }
    let seen: Vec<_> = (0..8)
        .map(|i| {
            let along = (i as f64 + 0.5) / 8.0;
            if clockwise {
                p.at_fraction(0.25, along)
            } else {
                p.at_fraction(0.75, 1.0 - along)
            }
        })
        .collect();
    let ok = seen
        .iter()
        .zip(COLOURS)
        .all(|(&rgb, want)| channels(rgb) == Some(want));
    ok.then_some(()).ok_or(format!(
        "not vivid's bars turned (clockwise {clockwise}): {seen:?}"
    ))
}

fn squares(p: &Picture) -> Result<(), String> {
    let grid = cells(p);
    let ok = (0..8).all(|r| (0..8).all(|c| grid[r][c] == Some(COLOURS[(r + c) % 8])));
    ok.then_some(())
        .ok_or(format!("not vivid's colour squares: {grid:?}"))
}

fn turned(p: &Picture, of: &Picture, flip: bool, mirror: bool) -> Result<(), String> {
    let (got, plain) = (cells(p), cells(of));
    let from = |i: usize, turn: bool| if turn { 7 - i } else { i };
    let ok = (0..8).all(|r| (0..8).all(|c| got[r][c] == plain[from(r, flip)][from(c, mirror)]));
    ok.then_some(()).ok_or(format!(
        "not the plain picture turned (flip {flip}, mirror {mirror}): {got:?}"
    ))
}

/// A dark grey picture (32, 32, 32) with white "NO SIGNAL" in the middle (source/draw.rs).
fn no_signal(p: &Picture) -> Result<(), String> {
    let background = [32, 32, 32];
    let edges = [
        (0.02, 0.02),
        (0.98, 0.02),
        (0.5, 0.1),
        (0.02, 0.98),
        (0.98, 0.98),
    ];
    let seen: Vec<Rgb> = edges.iter().map(|&(x, y)| p.at_fraction(x, y)).collect();
    if !seen.iter().all(|&rgb| near(rgb, background, 10)) {
        return Err(format!("edges are {seen:?}, not the placeholder's grey"));
    }
    // The title spans the middle half of the width, just above the centre line.
    let (w, h) = (p.width, p.height);
    let title = p.brightest_in(w / 4, h * 2 / 5, w * 3 / 4, h / 2);
    (title > 200)
        .then_some(())
        .ok_or(format!("no white title in the middle (brightest {title})"))
}

/// Judges every picture in `PICTURES` from the files the script named.
fn judge(named: &HashMap<String, PathBuf>) -> Vec<String> {
    let load = |name: &str| -> Result<Picture, String> {
        let file = named.get(name).ok_or("the script did not hand it over")?;
        let data = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        Picture::decode(&data).map_err(|e| format!("{}: {e}", file.display()))
    };
    PICTURES
        .iter()
        .filter_map(|(name, shows)| {
            let verdict = load(name).and_then(|p| match shows {
                Shows::Bars => bars(&p),
                Shows::NoSignal => no_signal(&p),
                Shows::Squares => squares(&p),
                Shows::GreyBars => grey_bars(&p),
                Shows::QuarterTurnedBars { clockwise } => quarter_turned_bars(&p, *clockwise),
                Shows::Turned { of, flip, mirror } => turned(&p, &load(of)?, *flip, *mirror),
            });
            verdict.err().map(|why| format!("picture {name}: {why}"))
        })
        .collect()
}

/// The passthrough section's camera frames: one MJPEG frame with the standard Huffman tables
/// (`-huffman default`, which a camera that leaves them out relies on) and the same without
/// its DHT segments, as many UVC cameras send it.
fn mjpeg_inputs(dir: &Path) {
    let fixed = dir.join("fixed.jpg");
    tool(
        Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi"])
            .args(["-i", "testsrc2=size=640x480", "-frames:v", "1"])
            .args(["-q:v", "3", "-huffman", "default"])
            .arg(&fixed),
    );
    let jpeg = std::fs::read(&fixed).expect("ffmpeg's frame");
    let bare = markers::without(&jpeg, markers::DHT).expect("ffmpeg wrote a JPEG");
    std::fs::write(dir.join("bare.jpg"), bare).expect("write bare.jpg");
}

#[test]
fn camera_scenarios_in_the_v4l2_testbed() {
    // `run` installs what the guest needs on first use (as root), like `.ci/run` does ahead.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = root.join("tools/v4l2-testbed/run");
    // Scratch files in the working directory, which the guest shares at the same path.
    let scratch = root.join(format!("target/camera-e2e.{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    mjpeg_inputs(&scratch);
    let out = Command::new(&run)
        .args([
            "-t",
            "2700",
            &format!(
                "SCRATCH='{}' DESKCAM='{}' sh tests/camera/scenarios.sh",
                scratch.display(),
                testkit::server::binary().display()
            ),
        ])
        .current_dir(root)
        .output()
        .expect("run the test bed");
    let report = Report::of(&out);
    let text = &report.text;
    let mut failed = report.failed();
    let named: HashMap<String, PathBuf> = text
        .lines()
        .filter_map(|l| {
            let (name, file) = l.strip_prefix("PICTURE ")?.split_once(' ')?;
            Some((name.to_string(), PathBuf::from(file)))
        })
        .collect();
    failed.extend(judge(&named));
    assert!(
        failed.is_empty(),
        "failed checks:\n{}\n\nfull output:\n{text}",
        failed.join("\n")
    );
    let missing = report.missing(EXPECTED);
    assert!(
        missing.is_empty(),
        "checks that never passed: {missing:?}\n\nfull output:\n{text}"
    );
    assert!(report.done(), "the scenario script did not finish:\n{text}");
    let _ = std::fs::remove_dir_all(&scratch);
}
