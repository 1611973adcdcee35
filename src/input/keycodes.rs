//! Physical keys. `KeyboardEvent.code` names a key by where it sits on the keyboard (UI Events
//! KeyboardEvent code values, W3C), whatever layout the browser uses; X servers number keys the
//! same way, so pressing that keycode lets the desktop's own layout decide the character (AltGr
//! and non-US layouts included). On Xorg with evdev or libinput, Xvfb, Xwayland and TigerVNC a
//! keycode is the Linux evdev code (linux/input-event-codes.h) plus 8; the codes below follow
//! Chromium's `ui/events/keycodes/dom/dom_code_data.inc`, the XKB names xkb-data's
//! `keycodes/evdev`. [`Numbering`] checks which numbering a server uses.

use super::keymap::Keymap;

/// One physical key: its `KeyboardEvent.code`, Linux evdev code, XKB key name, and the keysym a
/// US layout gives it unshifted (for servers without XKB that do not use evdev numbers; 0: none).
#[derive(Debug, PartialEq, Eq)]
pub struct PhysicalKey {
    pub code: &'static str,
    pub evdev: u16,
    pub xkb_name: &'static str,
    pub us_keysym: u32,
}

const fn key(
    code: &'static str,
    evdev: u16,
    xkb_name: &'static str,
    us_keysym: u32,
) -> PhysicalKey {
    PhysicalKey {
        code,
        evdev,
        xkb_name,
        us_keysym,
    }
}

/// Every key a page may send. Power, Sleep and WakeUp are left out on purpose: a remote viewer
/// should not switch the machine off by a stray key.
static KEYS: &[PhysicalKey] = &[
    key("KeyA", 30, "AC01", 0x61),
    key("KeyB", 48, "AB05", 0x62),
    key("KeyC", 46, "AB03", 0x63),
    key("KeyD", 32, "AC03", 0x64),
    key("KeyE", 18, "AD03", 0x65),
    key("KeyF", 33, "AC04", 0x66),
    key("KeyG", 34, "AC05", 0x67),
    key("KeyH", 35, "AC06", 0x68),
    key("KeyI", 23, "AD08", 0x69),
    key("KeyJ", 36, "AC07", 0x6a),
    key("KeyK", 37, "AC08", 0x6b),
    key("KeyL", 38, "AC09", 0x6c),
    key("KeyM", 50, "AB07", 0x6d),
    key("KeyN", 49, "AB06", 0x6e),
    key("KeyO", 24, "AD09", 0x6f),
    key("KeyP", 25, "AD10", 0x70),
    key("KeyQ", 16, "AD01", 0x71),
    key("KeyR", 19, "AD04", 0x72),
    key("KeyS", 31, "AC02", 0x73),
    key("KeyT", 20, "AD05", 0x74),
    key("KeyU", 22, "AD07", 0x75),
    key("KeyV", 47, "AB04", 0x76),
    key("KeyW", 17, "AD02", 0x77),
    key("KeyX", 45, "AB02", 0x78),
    key("KeyY", 21, "AD06", 0x79),
    key("KeyZ", 44, "AB01", 0x7a),
    key("Digit1", 2, "AE01", 0x31),
    key("Digit2", 3, "AE02", 0x32),
    key("Digit3", 4, "AE03", 0x33),
    key("Digit4", 5, "AE04", 0x34),
    key("Digit5", 6, "AE05", 0x35),
    key("Digit6", 7, "AE06", 0x36),
    key("Digit7", 8, "AE07", 0x37),
    key("Digit8", 9, "AE08", 0x38),
    key("Digit9", 10, "AE09", 0x39),
    key("Digit0", 11, "AE10", 0x30),
    key("Enter", 28, "RTRN", 0xff0d),
    key("Escape", 1, "ESC", 0xff1b),
    key("Backspace", 14, "BKSP", 0xff08),
    key("Tab", 15, "TAB", 0xff09),
    key("Space", 57, "SPCE", 0x20),
    key("Minus", 12, "AE11", 0x2d),
    key("Equal", 13, "AE12", 0x3d),
    key("BracketLeft", 26, "AD11", 0x5b),
    key("BracketRight", 27, "AD12", 0x5d),
    key("Backslash", 43, "BKSL", 0x5c),
    key("Semicolon", 39, "AC10", 0x3b),
    key("Quote", 40, "AC11", 0x27),
    key("Backquote", 41, "TLDE", 0x60),
    key("Comma", 51, "AB08", 0x2c),
    key("Period", 52, "AB09", 0x2e),
    key("Slash", 53, "AB10", 0x2f),
    key("CapsLock", 58, "CAPS", 0xffe5),
    key("F1", 59, "FK01", 0xffbe),
    key("F2", 60, "FK02", 0xffbf),
    key("F3", 61, "FK03", 0xffc0),
    key("F4", 62, "FK04", 0xffc1),
    key("F5", 63, "FK05", 0xffc2),
    key("F6", 64, "FK06", 0xffc3),
    key("F7", 65, "FK07", 0xffc4),
    key("F8", 66, "FK08", 0xffc5),
    key("F9", 67, "FK09", 0xffc6),
    key("F10", 68, "FK10", 0xffc7),
    key("F11", 87, "FK11", 0xffc8),
    key("F12", 88, "FK12", 0xffc9),
    key("PrintScreen", 99, "PRSC", 0xff61),
    key("ScrollLock", 70, "SCLK", 0xff14),
    key("Pause", 119, "PAUS", 0xff13),
    key("Insert", 110, "INS", 0xff63),
    key("Home", 102, "HOME", 0xff50),
    key("PageUp", 104, "PGUP", 0xff55),
    key("Delete", 111, "DELE", 0xffff),
    key("End", 107, "END", 0xff57),
    key("PageDown", 109, "PGDN", 0xff56),
    key("ArrowRight", 106, "RGHT", 0xff53),
    key("ArrowLeft", 105, "LEFT", 0xff51),
    key("ArrowDown", 108, "DOWN", 0xff54),
    key("ArrowUp", 103, "UP", 0xff52),
    key("NumLock", 69, "NMLK", 0xff7f),
    key("NumpadDivide", 98, "KPDV", 0xffaf),
    key("NumpadMultiply", 55, "KPMU", 0xffaa),
    key("NumpadSubtract", 74, "KPSU", 0xffad),
    key("NumpadAdd", 78, "KPAD", 0xffab),
    key("NumpadEnter", 96, "KPEN", 0xff8d),
    key("Numpad1", 79, "KP1", 0xffb1),
    key("Numpad2", 80, "KP2", 0xffb2),
    key("Numpad3", 81, "KP3", 0xffb3),
    key("Numpad4", 75, "KP4", 0xffb4),
    key("Numpad5", 76, "KP5", 0xffb5),
    key("Numpad6", 77, "KP6", 0xffb6),
    key("Numpad7", 71, "KP7", 0xffb7),
    key("Numpad8", 72, "KP8", 0xffb8),
    key("Numpad9", 73, "KP9", 0xffb9),
    key("Numpad0", 82, "KP0", 0xffb0),
    key("NumpadDecimal", 83, "KPDL", 0xffae),
    key("IntlBackslash", 86, "LSGT", 0x3c),
    key("ContextMenu", 127, "COMP", 0xff67),
    key("NumpadEqual", 117, "KPEQ", 0xffbd),
    key("F13", 183, "FK13", 0xffca),
    key("F14", 184, "FK14", 0xffcb),
    key("F15", 185, "FK15", 0xffcc),
    key("F16", 186, "FK16", 0xffcd),
    key("F17", 187, "FK17", 0xffce),
    key("F18", 188, "FK18", 0xffcf),
    key("F19", 189, "FK19", 0xffd0),
    key("F20", 190, "FK20", 0xffd1),
    key("F21", 191, "FK21", 0xffd2),
    key("F22", 192, "FK22", 0xffd3),
    key("F23", 193, "FK23", 0xffd4),
    key("F24", 194, "FK24", 0xffd5),
    key("Help", 138, "HELP", 0xff6a),
    key("Undo", 131, "UNDO", 0xff65),
    key("Cut", 137, "CUT", 0x1008ff58),
    key("Copy", 133, "COPY", 0x1008ff57),
    key("Paste", 135, "PAST", 0x1008ff6d),
    key("Find", 136, "FIND", 0xff68),
    key("AudioVolumeMute", 113, "MUTE", 0x1008ff12),
    key("AudioVolumeUp", 115, "VOL+", 0x1008ff13),
    key("AudioVolumeDown", 114, "VOL-", 0x1008ff11),
    key("NumpadComma", 121, "I129", 0),
    key("IntlRo", 89, "AB11", 0),
    key("KanaMode", 93, "HKTG", 0),
    key("IntlYen", 124, "AE13", 0),
    key("Convert", 92, "HENK", 0),
    key("NonConvert", 94, "MUHE", 0),
    key("Lang1", 122, "HNGL", 0),
    key("Lang2", 123, "HJCV", 0),
    key("Lang3", 90, "KATA", 0),
    key("Lang4", 91, "HIRA", 0),
    key("ControlLeft", 29, "LCTL", 0xffe3),
    key("ShiftLeft", 42, "LFSH", 0xffe1),
    key("AltLeft", 56, "LALT", 0xffe9),
    key("MetaLeft", 125, "LWIN", 0xffeb),
    key("ControlRight", 97, "RCTL", 0xffe4),
    key("ShiftRight", 54, "RTSH", 0xffe2),
    key("AltRight", 100, "RALT", 0xffea),
    key("MetaRight", 126, "RWIN", 0xffec),
    key("MediaPlayPause", 164, "I172", 0x1008ff14),
    key("MediaStop", 166, "I174", 0x1008ff15),
    key("MediaTrackNext", 163, "I171", 0x1008ff17),
    key("MediaTrackPrevious", 165, "I173", 0x1008ff16),
];

/// The key a `KeyboardEvent.code` names. `OSLeft`/`OSRight` are older Firefox names for the
/// Meta keys.
pub fn physical(code: &str) -> Option<&'static PhysicalKey> {
    let code = match code {
        "OSLeft" => "MetaLeft",
        "OSRight" => "MetaRight",
        other => other,
    };
    KEYS.iter().find(|k| k.code == code)
}

/// How an X server numbers its keys: decided once per connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Numbering {
    /// evdev code + 8, the numbering of every current Linux X server.
    Evdev,
    /// Another keycode set (XFree86-style `xfree86`, BSD `kbd`) whose keys carry XKB names:
    /// keys are found by name. Holds (keycode, name) pairs.
    Named(Vec<(u8, String)>),
    /// Neither evdev numbers nor XKB names: keys go through a US layout's keysyms, so AltGr and
    /// other layouts may give other characters than the viewer's keyboard shows.
    UsKeysyms,
}

/// A server whose XKB names agree with evdev numbering for at least this many of our keys (and
/// disagree for none) uses evdev keycodes. Xvfb and Xorg name all of the first 100 or so.
const EVDEV_AGREEING: usize = 40;

/// Keys whose keycodes differ most between keycode sets, where evdev puts them (evdev + 8):
/// Escape 9, Return 36, Up 111, Left 113, Home 110, Delete 119, with their keysyms.
const EVDEV_PROBES: [(u8, u32); 6] = [
    (9, 0xff1b),
    (36, 0xff0d),
    (111, 0xff52),
    (113, 0xff51),
    (110, 0xff50),
    (119, 0xffff),
];

impl Numbering {
    /// From the XKB key names the server reports, as (keycode, name) pairs.
    pub fn from_names(names: &[(u8, String)]) -> Numbering {
        let at = |keycode: usize| {
            names
                .iter()
                .find(|(k, _)| usize::from(*k) == keycode)
                .map(|(_, n)| n.as_str())
        };
        let named = |name: &str| names.iter().any(|(_, n)| n == name);
        let (mut agree, mut disagree) = (0, 0);
        for k in KEYS.iter().filter(|k| named(k.xkb_name)) {
            if at(usize::from(k.evdev) + 8) == Some(k.xkb_name) {
                agree += 1;
            } else {
                disagree += 1;
            }
        }
        if disagree == 0 && agree >= EVDEV_AGREEING {
            Numbering::Evdev
        } else if names.is_empty() {
            Numbering::UsKeysyms
        } else {
            Numbering::Named(names.to_vec())
        }
    }

    /// Without XKB: evdev when the core map has the keys that differ most between keycode sets
    /// where evdev puts them (a sanity check; the layout does not move these).
    pub fn from_core(map: &Keymap) -> Numbering {
        if EVDEV_PROBES
            .iter()
            .all(|&(keycode, sym)| map.lookup(keycode, false) == Some(sym))
        {
            Numbering::Evdev
        } else {
            Numbering::UsKeysyms
        }
    }

    /// The server's keycode for `key`, or `None` when it must go by keysym (no numbering known,
    /// or the server names no such key).
    pub fn keycode(&self, key: &PhysicalKey) -> Option<u8> {
        match self {
            Numbering::Evdev => u8::try_from(key.evdev + 8).ok(),
            Numbering::Named(names) => names
                .iter()
                .find(|(_, n)| n == key.xkb_name)
                .map(|(k, _)| *k),
            Numbering::UsKeysyms => None,
        }
    }

    /// For the log line at start.
    pub fn describe(&self) -> &'static str {
        match self {
            Numbering::Evdev => "evdev keycodes: keys by physical position",
            Numbering::Named(_) => {
                "keycodes are not evdev: keys by physical position through their XKB names"
            }
            Numbering::UsKeysyms => {
                "no XKB and no evdev keycodes: keys through a US layout, so AltGr and other layouts may type other characters"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_evdev_numbers() {
        let k = |code| physical(code).unwrap();
        // linux/input-event-codes.h: KEY_Q 16, KEY_Z 44, KEY_RIGHTALT 100, KEY_UP 103.
        assert_eq!((k("KeyQ").evdev, k("KeyQ").xkb_name), (16, "AD01"));
        assert_eq!((k("KeyZ").evdev, k("KeyZ").xkb_name), (44, "AB01"));
        assert_eq!((k("AltRight").evdev, k("AltRight").xkb_name), (100, "RALT"));
        assert_eq!(k("ArrowUp").evdev, 103);
        assert_eq!(k("IntlBackslash").xkb_name, "LSGT");
        assert_eq!(k("OSLeft"), k("MetaLeft"));
        assert_eq!(k("KeyA").us_keysym, 0x61);
        assert_eq!(k("F24").us_keysym, 0xffd5);
        assert!(physical("keya").is_none() && physical("Power").is_none());
        assert!(physical("").is_none());
        // One entry per code and per evdev number.
        for (i, a) in KEYS.iter().enumerate() {
            for b in &KEYS[i + 1..] {
                assert!(a.code != b.code && a.evdev != b.evdev, "{a:?} {b:?}");
            }
        }
    }

    fn evdev_names() -> Vec<(u8, String)> {
        KEYS.iter()
            .map(|k| ((k.evdev + 8) as u8, k.xkb_name.to_string()))
            .collect()
    }

    #[test]
    fn numbering_from_xkb_names() {
        let names = evdev_names();
        assert_eq!(Numbering::from_names(&names), Numbering::Evdev);
        assert_eq!(
            Numbering::Evdev.keycode(physical("KeyQ").unwrap()),
            Some(24)
        );
        assert_eq!(
            Numbering::Evdev.keycode(physical("AltRight").unwrap()),
            Some(108)
        );
        // XFree86 keycodes (xkb-data keycodes/xfree86): Up 98, right Alt 113, Q still 24.
        let xfree86: Vec<(u8, String)> = [(24, "AD01"), (98, "UP"), (113, "RALT"), (9, "ESC")]
            .iter()
            .map(|&(k, n)| (k, n.to_string()))
            .collect();
        let n = Numbering::from_names(&xfree86);
        assert!(matches!(n, Numbering::Named(_)), "{n:?}");
        assert_eq!(n.keycode(physical("ArrowUp").unwrap()), Some(98));
        assert_eq!(n.keycode(physical("AltRight").unwrap()), Some(113));
        assert_eq!(n.keycode(physical("KeyZ").unwrap()), None);
        // One key moved is enough to distrust evdev numbers.
        let mut moved = evdev_names();
        moved.iter_mut().find(|(_, n)| n == "UP").unwrap().0 = 98;
        assert!(matches!(Numbering::from_names(&moved), Numbering::Named(_)));
        assert_eq!(Numbering::from_names(&[]), Numbering::UsKeysyms);
        assert_eq!(
            Numbering::UsKeysyms.keycode(physical("KeyQ").unwrap()),
            None
        );
    }

    #[test]
    fn numbering_from_the_core_map() {
        let mut keysyms = vec![0u32; 256];
        for (keycode, sym) in EVDEV_PROBES {
            keysyms[keycode as usize - 8] = sym;
        }
        let map = Keymap {
            min_keycode: 8,
            per_keycode: 1,
            keysyms: keysyms.clone(),
        };
        assert_eq!(Numbering::from_core(&map), Numbering::Evdev);
        keysyms[111 - 8] = 0xff61; // xfree86: 111 is Print
        let map = Keymap {
            min_keycode: 8,
            per_keycode: 1,
            keysyms,
        };
        assert_eq!(Numbering::from_core(&map), Numbering::UsKeysyms);
    }
}
