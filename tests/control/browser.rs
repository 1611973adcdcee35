//! The page in real browsers, in lock-step with the recording X client: Debian's headless
//! Chromium through playwright-core (tests/browser/control.mjs on a desktop viewport, phone.mjs
//! on a 390x844 touch viewport) and Firefox ESR over WebDriver BiDi through puppeteer-core
//! (firefox.mjs). A script prints "STEP name args" once the page has no control request queued
//! or unanswered, so the X events of that action have all arrived by then; the test checks them
//! (one vocabulary of steps for every script, [`Checker`]) and answers "next". One browser
//! start per script runs many checks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use testkit::child::{Guard, Lines};
use testkit::http::{basic_auth, post};
use testkit::wait::wait_until;
use testkit::x11::{Rec, Recorder};

use super::{Session, press_at, session, session_with};

/// How long the script may take to report one action (Chromium starts slowly when the
/// machine is busy).
const STEP: Duration = Duration::from_secs(60);

/// Keycodes on an evdev X server such as Xvfb (Linux KEY_* + 8).
mod keycode {
    pub const ESCAPE: u8 = 9;
    pub const BACKSPACE: u8 = 22;
    pub const TAB: u8 = 23;
    pub const CONTROL_L: u8 = 37;
    pub const C: u8 = 54;
    pub const ALT_L: u8 = 64;
    pub const F5: u8 = 71;
    pub const LEFT: u8 = 113;
    pub const DELETE: u8 = 119;
}

/// What the desktop paste step types (tests/browser/control.mjs puts it on the clipboard).
const CLIPBOARD: &str = "Pasted: ü€!\n";
/// What the phone's paste step types.
const PHONE_PASTE: &str = "from a phone: ok";

/// What the script reports.
enum Said {
    /// "SIZE WxH": the picture's natural size, as the page shows it.
    Size(String),
    /// "STEP name args": an action done, and what it aimed at.
    Step(String, Vec<String>),
}

/// A script of tests/browser running under node; killed if the test fails half-way.
struct Browser {
    node: Guard,
    to_node: Option<ChildStdin>,
    out: Lines,
    what: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Installs tests/browser's packages (from its package-lock.json) if they are missing.
pub(crate) fn ensure_playwright(dir: &Path) {
    if dir.join("node_modules/playwright-core").exists()
        && dir.join("node_modules/puppeteer-core").exists()
    {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .expect("npm must be installed (tools/deps.sh installs it)");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

/// Where a screenshot goes (tests/artifacts/, kept for a look after the run).
fn artifact(name: &str) -> PathBuf {
    let dir = root().join("tests/artifacts");
    std::fs::create_dir_all(&dir).expect("tests/artifacts");
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

impl Browser {
    /// Runs `node tests/browser/SCRIPT ARGS...`; `what` names it in failures.
    fn start(script: &str, args: &[&str], what: &str) -> Browser {
        let dir = root().join("tests/browser");
        ensure_playwright(&dir);
        let mut node = Command::new("node")
            .arg(dir.join(script))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map(Guard)
            .expect("node must be installed (tools/deps.sh installs it)");
        let to_node = node.stdin.take();
        let out = Lines::read(node.stdout.take().expect("stdout is piped"));
        Browser {
            node,
            to_node,
            out,
            what: what.to_string(),
        }
    }

    /// The script's next report; panics if none comes within [`STEP`].
    fn next(&self) -> Said {
        let parsed = self.out.find(STEP, |line| {
            let mut words = line.split_whitespace();
            match (words.next()?, words.next()) {
                ("SIZE", Some(size)) => Some(Said::Size(size.to_string())),
                ("STEP", Some(name)) => Some(Said::Step(
                    name.to_string(),
                    words.map(str::to_string).collect(),
                )),
                _ => None,
            }
        });
        parsed.unwrap_or_else(|e| panic!("{}: the browser script: {e}", self.what))
    }

    /// Lets the script do its next action.
    fn go_on(&mut self) {
        let stdin = self.to_node.as_mut().expect("stdin is open");
        writeln!(stdin, "next").expect("the browser script is listening");
    }

    /// Checks every step with `checker` until "done", then waits (bounded) for the script to
    /// end successfully. Returns the steps seen, in order.
    fn run(mut self, checker: &mut Checker) -> Vec<String> {
        let mut steps = Vec::new();
        loop {
            let (name, args) = match self.next() {
                Said::Size(size) => {
                    assert_eq!(size, checker.size_text(), "the page shows the whole screen");
                    continue;
                }
                Said::Step(name, args) => (name, args),
            };
            checker.check(&name, &args);
            self.go_on();
            steps.push(name.clone());
            if name == "done" {
                break;
            }
        }
        drop(self.to_node.take());
        let code = self.node.exit_within(STEP);
        assert_eq!(
            code,
            Ok(Some(0)),
            "{}: the browser script failed",
            self.what
        );
        steps
    }
}

/// Near enough: a CSS pixel of a scaled-down picture covers more than one screen pixel.
fn near(got: (i16, i16), want: (f64, f64)) -> bool {
    (got.0 as f64 - want.0).abs() <= 3.0 && (got.1 as f64 - want.1).abs() <= 3.0
}

/// The keys pressed (true) and released (false), in order.
fn keys(seen: &[Rec]) -> Vec<(bool, u8)> {
    seen.iter()
        .filter_map(|e| match e {
            Rec::Key { keycode, .. } => Some((true, *keycode)),
            Rec::KeyUp { keycode } => Some((false, *keycode)),
            _ => None,
        })
        .collect()
}

/// Presses of `keys` in order, then their releases in reverse: one combination.
fn chord(codes: &[u8]) -> Vec<(bool, u8)> {
    let mut want: Vec<_> = codes.iter().map(|&k| (true, k)).collect();
    want.extend(codes.iter().rev().map(|&k| (false, k)));
    want
}

/// Where the pointer ended up: the last motion (or button event) in `seen`.
fn last_position(seen: &[Rec]) -> Option<(i16, i16)> {
    seen.iter().rev().find_map(|e| match e {
        Rec::Motion { x, y } | Rec::Press { x, y, .. } | Rec::Release { x, y, .. } => {
            Some((*x, *y))
        }
        _ => None,
    })
}

/// Where the sentinel click of [`Session::events_until_sentinel`] leaves the pointer.
fn sentinel_spot(s: &Session) -> (i16, i16) {
    let (fx, fy) = super::SENTINEL_SPOT;
    ((fx * s.size.0 as f64) as i16, (fy * s.size.1 as f64) as i16)
}

/// What the X server must have seen for each step the scripts report.
struct Checker<'a> {
    s: &'a Session,
    what: String,
    /// The colour the "repaint" step paints the desktop.
    paint: u32,
    /// Sessions the "fill" step opened, to end at "refused".
    fill: Vec<String>,
    /// Where the pointer is, as last seen (touchpad mode moves it relatively).
    pointer: Option<(i16, i16)>,
    /// The "flood" step's threads and their stop switch.
    flood: Option<(Arc<AtomicBool>, Vec<JoinHandle<()>>)>,
}

impl<'a> Checker<'a> {
    fn new(s: &'a Session, what: &str, paint: u32) -> Checker<'a> {
        Checker {
            s,
            what: what.to_string(),
            paint,
            fill: Vec::new(),
            pointer: None,
            flood: None,
        }
    }

    fn size_text(&self) -> String {
        format!("{}x{}", self.s.size.0, self.s.size.1)
    }

    /// The screen pixel of picture fraction (`fx`, `fy`).
    fn want(&self, fx: f64, fy: f64) -> (f64, f64) {
        (fx * self.s.size.0 as f64, fy * self.s.size.1 as f64)
    }

    /// Everything the action injected: exactly `n` presses of `button`, each on the screen
    /// spot of picture fraction `at`.
    fn presses(&self, button: u8, n: usize, at: &[f64], step: &str) -> Vec<Rec> {
        let seen = self.s.events_until_sentinel();
        let p = press_at(&seen, button);
        let want = self.want(at[0], at[1]);
        assert!(
            p.len() == n && p.iter().all(|&p| near(p, want)),
            "{} {step}: {seen:?}",
            self.what
        );
        seen
    }

    /// Opens every control session the server allows this address (each with a move to the
    /// far corner), so the page's first event is refused.
    fn fill_sessions(&mut self) {
        for i in 0..64 {
            let id = format!("fill{i:08}");
            let r = self
                .s
                .post(&format!("type=move&x=0.999&y=0.999&session={id}"));
            if r.status != 204 {
                // 503 at the server's session limit; a per-address limit may answer otherwise.
                assert!(matches!(r.status, 409 | 429 | 503), "fill: {}", r.text());
                break;
            }
            self.fill.push(id);
        }
        assert!(!self.fill.is_empty(), "no session could be opened");
    }

    /// Heartbeats from this address as fast as they go, until
    /// stopped: the rate limit (250 a second) refuses everything else from here meanwhile.
    /// Returns once the limit refuses them, so the page's next event is refused too.
    fn start_flood(&mut self) {
        let stop = Arc::new(AtomicBool::new(false));
        let limited = Arc::new(AtomicBool::new(false));
        let threads = (0..8)
            .map(|_| {
                let (stop, limited) = (stop.clone(), limited.clone());
                let (addr, headers) = (self.s.deskcam.addr, self.s.headers.clone());
                thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let status = post(addr, "/input", "type=heartbeat", &headers).status;
                        if status == 429 {
                            limited.store(true, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        let refused = wait_until(Duration::from_secs(10), || limited.load(Ordering::Relaxed));
        self.flood = Some((stop, threads));
        assert!(
            refused,
            "{}: a flood of heartbeats was never refused",
            self.what
        );
    }

    fn check(&mut self, name: &str, args: &[String]) {
        let f: Vec<f64> = args.iter().filter_map(|a| a.parse().ok()).collect();
        let what = &self.what;
        let s = self.s;
        match name {
            "repaint" => s.rec.paint(self.paint),
            "click" => drop(self.presses(1, 1, &f, "click")),
            "right" => drop(self.presses(3, 1, &f, "right")),
            "dblclick" => drop(self.presses(1, 2, &f, "dblclick")),
            "drag" => {
                let seen = self.presses(1, 1, &[0.1, 0.1], "drag start");
                let moves = seen
                    .iter()
                    .filter(|e| matches!(e, Rec::Motion { .. }))
                    .count();
                assert!(moves >= 2, "{what} drag without moves: {seen:?}");
                let end = seen.iter().rev().find_map(|e| match e {
                    Rec::Release { button: 1, x, y } => Some((*x, *y)),
                    _ => None,
                });
                assert!(
                    end.is_some_and(|end| near(end, self.want(f[0], f[1]))),
                    "{what} drag end: {seen:?}"
                );
            }
            "wheel" => drop(self.presses(5, 3, &f, "wheel 300 px = 3 steps down")),
            "tap" => drop(self.presses(1, 1, &f, "tap")),
            "longpress" => {
                let seen = self.presses(3, 1, &f, "long press = right click");
                assert!(
                    press_at(&seen, 1).is_empty(),
                    "{what} long press also clicked"
                );
            }
            "twofinger" => {
                let seen = s.events_until_sentinel();
                let p = press_at(&seen, 5);
                assert_eq!(p.len(), 3, "{what} two-finger drag up 130 px: {seen:?}");
                assert!(press_at(&seen, 1).is_empty() && press_at(&seen, 3).is_empty());
            }
            "type" | "letters" => {
                let seen = s.events_until_sentinel();
                let want = if name == "type" { "Hi!\n" } else { "Hi!" };
                assert_eq!(Recorder::typed(&seen), want, "{what}: {seen:?}");
            }
            // Actions that must reach nothing on the desktop: keys typed with the keyboard
            // released, fullscreen, Tab between the page's buttons, the view pinched or panned.
            "badgeoff" | "tabfocus" | "pinch" | "pan" | "viewclick" => {
                s.assert_nothing_injected(&format!("{what} {name}"))
            }
            "fullscreen" => {
                // Keyboard Lock answered (headless Chromium has navigator.keyboard.lock).
                assert_eq!(f, [1.0], "{what}: Keyboard Lock in fullscreen");
                s.assert_nothing_injected(&format!("{what} entering fullscreen"));
            }
            "fill" => self.fill_sessions(),
            "refused" => {
                for id in self.fill.drain(..) {
                    s.post(&format!("type=leave&session={id}"));
                }
                let seen = s.events_until_sentinel();
                assert!(
                    press_at(&seen, 1).is_empty(),
                    "{what}: a refused click injected {seen:?}"
                );
            }
            "badge" => {
                let seen = s.events_until_sentinel();
                assert_eq!(Recorder::typed(&seen), "ok", "{what} badge: {seen:?}");
            }
            "lostcapture" | "blur" => {
                let seen = self.presses(1, 1, &f[..2], name);
                let up = seen
                    .iter()
                    .filter(|e| matches!(e, Rec::Release { button: 1, .. }))
                    .count();
                assert_eq!(up, 1, "{what} {name}: the button stayed down: {seen:?}");
                eprintln!("{what}: blur {}", args.last().map_or("", String::as_str));
            }
            "esc" => {
                let seen = s.events_until_sentinel();
                assert_eq!(keys(&seen), chord(&[keycode::ESCAPE]), "{what} {name}");
            }
            "holdesc" => {
                // Esc went down at once and came up when the page let go after a second; the X
                // server repeats a held key meanwhile (autorepeat: release and press pairs).
                let seen = keys(&s.events_until_sentinel());
                assert!(
                    seen.first() == Some(&(true, keycode::ESCAPE))
                        && seen.last() == Some(&(false, keycode::ESCAPE))
                        && seen.iter().all(|&(_, k)| k == keycode::ESCAPE),
                    "{what} held Esc: {seen:?}"
                );
            }
            "alttab" => {
                let seen = s.events_until_sentinel();
                let want = chord(&[keycode::ALT_L, keycode::TAB]);
                assert_eq!(keys(&seen), want, "{what} Alt+Tab");
            }
            "flood" => self.start_flood(),
            "flooded" => {
                let (stop, threads) = self.flood.take().expect("a flood");
                stop.store(true, Ordering::Relaxed);
                threads
                    .into_iter()
                    .for_each(|t| t.join().expect("flood thread"));
            }
            "ratelimited" => {
                let clicks = f[2] as usize;
                drop(self.presses(1, clicks, &f[..2], "clicks around a 429"));
            }
            "exact" | "pinchtap" => {
                let seen = s.events_until_sentinel();
                let want = (f[0] as i16, f[1] as i16);
                assert_eq!(press_at(&seen, 1), [want], "{what} {name}: {seen:?}");
            }
            "cad" => {
                let seen = s.events_until_sentinel();
                let want = chord(&[keycode::CONTROL_L, keycode::ALT_L, keycode::DELETE]);
                assert_eq!(keys(&seen), want, "{what} Ctrl+Alt+Del: {seen:?}");
            }
            "paste" | "pastelong" | "pastestop" | "phonepaste" => {
                let want = match name {
                    "paste" => CLIPBOARD.to_string(),
                    "pastelong" => "0123456789".repeat(25),
                    "pastestop" => "a".repeat(f[0] as usize),
                    _ => PHONE_PASTE.to_string(),
                };
                let seen = s.events_until_sentinel();
                assert_eq!(Recorder::typed(&seen), want, "{what} {name}");
            }
            "kbdtype" => {
                let seen = s.events_until_sentinel();
                let back = seen.iter().position(|e| {
                    matches!(
                        e,
                        Rec::Key {
                            keycode: keycode::BACKSPACE,
                            ..
                        }
                    )
                });
                let back = back.unwrap_or_else(|| panic!("{what}: no Backspace in {seen:?}"));
                assert_eq!(Recorder::typed(&seen[..back]), "Hi there", "{what}");
                assert_eq!(Recorder::typed(&seen[back..]), "e\n", "{what}");
            }
            "sticky" => {
                let seen = s.events_until_sentinel();
                let want = chord(&[keycode::CONTROL_L, keycode::C]);
                assert_eq!(keys(&seen), want, "{what} sticky Ctrl + c: {seen:?}");
            }
            "fkeys" => {
                let seen = s.events_until_sentinel();
                let mut want = chord(&[keycode::F5]);
                want.extend(chord(&[keycode::LEFT]));
                assert_eq!(keys(&seen), want, "{what} F5, left arrow");
            }
            "padon" => {
                let seen = s.events_until_sentinel();
                self.pointer = last_position(&seen);
                let (w, h) = (s.size.0 as f64, s.size.1 as f64);
                assert!(
                    self.pointer.is_some_and(|p| near(p, (w / 2.0, h / 2.0))),
                    "{what} touchpad mode starts in the middle: {seen:?}"
                );
            }
            "padmove" => {
                let seen = s.events_until_sentinel();
                assert!(press_at(&seen, 1).is_empty(), "{what}: a move clicked");
                // Relative to where the pointer was: the sentinel click of the step before.
                let (from, to) = (sentinel_spot(s), last_position(&seen));
                let to = to.unwrap_or_else(|| panic!("{what}: the pointer did not move"));
                let moved = ((to.0 - from.0) as f64, (to.1 - from.1) as f64);
                assert!(
                    (moved.0 - f[0]).abs() <= 2.0 && (moved.1 - f[1]).abs() <= 2.0,
                    "{what}: a touchpad move of {f:?} desktop pixels moved {moved:?}"
                );
                self.pointer = Some(to);
            }
            // A tap clicks where the pointer is (the sentinel of the step before left it
            // there), not where the finger is.
            "padtap" | "padtwotap" => {
                let button = if name == "padtap" { 1 } else { 3 };
                let seen = s.events_until_sentinel();
                let at = sentinel_spot(s);
                assert_eq!(press_at(&seen, button), [at], "{what} {name}: {seen:?}");
            }
            "paddrag" => {
                let seen = s.events_until_sentinel();
                let at = sentinel_spot(s);
                assert_eq!(press_at(&seen, 1), [at], "{what} drag: {seen:?}");
                let released = seen
                    .iter()
                    .filter(|e| matches!(e, Rec::Release { button: 1, .. }))
                    .count();
                assert_eq!(
                    released, 1,
                    "{what}: a cancelled touch left the button down"
                );
                assert!(
                    last_position(&seen).is_some_and(|p| p.0 > at.0 || p.0 == s.size.0 as i16 - 1),
                    "{what}: the drag did not move right: {seen:?}"
                );
            }
            "lockout" => {
                // Wrong passwords from this address (the browser's too) until it is locked out.
                let wrong = basic_auth(&format!("{USER}:wrong"));
                let locked =
                    (0..20).any(|_| post(s.deskcam.addr, "/state", "", &wrong).status == 429);
                assert!(locked, "{what}: twenty wrong passwords and no lockout");
            }
            "lockedout" => {
                // The sentinel is locked out too: the refused click is proven by silence.
                assert_eq!(s.rec.next(super::QUIET), None, "{what}: a locked-out click");
            }
            "done" => {}
            other => panic!("{what}: unknown step {other}"),
        }
    }
}

/// The user name of the desktop test's `--auth` (with control, a password is how a page on
/// the network works; here it also lets the page show the login lockout).
const USER: &str = "me";

#[test]
fn chromium_clicks_drags_scrolls_and_types_on_the_desktop() {
    let credentials = format!("{USER}:correct-horse");
    let auth = ["--auth", credentials.as_str()];
    let s = session_with(1280, 720, &["--control"], &auth, &basic_auth(&credentials));
    // A wide and a square window: the 16:9 picture is pillarboxed, then letterboxed. The
    // second also runs the page's desktop features (control.mjs "more"), the login lockout
    // last: the server refuses this address for a while after it.
    for (n, viewport) in ["1200x500", "800x800"].into_iter().enumerate() {
        let shot = artifact(&format!("control-{viewport}.png"));
        let what = format!("chromium {viewport}");
        let shot_arg = shot.to_string_lossy().into_owned();
        let mut args = vec![s.deskcam.url("/"), viewport.to_string(), shot_arg];
        if n == 1 {
            args.extend(["more".to_string(), credentials.clone()]);
        } else {
            args.extend(["basic".to_string(), credentials.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let browser = Browser::start("control.mjs", &args, &what);
        let paint = if n == 0 { 0xff0000 } else { 0x0000ff };
        let steps = browser.run(&mut Checker::new(&s, &what, paint));
        assert!(steps.contains(&"type".to_string()), "{steps:?}");
        if n == 1 {
            assert!(steps.contains(&"pastestop".to_string()), "{steps:?}");
            assert!(steps.contains(&"lockedout".to_string()), "{steps:?}");
        }
        assert!(shot.exists(), "no screenshot at {}", shot.display());
    }
}

#[test]
fn chromium_on_a_phone_zooms_types_and_works_as_a_touchpad() {
    let s = session(1280, 720, &[]);
    let shot = artifact("phone-390x844.png");
    let url = s.deskcam.url("/");
    let browser = Browser::start("phone.mjs", &[&url, &shot.to_string_lossy()], "phone");
    let steps = browser.run(&mut Checker::new(&s, "phone", 0x00ff00));
    assert_eq!(
        steps,
        [
            "pinch",
            "pan",
            "pinchtap",
            "kbdtype",
            "sticky",
            "cad",
            "fkeys",
            "phonepaste",
            "padon",
            "padmove",
            "padtap",
            "padtwotap",
            "paddrag",
            "done"
        ]
    );
    assert!(shot.exists());
}

#[test]
fn firefox_shows_the_picture_clicks_and_types() {
    let s = session(1280, 720, &[]);
    let shot = artifact("firefox-800x600.png");
    let url = s.deskcam.url("/");
    let browser = Browser::start("firefox.mjs", &[&url, &shot.to_string_lossy()], "firefox");
    let steps = browser.run(&mut Checker::new(&s, "firefox", 0xff00ff));
    assert_eq!(steps, ["repaint", "click", "letters", "done"]);
    assert!(shot.exists());
}

#[test]
fn chromium_view_only_page_sends_nothing() {
    let s = session_with(800, 600, &[], &[], "");
    let shot = artifact("view-only.png");
    let url = s.deskcam.url("/");
    let args = [url.as_str(), "640x480", &shot.to_string_lossy(), "view"];
    let browser = Browser::start("control.mjs", &args, "view only");
    let steps = browser.run(&mut Checker::new(&s, "view only", 0));
    assert_eq!(steps, ["viewclick", "done"]);
    assert!(shot.exists());
}
