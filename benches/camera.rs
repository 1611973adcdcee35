//! Camera benchmark (`make bench`, on the host): what one frame costs on each camera path.
//!
//! - Encode path: synthesised YUYV frames at 640x480, 1280x720 and 1920x1080 through
//!   `encode::encode` (jpeg-encoder, q80, 4:2:0) on one thread: ms per frame and frames per
//!   second per core, CPU time from /proc/thread-self/schedstat. Baselines in the same run:
//!   libjpeg-turbo's own `tjbench` (RGB input, q80, 4:2:0) and ffmpeg's MJPEG encoder on the
//!   same YUYV frames (`-threads 1 -benchmark`). `make bench` runs it twice: the default build
//!   (jpeg-encoder) and `--features turbojpeg` (libjpeg-turbo from YUV planes).
//! - Every camera layout (YUYV, UYVY, NV12, YU12, RGB24, BGR24, GREY) at 1280x720 through
//!   `encode::encode`, CPU per frame next to YUYV in the same run (the order `--format auto`
//!   prefers follows these figures).
//! - In the V4L2 test bed (default build's run only): deskcam, both builds, against Debian's
//!   `ustreamer` on the same vivid camera and format, CPU per frame (benches/camera_vs_ustreamer.sh).
//! - Passthrough path at 1080p: a camera JPEG without Huffman tables (as UVC cameras send them)
//!   through validation + DHT insertion + `Hub::publish`, CPU per frame and share of one core at
//!   30 frames/s (target: at most 1 %).

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use deskcam::encode::{EncodeSettings, encode};
use deskcam::frame::Frame;
use deskcam::hub::Hub;
use deskcam::image::{PixelFormat, RawImage};
use deskcam::jpeg::{Quality, Subsampling, markers};
use deskcam::source::camera::passthrough;
use testkit::procfs::{self, thread_cpu};
use testkit::stats::ms;

const SIZES: [(u32, u32); 3] = [(640, 480), (1280, 720), (1920, 1080)];
const MIN_TIME: Duration = Duration::from_secs(2);

/// A camera-like YUYV picture: smooth gradients, a moving bright box and a little sensor noise,
/// so the encoder has realistic work (a flat picture would flatter every encoder).
fn yuyv(w: u32, h: u32, t: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((w * h * 2) as usize);
    let mut seed = 0x2545_f491u32.wrapping_add(t);
    let (bx, by, side) = ((t * 16) % w.max(1), h / 3, h / 4);
    for y in 0..h {
        for x in (0..w).step_by(2) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let noise = (seed >> 24) as i32 % 9 - 4;
            let in_box = x >= bx && x < bx + side && y >= by && y < by + side;
            let base = if in_box {
                230
            } else {
                ((x * 180 / w) + (y * 60 / h)) as i32
            };
            let luma = |d: i32| (base + noise + d).clamp(16, 235) as u8;
            out.push(luma(0));
            out.push((96 + (y * 64 / h)) as u8);
            out.push(luma(1));
            out.push((160 - (x * 64 / w)) as u8);
        }
    }
    out
}

/// The same camera picture in another layout, converted from the YUYV one (4:2:0 layouts take
/// the chroma of even rows; RGB layouts are converted with BT.601 full range).
fn in_format(format: PixelFormat, w: u32, h: u32, yuyv: &[u8]) -> Vec<u8> {
    let (w, h) = (w as usize, h as usize);
    let px = |x: usize, y: usize| {
        let p = y * 2 * w + 4 * (x / 2);
        (yuyv[p + 2 * (x % 2)], yuyv[p + 1], yuyv[p + 3])
    };
    let rgb = |(y, u, v): (u8, u8, u8)| {
        let (y, u, v) = (y as f32, u as f32 - 128.0, v as f32 - 128.0);
        [y + 1.402 * v, y - 0.344 * u - 0.714 * v, y + 1.772 * u].map(|c| c.clamp(0.0, 255.0) as u8)
    };
    let mut out = Vec::new();
    match format {
        PixelFormat::Yuyv => out.extend_from_slice(yuyv),
        PixelFormat::Uyvy => {
            for q in yuyv.chunks_exact(4) {
                out.extend_from_slice(&[q[1], q[0], q[3], q[2]]);
            }
        }
        PixelFormat::Nv12 | PixelFormat::Yuv420 | PixelFormat::Grey => {
            out.extend(
                (0..h)
                    .flat_map(|y| (0..w).map(move |x| (x, y)))
                    .map(|(x, y)| px(x, y).0),
            );
            let chroma = (0..h / 2).flat_map(|y| (0..w / 2).map(move |x| px(2 * x, 2 * y)));
            match format {
                PixelFormat::Nv12 => out.extend(chroma.flat_map(|(_, u, v)| [u, v])),
                PixelFormat::Yuv420 => {
                    let c: Vec<(u8, u8, u8)> = chroma.collect();
                    out.extend(c.iter().map(|p| p.1));
                    out.extend(c.iter().map(|p| p.2));
                }
                _ => {}
            }
        }
        PixelFormat::Rgb24 | PixelFormat::Bgr24 | PixelFormat::Bgrx32 => {
            for y in 0..h {
                for x in 0..w {
                    let [r, g, b] = rgb(px(x, y));
                    match format {
                        PixelFormat::Rgb24 => out.extend_from_slice(&[r, g, b]),
                        PixelFormat::Bgr24 => out.extend_from_slice(&[b, g, r]),
                        _ => out.extend_from_slice(&[b, g, r, 0]),
                    }
                }
            }
        }
    }
    out
}

/// CPU time per frame of every camera layout at 1280x720, next to YUYV in the same run.
fn formats(settings: &EncodeSettings) {
    let (w, h) = (1280, 720);
    let yuyv_frames: Vec<Vec<u8>> = (0..8).map(|t| yuyv(w, h, t)).collect();
    println!();
    println!("camera layouts at {w}x{h}, q80 4:2:0, one thread: CPU time per frame (encode only)");
    println!(
        "{:<8} {:>10} {:>10} {:>9} {:>12}",
        "format", "ms", "fps/core", "KiB/frame", "vs YUYV"
    );
    let mut base = None;
    for format in deskcam::image::CAMERA_PIXEL_FORMATS {
        let frames: Vec<Vec<u8>> = yuyv_frames
            .iter()
            .map(|f| in_format(format, w, h, f))
            .collect();
        let (cpu, bytes) = encode_cost(format, w, h, &frames, settings);
        let base = *base.get_or_insert(cpu);
        println!(
            "{:<8} {:>10.2} {:>10.1} {:>9.0} {:>11.2}x",
            format.name(),
            ms(cpu),
            1000.0 / ms(cpu),
            bytes as f64 / 1024.0,
            cpu.as_secs_f64() / base.as_secs_f64()
        );
    }
    println!("(grey is a one-component JPEG: it drops the colour)");
}

/// CPU time per frame of the camera encode path (the buffer copy a camera frame gets
/// included), cycling through `frames` in `format`, and the last JPEG's size.
fn encode_cost(
    format: PixelFormat,
    w: u32,
    h: u32,
    frames: &[Vec<u8>],
    settings: &EncodeSettings,
) -> (Duration, usize) {
    let mut bytes = 0usize;
    let (cpu, _, _) = measure(|i| {
        let img = RawImage::packed(
            format,
            w,
            h,
            frames[i as usize % frames.len()].clone(),
            SystemTime::now(),
        )
        .expect("synthetic frame has the right size");
        let jpeg = encode(&img, settings).expect("encode");
        bytes = jpeg.len();
        black_box(jpeg);
    });
    (cpu, bytes)
}

/// Runs `f` until MIN_TIME of CPU passes; returns (CPU per call, wall per call, calls).
fn measure(mut f: impl FnMut(u32)) -> (Duration, Duration, u32) {
    f(0); // warm-up: page faults, first allocations
    let (cpu0, wall0) = (thread_cpu(), Instant::now());
    let mut n = 0;
    while thread_cpu() - cpu0 < MIN_TIME {
        f(n);
        n += 1;
    }
    ((thread_cpu() - cpu0) / n, wall0.elapsed() / n, n)
}

/// libjpeg-turbo's benchmark on the same picture converted to RGB: compression Mpixel/s.
fn tjbench(dir: &Path, w: u32, h: u32, frame: &[u8]) -> Option<f64> {
    let ppm = dir.join(format!("frame-{w}x{h}.ppm"));
    let mut data = format!("P6\n{w} {h}\n255\n").into_bytes();
    for px in frame.chunks_exact(4) {
        for y in [px[0], px[2]] {
            let (y, u, v) = (y as f64, px[1] as f64 - 128.0, px[3] as f64 - 128.0);
            for c in [y + 1.402 * v, y - 0.344 * u - 0.714 * v, y + 1.772 * u] {
                data.push(c.clamp(0.0, 255.0) as u8);
            }
        }
    }
    std::fs::write(&ppm, data).ok()?;
    let out = Command::new("tjbench")
        .arg(&ppm)
        .args([
            "80",
            "-subsamp",
            "420",
            "-benchtime",
            "2",
            "-warmup",
            "1",
            "-quiet",
        ])
        .output()
        .ok()?;
    // Tabular output: "BGR  (TD)  4:2:0  80  640  480  562.3  39.53  737.7": format, subsampling,
    // quality, width, height, compression Mpixel/s, ratio, decompression Mpixel/s.
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "4:2:0")?;
        words.get(at + 4)?.parse::<f64>().ok()
    })
}

/// ffmpeg's MJPEG encoder on one thread, fed the same YUYV frames: CPU ms per frame.
fn ffmpeg_mjpeg(dir: &Path, w: u32, h: u32, frames: &[Vec<u8>]) -> Option<f64> {
    let raw = dir.join(format!("frames-{w}x{h}.yuyv"));
    std::fs::write(&raw, frames.concat()).ok()?;
    let loops = 4;
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-benchmark", "-threads", "1"])
        .args(["-stream_loop", &loops.to_string()])
        .args([
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuyv422",
            "-s",
            &format!("{w}x{h}"),
            "-i",
        ])
        .arg(&raw)
        .args([
            "-threads", "1", "-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p",
        ])
        .args(["-f", "null", "-"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().find(|l| l.starts_with("bench: utime="))?;
    let secs = |key: &str| -> Option<f64> {
        let v = line.split(key).nth(1)?.split('s').next()?;
        v.parse().ok()
    };
    let cpu = secs("utime=")? + secs("stime=")?;
    Some(cpu * 1000.0 / (frames.len() * (loops + 1)) as f64)
}

fn main() {
    let load0 = procfs::loadavg();
    let dir = std::env::temp_dir().join(format!("deskcam-bench-camera-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let settings = EncodeSettings {
        quality: Quality::new(80).expect("80 is a valid quality"),
        subsampling: Subsampling::S420,
        flip: false,
        mirror: false,
        rotate: deskcam::orientation::Rotation::R0,
    };
    encode_sizes(&dir, &settings);
    formats(&settings);

    passthrough_cost(&settings);
    let _ = std::fs::remove_dir_all(&dir);
    println!("{}", procfs::load_report(&load0));
    // Once per `make bench`: it compares both builds itself.
    if !cfg!(feature = "turbojpeg") {
        versus_ustreamer();
    }
}

/// The YUYV encode path at each size, next to libjpeg-turbo's tjbench and ffmpeg's mjpeg
/// encoder on the same frames.
fn encode_sizes(dir: &Path, settings: &EncodeSettings) {
    let encoder = if cfg!(feature = "turbojpeg") {
        "libjpeg-turbo (--features turbojpeg)"
    } else {
        "jpeg-encoder (default build)"
    };
    println!(
        "camera encode path with {encoder}: YUYV -> JPEG q80 4:2:0, one thread (CPU time per frame)"
    );
    println!(
        "{:<10} {:>10} {:>10} {:>9} | {:>16} {:>8} | {:>16} {:>8}",
        "size",
        "deskcam ms",
        "fps/core",
        "KiB/frame",
        "tjbench (turbo) ms",
        "ratio",
        "ffmpeg mjpeg ms",
        "ratio"
    );
    for (w, h) in SIZES {
        let frames: Vec<Vec<u8>> = (0..8).map(|t| yuyv(w, h, t)).collect();
        let (cpu, bytes) = encode_cost(PixelFormat::Yuyv, w, h, &frames, settings);
        let turbo = tjbench(dir, w, h, &frames[0]).map(|mpx| (w * h) as f64 / (mpx * 1000.0));
        let ff = ffmpeg_mjpeg(dir, w, h, &frames);
        let show = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.2}"));
        let ratio =
            |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{:.2}x", ms(cpu) / v));
        println!(
            "{:<10} {:>10.2} {:>10.1} {:>9.0} | {:>18} {:>8} | {:>16} {:>8}",
            format!("{w}x{h}"),
            ms(cpu),
            1000.0 / ms(cpu),
            bytes as f64 / 1024.0,
            show(turbo),
            ratio(turbo),
            show(ff),
            ratio(ff),
        );
    }
    println!(
        "(ratio = deskcam time / baseline time; tjbench reports wall time and starts from RGB)"
    );
}

/// The passthrough path: a 1080p camera JPEG checked, given its Huffman tables and published.
fn passthrough_cost(settings: &EncodeSettings) {
    // Without DHT, as a UVC camera delivers it.
    let img = RawImage::packed(
        PixelFormat::Yuyv,
        1920,
        1080,
        yuyv(1920, 1080, 3),
        SystemTime::now(),
    )
    .expect("frame");
    let jpeg = encode(&img, settings).expect("encode");
    let bare = markers::without(&jpeg, markers::DHT).expect("our own JPEG");
    let hub = Hub::new();
    let (cpu, wall, n) = measure(|_| {
        let ready = passthrough::prepare(black_box(&bare)).expect("valid frame");
        black_box(hub.publish(Frame::new(ready, 1920, 1080, SystemTime::now())));
    });
    let (cpu_ok, _, _) = measure(|_| {
        let ready = passthrough::prepare(black_box(&jpeg)).expect("valid frame");
        black_box(hub.publish(Frame::new(ready, 1920, 1080, SystemTime::now())));
    });
    println!();
    println!(
        "camera passthrough path, 1080p JPEG of {} KiB: validate + insert DHT + publish",
        bare.len() / 1024
    );
    println!(
        "  without DHT (insert): {:.1} us CPU/frame ({:.1} us wall, {n} frames) = {:.3} % of a core at 30 fps (target <= 1 %)",
        cpu.as_secs_f64() * 1e6,
        wall.as_secs_f64() * 1e6,
        cpu.as_secs_f64() * 30.0 * 100.0
    );
    println!(
        "  with DHT (copy only): {:.1} us CPU/frame = {:.3} % of a core at 30 fps; vs encoding the same frame: {:.0}x cheaper",
        cpu_ok.as_secs_f64() * 1e6,
        cpu_ok.as_secs_f64() * 30.0 * 100.0,
        measure(|_| {
            black_box(encode(&img, settings).expect("encode"));
        })
        .0
        .as_secs_f64()
            / cpu.as_secs_f64()
    );
}

/// The V4L2 test bed, in the repository.
fn testbed() -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/v4l2-testbed");
    dir.join("run").exists().then_some(dir)
}

/// The script's RESULT lines as (server, format) -> the median turn by CPU per frame (a server
/// that sent no frame has an infinite one), with the frames of all turns.
fn median_turns(text: &str) -> std::collections::BTreeMap<(String, String), Turn> {
    let tick: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("CLK_TCK ")?.trim().parse().ok())
        .unwrap_or(100.0);
    // (server, format) -> every turn's (ms CPU per frame, frames, KiB per frame)
    let mut turns: std::collections::BTreeMap<(String, String), Vec<Turn>> = Default::default();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if let ["RESULT", server, format, frames, ticks, bytes] = w[..] {
            let (frames, ticks, bytes): (f64, f64, f64) = (
                frames.parse().unwrap_or(0.0),
                ticks.parse().unwrap_or(0.0),
                bytes.parse().unwrap_or(0.0),
            );
            let ms = ticks / tick * 1000.0 / frames;
            turns
                .entry((server.to_string(), format.to_string()))
                .or_default()
                .push((ms, frames, bytes / frames / 1024.0));
        }
    }
    turns
        .into_iter()
        .map(|(key, mut v)| {
            let frames: f64 = v.iter().map(|t| t.1).sum();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mid = v[v.len() / 2];
            (key, (mid.0, frames, mid.2))
        })
        .collect()
}

/// One server's turn: ms of CPU per frame, frames, KiB per frame.
type Turn = (f64, f64, f64);

/// deskcam and Debian's ustreamer on the same vivid camera in the test bed (see
/// benches/camera_vs_ustreamer.sh): CPU per frame, same format and quality.
fn versus_ustreamer() {
    println!();
    println!(
        "in the V4L2 test bed: deskcam vs Debian's ustreamer, vivid 640x480 at 5 fps, q80 4:2:0, one client, 3 turns of 15 s each (median)"
    );
    let Some(bed) = testbed() else {
        println!("  not measured: no V4L2 test bed (tools/v4l2-testbed)");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let default = root.join("target/release/deskcam");
    let turbo = root.join("target/turbojpeg/release/deskcam");
    let out = Command::new(bed.join("run"))
        .args(["-t", "1500"])
        .arg(format!(
            "sh benches/camera_vs_ustreamer.sh '{}' '{}'",
            default.display(),
            turbo.display()
        ))
        .current_dir(root)
        .output();
    let text = match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(e) => {
            println!("  not measured: {e}");
            return;
        }
    };
    let results = median_turns(&text);
    if results.is_empty() {
        println!("  not measured: the guest printed no results:\n{text}");
        return;
    }
    println!(
        "{:<7} | {:>16} {:>7} {:>6} | {:>16} {:>7} {:>6} | {:>16} {:>7} {:>6}",
        "format",
        "ustreamer ms/fr",
        "frames",
        "",
        "deskcam ms/fr",
        "frames",
        "ratio",
        "turbo ms/fr",
        "frames",
        "ratio"
    );
    for format in ["YUYV", "UYVY"] {
        let get = |s: &str| results.get(&(s.to_string(), format.to_string())).copied();
        let ust = get("ustreamer").filter(|r| r.0.is_finite()).map(|r| r.0);
        let cell = |r: Option<(f64, f64, f64)>| match r {
            Some((ms, frames, _)) if ms.is_finite() => format!(
                "{ms:>16.2} {frames:>7.0} {:>6}",
                ust.map_or("n/a".into(), |u| format!("{:.2}x", ms / u))
            ),
            Some((_, frames, _)) => format!("{:>16} {frames:>7.0} {:>6}", "no frames", ""),
            None => format!("{:>16} {:>7} {:>6}", "n/a", "", ""),
        };
        println!(
            "{format:<7} | {} | {} | {}",
            cell(get("ustreamer")),
            cell(get("deskcam-default")),
            cell(get("deskcam-turbojpeg"))
        );
        let kib = |s: &str| {
            get(s)
                .filter(|r| r.0.is_finite())
                .map_or("n/a".into(), |r| format!("{:.1}", r.2))
        };
        println!(
            "{:<7}   KiB/frame: ustreamer {}, deskcam {}, deskcam turbo {}",
            "",
            kib("ustreamer"),
            kib("deskcam-default"),
            kib("deskcam-turbojpeg")
        );
    }
    println!(
        "(frames: all turns; ratio = deskcam / ustreamer CPU per frame, target <= 1; the guest's CPU is emulated, so only the ratio means anything)"
    );
}
