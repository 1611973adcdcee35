//! The Raspberry Pi builds, run here under qemu-user (`tools/cross.sh`, which also holds their
//! linker, features and runner): each serves a valid snapshot of the size asked for, ffmpeg reads
//! 30 frames of its stream, and its unit tests pass. `make test` builds them first; run alone,
//! these tests build what is missing (minutes). Emulation is slow and its speed means nothing
//! for a real Pi, so nothing here is timed beyond generous bounds (speed: `make bench`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use deskcam::jpeg::markers;
use testkit::http::get;
use testkit::server::Deskcam;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cross(target: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(repo().join("tools/cross.sh"));
    cmd.arg(target).args(args).current_dir(repo());
    cmd
}

/// Runs `cmd` to its end and asserts it succeeded (the packages' tests use it too).
pub(crate) fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Builds deskcam for `target` (nothing to do after `make pi pi-static`) and returns its path.
fn build(target: &str) -> PathBuf {
    run(&mut cross(target, &["build", "--quiet"]));
    let out = run(&mut cross(target, &["binary"]));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// How long an emulated deskcam may take to start serving on a busy machine.
pub(crate) const EMULATED_START: Duration = Duration::from_secs(60);

/// Serves the pattern at 640x360 (not the default size, so the size is really the one asked
/// for): `/snapshot` decodes to that size, and ffmpeg reads 30 frames of `/stream` at that size.
fn serves_snapshot_and_stream(target: &str) {
    let binary = build(target);
    let mut cmd = cross(target, &["exec"]);
    cmd.arg(&binary)
        .args(["--size", "640x360", "--idle-stop", "0"]);
    let d = Deskcam::command(cmd, EMULATED_START);

    let reply = get(d.addr, "/snapshot");
    assert_eq!(reply.status, 200, "{target}: {}", reply.head);
    assert_eq!(markers::size(&reply.body), Some((640, 360)), "{target}");
    let mut decoder = jpeg_decoder::Decoder::new(&reply.body[..]);
    let pixels = decoder.decode().expect("the snapshot decodes");
    let info = decoder.info().expect("image info");
    assert_eq!((info.width, info.height), (640, 360), "{target}");
    assert_eq!(pixels.len(), 640 * 360 * 3, "{target}");

    // framecrc prints one line per frame read and the stream's dimensions.
    let out = Command::new("timeout")
        .args([
            "120", "ffmpeg", "-nostdin", "-v", "error", "-f", "mjpeg", "-i",
        ])
        .arg(format!("http://{}/stream", d.addr))
        .args(["-frames:v", "30", "-f", "framecrc", "-"])
        .output()
        .expect("run ffmpeg");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{target}: ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames = text.lines().filter(|l| l.starts_with("0,")).count();
    assert_eq!(frames, 30, "{target}: ffmpeg read {frames} frames:\n{text}");
    assert!(
        text.contains("#dimensions 0: 640x360"),
        "{target}: stream size:\n{text}"
    );
}

/// Runs the unit tests of the build for `target` with qemu-user as cargo's runner.
fn unit_tests_pass(target: &str) {
    let out = run(&mut cross(target, &["test", "--lib", "--bins"]));
    let text = String::from_utf8_lossy(&out.stdout);
    // The library's tests ran (a count above zero), and none failed.
    let passed: Vec<u32> = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|r| r.split(' ').next()?.parse().ok())
        .collect();
    assert!(
        passed.iter().any(|&n| n > 0),
        "{target}: no unit test ran:\n{text}"
    );
    assert!(!text.contains("FAILED"), "{target}:\n{text}");
}

#[test]
fn aarch64_serves_snapshot_and_stream() {
    serves_snapshot_and_stream("aarch64-unknown-linux-gnu");
}

#[test]
fn aarch64_unit_tests_pass() {
    unit_tests_pass("aarch64-unknown-linux-gnu");
}

#[test]
fn armv7_serves_snapshot_and_stream() {
    serves_snapshot_and_stream("armv7-unknown-linux-gnueabihf");
}

#[test]
fn armv7_unit_tests_pass() {
    unit_tests_pass("armv7-unknown-linux-gnueabihf");
}

#[test]
fn aarch64_static_serves_snapshot_and_stream() {
    serves_snapshot_and_stream("aarch64-unknown-linux-musl");
}

#[test]
fn aarch64_static_unit_tests_pass() {
    unit_tests_pass("aarch64-unknown-linux-musl");
}

/// The static build must really be static: it is meant for systems whose C library is too old
/// for the others (bullseye has glibc 2.31; the glibc builds need 2.34).
#[test]
fn aarch64_static_needs_no_shared_library() {
    let binary = build("aarch64-unknown-linux-musl");
    let out = run(Command::new("readelf")
        .args(["--program-headers", "--dynamic", "-W"])
        .arg(&binary));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("INTERP") && !text.contains("(NEEDED)"),
        "not static:\n{text}"
    );
    assert!(text.contains("LOAD"), "no program headers read:\n{text}");
}
