//! Held keys and buttons end to end: a viewer that goes quiet (a page closed, crashed or cut off)
//! has what it held released within 3 s, while a live page holds a key or a drag as long as its
//! user does; the audit log has one line per viewer starting and stopping, never the text.
//! Watched on a private Xvfb by the recording client, with scripts and with headless Chromium.

use std::io::Write;
use std::process::{ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::child::{Guard, Lines};
use testkit::http::{basic_auth, get_with, post};
use testkit::server::Deskcam;
use testkit::wait::wait_until;
use testkit::x11::{Rec, Recorder, Xvfb};

const WAIT: Duration = Duration::from_secs(5);
/// How long a held key outlives its holder's last message (docs/control.md).
const LEASE: Duration = Duration::from_secs(2);
/// What the issue promises: anything a vanished viewer held is up within this.
const RELEASED_WITHIN: Duration = Duration::from_secs(3);
/// The left Shift key on an evdev X server (KEY_LEFTSHIFT 42 + 8).
const SHIFT: u8 = 50;

/// Xvfb, the recording client on it, and deskcam streaming it with --control.
struct Desk {
    rec: Recorder,
    deskcam: Deskcam,
    /// Request headers every request needs (credentials with --auth).
    headers: String,
    _x: Xvfb,
}

impl Desk {
    fn start(extra: &[&str], headers: &str) -> Desk {
        let x = Xvfb::start(800, 600);
        let rec = Recorder::start(&x.display);
        let mut args = vec!["--source", "screen", "--display", &x.display, "--control"];
        args.extend_from_slice(extra);
        let deskcam = Deskcam::start(&args);
        // Input needs the streamed area, which the screen source publishes once open.
        assert!(wait_until(WAIT, || get_with(
            deskcam.addr,
            "/state",
            headers
        )
        .status
            == 200));
        Desk {
            rec,
            deskcam,
            headers: headers.to_string(),
            _x: x,
        }
    }

    fn ok(&self, body: &str) {
        let r = post(self.deskcam.addr, "/input", body, &self.headers);
        assert_eq!(r.status, 204, "{body}: {}", r.text());
    }

    /// Every event for `how_long` (an absence can only be watched for).
    fn for_a_while(&self, how_long: Duration) -> Vec<Rec> {
        let deadline = Instant::now() + how_long;
        let mut seen = Vec::new();
        while let Some(e) = self
            .rec
            .next(deadline.saturating_duration_since(Instant::now()))
        {
            seen.push(e);
        }
        seen
    }

    /// Waits for the first event matching `what` and returns when it arrived.
    fn arrival(&self, what: impl Fn(&Rec) -> bool) -> Instant {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        while let Some((at, e)) = self
            .rec
            .next_timed(deadline.saturating_duration_since(Instant::now()))
        {
            if what(&e) {
                return at;
            }
            seen.push(e);
        }
        panic!("the expected X event did not arrive; got {seen:?}");
    }

    /// Waits for a log line containing `needle`.
    fn logged(&self, needle: &str) -> String {
        self.deskcam.log_line(WAIT, |l| l.contains(needle))
    }
}

fn shift_down(e: &Rec) -> bool {
    matches!(e, Rec::Key { keycode: SHIFT, .. })
}
fn shift_up(e: &Rec) -> bool {
    matches!(e, Rec::KeyUp { keycode: SHIFT })
}
fn left_down(e: &Rec) -> bool {
    matches!(e, Rec::Press { button: 1, .. })
}
fn left_up(e: &Rec) -> bool {
    matches!(e, Rec::Release { button: 1, .. })
}

#[test]
fn a_key_held_by_a_client_that_goes_quiet_is_released_within_3_s() {
    let d = Desk::start(&[], "");
    // A script (no page session) presses Shift and says nothing more.
    d.ok("type=key&code=ShiftLeft&down=1");
    let pressed = d.arrival(shift_down);
    let released = d.arrival(shift_up);
    let held = released - pressed;
    eprintln!("released {held:?} after the press");
    assert!(held < RELEASED_WITHIN, "held {held:?}");
    // Not before the lease ran out: it was the lease, and nothing else, that let go.
    assert!(held >= LEASE - Duration::from_millis(100), "held {held:?}");
    let line = d.logged("stopped controlling");
    assert!(
        line.contains("its page stopped answering") && line.contains("released 1"),
        "{line}"
    );
}

#[test]
fn heartbeats_keep_a_key_held_past_the_lease_and_up_releases_it() {
    let d = Desk::start(&[], "");
    let page = "session=0123456789abcdef";
    d.ok(&format!("type=key&code=ShiftLeft&down=1&{page}"));
    d.arrival(shift_down);
    // Four leases long, renewed twice a second as the page does: Shift stays down.
    let until = Instant::now() + 4 * LEASE;
    while Instant::now() < until {
        let seen = d.for_a_while(Duration::from_millis(500));
        assert!(!seen.iter().any(shift_up), "released while held: {seen:?}");
        d.ok(&format!("type=heartbeat&{page}"));
    }
    d.ok(&format!("type=key&code=KeyA&{page}"));
    let seen = d
        .rec
        .until(WAIT, |e| matches!(e, Rec::Key { ch: Some(_), .. }));
    assert_eq!(Recorder::typed(&seen), "A", "Shift was still down");
    d.ok(&format!("type=key&code=ShiftLeft&down=0&{page}"));
    d.arrival(shift_up);
}

#[test]
fn a_dead_page_is_not_kept_alive_by_another_page_of_the_same_address() {
    let d = Desk::start(&[], "");
    d.ok("type=down&x=0.5&y=0.5&button=right&session=deadpage01");
    d.arrival(|e| matches!(e, Rec::Press { button: 3, .. }));
    let pressed = Instant::now();
    // A second tab on the same machine keeps moving the pointer, five times a second.
    let released = 'watch: loop {
        d.ok("type=move&x=0.25&y=0.25&session=livepage02");
        let until = Instant::now() + Duration::from_millis(200);
        while let Some((at, e)) = d
            .rec
            .next_timed(until.saturating_duration_since(Instant::now()))
        {
            if matches!(e, Rec::Release { button: 3, .. }) {
                break 'watch at;
            }
        }
        assert!(
            pressed.elapsed() < WAIT,
            "the dead page's button is still down"
        );
    };
    assert!(released - pressed < RELEASED_WITHIN);
}

#[test]
fn leaving_releases_at_once_and_the_audit_log_tells_who_never_what() {
    let auth = basic_auth("alice:pw-1234");
    let d = Desk::start(&["--auth", "alice:pw-1234"], &auth);
    let page = "session=a1b2c3d4e5f60718";
    let secret = "hunter2-typed-secret";
    let text = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("type", "text"), ("text", secret), ("session", &page[8..])])
        .finish();
    d.ok(&text);
    d.ok(&format!("type=down&x=0.5&y=0.5&{page}"));
    d.arrival(left_down);
    let start = d.logged("started controlling");
    assert!(
        start.contains("viewer 127.0.0.1")
            && start.contains("user \"alice\"")
            && start.contains("page a1b2c3"),
        "{start}"
    );
    // The page goes: the button is up now, not a lease later.
    let left = Instant::now();
    d.ok(&format!("type=leave&{page}"));
    let released = d.arrival(left_up);
    assert!(released - left < LEASE / 2, "{:?}", released - left);
    let stop = d.logged("stopped controlling");
    assert!(
        stop.contains("user \"alice\"")
            && stop.contains("(the page was closed)")
            && stop.contains(": 2 events in ")
            && stop.contains("released 1"),
        "{stop}"
    );
    let log = d.deskcam.log();
    assert_eq!(log.matches("started controlling").count(), 1, "{log}");
    assert!(!log.contains(secret) && !log.contains("hunter2"), "{log}");
    assert!(!log.contains("pw-1234"), "{log}");
}

// ---- a real browser ------------------------------------------------------------------------

/// A node script from tests/browser in lock-step: it prints "STEP name" and waits for "next".
struct Script {
    _node: Guard,
    to_node: ChildStdin,
    out: Lines,
}

/// How long the script may take to report one action (Chromium starts slowly when the machine
/// is busy).
const STEP: Duration = Duration::from_secs(60);

impl Script {
    fn start(name: &str, args: &[&str]) -> Script {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
        super::browser::ensure_playwright(&dir);
        let mut node = Command::new("node")
            .arg(dir.join(name))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map(Guard)
            .expect("node must be installed (tools/deps.sh installs it)");
        let to_node = node.stdin.take().expect("stdin is piped");
        let out = Lines::read(node.stdout.take().expect("stdout is piped"));
        Script {
            _node: node,
            to_node,
            out,
        }
    }

    /// The rest of the next line that starts with `prefix`.
    fn expect(&self, prefix: &str) -> String {
        self.out
            .find(STEP, |line| {
                line.strip_prefix(prefix).map(|r| r.trim().to_string())
            })
            .unwrap_or_else(|e| panic!("the browser script, waiting for {prefix:?}: {e}"))
    }

    fn step(&self, name: &str) {
        assert_eq!(self.expect("STEP "), name);
    }

    fn next(&mut self) {
        writeln!(self.to_node, "next").expect("the browser script is listening");
    }
}

#[test]
fn chromium_holds_while_the_user_does_and_lets_go_when_the_page_dies() {
    let d = Desk::start(&[], "");
    let mut node = Script::start("hold.mjs", &[&d.deskcam.url("/")]);
    let pid = node.expect("PID ");
    // A long Shift: the page sends nothing but heartbeats for two leases.
    node.step("shift");
    d.arrival(shift_down);
    let seen = d.for_a_while(2 * LEASE);
    assert!(!seen.iter().any(shift_up), "Shift let go: {seen:?}");
    node.next();
    node.step("typed");
    let seen = d
        .rec
        .until(WAIT, |e| matches!(e, Rec::Key { ch: Some(_), .. }));
    assert_eq!(Recorder::typed(&seen), "A");
    node.next();
    node.step("shiftup");
    d.arrival(shift_up);
    // A slow drag: the button stays down while the user holds it still.
    node.next();
    node.step("drag");
    d.arrival(left_down);
    let seen = d.for_a_while(2 * LEASE);
    assert!(!seen.iter().any(left_up), "the drag let go: {seen:?}");
    // The page is closed mid-drag: released at once by its goodbye.
    let closing = Instant::now();
    node.next();
    node.step("closed");
    let released = d.arrival(left_up);
    eprintln!("page closed: released after {:?}", released - closing);
    assert!(released - closing < RELEASED_WITHIN);
    d.logged("(the page was closed)");
    // The browser is killed mid-drag: no goodbye, the lease runs out.
    node.next();
    node.step("drag2");
    d.arrival(left_down);
    // The whole browser at once, as a crash or a power cut takes it: its process group
    // (Playwright starts it detached, as a group leader). Renderers left orphaned by killing
    // only the main process may live on for a moment and still send heartbeats.
    let killed = Instant::now();
    let status = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -KILL -- -{pid}");
    let released = d.arrival(left_up);
    let latency = released - killed;
    eprintln!("browser killed: released after {latency:?}");
    assert!(latency < RELEASED_WITHIN, "{latency:?}");
    d.logged("(its page stopped answering)");
}
