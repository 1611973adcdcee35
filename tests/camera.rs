//! Camera end-to-end tests against real V4L2 drivers: vivid (a virtual camera) and
//! v4l2loopback fed by ffmpeg, inside the project's qemu test bed (`V4L2_TESTBED`), because
//! this machine's kernel has no video drivers. Every scenario runs in ONE guest boot
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
];

/// What a snapshot the script names must show.
enum Shows {
    /// vivid's default picture: eight vertical colour bars (its text sits above them).
    Bars,
    /// The placeholder deskcam shows while the camera is gone.
    NoSignal,
    /// vivid's colour squares, as the script sets them for the flip checks.
    Squares,
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
                Shows::Turned { of, flip, mirror } => turned(&p, &load(of)?, *flip, *mirror),
            });
            verdict.err().map(|why| format!("picture {name}: {why}"))
        })
        .collect()
}

fn testbed() -> PathBuf {
    std::env::var_os("V4L2_TESTBED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/v4l2-testbed"))
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
    let run = testbed().join("run");
    assert!(
        run.exists(),
        "the V4L2 test bed is missing ({}); set V4L2_TESTBED to its directory",
        run.display()
    );
    // In the working directory, which the guest shares at the same path.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = root.join(format!("target/camera-e2e.{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    mjpeg_inputs(&scratch);
    let out = Command::new(&run)
        .args([
            "-t",
            "1200",
            &format!(
                "SCRATCH='{}' DESKCAM='{}' sh tests/camera/scenarios.sh",
                scratch.display(),
                testkit::server::binary().display()
            ),
        ])
        .current_dir(root)
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
    let mut failed: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .map(str::to_string)
        .collect();
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
    let _ = std::fs::remove_dir_all(&scratch);
}
