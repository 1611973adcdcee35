//! HTTPS end to end: a test CA made with `openssl` signs the server's certificate, and curl
//! (`--cacert`), ffmpeg (`-tls_verify 1`), a rustls client and headless Chromium (trusting the
//! CA through an NSS database) must all verify it and get every endpoint; `--tls-self-signed`
//! makes, keeps and fingerprints its certificate; SIGHUP swaps the certificate for new
//! connections while a stream keeps running; control off loopback without TLS refuses to start;
//! `--trusted-proxy` names clients by `X-Forwarded-For`. What is not TLS on the TLS port is in
//! [`wire`]; Chromium and the "not encrypted" mark in [`browser`].

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testkit::child::{finish, tool};
use testkit::http::{MjpegReader, Reply, basic_auth, get_with, https_get, timestamp};
use testkit::server::{Deskcam, refused};
use testkit::tls::{TestCa, der_of, openssl_fingerprint, server_certificate};
use testkit::wait::{wait_for, wait_until};

pub(crate) mod browser;
mod wire;

const WAIT: Duration = Duration::from_secs(10);

fn start_tls(leaf: &testkit::tls::Leaf, extra: &[&str]) -> Deskcam {
    let (cert, key) = (leaf.cert.to_string_lossy(), leaf.key.to_string_lossy());
    let mut args = vec!["--tls-cert", &cert, "--tls-key", &key];
    args.extend_from_slice(extra);
    Deskcam::start(&args)
}

/// `curl --cacert CA URL` (verification on, as curl always does): status and body length.
fn curl(ca: &Path, url: &str, extra: &[&str]) -> (u16, usize, String) {
    let out = tool(
        Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(ca)
            .args(extra)
            .args([
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{size_download} %{content_type}",
            ])
            .arg(url),
    );
    let mut w = out.stdout.splitn(3, ' ');
    let status = w.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let size = w.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, size, w.next().unwrap_or("").to_string())
}

/// ffmpeg reading `frames` frames of an HTTPS stream, checking the chain against `ca` only.
pub(crate) fn ffmpeg_https(ca: &Path, url: &str, frames: u32) -> Command {
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-nostdin",
        "-loglevel",
        "error",
        "-tls_verify",
        "1",
        "-ca_file",
    ])
    .arg(ca)
    .args([
        "-i",
        url,
        "-frames:v",
        &frames.to_string(),
        "-f",
        "null",
        "-",
    ]);
    cmd
}

#[test]
fn every_endpoint_over_https_to_curl_ffmpeg_and_rustls() {
    let ca = TestCa::new("endpoints");
    let leaf = ca.leaf("server");
    let d = start_tls(&leaf, &["--size", "320x240", "--fps", "15"]);
    assert_eq!(d.scheme, "https");
    // The fingerprint printed at start is the certificate's, as openssl computes it.
    let line = d.log_line(WAIT, |l| l.contains("SHA-256 fingerprint"));
    assert!(line.contains(&openssl_fingerprint(&leaf.cert)), "{line}");
    let base = d.url("");
    for (path, kind) in [
        ("/", "text/html"),
        ("/state", "application/json"),
        ("/snapshot", "image/jpeg"),
        ("/snapshot?fresh=1", "image/jpeg"),
        ("/?action=snapshot", "image/jpeg"),
    ] {
        let (status, size, ctype) = curl(&ca.cert, &format!("{base}{path}"), &[]);
        assert_eq!(status, 200, "{path}");
        assert!(
            size > 0 && ctype.starts_with(kind),
            "{path}: {size} {ctype}"
        );
    }
    // The name is checked too: localhost is in the certificate, 127.0.0.2 is not.
    let port = d.addr.port().to_string();
    let by_name = format!("https://localhost:{port}/state");
    assert_eq!(curl(&ca.cert, &by_name, &[]).0, 200);
    let wrong = finish(
        Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(&ca.cert)
            .args(["--resolve", &format!("other.example:{port}:127.0.0.1")])
            .arg(format!("https://other.example:{port}/state")),
        Duration::from_secs(30),
    );
    assert_ne!(wrong.code, 0, "a name the certificate lacks must fail");
    // A stream, as curl and ffmpeg read it; ffmpeg checks the chain with the CA...
    let ffmpeg_url = format!("{base}/stream");
    let out = tool(&mut ffmpeg_https(&ca.cert, &ffmpeg_url, 30));
    assert!(out.stderr.is_empty(), "ffmpeg complained: {}", out.stderr);
    // ...and refuses it without (so the check above is real).
    let other = TestCa::new("stranger");
    let refused_ffmpeg = finish(
        &mut ffmpeg_https(&other.cert, &ffmpeg_url, 1),
        Duration::from_secs(60),
    );
    assert_ne!(refused_ffmpeg.code, 0, "ffmpeg accepted an unknown CA");
    // A rustls client that trusts the CA alone: parts with their timestamps.
    let client = ca.client();
    let mut s = MjpegReader::https(d.addr, &client, "/stream");
    assert_eq!(s.status(), 200, "{}", s.head);
    let mut last = 0.0;
    for _ in 0..5 {
        let (head, jpeg) = s.next_part().expect("a part");
        assert!(jpeg.starts_with(&[0xFF, 0xD8]) && jpeg.ends_with(&[0xFF, 0xD9]));
        let t = timestamp(&head).expect("X-Timestamp");
        assert!(t > last, "frames in order");
        last = t;
    }
    assert_eq!(https_get(d.addr, &client, "/nowhere").status, 404);
}

#[test]
fn a_curl_stream_over_https_is_framed_like_a_plain_one() {
    let ca = TestCa::new("curlstream");
    let d = start_tls(&ca.leaf("server"), &["--size", "160x120", "--fps", "20"]);
    let out = finish(
        Command::new("curl")
            .args(["-sS", "--max-time", "3", "--cacert"])
            .arg(&ca.cert)
            .arg(d.url("/stream")),
        Duration::from_secs(30),
    );
    // 28: the time limit ended it, as it must for an endless stream.
    assert_eq!(out.code, 28, "{}", out.stderr);
    let parts = out.stdout.matches("--deskcamframe").count();
    assert!(parts >= 20, "{parts} parts in 3 s at 20 fps");
}

#[test]
fn self_signed_certificate_is_made_kept_and_fingerprinted() {
    let dir = std::env::temp_dir().join(format!("deskcam-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let state = dir.to_string_lossy().to_string();
    let fingerprint_of = |d: &Deskcam| {
        let line = d.log_line(WAIT, |l| l.contains("SHA-256 fingerprint"));
        line.split_whitespace()
            .nth(5)
            .unwrap_or_default()
            .to_string()
    };
    let d = Deskcam::start(&[
        "--tls-self-signed",
        "--state-dir",
        &state,
        "--size",
        "160x120",
    ]);
    let cert = dir.join("tls-self-signed.pem");
    let first = fingerprint_of(&d);
    assert_eq!(first, openssl_fingerprint(&cert), "{}", d.log());
    assert!(d.log().contains("made in"), "{}", d.log());
    let mode = std::fs::metadata(dir.join("tls-self-signed.key")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o077,
        0
    );
    // The certificate is its own trust anchor: curl accepts it by IP and by localhost.
    assert_eq!(curl(&cert, &d.url("/snapshot"), &[]).0, 200);
    let by_name = format!("https://localhost:{}/state", d.addr.port());
    assert_eq!(curl(&cert, &by_name, &[]).0, 200);
    drop(d);
    // The next start keeps it: the fingerprint a user accepted stays valid.
    let d = Deskcam::start(&[
        "--tls-self-signed",
        "--state-dir",
        &state,
        "--size",
        "160x120",
    ]);
    assert_eq!(fingerprint_of(&d), first);
    assert!(d.log().contains("kept in"), "{}", d.log());
    assert_eq!(
        der_of(&cert),
        server_certificate(d.addr, &testkit::tls::client_trusting(&cert))
    );
    drop(d);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sighup_reloads_the_certificate_and_open_streams_go_on() {
    let ca = TestCa::new("reload");
    let (a, b) = (ca.leaf("a"), ca.leaf("b"));
    // The server reads fixed paths, as with Let's Encrypt's live/ links.
    let live = ca.dir.join("live");
    std::fs::create_dir_all(&live).unwrap();
    let (cert, key) = (live.join("fullchain.pem"), live.join("privkey.pem"));
    let install = |leaf: &testkit::tls::Leaf| {
        std::fs::copy(&leaf.cert, live.join("tmp.pem")).unwrap();
        std::fs::copy(&leaf.key, live.join("tmp.key")).unwrap();
        std::fs::rename(live.join("tmp.key"), &key).unwrap();
        std::fs::rename(live.join("tmp.pem"), &cert).unwrap();
    };
    install(&a);
    let (c, k) = (cert.to_string_lossy(), key.to_string_lossy());
    let mut d = Deskcam::start(&[
        "--tls-cert",
        &c,
        "--tls-key",
        &k,
        "--size",
        "160x120",
        "--fps",
        "20",
    ]);
    let client = ca.client();
    assert_eq!(server_certificate(d.addr, &client), a.der());
    let mut stream = MjpegReader::https(d.addr, &client, "/stream");
    assert_eq!(stream.status(), 200);
    let before = (0..5).filter_map(|_| stream.next_part()).count();
    assert_eq!(before, 5);

    install(&b);
    signal(&d, "HUP");
    let swapped = wait_until(WAIT, || server_certificate(d.addr, &client) == b.der());
    assert!(
        swapped,
        "a new connection still sees the old certificate: {}",
        d.log()
    );
    // The stream opened before goes on, frame after frame.
    let mut last = 0.0;
    for _ in 0..20 {
        let (head, _) = stream
            .next_part()
            .expect("the open stream continues after SIGHUP");
        let t = timestamp(&head).expect("X-Timestamp");
        assert!(t > last);
        last = t;
    }
    // A broken file: the reload fails with one log line and the certificate in use stays.
    std::fs::write(&key, "not a key").unwrap();
    signal(&d, "HUP");
    d.log_line(WAIT, |l| l.contains("SIGHUP") && l.contains("stays"));
    assert_eq!(server_certificate(d.addr, &client), b.der());
    assert!(stream.next_part().is_some());
    assert_eq!(d.terminate(), Some(0), "SIGHUP must not have ended it");
}

#[test]
fn sighup_without_https_changes_nothing() {
    let mut d = Deskcam::start(&["--size", "160x120"]);
    signal(&d, "HUP");
    d.log_line(WAIT, |l| l.contains("SIGHUP: nothing to reload"));
    assert_eq!(testkit::http::get(d.addr, "/snapshot").status, 200);
    assert_eq!(d.terminate(), Some(0));
}

fn signal(d: &Deskcam, name: &str) {
    tool(Command::new("kill").args([&format!("-{name}"), &d.child.id().to_string()]));
}

#[test]
fn certificate_mistakes_are_one_line_at_start() {
    let ca = TestCa::new("mistakes");
    let (a, b) = (ca.leaf("a"), ca.leaf("b"));
    let (ac, ak, bk) = (
        a.cert.to_string_lossy(),
        a.key.to_string_lossy(),
        b.key.to_string_lossy(),
    );
    refused(&["--tls-cert", &ac, "--tls-key", &bk], "does not belong");
    refused(&["--tls-cert", &ak, "--tls-key", &ak], "no PEM certificate");
    refused(
        &["--tls-cert", "/nonexistent.pem", "--tls-key", &ak],
        "cannot read",
    );
    refused(&["--tls-cert", &ac], "--tls-key");
    refused(
        &["--tls-self-signed", "--state-dir", "/proc/deskcam"],
        "state folder",
    );
}

#[test]
fn control_on_the_network_without_tls_refuses_to_start() {
    let err = refused(
        &[
            "--source",
            "screen",
            "--display",
            ":99",
            "--control",
            "--auth",
            "me:pw-31",
            "--listen",
            "0.0.0.0:0",
        ],
        "unencrypted",
    );
    for needle in ["--tls-self-signed", "--tls-cert", "--allow-plain-http"] {
        assert!(err.contains(needle), "{err}");
    }
    assert!(
        !err.contains("pw-31"),
        "the password is never echoed: {err}"
    );
    let err = refused(
        &[
            "--source",
            "screen",
            "--display",
            ":99",
            "--control",
            "--listen",
            "127.0.0.1:0",
            "--trusted-proxy",
            "127.0.0.1",
        ],
        "--auth",
    );
    assert!(err.contains("proxy"), "{err}");
}

/// The password lockout counts per address; `wrong` sends one wrong password claiming `xff`.
fn wrong(d: &Deskcam, xff: &str) -> Reply {
    let headers = format!("{}X-Forwarded-For: {xff}\r\n", basic_auth("me:wrong"));
    get_with(d.addr, "/state", &headers)
}

#[test]
fn a_trusted_proxy_names_the_client_and_nobody_else_can() {
    let d = Deskcam::start(&["--auth", "me:right-77", "--trusted-proxy", "127.0.0.1"]);
    let statuses: Vec<u16> = (0..11).map(|_| wrong(&d, "203.0.113.5").status).collect();
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(statuses[10], 429, "the forwarded client is locked out");
    // Another viewer behind the same proxy is not.
    assert_eq!(wrong(&d, "198.51.100.1, 203.0.113.6").status, 401);
    d.log_line(WAIT, |l| {
        l.contains("client 203.0.113.5: wrong credentials")
    });
    assert!(!d.log().contains("right-77"));
    let bad = wrong(&d, "203.0.113.5, not-an-address");
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert!(bad.text().contains("X-Forwarded-For"));

    // Without --trusted-proxy the header is the client's word and changes nothing.
    let d = Deskcam::start(&["--auth", "me:right-77"]);
    for i in 0..10 {
        assert_eq!(wrong(&d, &format!("203.0.113.{i}")).status, 401);
    }
    assert_eq!(
        wrong(&d, "203.0.113.99").status,
        429,
        "one address: the real one"
    );
    let locked = wait_for(WAIT, || {
        d.log()
            .lines()
            .find(|l| l.contains("wrong credentials"))
            .map(str::to_string)
    });
    assert!(
        locked.is_some_and(|l| l.contains("127.0.0.1:")),
        "{}",
        d.log()
    );
}
