//! Injects validated events into the X server through the XTest extension, on a connection of
//! its own (the screen source's connection stays free for capture). One lock serialises all
//! viewers' events, so a click can never interleave with another's drag.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::xkb::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{self, ConnectionExt as _};
use x11rb::protocol::xtest::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

use super::keycodes::Numbering;
use super::keymap::{self, Keymap, Place};
use super::spare::{self, Pool};
use super::{Event, Held, Key, Press, Spot};
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
pub(super) fn display_failed(e: impl fmt::Display) -> InjectError {
    InjectError::Display(format!("X display lost: {e}"))
}

/// The live connection and what we changed on the server.
struct Link {
    conn: RustConnection,
    root: xproto::Window,
    /// How this server numbers physical keys.
    numbering: Numbering,
    /// Spare keycodes bound to characters. They stay bound (until exit or until recycled)
    /// instead of being reverted right after the key press as xdotool does: a client that
    /// refreshes its keymap on MappingNotify reads the *current* map, and a reverted binding
    /// makes it see the wrong character (or none).
    pool: Pool,
    /// Keycodes we hold down: never rebound while pressed.
    pressed: HashSet<u8>,
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

    /// Runs `f` on the link, and returns once the X server has processed what it sent (one
    /// round trip), so events of consecutive requests keep their order and a 204 means "done".
    fn with_link<T>(
        &self,
        mut f: impl FnMut(&mut Link) -> Result<T, InjectError>,
    ) -> Result<T, InjectError> {
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
            let result = f(link).and_then(|value| link.sync().map(|()| value));
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

    /// Injects `event`, mapping picture fractions onto `area` of the X screen.
    pub fn inject(&self, event: &Event, area: Region) -> Result<(), InjectError> {
        self.with_link(|link| link.inject(event, area))
    }

    /// The keycode `key` is pressed with: its physical position, or for a keysym (and on a
    /// server without known numbering) a key of the current map, bound to a spare keycode if
    /// the layout lacks it.
    pub fn keycode(&self, key: Key) -> Result<u8, InjectError> {
        self.with_link(|link| link.keycode(key))
    }

    /// Presses or releases one key or button, without moving the pointer.
    pub fn press(&self, held: Held, down: bool) -> Result<(), InjectError> {
        self.with_link(|link| match held {
            Held::Button(b) => link.button(b, down),
            Held::Key(k) => link.key(k, down),
        })
    }

    /// How the X server numbers physical keys (`None` while disconnected).
    pub fn numbering(&self) -> Option<Numbering> {
        self.lock().as_ref().map(|l| l.numbering.clone())
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        if let Some(link) = self.lock().as_mut() {
            link.pool.release(&link.conn, link.root);
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
        let numbering = numbering(&conn)?;
        if numbering == Numbering::Evdev {
            log::debug!("X display {name}: {}", numbering.describe());
        } else {
            log::info!("X display {name}: {}", numbering.describe());
        }
        let pool = Pool::open(&conn, root)?;
        Ok(Link {
            conn,
            root,
            numbering,
            pool,
            pressed: HashSet::new(),
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

    /// Moves the pointer by fractions of `area` from where it is, staying inside `area` (a
    /// pointer outside it, moved there by someone else, comes to its nearest edge).
    fn move_by(&self, dx: f64, dy: f64, area: Region) -> Result<(), InjectError> {
        let now = self
            .conn
            .query_pointer(self.root)
            .map_err(display_failed)?
            .reply()
            .map_err(display_failed)?;
        let step = |d: f64, len: u32| (d * f64::from(len)).round() as i64;
        let (x, y) = super::nearest_in(
            area,
            i64::from(now.root_x) + step(dx, area.width),
            i64::from(now.root_y) + step(dy, area.height),
        );
        self.fake(MOTION, 0, x, y)
    }

    fn button(&self, b: u8, down: bool) -> Result<(), InjectError> {
        self.fake(if down { BUTTON_PRESS } else { BUTTON_RELEASE }, b, 0, 0)
    }

    fn click(&self, b: u8) -> Result<(), InjectError> {
        self.button(b, true)?;
        self.button(b, false)
    }

    fn key(&mut self, keycode: u8, down: bool) -> Result<(), InjectError> {
        if down {
            self.pressed.insert(keycode);
        } else {
            self.pressed.remove(&keycode);
        }
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

    /// Where `sym` is typed: a key of `map`, or a spare keycode bound to it (then `map` is read
    /// again, as the binding changed it). Only plain places unless `shift_ok`.
    fn place(&mut self, map: &mut Keymap, sym: u32, shift_ok: bool) -> Result<Place, InjectError> {
        if let Some(p) = map.find(sym).filter(|p| shift_ok || !p.shift) {
            return Ok(p);
        }
        let place = self
            .pool
            .place_for(&self.conn, self.root, sym, &self.pressed, shift_ok)?;
        *map = spare::read_keymap(&self.conn)?;
        Ok(place)
    }

    fn keycode(&mut self, key: Key) -> Result<u8, InjectError> {
        let sym = match key {
            Key::Code(physical) => match self.numbering.keycode(physical) {
                Some(keycode) => return Ok(keycode),
                None if physical.us_keysym == 0 => {
                    return Err(InjectError::Keyboard(format!(
                        "this X server has no key {}",
                        physical.code
                    )));
                }
                None => physical.us_keysym,
            },
            Key::Keysym(sym) => sym,
        };
        // The key of the keysym as the layout has it, pressed alone: a keysym event carries no
        // Shift (a layout's shifted keysym gives the key's plain one; Shift is a key of its own).
        let mut map = spare::read_keymap(&self.conn)?;
        let in_layout = map.find(sym).map(|p| p.keycode);
        match in_layout {
            Some(keycode) => Ok(keycode),
            None => Ok(self.place(&mut map, sym, false)?.keycode),
        }
    }

    fn press_key(&mut self, key: Key, press: Press) -> Result<(), InjectError> {
        let keycode = self.keycode(key)?;
        if press != Press::Up {
            self.key(keycode, true)?;
        }
        if press != Press::Down {
            self.key(keycode, false)?;
        }
        Ok(())
    }

    fn type_text(&mut self, text: &str) -> Result<(), InjectError> {
        let mut map = spare::read_keymap(&self.conn)?;
        let shift = map.find(SHIFT_L).filter(|p| !p.shift).map(|p| p.keycode);
        for c in text.chars() {
            // Validated at parsing; a character without a keysym cannot reach here.
            let Some(sym) = keymap::char_keysym(c) else {
                continue;
            };
            // Without a Shift key, a shifted character gets a plain spare place instead.
            let place = self.place(&mut map, sym, shift.is_some())?;
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
            Event::MoveBy { dx, dy } => self.move_by(*dx, *dy, area),
            Event::Button(b, press) => {
                if *press != Press::Up {
                    self.button(b.x_button(), true)?;
                }
                if *press != Press::Down {
                    self.button(b.x_button(), false)?;
                }
                Ok(())
            }
            Event::Combo(keys) => {
                let mut codes = Vec::new();
                for &key in keys {
                    codes.push(self.keycode(key)?);
                }
                for &k in &codes {
                    self.key(k, true)?;
                }
                for &k in codes.iter().rev() {
                    self.key(k, false)?;
                }
                Ok(())
            }
        }
    }
}

/// Asks the server how it numbers keys: by XKB key names when it has XKB, else by a look at the
/// core map.
fn numbering(conn: &RustConnection) -> Result<Numbering, InjectError> {
    let has_xkb = conn
        .extension_information(xkb::X11_EXTENSION_NAME)
        .map_err(display_failed)?
        .is_some();
    if has_xkb {
        let supported = conn
            .xkb_use_extension(1, 0)
            .map_err(display_failed)?
            .reply()
            .map_err(display_failed)?
            .supported;
        if supported {
            let reply = conn
                .xkb_get_names(xkb::ID::USE_CORE_KBD.into(), xkb::NameDetail::KEY_NAMES)
                .map_err(display_failed)?
                .reply()
                .map_err(display_failed)?;
            let names: Vec<(u8, String)> = reply
                .value_list
                .key_names
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter_map(|(i, k)| {
                    let keycode = u8::try_from(usize::from(reply.first_key) + i).ok()?;
                    let name = String::from_utf8_lossy(&k.name);
                    let name = name.trim_end_matches('\0');
                    (!name.is_empty()).then(|| (keycode, name.to_string()))
                })
                .collect();
            if !names.is_empty() {
                return Ok(Numbering::from_names(&names));
            }
        }
    }
    Ok(Numbering::from_core(&spare::read_keymap(conn)?))
}
