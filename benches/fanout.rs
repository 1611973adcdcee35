//! Fan-out benchmark: the real binary serving the 1280x720@30 pattern to 1, 50 and 200
//! concurrent stream readers, then 50 readers beside one stalled client, then 200 readers over
//! HTTPS (a certificate from a test CA). Prints frames per reader (min/median against the
//! frames the source captured in the same window), server CPU and RSS. The single-reader run is
//! the baseline of the same run; the 200 plain readers are the baseline of the HTTPS row, and
//! the added CPU and memory per HTTPS reader are printed from the two.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use testkit::http::{MjpegReader, State, stalled_client};
use testkit::procfs;
use testkit::server::Deskcam;
use testkit::tls::TestCa;

const WINDOW: Duration = Duration::from_secs(10);
const FPS: f64 = 30.0;

/// HTTPS for a row: the CA the readers trust and the server's certificate files.
struct Https {
    ca: TestCa,
    client: Arc<ClientConfig>,
    cert: String,
    key: String,
}

impl Https {
    fn new() -> Https {
        let ca = TestCa::new("fanout");
        let leaf = ca.leaf("server");
        Https {
            client: ca.client(),
            cert: leaf.cert.to_string_lossy().into(),
            key: leaf.key.to_string_lossy().into(),
            ca,
        }
    }
}

fn start(https: Option<&Https>) -> Deskcam {
    let mut args = vec![
        "--size",
        "1280x720",
        "--fps",
        "30",
        "--quiet",
        "--max-clients",
        "1000",
    ];
    if let Some(h) = https {
        args.extend(["--tls-cert", &h.cert, "--tls-key", &h.key]);
    }
    Deskcam::start(&args)
}

/// Frames the source has published since start.
fn frames(server: &Deskcam, https: Option<&Https>) -> u64 {
    let frames = match https {
        None => State::fetch(server.addr).int("frames"),
        Some(h) => {
            State(testkit::http::https_get(server.addr, &h.client, "/state").text()).int("frames")
        }
    };
    frames
        .and_then(|f| u64::try_from(f).ok())
        .expect("frames in /state")
}

/// Reads parts until `stop`; returns how many complete parts arrived while `counting` was set.
fn reader(
    addr: SocketAddr,
    tls: Option<Arc<ClientConfig>>,
    counting: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> u64 {
    let mut stream = match tls {
        None => MjpegReader::get(addr, "/stream"),
        Some(config) => MjpegReader::https(addr, &config, "/stream"),
    };
    let mut body = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) && stream.next_part_into(&mut body).is_some() {
        if counting.load(Ordering::Relaxed) {
            n += 1;
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

fn scenario(label: &str, readers: usize, stalled: bool, https: Option<&Https>) -> Row {
    let server = start(https);
    let pid = server.child.id();
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let _stalled = stalled.then(|| stalled_client(server.addr, "/stream"));
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (c, s, a) = (counting.clone(), stop.clone(), server.addr);
            let tls = https.map(|h| h.client.clone());
            thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || reader(a, tls, c, s))
                .unwrap()
        })
        .collect();
    // Let every reader connect and settle before the window opens.
    thread::sleep(Duration::from_secs(2));
    let cpu0 = procfs::cpu_time(pid);
    let frames0 = frames(&server, https);
    let t0 = Instant::now();
    counting.store(true, Ordering::Relaxed);
    let mut rss: f64 = 0.0;
    while t0.elapsed() < WINDOW {
        thread::sleep(Duration::from_millis(250));
        rss = rss.max(server.rss_kib() as f64 / 1024.0);
    }
    counting.store(false, Ordering::Relaxed);
    let produced = frames(&server, https) - frames0;
    let secs = t0.elapsed().as_secs_f64();
    let cpu = (procfs::cpu_time(pid) - cpu0).as_secs_f64() / secs * 100.0;
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
    let load0 = procfs::loadavg();
    println!(
        "deskcam fan-out: pattern 1280x720 @ {FPS} fps, {} s per row, {} cores",
        WINDOW.as_secs(),
        thread::available_parallelism().map_or(1, |n| n.get())
    );
    let https = Https::new();
    let rows = [
        scenario("1 reader (baseline)", 1, false, None),
        scenario("50 readers", 50, false, None),
        scenario("200 readers", 200, false, None),
        scenario("50 readers + 1 stalled", 50, true, None),
        scenario("200 HTTPS readers", 200, false, Some(&https)),
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
    let (plain, tls) = (&rows[2], &rows[4]);
    println!(
        "HTTPS vs plain, 200 readers each: frames/reader min {} vs {} ({:.0}% vs {:.0}% of produced), CPU {:.0}% vs {:.0}% of a core, RSS {:.1} vs {:.1} MB; added per HTTPS reader: {:.3}% of a core, {:.0} KB",
        tls.min,
        plain.min,
        100.0 * tls.min as f64 / tls.expected,
        100.0 * plain.min as f64 / plain.expected,
        tls.cpu,
        plain.cpu,
        tls.rss,
        plain.rss,
        (tls.cpu - plain.cpu) / 200.0,
        (tls.rss - plain.rss) * 1024.0 / 200.0
    );
    drop(https.ca);
    println!("{}", procfs::load_report(&load0));
}
