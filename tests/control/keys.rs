//! Typing end to end: keys go by physical position and the X server's own layout decides the
//! character (AltGr on a German layout, a server with XFree86 keycodes); characters missing
//! from the layout go through the spare keycode pool (500 distinct CJK characters in one
//! session, 1024 four-byte characters in one request), and the pool survives a deskcam killed
//! with SIGKILL again and again.

use std::process::Command;
use std::time::Duration;

use deskcam::input::Injector;
use deskcam::input::keycodes::Numbering;
use testkit::http::{get, post};
use testkit::server::Deskcam;
use testkit::wait::wait_until;
use testkit::x11::{Rec, Recorder, Xev, XevKey, Xvfb, empty_keycodes};

const WAIT: Duration = Duration::from_secs(5);
/// keysyms (keysymdef.h)
const F12: u32 = 0xffc9;
const LEVEL3_SHIFT: u32 = 0xfe03;
const ALT_R: u32 = 0xffea;
const UP: u32 = 0xff52;

fn setxkbmap(display: &str, args: &[&str]) {
    let status = Command::new("setxkbmap")
        .args(["-display", display])
        .args(args)
        .status()
        .expect("setxkbmap must be installed (x11-xkb-utils; tools/deps.sh installs it)");
    assert!(status.success(), "setxkbmap {args:?} failed");
}

/// deskcam with --control on `display`, once it serves.
fn control_on(display: &str) -> Deskcam {
    let d = Deskcam::start(&["--source", "screen", "--display", display, "--control"]);
    assert!(
        wait_until(WAIT, || get(d.addr, "/state").status == 200),
        "no /state: {}",
        d.log()
    );
    d
}

fn ok(d: &Deskcam, body: &str) {
    let r = post(d.addr, "/input", body, "");
    let what: String = body.chars().take(60).collect();
    assert_eq!(r.status, 204, "{what}: {}", r.text());
}

fn text_form(text: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("type", "text"), ("text", text)])
        .finish()
}

/// The keysyms of the key presses in `keys`.
fn presses(keys: &[XevKey]) -> Vec<u32> {
    keys.iter().filter(|k| k.press).map(|k| k.keysym).collect()
}

/// xev on `display`, ready: deskcam's F12 presses are sent until xev reports one.
fn xev_ready(display: &str, d: &Deskcam) -> Xev {
    let xev = Xev::start(display);
    xev.ready(WAIT, F12, || ok(d, "type=key&code=F12"));
    xev
}

/// Sends the bodies, then F12 as a sentinel; returns the keysyms pressed before it.
fn typed(xev: &Xev, d: &Deskcam, bodies: &[&str]) -> Vec<u32> {
    for body in bodies {
        ok(d, body);
    }
    ok(d, "type=key&code=F12");
    let seen = xev
        .until(WAIT, |k| k.keysym == F12 && !k.press)
        .expect("the sentinel F12 did not arrive");
    let mut syms = presses(&seen);
    assert_eq!(syms.pop(), Some(F12));
    syms
}

#[test]
fn altgr_and_the_desktop_layout_decide_the_character() {
    let x = Xvfb::start(640, 480);
    setxkbmap(&x.display, &["de"]);
    let d = control_on(&x.display);
    let xev = xev_ready(&x.display, &d);
    // What a German keyboard's user presses for "@" (AltGr+Q) and "y" (the key a US keyboard
    // calls Z): the page sends the physical keys, the server's layout does the rest.
    let syms = typed(
        &xev,
        &d,
        &[
            "type=key&code=AltRight&down=1",
            "type=key&code=KeyQ",
            "type=key&code=AltRight&down=0",
            "type=key&code=KeyZ",
            "type=key&code=KeyY",
        ],
    );
    assert_eq!(syms, [LEVEL3_SHIFT, '@' as u32, 'y' as u32, 'z' as u32]);
    // Text goes by character, whatever the layout: "@" is on no key without AltGr, so it is
    // typed through a spare keycode.
    let syms = typed(&xev, &d, &[&text_form("y@z")]);
    assert_eq!(syms, ['y' as u32, '@' as u32, 'z' as u32]);
    // The same keys on a US layout.
    setxkbmap(&x.display, &["us"]);
    let syms = typed(
        &xev,
        &d,
        &[
            "type=key&code=AltRight&down=1",
            "type=key&code=KeyQ",
            "type=key&code=AltRight&down=0",
            "type=key&code=KeyZ",
        ],
    );
    assert_eq!(syms, [ALT_R, 'q' as u32, 'z' as u32]);
}

#[test]
fn keycodes_are_checked_to_be_evdev_and_found_by_name_when_not() {
    let x = Xvfb::start(640, 480);
    let injector = Injector::connect(Some(&x.display)).expect("injector");
    assert_eq!(injector.numbering(), Some(Numbering::Evdev));
    drop(injector);

    // A server with XFree86 keycodes (BSD, old Xorg keyboard driver): Up is 98, not 111.
    let x = Xvfb::start(640, 480);
    setxkbmap(
        &x.display,
        &["-rules", "base", "-keycodes", "xfree86", "us"],
    );
    let injector = Injector::connect(Some(&x.display)).expect("injector");
    assert!(
        matches!(injector.numbering(), Some(Numbering::Named(_))),
        "{:?}",
        injector.numbering()
    );
    drop(injector);
    let d = control_on(&x.display);
    assert!(
        d.log().contains("keycodes are not evdev"),
        "no note in the log: {}",
        d.log()
    );
    let xev = xev_ready(&x.display, &d);
    ok(&d, "type=key&code=ArrowUp");
    ok(&d, "type=key&code=AltRight");
    ok(&d, "type=key&code=KeyQ");
    let seen = xev
        .until(WAIT, |k| k.keysym == 'q' as u32 && !k.press)
        .expect("KeyQ did not arrive");
    let pressed: Vec<(u8, u32)> = seen
        .iter()
        .filter(|k| k.press)
        .map(|k| (k.keycode, k.keysym))
        .collect();
    assert_eq!(pressed, [(98, UP), (113, ALT_R), (24, 'q' as u32)]);
}

fn cjk(from: u32, n: u32) -> String {
    (from..from + n).filter_map(char::from_u32).collect()
}

fn last_char_typed(c: char) -> impl Fn(&Rec) -> bool {
    move |e| matches!(e, Rec::Key { ch: Some(x), .. } if *x == c)
}

#[test]
fn twenty_five_kill_9s_leave_the_keyboard_map_as_it_was() {
    let x = Xvfb::start(640, 480);
    let spare = empty_keycodes(&x.display);
    assert!(spare >= 6, "Xvfb has only {spare} spare keycodes");
    for run in 0..25 {
        let mut d = control_on(&x.display);
        // Three characters no layout has, new ones each run: three keycodes bound.
        ok(&d, &text_form(&cjk(0x4e00 + run * 3, 3)));
        // SIGKILL: no chance to unbind anything.
        assert_eq!(d.signal_and_wait("KILL"), None, "killed by a signal");
        if run > 0 {
            // What the killed run left behind was unbound when this run started.
            assert!(
                d.log()
                    .contains("unbound 3 spare keycodes a deskcam that did not exit cleanly"),
                "run {run}: {}",
                d.log()
            );
        }
    }
    // Typing still works, and only the live deskcam's three bindings are in use.
    let rec = Recorder::start(&x.display);
    let mut d = control_on(&x.display);
    let text = "終わり";
    ok(&d, &text_form(text));
    let seen = rec.until(WAIT, last_char_typed('り'));
    assert_eq!(Recorder::typed(&seen), text);
    assert_eq!(empty_keycodes(&x.display), spare - 3);
    // A clean exit unbinds its own.
    assert_eq!(d.terminate(), Some(0));
    assert_eq!(empty_keycodes(&x.display), spare);
}

#[test]
fn five_hundred_distinct_cjk_characters_in_one_session_all_land() {
    let x = Xvfb::start(640, 480);
    let rec = Recorder::start(&x.display);
    let d = control_on(&x.display);
    // Many more than the pool's keycodes: each is rebound many times, and every character
    // must still reach the client as itself.
    let all = cjk(0x5000, 500);
    let chars: Vec<char> = all.chars().collect();
    for chunk in chars.chunks(50) {
        ok(&d, &text_form(&chunk.iter().collect::<String>()));
    }
    let last = *chars.last().unwrap();
    let seen = rec.until(Duration::from_secs(60), last_char_typed(last));
    assert_eq!(Recorder::typed(&seen), all);
}

#[test]
fn one_text_request_holds_1024_four_byte_characters() {
    let x = Xvfb::start(640, 480);
    let rec = Recorder::start(&x.display);
    let d = control_on(&x.display);
    // CJK Extension B: four UTF-8 bytes each, twelve percent-encoded; all distinct.
    let text = cjk(0x20000, 1024);
    let body = text_form(&text);
    assert!(body.len() > 12 * 1024, "{}", body.len());
    ok(&d, &body);
    let last = text.chars().last().unwrap();
    let seen = rec.until(Duration::from_secs(60), last_char_typed(last));
    assert_eq!(Recorder::typed(&seen), text);
    // Other events stay small, and text has its own limit.
    let pad = "a".repeat(5000);
    let r = post(
        d.addr,
        "/input",
        &format!("type=move&x=0.5&y=0.5&p={pad}"),
        "",
    );
    assert_eq!(r.status, 413, "{}", r.text());
    let long = format!("{}&p={}", text_form("ok"), "a".repeat(16 * 1024));
    assert_eq!(post(d.addr, "/input", &long, "").status, 413);
    let r = post(d.addr, "/input", &text_form(&cjk(0x20000, 1025)), "");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("at most 1024"), "{}", r.text());
    // Nothing of the refused requests arrived: a sentinel click is next.
    ok(&d, "type=click&x=0.5&y=0.5&button=middle");
    let seen = rec.until(WAIT, |e| matches!(e, Rec::Release { button: 2, .. }));
    // (The last character's key release may come first.)
    let foreign: Vec<_> = seen
        .iter()
        .filter(|e| {
            !matches!(
                e,
                Rec::Motion { .. }
                    | Rec::Press { button: 2, .. }
                    | Rec::Release { button: 2, .. }
                    | Rec::KeyUp { .. }
            )
        })
        .collect();
    assert!(foreign.is_empty(), "refused requests injected {foreign:?}");
}
