//! Warns, once per process, when the X server being streamed is Xwayland, the X server of a
//! Wayland session: it holds only the windows of X11 programs, so everything else on the desktop
//! (Wayland programs, the panel, the wallpaper) never reaches the stream. Raspberry Pi OS starts
//! a Wayland session by default since bookworm, so this is the first thing a Pi user meets.
//! The warning is a hint: deskcam streams what it can see either way.

use std::sync::atomic::{AtomicBool, Ordering};

use x11rb::connection::Connection;
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::xproto::Window;

/// The extension Xwayland announces itself with (since Xwayland 23.1; xorgproto's
/// `xwaylandproto.h`).
const EXTENSION: &str = "XWAYLAND";
/// The RandR output names of older Xwayland ("XWAYLAND0", "XWAYLAND1", ...), which lack the
/// extension. Debian 12 ships Xwayland 22.1.
const OUTPUT_PREFIX: &[u8] = b"XWAYLAND";

static WARNED: AtomicBool = AtomicBool::new(false);

/// What says "Wayland" about the display deskcam opened.
#[derive(Debug, Default, Clone, Copy)]
pub struct Clues<'a> {
    /// The server itself says it is Xwayland (extension or output names).
    pub xwayland: bool,
    /// The display deskcam opened (`--display`).
    pub display: &'a str,
    /// `$DISPLAY`: the session's own X display. The session variables below describe that one,
    /// not a private Xvfb opened with another `--display`.
    pub env_display: Option<&'a str>,
    /// `$WAYLAND_DISPLAY`, set inside a Wayland session.
    pub wayland_display: Option<&'a str>,
    /// `$XDG_SESSION_TYPE`: `wayland`, `x11`, `tty`.
    pub session_type: Option<&'a str>,
}

const SWITCH: &str = "log in to an X11 session to stream the whole desktop (on a Raspberry Pi: \
                      sudo raspi-config, 6 Advanced Options > A6 Wayland > W1 X11, then reboot)";

/// The one warning line, if the clues say the stream will miss the Wayland part of a desktop.
pub fn warning(c: &Clues) -> Option<String> {
    let display = c.display;
    if c.xwayland {
        return Some(format!(
            "X display {display} is Xwayland, part of a Wayland session: only X11 windows will be \
             seen; {SWITCH}"
        ));
    }
    // Older Xwayland says nothing about itself: the session's variables are the next best
    // thing, and they speak only for the session's own display.
    if c.env_display != Some(display) {
        return None;
    }
    let why = match (c.wayland_display, c.session_type) {
        (Some(w), _) if !w.is_empty() => format!("WAYLAND_DISPLAY={w}"),
        (_, Some(t)) if t.eq_ignore_ascii_case("wayland") => format!("XDG_SESSION_TYPE={t}"),
        _ => return None,
    };
    Some(format!(
        "this is a Wayland session ({why}), so X display {display} is probably its Xwayland: \
         only X11 windows will be seen; {SWITCH}"
    ))
}

/// Looks at the server and the environment and logs the warning, the first time it applies.
/// Best effort: an X error while looking only means no warning.
pub fn warn_once(conn: &impl Connection, display: &str, root: Window, has_randr: bool) {
    if WARNED.load(Ordering::Relaxed) {
        return;
    }
    let var = |name| std::env::var(name).ok();
    let (env_display, wayland_display, session_type) = (
        var("DISPLAY"),
        var("WAYLAND_DISPLAY"),
        var("XDG_SESSION_TYPE"),
    );
    let clues = Clues {
        xwayland: has_extension(conn) || (has_randr && has_xwayland_outputs(conn, root)),
        display,
        env_display: env_display.as_deref(),
        wayland_display: wayland_display.as_deref(),
        session_type: session_type.as_deref(),
    };
    if let Some(line) = warning(&clues)
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        log::warn!("{line}");
    }
}

fn has_extension(conn: &impl Connection) -> bool {
    matches!(conn.extension_information(EXTENSION), Ok(Some(_)))
}

fn has_xwayland_outputs(conn: &impl Connection, root: Window) -> bool {
    let Ok(Ok(res)) = conn
        .randr_get_screen_resources_current(root)
        .map(|c| c.reply())
    else {
        return false;
    };
    res.outputs.iter().any(|&o| {
        conn.randr_get_output_info(o, res.config_timestamp)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|info| info.name.starts_with(OUTPUT_PREFIX))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clues(
        xwayland: bool,
        wayland: Option<&'static str>,
        kind: Option<&'static str>,
    ) -> Clues<'static> {
        Clues {
            xwayland,
            display: ":0",
            env_display: Some(":0"),
            wayland_display: wayland,
            session_type: kind,
        }
    }

    #[test]
    fn xwayland_warns_whatever_the_environment() {
        for c in [clues(true, None, None), clues(true, None, Some("x11"))] {
            let w = warning(&c).expect("a warning");
            assert!(w.contains("X display :0 is Xwayland"), "{w}");
            assert!(w.contains("only X11 windows will be seen"), "{w}");
            assert!(w.contains("A6 Wayland > W1 X11"), "{w}");
        }
        // A service has no session variables and may name any display.
        let service = Clues {
            env_display: None,
            ..clues(true, None, None)
        };
        assert!(warning(&service).is_some());
    }

    #[test]
    fn session_variables_warn_for_the_session_display() {
        let w = warning(&clues(false, Some("wayland-0"), None)).expect("a warning");
        assert!(w.contains("WAYLAND_DISPLAY=wayland-0"), "{w}");
        assert!(w.contains("only X11 windows will be seen"), "{w}");
        let w = warning(&clues(false, None, Some("Wayland"))).expect("a warning");
        assert!(w.contains("XDG_SESSION_TYPE=Wayland"), "{w}");
    }

    #[test]
    fn plain_x11_is_quiet() {
        assert_eq!(warning(&clues(false, None, None)), None);
        assert_eq!(warning(&clues(false, None, Some("x11"))), None);
        assert_eq!(warning(&clues(false, Some(""), Some("tty"))), None);
    }

    #[test]
    fn another_display_from_a_wayland_session_is_quiet() {
        // An Xvfb started from a terminal of a Wayland desktop is a real X server.
        let c = Clues {
            display: ":5",
            ..clues(false, Some("wayland-0"), Some("wayland"))
        };
        assert_eq!(warning(&c), None);
    }

    #[test]
    fn the_warning_is_one_line() {
        let w = warning(&clues(true, None, None)).expect("a warning");
        assert!(!w.contains('\n'), "{w}");
    }
}
