//! Snapshots on one keep-alive connection, as Home Assistant and other pollers ask for them:
//! 200 back-to-back `GET /snapshot` on one connection, time from sending each request to the
//! last byte of its JPEG, median and p95, against 200 `GET /state` (a small JSON answer) on the
//! same connection in the same run as the baseline. Goal: snapshot median ≤ 2 ms at 640x480.
//! Every snapshot must come with `Content-Length` (never chunked).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use testkit::procfs;
use testkit::server::Deskcam;
use testkit::stats::{ms, percentile};

const REQUESTS: usize = 200;
const WARM_UP: usize = 20;

/// One keep-alive connection, a default client socket (Nagle on, as most pollers have it).
struct Poller {
    stream: BufReader<TcpStream>,
    request: Vec<u8>,
}

impl Poller {
    fn connect(addr: SocketAddr, path: &str) -> Poller {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Poller {
            stream: BufReader::with_capacity(256 * 1024, s),
            request: format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes(),
        }
    }

    /// Sends the request, reads the whole answer; its time and body length.
    fn ask(&mut self) -> (Duration, usize) {
        let start = Instant::now();
        self.stream.get_mut().write_all(&self.request).unwrap();
        let mut len = None;
        let mut first = true;
        loop {
            let mut line = String::new();
            assert!(self.stream.read_line(&mut line).unwrap() > 0, "closed");
            if first {
                assert!(line.starts_with("HTTP/1.1 200"), "{line}");
                first = false;
            }
            let lower = line.to_ascii_lowercase();
            assert!(!lower.starts_with("transfer-encoding"), "chunked: {line}");
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().ok();
            }
            if line == "\r\n" {
                break;
            }
        }
        let len = len.expect("every answer carries Content-Length");
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).unwrap();
        (start.elapsed(), len)
    }
}

/// (median ms, p95 ms, bytes) for `REQUESTS` requests of `path` on one connection.
fn run(addr: SocketAddr, path: &str) -> (f64, f64, usize) {
    let mut p = Poller::connect(addr, path);
    for _ in 0..WARM_UP {
        p.ask();
    }
    let (mut times, sizes): (Vec<_>, Vec<_>) = (0..REQUESTS).map(|_| p.ask()).unzip();
    let median = ms(percentile(&mut times, 0.5));
    let p95 = ms(percentile(&mut times, 0.95));
    (median, p95, sizes.iter().sum::<usize>() / sizes.len())
}

fn main() {
    let load = procfs::loadavg();
    println!(
        "snapshot bench: {REQUESTS} back-to-back requests on one keep-alive connection (after {WARM_UP} to warm up)"
    );
    println!("| size | request | median ms | p95 ms | bytes | median vs /state |");
    println!("|---|---|---|---|---|---|");
    // 1920x1080: a snapshot over 32 KiB, which tiny_http used to send chunked.
    for size in ["640x480", "1920x1080"] {
        let d = Deskcam::start(&["--size", size, "--fps", "30", "--quiet"]);
        let (state_median, state_p95, state_bytes) = run(d.addr, "/state");
        let (snap_median, snap_p95, snap_bytes) = run(d.addr, "/snapshot");
        println!(
            "| {size} | /state (baseline) | {state_median:.3} | {state_p95:.3} | {state_bytes} | 1.00x |"
        );
        println!(
            "| {size} | /snapshot | {snap_median:.3} | {snap_p95:.3} | {snap_bytes} | {:.2}x |",
            snap_median / state_median
        );
        if size == "640x480" {
            let verdict = if snap_median <= 2.0 { "met" } else { "NOT met" };
            println!("goal: snapshot median ≤ 2 ms at 640x480: {verdict} ({snap_median:.3} ms)");
        }
    }
    println!("{}", procfs::load_report(&load));
}
