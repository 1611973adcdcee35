//! Remote control: the events a viewer may send, validated at the HTTP border (see
//! `http::event_form`) into an [`Event`], handed to the [`Controller`] (viewer sessions, held
//! keys and buttons, the audit log) and injected into the X server by [`xtest::Injector`]. This
//! module knows nothing of HTTP; coordinate mapping, sessions and key tables are pure and
//! unit-tested; only `xtest.rs` and `spare.rs` talk to X.

pub mod controller;
pub mod keycodes;
pub mod keymap;
pub mod session;
mod spare;
pub mod xtest;

use crate::geometry::Region;

pub use controller::{Action, ControlError, Controller};
pub use keycodes::PhysicalKey;
pub use session::Viewer;
pub use xtest::{InjectError, Injector};

/// Longest `text` we type in one request, in characters.
pub const MAX_TEXT_CHARS: usize = 1024;
/// Largest wheel step count in one request, either direction.
pub const MAX_WHEEL_STEPS: i32 = 100;
/// Most keys in one key combination (Ctrl+Alt+Del is three; Ctrl+Shift+Alt+Super+key five).
pub const MAX_COMBO_KEYS: usize = 6;

/// A pointer button, named as the page and the tutorial name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Button {
    Left,
    Middle,
    Right,
    /// The "back" and "forward" side buttons (`MouseEvent.button` 3 and 4).
    Back,
    Forward,
}

impl Button {
    /// The X core button number (xproto: 1 left, 2 middle, 3 right; 8/9 side buttons as evdev
    /// and xf86-input-libinput map them).
    pub fn x_button(self) -> u8 {
        match self {
            Button::Left => 1,
            Button::Middle => 2,
            Button::Right => 3,
            Button::Back => 8,
            Button::Forward => 9,
        }
    }
}

/// A spot on the streamed picture as fractions of its width and height, both in 0..=1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spot {
    pub x: f64,
    pub y: f64,
}

impl Spot {
    /// The X screen pixel under this spot when `area` is what is streamed. Fraction 1.0 is the
    /// far edge, so it lands on the last pixel rather than one past it.
    pub fn to_screen(self, area: Region) -> (i16, i16) {
        let x = (self.x * area.width as f64).floor() as i64 + i64::from(area.x);
        let y = (self.y * area.height as f64).floor() as i64 + i64::from(area.y);
        nearest_in(area, x, y)
    }
}

/// The pixel of `area` nearest to screen point (`x`, `y`): a point outside moves to the nearest
/// edge, and the far edge is the last pixel, not one past it.
pub fn nearest_in(area: Region, x: i64, y: i64) -> (i16, i16) {
    let axis = |v: i64, origin: u32, len: u32| -> i16 {
        let (first, last) = (
            i64::from(origin),
            i64::from(origin) + i64::from(len.max(1)) - 1,
        );
        v.clamp(first, last).clamp(0, i16::MAX as i64) as i16
    };
    (axis(x, area.x, area.width), axis(y, area.y, area.height))
}

/// What a key event names: a physical key (`KeyboardEvent.code`) or an X keysym.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Code(&'static PhysicalKey),
    Keysym(u32),
}

/// Something a viewer can hold down on the X server: a pointer button (X button number) or a
/// key (X keycode, as pressed, so the release names the same key whatever the map does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Held {
    Button(u8),
    Key(u8),
}

/// Press, release, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Press {
    Down,
    Up,
    Both,
}

/// One validated control event.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Move(Spot),
    Down(Spot, Button),
    Up(Spot, Button),
    Click(Spot, Button),
    DoubleClick(Spot, Button),
    /// Wheel steps: positive `dy` scrolls down (X button 5), positive `dx` right (button 7).
    Wheel {
        at: Option<Spot>,
        dx: i32,
        dy: i32,
    },
    Key(Key, Press),
    Text(String),
    /// Relative pointer motion (the page's touchpad mode), as fractions of the streamed
    /// picture's width and height; the pointer stays inside the streamed area.
    MoveBy {
        dx: f64,
        dy: f64,
    },
    /// A button pressed, released or clicked where the pointer is now (touchpad mode's tap).
    Button(Button, Press),
    /// Keys pressed in order and released in reverse, in one request (Ctrl+Alt+Del): nothing
    /// from another viewer comes between, and nothing stays held if the page goes away.
    Combo(Vec<Key>),
}

impl Event {
    /// The event's `type` as the form names it, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Move(_) | Event::MoveBy { .. } => "move",
            Event::Button(_, Press::Down) => "down",
            Event::Button(_, Press::Up) => "up",
            Event::Button(_, Press::Both) => "click",
            Event::Combo(_) => "combo",
            Event::Down(..) => "down",
            Event::Up(..) => "up",
            Event::Click(..) => "click",
            Event::DoubleClick(..) => "dblclick",
            Event::Wheel { .. } => "wheel",
            Event::Key(..) => "key",
            Event::Text(_) => "text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spots_map_to_the_streamed_area() {
        let screen = |width, height| Region {
            x: 0,
            y: 0,
            width,
            height,
        };
        let at = Spot { x: 0.25, y: 0.5 };
        assert_eq!(at.to_screen(screen(1920, 1080)), (480, 540));
        assert_eq!(at.to_screen(screen(1280, 1024)), (320, 512));
        // The far edge is the last pixel, not one past it.
        assert_eq!(
            Spot { x: 1.0, y: 1.0 }.to_screen(screen(1920, 1080)),
            (1919, 1079)
        );
        assert_eq!(Spot { x: 0.0, y: 0.0 }.to_screen(screen(800, 600)), (0, 0));
        // A --region or monitor is offset on the X screen.
        let right_monitor = Region {
            x: 1920,
            y: 100,
            width: 1280,
            height: 1024,
        };
        assert_eq!(at.to_screen(right_monitor), (1920 + 320, 100 + 512));
    }

    #[test]
    fn relative_moves_stay_in_the_streamed_area() {
        let area = Region {
            x: 100,
            y: 200,
            width: 400,
            height: 300,
        };
        assert_eq!(nearest_in(area, 250, 300), (250, 300));
        assert_eq!(nearest_in(area, 0, 0), (100, 200));
        assert_eq!(nearest_in(area, 10_000, 10_000), (499, 499));
        assert_eq!(nearest_in(area, -5, 499), (100, 499));
    }
}
