//! `--source screen` against a real X server (Xvfb): colours and positions, the cursor, the cost
//! of a static screen, change-to-client latency, the X server going away and coming back at a
//! new size, and a missing display.

use std::process::Command;
use std::time::{Duration, Instant};

use deskcam::jpeg::markers;
use testkit::child::{ffmpeg_reads, tool};
use testkit::http::{self, MjpegReader, State};
use testkit::picture::{Picture, Rgb, rgb};
use testkit::server::{Deskcam, refused};
use testkit::wait::wait_until;
use testkit::x11::{Painter, Xvfb};
use testkit::x11rb::connection::Connection;
use testkit::x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, WindowClass};

/// Within JPEG tolerance of `want` (0xRRGGBB).
fn near(got: Rgb, want: u32) -> bool {
    testkit::picture::near(got, rgb(want), 24)
}

fn snapshot(d: &Deskcam) -> Picture {
    let r = http::get(d.addr, "/snapshot");
    assert_eq!(r.status, 200, "{}", r.text());
    Picture::decode(&r.body).expect("a JPEG")
}

fn state(d: &Deskcam) -> State {
    State::fetch(d.addr)
}

/// Waits (bounded) until /state reports `area` as the streamed area: the capture thread
/// publishes it beside the frames, so a client may see a frame of a new size a moment first.
fn state_shows_area(d: &Deskcam, area: &str) {
    let shown = wait_until(Duration::from_secs(5), || {
        state(d).str("area") == Some(area)
    });
    assert!(shown, "{}", state(d));
}

/// Waits (bounded) until a snapshot shows `want` at (x, y); returns that snapshot.
fn snapshot_showing(d: &Deskcam, x: u32, y: u32, want: u32) -> Picture {
    let mut last = None;
    let ok = wait_until(Duration::from_secs(5), || {
        let p = snapshot(d);
        let hit = near(p.at(x, y), want);
        last = Some(p);
        hit
    });
    let p = last.unwrap();
    assert!(
        ok,
        "pixel ({x},{y}) is {:?}, expected #{want:06x}",
        p.at(x, y)
    );
    p
}

/// deskcam streaming `display` must refuse to start, with one line holding `needle`.
fn screen_refused(display: &str, extra: &[&str], needle: &str) {
    let mut args = vec!["--source", "screen", "--display", display];
    args.extend_from_slice(extra);
    refused(&args, needle);
}

fn screen(display: &str, extra: &[&str]) -> Deskcam {
    let mut args = vec!["--source", "screen", "--display", display, "--quiet"];
    args.extend_from_slice(extra);
    Deskcam::start(&args)
}

#[test]
fn colours_and_positions_survive_bgrx() {
    let x = Xvfb::start(640, 480);
    let d = screen(&x.display, &["--no-cursor", "--quality", "90"]);
    let p = Painter::new(&x.display);
    p.fill(0x000000, 0, 0, 640, 480);
    p.fill(0xFF0000, 40, 40, 100, 100);
    p.fill(0x00FF00, 200, 40, 100, 100);
    p.fill(0x0000FF, 360, 40, 100, 100);
    p.fill(0xFFFFFF, 40, 300, 100, 100);
    let pic = snapshot_showing(&d, 40 + 50, 300 + 50, 0xFFFFFF);
    assert_eq!((pic.width, pic.height), (640, 480));
    // Pure red stays red: B,G,R,X memory order reaches the encoder as BGRA, not RGBA.
    assert!(
        near(pic.at(90, 90), 0xFF0000),
        "red is {:?}",
        pic.at(90, 90)
    );
    assert!(
        near(pic.at(250, 90), 0x00FF00),
        "green is {:?}",
        pic.at(250, 90)
    );
    assert!(
        near(pic.at(410, 90), 0x0000FF),
        "blue is {:?}",
        pic.at(410, 90)
    );
    // Edges land where they were drawn (one pixel inside/outside, JPEG blurs the border).
    assert!(near(pic.at(42, 42), 0xFF0000));
    assert!(near(pic.at(36, 36), 0x000000), "{:?}", pic.at(36, 36));
    assert!(near(pic.at(600, 440), 0x000000));
}

/// Applications draw into their own windows, not the root: DAMAGE on the root must see that.
#[test]
fn a_new_application_window_is_seen() {
    let x = Xvfb::start(640, 480);
    let d = screen(&x.display, &["--no-cursor"]);
    let p = Painter::new(&x.display);
    p.fill(0x000000, 0, 0, 640, 480);
    snapshot_showing(&d, 320, 240, 0x000000);
    let win = p.conn.generate_id().unwrap();
    p.conn
        .create_window(
            0,
            win,
            p.root,
            100,
            100,
            200,
            150,
            0,
            WindowClass::INPUT_OUTPUT,
            0,
            &CreateWindowAux::new().background_pixel(0x00FF00),
        )
        .unwrap();
    p.conn.map_window(win).unwrap();
    p.conn.get_input_focus().unwrap().reply().unwrap();
    let pic = snapshot_showing(&d, 200, 175, 0x00FF00);
    assert!(near(pic.at(50, 50), 0x000000), "{:?}", pic.at(50, 50));
}

#[test]
fn without_mit_shm_falls_back_to_get_image_with_one_warning() {
    let x = Xvfb::start_with(320, 240, &["-extension", "MIT-SHM"]);
    let d = screen(&x.display, &["--no-cursor"]);
    let p = Painter::new(&x.display);
    p.fill(0xFF0000, 0, 0, 320, 240);
    let pic = snapshot_showing(&d, 160, 120, 0xFF0000);
    assert_eq!((pic.width, pic.height), (320, 240));
    assert!(wait_until(Duration::from_secs(5), || state(&d)
        .str("capture")
        == Some("GetImage")));
    let log = d.log();
    assert_eq!(log.matches("using plain GetImage").count(), 1, "{log}");
}

#[test]
fn region_streams_only_that_rectangle() {
    let x = Xvfb::start(640, 480);
    let d = screen(&x.display, &["--no-cursor", "--region", "200x100+300+200"]);
    let p = Painter::new(&x.display);
    p.fill(0x000000, 0, 0, 640, 480);
    // Red only inside the region's left half (screen x 300..400).
    p.fill(0xFF0000, 300, 200, 100, 100);
    let pic = snapshot_showing(&d, 50, 50, 0xFF0000);
    assert_eq!((pic.width, pic.height), (200, 100));
    assert!(near(pic.at(150, 50), 0x000000), "{:?}", pic.at(150, 50));
    state_shows_area(&d, "200x100+300+200");
}

#[test]
fn region_outside_the_screen_is_one_line_and_exit_2() {
    let x = Xvfb::start(320, 240);
    screen_refused(
        &x.display,
        &["--region", "200x200+200+100"],
        "does not fit the 320x240 screen",
    );
}

#[test]
fn cursor_drawn_at_pointer_and_left_out_with_no_cursor() {
    let x = Xvfb::start(640, 480);
    let with = screen(&x.display, &[]);
    let without = screen(&x.display, &["--no-cursor"]);
    let p = Painter::new(&x.display);
    p.fill(0x000000, 0, 0, 640, 480);
    // A marker so both servers are known to show the black screen before we look.
    p.fill(0xFF0000, 600, 440, 40, 40);
    snapshot_showing(&with, 620, 460, 0xFF0000);
    snapshot_showing(&without, 620, 460, 0xFF0000);
    tool(
        Command::new("xdotool")
            .args(["mousemove", "200", "150"])
            .env("DISPLAY", &x.display),
    );
    // Xvfb's default cursor is the black-and-white X: white pixels appear around the pointer.
    let mut last = 0;
    let shown = wait_until(Duration::from_secs(5), || {
        last = snapshot(&with).brightest_in(188, 138, 212, 162);
        last > 200
    });
    assert!(shown, "no cursor near (200,150): brightest {last}");
    let far = snapshot(&with).brightest_in(300, 300, 340, 340);
    assert!(far < 40, "cursor drawn elsewhere too: {far}");
    // A fresh drawing forces a grab after the pointer move: without --no-cursor it would show
    // the cursor; with it, the pointer's area must stay black.
    p.fill(0x00FF00, 600, 440, 40, 40);
    let plain = snapshot_showing(&without, 620, 460, 0x00FF00).brightest_in(188, 138, 212, 162);
    assert!(plain < 40, "--no-cursor still shows a cursor: {plain}");
    let drawn = snapshot_showing(&with, 620, 460, 0x00FF00).brightest_in(188, 138, 212, 162);
    assert!(drawn > 200, "cursor gone after a redraw: {drawn}");
}

#[test]
fn a_static_screen_is_not_grabbed_again_and_still_sent_about_once_a_second() {
    let x = Xvfb::start(1280, 720);
    let d = screen(&x.display, &[]);
    let mut s = MjpegReader::get(d.addr, "/stream");
    assert!(s.head.contains("200"), "{}", s.head);
    s.next_part().expect("first frame");
    // Start-up work (first grab, cursor shape) settles within a moment.
    s.next_part().expect("frame");
    let before = state(&d);
    let (grabs0, frames0) = (before.int("grabs"), before.int("frames"));
    let pid = d.child.id();
    let cpu0 = testkit::procfs::cpu_time(pid);
    let t0 = Instant::now();
    let mut parts = 0;
    while t0.elapsed() < Duration::from_secs(5) {
        s.next_part()
            .expect("the stream must go on while the screen is static");
        parts += 1;
    }
    let after = state(&d);
    // The CPU share is printed for the record; the figure that matters is in `make bench`.
    let cpu = testkit::procfs::cpu_time(pid) - cpu0;
    eprintln!(
        "static 1280x720: {parts} parts in {:?}, cpu {cpu:?}",
        t0.elapsed()
    );
    assert!(grabs0.is_some() && frames0.is_some(), "{}", before.0);
    assert_eq!(
        (after.int("grabs"), after.int("frames")),
        (grabs0, frames0),
        "nothing changed on screen, so nothing may be grabbed or encoded"
    );
    assert!(
        (3..=8).contains(&parts),
        "{parts} parts in 5 s on a static screen (expected the last frame about once a second)"
    );
}

#[test]
fn a_change_reaches_a_connected_client() {
    let x = Xvfb::start(800, 600);
    let d = screen(&x.display, &["--no-cursor"]);
    let p = Painter::new(&x.display);
    p.fill(0x000000, 0, 0, 800, 600);
    snapshot_showing(&d, 400, 300, 0x000000);
    let mut s = MjpegReader::get(d.addr, "/stream");
    s.next_part().expect("first frame");
    let mut latencies = Vec::new();
    for (i, colour) in [0xFF0000, 0x00FF00, 0x0000FF, 0xFFFFFF, 0xFF00FF]
        .into_iter()
        .enumerate()
    {
        let t0 = Instant::now();
        p.fill(colour, 100 * i as i16, 100, 100, 100);
        loop {
            let (_, jpeg) = s.next_part().expect("frame");
            if near(
                Picture::decode(&jpeg)
                    .expect("a JPEG")
                    .at(100 * i as u32 + 50, 150),
                colour,
            ) {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "change {i} never arrived"
            );
        }
        latencies.push(t0.elapsed());
    }
    // Speed is measured by `make bench` (benches/screen.rs), not asserted here.
    eprintln!("change -> client latencies: {latencies:?}");
}

/// An in-place RandR resize, as a user changing resolution: Xvfb cannot grow past its start
/// size, but its output can switch to a smaller mode and back. The same stream carries frames
/// at each new size.
#[test]
fn randr_mode_switch_streams_the_new_size() {
    let x = Xvfb::start(1024, 768);
    let xrandr = |args: &[&str]| {
        tool(
            Command::new("xrandr")
                .args(["--display", &x.display])
                .args(args),
        )
    };
    xrandr(&[
        "--newmode",
        "800x600_t",
        "40",
        "800",
        "840",
        "968",
        "1056",
        "600",
        "601",
        "605",
        "628",
    ]);
    xrandr(&["--addmode", "screen", "800x600_t"]);
    let d = screen(&x.display, &["--no-cursor"]);
    let mut s = MjpegReader::get(d.addr, "/stream");
    let (_, jpeg) = s.next_part().expect("first frame");
    assert_eq!(markers::size(&jpeg), Some((1024, 768)));
    for (mode, want) in [("800x600_t", (800, 600)), ("1024x768", (1024, 768))] {
        xrandr(&["--output", "screen", "--mode", mode]);
        let t0 = Instant::now();
        let mut size = None;
        while t0.elapsed() < Duration::from_secs(10) && size != Some(want) {
            let (_, jpeg) = s.next_part().expect("the stream survives the resize");
            size = markers::size(&jpeg);
        }
        assert_eq!(size, Some(want), "{}", d.log());
        state_shows_area(&d, &format!("{}x{}+0+0", want.0, want.1));
    }
}

#[test]
fn x_server_restart_at_a_new_size_reconnects() {
    let first = Xvfb::start(640, 480);
    let display = first.display.clone();
    let d = screen(&display, &["--no-cursor"]);
    let mut s = MjpegReader::get(d.addr, "/stream");
    let (_, jpeg) = s.next_part().expect("first frame");
    assert_eq!(markers::size(&jpeg), Some((640, 480)));
    drop(first);
    // Offline, the stream shows the NO SIGNAL picture and the process stays up.
    assert!(
        wait_until(Duration::from_secs(5), || state(&d).bool("online")
            == Some(false)),
        "{}",
        state(&d)
    );
    let _second = Xvfb::start_on(&display, 800, 600);
    let t0 = Instant::now();
    let mut size = None;
    while t0.elapsed() < Duration::from_secs(10) {
        let (_, jpeg) = s
            .next_part()
            .expect("the stream survives the X server restart");
        size = markers::size(&jpeg);
        if size == Some((800, 600)) {
            break;
        }
    }
    assert_eq!(size, Some((800, 600)), "{}", d.log());
    state_shows_area(&d, "800x600+0+0");
    assert_eq!(state(&d).bool("online"), Some(true), "{}", state(&d));
}

#[test]
fn a_16_bit_display_is_refused_with_one_line_not_wrong_colours() {
    let x = Xvfb::start_depth(320, 240, 16);
    screen_refused(&x.display, &[], "uses depth 16");
}

#[test]
fn missing_display_is_one_line_and_exit_2() {
    // A display number nobody uses on this machine: its socket must not exist.
    let display = (200..300)
        .map(|n| format!(":{n}"))
        .find(|d| !std::path::Path::new(&format!("/tmp/.X11-unix/X{}", &d[1..])).exists())
        .expect("a free display number");
    screen_refused(&display, &[], &format!("cannot open X display {display}"));
}

#[test]
fn monitor_by_index_or_name_and_unknown_monitor_lists_them() {
    let x = Xvfb::start(640, 480);
    // Xvfb has one RandR monitor, named after its output "screen".
    for m in ["0", "screen"] {
        let d = screen(&x.display, &["--no-cursor", "--monitor", m]);
        // /state gets the source's facts from the capture thread, just after start-up.
        state_shows_area(&d, "640x480+0+0");
    }
    screen_refused(
        &x.display,
        &["--monitor", "HDMI-9"],
        "has monitors 0=screen",
    );
}

/// The desktop stream is an ordinary MJPEG stream to video tools: ffprobe sees the screen's
/// size and ffmpeg decodes frames of a static screen (which arrive about once a second).
#[test]
fn ffmpeg_reads_the_desktop_stream() {
    let x = Xvfb::start(640, 480);
    let d = screen(&x.display, &[]);
    let probe = tool(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name,width,height",
            ])
            .args(["-of", "csv=p=0", &d.url("/stream")]),
    );
    assert_eq!(probe.stdout.trim(), "mjpeg,640,480", "{}", probe.stderr);
    ffmpeg_reads(&d.url("/stream"), 3);
}

/// A change-driven source makes no frames while nothing changes, yet `?fresh=1` promises a
/// picture taken after the request: the request must make the screen grab anyway.
#[test]
fn fresh_snapshot_of_a_static_screen_is_taken_after_the_request() {
    let x = Xvfb::start(640, 480);
    let d = screen(&x.display, &["--no-cursor"]);
    assert_eq!(http::get(d.addr, "/snapshot").status, 200);
    for _ in 0..3 {
        let asked = http::epoch_seconds();
        let started = Instant::now();
        http::assert_taken_after(&http::get(d.addr, "/snapshot?fresh=1"), asked);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "took {:?}",
            started.elapsed()
        );
    }
}
