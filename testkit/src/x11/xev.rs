//! `xev` watching the root window of a private Xvfb: a real Xlib client that turns key events
//! into keysyms through XKB (levels, AltGr), which the core-protocol [`super::Recorder`] does
//! not do. With no window on the screen, Xvfb's default focus (PointerRoot) sends every key to
//! the root window, so use it without a recorder.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

/// One key event as xev reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XevKey {
    pub press: bool,
    pub keycode: u8,
    /// The keysym XKB translated the key to, with the modifiers and level in effect.
    pub keysym: u32,
}

pub struct Xev {
    child: Child,
    keys: Receiver<XevKey>,
}

impl Xev {
    /// Starts xev on `display`. Call [`Xev::ready`] before relying on it.
    pub fn start(display: &str) -> Xev {
        let mut child = Command::new("xev")
            .args(["-display", display, "-root", "-event", "keyboard"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("xev must be installed (x11-utils; tools/deps.sh installs it)");
        let out = child.stdout.take().expect("stdout");
        let (tx, keys) = channel();
        thread::spawn(move || {
            let mut press = None;
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if line.starts_with("KeyPress event") {
                    press = Some(true);
                } else if line.starts_with("KeyRelease event") {
                    press = Some(false);
                } else if let (Some(p), Some(key)) = (press, parse_key_line(&line)) {
                    press = None;
                    let (keycode, keysym) = key;
                    if tx
                        .send(XevKey {
                            press: p,
                            keycode,
                            keysym,
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            }
        });
        Xev { child, keys }
    }

    /// Waits until xev reports keys: `send` presses and releases a sentinel key (keysym
    /// `sentinel`) each time it is called, until xev has seen one (bounded by `timeout`).
    pub fn ready(&self, timeout: Duration, sentinel: u32, mut send: impl FnMut()) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            send();
            if self
                .until(Duration::from_millis(300), |k| k.keysym == sentinel)
                .is_some()
            {
                // Its release too, so the next check starts clean.
                self.until(Duration::from_secs(5), |k| !k.press);
                return;
            }
        }
        panic!("xev never reported the sentinel key");
    }

    pub fn next(&self, timeout: Duration) -> Option<XevKey> {
        self.keys.recv_timeout(timeout).ok()
    }

    /// Key events up to and including the first that matches `last`, or `None` if it does not
    /// come within `timeout`.
    pub fn until(&self, timeout: Duration, last: impl Fn(&XevKey) -> bool) -> Option<Vec<XevKey>> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let k = self.next(left)?;
            let done = last(&k);
            seen.push(k);
            if done {
                return Some(seen);
            }
        }
    }
}

impl Drop for Xev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `    state 0x80, keycode 24 (keysym 0x40, at), same_screen YES,` -> (24, 0x40)
fn parse_key_line(line: &str) -> Option<(u8, u32)> {
    let rest = line.split("keycode ").nth(1)?;
    let (keycode, rest) = rest.split_once(' ')?;
    let sym = rest.strip_prefix("(keysym 0x")?.split(',').next()?;
    Some((keycode.parse().ok()?, u32::from_str_radix(sym, 16).ok()?))
}

#[test]
fn xev_lines_parse() {
    assert_eq!(
        parse_key_line("    state 0x80, keycode 24 (keysym 0x40, at), same_screen YES,"),
        Some((24, 0x40))
    );
    assert_eq!(
        parse_key_line("    XLookupString gives 1 bytes: (40) \"@\""),
        None
    );
}
