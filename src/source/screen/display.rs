//! One connection to an X server, set up by [`super::setup`]: reads its events (DAMAGE, cursor
//! shape, resize), polls the pointer and grabs pictures of the streamed area. Every X failure
//! becomes a [`SourceError`] the capture loop acts on.

use std::time::{Duration, SystemTime};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::ConnectionExt as _;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

use super::cursor::{self, CursorImage};
use super::shm::Segment;
use crate::config::ScreenArea;
use crate::geometry::Region;
use crate::image::{PixelFormat, RawImage};
use crate::source::SourceError;

/// How pictures are read from the server.
pub enum Grabber {
    /// MIT-SHM: the server writes into memory we map.
    Shm { seg: shm::Seg, mem: Segment },
    /// Plain `GetImage`: every picture travels through the socket (much slower; see
    /// docs/screen.md).
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
    pub(super) conn: RustConnection,
    pub(super) name: String,
    pub(super) root: Window,
    pub(super) screen: (u16, u16),
    pub(super) area: Region,
    pub(super) grabber: Grabber,
    pub(super) damage: Option<damage::Damage>,
    pub(super) xfixes: bool,
    pub(super) cursor: Option<CursorImage>,
}

/// An X failure on display `name`: the connection is gone or the server refused; reconnect.
pub fn x_failed(name: &str, e: impl std::fmt::Display) -> SourceError {
    SourceError::Lost(format!("X display {name}: {e}"))
}

/// `.or_lost(name)` turns any X error into [`x_failed`], so each request reads as one line.
pub trait OrLost<T> {
    fn or_lost(self, name: &str) -> Result<T, SourceError>;
}

impl<T, E: std::fmt::Display> OrLost<T> for Result<T, E> {
    fn or_lost(self, name: &str) -> Result<T, SourceError> {
        self.map_err(|e| x_failed(name, e))
    }
}

impl Display {
    /// Connects and prepares capture of `area`. `want_cursor` selects cursor notifications.
    pub fn open(name: &str, area: &ScreenArea, want_cursor: bool) -> Result<Display, SourceError> {
        super::setup::open(name, area, want_cursor)
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
        while let Some(event) = self.conn.poll_for_event().or_lost(&self.name)? {
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
                .or_lost(&self.name)?;
            self.conn.flush().or_lost(&self.name)?;
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
            Err(e) => Err(x_failed(&self.name, e)),
        }
    }

    /// Where the pointer is, in root coordinates.
    pub fn pointer(&self) -> Result<(i16, i16), SourceError> {
        let r = self
            .conn
            .query_pointer(self.root)
            .or_lost(&self.name)?
            .reply()
            .or_lost(&self.name)?;
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
            .or_lost(&self.name)?
            .reply()
            .or_lost(&self.name)?;
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
                    .or_lost(&self.name)?
                    .reply()
                    .or_lost(&self.name)?;
                // The one copy: the segment is reused by the next grab while this picture may
                // still be waiting for an encoder thread.
                mem.bytes()[..len].to_vec()
            }
            Grabber::GetImage => {
                self.conn
                    .get_image(ImageFormat::Z_PIXMAP, self.root, x, y, w, h, !0)
                    .or_lost(&self.name)?
                    .reply()
                    .or_lost(&self.name)?
                    .data
            }
        };
        let captured = SystemTime::now();
        if data.len() < len {
            return Err(x_failed(
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
        RawImage::packed(PixelFormat::Bgrx32, a.width, a.height, data, captured).or_lost(&self.name)
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
