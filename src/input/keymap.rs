//! Keys and characters to X keysyms and keycodes: the browser names physical keys by
//! `KeyboardEvent.code` (UI Events KeyboardEvent code values, W3C), X wants a keycode of the
//! server's current keyboard map. Pure lookups, unit-tested; `xtest.rs` fetches the map.

/// `KeyboardEvent.code` → X keysym (keysymdef.h), for a US layout's unshifted symbols: the
/// browser reports Shift as its own key, so the physical key is pressed without it.
const CODES: &[(&str, u32)] = &[
    ("Escape", 0xff1b),
    ("Backspace", 0xff08),
    ("Tab", 0xff09),
    ("Enter", 0xff0d),
    ("Space", 0x20),
    ("Minus", 0x2d),
    ("Equal", 0x3d),
    ("BracketLeft", 0x5b),
    ("BracketRight", 0x5d),
    ("Backslash", 0x5c),
    ("Semicolon", 0x3b),
    ("Quote", 0x27),
    ("Backquote", 0x60),
    ("Comma", 0x2c),
    ("Period", 0x2e),
    ("Slash", 0x2f),
    ("IntlBackslash", 0x3c),
    ("CapsLock", 0xffe5),
    ("ShiftLeft", 0xffe1),
    ("ShiftRight", 0xffe2),
    ("ControlLeft", 0xffe3),
    ("ControlRight", 0xffe4),
    ("AltLeft", 0xffe9),
    ("AltRight", 0xffea),
    ("MetaLeft", 0xffeb),
    ("MetaRight", 0xffec),
    ("OSLeft", 0xffeb),
    ("OSRight", 0xffec),
    ("ContextMenu", 0xff67),
    ("PrintScreen", 0xff61),
    ("ScrollLock", 0xff14),
    ("Pause", 0xff13),
    ("Insert", 0xff63),
    ("Delete", 0xffff),
    ("Home", 0xff50),
    ("End", 0xff57),
    ("PageUp", 0xff55),
    ("PageDown", 0xff56),
    ("ArrowLeft", 0xff51),
    ("ArrowUp", 0xff52),
    ("ArrowRight", 0xff53),
    ("ArrowDown", 0xff54),
    ("NumLock", 0xff7f),
    ("NumpadDivide", 0xffaf),
    ("NumpadMultiply", 0xffaa),
    ("NumpadSubtract", 0xffad),
    ("NumpadAdd", 0xffab),
    ("NumpadEnter", 0xff8d),
    ("NumpadDecimal", 0xffae),
    ("NumpadEqual", 0xffbd),
    ("Numpad0", 0xffb0),
    ("Numpad1", 0xffb1),
    ("Numpad2", 0xffb2),
    ("Numpad3", 0xffb3),
    ("Numpad4", 0xffb4),
    ("Numpad5", 0xffb5),
    ("Numpad6", 0xffb6),
    ("Numpad7", 0xffb7),
    ("Numpad8", 0xffb8),
    ("Numpad9", 0xffb9),
    ("AudioVolumeMute", 0x1008ff12),
    ("AudioVolumeDown", 0x1008ff11),
    ("AudioVolumeUp", 0x1008ff13),
];

/// Looks up a `KeyboardEvent.code`: letters, digits and F1..F24 by rule, the rest by table.
/// Returns the code as a static string (so an [`super::Key`] carries no client allocation).
pub fn code_keysym(code: &str) -> Option<(&'static str, u32)> {
    static LETTERS: [&str; 26] = [
        "KeyA", "KeyB", "KeyC", "KeyD", "KeyE", "KeyF", "KeyG", "KeyH", "KeyI", "KeyJ", "KeyK",
        "KeyL", "KeyM", "KeyN", "KeyO", "KeyP", "KeyQ", "KeyR", "KeyS", "KeyT", "KeyU", "KeyV",
        "KeyW", "KeyX", "KeyY", "KeyZ",
    ];
    static DIGITS: [&str; 10] = [
        "Digit0", "Digit1", "Digit2", "Digit3", "Digit4", "Digit5", "Digit6", "Digit7", "Digit8",
        "Digit9",
    ];
    static FKEYS: [&str; 24] = [
        "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12", "F13", "F14",
        "F15", "F16", "F17", "F18", "F19", "F20", "F21", "F22", "F23", "F24",
    ];
    if let Some(i) = LETTERS.iter().position(|&k| k == code) {
        return Some((LETTERS[i], b'a' as u32 + i as u32));
    }
    if let Some(i) = DIGITS.iter().position(|&k| k == code) {
        return Some((DIGITS[i], b'0' as u32 + i as u32));
    }
    if let Some(i) = FKEYS.iter().position(|&k| k == code) {
        // XK_F1 = 0xffbe, consecutive up to XK_F35.
        return Some((FKEYS[i], 0xffbe + i as u32));
    }
    CODES
        .iter()
        .find(|(name, _)| *name == code)
        .map(|&(name, sym)| (name, sym))
}

/// The keysym that types `c`: Latin-1 is its own keysym, every other Unicode character is
/// `0x01000000 + code point` (keysymdef.h, "Unicode characters"). Newline, tab and backspace
/// are their keys; other control characters cannot be typed.
pub fn char_keysym(c: char) -> Option<u32> {
    let cp = c as u32;
    match c {
        '\n' | '\r' => Some(0xff0d),
        '\t' => Some(0xff09),
        '\u{8}' => Some(0xff08),
        _ if cp < 0x20 || (0x7f..0xa0).contains(&cp) => None,
        _ if cp < 0x100 => Some(cp),
        _ => Some(0x0100_0000 + cp),
    }
}

/// The character a keysym stands for (the inverse of [`char_keysym`] for printable ones).
pub fn keysym_char(sym: u32) -> Option<char> {
    match sym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(sym),
        0x0100_0100..=0x0110_ffff => char::from_u32(sym - 0x0100_0000),
        0xff0d => Some('\n'),
        0xff09 => Some('\t'),
        _ => None,
    }
}

/// Where a keysym sits on the keyboard: the keycode and whether Shift is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub keycode: u8,
    pub shift: bool,
}

/// The X server's core keyboard map, as `GetKeyboardMapping` returns it.
#[derive(Clone, Debug, Default)]
pub struct Keymap {
    pub min_keycode: u8,
    pub per_keycode: usize,
    pub keysyms: Vec<u32>,
}

impl Keymap {
    fn row(&self, keycode: u8) -> &[u32] {
        let i = (keycode - self.min_keycode) as usize * self.per_keycode;
        self.keysyms.get(i..i + self.per_keycode).unwrap_or(&[])
    }

    fn keycodes(&self) -> impl Iterator<Item = u8> + '_ {
        let count = self
            .keysyms
            .len()
            .checked_div(self.per_keycode)
            .unwrap_or(0);
        (0..count).filter_map(|i| u8::try_from(self.min_keycode as usize + i).ok())
    }

    /// Finds `sym` in the first group: unshifted (column 0) preferred, then shifted (column 1).
    /// A key with one keysym in column 0 and NoSymbol in column 1 that is a letter is typed
    /// shifted for its upper case (core protocol, "Keyboards": the "alphabetic" rule).
    pub fn find(&self, sym: u32) -> Option<Place> {
        let in_column = |col: usize| {
            self.keycodes()
                .find(|&k| self.row(k).get(col) == Some(&sym))
                .map(|keycode| Place {
                    keycode,
                    shift: col == 1,
                })
        };
        in_column(0).or_else(|| in_column(1)).or_else(|| {
            let lower = char::from_u32(sym)?;
            if !lower.is_ascii_uppercase() {
                return None;
            }
            let lower = lower.to_ascii_lowercase() as u32;
            self.keycodes()
                .find(|&k| {
                    let row = self.row(k);
                    row.first() == Some(&lower) && row.get(1).is_none_or(|&s| s == 0)
                })
                .map(|keycode| Place {
                    keycode,
                    shift: true,
                })
        })
    }

    /// Keycodes with no keysym at all: free to bind a character temporarily.
    pub fn spare_keycodes(&self) -> Vec<u8> {
        self.keycodes()
            .filter(|&k| self.row(k).iter().all(|&s| s == 0))
            .collect()
    }

    /// The keysym a client sees for `keycode` with or without Shift (the lookup a recording
    /// test client does).
    pub fn lookup(&self, keycode: u8, shift: bool) -> Option<u32> {
        if keycode < self.min_keycode {
            return None;
        }
        let row = self.row(keycode);
        let sym = *row.get(usize::from(shift))?;
        if sym != 0 {
            return Some(sym);
        }
        let base = *row.first()?;
        match char::from_u32(base) {
            Some(c) if shift && c.is_ascii_lowercase() => Some(c.to_ascii_uppercase() as u32),
            _ if shift => Some(base),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(code_keysym("KeyA"), Some(("KeyA", 0x61)));
        assert_eq!(code_keysym("KeyZ"), Some(("KeyZ", 0x7a)));
        assert_eq!(code_keysym("Digit7"), Some(("Digit7", 0x37)));
        assert_eq!(code_keysym("F5"), Some(("F5", 0xffc2)));
        assert_eq!(code_keysym("F24"), Some(("F24", 0xffd5)));
        assert_eq!(code_keysym("Enter"), Some(("Enter", 0xff0d)));
        assert_eq!(code_keysym("ArrowUp"), Some(("ArrowUp", 0xff52)));
        assert_eq!(code_keysym("ShiftLeft"), Some(("ShiftLeft", 0xffe1)));
        assert_eq!(code_keysym("keya"), None);
        assert_eq!(code_keysym("F25"), None);
        assert_eq!(code_keysym(""), None);
    }

    #[test]
    fn chars() {
        assert_eq!(char_keysym('a'), Some(0x61));
        assert_eq!(char_keysym('ö'), Some(0xf6));
        assert_eq!(char_keysym('€'), Some(0x0100_20ac));
        assert_eq!(char_keysym('\n'), Some(0xff0d));
        assert_eq!(char_keysym('\u{7}'), None);
        assert_eq!(char_keysym('\u{85}'), None);
        for c in ['a', 'Z', ' ', 'ö', '€', '漢', '😀', '\n'] {
            assert_eq!(keysym_char(char_keysym(c).unwrap()), Some(c));
        }
    }

    /// keycodes 10..=14: [a A] [1 exclam] [o] [nothing] [odiaeresis Odiaeresis]
    fn sample() -> Keymap {
        Keymap {
            min_keycode: 10,
            per_keycode: 3,
            keysyms: vec![
                0x61, 0x41, 0, //
                0x31, 0x21, 0, //
                0x6f, 0, 0, //
                0, 0, 0, //
                0xf6, 0xd6, 0,
            ],
        }
    }

    #[test]
    fn find_and_lookup() {
        let map = sample();
        let at = |keycode, shift| Some(Place { keycode, shift });
        assert_eq!(map.find(0x61), at(10, false));
        assert_eq!(map.find(0x41), at(10, true));
        assert_eq!(map.find(0x21), at(11, true));
        assert_eq!(map.find(0x4f), at(12, true), "alphabetic rule");
        assert_eq!(map.find(0xd6), at(14, true));
        assert_eq!(map.find(0x20ac), None);
        assert_eq!(map.spare_keycodes(), vec![13]);
        assert_eq!(map.lookup(10, true), Some(0x41));
        assert_eq!(map.lookup(12, true), Some(0x4f));
        assert_eq!(map.lookup(13, false), None);
        assert_eq!(map.lookup(9, false), None);
        assert_eq!(map.lookup(200, false), None);
    }
}
