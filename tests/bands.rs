//! The screen encoded in bands (only what changed), against real Xvfb: every frame a client
//! receives is the screen at one moment, byte-identical to a full encode of a grab of that
//! moment, while a window moves, text is typed, a caret blinks and text scrolls; the cursor
//! changes only the bands it covers; frames decode without a warning in ffmpeg, Chromium and
//! jpeg-decoder; `/state` counts bands encoded and reused.
//!
//! "A grab of the same moment": the test is the only client drawing on its Xvfb, and each step
//! is atomic for other clients (one request, or several inside a server grab). After a step the
//! screen is still, so the test's own `GetImage` of the whole screen, encoded whole by the same
//! encoder with the same restart interval, is the one right picture of that moment. Each frame
//! that arrives must then be exactly the picture before the step or the one after it: a frame
//! mixing bands of two moments, or missing a change, matches neither.
//!
//! The reference is made with `deskcam::encode::bands::encode_restart`, unlike the rest of the
//! end-to-end tests, which judge the program from outside: byte identity can only be asked of
//! the same encoder library, and that function is the library called once on the whole picture
//! with a restart interval (its own unit tests compare it with the library's output). Everything
//! between the screen and the client (damage, partial grabs, band comparison, the cursor, the
//! pool, the stitching) is what is judged.

use std::time::{Duration, Instant};

use deskcam::encode::EncodeSettings;
use deskcam::encode::bands::encode_restart;
use deskcam::jpeg::{Quality, Subsampling};
use testkit::http::{self, MjpegReader, State};
use testkit::server::Deskcam;
use testkit::wait::wait_until;
use testkit::x11::{Painter, Xvfb};
use testkit::x11rb;
use testkit::x11rb::connection::Connection;
use testkit::x11rb::protocol::xproto::{
    ChangeGCAux, ConfigureWindowAux, ConnectionExt as _, CreateGCAux, CreateWindowAux, Gcontext,
    ImageFormat, Rectangle, Window, WindowClass,
};

const W: u16 = 640;
const H: u16 = 360; // 22.5 bands of 16 rows: the last band is partial
const LINE: i16 = 13; // the "fixed" font's line height

fn settings() -> EncodeSettings {
    EncodeSettings {
        quality: Quality::new(80).unwrap(),
        subsampling: Subsampling::S420,
        flip: false,
        mirror: false,
        rotate: deskcam::orientation::Rotation::R0,
    }
}

/// The test's desktop: a noisy background, a "terminal" window with text, a window to move.
struct Scene {
    p: Painter,
    term: Window,
    moving: Window,
    text_gc: Gcontext,
}

impl Scene {
    fn new(display: &str) -> Scene {
        let p = Painter::new(display);
        // Noise and gradients, so every band has detail and a wrong band cannot look right.
        let mut px = Vec::with_capacity(W as usize * H as usize * 4);
        let mut seed = 0x1234_5678u32;
        for y in 0..H as u32 {
            for x in 0..W as u32 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let n = (seed >> 24) as u8 & 0x3F;
                px.extend_from_slice(&[(x / 3) as u8 ^ n, (y * 2) as u8, (x + y) as u8 | n, 0]);
            }
        }
        for (i, rows) in px.chunks(W as usize * 4 * 40).enumerate() {
            let h = (rows.len() / (W as usize * 4)) as u16;
            p.conn
                .put_image(
                    ImageFormat::Z_PIXMAP,
                    p.root,
                    p.gc,
                    W,
                    h,
                    0,
                    (i * 40) as i16,
                    0,
                    24,
                    rows,
                )
                .unwrap();
        }
        let window = |x, y, w, h, bg| {
            let id = p.conn.generate_id().unwrap();
            p.conn
                .create_window(
                    0,
                    id,
                    p.root,
                    x,
                    y,
                    w,
                    h,
                    0,
                    WindowClass::INPUT_OUTPUT,
                    0,
                    &CreateWindowAux::new().background_pixel(bg),
                )
                .unwrap();
            p.conn.map_window(id).unwrap();
            id
        };
        let term = window(40, 30, 330, 170, 0xFFFFFF);
        let moving = window(420, 200, 120, 70, 0x2E8B57);
        let font = p.conn.generate_id().unwrap();
        p.conn.open_font(font, b"fixed").unwrap();
        let text_gc = p.conn.generate_id().unwrap();
        p.conn
            .create_gc(
                text_gc,
                term,
                &CreateGCAux::new()
                    .foreground(0)
                    .background(0xFFFFFF)
                    .font(font),
            )
            .unwrap();
        p.sync();
        let s = Scene {
            p,
            term,
            moving,
            text_gc,
        };
        s.text(4, LINE, "$ deskcam --source screen");
        s
    }

    fn text(&self, x: i16, y: i16, s: &str) {
        self.p
            .conn
            .image_text8(self.term, self.text_gc, x, y, s.as_bytes())
            .unwrap();
        self.p.sync();
    }

    fn caret(&self, on: bool, x: i16, y: i16) {
        let c = &self.p.conn;
        c.change_gc(
            self.p.gc,
            &ChangeGCAux::new().foreground(if on { 0 } else { 0xFFFFFF }),
        )
        .unwrap();
        let r = Rectangle {
            x,
            y: y - 10,
            width: 6,
            height: 12,
        };
        c.poly_fill_rectangle(self.term, self.p.gc, &[r]).unwrap();
        self.p.sync();
    }

    /// Scrolls the terminal up one line and writes a new last line, atomically for others.
    fn scroll(&self, line: &str) {
        let c = &self.p.conn;
        c.grab_server().unwrap();
        c.copy_area(
            self.term,
            self.term,
            self.p.gc,
            0,
            LINE,
            0,
            0,
            330,
            170 - LINE as u16,
        )
        .unwrap();
        c.clear_area(false, self.term, 0, 170 - LINE, 330, LINE as u16)
            .unwrap();
        c.image_text8(self.term, self.text_gc, 4, 170 - 3, line.as_bytes())
            .unwrap();
        c.ungrab_server().unwrap();
        self.p.sync();
    }

    fn move_window(&self, x: i32, y: i32) {
        self.p
            .conn
            .configure_window(self.moving, &ConfigureWindowAux::new().x(x).y(y))
            .unwrap();
        self.p.sync();
    }

    /// The screen now, encoded whole with restart markers: the one right frame of this moment.
    fn reference(&self) -> Vec<u8> {
        let img = self
            .p
            .conn
            .get_image(ImageFormat::Z_PIXMAP, self.p.root, 0, 0, W, H, !0)
            .unwrap()
            .reply()
            .unwrap();
        encode_restart(&img.data, W.into(), H.into(), &settings()).unwrap()
    }
}

/// The entropy-coded segments of a frame (one per band), split at its restart markers.
fn segments(jpeg: &[u8]) -> Vec<&[u8]> {
    let start = deskcam::jpeg::markers::header(jpeg)
        .unwrap()
        .last()
        .unwrap()
        .end();
    let scan = &jpeg[start..jpeg.len() - 2];
    let mut out = Vec::new();
    let mut from = 0;
    for i in 0..scan.len().saturating_sub(1) {
        if scan[i] == 0xFF && (0xD0..=0xD7).contains(&scan[i + 1]) {
            out.push(&scan[from..i]);
            from = i + 2;
        }
    }
    out.push(&scan[from..]);
    out
}

/// Which bands of `got` differ from `want`, for a readable failure.
fn differing_bands(got: &[u8], want: &[u8]) -> Vec<usize> {
    let (g, w) = (segments(got), segments(want));
    (0..g.len().max(w.len()))
        .filter(|&i| g.get(i) != w.get(i))
        .collect()
}

/// Reads frames until one is `want`; every frame before it must be `before`.
fn expect(s: &mut MjpegReader, before: &[u8], want: &[u8], step: &str) {
    let t0 = Instant::now();
    loop {
        let (_, jpeg) = s.next_part().expect("the stream goes on");
        if jpeg == want {
            return;
        }
        assert!(
            jpeg == before,
            "{step}: a frame that is neither the screen before nor after the step; bands differing from after: {:?}",
            differing_bands(&jpeg, want)
        );
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "{step}: the change never arrived"
        );
    }
}

fn screen(display: &str, extra: &[&str]) -> Deskcam {
    let mut args = vec![
        "--source",
        "screen",
        "--display",
        display,
        "--quiet",
        "--idle-stop",
        "0",
    ];
    args.extend_from_slice(extra);
    Deskcam::start(&args)
}

fn state_number(d: &Deskcam, key: &str) -> i64 {
    let state = State::fetch(d.addr);
    state.int(key).unwrap_or_else(|| panic!("{key} in {state}"))
}

#[test]
fn every_frame_is_one_moment_of_the_screen_byte_for_byte() {
    let x = Xvfb::start(W.into(), H.into());
    let scene = Scene::new(&x.display);
    let d = screen(&x.display, &["--no-cursor", "--fps", "60"]);
    let mut s = MjpegReader::get(d.addr, "/stream");
    let mut before = scene.reference();
    // Frames of the scene being set up may come first; then the still scene must arrive.
    let t0 = Instant::now();
    while s.next_part().expect("frame").1 != before {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the still scene never arrived"
        );
    }
    let mut step = |name: String, act: &dyn Fn()| {
        act();
        let after = scene.reference();
        expect(&mut s, &before, &after, &name);
        before = after;
    };
    for i in 0..8 {
        step(format!("move {i}"), &|| {
            scene.move_window(420 - 45 * i, 200 - 20 * i)
        });
    }
    for (i, c) in "ls -l /tmp".chars().enumerate() {
        let x = 4 + 6 * (26 + i as i16);
        step(format!("type {c:?}"), &|| {
            scene.text(x, LINE, &c.to_string())
        });
    }
    for i in 0..6 {
        step(format!("blink {i}"), &|| {
            scene.caret(i % 2 == 0, 4 + 6 * 37, LINE)
        });
    }
    for i in 0..5 {
        step(format!("scroll {i}"), &|| {
            scene.scroll(&format!("line {i}: drwxrwxrwt 12 root"))
        });
    }
    assert!(
        segments(&before).len() == H.div_ceil(Subsampling::S420.mcu_height() as u16) as usize,
        "one segment per band"
    );
}

#[test]
fn the_cursor_changes_only_the_bands_it_covers_and_state_counts_bands() {
    let x = Xvfb::start(W.into(), H.into());
    let scene = Scene::new(&x.display);
    let d = screen(&x.display, &["--fps", "60"]);
    let mut s = MjpegReader::get(d.addr, "/stream");
    let rows = Subsampling::S420.mcu_height() as i16;
    for (px, py) in [(100i16, 100i16), (300, 250), (500, 40), (20, 340)] {
        scene
            .p
            .conn
            .warp_pointer(x11rb::NONE, scene.p.root, 0, 0, 0, 0, px, py)
            .unwrap();
        scene.p.sync();
        let clean = scene.reference();
        // The cursor (Xvfb's default X, 16x16 around its hotspot) is in the bands near py.
        let covered = |b: usize| {
            let (top, bottom) = (b as i16 * rows, (b as i16 + 1) * rows);
            top < py + 10 && bottom > py - 10
        };
        let t0 = Instant::now();
        loop {
            let (_, jpeg) = s.next_part().expect("frame");
            let diff = differing_bands(&jpeg, &clean);
            if !diff.is_empty() && diff.iter().all(|&b| covered(b)) {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "cursor at ({px},{py}): bands {diff:?} differ from the screen without cursor"
            );
        }
    }
    // Blink for 2.5 s: per second, far more bands reused than encoded.
    let t0 = Instant::now();
    let mut on = true;
    while t0.elapsed() < Duration::from_millis(2500) {
        scene.caret(on, 200, LINE);
        on = !on;
        s.next_part().expect("frame");
    }
    let (encoded, reused) = (
        state_number(&d, "bands_encoded"),
        state_number(&d, "bands_reused"),
    );
    assert!(
        encoded > 0 && reused > 10 * encoded,
        "encoded {encoded}, reused {reused} per second"
    );
    let full = screen(&x.display, &["--full-frames"]);
    let mut state = String::new();
    let shown = wait_until(Duration::from_secs(5), || {
        state = http::get(full.addr, "/state").text();
        state.contains("\"band_rows\":null")
    });
    assert!(shown && !state.contains("bands_encoded"), "{state}");
}

/// Stitched frames with a partial last band and a width off the MCU grid, from a stream whose
/// bands were partly reused: ffmpeg decodes them without a word, Chromium and jpeg-decoder to
/// the same pixels. One test: the three decoders must judge the same frames.
#[test]
fn stitched_frames_decode_cleanly_in_ffmpeg_chromium_and_jpeg_decoder() {
    use base64::Engine as _;
    let x = Xvfb::start(W.into(), H.into());
    let scene = Scene::new(&x.display);
    let d = screen(&x.display, &["--no-cursor", "--region", "333x250+7+3"]);
    let dir = std::env::temp_dir().join(format!("deskcam-bands-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut s = MjpegReader::get(d.addr, "/stream");
    let mut shown = s.next_part().expect("first frame").1;
    for i in 0..4 {
        scene.scroll(&format!("frame {i} of the decode test"));
        scene.move_window(60 + 30 * i, 100);
        let t0 = Instant::now();
        let jpeg = loop {
            let (_, jpeg) = s.next_part().expect("frame");
            if jpeg != shown {
                break jpeg;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "the change never arrived"
            );
        };
        shown = jpeg.clone();
        assert_eq!(deskcam::jpeg::markers::size(&jpeg), Some((333, 250)));
        let f = dir.join(format!("frame{i}.jpg"));
        std::fs::write(&f, &jpeg).unwrap();
        files.push((f, jpeg));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests/browser");
    crate::control::browser::ensure_playwright(&browser_dir);
    let out = std::process::Command::new("node")
        .arg(browser_dir.join("decode.mjs"))
        .args(files.iter().map(|(f, _)| f))
        .output()
        .expect("node must be installed (tools/deps.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), files.len());
    for ((f, jpeg), line) in files.iter().zip(&lines) {
        let ff = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-v", "warning", "-i"])
            .arg(f)
            .args(["-f", "null", "-"])
            .output()
            .expect("ffmpeg must be installed");
        assert!(
            ff.status.success() && ff.stderr.is_empty(),
            "ffmpeg on {}: {}",
            f.display(),
            String::from_utf8_lossy(&ff.stderr)
        );
        let mut dec = jpeg_decoder::Decoder::new(&jpeg[..]);
        let rgb = dec.decode().expect("jpeg-decoder decodes it");
        let (size, b64) = line.split_once(' ').expect("size and pixels");
        assert_eq!(size, "333x250");
        let rgba = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(rgba.len(), 333 * 250 * 4);
        // Two IDCTs differ by a step or two; a broken segment would be off by far more.
        let mut worst = 0;
        let mut total = 0u64;
        for (p, q) in rgb.chunks(3).zip(rgba.chunks(4)) {
            for c in 0..3 {
                let d = (p[c] as i32 - q[c] as i32).unsigned_abs();
                worst = worst.max(d);
                total += d as u64;
            }
        }
        let mean = total as f64 / (333.0 * 250.0 * 3.0);
        assert!(
            worst <= 8 && mean < 1.0,
            "{}: Chromium and jpeg-decoder differ (worst {worst}, mean {mean:.2})",
            f.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
