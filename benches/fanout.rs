//! Fan-out benchmark: the real binary serving the 1280x720@30 pattern to 1, 50 and 200
//! concurrent stream readers, then 50 readers beside one stalled client. Prints frames per
//! reader (min/median against the frames the source captured in the same window), server CPU
//! and RSS. The single-reader run is the baseline of the same run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(10);
const FPS: f64 = 30.0;

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_deskcam"))
            .args([
                "--size",
                "1280x720",
                "--fps",
                "30",
                "--quiet",
                "--listen",
                "127.0.0.1:0",
                "--max-clients",
                "1000",
            ])
            .stderr(Stdio::piped())
            .spawn()
            .expect("start deskcam");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .unwrap()
            .trim()
            .trim_end_matches('/')
            .parse()
            .unwrap();
        thread::spawn(move || for _ in err.lines() {});
        Server { child, addr }
    }

    /// utime + stime in clock ticks (100 per second on Linux).
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = stat.rsplit_once(')').unwrap().1;
        let f: Vec<&str> = after.split_whitespace().collect();
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }

    /// Frames the source has published since start, from `/state`.
    fn frames(&self) -> u64 {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.write_all(b"GET /state HTTP/1.0\r\n\r\n").unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        let v = body.split("\"frames\":").nth(1).unwrap();
        v.split([',', '}']).next().unwrap().parse().unwrap()
    }

    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        kb / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads parts until `stop`; returns how many complete parts arrived after `start` was set.
fn reader(addr: SocketAddr, counting: Arc<AtomicBool>, stop: Arc<AtomicBool>) -> u64 {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: bench\r\n\r\n")
        .unwrap();
    let mut r = BufReader::with_capacity(64 * 1024, s);
    let mut line = String::new();
    let mut body = Vec::new();
    let mut n = 0;
    let mut len = None;
    while !stop.load(Ordering::Relaxed) {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.trim().parse::<usize>().ok();
        } else if let (true, Some(l)) = (line == "\r\n", len) {
            len = None;
            body.resize(l, 0);
            if r.read_exact(&mut body).is_err() {
                break;
            }
            if counting.load(Ordering::Relaxed) {
                n += 1;
            }
        }
    }
    n
}

struct Row {
    label: String,
    min: u64,
    median: u64,
    expected: f64,
    cpu: f64,
    rss: f64,
}

fn scenario(label: &str, readers: usize, stalled: bool) -> Row {
    let server = Server::start();
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let _stalled = stalled.then(|| {
        let sock =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        sock.connect(&server.addr.into()).unwrap();
        let mut s: TcpStream = sock.into();
        s.write_all(b"GET /stream HTTP/1.1\r\nHost: stalled\r\n\r\n")
            .unwrap();
        s
    });
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (c, s, a) = (counting.clone(), stop.clone(), server.addr);
            thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || reader(a, c, s))
                .unwrap()
        })
        .collect();
    // Let every reader connect and settle before the window opens.
    thread::sleep(Duration::from_secs(2));
    let cpu0 = server.cpu_ticks();
    let frames0 = server.frames();
    let t0 = Instant::now();
    counting.store(true, Ordering::Relaxed);
    let mut rss: f64 = 0.0;
    while t0.elapsed() < WINDOW {
        thread::sleep(Duration::from_millis(250));
        rss = rss.max(server.rss_mb());
    }
    counting.store(false, Ordering::Relaxed);
    let produced = server.frames() - frames0;
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (server.cpu_ticks() - cpu0) as f64 / secs;
    stop.store(true, Ordering::Relaxed);
    let mut counts: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap_or(0)).collect();
    counts.sort_unstable();
    Row {
        label: label.to_string(),
        min: counts[0],
        median: counts[counts.len() / 2],
        expected: produced as f64,
        cpu,
        rss,
    }
}

fn main() {
    // `cargo bench` passes --bench; nothing to filter here.
    println!(
        "deskcam fan-out: pattern 1280x720 @ {FPS} fps, {} s per row, {} cores",
        WINDOW.as_secs(),
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    let rows = [
        scenario("1 reader (baseline)", 1, false),
        scenario("50 readers", 50, false),
        scenario("200 readers", 200, false),
        scenario("50 readers + 1 stalled", 50, true),
    ];
    println!();
    println!(
        "| clients | frames/reader min | median | source produced | min % | server CPU (% of a core) | RSS MB | goal RSS MB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let n: f64 = r.label.split_whitespace().next().unwrap().parse().unwrap();
        println!(
            "| {} | {} | {} | {:.0} | {:.0}% | {:.0}% | {:.1} | {:.1} |",
            r.label,
            r.min,
            r.median,
            r.expected,
            100.0 * r.min as f64 / r.expected,
            r.cpu,
            r.rss,
            64.0 + 0.25 * n
        );
    }
    let base = &rows[0];
    println!();
    println!(
        "min frames vs the 1-reader baseline: 50 readers {:.2}x, 200 readers {:.2}x, 50 + stalled {:.2}x (vs 50 readers {:.2}x)",
        rows[1].min as f64 / base.min as f64,
        rows[2].min as f64 / base.min as f64,
        rows[3].min as f64 / base.min as f64,
        rows[3].min as f64 / rows[1].min.max(1) as f64
    );
}
