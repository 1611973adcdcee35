//! Characters to X keysyms and keysyms to keycodes of the server's current keyboard map (for
//! `text` and `keysym` events; physical keys are in `keycodes.rs`). Pure lookups, unit-tested;
//! `xtest.rs` fetches the map.

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
    /// The keysyms of `keycode` (empty outside the map).
    pub fn row(&self, keycode: u8) -> &[u32] {
        let Some(i) = keycode.checked_sub(self.min_keycode) else {
            return &[];
        };
        let i = usize::from(i) * self.per_keycode;
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
