//! Remote control end to end: events posted to the real binary arrive at a recording X client
//! on a private Xvfb at the right pixels; every refused request injects nothing; the security
//! refusals (auth, cross-site, control off, network without auth) hold.

use std::time::Duration;

use deskcam::geometry::Region;
use deskcam::input::{Button, Event, Injector, Key, Press, Spot};

use crate::util::*;
use crate::xrecord::{Rec, Recorder};

const WAIT: Duration = Duration::from_secs(5);
/// How long "nothing arrived" is watched for after a refused request, on top of the sentinel
/// event that proves the pipeline is flushed.
const QUIET: Duration = Duration::from_millis(200);

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn whole(width: u32, height: u32) -> Region {
    Region {
        x: 0,
        y: 0,
        width,
        height,
    }
}

fn is_press(b: u8) -> impl Fn(&Rec) -> bool {
    move |e| matches!(e, Rec::Press { button, .. } if *button == b)
}
fn is_release(b: u8) -> impl Fn(&Rec) -> bool {
    move |e| matches!(e, Rec::Release { button, .. } if *button == b)
}

// ---- the injector alone against Xvfb ------------------------------------------------------

#[test]
fn injector_maps_fractions_to_the_real_screen_size() {
    for (w, h, want) in [(1920, 1080, (480, 540)), (1280, 1024, (320, 512))] {
        let x = Xvfb::start(w, h);
        let rec = Recorder::start(&x.display);
        let inj = Injector::connect(Some(&x.display)).expect("injector");
        let at = Spot { x: 0.25, y: 0.5 };
        inj.inject(&Event::Click(at, Button::Left), whole(w, h))
            .unwrap();
        let seen = rec.until(WAIT, is_release(1));
        assert!(
            seen.contains(&Rec::Press {
                button: 1,
                x: want.0,
                y: want.1
            }),
            "{w}x{h}: {seen:?}"
        );
    }
}

#[test]
fn injector_types_text_missing_from_the_keymap() {
    let x = Xvfb::start(640, 480);
    let rec = Recorder::start(&x.display);
    let inj = Injector::connect(Some(&x.display)).expect("injector");
    let area = whole(640, 480);
    // "€" and "漢" are on no Xvfb key: they need a spare keycode bound on the fly.
    let text = "Hello, wörld! €漢";
    inj.inject(&Event::Text(text.into()), area).unwrap();
    let seen = rec.until(WAIT, |e| {
        matches!(
            e,
            Rec::Key {
                ch: Some('漢'), ..
            }
        )
    });
    assert_eq!(Recorder::typed(&seen), text);
    // Typing it again reuses the bound keycodes and still comes out right.
    inj.inject(&Event::Text(text.into()), area).unwrap();
    let seen = rec.until(WAIT, |e| {
        matches!(
            e,
            Rec::Key {
                ch: Some('漢'), ..
            }
        )
    });
    assert_eq!(Recorder::typed(&seen), text);
    // A key by KeyboardEvent.code, held and released.
    inj.inject(
        &Event::Key(
            Key::Code(deskcam::input::keycodes::physical("KeyQ").unwrap()),
            Press::Down,
        ),
        area,
    )
    .unwrap();
    let seen = rec.until(WAIT, |e| matches!(e, Rec::Key { .. }));
    assert_eq!(Recorder::typed(&seen), "q");
    inj.inject(
        &Event::Key(
            Key::Code(deskcam::input::keycodes::physical("KeyQ").unwrap()),
            Press::Up,
        ),
        area,
    )
    .unwrap();
    rec.until(WAIT, |e| matches!(e, Rec::KeyUp { .. }));
}

// ---- the real binary -----------------------------------------------------------------------

/// Xvfb, the recording client on it, and deskcam streaming it with --control.
struct Session {
    rec: Recorder,
    deskcam: Deskcam,
    /// Extra request headers (credentials) for every request of the session.
    headers: String,
    _x: Xvfb,
}

fn session(width: u32, height: u32, extra: &[&str]) -> Session {
    session_with(width, height, &["--control"], extra, "")
}

fn session_with(
    width: u32,
    height: u32,
    control: &[&str],
    extra: &[&str],
    headers: &str,
) -> Session {
    let x = Xvfb::start(width, height);
    let rec = Recorder::start(&x.display);
    let mut args = vec!["--source", "screen", "--display", &x.display];
    args.extend_from_slice(control);
    args.extend_from_slice(extra);
    let deskcam = Deskcam::start(&args);
    // Input needs the streamed area, which the screen source publishes once open.
    assert!(
        wait_until(WAIT, || get_with(deskcam.addr, "/state", headers).status
            == 200),
        "no /state"
    );
    Session {
        rec,
        deskcam,
        headers: headers.to_string(),
        _x: x,
    }
}

impl Session {
    fn post(&self, body: &str) -> Reply {
        post(self.deskcam.addr, "/input", body, &self.headers)
    }
    fn ok(&self, body: &str) {
        let r = self.post(body);
        assert_eq!(r.status, 204, "{body}: {}", r.text());
    }
    /// Proves no event arrived since the last check: a sentinel middle click at a spot used
    /// nowhere else must be the very next thing the recorder sees.
    fn assert_nothing_injected(&self, what: &str) {
        self.ok("type=click&x=0.9&y=0.1&button=middle");
        let seen = self.rec.until(WAIT, is_release(2));
        let foreign: Vec<_> = seen
            .iter()
            .filter(|e| {
                !matches!(
                    e,
                    Rec::Press { button: 2, .. }
                        | Rec::Release { button: 2, .. }
                        | Rec::Motion { .. }
                )
            })
            .collect();
        assert!(foreign.is_empty(), "{what} injected {foreign:?}");
        let moved: Vec<_> = seen
            .iter()
            .filter_map(|e| match e {
                Rec::Motion { x, y } => Some((*x, *y)),
                _ => None,
            })
            .collect();
        assert!(moved.len() <= 1, "{what} moved the pointer: {moved:?}");
        assert!(self.rec.next(QUIET).is_none());
    }
}

#[test]
fn click_lands_on_the_matching_pixel() {
    for (w, h, want) in [(1920, 1080, (480, 540)), (1280, 1024, (320, 512))] {
        let s = session(w, h, &[]);
        s.ok("type=click&x=0.25&y=0.5");
        let seen = s.rec.until(WAIT, is_release(1));
        assert_eq!(
            &seen[seen.len() - 2..],
            &[
                Rec::Press {
                    button: 1,
                    x: want.0,
                    y: want.1
                },
                Rec::Release {
                    button: 1,
                    x: want.0,
                    y: want.1
                }
            ],
            "{w}x{h}"
        );
        // The tutorial's click, as a POST.
        let r = post(s.deskcam.addr, "/pointer?xrate=0.5&yrate=0.25", "", "");
        assert_eq!(r.status, 204, "{}", r.text());
        let seen = s.rec.until(WAIT, is_press(1));
        assert_eq!(
            seen.last(),
            Some(&Rec::Press {
                button: 1,
                x: (w / 2) as i16,
                y: (h / 4) as i16
            })
        );
    }
}

#[test]
fn region_offsets_the_mapping() {
    let s = session(1280, 1024, &["--region", "400x300+100+200"]);
    s.ok("type=click&x=0.5&y=0.5");
    let seen = s.rec.until(WAIT, is_press(1));
    assert_eq!(
        seen.last(),
        Some(&Rec::Press {
            button: 1,
            x: 300,
            y: 350
        })
    );
}

#[test]
fn drag_wheel_and_every_button() {
    let s = session(1000, 1000, &[]);
    s.ok("type=down&x=0.1&y=0.1");
    s.ok("type=move&x=0.2&y=0.3");
    s.ok("type=move&x=0.4&y=0.5");
    s.ok("type=up&x=0.4&y=0.5");
    let mut seen = s.rec.until(WAIT, is_release(1));
    // XTest reports a motion to where the pointer already is; one is enough.
    seen.dedup();
    let want = [
        Rec::Motion { x: 100, y: 100 },
        Rec::Press {
            button: 1,
            x: 100,
            y: 100,
        },
        Rec::Motion { x: 200, y: 300 },
        Rec::Motion { x: 400, y: 500 },
        Rec::Release {
            button: 1,
            x: 400,
            y: 500,
        },
    ];
    assert!(seen.ends_with(&want), "drag: {seen:?}");

    // Wheel down 3 = three clicks of button 5 at the given spot; up is button 4.
    s.ok("type=wheel&dy=3&x=0.5&y=0.5");
    let seen = s
        .rec
        .until_n(WAIT, 3, |e| matches!(e, Rec::Release { .. }), QUIET);
    let presses: Vec<_> = seen
        .iter()
        .filter(|e| matches!(e, Rec::Press { .. }))
        .collect();
    assert_eq!(
        presses,
        vec![
            &Rec::Press {
                button: 5,
                x: 500,
                y: 500
            };
            3
        ],
        "{seen:?}"
    );
    s.ok("type=wheel&dy=-2&dx=1");
    let seen = s
        .rec
        .until_n(WAIT, 3, |e| matches!(e, Rec::Release { .. }), QUIET);
    let buttons: Vec<u8> = seen
        .iter()
        .filter_map(|e| match e {
            Rec::Press { button, .. } => Some(*button),
            _ => None,
        })
        .collect();
    assert_eq!(buttons, vec![4, 4, 7]);

    for (name, b) in [("right", 3), ("middle", 2)] {
        s.ok(&format!("type=click&x=0.7&y=0.7&button={name}"));
        let seen = s.rec.until(WAIT, is_release(b));
        assert!(
            seen.contains(&Rec::Press {
                button: b,
                x: 700,
                y: 700
            }),
            "{name}: {seen:?}"
        );
    }
    s.ok("type=dblclick&x=0.3&y=0.3");
    let seen = s.rec.until_n(WAIT, 2, is_release(1), QUIET);
    assert_eq!(
        seen.iter().filter(|e| is_press(1)(e)).count(),
        2,
        "{seen:?}"
    );
}

#[test]
fn keys_and_text_are_typed() {
    let s = session(800, 600, &[]);
    s.ok(&form(&[("type", "text"), ("text", "Hello, wörld!")]));
    let seen = s
        .rec
        .until(WAIT, |e| matches!(e, Rec::Key { ch: Some('!'), .. }));
    assert_eq!(Recorder::typed(&seen), "Hello, wörld!");
    // Shift held by its own key event, as the page sends it, then a letter.
    s.ok("type=key&code=ShiftLeft&down=1");
    s.ok("type=key&code=KeyA");
    s.ok("type=key&code=ShiftLeft&down=0");
    s.ok("type=key&code=Enter");
    let seen = s
        .rec
        .until(WAIT, |e| matches!(e, Rec::Key { ch: Some('\n'), .. }));
    assert_eq!(Recorder::typed(&seen), "A\n");
}

#[test]
fn bad_requests_get_their_status_and_inject_nothing() {
    let s = session(800, 600, &[]);
    let addr = s.deskcam.addr;
    for body in [
        "type=teleport&x=0.5&y=0.5",
        "type=click&x=NaN&y=0.5",
        "type=click&x=1.01&y=0.5",
        "type=click&x=-1&y=0.5",
        "type=click&x=0.5",
        "type=click&x=0.5&y=0.5&button=fourth",
        "type=wheel&dy=101",
        "type=key&code=NoSuchKey",
        "type=text&text=",
        "",
    ] {
        let r = s.post(body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.text().trim().lines().count(), 1, "one-line reason");
        s.assert_nothing_injected(body);
    }
    // Text over 1024 characters.
    let r = s.post(&form(&[("type", "text"), ("text", &"x".repeat(1025))]));
    assert_eq!(r.status, 400);
    s.assert_nothing_injected("long text");
    // Body over 4 KiB.
    let big = format!("type=move&x=0.5&y=0.5&pad={}", "a".repeat(5000));
    assert_eq!(s.post(&big).status, 413);
    s.assert_nothing_injected("big body");
    let r = raw_request(
        addr,
        format!("POST /input HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 99999999999999\r\n\r\ntype=click&x=0.5&y=0.5").as_bytes(),
    );
    assert_eq!(r.status, 413);
    s.assert_nothing_injected("huge declared body");
    // A page on another site.
    for headers in [
        "Origin: http://evil.example\r\n",
        "Referer: http://evil.example/attack.html\r\n",
        "Origin: null\r\n",
    ] {
        let r = post(addr, "/input", "type=click&x=0.5&y=0.5", headers);
        assert_eq!(r.status, 403, "{headers}");
        s.assert_nothing_injected(headers);
    }
    // DNS rebinding: a hostile name resolving to 127.0.0.1, Host and Origin agreeing.
    let port = addr.port();
    let r = raw_request(
        addr,
        format!("POST /input HTTP/1.1\r\nHost: evil.example:{port}\r\nOrigin: http://evil.example:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 22\r\nConnection: close\r\n\r\ntype=click&x=0.5&y=0.5").as_bytes(),
    );
    assert_eq!(r.status, 403, "rebinding: {}", r.text());
    s.assert_nothing_injected("a rebinding name");
    let r = post(
        addr,
        "/input",
        "type=click&x=0.5&y=0.5",
        "Sec-Fetch-Site: cross-site\r\n",
    );
    assert_eq!(r.status, 403);
    s.assert_nothing_injected("Sec-Fetch-Site: cross-site");
    // The same site is welcome.
    let r = post(
        addr,
        "/input",
        "type=move&x=0.5&y=0.5",
        &format!("Origin: http://{addr}\r\n"),
    );
    assert_eq!(r.status, 204);
    s.rec
        .until(WAIT, |e| matches!(e, Rec::Motion { x: 400, y: 300 }));
    // State never changes on GET: an <img src=/pointer?...> elsewhere must do nothing.
    for path in [
        "/input?type=click&x=0.5&y=0.5",
        "/pointer?xrate=0.5&yrate=0.5",
    ] {
        let r = get(addr, path);
        assert_eq!(r.status, 405, "{path}");
        assert_eq!(r.header("Allow").as_deref(), Some("POST, OPTIONS"));
        assert!(r.text().contains("POST"));
        s.assert_nothing_injected(path);
    }
}

#[test]
fn flooding_client_gets_429_and_only_allowed_events_arrive() {
    let s = session(640, 480, &[]);
    // Four keep-alive connections from one address share its allowance (burst 250, 250/s), so
    // the flood outruns the refill even when each request is slow on a loaded machine.
    let addr = s.deskcam.addr;
    let floods: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut conn = KeepAlive::connect(addr);
                let (mut accepted, mut limited) = (0usize, 0usize);
                for _ in 0..5_000 {
                    match conn.post("/input", "type=wheel&dy=1") {
                        (204, _) => accepted += 1,
                        (429, _) => limited += 1,
                        (other, why) => panic!("status {other}: {why}"),
                    }
                    if limited >= 20 {
                        break;
                    }
                }
                (accepted, limited)
            })
        })
        .collect();
    let (accepted, limited) = floods
        .into_iter()
        .map(|t| t.join().unwrap())
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert!(limited > 0, "no 429 after {accepted} events in a burst");
    // Exactly the accepted events arrive: wait for all of them, then for any extra.
    let seen = s
        .rec
        .until_n(WAIT, accepted, is_press(5), Duration::from_millis(500));
    assert_eq!(
        seen.iter().filter(|e| is_press(5)(e)).count(),
        accepted,
        "accepted {accepted}, limited {limited}"
    );
}

// ---- refusals that need no X server --------------------------------------------------------

#[test]
fn control_on_the_network_without_auth_refuses_to_start() {
    let err = refused(
        &[
            "--source",
            "screen",
            "--control",
            "--display",
            ":99",
            "--listen",
            "0.0.0.0:0",
        ],
        "--control on 0.0.0.0:0",
    );
    assert!(err.contains("--auth"), "{err}");
}

#[test]
fn control_without_xtest_refuses_to_start() {
    let x = Xvfb::start_with(640, 480, &["-extension", "XTEST"]);
    refused(
        &[
            "--source",
            "screen",
            "--control",
            "--display",
            &x.display,
            "--listen",
            "127.0.0.1:0",
        ],
        "no XTest extension",
    );
}

#[test]
fn control_off_answers_403_and_get_405() {
    let d = Deskcam::start(&[]);
    let r = post(d.addr, "/input", "type=click&x=0.5&y=0.5", "");
    assert_eq!(r.status, 403);
    assert!(r.text().contains("--control"), "{}", r.text());
    assert!(get(d.addr, "/state").text().contains("\"control\":false"));
    assert_eq!(get(d.addr, "/pointer?xrate=0.5&yrate=0.5").status, 405);
}

fn basic(user_pass: &str) -> String {
    use base64::Engine as _;
    format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(user_pass)
    )
}

fn get_with(addr: std::net::SocketAddr, path: &str, headers: &str) -> Reply {
    raw_request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n")
            .as_bytes(),
    )
}

#[test]
fn auth_protects_every_endpoint_and_never_logs_the_password() {
    let dir = std::env::temp_dir().join(format!("deskcam-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("auth");
    std::fs::write(&file, "viewer:file-pw-42\n").unwrap();
    let file = file.to_string_lossy().to_string();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 3] = [
        (
            vec!["--auth", "viewer:flag-pw-42"],
            vec![],
            "viewer:flag-pw-42",
        ),
        (vec!["--auth-file", &file], vec![], "viewer:file-pw-42"),
        (
            vec![],
            vec![("DESKCAM_AUTH", "viewer:env-pw-42")],
            "viewer:env-pw-42",
        ),
    ];
    for (args, env, good) in cases {
        let d = Deskcam::start_env(&args, &env);
        for path in ["/", "/stream", "/snapshot", "/state", "/?action=stream"] {
            let r = get(d.addr, path);
            assert_eq!(r.status, 401, "{path}");
            assert_eq!(
                r.header("WWW-Authenticate").as_deref(),
                Some("Basic realm=\"deskcam\", charset=\"UTF-8\"")
            );
            let r = get_with(d.addr, path, &basic("viewer:badguess-77"));
            assert_eq!(r.status, 401, "{path} with a wrong password");
        }
        let r = post(d.addr, "/input", "type=click&x=0.5&y=0.5", "");
        assert_eq!(r.status, 401);
        let r = get_with(d.addr, "/state", &basic(good));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = get_with(d.addr, "/snapshot", &basic(good));
        assert_eq!(r.status, 200);
        assert!(jpeg_size(&r.body).is_some());
        let password = good.split_once(':').unwrap().1;
        assert!(!d.log().contains(password), "{}", d.log());
        assert!(!d.log().contains("badguess"), "{}", d.log());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- a real browser ------------------------------------------------------------------------

/// Installs playwright-core for tests/browser (from its package-lock.json) if it is missing.
pub(crate) fn ensure_playwright(dir: &std::path::Path) {
    if dir.join("node_modules/playwright-core").exists() {
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .expect("npm must be installed (tools/deps.sh installs it)");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

/// Near enough: a CSS pixel of a scaled-down picture covers more than one screen pixel.
fn near(got: (i16, i16), want: (f64, f64)) -> bool {
    (got.0 as f64 - want.0).abs() <= 3.0 && (got.1 as f64 - want.1).abs() <= 3.0
}

fn press_at(seen: &[Rec], b: u8) -> Vec<(i16, i16)> {
    seen.iter()
        .filter_map(|e| match e {
            Rec::Press { button, x, y } if *button == b => Some((*x, *y)),
            _ => None,
        })
        .collect()
}

#[test]
fn chromium_clicks_drags_scrolls_and_types_on_the_desktop() {
    use std::io::{BufRead, BufReader, Write};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests/browser");
    ensure_playwright(&browser_dir);
    let artifacts = root.join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let (w, h) = (1280.0, 720.0);
    let s = session(1280, 720, &[]);
    // A square and a wide window: the 16:9 picture is letterboxed, then pillarboxed.
    for (n, viewport) in ["800x800", "1200x500"].into_iter().enumerate() {
        let shot = artifacts.join(format!("control-{viewport}.png"));
        let _ = std::fs::remove_file(&shot);
        let mut node = std::process::Command::new("node")
            .arg(browser_dir.join("control.mjs"))
            .args([&s.deskcam.url("/"), viewport, &shot.to_string_lossy()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node must be installed (tools/deps.sh installs it)");
        let mut to_node = node.stdin.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let out = node.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let want = |fx: f64, fy: f64| (fx * w, fy * h);
        // The events up to `n` releases of `button` (and any that follow at once): exactly `n`
        // presses, each on the screen spot of picture fraction `at`.
        let presses = |button: u8, n: usize, at: (f64, f64), what: &str| -> Vec<Rec> {
            let seen = s.rec.until_n(WAIT, n, is_release(button), QUIET);
            let p = press_at(&seen, button);
            assert!(
                p.len() == n && p.iter().all(|&p| near(p, want(at.0, at.1))),
                "{viewport} {what}: {seen:?}"
            );
            seen
        };
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("{viewport}: the browser script stopped talking"));
            let mut words = line.split_whitespace();
            let (kind, name) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let f: Vec<f64> = words.filter_map(|v| v.parse().ok()).collect();
            if kind == "SIZE" {
                assert_eq!(name, "1280x720", "the page shows the whole screen");
                continue;
            }
            if kind != "STEP" {
                continue;
            }
            match name {
                "repaint" => s.rec.paint(if n == 0 { 0xff0000 } else { 0x0000ff }),
                "click" => drop(presses(1, 1, (f[0], f[1]), "click")),
                "right" => drop(presses(3, 1, (f[0], f[1]), "right")),
                "dblclick" => drop(presses(1, 2, (f[0], f[1]), "dblclick")),
                "drag" => {
                    let seen = s.rec.until(WAIT, is_release(1));
                    let p = press_at(&seen, 1);
                    assert!(
                        p.len() == 1 && near(p[0], want(0.1, 0.1)),
                        "{viewport} drag: {seen:?}"
                    );
                    let moves = seen
                        .iter()
                        .filter(|e| matches!(e, Rec::Motion { .. }))
                        .count();
                    assert!(moves >= 2, "{viewport} drag without moves: {seen:?}");
                    let Some(Rec::Release { x, y, .. }) = seen.last() else {
                        unreachable!()
                    };
                    assert!(
                        near((*x, *y), want(f[0], f[1])),
                        "{viewport} drag end: {seen:?}"
                    );
                }
                "wheel" => drop(presses(5, 3, (f[0], f[1]), "wheel 300 px = 3 steps down")),
                "tap" => drop(presses(1, 1, (f[0], f[1]), "tap")),
                "longpress" => {
                    let seen = presses(3, 1, (f[0], f[1]), "long press = right click");
                    assert!(
                        press_at(&seen, 1).is_empty(),
                        "{viewport} long press also clicked"
                    );
                }
                "twofinger" => {
                    let seen = s.rec.until_n(WAIT, 3, is_release(5), QUIET);
                    let p = press_at(&seen, 5);
                    assert_eq!(p.len(), 3, "{viewport} two-finger drag up 130 px: {seen:?}");
                    assert!(press_at(&seen, 1).is_empty() && press_at(&seen, 3).is_empty());
                }
                "type" => {
                    let seen = s
                        .rec
                        .until(WAIT, |e| matches!(e, Rec::Key { ch: Some('\n'), .. }));
                    assert_eq!(Recorder::typed(&seen), "Hi!\n", "{viewport}");
                }
                "done" => {
                    assert!(shot.exists(), "no screenshot at {}", shot.display());
                }
                "viewclick" => panic!("view-only step in a control run"),
                other => panic!("unknown step {other}"),
            }
            if writeln!(to_node, "next").is_err() || name == "done" {
                break;
            }
        }
        drop(to_node);
        let status = node.wait().expect("node");
        assert!(status.success(), "{viewport}: browser script failed");
    }
}

#[test]
fn huge_declared_body_does_not_kill_the_server() {
    let d = Deskcam::start(&[]);
    for path in ["/input", "/state"] {
        let method = if path == "/input" { "POST" } else { "GET" };
        let r = raw_request(
            d.addr,
            format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 99999999999999\r\n\r\ntype=click",
                d.addr
            )
            .as_bytes(),
        );
        assert!(
            r.status == 403 || r.status == 200 || r.status == 413,
            "{path}: {}",
            r.status
        );
    }
    // tiny_http used to allocate the whole declared body when dropping the request.
    assert!(
        wait_until(WAIT, || get(d.addr, "/state").status == 200),
        "the server died: {}",
        d.log()
    );
}

#[test]
fn auth_guards_control_and_refusals_inject_nothing() {
    let s = session_with(
        800,
        600,
        &["--control", "--auth", "me:pw-77"],
        &[],
        &basic("me:pw-77"),
    );
    for headers in ["".to_string(), basic("me:pw-78"), basic("me")] {
        let r = post(s.deskcam.addr, "/input", "type=click&x=0.5&y=0.5", &headers);
        assert_eq!(r.status, 401, "{headers:?}");
        assert!(r.header("WWW-Authenticate").is_some());
        s.assert_nothing_injected(&headers);
    }
    s.ok("type=click&x=0.5&y=0.5");
    let seen = s.rec.until(WAIT, is_press(1));
    assert_eq!(
        seen.last(),
        Some(&Rec::Press {
            button: 1,
            x: 400,
            y: 300
        })
    );
}

#[test]
fn screen_without_control_is_view_only() {
    let s = session_with(640, 480, &[], &[], "");
    assert!(
        get(s.deskcam.addr, "/state")
            .text()
            .contains("\"control\":false")
    );
    for path in ["/input", "/pointer?xrate=0.5&yrate=0.5"] {
        let r = post(s.deskcam.addr, path, "type=click&x=0.5&y=0.5", "");
        assert_eq!(r.status, 403, "{path}");
    }
    assert_eq!(s.rec.drain(QUIET), vec![], "view only injected events");
}

#[test]
fn chromium_view_only_page_sends_nothing() {
    use std::io::{BufRead, BufReader, Write};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests/browser");
    ensure_playwright(&browser_dir);
    let artifacts = root.join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("view-only.png");
    let s = session_with(800, 600, &[], &[], "");
    let mut node = std::process::Command::new("node")
        .arg(browser_dir.join("control.mjs"))
        .args([
            &s.deskcam.url("/"),
            "640x480",
            &shot.to_string_lossy(),
            "view",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node must be installed (tools/deps.sh installs it)");
    let mut to_node = node.stdin.take().unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut steps = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        let Some(name) = line.strip_prefix("STEP ") else {
            continue;
        };
        let name = name.trim().to_string();
        if name == "viewclick" {
            assert_eq!(
                s.rec.drain(QUIET),
                vec![],
                "a view-only page injected events"
            );
        }
        steps.push(name);
        if writeln!(to_node, "next").is_err() {
            break;
        }
    }
    assert!(
        node.wait().expect("node").success(),
        "browser script failed"
    );
    assert_eq!(steps, ["viewclick", "done"]);
    assert!(shot.exists());
}

/// The X server restarts (a crash, a new session): once the picture is back, the first click
/// must land, not meet the injector's dead connection.
#[test]
fn first_click_after_the_x_server_restarts_lands() {
    let x = Xvfb::start(640, 480);
    let display = x.display.clone();
    let deskcam = Deskcam::start(&["--source", "screen", "--display", &display, "--control"]);
    // A viewer, as the page is: the source reopens only while someone watches.
    let _viewer = MjpegReader::get(deskcam.addr, "/stream");
    {
        let rec = Recorder::start(&display);
        let r = post(deskcam.addr, "/input", "type=click&x=0.5&y=0.5", "");
        assert_eq!(r.status, 204, "{}", r.text());
        rec.until(WAIT, is_release(1));
    }
    drop(x);
    // The screen source notices the loss and shows NO SIGNAL.
    assert!(wait_until(WAIT, || get(deskcam.addr, "/state")
        .text()
        .contains("\"online\":false")));
    let _x = Xvfb::start_on(&display, 640, 480);
    let rec = Recorder::start(&display);
    assert!(
        wait_until(Duration::from_secs(15), || get(deskcam.addr, "/state")
            .text()
            .contains("\"online\":true")),
        "the picture did not come back"
    );
    let r = post(deskcam.addr, "/input", "type=click&x=0.25&y=0.5", "");
    assert_eq!(r.status, 204, "first click after the restart: {}", r.text());
    let seen = rec.until(WAIT, is_release(1));
    assert!(
        seen.contains(&Rec::Press {
            button: 1,
            x: 160,
            y: 240
        }),
        "{seen:?}"
    );
}
