//! One connection to an X server, set up by [`super::setup`]: reads its events (DAMAGE, cursor
//! shape, resize), polls the pointer and grabs pictures of the streamed area. Every X failure
//! becomes a [`SourceError`] the capture loop acts on.

use std::time::{Duration, SystemTime};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

use super::cursor::{self, CursorImage};
use super::settings::ScreenArea;
use super::shm::Segment;
use crate::geometry::Region;
use crate::image::{PixelFormat, RawImage};
use crate::source::SourceError;

/// How pictures are read from the server.
pub enum Grabber {
    /// MIT-SHM: the server writes into memory we map.
    Shm(Segment),
    /// Plain `GetImage`: every picture travels through the socket (much slower; see
    /// docs/screen.md) into this copy of the streamed area.
    GetImage { buf: Vec<u8> },
}

/// Where the screen changed, as rows of the streamed area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damaged {
    /// These half-open row ranges (possibly overlapping; empty when nothing changed).
    Rows(Vec<(u32, u32)>),
    /// Anything may have changed (the server has no DAMAGE).
    All,
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
    /// The pointer moved (XInput 2 raw motion).
    pub pointer_moved: bool,
}

pub struct Display {
    pub(super) conn: RustConnection,
    pub(super) name: String,
    pub(super) root: Window,
    pub(super) screen: (u16, u16),
    pub(super) area: Region,
    pub(super) grabber: Grabber,
    /// The DAMAGE object and the region its damage is moved into at each grab.
    pub(super) damage: Option<(damage::Damage, xfixes::Region)>,
    pub(super) xfixes: bool,
    pub(super) cursor: Option<CursorImage>,
    /// Subtract damage as soon as it is reported (`--full-frames`, which grabs everything).
    pub(super) eager_subtract: bool,
    /// XInput 2 raw motion events arrive, so the pointer need not be polled.
    pub(super) motion: bool,
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
        matches!(self.grabber, Grabber::Shm(_))
    }

    pub fn has_damage(&self) -> bool {
        self.damage.is_some()
    }

    /// Whether pointer moves arrive as events (else the pointer must be polled).
    pub fn has_motion_events(&self) -> bool {
        self.motion
    }

    /// Reads every queued event without blocking. DAMAGE is subtracted by the next grab (or at
    /// once with `eager_subtract`): with `NON_EMPTY` reporting, no further notify comes until
    /// then.
    pub fn pump(&mut self) -> Result<Changes, SourceError> {
        let mut changes = Changes::default();
        while let Some(event) = self.conn.poll_for_event().or_lost(&self.name)? {
            match event {
                Event::DamageNotify(_) => changes.damaged = true,
                Event::XfixesCursorNotify(_) => changes.cursor_shape = true,
                Event::XinputRawMotion(_) => changes.pointer_moved = true,
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
            && self.eager_subtract
            && let Some((d, _)) = self.damage
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

    /// The cursor shape, if it is shown.
    pub fn cursor(&self) -> Option<&CursorImage> {
        self.cursor.as_ref()
    }

    /// The streamed area as last grabbed, row by row (`width * 4` bytes each): only the rows
    /// of [`Display::grab_rows`] are current.
    pub fn pixels(&self) -> Result<&[u8], SourceError> {
        let len = self.area.width as usize * self.area.height as usize * 4;
        let all = match &self.grabber {
            Grabber::Shm(mem) => mem.bytes().ok_or_else(|| {
                x_failed(
                    &self.name,
                    "the shared memory may still be written after an error",
                )
            })?,
            Grabber::GetImage { buf } => &buf[..],
        };
        all.get(..len)
            .ok_or_else(|| x_failed(&self.name, "the picture is larger than its buffer"))
    }

    /// Grabs the row ranges `runs` of the streamed area into [`Display::pixels`], then takes the
    /// damage reported so far. The requests are sent together and the server serves them in
    /// order, so the damage returned covers every change from the previous call's damage up to
    /// a moment just after these rows were read (what [`super::bands`] needs to prove a frame
    /// is one moment). Returns that damage and when the rows were read.
    pub fn grab_rows(&mut self, runs: &[(u32, u32)]) -> Result<(Damaged, SystemTime), SourceError> {
        let (damage, captured) = self.read_rows(runs, true)?;
        Ok((damage.unwrap_or(Damaged::All), captured))
    }

    /// Reads `runs` and, if `take`, the damage after them.
    fn read_rows(
        &mut self,
        runs: &[(u32, u32)],
        take: bool,
    ) -> Result<(Option<Damaged>, SystemTime), SourceError> {
        let a = self.area;
        let damage_object = if take { self.damage } else { None };
        let stride = a.width as usize * 4;
        let (x, w) = (a.x as i16, a.width as u16);
        let y = |y0: u32| (a.y + y0) as i16;
        let name = &self.name;
        match &mut self.grabber {
            Grabber::Shm(mem) => {
                let conn = &self.conn;
                let damage = mem
                    .get_rows(conn, self.root, a, runs, || {
                        take_damage(conn, damage_object, name)
                    })
                    .or_lost(name)??;
                let captured = SystemTime::now();
                Ok((damaged(damage, a, name, take)?, captured))
            }
            Grabber::GetImage { buf } => {
                let mut cookies = Vec::with_capacity(runs.len());
                for &(y0, y1) in runs {
                    let h = (y1 - y0) as u16;
                    cookies.push((
                        y0 as usize * stride,
                        self.conn
                            .get_image(ImageFormat::Z_PIXMAP, self.root, x, y(y0), w, h, !0)
                            .or_lost(name)?,
                    ));
                }
                let damage = take_damage(&self.conn, damage_object, name)?;
                for (at, c) in cookies {
                    let data = c.reply().or_lost(name)?.data;
                    let dst = buf.get_mut(at..at + data.len()).ok_or_else(|| {
                        x_failed(name, format!("image of {} bytes too long", data.len()))
                    })?;
                    dst.copy_from_slice(&data);
                }
                let captured = SystemTime::now();
                Ok((damaged(damage, a, name, take)?, captured))
            }
        }
    }

    /// Grabs the whole streamed area as one picture (the `--full-frames` path, which takes the
    /// damage in [`Display::pump`] as soon as it is reported) and draws the cursor at
    /// `pointer` (root coordinates) if given.
    pub fn grab(&mut self, pointer: Option<(i16, i16)>) -> Result<RawImage, SourceError> {
        let a = self.area;
        let (_, captured) = self.read_rows(&[(0, a.height)], false)?;
        let mut data = self.pixels()?.to_vec();
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

type FetchCookie<'c> = x11rb::cookie::Cookie<'c, RustConnection, xfixes::FetchRegionReply>;

/// Moves the damage so far into our region and asks for its rectangles.
fn take_damage<'c>(
    conn: &'c RustConnection,
    damage: Option<(damage::Damage, xfixes::Region)>,
    name: &str,
) -> Result<Option<FetchCookie<'c>>, SourceError> {
    let Some((d, parts)) = damage else {
        return Ok(None);
    };
    conn.damage_subtract(d, x11rb::NONE, parts).or_lost(name)?;
    Ok(Some(conn.xfixes_fetch_region(parts).or_lost(name)?))
}

/// The damaged rectangles (root coordinates) as rows of `area`; `None` if not `taken`.
fn damaged(
    cookie: Option<FetchCookie<'_>>,
    area: Region,
    name: &str,
    taken: bool,
) -> Result<Option<Damaged>, SourceError> {
    let Some(cookie) = cookie else {
        return Ok(taken.then_some(Damaged::All));
    };
    let (ax, ay) = (area.x as i64, area.y as i64);
    let (ax1, ay1) = (ax + area.width as i64, ay + area.height as i64);
    let rows = cookie
        .reply()
        .or_lost(name)?
        .rectangles
        .iter()
        .filter_map(|r| {
            let (x0, y0) = (r.x as i64, r.y as i64);
            let (x1, y1) = (x0 + r.width as i64, y0 + r.height as i64);
            let (top, bottom) = (y0.max(ay), y1.min(ay1));
            (x0 < ax1 && x1 > ax && top < bottom).then(|| ((top - ay) as u32, (bottom - ay) as u32))
        })
        .collect();
    Ok(Some(Damaged::Rows(rows)))
}

impl Drop for Display {
    fn drop(&mut self) {
        // Best effort: the server frees everything of ours when the connection closes anyway.
        if let Grabber::Shm(mem) = &self.grabber {
            mem.detach(&self.conn);
        }
        if let Some((d, parts)) = self.damage {
            let _ = self.conn.damage_destroy(d);
            let _ = self.conn.xfixes_destroy_region(parts);
        }
        let _ = self.conn.flush();
    }
}
