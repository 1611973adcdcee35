//! Injects validated events into the X server through the XTest extension, on a connection of
//! its own (the screen source's connection stays free for capture). One lock serialises all
//! viewers' events, so a click can never interleave with another's drag.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::protocol::xtest::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

use super::keymap::{self, Keymap, Place};
use super::{Event, Key, Press, Spot};
use crate::geometry::Region;
use crate::sync::lock;

const KEY_PRESS: u8 = xproto::KEY_PRESS_EVENT;
const KEY_RELEASE: u8 = xproto::KEY_RELEASE_EVENT;
const BUTTON_PRESS: u8 = xproto::BUTTON_PRESS_EVENT;
const BUTTON_RELEASE: u8 = xproto::BUTTON_RELEASE_EVENT;
const MOTION: u8 = xproto::MOTION_NOTIFY_EVENT;
const SHIFT_L: u32 = 0xffe1;

/// Why an event could not be injected. Both are the server's side, not the client's: 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectError {
    /// The X display cannot be reached or lacks XTest; the next event tries to reconnect.
    Display(String),
    /// The keyboard map has no room for a character (every keycode is in use).
    Keyboard(String),
}

impl fmt::Display for InjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InjectError::Display(m) | InjectError::Keyboard(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for InjectError {}

/// Any X failure while injecting: the display is gone or refused; the next event reconnects.
fn display_failed(e: impl fmt::Display) -> InjectError {
    InjectError::Display(format!("X display lost: {e}"))
}

/// The live connection and what we changed on the server.
struct Link {
    conn: RustConnection,
    root: xproto::Window,
    /// Spare keycodes we bound to characters, oldest first. They stay bound (until exit or
    /// until recycled) instead of being reverted right after the key press as xdotool does:
    /// a client that refreshes its keymap on MappingNotify reads the *current* map, and a
    /// reverted binding makes it see the wrong character (or none).
    bound: VecDeque<u8>,
}

/// Injects events into one X display. Cheap to share: all methods take `&self`.
pub struct Injector {
    display: Option<String>,
    link: Mutex<Option<Link>>,
}

impl Injector {
    /// Connects to `display` (or `$DISPLAY`) and checks for XTest, so a server without it is
    /// one clear message at start.
    pub fn connect(display: Option<&str>) -> Result<Injector, InjectError> {
        let link = Link::open(display)?;
        Ok(Injector {
            display: display.map(str::to_string),
            link: Mutex::new(Some(link)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Link>> {
        // A panic elsewhere leaves a usable connection (or None, which reconnects).
        lock(&self.link)
    }

    /// Injects `event`, mapping picture fractions onto `area` of the X screen, and returns once
    /// the X server has processed it (one round trip), so events of consecutive requests keep
    /// their order and a 204 means "done".
    pub fn inject(&self, event: &Event, area: Region) -> Result<(), InjectError> {
        let mut guard = self.lock();
        // A link that was already open may lead to an X server that has since restarted: its
        // first failure reconnects and tries once more, so the user's first click after the
        // picture came back is not lost. Nothing sent on the dead link reached the new server.
        let mut fresh = guard.is_none();
        loop {
            if guard.is_none() {
                *guard = Some(Link::open(self.display.as_deref())?);
            }
            let Some(link) = guard.as_mut() else {
                return Err(InjectError::Display("X display not connected".into()));
            };
            let result = link.inject(event, area).and_then(|()| link.sync());
            if let Err(InjectError::Display(_)) = &result {
                *guard = None;
                if !fresh {
                    fresh = true;
                    continue;
                }
            }
            return result;
        }
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        if let Some(link) = self.lock().as_mut() {
            link.unbind_all();
        }
    }
}

impl Link {
    fn open(display: Option<&str>) -> Result<Link, InjectError> {
        let name = display.unwrap_or("$DISPLAY");
        let (conn, screen) = x11rb::connect(display)
            .map_err(|e| InjectError::Display(format!("cannot open X display {name}: {e}")))?;
        let has_xtest = conn
            .extension_information(xtest::X11_EXTENSION_NAME)
            .map_err(display_failed)?
            .is_some();
        if !has_xtest {
            return Err(InjectError::Display(format!(
                "X display {name} has no XTest extension, so input cannot be injected"
            )));
        }
        let root = conn
            .setup()
            .roots
            .get(screen)
            .map(|s| s.root)
            .ok_or_else(|| InjectError::Display(format!("X display {name} has no screen")))?;
        Ok(Link {
            conn,
            root,
            bound: VecDeque::new(),
        })
    }

    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) -> Result<(), InjectError> {
        // time 0 = CurrentTime: the server stamps the event when it processes it.
        self.conn
            .xtest_fake_input(kind, detail, 0, self.root, x, y, 0)
            .map_err(display_failed)?;
        Ok(())
    }

    fn move_to(&self, spot: Spot, area: Region) -> Result<(), InjectError> {
        let (x, y) = spot.to_screen(area);
        // detail 0: absolute coordinates on `root` (XTest spec, FakeInput).
        self.fake(MOTION, 0, x, y)
    }

    fn button(&self, b: u8, down: bool) -> Result<(), InjectError> {
        self.fake(if down { BUTTON_PRESS } else { BUTTON_RELEASE }, b, 0, 0)
    }

    fn click(&self, b: u8) -> Result<(), InjectError> {
        self.button(b, true)?;
        self.button(b, false)
    }

    fn key(&self, keycode: u8, down: bool) -> Result<(), InjectError> {
        self.fake(if down { KEY_PRESS } else { KEY_RELEASE }, keycode, 0, 0)
    }

    /// Waits until the server has processed everything sent so far.
    fn sync(&self) -> Result<(), InjectError> {
        self.conn
            .get_input_focus()
            .map_err(display_failed)?
            .reply()
            .map_err(display_failed)?;
        Ok(())
    }

    fn keymap(&self) -> Result<Keymap, InjectError> {
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let count = max.saturating_sub(min).saturating_add(1);
        let reply = self
            .conn
            .get_keyboard_mapping(min, count)
            .map_err(display_failed)?
            .reply()
            .map_err(display_failed)?;
        Ok(Keymap {
            min_keycode: min,
            per_keycode: reply.keysyms_per_keycode as usize,
            keysyms: reply.keysyms,
        })
    }

    /// Binds `sym` to a spare keycode (unshifted and shifted), as xdotool does for characters
    /// missing from the layout, and returns it. Recycles our oldest binding when none is free.
    fn bind(&mut self, map: &Keymap, sym: u32) -> Result<u8, InjectError> {
        let keycode = match map
            .spare_keycodes()
            .into_iter()
            .find(|k| !self.bound.contains(k))
        {
            Some(k) => k,
            None => self.bound.pop_front().ok_or_else(|| {
                InjectError::Keyboard(
                    "the keyboard map has no spare keycode to type this character".into(),
                )
            })?,
        };
        let mut row = vec![0u32; map.per_keycode.max(2)];
        row[0] = sym;
        row[1] = sym;
        self.conn
            .change_keyboard_mapping(1, keycode, row.len() as u8, &row)
            .map_err(display_failed)?
            .check()
            .map_err(|e| InjectError::Keyboard(format!("cannot change the keyboard map: {e}")))?;
        self.bound.push_back(keycode);
        Ok(keycode)
    }

    fn unbind_all(&mut self) {
        let per = self.keymap().map_or(2, |m| m.per_keycode.max(2));
        let row = vec![0u32; per];
        for keycode in self.bound.drain(..) {
            let _ = self
                .conn
                .change_keyboard_mapping(1, keycode, per as u8, &row);
        }
        let _ = self.conn.flush();
    }

    /// Where `sym` is typed, binding a spare keycode when the layout lacks it. The map is read
    /// fresh for every key event: another client (setxkbmap) may have changed it.
    fn place(&mut self, map: &mut Keymap, sym: u32) -> Result<Place, InjectError> {
        if let Some(p) = map.find(sym) {
            return Ok(p);
        }
        let keycode = self.bind(map, sym)?;
        *map = self.keymap()?;
        Ok(Place {
            keycode,
            shift: false,
        })
    }

    fn press_key(&mut self, key: Key, press: Press) -> Result<(), InjectError> {
        let mut map = self.keymap()?;
        // The physical key, without Shift: the page sends Shift as a key of its own.
        let place = self.place(&mut map, key.keysym())?;
        if press != Press::Up {
            self.key(place.keycode, true)?;
        }
        if press != Press::Down {
            self.key(place.keycode, false)?;
        }
        Ok(())
    }

    fn type_text(&mut self, text: &str) -> Result<(), InjectError> {
        let mut map = self.keymap()?;
        let shift = map.find(SHIFT_L).filter(|p| !p.shift).map(|p| p.keycode);
        for c in text.chars() {
            // Validated at parsing; a character without a keysym cannot reach here.
            let Some(sym) = keymap::char_keysym(c) else {
                continue;
            };
            let mut place = self.place(&mut map, sym)?;
            if place.shift && shift.is_none() {
                place = Place {
                    keycode: self.bind(&map, sym)?,
                    shift: false,
                };
                map = self.keymap()?;
            }
            let shift = shift.filter(|_| place.shift);
            if let Some(s) = shift {
                self.key(s, true)?;
            }
            self.key(place.keycode, true)?;
            self.key(place.keycode, false)?;
            if let Some(s) = shift {
                self.key(s, false)?;
            }
        }
        Ok(())
    }

    fn inject(&mut self, event: &Event, area: Region) -> Result<(), InjectError> {
        match event {
            Event::Move(at) => self.move_to(*at, area),
            Event::Down(at, b) | Event::Up(at, b) => {
                self.move_to(*at, area)?;
                self.button(b.x_button(), matches!(event, Event::Down(..)))
            }
            Event::Click(at, b) => {
                self.move_to(*at, area)?;
                self.click(b.x_button())
            }
            Event::DoubleClick(at, b) => {
                self.move_to(*at, area)?;
                self.click(b.x_button())?;
                self.click(b.x_button())
            }
            Event::Wheel { at, dx, dy } => {
                if let Some(at) = at {
                    self.move_to(*at, area)?;
                }
                // X core wheel convention: 4 up, 5 down, 6 left, 7 right, one click per step.
                let vertical = if *dy > 0 { 5 } else { 4 };
                for _ in 0..dy.unsigned_abs() {
                    self.click(vertical)?;
                }
                let horizontal = if *dx > 0 { 7 } else { 6 };
                for _ in 0..dx.unsigned_abs() {
                    self.click(horizontal)?;
                }
                Ok(())
            }
            Event::Key(key, press) => self.press_key(*key, *press),
            Event::Text(text) => self.type_text(text),
        }
    }
}
