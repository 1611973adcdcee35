//! The Debian packages (`tools/deb.sh`; `make deb` builds them before `make test`): each holds
//! the files a user needs for its architecture, lintian finds no error, systemd-analyze accepts
//! the unit, and the unit's command line, expanded as systemd does, serves the pattern.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::arm::{EMULATED_START, run};
use deskcam::jpeg::markers;
use testkit::http::get;
use testkit::report::Report;
use testkit::server::Deskcam;

/// Debian architecture and the machine `readelf -h` reports for its binary.
const ARCHES: [(&str, &str); 3] = [
    ("amd64", "Advanced Micro Devices X86-64"),
    ("arm64", "AArch64"),
    ("armhf", "ARM"),
];

const FILES: [&str; 10] = [
    "./usr/bin/deskcam",
    "./usr/share/man/man1/deskcam.1.gz",
    "./usr/share/bash-completion/completions/deskcam",
    "./usr/share/zsh/vendor-completions/_deskcam",
    "./usr/lib/systemd/system/deskcam@.service",
    "./usr/lib/sysusers.d/deskcam.conf",
    "./etc/deskcam/example.conf",
    "./usr/share/doc/deskcam/copyright",
    "./usr/share/doc/deskcam/changelog.gz",
    "./usr/share/lintian/overrides/deskcam",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds (or finds up to date) the package for `arch` and returns its path.
fn package(arch: &str) -> PathBuf {
    let out = run(Command::new(repo().join("tools/deb.sh")).arg(arch));
    PathBuf::from(text(&out).lines().last().expect("the package path").trim())
}

/// A fresh directory under target/ for unpacking, removed first if a run left it behind.
fn scratch(name: &str) -> PathBuf {
    let dir = repo().join("target/deb-test").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn check_package(arch: &str, machine: &str) {
    let deb = package(arch);
    let contents = text(&run(Command::new("dpkg-deb").arg("--contents").arg(&deb)));
    for f in FILES {
        assert!(
            contents.lines().any(|l| l.ends_with(&format!(" {f}"))),
            "{arch}: {f} missing from the package:\n{contents}"
        );
    }
    let field = |name: &str| {
        let out = run(Command::new("dpkg-deb")
            .args(["--field"])
            .arg(&deb)
            .arg(name));
        text(&out).trim().to_string()
    };
    assert_eq!(field("Architecture"), arch);
    let depends = field("Depends");
    assert!(
        depends.starts_with("libc6 (>= 2."),
        "{arch}: Depends: {depends}"
    );

    let dir = scratch(arch);
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&dir));
    let header = text(&run(Command::new("readelf")
        .arg("-h")
        .arg(dir.join("usr/bin/deskcam"))));
    assert!(
        header
            .lines()
            .any(|l| l.contains("Machine:") && l.trim_end().ends_with(machine)),
        "{arch}: not a {machine} binary:\n{header}"
    );
    for script in ["preinst", "postinst", "prerm", "postrm"] {
        run(Command::new("sh")
            .arg("-n")
            .arg(repo().join("packaging/deb").join(script)));
    }

    // lintian exits non-zero on an error; any E: line is one too, overridden ones show as O:.
    let out = Command::new("lintian")
        .args(["--fail-on", "error"])
        .arg(&deb)
        .output()
        .expect("run lintian");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !report.lines().any(|l| l.starts_with("E:")),
        "{arch}: lintian reports errors:\n{report}"
    );
}

#[test]
fn amd64_package_holds_its_files_and_passes_lintian() {
    let (arch, machine) = ARCHES[0];
    check_package(arch, machine);
}

#[test]
fn arm64_package_holds_its_files_and_passes_lintian() {
    let (arch, machine) = ARCHES[1];
    check_package(arch, machine);
}

#[test]
fn armhf_package_holds_its_files_and_passes_lintian() {
    let (arch, machine) = ARCHES[2];
    check_package(arch, machine);
}

/// systemd-analyze accepts the unit (pointed at the unpacked binary and man page, which it
/// checks exist), and its ExecStart line with `$DESKCAM_ARGS` from a NAME.conf, split at
/// spaces as systemd does, serves the pattern. (systemd itself does not run here; the
/// installed package was checked by hand, see docs/raspberry-pi.md.)
#[test]
fn unit_is_accepted_and_its_command_serves_the_pattern() {
    let deb = package("amd64");
    let root = scratch("unit");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let unit = fs::read_to_string(root.join("usr/lib/systemd/system/deskcam@.service"))
        .expect("read the unit");
    let binary = root.join("usr/bin/deskcam");
    let units = scratch("unit-verify");
    fs::write(
        units.join("deskcam@.service"),
        unit.replace("/usr/bin/deskcam", &binary.to_string_lossy()),
    )
    .expect("write the unit");
    let out = run(Command::new("systemd-analyze")
        .arg("verify")
        .arg(units.join("deskcam@.service"))
        .env("MANPATH", root.join("usr/share/man")));
    let complaints = String::from_utf8_lossy(&out.stderr);
    assert!(
        complaints.trim().is_empty(),
        "systemd-analyze: {complaints}"
    );

    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    // As in NAME.conf: DESKCAM_ARGS=--source pattern --size 320x240 --idle-stop 0
    let args = "--source pattern --size 320x240 --idle-stop 0";
    let mut words = exec.split_whitespace().flat_map(|w| match w {
        "$DESKCAM_ARGS" => args.split_whitespace().collect::<Vec<_>>(),
        w => vec![w],
    });
    assert_eq!(words.next(), Some("/usr/bin/deskcam"), "{exec}");
    let mut cmd = Command::new(&binary);
    cmd.args(words);
    let d = Deskcam::command(cmd, EMULATED_START);
    let reply = get(d.addr, "/snapshot");
    assert_eq!(reply.status, 200, "{}", reply.head);
    assert_eq!(markers::size(&reply.body), Some((320, 240)));
}

/// Every check `tests/deb/systemd.sh` must pass.
const SYSTEMD_CHECKS: &[&str] = &[
    "dpkg-install",
    "user-in-video",
    "unit-loaded",
    "man-page",
    "enable-now",
    "pattern-serves",
    "pattern-runs-as-deskcam",
    "pattern-no-new-privileges",
    "pattern-no-capabilities",
    "pattern-enabled",
    "pattern-root-read-only",
    "pattern-home-hidden",
    "camera-start",
    "camera-serves",
    "xhost-grants",
    "screen-start",
    "screen-serves",
    "broken-restarts",
    "broken-says-why",
    "tls-start",
    "tls-serves",
    "tls-key-private",
    "tls-reload",
    "tls-reloaded",
    "tls-serves-after-reload",
    "dpkg-remove",
    "removed-instances-stopped",
    "removed-port-closed",
];

/// The amd64 package installed with dpkg and run by a real systemd (PID 1 in the test bed's
/// guest, `tools/v4l2-testbed/run --systemd`): the unit serves the pattern as the `deskcam`
/// user with its hardening in force, opens vivid's /dev/video0, streams an Xvfb desktop after
/// `xhost +SI:localuser:deskcam`, retries a broken configuration, serves HTTPS with a
/// self-signed certificate kept in its state directory, and removal stops it all.
/// Checks in `tests/deb/systemd.sh`.
#[test]
fn package_runs_under_systemd() {
    let deb = package("amd64");
    let out = Command::new(repo().join("tools/v4l2-testbed/run"))
        .args(["-t", "900", "--systemd"])
        .arg(format!("sh tests/deb/systemd.sh '{}'", deb.display()))
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .expect("run the test bed");
    let report = Report::of(&out);
    let failed = report.failed();
    assert!(
        failed.is_empty(),
        "failed checks:\n{}\n\n{}",
        failed.join("\n"),
        report.text
    );
    let missing = report.missing(SYSTEMD_CHECKS);
    assert!(
        missing.is_empty() && report.done(),
        "checks that never passed: {missing:?}\n\n{}",
        report.text
    );
    // The guest's own exit status is the script's: 0.
    assert!(out.status.success(), "the guest failed:\n{}", report.text);
}

/// Raspberry Pi OS calls ARMv6 (Pi 1, Zero) armhf too: the armhf package's preinst refuses it
/// with one line instead of installing a binary that would die with "Illegal instruction".
#[test]
fn armhf_package_refuses_an_armv6_pi() {
    let deb = package("armhf");
    let control = scratch("armhf-control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    let fake = scratch("armv6-uname");
    fs::write(fake.join("uname"), "#!/bin/sh\necho armv6l\n").expect("write uname");
    run(Command::new("chmod").arg("755").arg(fake.join("uname")));
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let refused = Command::new("sh")
        .arg(control.join("preinst"))
        .arg("install")
        .env("PATH", path)
        .output()
        .expect("run preinst");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("ARMv7"), "{err}");
    // This machine is not ARMv6: the same script lets the package in.
    run(Command::new("sh")
        .arg(control.join("preinst"))
        .arg("install"));
}
