//! `make bench`: latency from sending `POST /input` (a left click) to the ButtonPress arriving
//! at a recording X client on Xvfb, p50/p95/p99 over 1000 clicks on loopback, next to the
//! baseline of the same XTest injection called in-process (no HTTP) in the same run.

use std::thread;
use std::time::{Duration, Instant};

use deskcam::geometry::Region;
use deskcam::input::{Button, Event, Injector, Spot};
use testkit::http::KeepAlive;
use testkit::procfs;
use testkit::server::Deskcam;
use testkit::stats::{ms, percentile};
use testkit::x11::{Rec, Recorder, Xvfb};

const CLICKS: usize = 1000;
const WARMUP: usize = 50;
/// Keeps the run under the per-client rate limit (250 events/s) so every click is accepted.
const PACE: Duration = Duration::from_millis(5);
const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

fn spot(i: usize) -> Spot {
    // Alternate between spots so every click also moves the pointer.
    let f = if i.is_multiple_of(2) { 0.25 } else { 0.75 };
    Spot { x: f, y: 0.5 }
}

/// Waits for the press of the click just sent; returns when it arrived.
fn press_arrival(rec: &Recorder) -> Instant {
    loop {
        match rec.next_timed(Duration::from_secs(5)) {
            Some((at, Rec::Press { button: 1, .. })) => return at,
            Some(_) => continue,
            None => panic!("no ButtonPress within 5 s"),
        }
    }
}

/// p50, p95 and p99 in milliseconds.
fn percentiles(mut v: Vec<Duration>) -> [f64; 3] {
    [0.50, 0.95, 0.99].map(|p| ms(percentile(&mut v, p)))
}

fn main() {
    let load0 = procfs::loadavg();
    let x = Xvfb::start(WIDTH, HEIGHT);
    let rec = Recorder::start(&x.display);
    let area = Region {
        x: 0,
        y: 0,
        width: WIDTH,
        height: HEIGHT,
    };

    // Baseline: the injector called directly, no HTTP.
    let injector = Injector::connect(Some(&x.display)).expect("XTest injector");
    let mut direct = Vec::with_capacity(CLICKS);
    for i in 0..WARMUP + CLICKS {
        let t0 = Instant::now();
        injector
            .inject(&Event::Click(spot(i), Button::Left), area)
            .expect("inject");
        let arrived = press_arrival(&rec);
        if i >= WARMUP {
            direct.push(arrived - t0);
        }
        thread::sleep(PACE);
    }
    drop(injector);
    rec.drain(Duration::from_millis(200));

    // The whole path: POST /input on a keep-alive connection to the real binary.
    let deskcam = Deskcam::start(&[
        "--source",
        "screen",
        "--control",
        "--display",
        &x.display,
        "--quiet",
    ]);
    let mut conn = KeepAlive::connect(deskcam.addr);
    let (mut to_event, mut round_trip) = (Vec::new(), Vec::new());
    for i in 0..WARMUP + CLICKS {
        let s = spot(i);
        let body = format!("type=click&x={}&y={}", s.x, s.y);
        let t0 = Instant::now();
        conn.send_post("/input", &body);
        let arrived = press_arrival(&rec);
        let (status, text) = conn.read_reply();
        let answered = Instant::now();
        assert_eq!(status, 204, "{text}");
        if i >= WARMUP {
            to_event.push(arrived - t0);
            round_trip.push(answered - t0);
        }
        thread::sleep(PACE);
    }

    let [d50, d95, d99] = percentiles(direct);
    let [p50, p95, p99] = percentiles(to_event);
    let [r50, r95, r99] = percentiles(round_trip);
    println!("input latency, {CLICKS} left clicks on a {WIDTH}x{HEIGHT} Xvfb, loopback (ms):");
    println!("                                          p50     p95     p99");
    println!("baseline: XTest in-process -> ButtonPress {d50:7.3} {d95:7.3} {d99:7.3}");
    println!("POST /input -> ButtonPress at the client  {p50:7.3} {p95:7.3} {p99:7.3}");
    println!("POST /input -> 204 received               {r50:7.3} {r95:7.3} {r99:7.3}");
    println!(
        "HTTP adds {:.3} ms at p50 ({:.1}x the baseline); target p50 <= 2 ms: {}",
        p50 - d50,
        p50 / d50,
        if p50 <= 2.0 { "met" } else { "MISSED" }
    );
    println!("{}", procfs::load_report(&load0));
}
