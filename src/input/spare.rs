//! Spare keycodes for characters the keyboard layout lacks (`€`, `漢`): a small pool of keycodes
//! that have no keysym, each bound to one character at a time (as xdotool does) and recycled
//! least recently used first. Every keycode we take is recorded on the root window together with
//! a window of ours, so bindings left behind by a deskcam that could not clean up (`kill -9`, a
//! crash, power loss) are found and unbound at the next start: without that record each killed
//! run leaked its bindings, and Xvfb's ~20 spare keycodes were gone after seven runs.

use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::errors::ReplyError;
use x11rb::protocol::ErrorKind;
use x11rb::protocol::xproto::{self, AtomEnum, ConnectionExt as _, PropMode};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use super::keymap::{self, Keymap, Place};
use super::xtest::{InjectError, display_failed};

/// At most this many keycodes are bound at once. Small, so other tools (xdotool, a second
/// deskcam) still find spare keycodes. Each carries two characters, one typed with Shift, so
/// text repeating up to twice as many distinct missing characters never rebinds.
pub const POOL: usize = 16;

/// A character's place in the pool is bound to another character no sooner than this after it
/// was last pressed. A client re-reads the keymap when it handles the MappingNotify that came
/// before the key event, so it must do so before the keycode changes again or it sees the
/// later character. No request tells when another client has done that, so this bounds how far
/// a client may lag behind; docs/control.md has the measurements behind the value. Only text
/// with more than twice [`POOL`] distinct missing characters in quick succession waits.
pub const REUSE_GAP: Duration = Duration::from_millis(300);

/// Root window property: pairs of (owner window, keycode), 32-bit CARDINALs.
const RECORD: &[u8] = b"_DESKCAM_SPARE_KEYCODES";
/// Property on the owner window that says it is a deskcam's, so a recycled window id of
/// another client does not pass for a live deskcam.
const MARK: &[u8] = b"_DESKCAM_KEYCODE_OWNER";
/// The record is read up to this many 32-bit values (a foreign or damaged one may be longer).
const MAX_RECORD: u32 = 4096;

/// A keycode we bound: the character of each column (0 plain, 1 with Shift; 0 = none yet) and
/// when each was last pressed.
struct Owned {
    keycode: u8,
    syms: [u32; 2],
    used: [Option<Instant>; 2],
}

/// The keycodes this deskcam has bound, on one X connection.
pub(super) struct Pool {
    owner: xproto::Window,
    record: xproto::Atom,
    owned: Vec<Owned>,
}

/// A bound character to rebind: (keycode, column, last pressed), least recently used first,
/// never on a keycode held down; column 1 only if Shift can be pressed.
fn least_recent(
    slots: &[(u8, usize, Option<Instant>)],
    pressed: &HashSet<u8>,
    shift_ok: bool,
) -> Option<usize> {
    slots
        .iter()
        .enumerate()
        .filter(|(_, (keycode, column, _))| {
            !pressed.contains(keycode) && (*column == 0 || shift_ok)
        })
        .min_by_key(|(_, (_, _, used))| *used)
        .map(|(i, _)| i)
}

/// True for a row as we bind it: character keysyms only, at most two of them.
fn bound_by_us(row: &[u32]) -> bool {
    let mut syms: Vec<u32> = row.iter().copied().filter(|&s| s != 0).collect();
    syms.sort_unstable();
    syms.dedup();
    !syms.is_empty() && syms.len() <= 2 && syms.iter().all(|&s| keymap::keysym_char(s).is_some())
}

/// The server's core keyboard map.
pub(super) fn read_keymap(conn: &RustConnection) -> Result<Keymap, InjectError> {
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let count = max.saturating_sub(min).saturating_add(1);
    let reply = conn
        .get_keyboard_mapping(min, count)
        .map_err(display_failed)?
        .reply()
        .map_err(display_failed)?;
    Ok(Keymap {
        min_keycode: min,
        per_keycode: reply.keysyms_per_keycode as usize,
        keysyms: reply.keysyms,
    })
}

fn place(keycode: u8, column: usize) -> Place {
    Place {
        keycode,
        shift: column == 1,
    }
}

fn intern(conn: &RustConnection, name: &[u8]) -> Result<xproto::Atom, InjectError> {
    Ok(conn
        .intern_atom(false, name)
        .map_err(display_failed)?
        .reply()
        .map_err(display_failed)?
        .atom)
}

/// Runs `f` with the server grabbed, so reading the record and the map and changing them is one
/// step for every other client (another deskcam starting or binding at the same moment).
fn grabbed<T>(
    conn: &RustConnection,
    f: impl FnOnce() -> Result<T, InjectError>,
) -> Result<T, InjectError> {
    conn.grab_server().map_err(display_failed)?;
    let result = f();
    let ungrab = conn.ungrab_server().map_err(display_failed);
    let flush = conn.flush().map_err(display_failed);
    let value = result?;
    ungrab?;
    flush?;
    Ok(value)
}

fn bind(conn: &RustConnection, keycode: u8, row: &[u32]) -> Result<(), InjectError> {
    conn.change_keyboard_mapping(1, keycode, row.len() as u8, row)
        .map_err(display_failed)?
        .check()
        .map_err(|e| InjectError::Keyboard(format!("cannot change the keyboard map: {e}")))
}

/// The row for a keycode carrying `syms`: the plain character alone also in column 1, so Shift
/// (or Caps Lock) does not change it.
fn row_for(syms: [u32; 2], per_keycode: usize) -> Vec<u32> {
    let mut row = vec![0u32; per_keycode.max(2)];
    row[0] = syms[0];
    row[1] = if syms[1] == 0 { syms[0] } else { syms[1] };
    row
}

fn read_record(
    conn: &RustConnection,
    root: xproto::Window,
    record: xproto::Atom,
) -> Result<Vec<(xproto::Window, u8)>, InjectError> {
    let reply = conn
        .get_property(false, root, record, AtomEnum::CARDINAL, 0, MAX_RECORD)
        .map_err(display_failed)?
        .reply()
        .map_err(display_failed)?;
    let values: Vec<u32> = reply.value32().map(Iterator::collect).unwrap_or_default();
    Ok(values
        .chunks_exact(2)
        .filter_map(|pair| Some((pair[0], u8::try_from(pair[1]).ok()?)))
        .collect())
}

fn write_record(
    conn: &RustConnection,
    root: xproto::Window,
    record: xproto::Atom,
    entries: &[(xproto::Window, u8)],
) -> Result<(), InjectError> {
    if entries.is_empty() {
        conn.delete_property(root, record).map_err(display_failed)?;
        return Ok(());
    }
    let flat: Vec<u32> = entries
        .iter()
        .flat_map(|&(owner, keycode)| [owner, u32::from(keycode)])
        .collect();
    conn.change_property32(PropMode::REPLACE, root, record, AtomEnum::CARDINAL, &flat)
        .map_err(display_failed)?;
    Ok(())
}

/// Whether `owner` is a live deskcam's window: the X server destroys a client's windows when
/// its connection closes, however the process ended.
fn alive(
    conn: &RustConnection,
    owner: xproto::Window,
    mark: xproto::Atom,
) -> Result<bool, InjectError> {
    let reply = conn
        .get_property(false, owner, mark, AtomEnum::ANY, 0, 1)
        .map_err(display_failed)?
        .reply();
    match reply {
        Ok(r) => Ok(r.type_ != u32::from(AtomEnum::NONE)),
        Err(ReplyError::X11Error(e)) if e.error_kind == ErrorKind::Window => Ok(false),
        Err(e) => Err(display_failed(e)),
    }
}

/// Unbinds the keycodes recorded for owners that are gone and drops them from the record.
/// Returns how many were unbound.
fn reclaim(
    conn: &RustConnection,
    root: xproto::Window,
    record: xproto::Atom,
    mark: xproto::Atom,
) -> Result<usize, InjectError> {
    grabbed(conn, || {
        let entries = read_record(conn, root, record)?;
        if entries.is_empty() {
            return Ok(0);
        }
        let map = read_keymap(conn)?;
        let mut owners: Vec<(xproto::Window, bool)> = Vec::new();
        let (mut live, mut unbound) = (Vec::new(), 0);
        for (owner, keycode) in entries {
            let is_alive = match owners.iter().find(|(w, _)| *w == owner) {
                Some(&(_, a)) => a,
                None => {
                    let a = alive(conn, owner, mark)?;
                    owners.push((owner, a));
                    a
                }
            };
            if is_alive {
                live.push((owner, keycode));
            } else if bound_by_us(map.row(keycode)) {
                bind(conn, keycode, &vec![0; map.per_keycode.max(2)])?;
                unbound += 1;
            }
        }
        write_record(conn, root, record, &live)?;
        Ok(unbound)
    })
}

impl Pool {
    /// Reclaims what dead deskcams left on this server, then makes the window that marks our
    /// own record entries as alive.
    pub(super) fn open(conn: &RustConnection, root: xproto::Window) -> Result<Pool, InjectError> {
        let record = intern(conn, RECORD)?;
        let mark = intern(conn, MARK)?;
        match reclaim(conn, root, record, mark)? {
            0 => {}
            n => log::info!(
                "unbound {n} spare keycodes a deskcam that did not exit cleanly left bound"
            ),
        }
        let owner = conn.generate_id().map_err(display_failed)?;
        conn.create_window(
            0,
            owner,
            root,
            -1,
            -1,
            1,
            1,
            0,
            xproto::WindowClass::INPUT_ONLY,
            0,
            &xproto::CreateWindowAux::new(),
        )
        .map_err(display_failed)?;
        conn.change_property8(PropMode::REPLACE, owner, mark, AtomEnum::STRING, b"deskcam")
            .map_err(display_failed)?;
        Ok(Pool {
            owner,
            record,
            owned: Vec::new(),
        })
    }

    /// Where `sym` is typed from the pool: a place already bound to it, a newly claimed spare
    /// keycode, the Shift column of one we own, or our least recently used place rebound (never
    /// on a keycode in `pressed`). With `shift_ok` false only plain places are used.
    pub(super) fn place_for(
        &mut self,
        conn: &RustConnection,
        root: xproto::Window,
        sym: u32,
        pressed: &HashSet<u8>,
        shift_ok: bool,
    ) -> Result<Place, InjectError> {
        let columns = if shift_ok { 2 } else { 1 };
        for o in &mut self.owned {
            if let Some(c) = (0..columns).find(|&c| o.syms[c] == sym) {
                o.used[c] = Some(Instant::now());
                return Ok(place(o.keycode, c));
            }
        }
        if self.owned.len() < POOL
            && let Some(keycode) = self.claim(conn, root, sym)?
        {
            self.owned.push(Owned {
                keycode,
                syms: [sym, 0],
                used: [Some(Instant::now()), None],
            });
            return Ok(place(keycode, 0));
        }
        let slots: Vec<(u8, usize, Option<Instant>)> = self
            .owned
            .iter()
            .flat_map(|o| (0..2).map(move |c| (o.keycode, c, o.used[c])))
            .collect();
        let Some(i) = least_recent(&slots, pressed, shift_ok) else {
            return Err(InjectError::Keyboard(
                "the keyboard map has no spare keycode to type this character".into(),
            ));
        };
        let (keycode, column, used) = slots[i];
        if let Some(used) = used {
            let wait = (used + REUSE_GAP).saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                thread::sleep(wait);
            }
        }
        let per_keycode = read_keymap(conn)?.per_keycode;
        let Some(o) = self.owned.iter_mut().find(|o| o.keycode == keycode) else {
            return Err(InjectError::Keyboard(
                "the spare keycode pool lost a keycode".into(),
            ));
        };
        let mut syms = o.syms;
        syms[column] = sym;
        bind(conn, keycode, &row_for(syms, per_keycode))?;
        o.syms = syms;
        o.used[column] = Some(Instant::now());
        Ok(place(keycode, column))
    }

    /// Takes a keycode nobody uses (no keysym, in no record) and binds `sym` to it.
    fn claim(
        &mut self,
        conn: &RustConnection,
        root: xproto::Window,
        sym: u32,
    ) -> Result<Option<u8>, InjectError> {
        grabbed(conn, || {
            let map = read_keymap(conn)?;
            let mut entries = read_record(conn, root, self.record)?;
            let Some(keycode) = map
                .spare_keycodes()
                .into_iter()
                .find(|k| !entries.iter().any(|(_, r)| r == k))
            else {
                return Ok(None);
            };
            // Recorded before it is bound: a crash in between leaves an entry for an empty
            // keycode, which the next start drops.
            entries.push((self.owner, keycode));
            write_record(conn, root, self.record, &entries)?;
            bind(conn, keycode, &row_for([sym, 0], map.per_keycode))?;
            Ok(Some(keycode))
        })
    }

    /// Unbinds our keycodes and drops our record entries (on a clean exit).
    pub(super) fn release(&mut self, conn: &RustConnection, root: xproto::Window) {
        let result = grabbed(conn, || {
            let map = read_keymap(conn)?;
            for o in self.owned.drain(..) {
                let row = map.row(o.keycode);
                if bound_by_us(row) && row.contains(&o.syms[0]) {
                    bind(conn, o.keycode, &vec![0; map.per_keycode.max(2)])?;
                }
            }
            let mut entries = read_record(conn, root, self.record)?;
            entries.retain(|(owner, _)| *owner != self.owner);
            write_record(conn, root, self.record, &entries)
        });
        if let Err(e) = result {
            log::debug!("cannot unbind the spare keycodes: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_we_bind_are_recognised() {
        assert!(bound_by_us(&[0x0100_6f22, 0x0100_6f22, 0, 0]));
        assert!(bound_by_us(&row_for([0x0100_20ac, 0], 7)));
        assert!(bound_by_us(&row_for([0x0100_20ac, 0x0100_6f22], 7)));
        // How an XKB server may report it back: the group copied into the next columns.
        assert!(bound_by_us(&[0xf6, 0xf6, 0xf6, 0xf6, 0, 0, 0]));
        assert!(!bound_by_us(&[0, 0, 0]));
        assert!(bound_by_us(&[0x71, 0x51]), "q Q could be ours");
        assert!(
            !bound_by_us(&[0x71, 0x51, 0x40]),
            "three characters are a layout's"
        );
        assert!(!bound_by_us(&[0xffe1, 0xffe1]), "Shift is no character");
        assert_eq!(row_for([0x61, 0], 3), vec![0x61, 0x61, 0]);
        assert_eq!(row_for([0x61, 0x62], 2), vec![0x61, 0x62]);
    }

    #[test]
    fn recycling_takes_the_least_recent_place_not_held_down() {
        let t = Instant::now();
        let at = |ms| Some(t + Duration::from_millis(ms));
        let slots = [
            (90, 0, at(5)),
            (90, 1, at(1)),
            (91, 0, at(0)),
            (91, 1, None),
        ];
        let none = HashSet::new();
        assert_eq!(
            least_recent(&slots, &none, true),
            Some(3),
            "never used first"
        );
        assert_eq!(least_recent(&slots, &none, false), Some(2), "plain only");
        assert_eq!(least_recent(&slots, &HashSet::from([91]), true), Some(1));
        assert_eq!(least_recent(&slots, &HashSet::from([90, 91]), true), None);
        assert_eq!(least_recent(&[], &none, true), None);
    }
}
