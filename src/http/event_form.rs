//! Turns a `POST /input` form (or the tutorial's `POST /pointer` query) into an
//! [`input::Event`]: the border where a viewer's text becomes a validated event. Unknown keys
//! are ignored (forward compatibility, cache-busters); keys we act on are checked strictly and a
//! refusal is one short line for the 400 answer.

use std::fmt;

use super::query::Query;
use crate::input::{
    Action, Button, Event, Key, MAX_COMBO_KEYS, MAX_TEXT_CHARS, MAX_WHEEL_STEPS, Press, Spot,
    keycodes, keymap,
};

/// Why a request was refused: one line for the 400 answer.
#[derive(Debug, PartialEq, Eq)]
pub struct BadEvent(pub String);

impl fmt::Display for BadEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn button_named(text: &str) -> Result<Button, String> {
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

/// Where a button event happens: at `x`, `y`, or with neither where the pointer is now.
fn spot_or_here(q: &Query) -> Result<Option<Spot>, String> {
    match (q.get("x"), q.get("y")) {
        (None, None) => Ok(None),
        _ => spot(q, "x", "y").map(Some),
    }
}

/// A relative distance: a fraction of the picture from -1 to 1 (absent: 0).
fn distance(q: &Query, key: &str) -> Result<f64, String> {
    match q.get(key) {
        None => Ok(0.0),
        Some(text) => match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (-1.0..=1.0).contains(&v) => Ok(v),
            _ => Err(format!(
                "{key}={:?}: expected a fraction of the picture from -1 to 1",
                short(text)
            )),
        },
    }
}

/// `move`: to `x`, `y`, or by `dx`, `dy` (touchpad mode).
fn motion(q: &Query) -> Result<Event, String> {
    let absolute = q.get("x").is_some() || q.get("y").is_some();
    let relative = q.get("dx").is_some() || q.get("dy").is_some();
    match (absolute, relative) {
        (true, true) => Err("move takes x and y, or dx and dy, not both".into()),
        (false, true) => {
            let (dx, dy) = (distance(q, "dx")?, distance(q, "dy")?);
            if dx == 0.0 && dy == 0.0 {
                return Err("move needs a non-zero dx or dy".into());
            }
            Ok(Event::MoveBy { dx, dy })
        }
        _ => spot(q, "x", "y").map(Event::Move),
    }
}

/// `combo`: `codes`, comma-separated `KeyboardEvent.code`s, pressed in order.
fn combo(q: &Query) -> Result<Event, String> {
    let codes = q
        .get("codes")
        .ok_or("codes is missing: give KeyboardEvent.codes separated by commas, like ControlLeft,AltLeft,Delete")?;
    let mut keys = Vec::new();
    for code in codes.split(',').map(str::trim) {
        let physical = keycodes::physical(code).ok_or_else(|| {
            format!(
                "codes: {:?} is not a KeyboardEvent.code we know (like ControlLeft, AltLeft, Delete)",
                short(code)
            )
        })?;
        let key = Key::Code(physical);
        if keys.contains(&key) {
            return Err(format!("codes: {code} is given twice"));
        }
        keys.push(key);
    }
    if !(2..=MAX_COMBO_KEYS).contains(&keys.len()) {
        return Err(format!(
            "codes has {} keys: a combination is 2 to {MAX_COMBO_KEYS} (one key is type=key)",
            keys.len()
        ));
    }
    Ok(Event::Combo(keys))
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
    q.get("button").map_or(Ok(Button::Left), button_named)
}

fn key(q: &Query) -> Result<Key, String> {
    match (q.get("code"), q.get("keysym")) {
        (Some(_), Some(_)) => Err("give code or keysym, not both".into()),
        (Some(code), None) => keycodes::physical(code).map(Key::Code).ok_or_else(|| {
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

/// One `POST /input` request: what it asks and the page's session id, if it sent one.
#[derive(Debug, PartialEq)]
pub struct Form {
    pub session: Option<String>,
    pub action: Action,
}

/// Longest page session id; the page sends 16 hex digits.
pub const MAX_SESSION_CHARS: usize = 64;

/// A page's session id: 8 to 64 letters, digits, `-` or `_` (it appears, shortened, in logs).
fn session(q: &Query) -> Result<Option<String>, String> {
    let Some(id) = q.get("session") else {
        return Ok(None);
    };
    let ok = (8..=MAX_SESSION_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(Some(id.to_string()))
    } else {
        Err(format!(
            "session={:?}: expected 8 to {MAX_SESSION_CHARS} letters, digits, - or _",
            short(id)
        ))
    }
}

/// Parses one `application/x-www-form-urlencoded` body of `POST /input`. Unknown keys are
/// ignored (forward compatibility); keys we act on are checked strictly.
pub fn parse_form(body: &[u8]) -> Result<Form, BadEvent> {
    let body = std::str::from_utf8(body).map_err(|_| BadEvent("body is not UTF-8".into()))?;
    let q = Query::parse_strict(body).map_err(BadEvent)?;
    let action = match q.get("type") {
        Some("heartbeat") => Action::Heartbeat,
        Some("leave") => Action::Leave,
        _ => Action::Inject(parse_query(&q).map_err(BadEvent)?),
    };
    Ok(Form {
        session: session(&q).map_err(BadEvent)?,
        action,
    })
}

/// True when the body is a `text` event (the one kind allowed a larger body).
pub fn is_text(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok_and(|b| Query::parse(b).get("type") == Some("text"))
}

fn parse_query(q: &Query) -> Result<Event, String> {
    let kind = q
        .get("type")
        .ok_or("type is missing: expected move, down, up, click, dblclick, wheel, key, combo, text, heartbeat or leave")?;
    Ok(match kind {
        "move" => motion(q)?,
        "down" | "up" | "click" => {
            let (at, b) = (spot_or_here(q)?, button(q)?);
            match (kind, at) {
                ("down", Some(at)) => Event::Down(at, b),
                ("up", Some(at)) => Event::Up(at, b),
                (_, Some(at)) => Event::Click(at, b),
                ("down", None) => Event::Button(b, Press::Down),
                ("up", None) => Event::Button(b, Press::Up),
                (_, None) => Event::Button(b, Press::Both),
            }
        }
        "combo" => combo(q)?,
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
                "type={:?}: expected move, down, up, click, dblclick, wheel, key, combo, text, heartbeat or leave",
                short(other)
            ));
        }
    })
}

/// The tutorial's `POST /pointer?xrate=..&yrate=..`: a left click.
pub fn parse_pointer(query: &str) -> Result<Event, BadEvent> {
    let q = Query::parse_strict(query).map_err(BadEvent)?;
    spot(&q, "xrate", "yrate")
        .map(|s| Event::Click(s, Button::Left))
        .map_err(BadEvent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Event {
        match parse_form(body.as_bytes()) {
            Ok(Form {
                action: Action::Inject(e),
                ..
            }) => e,
            other => panic!("{body}: {other:?}"),
        }
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
    fn touchpad_moves_and_clicks_where_the_pointer_is() {
        assert_eq!(
            ok("type=move&dx=0.01&dy=-0.5"),
            Event::MoveBy { dx: 0.01, dy: -0.5 }
        );
        assert_eq!(ok("type=move&dx=-1"), Event::MoveBy { dx: -1.0, dy: 0.0 });
        assert_eq!(ok("type=click"), Event::Button(Button::Left, Press::Both));
        assert_eq!(
            ok("type=down&button=right"),
            Event::Button(Button::Right, Press::Down)
        );
        assert_eq!(ok("type=up"), Event::Button(Button::Left, Press::Up));
        for (body, needle) in [
            ("type=move&dx=0&dy=0", "non-zero"),
            ("type=move&dx=1.5", "dx="),
            ("type=move&dy=NaN", "dy="),
            ("type=move&dx=0.1&x=0.5&y=0.5", "not both"),
            ("type=move", "x is missing"),
            ("type=click&x=0.5", "y is missing"),
            ("type=down&y=0.5", "x is missing"),
            ("type=dblclick", "x is missing"),
            ("type=click&button=thumb", "button="),
        ] {
            let why = bad(body);
            assert!(why.contains(needle), "{body:?} gave {why:?}");
        }
    }

    #[test]
    fn combos_name_two_to_six_known_keys() {
        let code = |c| Key::Code(keycodes::physical(c).unwrap());
        assert_eq!(
            ok("type=combo&codes=ControlLeft%2CAltLeft%2CDelete"),
            Event::Combo(vec![code("ControlLeft"), code("AltLeft"), code("Delete")])
        );
        assert_eq!(
            ok("type=combo&codes=MetaLeft,KeyE"),
            Event::Combo(vec![code("MetaLeft"), code("KeyE")])
        );
        for (body, needle) in [
            ("type=combo", "codes is missing"),
            ("type=combo&codes=Delete", "2 to 6"),
            ("type=combo&codes=", "not a KeyboardEvent.code"),
            (
                "type=combo&codes=ControlLeft,,Delete",
                "not a KeyboardEvent.code",
            ),
            ("type=combo&codes=ControlLeft,Bogus", "\"Bogus\""),
            ("type=combo&codes=ControlLeft,ControlLeft", "twice"),
            (
                "type=combo&codes=ShiftLeft,ControlLeft,AltLeft,MetaLeft,KeyA,KeyB,KeyC",
                "2 to 6",
            ),
        ] {
            let why = bad(body);
            assert!(why.contains(needle), "{body:?} gave {why:?}");
        }
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
        let code = |c| Key::Code(keycodes::physical(c).unwrap());
        assert_eq!(
            ok("type=key&code=KeyA"),
            Event::Key(code("KeyA"), Press::Both)
        );
        assert_eq!(
            ok("type=key&code=ShiftLeft&down=1"),
            Event::Key(code("ShiftLeft"), Press::Down)
        );
        assert_eq!(
            ok("type=key&code=AltRight&down=0"),
            Event::Key(code("AltRight"), Press::Up)
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
        for body in [
            "type=text&text=%ff%fe",
            "type=text&text=a%C0%AFb",
            "type=text&text=%ED%A0%80",
        ] {
            assert!(bad(body).contains("UTF-8"), "{body}");
        }
        // A client's long junk is not echoed back in full.
        assert!(bad(&format!("type={}", "z".repeat(500))).len() < 150);
    }

    #[test]
    fn sessions_heartbeats_and_leaving() {
        let form = |body: &str| parse_form(body.as_bytes());
        assert_eq!(
            form("type=heartbeat&session=0123abcd4567ef89"),
            Ok(Form {
                session: Some("0123abcd4567ef89".into()),
                action: Action::Heartbeat
            })
        );
        assert_eq!(
            form("type=leave&session=0123abcd"),
            Ok(Form {
                session: Some("0123abcd".into()),
                action: Action::Leave
            })
        );
        assert_eq!(
            form("type=move&x=0&y=0").map(|f| f.session),
            Ok(None),
            "scripts need no session"
        );
        for bad in ["short", "has space ok", "semi;colon1", &"x".repeat(65), ""] {
            let body = format!("type=heartbeat&session={}", bad.replace(' ', "+"));
            let e = form(&body).unwrap_err().0;
            assert!(e.starts_with("session="), "{bad:?}: {e}");
        }
        // A bad event is refused even with a good session.
        assert!(form("type=move&session=0123abcd").is_err());
    }

    #[test]
    fn only_text_may_be_long() {
        assert!(is_text(b"type=text&text=x"));
        assert!(!is_text(b"type=move&text=x"));
        assert!(!is_text(b"type=text\xff"));
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
}
