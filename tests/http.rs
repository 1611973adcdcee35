//! The server foundation end to end: the pattern source served to raw TCP clients, curl and
//! ffmpeg, client limits, `/state`, idle stop, signals and the command line. What it must
//! survive is in [`hardening`].

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use deskcam::jpeg::markers;
use testkit::child::{ffmpeg_reads, tool};
use testkit::http::{
    MjpegReader, State, assert_taken_after, connect, epoch_seconds, get, raw_request,
    stalled_client, timestamp,
};
use testkit::server::{Deskcam, refused, run_to_end};
use testkit::wait::wait_until;

mod hardening;

fn state(d: &Deskcam) -> State {
    State::fetch(d.addr)
}

#[test]
fn stream_parts_are_complete_jpegs_of_the_requested_size() {
    let d = Deskcam::start(&["--size", "640x360", "--fps", "30"]);
    let mut s = MjpegReader::get(d.addr, "/stream");
    assert!(s.head.starts_with("HTTP/1.0 200"), "{}", s.head);
    assert!(
        s.head.contains("multipart/x-mixed-replace;boundary="),
        "{}",
        s.head
    );
    assert!(
        s.head
            .to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{}",
        s.head
    );
    let mut stamps = Vec::new();
    for _ in 0..15 {
        let (headers, body) = s.next_part().expect("a part");
        assert!(headers.contains("Content-Type: image/jpeg"), "{headers}");
        assert_eq!(
            markers::size(&body),
            Some((640, 360)),
            "every part is a complete JPEG of --size"
        );
        stamps.push(timestamp(&headers).expect("X-Timestamp"));
    }
    assert!(
        stamps.windows(2).all(|w| w[1] > w[0]),
        "timestamps increase: {stamps:?}"
    );
    assert!(
        (epoch_seconds() - stamps[14]).abs() < 5.0,
        "X-Timestamp is wall-clock time"
    );
}

#[test]
fn aliases_stream_too() {
    let d = Deskcam::start(&["--size", "320x240"]);
    for path in ["/?action=stream&1699999999", "/video_feed"] {
        let mut s = MjpegReader::get(d.addr, path);
        let (_, body) = s.next_part().unwrap_or_else(|| panic!("{path} streams"));
        assert_eq!(markers::size(&body), Some((320, 240)), "{path}");
    }
    let r = get(d.addr, "/?action=snapshot");
    assert_eq!(markers::size(&r.body), Some((320, 240)));
}

#[test]
fn curl_gets_a_snapshot() {
    let d = Deskcam::start(&[]);
    let dir = std::env::temp_dir().join(format!("deskcam-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.jpg");
    let out = tool(
        Command::new("curl")
            .args(["-sf", "-D", "-", "-o"])
            .arg(&file)
            .arg(d.url("/snapshot")),
    );
    let head = out.stdout.to_ascii_lowercase();
    assert!(
        head.contains("content-type: image/jpeg") && head.contains("cache-control: no-store"),
        "{head}"
    );
    let data = std::fs::read(&file).unwrap();
    assert_eq!(
        markers::size(&data),
        Some((1280, 720)),
        "default size is 1280x720"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fresh_snapshot_is_captured_after_the_request() {
    let d = Deskcam::start(&["--size", "320x240", "--fps", "10"]);
    assert_eq!(get(d.addr, "/snapshot").status, 200);
    let asked = epoch_seconds();
    assert_taken_after(&get(d.addr, "/snapshot?fresh=1"), asked);
}

#[test]
fn ffmpeg_reads_the_stream() {
    let d = Deskcam::start(&["--size", "640x360"]);
    ffmpeg_reads(&d.url("/stream"), 60);
}

/// tiny_http's own responses make an HTTP/1.0 or `TE: identity` client read an endless body
/// into memory; deskcam must stream to both, frame by frame, in flat memory.
#[test]
fn http10_and_te_identity_clients_stream_in_flat_memory() {
    let d = Deskcam::start(&["--size", "1280x720", "--fps", "30"]);
    for request in [
        "GET /stream HTTP/1.0\r\n\r\n".to_string(),
        format!(
            "GET /stream HTTP/1.1\r\nHost: {}\r\nTE: identity\r\n\r\n",
            d.addr
        ),
    ] {
        let mut s = MjpegReader::open(d.addr, &request);
        assert!(
            s.head.starts_with("HTTP/1.0 200"),
            "{request:?}: {}",
            s.head
        );
        for _ in 0..20 {
            assert!(s.next_part().is_some(), "{request:?}");
        }
        let before = d.rss_kib();
        for _ in 0..90 {
            let (_, body) = s.next_part().expect("part");
            assert!(markers::size(&body).is_some());
        }
        let after = d.rss_kib();
        assert!(
            after < before + 8 * 1024,
            "{request:?}: RSS grew from {before} to {after} KiB over 90 frames"
        );
    }
}

/// Counts frames received over `window` and how many the source produced in that span (from
/// the X-Timestamp of the first and last), so the ratio does not depend on machine load.
fn reader_ratio(d: &Deskcam, fps: f64, window: Duration) -> f64 {
    let mut s = MjpegReader::get(d.addr, "/stream");
    let ts = |h: &str| timestamp(h).expect("X-Timestamp");
    let (h, _) = s.next_part().expect("a part");
    let first = ts(&h);
    let mut last = first;
    let mut n = 1;
    let start = Instant::now();
    while start.elapsed() < window {
        let (h, _) = s.next_part().expect("part");
        last = ts(&h);
        n += 1;
    }
    n as f64 / ((last - first) * fps + 1.0)
}

#[test]
fn a_stalled_client_does_not_slow_another() {
    let d = Deskcam::start(&["--size", "1280x720", "--fps", "20"]);
    let alone = reader_ratio(&d, 20.0, Duration::from_secs(2));
    // The baseline reader has gone before the stalled client comes.
    assert!(wait_until(Duration::from_secs(5), || state(&d)
        .int("clients")
        == Some(0)));
    // A client that asks for the stream and never reads: a small receive buffer fills at once.
    let stalled = stalled_client(d.addr, "/stream");
    let stalled_addr = stalled.local_addr().expect("local address").to_string();
    assert!(wait_until(Duration::from_secs(5), || state(&d)
        .int("clients")
        == Some(1)));
    let with_stalled = reader_ratio(&d, 20.0, Duration::from_secs(3));
    // Thresholds leave room for a loaded 2-core machine; a client that blocked the others
    // would drive the ratio towards zero.
    assert!(
        alone > 0.8,
        "a lone reader gets nearly every frame ({alone:.2})"
    );
    assert!(
        with_stalled > 0.7 && with_stalled > alone * 0.8,
        "stalled client slowed a reader: {alone:.2} -> {with_stalled:.2}"
    );
    // The send timeout frees the stalled client's thread while its socket is still open.
    let gone = format!("client {stalled_addr} left /stream");
    d.log_line(Duration::from_secs(15), |l| {
        l.contains(&gone) && l.contains("dropped: no progress")
    });
    drop(stalled);
}

/// Chrome paints a part only when the boundary after it arrives (Chromium bug 527446): the
/// boundary must follow each frame at once, not precede the next one.
#[test]
fn boundary_follows_each_frame_at_once() {
    let d = Deskcam::start(&["--size", "160x120", "--fps", "1"]);
    let mut s = connect(d.addr);
    s.write_all(b"GET /stream HTTP/1.0\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    // Read up to the end of the first part's body...
    let body_end = loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "stream ended");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(len) = text
            .split("Content-Length: ")
            .nth(1)
            .and_then(|v| v.split("\r\n").next()?.parse::<usize>().ok())
        {
            let start = buf
                .windows(4)
                .enumerate()
                .filter(|(_, w)| w == b"\r\n\r\n")
                .nth(1)
                .map(|(i, _)| i + 4);
            if let Some(start) = start.filter(|&st| buf.len() >= st + len) {
                break start + len;
            }
        }
    };
    // ...then the boundary must already be there or arrive well before the next frame (1 s).
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    while buf.len() < body_end + 18 {
        let n = s
            .read(&mut chunk)
            .expect("boundary right after the frame, not with the next one");
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(&buf[body_end..body_end + 18], b"\r\n--deskcamframe\r\n");
}

#[test]
fn a_client_that_leaves_is_freed_within_two_seconds() {
    let d = Deskcam::start(&["--size", "320x240", "--fps", "5"]);
    let mut s = MjpegReader::get(d.addr, "/stream");
    s.next_part().unwrap();
    assert_eq!(state(&d).int("clients"), Some(1));
    drop(s);
    assert!(
        wait_until(Duration::from_secs(2), || state(&d).int("clients")
            == Some(0)),
        "{}",
        state(&d)
    );
    d.log_line(Duration::from_secs(2), |l| l.contains("left /stream after"));
}

#[test]
fn max_clients_answers_503_beyond_the_limit() {
    let d = Deskcam::start(&["--size", "160x120", "--fps", "5", "--max-clients", "64"]);
    let mut readers = Vec::new();
    let (mut ok, mut busy) = (0, 0);
    for _ in 0..70 {
        let r = MjpegReader::get(d.addr, "/stream");
        match r.status() {
            200 => ok += 1,
            503 => busy += 1,
            other => panic!("unexpected status {other}: {}", r.head),
        }
        readers.push(r);
    }
    assert_eq!((ok, busy), (64, 6));
    // Freed slots are reusable.
    readers.truncate(0);
    assert!(wait_until(Duration::from_secs(5), || state(&d)
        .int("clients")
        == Some(0)));
    assert!(
        MjpegReader::get(d.addr, "/stream")
            .head
            .starts_with("HTTP/1.0 200")
    );
}

#[test]
fn state_reports_source_size_and_clients() {
    let d = Deskcam::start(&["--size", "320x240", "--fps", "15"]);
    let mut s = MjpegReader::get(d.addr, "/stream");
    for _ in 0..20 {
        s.next_part().unwrap();
    }
    let j = state(&d);
    assert_eq!(j.str("source"), Some("pattern"), "{j}");
    assert_eq!(
        (j.int("width"), j.int("height")),
        (Some(320), Some(240)),
        "{j}"
    );
    assert_eq!(j.bool("online"), Some(true));
    assert_eq!(j.int("clients"), Some(1));
    assert!(j.int("fps").unwrap() > 0, "{j}");
    assert!(
        j.raw("streams").is_some_and(|s| s.starts_with("[{\"id\"")),
        "per-client figures: {j}"
    );
}

#[test]
fn idle_source_stops_and_the_first_client_restarts_it() {
    let d = Deskcam::start(&["--size", "320x240", "--idle-stop", "1"]);
    assert!(
        wait_until(Duration::from_secs(5), || state(&d).bool("capturing")
            == Some(false)),
        "{}",
        state(&d)
    );
    // The log line is written before the hub changes, but our stderr reader may lag behind.
    d.log_line(Duration::from_secs(2), |l| l.contains("stopping capture"));
    // A new frame, not the stale one from before the stop.
    let asked = epoch_seconds();
    assert_taken_after(&get(d.addr, "/snapshot"), asked);
    assert_eq!(state(&d).bool("capturing"), Some(true));
}

#[test]
fn head_options_and_page() {
    let d = Deskcam::start(&["--size", "160x120"]);
    let r = raw_request(d.addr, b"HEAD /stream HTTP/1.0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.head.contains("multipart/x-mixed-replace"));
    assert!(r.body.is_empty(), "HEAD has no body");
    let r = raw_request(
        d.addr,
        b"OPTIONS /input HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        (r.status, r.header("Allow").as_deref()),
        (204, Some("POST, OPTIONS"))
    );
    let r = get(d.addr, "/");
    assert_eq!(r.status, 200);
    assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
    assert_eq!(
        r.header("X-Frame-Options").as_deref(),
        Some("DENY"),
        "no framing (clickjacking)"
    );
    let csp = r.header("Content-Security-Policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    // Inline scripts run by their hashes only (the browser tests prove the hashes match).
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let page = r.text();
    assert!(page.contains("<img") && page.contains("object-fit: contain"));
    assert!(
        !page.contains("src=\"http") && !page.contains("src='http"),
        "no external scripts"
    );
}

#[test]
fn sigterm_and_sigint_stop_cleanly() {
    let mut d = Deskcam::start(&["--size", "160x120"]);
    let _s = MjpegReader::get(d.addr, "/stream");
    assert_eq!(d.terminate(), Some(0));
    let mut d = Deskcam::start(&["--size", "160x120"]);
    assert_eq!(d.signal_and_wait("INT"), Some(0));
}

#[test]
fn command_line_errors_are_one_line_with_status_2() {
    let help = run_to_end(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--listen") && help.stdout.contains("--max-clients"));
    let version = run_to_end(&["--version"]);
    assert_eq!(
        (version.code, version.stdout.starts_with("deskcam ")),
        (0, true)
    );
    for (args, needle) in [
        (&["--fps", "0"][..], "--fps"),
        (&["--quality", "200"][..], "--quality"),
        (&["--size", "big"][..], "--size"),
        (&["--listen", "nowhere"][..], "--listen"),
        (&["--frobnicate"][..], "--frobnicate"),
        (&["--source", "webcam"][..], "--source"),
    ] {
        refused(args, needle);
    }
    // A port in use is one clear line too.
    let d = Deskcam::start(&["--size", "160x120"]);
    let busy = run_to_end(&["--listen", &d.addr.to_string()]);
    assert_eq!(busy.code, 1);
    assert!(
        busy.stderr.contains("cannot listen on") && busy.stderr.trim().lines().count() == 1,
        "{}",
        busy.stderr
    );
}
