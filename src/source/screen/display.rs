//! One connection to an X server: checks the pixel format, resolves the streamed area, sets up
//! MIT-SHM (or the slow `GetImage` fallback), DAMAGE, XFixes cursor and RandR notifications, and
//! grabs pictures. Every X failure becomes a [`SourceError`] the capture loop acts on.

use std::time::{Duration, SystemTime};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _, ReportLevel};
use x11rb::protocol::randr::{self, ConnectionExt as _, NotifyMask};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _, CursorNotifyMask};
use x11rb::protocol::xproto::{
    ChangeWindowAttributesAux, ConnectionExt as _, EventMask, ImageFormat, ImageOrder, Window,
};
use x11rb::rust_connection::RustConnection;

use super::cursor::{self, CursorImage};
use super::shm::Segment;
use crate::config::{Region, ScreenArea};
use crate::encode::{PixelFormat, RawImage};
use crate::source::SourceError;

/// How pictures are read from the server.
enum Grabber {
    /// MIT-SHM: the server writes into memory we map.
    Shm { seg: shm::Seg, mem: Segment },
    /// Plain `GetImage`: every picture travels through the socket (~75x slower at 1080p).
    GetImage,
}

/// What the events read so far say.
#[derive(Default, Debug, Clone, Copy)]
pub struct Changes {
    /// Screen contents changed (DAMAGE).
    pub damaged: bool,
    /// The cursor's shape changed (XFixes).
    pub cursor_shape: bool,
    /// The screen was resized (RandR / root ConfigureNotify): reconnect to pick up the new size.
    pub resized: bool,
}

pub struct Display {
    conn: RustConnection,
    name: String,
    root: Window,
    screen: (u16, u16),
    area: Region,
    grabber: Grabber,
    damage: Option<damage::Damage>,
    xfixes: bool,
    cursor: Option<CursorImage>,
}

fn lost(name: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::Lost(format!("X display {name}: {e}"))
}

/// A display name with a host part (`host:0`, `host/tcp:0`) is reached over TCP, where file
/// descriptors cannot be passed, so MIT-SHM cannot work.
fn is_remote(name: &str) -> bool {
    let host = name.rsplit_once(':').map(|(h, _)| h).unwrap_or("");
    !(host.is_empty() || host == "unix" || host.starts_with('/') || host.starts_with("unix/"))
}

impl Display {
    /// Connects and prepares capture of `area`. `want_cursor` selects cursor notifications.
    pub fn open(name: &str, area: &ScreenArea, want_cursor: bool) -> Result<Display, SourceError> {
        let (conn, screen_num) = x11rb::connect(Some(name))
            .map_err(|e| SourceError::Lost(format!("cannot open X display {name}: {e}")))?;
        let setup = conn.setup();
        let Some(screen) = setup.roots.get(screen_num) else {
            return Err(SourceError::Unusable(format!(
                "X display {name} has no screen {screen_num}"
            )));
        };
        check_format(name, setup, screen)?;
        let root = screen.root;
        let size = (screen.width_in_pixels, screen.height_in_pixels);
        let has = |ext: &'static str| -> Result<bool, SourceError> {
            Ok(conn
                .extension_information(ext)
                .map_err(|e| lost(name, e))?
                .is_some())
        };
        let has_randr = has(randr::X11_EXTENSION_NAME)?;
        if has_randr {
            conn.randr_query_version(1, 5)
                .map_err(|e| lost(name, e))?
                .reply()
                .map_err(|e| lost(name, e))?;
        }
        let area = resolve_area(&conn, name, root, size, area, has_randr)?;

        // XFixes first: DAMAGE's regions are XFixes regions, and the cursor comes from it.
        let xfixes = has(xfixes::X11_EXTENSION_NAME)?;
        if xfixes {
            conn.xfixes_query_version(5, 0)
                .map_err(|e| lost(name, e))?
                .reply()
                .map_err(|e| lost(name, e))?;
            if want_cursor {
                conn.xfixes_select_cursor_input(root, CursorNotifyMask::DISPLAY_CURSOR)
                    .map_err(|e| lost(name, e))?;
            }
        } else if want_cursor {
            log::warn!("X display {name} has no XFixes: the cursor cannot be shown");
        }
        let damage = if has(damage::X11_EXTENSION_NAME)? && xfixes {
            conn.damage_query_version(1, 1)
                .map_err(|e| lost(name, e))?
                .reply()
                .map_err(|e| lost(name, e))?;
            let id = conn.generate_id().map_err(|e| lost(name, e))?;
            // NON_EMPTY: one event when the damaged region stops being empty, then silence
            // until we subtract it, so a busy screen does not flood us with rectangles.
            conn.damage_create(id, root, ReportLevel::NON_EMPTY)
                .map_err(|e| lost(name, e))?;
            Some(id)
        } else {
            log::warn!("X display {name} has no DAMAGE extension: grabbing at the full --fps rate");
            None
        };
        if has_randr {
            conn.randr_select_input(root, NotifyMask::SCREEN_CHANGE)
                .map_err(|e| lost(name, e))?;
        }
        // Root ConfigureNotify also reports a size change on servers without RandR events.
        conn.change_window_attributes(
            root,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::STRUCTURE_NOTIFY),
        )
        .map_err(|e| lost(name, e))?;

        let grabber = shm_grabber(&conn, name, &area, has(shm::X11_EXTENSION_NAME)?)?;
        conn.flush().map_err(|e| lost(name, e))?;
        let mut display = Display {
            conn,
            name: name.to_string(),
            root,
            screen: size,
            area,
            grabber,
            damage,
            xfixes,
            cursor: None,
        };
        if want_cursor && xfixes {
            display.refresh_cursor()?;
        }
        super::wayland::warn_once(&display.conn, name, root, has_randr);
        Ok(display)
    }

    pub fn area(&self) -> Region {
        self.area
    }

    pub fn screen_size(&self) -> (u16, u16) {
        self.screen
    }

    pub fn uses_shm(&self) -> bool {
        matches!(self.grabber, Grabber::Shm { .. })
    }

    pub fn has_damage(&self) -> bool {
        self.damage.is_some()
    }

    /// Reads every queued event without blocking. DAMAGE is subtracted at once: with
    /// `NON_EMPTY` reporting, no further notify comes until the region is emptied.
    pub fn pump(&mut self) -> Result<Changes, SourceError> {
        let mut changes = Changes::default();
        while let Some(event) = self
            .conn
            .poll_for_event()
            .map_err(|e| lost(&self.name, e))?
        {
            match event {
                Event::DamageNotify(_) => changes.damaged = true,
                Event::XfixesCursorNotify(_) => changes.cursor_shape = true,
                Event::RandrScreenChangeNotify(e) => {
                    changes.resized |= (e.width, e.height) != self.screen;
                }
                Event::ConfigureNotify(e) if e.window == self.root => {
                    changes.resized |= (e.width, e.height) != self.screen;
                }
                Event::Error(e) => log::debug!("X error: {e:?}"),
                _ => {}
            }
        }
        if changes.damaged
            && let Some(d) = self.damage
        {
            self.conn
                .damage_subtract(d, x11rb::NONE, x11rb::NONE)
                .map_err(|e| lost(&self.name, e))?;
            self.conn.flush().map_err(|e| lost(&self.name, e))?;
        }
        Ok(changes)
    }

    /// Sleeps until the server sends something or `timeout` passes.
    pub fn wait(&self, timeout: Duration) -> Result<(), SourceError> {
        let stream = self.conn.stream();
        let mut fds = [PollFd::new(stream, PollFlags::IN)];
        let ts = Timespec::try_from(timeout).unwrap_or(Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        });
        match poll(&mut fds, Some(&ts)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
            Err(e) => Err(lost(&self.name, e)),
        }
    }

    /// Where the pointer is, in root coordinates.
    pub fn pointer(&self) -> Result<(i16, i16), SourceError> {
        let r = self
            .conn
            .query_pointer(self.root)
            .map_err(|e| lost(&self.name, e))?
            .reply()
            .map_err(|e| lost(&self.name, e))?;
        Ok((r.root_x, r.root_y))
    }

    /// Fetches the current cursor shape (after an XFixes cursor notify).
    pub fn refresh_cursor(&mut self) -> Result<(), SourceError> {
        if !self.xfixes {
            return Ok(());
        }
        let r = self
            .conn
            .xfixes_get_cursor_image()
            .map_err(|e| lost(&self.name, e))?
            .reply()
            .map_err(|e| lost(&self.name, e))?;
        self.cursor = Some(CursorImage {
            width: r.width.into(),
            height: r.height.into(),
            xhot: r.xhot.into(),
            yhot: r.yhot.into(),
            pixels: r.cursor_image,
            serial: r.cursor_serial,
        });
        Ok(())
    }

    /// Grabs the streamed area; draws the cursor at `pointer` (root coordinates) if given.
    pub fn grab(&mut self, pointer: Option<(i16, i16)>) -> Result<RawImage, SourceError> {
        let a = self.area;
        let (x, y, w, h) = (a.x as i16, a.y as i16, a.width as u16, a.height as u16);
        let len = a.width as usize * a.height as usize * 4;
        let mut data = match &self.grabber {
            Grabber::Shm { seg, mem } => {
                self.conn
                    .shm_get_image(
                        self.root,
                        x,
                        y,
                        w,
                        h,
                        !0,
                        ImageFormat::Z_PIXMAP.into(),
                        *seg,
                        0,
                    )
                    .map_err(|e| lost(&self.name, e))?
                    .reply()
                    .map_err(|e| lost(&self.name, e))?;
                // The one copy: the segment is reused by the next grab while this picture may
                // still be waiting for an encoder thread.
                mem.bytes()[..len].to_vec()
            }
            Grabber::GetImage => {
                self.conn
                    .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, w, h, !0)
                    .map_err(|e| lost(&self.name, e))?
                    .reply()
                    .map_err(|e| lost(&self.name, e))?
                    .data
            }
        };
        let captured = SystemTime::now();
        if data.len() < len {
            return Err(lost(
                &self.name,
                format!("short image: {} of {len} bytes", data.len()),
            ));
        }
        if let (Some(c), Some((px, py))) = (&self.cursor, pointer) {
            cursor::composite(
                &mut cursor::Bgrx {
                    data: &mut data,
                    width: a.width,
                    height: a.height,
                    stride: a.width as usize * 4,
                },
                c,
                px as i64 - a.x as i64,
                py as i64 - a.y as i64,
            );
        }
        RawImage::packed(PixelFormat::Bgrx32, a.width, a.height, data, captured)
            .map_err(|e| lost(&self.name, e))
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        // Best effort: the server frees everything of ours when the connection closes anyway.
        if let Grabber::Shm { seg, .. } = self.grabber {
            let _ = self.conn.shm_detach(seg);
        }
        if let Some(d) = self.damage {
            let _ = self.conn.damage_destroy(d);
        }
        let _ = self.conn.flush();
    }
}

/// Only the layout we feed the encoder without conversion is accepted: 32 bits per pixel,
/// little-endian, red in bits 16..24 (memory order B,G,R,X). Anything else would give wrong
/// colours, so it is refused with the reason.
fn check_format(
    name: &str,
    setup: &x11rb::protocol::xproto::Setup,
    screen: &x11rb::protocol::xproto::Screen,
) -> Result<(), SourceError> {
    let depth = screen.root_depth;
    let bpp = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == depth)
        .map(|f| f.bits_per_pixel);
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| d.visuals.iter())
        .find(|v| v.visual_id == screen.root_visual);
    let masks = visual.map(|v| (v.red_mask, v.green_mask, v.blue_mask));
    if !matches!(depth, 24 | 32)
        || bpp != Some(32)
        || setup.image_byte_order != ImageOrder::LSB_FIRST
        || masks != Some((0xff0000, 0xff00, 0xff))
    {
        let masks = masks.map_or("unknown".into(), |(r, g, b)| {
            format!("{r:06x}/{g:06x}/{b:06x}")
        });
        let order = if setup.image_byte_order == ImageOrder::LSB_FIRST {
            "little-endian"
        } else {
            "big-endian"
        };
        return Err(SourceError::Unusable(format!(
            "X display {name} uses depth {depth}, {} bits per pixel, {order}, RGB masks {masks}; \
             only 24-bit colour in 32-bit little-endian pixels (the usual desktop) is supported",
            bpp.unwrap_or(0),
        )));
    }
    Ok(())
}

/// Finds the rectangle to stream in root coordinates.
fn resolve_area(
    conn: &RustConnection,
    name: &str,
    root: Window,
    (sw, sh): (u16, u16),
    area: &ScreenArea,
    has_randr: bool,
) -> Result<Region, SourceError> {
    let whole = Region {
        x: 0,
        y: 0,
        width: sw.into(),
        height: sh.into(),
    };
    match area {
        ScreenArea::Whole => Ok(whole),
        ScreenArea::Region(r) => {
            if r.x + r.width > whole.width || r.y + r.height > whole.height {
                return Err(SourceError::Unusable(format!(
                    "--region {}x{}+{}+{} does not fit the {sw}x{sh} screen of {name}",
                    r.width, r.height, r.x, r.y
                )));
            }
            Ok(*r)
        }
        ScreenArea::Monitor(wanted) => {
            if !has_randr {
                return Err(SourceError::Unusable(format!(
                    "--monitor needs RandR, which X display {name} lacks"
                )));
            }
            let monitors = conn
                .randr_get_monitors(root, true)
                .map_err(|e| lost(name, e))?
                .reply()
                .map_err(|e| lost(name, e))?
                .monitors;
            let mut names = Vec::new();
            for m in &monitors {
                let n = conn
                    .get_atom_name(m.name)
                    .map_err(|e| lost(name, e))?
                    .reply()
                    .map_err(|e| lost(name, e))?
                    .name;
                names.push(String::from_utf8_lossy(&n).into_owned());
            }
            let index = wanted.parse::<usize>().ok();
            let found = monitors
                .iter()
                .zip(&names)
                .enumerate()
                .find(|(i, (_, n))| Some(*i) == index || *n == wanted);
            let Some((_, (m, _))) = found else {
                return Err(SourceError::Unusable(format!(
                    "--monitor {wanted:?}: X display {name} has monitors {}",
                    names
                        .iter()
                        .enumerate()
                        .map(|(i, n)| format!("{i}={n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            let r = Region {
                x: m.x.max(0) as u32,
                y: m.y.max(0) as u32,
                width: m.width.into(),
                height: m.height.into(),
            };
            // A monitor may hang over the framebuffer's edge (panning); stream what exists.
            let r = Region {
                width: r.width.min(whole.width.saturating_sub(r.x)),
                height: r.height.min(whole.height.saturating_sub(r.y)),
                ..r
            };
            if r.width == 0 || r.height == 0 {
                return Err(SourceError::Unusable(format!(
                    "--monitor {wanted:?} lies outside the {sw}x{sh} screen"
                )));
            }
            Ok(r)
        }
    }
}

/// Sets up MIT-SHM for `area`, or says once why the slow path is used.
fn shm_grabber(
    conn: &RustConnection,
    name: &str,
    area: &Region,
    has_shm: bool,
) -> Result<Grabber, SourceError> {
    let why_not = if !has_shm {
        "the server has no MIT-SHM".to_string()
    } else if is_remote(name) {
        "the display is remote".to_string()
    } else {
        let v = conn
            .shm_query_version()
            .map_err(|e| lost(name, e))?
            .reply()
            .map_err(|e| lost(name, e))?;
        if (v.major_version, v.minor_version) < (1, 2) {
            format!(
                "MIT-SHM {}.{} lacks fd passing (1.2)",
                v.major_version, v.minor_version
            )
        } else {
            let len = area.width as usize * area.height as usize * 4;
            match Segment::new(len) {
                Err(e) => format!("cannot create shared memory: {e}"),
                Ok((mem, fd)) => {
                    let seg = conn.generate_id().map_err(|e| lost(name, e))?;
                    // `check` waits for the server's verdict (BadAccess on servers that refuse
                    // shared memory, e.g. in another container).
                    match conn
                        .shm_attach_fd(seg, fd, false)
                        .map_err(|e| lost(name, e))?
                        .check()
                    {
                        Ok(()) => return Ok(Grabber::Shm { seg, mem }),
                        Err(e) => format!("the server refused shared memory: {e}"),
                    }
                }
            }
        }
    };
    log::warn!("X display {name}: {why_not}; using plain GetImage (much slower)");
    Ok(Grabber::GetImage)
}

#[cfg(test)]
mod tests {
    use super::is_remote;

    #[test]
    fn remote_display_names() {
        for local in [":0", ":1.0", "unix:0", "/tmp/.X11-unix/X0", "unix/:3"] {
            assert!(!is_remote(local), "{local}");
        }
        for remote in ["host:0", "10.0.0.2:1", "host/tcp:0"] {
            assert!(is_remote(remote), "{remote}");
        }
    }
}
