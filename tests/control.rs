//! Remote control end to end: events posted to the real binary arrive at a recording X client
//! on a private Xvfb at the right pixels; every refused request injects nothing; the security
//! refusals (auth, cross-site, control off, network without auth) hold.

use std::time::Duration;

use deskcam::geometry::Region;
use deskcam::input::{Button, Event, Injector, Key, Press, Spot};
use testkit::http::{MjpegReader, Reply, State, get_with, post};
use testkit::server::Deskcam;
use testkit::wait::wait_until;
use testkit::x11::{Rec, Recorder, Xvfb};

pub(crate) mod browser;
mod hold;
mod keys;
mod refusals;

const WAIT: Duration = Duration::from_secs(5);
/// How long "nothing more arrived" is watched for after the sentinel event that proves every
/// earlier event has arrived: only an event injected late, out of order, would show here.
const QUIET: Duration = Duration::from_millis(200);
/// The sentinel: a middle click at a spot used nowhere else. Events before it are what the
/// request under test injected.
const SENTINEL: &str = "type=click&x=0.9&y=0.1&button=middle";
/// Where the sentinel clicks, as picture fractions (the pointer stays there after it).
const SENTINEL_SPOT: (f64, f64) = (0.9, 0.1);
/// How long the events before a sentinel may take to arrive (after a flood, hundreds).
const SETTLE: Duration = Duration::from_secs(15);

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
    // The second time reuses the keycodes bound the first time, and must still come out right.
    for _ in 0..2 {
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
    }
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

/// Xvfb, the recording client on it, and deskcam streaming it (with --control unless asked
/// otherwise).
struct Session {
    rec: Recorder,
    deskcam: Deskcam,
    /// Extra request headers (credentials) for every request of the session.
    headers: String,
    /// deskcam runs with --control: the sentinel goes through it, on the same X connection as
    /// every event it injects, so it cannot overtake them.
    control: bool,
    size: (u32, u32),
    x: Xvfb,
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
        control: control.contains(&"--control"),
        size: (width, height),
        x,
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
    /// Posts `body` (a left click) and asserts its press lands on screen pixel `at`.
    fn click_lands(&self, body: &str, at: (i16, i16)) {
        self.ok(body);
        let seen = self.rec.until(WAIT, is_press(1));
        let (x, y) = at;
        assert_eq!(seen.last(), Some(&Rec::Press { button: 1, x, y }), "{body}");
    }

    /// Every event since the last look, proven complete by a sentinel click that must come
    /// after them; the sentinel's own events are left out.
    fn events_until_sentinel(&self) -> Vec<Rec> {
        if self.control {
            // Right after a flood the rate limit refuses it (429) for a few milliseconds.
            let accepted = wait_until(WAIT, || {
                let r = self.post(SENTINEL);
                assert!(matches!(r.status, 204 | 429), "sentinel: {}", r.text());
                r.status == 204
            });
            assert!(accepted, "the sentinel was never accepted");
        } else {
            // No deskcam injector to go through: XTest directly, after everything deskcam did.
            let injector = Injector::connect(Some(&self.x.display)).expect("XTest");
            let spot = Spot {
                x: SENTINEL_SPOT.0,
                y: SENTINEL_SPOT.1,
            };
            injector
                .inject(
                    &Event::Click(spot, Button::Middle),
                    whole(self.size.0, self.size.1),
                )
                .expect("inject the sentinel");
        }
        let mut seen = self.rec.until(SETTLE, is_release(2));
        let Some(Rec::Release { x, y, .. }) = seen.pop() else {
            unreachable!("until() ends with the release")
        };
        let press = seen.pop();
        assert_eq!(press, Some(Rec::Press { button: 2, x, y }), "{seen:?}");
        // The pointer's move to the sentinel (XTest may report it twice).
        while seen.last() == Some(&Rec::Motion { x, y }) {
            seen.pop();
        }
        seen
    }

    /// Proves a refused request injected nothing: the sentinel is the very next event.
    fn assert_nothing_injected(&self, what: &str) {
        let seen = self.events_until_sentinel();
        assert!(seen.is_empty(), "{what} injected {seen:?}");
        assert_eq!(
            self.rec.next(QUIET),
            None,
            "{what}: an event after the sentinel"
        );
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
    s.click_lands("type=click&x=0.5&y=0.5", (300, 350));
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
    let seen = s.events_until_sentinel();
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
    let seen = s.events_until_sentinel();
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
    let seen = s.events_until_sentinel();
    assert_eq!(press_at(&seen, 1), [(300, 300); 2], "{seen:?}");
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

/// The touchpad's events and key combinations, as a script sends them: a move by a fraction of
/// the picture from where the pointer is (kept inside the streamed area), a click where the
/// pointer is, and Ctrl+Alt+Del in one request, leaving alone a key held by another request.
#[test]
fn relative_moves_clicks_where_the_pointer_is_and_combinations() {
    let s = session(1280, 1024, &["--region", "800x600+100+200"]);
    s.ok("type=move&x=0.5&y=0.5");
    s.rec.until(WAIT, |e| *e == Rec::Motion { x: 500, y: 500 });
    // A tenth of 800 right, a fifth of 600 up.
    s.ok("type=move&dx=0.1&dy=-0.2");
    s.rec.until(WAIT, |e| *e == Rec::Motion { x: 580, y: 380 });
    // Past the region's edges: its last pixel, not beyond.
    s.ok("type=move&dx=1&dy=1");
    s.rec.until(WAIT, |e| *e == Rec::Motion { x: 899, y: 799 });
    s.ok("type=click&button=right");
    let seen = s.events_until_sentinel();
    assert_eq!(press_at(&seen, 3), [(899, 799)], "{seen:?}");
    // A drag where the pointer is (the sentinel left it at 0.9, 0.1 of the region: 820, 260):
    // down, half the region left and up (stopped by the region's top edge), up.
    s.ok("type=down");
    s.ok("type=move&dx=-0.5&dy=-0.5");
    s.ok("type=up");
    let seen = s.events_until_sentinel();
    assert_eq!(press_at(&seen, 1), [(820, 260)], "{seen:?}");
    assert!(
        seen.ends_with(&[
            Rec::Motion { x: 420, y: 200 },
            Rec::Release {
                button: 1,
                x: 420,
                y: 200
            }
        ]),
        "{seen:?}"
    );
    // Ctrl+Alt+Del: pressed in order, released in reverse (evdev keycodes 37, 64, 119).
    s.ok("type=combo&codes=ControlLeft%2CAltLeft%2CDelete");
    let seen = s.events_until_sentinel();
    let keys: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            Rec::Key { keycode, .. } => Some((true, *keycode)),
            Rec::KeyUp { keycode } => Some((false, *keycode)),
            _ => None,
        })
        .collect();
    let want = [
        (true, 37),
        (true, 64),
        (true, 119),
        (false, 119),
        (false, 64),
        (false, 37),
    ];
    assert_eq!(keys, want, "{seen:?}");
    // Shift held by a key event (as the page's sticky modifier is): a combination with it
    // presses the rest and leaves Shift down.
    s.ok("type=key&code=ShiftLeft&down=1");
    s.ok("type=combo&codes=ShiftLeft,KeyA");
    s.ok("type=key&code=ShiftLeft&down=0");
    let seen = s.events_until_sentinel();
    assert_eq!(Recorder::typed(&seen), "A", "{seen:?}");
    let shift: Vec<_> = seen
        .iter()
        .filter(|e| matches!(e, Rec::Key { keycode: 50, .. } | Rec::KeyUp { keycode: 50 }))
        .collect();
    assert_eq!(shift.len(), 2, "Shift pressed and released once: {seen:?}");
}

/// Where each press of button `b` in `seen` happened.
fn press_at(seen: &[Rec], b: u8) -> Vec<(i16, i16)> {
    seen.iter()
        .filter_map(|e| match e {
            Rec::Press { button, x, y } if *button == b => Some((*x, *y)),
            _ => None,
        })
        .collect()
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
    let online = || State::fetch(deskcam.addr).bool("online");
    assert!(wait_until(WAIT, || online() == Some(false)));
    let _x = Xvfb::start_on(&display, 640, 480);
    let rec = Recorder::start(&display);
    assert!(
        wait_until(Duration::from_secs(15), || online() == Some(true)),
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
