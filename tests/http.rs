//! The server foundation end to end: the pattern source served to raw TCP clients, curl and
//! ffmpeg, the tiny_http hardening, client limits, bad input and the command line.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use crate::util::*;

fn state(d: &Deskcam) -> String {
    let r = get(d.addr, "/state");
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

fn json_int(json: &str, key: &str) -> Option<i64> {
    let rest = json.split(&format!("\"{key}\":")).nth(1)?;
    rest.split([',', '}']).next()?.parse().ok()
}

fn json_bool(json: &str, key: &str) -> Option<bool> {
    let rest = json.split(&format!("\"{key}\":")).nth(1)?;
    Some(rest.starts_with("true"))
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
            jpeg_size(&body),
            Some((640, 360)),
            "every part is a complete JPEG of --size"
        );
        let ts: f64 = headers
            .split("X-Timestamp: ")
            .nth(1)
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("X-Timestamp");
        stamps.push(ts);
    }
    assert!(
        stamps.windows(2).all(|w| w[1] > w[0]),
        "timestamps increase: {stamps:?}"
    );
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (now - stamps[14]).abs() < 5.0,
        "X-Timestamp is wall-clock time"
    );
}

#[test]
fn aliases_stream_too() {
    let d = Deskcam::start(&["--size", "320x240"]);
    for path in ["/?action=stream&1699999999", "/video_feed"] {
        let mut s = MjpegReader::get(d.addr, path);
        let (_, body) = s.next_part().unwrap_or_else(|| panic!("{path} streams"));
        assert_eq!(jpeg_size(&body), Some((320, 240)), "{path}");
    }
    let r = get(d.addr, "/?action=snapshot");
    assert_eq!(jpeg_size(&r.body), Some((320, 240)));
}

#[test]
fn curl_gets_a_snapshot() {
    let d = Deskcam::start(&[]);
    let dir = std::env::temp_dir().join(format!("deskcam-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.jpg");
    let out = Command::new("curl")
        .args(["-sf", "-D", "-", "-o"])
        .arg(&file)
        .arg(d.url("/snapshot"))
        .output()
        .expect("curl must be installed");
    assert!(out.status.success(), "curl failed: {out:?}");
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(
        head.contains("content-type: image/jpeg") && head.contains("cache-control: no-store"),
        "{head}"
    );
    let data = std::fs::read(&file).unwrap();
    assert_eq!(
        jpeg_size(&data),
        Some((1280, 720)),
        "default size is 1280x720"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fresh_snapshot_is_captured_after_the_request() {
    let d = Deskcam::start(&["--size", "320x240", "--fps", "10"]);
    assert_eq!(get(d.addr, "/snapshot").status, 200);
    let asked = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let r = get(d.addr, "/snapshot?fresh=1");
    assert_eq!(r.status, 200);
    let ts: f64 = r
        .header("X-Timestamp")
        .and_then(|v| v.parse().ok())
        .expect("X-Timestamp");
    assert!(
        ts >= asked - 0.001,
        "fresh frame at {ts} predates the request at {asked}"
    );
}

#[test]
fn ffmpeg_reads_the_stream() {
    let d = Deskcam::start(&["--size", "640x360"]);
    let out = Command::new("ffmpeg")
        .args([
            "-nostdin",
            "-loglevel",
            "error",
            "-i",
            &d.url("/stream"),
            "-frames:v",
            "60",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg must be installed");
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "ffmpeg complained: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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
            assert!(jpeg_size(&body).is_some());
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
    let ts = |h: &str| -> f64 {
        h.split("X-Timestamp: ")
            .nth(1)
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    };
    let (h, _) = s.next_part().unwrap();
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
    assert!(wait_until(Duration::from_secs(5), || json_int(
        &state(&d),
        "clients"
    ) == Some(0)));
    // A client that asks for the stream and never reads: a small receive buffer fills at once.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.connect(&d.addr.into()).unwrap();
    let mut stalled: TcpStream = sock.into();
    let stalled_addr = stalled.local_addr().unwrap().to_string();
    stalled
        .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || json_int(
        &state(&d),
        "clients"
    ) == Some(1)));
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
    let gone_line = |log: &str| {
        log.lines()
            .any(|l| l.contains(&gone) && l.contains("dropped: no progress"))
    };
    assert!(
        wait_until(Duration::from_secs(15), || gone_line(&d.log())),
        "stalled client never dropped: {}",
        d.log()
    );
    drop(stalled);
}

/// Chrome paints a part only when the boundary after it arrives (Chromium bug 527446): the
/// boundary must follow each frame at once, not precede the next one.
#[test]
fn boundary_follows_each_frame_at_once() {
    let d = Deskcam::start(&["--size", "160x120", "--fps", "1"]);
    let mut s = TcpStream::connect(d.addr).unwrap();
    s.write_all(b"GET /stream HTTP/1.0\r\n\r\n").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
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
    assert_eq!(json_int(&state(&d), "clients"), Some(1));
    drop(s);
    assert!(
        wait_until(Duration::from_secs(2), || json_int(&state(&d), "clients")
            == Some(0)),
        "{}",
        state(&d)
    );
    assert!(
        wait_until(Duration::from_secs(2), || d
            .log()
            .contains("left /stream after")),
        "{}",
        d.log()
    );
}

#[test]
fn max_clients_answers_503_beyond_the_limit() {
    let d = Deskcam::start(&["--size", "160x120", "--fps", "5", "--max-clients", "64"]);
    let mut readers = Vec::new();
    let (mut ok, mut busy) = (0, 0);
    for _ in 0..70 {
        let r = MjpegReader::get(d.addr, "/stream");
        match r.head.split_whitespace().nth(1) {
            Some("200") => ok += 1,
            Some("503") => busy += 1,
            other => panic!("unexpected status {other:?}"),
        }
        readers.push(r);
    }
    assert_eq!((ok, busy), (64, 6));
    // Freed slots are reusable.
    readers.truncate(0);
    assert!(wait_until(Duration::from_secs(5), || json_int(
        &state(&d),
        "clients"
    ) == Some(0)));
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
    assert!(j.contains("\"source\":\"pattern\""), "{j}");
    assert_eq!(
        (json_int(&j, "width"), json_int(&j, "height")),
        (Some(320), Some(240)),
        "{j}"
    );
    assert_eq!(json_bool(&j, "online"), Some(true));
    assert_eq!(json_int(&j, "clients"), Some(1));
    assert!(json_int(&j, "fps").unwrap() > 0, "{j}");
    assert!(
        j.contains("\"streams\":[{\"id\""),
        "per-client figures: {j}"
    );
}

#[test]
fn idle_source_stops_and_the_first_client_restarts_it() {
    let d = Deskcam::start(&["--size", "320x240", "--idle-stop", "1"]);
    assert!(
        wait_until(Duration::from_secs(5), || json_bool(
            &state(&d),
            "capturing"
        ) == Some(false)),
        "{}",
        state(&d)
    );
    // The log line is written before the hub changes, but our stderr reader may lag behind.
    assert!(
        wait_until(Duration::from_secs(2), || d
            .log()
            .contains("stopping capture")),
        "{}",
        d.log()
    );
    let before = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let r = get(d.addr, "/snapshot");
    assert_eq!(r.status, 200);
    let ts: f64 = r.header("X-Timestamp").unwrap().parse().unwrap();
    assert!(
        ts >= before - 0.001,
        "snapshot after idle stop must be a new frame, not the stale one"
    );
    assert_eq!(json_bool(&state(&d), "capturing"), Some(true));
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
    assert!(
        r.header("Content-Security-Policy")
            .unwrap_or_default()
            .contains("frame-ancestors 'none'")
    );
    let page = r.text();
    assert!(page.contains("<img") && page.contains("object-fit: contain"));
    assert!(
        !page.contains("src=\"http") && !page.contains("src='http"),
        "no external scripts"
    );
}

#[test]
fn bad_requests_get_a_4xx_and_the_server_keeps_serving() {
    let mut d = Deskcam::start(&["--size", "160x120"]);
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (
            b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            404,
        ),
        (
            b"DELETE /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            405,
        ),
        (
            b"POST /snapshot HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec(),
            405,
        ),
        (
            b"GET /pointer?xrate=0.5&yrate=0.5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .to_vec(),
            405,
        ),
        (
            b"GET /snapshot?fresh=maybe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            400,
        ),
        (
            b"GET /?action=reboot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
            400,
        ),
        (
            format!(
                "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "a".repeat(100_000)
            )
            .into_bytes(),
            414,
        ),
        (
            format!(
                "GET /state HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
                "b".repeat(200_000)
            )
            .into_bytes(),
            431,
        ),
    ];
    for (req, status) in cases {
        let r = raw_request(d.addr, &req);
        if status == 405 {
            assert!(
                r.header("Allow").is_some(),
                "405 names the allowed methods: {}",
                r.head
            );
        }
        assert_eq!(
            r.status,
            status,
            "{:?} -> {}",
            String::from_utf8_lossy(&req[..40.min(req.len())]),
            r.head
        );
        assert!(
            r.text().trim().lines().count() == 1,
            "one-line reason: {:?}",
            r.text()
        );
    }
    // Garbage instead of HTTP: a 4xx (505 for an unknown version) or a closed connection,
    // never a hang or a crash.
    for junk in [
        &b"\x00\xff\xfe garbage\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
    ] {
        let mut s = TcpStream::connect(d.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(junk).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        assert!(
            buf.is_empty()
                || text.starts_with("HTTP/1.1 4")
                || text.starts_with("HTTP/1.0 4")
                || text.starts_with("HTTP/1.1 505"),
            "{junk:?} -> {text}"
        );
    }
    assert!(
        d.child.try_wait().unwrap().is_none(),
        "server still running"
    );
    assert_eq!(
        jpeg_size(&get(d.addr, "/snapshot").body),
        Some((160, 120)),
        "and still serving"
    );
}

#[test]
fn sigterm_and_sigint_stop_cleanly() {
    let mut d = Deskcam::start(&["--size", "160x120"]);
    let _s = MjpegReader::get(d.addr, "/stream");
    assert_eq!(d.terminate(), Some(0));
    let d = Deskcam::start(&["--size", "160x120"]);
    let _ = Command::new("kill")
        .args(["-INT", &d.child.id().to_string()])
        .status();
    let mut d = d;
    assert!(wait_until(
        Duration::from_secs(10),
        || matches!(d.child.try_wait(), Ok(Some(s)) if s.code() == Some(0))
    ));
}

#[test]
fn command_line_errors_are_one_line_with_status_2() {
    let (code, out, _) = run_to_end(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--listen") && out.contains("--max-clients"));
    let (code, out, _) = run_to_end(&["--version"]);
    assert_eq!((code, out.starts_with("deskcam ")), (0, true));
    for (args, needle) in [
        (&["--fps", "0"][..], "--fps"),
        (&["--quality", "200"][..], "--quality"),
        (&["--size", "big"][..], "--size"),
        (&["--listen", "nowhere"][..], "--listen"),
        (&["--frobnicate"][..], "--frobnicate"),
        (&["--source", "webcam"][..], "--source"),
    ] {
        let (code, out, err) = run_to_end(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty());
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // A port in use is one clear line too.
    let d = Deskcam::start(&["--size", "160x120"]);
    let (code, _, err) = run_to_end(&["--listen", &d.addr.to_string()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot listen on") && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// A burst of viewers must all be served. tiny_http 0.12's thread pool queued some new
/// connections behind running streams (10 of 200 got nothing here); see vendor/tiny_http.
#[test]
fn a_burst_of_stream_clients_is_served_at_once() {
    let d = Deskcam::start(&["--size", "160x120", "--fps", "10", "--max-clients", "300"]);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(150));
    let handles: Vec<_> = (0..150)
        .map(|_| {
            let (addr, barrier) = (d.addr, barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut s = MjpegReader::get(addr, "/stream");
                let got = s.next_part().is_some();
                // Hold the stream open until every client has had its first frame.
                barrier.wait();
                got
            })
        })
        .collect();
    let served = handles
        .into_iter()
        .map(|h| h.join().unwrap_or(false))
        .filter(|&g| g)
        .count();
    assert_eq!(served, 150, "every client of a burst gets a frame");
}

/// Header lines that sum to just over the limit, then a line that never ends: the server must
/// answer 431 and close, not keep reading (tiny_http read header lines without bound).
#[test]
fn an_endless_header_line_is_cut_off() {
    let d = Deskcam::start(&["--size", "160x120"]);
    let mut s = TcpStream::connect(d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let rss_before = d.rss_kib();
    let head = format!(
        "GET /state HTTP/1.1\r\nHost: x\r\nX-Fill: {}\r\n",
        "c".repeat(16366)
    );
    s.write_all(head.as_bytes()).unwrap();
    // Keep sending one endless line until the server answers or closes.
    let writer = send_until_refused(&s, b'd', 1024);
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    assert!(
        text.starts_with("HTTP/1.1 431"),
        "got {:?}",
        &text[..text.len().min(80)]
    );
    assert!(
        writer.join().unwrap(),
        "the server stopped reading the endless line"
    );
    assert!(d.rss_kib() < rss_before + 4 * 1024, "memory stayed flat");
}

/// A body the server does not want (401, 413, a GET with a body) is skipped only when small:
/// a client declaring gigabytes gets its answer and the connection closed, not a core spent
/// swallowing what it sends.
#[test]
fn an_unread_huge_body_closes_the_connection() {
    let d = Deskcam::start(&["--size", "160x120"]);
    let mut s = TcpStream::connect(d.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"POST /snapshot HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n")
        .unwrap();
    // 1 GiB at most; the server should stop reading long before.
    let writer = send_until_refused(&s, b'z', 16_384);
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    assert!(String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 405"));
    assert!(
        writer.join().unwrap(),
        "the server kept reading an unwanted body"
    );
}

/// Password guessing: after ten wrong passwords an address must wait, even with the right one,
/// and the log does not grow with every guess beyond that.
#[test]
fn wrong_passwords_lock_the_address_out_for_a_while() {
    let d = Deskcam::start(&["--size", "160x120", "--auth", "me:right"]);
    let ask = |pw: &str| {
        let token = match pw {
            "right" => "bWU6cmlnaHQ=", // me:right
            _ => "bWU6d3Jvbmc=",       // me:wrong
        };
        raw_request(
            d.addr,
            format!("GET /state HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .status
    };
    assert_eq!(ask("right"), 200);
    let statuses: Vec<u16> = (0..15).map(|_| ask("wrong")).collect();
    assert_eq!(&statuses[..10], &[401; 10], "{statuses:?}");
    assert!(statuses[10..].iter().all(|&s| s == 429), "{statuses:?}");
    assert_eq!(ask("right"), 429, "locked out, whatever it sends");
    assert!(wait_until(Duration::from_secs(2), || d
        .log()
        .matches("wrong credentials")
        .count()
        == 10));
    assert!(
        !d.log().contains("wrong") || !d.log().contains("me:wrong"),
        "no password in the log"
    );
}
