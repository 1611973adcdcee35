//! The page in a real browser: Debian's headless Chromium, driven through playwright-core by
//! tests/browser/control.mjs in lock-step with the recording X client. The script prints
//! "STEP name fx fy" once the page has no control request queued or unanswered, so the X events
//! of that action have all arrived by then; the test checks them and answers "next".

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::time::Duration;

use testkit::child::{Guard, Lines};
use testkit::x11::{Rec, Recorder};

use super::{press_at, session, session_with};

/// How long the script may take to report one action (Chromium starts slowly when the
/// machine is busy).
const STEP: Duration = Duration::from_secs(60);

/// What the script reports.
enum Said {
    /// "SIZE WxH": the picture's natural size, as the page shows it.
    Size(String),
    /// "STEP name fx fy": an action done, and the picture fractions it aimed at.
    Step(String, Vec<f64>),
}

/// tests/browser/control.mjs running under node; killed if the test fails half-way.
struct Browser {
    node: Guard,
    to_node: Option<ChildStdin>,
    out: Lines,
    what: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Installs playwright-core for tests/browser (from its package-lock.json) if it is missing.
pub(crate) fn ensure_playwright(dir: &Path) {
    if dir.join("node_modules/playwright-core").exists() {
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
    /// Opens `url` in a `viewport` ("WxH") window; `view_only` runs the script's view-only
    /// checks instead of the control actions.
    fn start(url: &str, viewport: &str, shot: &Path, view_only: bool) -> Browser {
        let dir = root().join("tests/browser");
        ensure_playwright(&dir);
        let mut node = Command::new("node")
            .arg(dir.join("control.mjs"))
            .args([url, viewport, &shot.to_string_lossy()])
            .args(view_only.then_some("view"))
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
            what: viewport.to_string(),
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
                    words.filter_map(|v| v.parse().ok()).collect(),
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

    /// Waits (bounded) for the script to end, successfully.
    fn finish(mut self) {
        drop(self.to_node.take());
        let code = self.node.exit_within(STEP);
        assert_eq!(
            code,
            Ok(Some(0)),
            "{}: the browser script failed",
            self.what
        );
    }
}

/// Near enough: a CSS pixel of a scaled-down picture covers more than one screen pixel.
fn near(got: (i16, i16), want: (f64, f64)) -> bool {
    (got.0 as f64 - want.0).abs() <= 3.0 && (got.1 as f64 - want.1).abs() <= 3.0
}

#[test]
fn chromium_clicks_drags_scrolls_and_types_on_the_desktop() {
    let (w, h) = (1280.0, 720.0);
    let s = session(1280, 720, &[]);
    // A square and a wide window: the 16:9 picture is letterboxed, then pillarboxed.
    for (n, viewport) in ["800x800", "1200x500"].into_iter().enumerate() {
        let shot = artifact(&format!("control-{viewport}.png"));
        let mut browser = Browser::start(&s.deskcam.url("/"), viewport, &shot, false);
        let want = |fx: f64, fy: f64| (fx * w, fy * h);
        // Everything the action injected: exactly `n` presses of `button`, each on the screen
        // spot of picture fraction `at`.
        let presses = |button: u8, n: usize, at: &[f64], what: &str| -> Vec<Rec> {
            let seen = s.events_until_sentinel();
            let p = press_at(&seen, button);
            assert!(
                p.len() == n && p.iter().all(|&p| near(p, want(at[0], at[1]))),
                "{viewport} {what}: {seen:?}"
            );
            seen
        };
        loop {
            let (name, f) = match browser.next() {
                Said::Size(size) => {
                    assert_eq!(size, "1280x720", "the page shows the whole screen");
                    continue;
                }
                Said::Step(name, f) => (name, f),
            };
            match name.as_str() {
                "repaint" => s.rec.paint(if n == 0 { 0xff0000 } else { 0x0000ff }),
                "click" => drop(presses(1, 1, &f, "click")),
                "right" => drop(presses(3, 1, &f, "right")),
                "dblclick" => drop(presses(1, 2, &f, "dblclick")),
                "drag" => {
                    let seen = presses(1, 1, &[0.1, 0.1], "drag start");
                    let moves = seen
                        .iter()
                        .filter(|e| matches!(e, Rec::Motion { .. }))
                        .count();
                    assert!(moves >= 2, "{viewport} drag without moves: {seen:?}");
                    let end = seen.iter().rev().find_map(|e| match e {
                        Rec::Release { button: 1, x, y } => Some((*x, *y)),
                        _ => None,
                    });
                    assert!(
                        end.is_some_and(|end| near(end, want(f[0], f[1]))),
                        "{viewport} drag end: {seen:?}"
                    );
                }
                "wheel" => drop(presses(5, 3, &f, "wheel 300 px = 3 steps down")),
                "tap" => drop(presses(1, 1, &f, "tap")),
                "longpress" => {
                    let seen = presses(3, 1, &f, "long press = right click");
                    assert!(
                        press_at(&seen, 1).is_empty(),
                        "{viewport} long press also clicked"
                    );
                }
                "twofinger" => {
                    let seen = s.events_until_sentinel();
                    let p = press_at(&seen, 5);
                    assert_eq!(p.len(), 3, "{viewport} two-finger drag up 130 px: {seen:?}");
                    assert!(press_at(&seen, 1).is_empty() && press_at(&seen, 3).is_empty());
                }
                "type" => {
                    let seen = s.events_until_sentinel();
                    assert_eq!(Recorder::typed(&seen), "Hi!\n", "{viewport}: {seen:?}");
                }
                "done" => assert!(shot.exists(), "no screenshot at {}", shot.display()),
                "viewclick" => panic!("view-only step in a control run"),
                other => panic!("unknown step {other}"),
            }
            browser.go_on();
            if name == "done" {
                break;
            }
        }
        browser.finish();
    }
}

#[test]
fn chromium_view_only_page_sends_nothing() {
    let s = session_with(800, 600, &[], &[], "");
    let shot = artifact("view-only.png");
    let mut browser = Browser::start(&s.deskcam.url("/"), "640x480", &shot, true);
    let mut steps = Vec::new();
    loop {
        let Said::Step(name, _) = browser.next() else {
            continue;
        };
        if name == "viewclick" {
            s.assert_nothing_injected("a view-only page");
        }
        browser.go_on();
        steps.push(name);
        if steps.last().is_some_and(|n| n == "done") {
            break;
        }
    }
    browser.finish();
    assert_eq!(steps, ["viewclick", "done"]);
    assert!(shot.exists());
}
