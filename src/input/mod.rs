//! Remote control: what a viewer may ask for (`POST /input`), validated once at the border into
//! an [`Event`], then injected into the X server by [`xtest::Injector`].
//!
//! Parsing and coordinate mapping are pure and unit-tested here; only `xtest.rs` talks to X.

pub mod keymap;
pub mod xtest;

use std::fmt;

use crate::config::Region;
use crate::http::query::Query;

pub use xtest::{InjectError, Injector};

/// Longest `text` we type in one request, in characters.
pub const MAX_TEXT_CHARS: usize = 1024;
/// Largest wheel step count in one request, either direction.
pub const MAX_WHEEL_STEPS: i32 = 100;

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

    fn parse(text: &str) -> Result<Button, String> {
        Ok(match text {
            "left" => Button::Left,
            "middle" => Button::Middle,
            "right" => Button::Right,
            "back" => Button::Back,
            "forward" => Button::Forward,
            other => {
                return Err(format!(
                    "button={other:?}: expected left, middle, right, back or forward"
                ));
            }
        })
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
        let axis = |f: f64, origin: u32, len: u32| -> i16 {
            let offset = ((f * len as f64).floor() as i64).clamp(0, len.saturating_sub(1) as i64);
            (origin as i64 + offset).clamp(0, i16::MAX as i64) as i16
        };
        (
            axis(self.x, area.x, area.width),
            axis(self.y, area.y, area.height),
        )
    }
}

/// What a key event names: a physical key (`KeyboardEvent.code`) or an X keysym.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Code(&'static str, u32),
    Keysym(u32),
}

impl Key {
    pub fn keysym(self) -> u32 {
        match self {
            Key::Code(_, sym) | Key::Keysym(sym) => sym,
        }
    }
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
}

/// Why a request was refused: one line for the 400 answer.
#[derive(Debug, PartialEq, Eq)]
pub struct BadEvent(pub String);

impl fmt::Display for BadEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn fraction(q: &Query, key: &str) -> Result<f64, String> {
    let text = q
        .get(key)
        .ok_or_else(|| format!("{key} is missing: give a fraction of the picture from 0 to 1"))?;
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "{key}={:?}: expected a number from 0 to 1",
            short(text)
        )),
    }
}

/// Echoes at most 40 characters of a client's value, so a reason stays one short line.
fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

fn spot(q: &Query, xkey: &str, ykey: &str) -> Result<Spot, String> {
    Ok(Spot {
        x: fraction(q, xkey)?,
        y: fraction(q, ykey)?,
    })
}

fn steps(q: &Query, key: &str) -> Result<i32, String> {
    match q.get(key) {
        None => Ok(0),
        Some(text) => match text.trim().parse::<i32>() {
            Ok(v) if (-MAX_WHEEL_STEPS..=MAX_WHEEL_STEPS).contains(&v) => Ok(v),
            _ => Err(format!(
                "{key}={:?}: expected a whole number from -{MAX_WHEEL_STEPS} to {MAX_WHEEL_STEPS}",
                short(text)
            )),
        },
    }
}

fn button(q: &Query) -> Result<Button, String> {
    q.get("button").map_or(Ok(Button::Left), Button::parse)
}

fn key(q: &Query) -> Result<Key, String> {
    match (q.get("code"), q.get("keysym")) {
        (Some(_), Some(_)) => Err("give code or keysym, not both".into()),
        (Some(code), None) => keymap::code_keysym(code)
            .map(|(name, sym)| Key::Code(name, sym))
            .ok_or_else(|| {
                format!(
                    "code={:?}: not a KeyboardEvent.code we know (like KeyA, Enter, ShiftLeft, F5)",
                    short(code)
                )
            }),
        (None, Some(text)) => {
            let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => text.parse::<u32>().ok(),
            };
            // Keysyms are 29-bit (X11 protocol, appendix A); 0 is NoSymbol.
            match parsed {
                Some(sym) if sym != 0 && sym < 0x2000_0000 => Ok(Key::Keysym(sym)),
                _ => Err(format!(
                    "keysym={:?}: expected an X keysym like 0xff0d",
                    short(text)
                )),
            }
        }
        (None, None) => Err("key needs code (a KeyboardEvent.code) or keysym".into()),
    }
}

fn text(q: &Query) -> Result<String, String> {
    let text = q.get("text").ok_or("text is missing")?;
    let count = text.chars().count();
    if count == 0 {
        return Err("text is empty".into());
    }
    if count > MAX_TEXT_CHARS {
        return Err(format!(
            "text has {count} characters; at most {MAX_TEXT_CHARS} per request"
        ));
    }
    if let Some(c) = text.chars().find(|&c| keymap::char_keysym(c).is_none()) {
        return Err(format!(
            "text contains U+{:04X}, a control character that cannot be typed",
            c as u32
        ));
    }
    Ok(text.to_string())
}

/// Parses one `application/x-www-form-urlencoded` body of `POST /input`. Unknown keys are
/// ignored (forward compatibility); keys we act on are checked strictly.
pub fn parse_form(body: &[u8]) -> Result<Event, BadEvent> {
    let body = std::str::from_utf8(body).map_err(|_| BadEvent("body is not UTF-8".into()))?;
    parse_query(&Query::parse(body)).map_err(BadEvent)
}

fn parse_query(q: &Query) -> Result<Event, String> {
    let kind = q
        .get("type")
        .ok_or("type is missing: expected move, down, up, click, dblclick, wheel, key or text")?;
    Ok(match kind {
        "move" => Event::Move(spot(q, "x", "y")?),
        "down" => Event::Down(spot(q, "x", "y")?, button(q)?),
        "up" => Event::Up(spot(q, "x", "y")?, button(q)?),
        "click" => Event::Click(spot(q, "x", "y")?, button(q)?),
        "dblclick" => Event::DoubleClick(spot(q, "x", "y")?, button(q)?),
        "wheel" => {
            let at = match (q.get("x"), q.get("y")) {
                (None, None) => None,
                _ => Some(spot(q, "x", "y")?),
            };
            let (dx, dy) = (steps(q, "dx")?, steps(q, "dy")?);
            if dx == 0 && dy == 0 {
                return Err("wheel needs a non-zero dx or dy".into());
            }
            Event::Wheel { at, dx, dy }
        }
        "key" => {
            let press = match q.get("down") {
                None => Press::Both,
                Some("1") => Press::Down,
                Some("0") => Press::Up,
                Some(other) => {
                    return Err(format!("down={:?}: expected 1 or 0", short(other)));
                }
            };
            Event::Key(key(q)?, press)
        }
        "text" => Event::Text(text(q)?),
        other => {
            return Err(format!(
                "type={:?}: expected move, down, up, click, dblclick, wheel, key or text",
                short(other)
            ));
        }
    })
}

/// The tutorial's `POST /pointer?xrate=..&yrate=..`: a left click.
pub fn parse_pointer(query: &str) -> Result<Event, BadEvent> {
    let q = Query::parse(query);
    spot(&q, "xrate", "yrate")
        .map(|s| Event::Click(s, Button::Left))
        .map_err(BadEvent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Event {
        parse_form(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))
    }
    fn bad(body: &str) -> String {
        match parse_form(body.as_bytes()) {
            Ok(e) => panic!("{body} parsed as {e:?}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn pointer_events() {
        let at = Spot { x: 0.25, y: 0.5 };
        assert_eq!(ok("type=move&x=0.25&y=0.5"), Event::Move(at));
        assert_eq!(
            ok("type=click&x=0.25&y=0.5"),
            Event::Click(at, Button::Left)
        );
        assert_eq!(
            ok("type=down&x=0.25&y=0.5&button=right"),
            Event::Down(at, Button::Right)
        );
        assert_eq!(
            ok("type=up&x=.25&y=5e-1&button=middle"),
            Event::Up(at, Button::Middle)
        );
        assert_eq!(
            ok("type=dblclick&x=0&y=1"),
            Event::DoubleClick(Spot { x: 0.0, y: 1.0 }, Button::Left)
        );
        // Unknown keys and cache-busters are ignored.
        assert_eq!(ok("type=move&x=0.25&y=0.5&t=123&1699"), Event::Move(at));
    }

    #[test]
    fn wheel_keys_text() {
        assert_eq!(
            ok("type=wheel&dy=3"),
            Event::Wheel {
                at: None,
                dx: 0,
                dy: 3
            }
        );
        assert_eq!(
            ok("type=wheel&dx=-2&x=0.5&y=0.5"),
            Event::Wheel {
                at: Some(Spot { x: 0.5, y: 0.5 }),
                dx: -2,
                dy: 0
            }
        );
        assert_eq!(
            ok("type=key&code=KeyA"),
            Event::Key(Key::Code("KeyA", 0x61), Press::Both)
        );
        assert_eq!(
            ok("type=key&code=ShiftLeft&down=1"),
            Event::Key(Key::Code("ShiftLeft", 0xffe1), Press::Down)
        );
        assert_eq!(
            ok("type=key&keysym=0xff0d&down=0"),
            Event::Key(Key::Keysym(0xff0d), Press::Up)
        );
        assert_eq!(
            ok("type=text&text=Hello%2C+w%C3%B6rld%21"),
            Event::Text("Hello, wörld!".into())
        );
        assert_eq!(ok("type=text&text=a%0Ab"), Event::Text("a\nb".into()));
    }

    #[test]
    fn bad_requests_say_why() {
        for (body, needle) in [
            ("", "type is missing"),
            ("type=explode", "type=\"explode\""),
            ("type=move&x=0.5", "y is missing"),
            ("type=move&x=NaN&y=0.5", "x=\"NaN\""),
            ("type=move&x=inf&y=0.5", "x=\"inf\""),
            ("type=move&x=1.5&y=0.5", "from 0 to 1"),
            ("type=move&x=-0.1&y=0.5", "from 0 to 1"),
            ("type=move&x=abc&y=0.5", "x="),
            ("type=click&x=0.5&y=0.5&button=thumb", "button="),
            ("type=wheel&dy=101", "dy="),
            ("type=wheel&dy=1.5", "dy="),
            ("type=wheel", "non-zero"),
            ("type=key&code=KeyÄ", "code="),
            ("type=key&code=KeyA&down=2", "down="),
            ("type=key", "code"),
            ("type=key&keysym=0", "keysym="),
            ("type=key&keysym=0x7fffffff", "keysym="),
            ("type=text", "text is missing"),
            ("type=text&text=", "empty"),
            ("type=text&text=a%07b", "U+0007"),
        ] {
            let why = bad(body);
            assert!(why.contains(needle), "{body:?} gave {why:?}");
            assert!(!why.contains('\n'), "{why:?}");
        }
        let long = format!("type=text&text={}", "x".repeat(MAX_TEXT_CHARS + 1));
        assert!(bad(&long).contains("at most"));
        let exact = format!("type=text&text={}", "ö".repeat(MAX_TEXT_CHARS));
        assert!(matches!(ok(&exact), Event::Text(_)));
        assert!(parse_form(b"type=move&x=\xff").is_err());
        // A client's long junk is not echoed back in full.
        assert!(bad(&format!("type={}", "z".repeat(500))).len() < 150);
    }

    #[test]
    fn tutorial_pointer() {
        assert_eq!(
            parse_pointer("xrate=0.25&yrate=0.5"),
            Ok(Event::Click(Spot { x: 0.25, y: 0.5 }, Button::Left))
        );
        assert!(parse_pointer("xrate=2&yrate=0.5").is_err());
        assert!(parse_pointer("").is_err());
    }

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
}
