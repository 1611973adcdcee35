//! What character a key event types, worked out as an ordinary X client does (core protocol,
//! "Keyboards"; Xlib's XLookupString for the keysym-to-character step). Written apart from
//! deskcam's own keymap code on purpose: the recorder is the judge of what deskcam typed.

/// The server's core keyboard map (`GetKeyboardMapping` for every keycode).
pub struct Keyboard {
    pub min_keycode: u8,
    pub per_keycode: usize,
    pub keysyms: Vec<u32>,
}

const NO_SYMBOL: u32 = 0;

impl Keyboard {
    /// The keysym of `keycode` in the first group, shifted or not. A missing shifted keysym
    /// means the unshifted one, upper-cased if it is a letter.
    pub fn keysym(&self, keycode: u8, shift: bool) -> Option<u32> {
        let start = usize::from(keycode.checked_sub(self.min_keycode)?) * self.per_keycode;
        let row = self.keysyms.get(start..start + self.per_keycode.min(2))?;
        let (plain, shifted) = (row[0], row.get(1).copied().unwrap_or(NO_SYMBOL));
        let sym = match (shift, shifted) {
            (false, _) => plain,
            (true, NO_SYMBOL) => upper_case(plain),
            (true, s) => s,
        };
        (sym != NO_SYMBOL).then_some(sym)
    }
}

/// How many keycodes of `display`'s map have no keysym at all: what a tool that binds missing
/// characters on the fly takes from, and leaks if it dies without unbinding them.
pub fn empty_keycodes(display: &str) -> usize {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::ConnectionExt as _;
    let (conn, _) = x11rb::connect(Some(display)).expect("connect to Xvfb");
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let reply = conn
        .get_keyboard_mapping(min, max - min + 1)
        .expect("GetKeyboardMapping")
        .reply()
        .expect("GetKeyboardMapping reply");
    let per = usize::from(reply.keysyms_per_keycode).max(1);
    reply
        .keysyms
        .chunks(per)
        .filter(|row| row.iter().all(|&s| s == NO_SYMBOL))
        .count()
}

/// The upper-case keysym of a Latin-1 letter (whose keysyms are their code points).
fn upper_case(sym: u32) -> u32 {
    match char::from_u32(sym) {
        Some(c) if sym < 0x100 && c.is_lowercase() => {
            c.to_uppercase().next().map_or(sym, |u| u as u32)
        }
        _ => sym,
    }
}

/// The character a keysym types: Latin-1 keysyms are their code point, 0x01000000 + U is the
/// Unicode character U (keysymdef.h), Return and Tab are '\n' and '\t'; None for the rest
/// (Shift, arrows, ...).
pub fn typed_char(sym: u32) -> Option<char> {
    const RETURN: u32 = 0xff0d;
    const TAB: u32 = 0xff09;
    match sym {
        RETURN => Some('\n'),
        TAB => Some('\t'),
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(sym),
        0x0100_0000..=0x0110_ffff => char::from_u32(sym - 0x0100_0000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_picks_the_second_column_or_upper_cases_a_letter() {
        // keycode 10: a A; keycode 11: 1 !; keycode 12: ö (no shifted keysym); keycode 13: none.
        let k = Keyboard {
            min_keycode: 10,
            per_keycode: 3,
            keysyms: vec![0x61, 0x41, 0, 0x31, 0x21, 0, 0xf6, 0, 0, 0, 0, 0],
        };
        assert_eq!(k.keysym(10, false), Some(0x61));
        assert_eq!(k.keysym(10, true), Some(0x41));
        assert_eq!(k.keysym(11, true), Some(0x21));
        assert_eq!(k.keysym(12, true), Some(0xd6), "Ö");
        assert_eq!(k.keysym(13, false), None);
        assert_eq!(k.keysym(9, false), None, "below the first keycode");
        assert_eq!(k.keysym(14, false), None, "past the map");
    }

    #[test]
    fn characters_of_keysyms() {
        assert_eq!(typed_char(0x41), Some('A'));
        assert_eq!(typed_char(0xf6), Some('ö'));
        assert_eq!(typed_char(0x0100_20ac), Some('€'));
        assert_eq!(typed_char(0xff0d), Some('\n'));
        assert_eq!(typed_char(0xffe1), None, "Shift_L");
    }
}
