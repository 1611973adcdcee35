//! The band encoder's workloads (issue 11) at 1920x1080, each measured for deskcam encoding
//! every frame whole (`--full-frames`), deskcam encoding only changed bands (default and
//! turbojpeg builds) and ffmpeg x11grab, side by side in one run:
//! (a) one terminal line rewritten 30 times a second on a still desktop,
//! (b) the mouse moving in circles over a still desktop,
//! (c) the whole screen scrolling (the main table's content).
//! For each: CPU of the streamer, frames per CPU-second, fps, bytes per frame over 10 s, then 20
//! single changes on a still screen, each from just before the drawing request to the arrival
//! of the first frame that shows it ((c): a whole-screen scroll step with a marker).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use testkit::picture::Picture;
use testkit::stats::percentile;
use testkit::x11rb::connection::Connection;
use testkit::x11rb::protocol::xproto::{ChangeGCAux, ConnectionExt as _, CreateGCAux, Rectangle};
use testkit::x11rb::protocol::xtest::ConnectionExt as _;

use super::{H, Painter, System, W, Xvfb, cpu, marker_colour, ms, read_frames, start};

const RUN: Duration = Duration::from_secs(10);
const SAMPLES: usize = 20;
/// The rate of (a) and (b), and the frame rate asked of every system there.
const RATE: u32 = 30;
/// Where (a)'s line is; its marker square sits on the 16-pixel grid, so a 1/8-scale decode
/// reads its colour exactly.
const LINE: (i16, i16) = (96, 496);
/// The centre and radius of (b)'s circle, over a grey panel where the cursor stands out.
const CIRCLE: (i16, i16, i16) = (960, 540, 200);

#[derive(Clone, Copy, PartialEq)]
pub enum Workload {
    Line,
    Mouse,
    Scroll,
}

impl Workload {
    pub fn label(self) -> &'static str {
        match self {
            Workload::Line => "(a) one terminal line, 30/s",
            Workload::Mouse => "(b) mouse circling, 30 moves/s",
            Workload::Scroll => "(c) whole screen scrolling",
        }
    }
}

pub struct Figures {
    pub fps: f64,
    pub cpu: f64,
    pub p50: Duration,
    pub p95: Duration,
    pub bytes: usize,
}

/// Draws a workload's changes on its own X connection.
struct Driver {
    p: Painter,
    gc: u32,
}

impl Driver {
    fn new(display: &str) -> Driver {
        let p = Painter::new(display);
        let font = p.conn.generate_id().unwrap();
        p.conn.open_font(font, b"fixed").unwrap();
        let gc = p.conn.generate_id().unwrap();
        let aux = CreateGCAux::new()
            .foreground(0)
            .background(0xFFFFFF)
            .font(font);
        p.conn.create_gc(gc, p.root, &aux).unwrap();
        Driver { p, gc }
    }

    fn fill(&self, rgb: u32, x: i16, y: i16, w: u16, h: u16) {
        let c = &self.p.conn;
        c.change_gc(self.p.gc, &ChangeGCAux::new().foreground(rgb))
            .unwrap();
        let r = Rectangle {
            x,
            y,
            width: w,
            height: h,
        };
        c.poly_fill_rectangle(self.p.root, self.p.gc, &[r]).unwrap();
    }

    /// The still desktop a workload starts from.
    fn prepare(&self, w: Workload) {
        match w {
            Workload::Line => self.fill(0xFFFFFF, LINE.0, LINE.1, 1000, 16),
            Workload::Mouse => {
                let (cx, cy, r) = CIRCLE;
                let side = 2 * r as u16 + 80;
                self.fill(0x808080, cx - r - 40, cy - r - 40, side, side);
            }
            Workload::Scroll => {}
        }
        self.p.sync();
    }

    /// Change number `i`: what the throughput phase repeats and a latency sample does once.
    fn change(&self, w: Workload, i: u32) {
        let c = &self.p.conn;
        match w {
            Workload::Line => {
                let text = format!("user@host:~$ make bench   # line rewritten, change {i:>8}");
                self.fill(marker(i), LINE.0, LINE.1, 16, 16);
                c.image_text8(
                    self.p.root,
                    self.gc,
                    LINE.0 + 24,
                    LINE.1 + 12,
                    text.as_bytes(),
                )
                .unwrap();
            }
            Workload::Mouse => {
                let (x, y) = circle(i);
                c.xtest_fake_input(6, 0, 0, self.p.root, x, y, 0).unwrap(); // MotionNotify
            }
            Workload::Scroll => {
                // One scroll step and the marker, atomic for the streamers.
                c.grab_server().unwrap();
                c.copy_area(self.p.root, self.p.root, self.p.gc, 16, 0, 0, 0, W - 16, H)
                    .unwrap();
                self.fill(marker(i), 64, 64, 128, 128);
                c.ungrab_server().unwrap();
            }
        }
        self.p.sync();
    }
}

fn marker(i: u32) -> u32 {
    if i.is_multiple_of(2) {
        0xC0C0C0
    } else {
        0x404040
    }
}

fn circle(i: u32) -> (i16, i16) {
    let a = i as f64 * std::f64::consts::TAU / RATE as f64;
    let (cx, cy, r) = CIRCLE;
    (
        cx + (r as f64 * a.cos()) as i16,
        cy + (r as f64 * a.sin()) as i16,
    )
}

/// Whether `jpeg` shows change `i` of `w`. The markers are light and dark grey, told apart by
/// luma: at 1/8 scale a 16-pixel marker's chroma blends with its neighbours', its luma does not
/// (and grey is far enough from black and white that the blend does not clip).
fn shows(w: Workload, i: u32, jpeg: &[u8]) -> bool {
    let want = (marker(i) & 0xFF) as i32;
    let close = |c: [u8; 3]| {
        let luma = (299 * c[0] as i32 + 587 * c[1] as i32 + 114 * c[2] as i32) / 1000;
        (luma - want).abs() < 40
    };
    match w {
        Workload::Line => {
            marker_colour(jpeg, (LINE.0 + 8) as usize, (LINE.1 + 8) as usize).is_some_and(close)
        }
        Workload::Scroll => marker_colour(jpeg, 128, 128).is_some_and(close),
        Workload::Mouse => cursor_at(jpeg, circle(i)),
    }
}

/// Whether the cursor (black and white on the grey panel) is drawn around `at`.
fn cursor_at(jpeg: &[u8], at: (i16, i16)) -> bool {
    let Ok(p) = Picture::decode(jpeg) else {
        return false;
    };
    let (x0, y0) = (at.0 as u32 - 6, at.1 as u32 - 6);
    (y0..y0 + 12).any(|y| (x0..x0 + 12).any(|x| !(60..=200).contains(&p.at(x, y)[0])))
}

/// Runs `w` against `system` and measures it: throughput, then single changes on a still
/// screen. One function because both phases share the running streamer and its reader.
pub fn measure(
    system: System,
    w: Workload,
    x: &Xvfb,
    scrolling: &AtomicBool,
    scratch: &std::path::Path,
) -> Result<Figures, String> {
    let fps = if w == Workload::Scroll { 1000 } else { RATE };
    // The still desktop is a testsrc2 picture (a moment of (c)'s scroll), whatever ran before.
    scrolling.store(true, Ordering::Relaxed);
    thread::sleep(Duration::from_millis(100));
    scrolling.store(false, Ordering::Relaxed);
    thread::sleep(Duration::from_millis(50));
    let driver = Driver::new(&x.display);
    driver.prepare(w);
    let running = Arc::new(AtomicBool::new(true));
    let animation = (w != Workload::Scroll).then(|| {
        let (display, running) = (x.display.clone(), running.clone());
        thread::spawn(move || {
            let d = Driver::new(&display);
            let step = Duration::from_secs(1) / RATE;
            let (mut next, mut i) = (Instant::now(), 0);
            while running.load(Ordering::Relaxed) {
                d.change(w, i);
                i += 1;
                next += step;
                thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })
    });
    scrolling.store(w == Workload::Scroll, Ordering::Relaxed);
    let (run, stream) = start(system, &x.display, scratch, fps)?;
    let pid = run.pid();
    let reader = read_frames(stream);
    let t0 = Instant::now();
    while reader.count.load(Ordering::Relaxed) < 3 {
        if t0.elapsed() > Duration::from_secs(30) {
            return Err("no frames within 30 s".into());
        }
        thread::sleep(Duration::from_millis(50));
    }
    thread::sleep(Duration::from_secs(1));
    let (n0, b0, c0, w0) = (
        reader.count.load(Ordering::Relaxed),
        reader.bytes.load(Ordering::Relaxed),
        cpu(pid),
        Instant::now(),
    );
    thread::sleep(RUN);
    let wall = w0.elapsed().as_secs_f64();
    let frames = reader.count.load(Ordering::Relaxed) - n0;
    let figures_cpu = (cpu(pid) - c0).as_secs_f64() / wall * 100.0;
    let bytes = ((reader.bytes.load(Ordering::Relaxed) - b0) / frames.max(1)) as usize;
    running.store(false, Ordering::Relaxed);
    scrolling.store(false, Ordering::Relaxed);
    if let Some(a) = animation {
        let _ = a.join();
    }
    thread::sleep(Duration::from_millis(500));
    reader.keep.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for i in 0..SAMPLES as u32 {
        thread::sleep(Duration::from_millis(300));
        while reader.frames.try_recv().is_ok() {}
        let t = Instant::now();
        driver.change(w, 1000 + i);
        loop {
            let (arrived, jpeg) = reader
                .frames
                .recv_timeout(Duration::from_secs(10))
                .map_err(|_| "the change never arrived".to_string())?;
            if t.elapsed() > Duration::from_secs(10) {
                return Err(format!("change {i} was not seen within 10 s"));
            }
            if arrived >= t && shows(w, 1000 + i, &jpeg) {
                lat.push(arrived - t);
                break;
            }
        }
    }
    drop(run);

    Ok(Figures {
        fps: frames as f64 / wall,
        cpu: figures_cpu,
        p50: percentile(&mut lat, 0.5),
        p95: percentile(&mut lat, 0.95),
        bytes,
    })
}

/// Measures every workload for every system; returns the table (Markdown), with the single-thread
/// encode time `encode` for goal (c).
pub fn table(
    x: &Xvfb,
    scrolling: &AtomicBool,
    scratch: &std::path::Path,
    encode: Duration,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let systems = [
        System::DeskcamFull,
        System::Deskcam,
        System::DeskcamTurbo,
        System::Ffmpeg,
    ];
    let _ = writeln!(
        out,
        "\n| workload (1920x1080) | system | CPU % of a core | frames per CPU-second | fps | change→arrival p50 / p95 ms | bytes/frame |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    // `cargo bench --bench screen -- workloads b` measures (b) alone.
    let picked: Vec<String> = std::env::args()
        .filter(|a| ["a", "b", "c"].contains(&a.as_str()))
        .collect();
    for (letter, w) in [
        ("a", Workload::Line),
        ("b", Workload::Mouse),
        ("c", Workload::Scroll),
    ] {
        if !picked.is_empty() && !picked.iter().any(|p| p == letter) {
            continue;
        }
        for system in systems {
            eprintln!("measuring {} with {} ...", w.label(), system.label());
            let _ = match measure(system, w, x, scrolling, scratch) {
                Ok(f) => writeln!(
                    out,
                    "| {} | {} | {:.1} | {:.0} | {:.1} | {:.1} / {:.1} | {} |",
                    w.label(),
                    system.label(),
                    f.cpu,
                    f.fps / (f.cpu / 100.0).max(0.001),
                    f.fps,
                    ms(f.p50),
                    ms(f.p95),
                    f.bytes
                ),
                Err(e) => writeln!(
                    out,
                    "| {} | {} | not measured: {e} | | | | |",
                    w.label(),
                    system.label()
                ),
            };
        }
    }
    let _ = writeln!(
        out,
        "\nGoal (c): whole-screen change→arrival p50 ≤ 0.6 x one single-threaded full encode = {:.1} ms.",
        ms(encode.mul_f64(0.6))
    );
    out
}
