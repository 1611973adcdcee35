//! A recording X client for input tests and the input benchmark: a window covering the whole
//! screen that reports every pointer and key event it receives, with root coordinates and the
//! character a key types, stamped with the time it arrived.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::Event as XEvent;
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

use super::keys::{Keyboard, typed_char};

/// One input event as the recording window saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rec {
    Motion {
        x: i16,
        y: i16,
    },
    Press {
        button: u8,
        x: i16,
        y: i16,
    },
    Release {
        button: u8,
        x: i16,
        y: i16,
    },
    /// A key press and the character it types (None for keys like Shift).
    Key {
        keycode: u8,
        ch: Option<char>,
    },
    KeyUp {
        keycode: u8,
    },
}

pub struct Recorder {
    events: Receiver<(Instant, Rec)>,
    conn: Arc<RustConnection>,
    win: xproto::Window,
}

/// The current keyboard map; None once the X server has gone (the end of a test).
fn fetch_keyboard(conn: &RustConnection) -> Option<Keyboard> {
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let reply = conn
        .get_keyboard_mapping(min, max - min + 1)
        .ok()?
        .reply()
        .ok()?;
    Some(Keyboard {
        min_keycode: min,
        per_keycode: reply.keysyms_per_keycode.into(),
        keysyms: reply.keysyms,
    })
}

/// Opens the full-screen window that receives every event, focused and mapped.
fn open_window(display: &str) -> (RustConnection, xproto::Window) {
    let (conn, screen) = x11rb::connect(Some(display)).expect("connect to Xvfb");
    let screen = conn.setup().roots[screen].clone();
    let win = conn.generate_id().expect("an X id");
    let mask = xproto::EventMask::KEY_PRESS
        | xproto::EventMask::KEY_RELEASE
        | xproto::EventMask::BUTTON_PRESS
        | xproto::EventMask::BUTTON_RELEASE
        | xproto::EventMask::POINTER_MOTION
        | xproto::EventMask::STRUCTURE_NOTIFY;
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        win,
        screen.root,
        0,
        0,
        screen.width_in_pixels,
        screen.height_in_pixels,
        0,
        xproto::WindowClass::INPUT_OUTPUT,
        0,
        &xproto::CreateWindowAux::new()
            .override_redirect(1)
            .background_pixel(screen.white_pixel)
            .event_mask(mask),
    )
    .expect("CreateWindow");
    conn.map_window(win).expect("MapWindow");
    conn.flush().expect("flush");
    while !matches!(
        conn.wait_for_event().expect("X event"),
        XEvent::MapNotify(_)
    ) {}
    conn.set_input_focus(xproto::InputFocus::PARENT, win, x11rb::CURRENT_TIME)
        .expect("SetInputFocus");
    conn.get_input_focus().expect("sync").reply().expect("sync");
    (conn, win)
}

/// Turns X events into [`Rec`]s until the server goes away or nobody listens.
fn record(conn: &RustConnection, tx: std::sync::mpsc::Sender<(Instant, Rec)>) {
    let Some(mut keyboard) = fetch_keyboard(conn) else {
        return;
    };
    while let Ok(event) = conn.wait_for_event() {
        let now = Instant::now();
        let rec = match event {
            XEvent::MotionNotify(e) => Rec::Motion {
                x: e.root_x,
                y: e.root_y,
            },
            XEvent::ButtonPress(e) => Rec::Press {
                button: e.detail,
                x: e.root_x,
                y: e.root_y,
            },
            XEvent::ButtonRelease(e) => Rec::Release {
                button: e.detail,
                x: e.root_x,
                y: e.root_y,
            },
            XEvent::MappingNotify(_) => {
                // As Xlib clients do: read the map again (deskcam binds spare keycodes).
                match fetch_keyboard(conn) {
                    Some(k) => keyboard = k,
                    None => break,
                }
                continue;
            }
            XEvent::KeyPress(e) => {
                let shift = u16::from(e.state) & u16::from(xproto::KeyButMask::SHIFT) != 0;
                Rec::Key {
                    keycode: e.detail,
                    ch: keyboard.keysym(e.detail, shift).and_then(typed_char),
                }
            }
            XEvent::KeyRelease(e) => Rec::KeyUp { keycode: e.detail },
            _ => continue,
        };
        if tx.send((now, rec)).is_err() {
            break;
        }
    }
}

impl Recorder {
    /// Opens a full-screen window on `display`, focuses it, and records from then on.
    pub fn start(display: &str) -> Recorder {
        let (conn, win) = open_window(display);
        let conn = Arc::new(conn);
        let (tx, events) = channel();
        let reader = conn.clone();
        // Ends when the X server goes away at the end of the test.
        thread::spawn(move || record(&reader, tx));
        Recorder { events, conn, win }
    }

    /// Fills the window with `rgb` (0xRRGGBB on a 24-bit TrueColor screen such as Xvfb's), so
    /// a test can see the change arrive in the stream.
    pub fn paint(&self, rgb: u32) {
        self.conn
            .change_window_attributes(
                self.win,
                &xproto::ChangeWindowAttributesAux::new().background_pixel(rgb),
            )
            .expect("ChangeWindowAttributes");
        self.conn
            .clear_area(false, self.win, 0, 0, 0, 0)
            .expect("ClearArea");
        self.conn.flush().expect("flush");
    }

    /// The next event within `timeout`, with its arrival time.
    pub fn next_timed(&self, timeout: Duration) -> Option<(Instant, Rec)> {
        self.events.recv_timeout(timeout).ok()
    }

    pub fn next(&self, timeout: Duration) -> Option<Rec> {
        self.next_timed(timeout).map(|(_, r)| r)
    }

    /// Every event until none arrives for `quiet` (to clear the queue between phases).
    pub fn drain(&self, quiet: Duration) -> Vec<Rec> {
        std::iter::from_fn(|| self.next(quiet)).collect()
    }

    /// Events up to and including the first that matches `last`, waiting at most `timeout`
    /// in total; panics with what arrived when it does not come.
    pub fn until(&self, timeout: Duration, last: impl Fn(&Rec) -> bool) -> Vec<Rec> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Some(e) => {
                    let done = last(&e);
                    seen.push(e);
                    if done {
                        return seen;
                    }
                }
                None => panic!("the expected X event did not arrive; got {seen:?}"),
            }
        }
    }

    /// The text typed, from the key events in `events`.
    pub fn typed(events: &[Rec]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                Rec::Key { ch, .. } => *ch,
                _ => None,
            })
            .collect()
    }
}
