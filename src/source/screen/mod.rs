//! Streams an X11 desktop: grabs only when DAMAGE says the screen changed (or the pointer moved),
//! at most `--fps` times a second, so a static desktop costs almost nothing while a busy one is
//! grabbed through MIT-SHM in under a millisecond per 1080p frame. By default only the rows
//! DAMAGE names are read and the picture goes to the encoder in bands ([`bands`]), so only what
//! changed is encoded; `--full-frames` grabs and encodes every frame whole.

mod bands;
mod cursor;
mod display;
mod settings;
mod setup;
mod shm;
mod wayland;

use std::time::{Duration, Instant};

use super::{Grab, Source, SourceError};
use crate::geometry::{Region, Resolution};
use crate::json::Json;
use bands::Banding;
use display::Display;
pub use settings::{ScreenArea, ScreenSettings};

/// Longest the capture call blocks with nothing to do (the trait asks for about a second).
const MAX_WAIT: Duration = Duration::from_secs(1);
/// How often the pointer position is polled while the cursor is drawn and the server has no
/// XInput 2. X reports motion only to windows that select it, and the root window's children
/// swallow it, so a poll is the portable way; 50 polls a second cost little (the static-screen
/// CPU in docs/performance.md includes them) and keep cursor lag under 20 ms.
const POINTER_POLL: Duration = Duration::from_millis(20);
/// With XInput 2 raw motion the pointer is read when it moves (at most this often, so a fast
/// mouse does not flood the X connection with queries), and otherwise once a second in case an
/// event was missed.
const MOTION_GAP: Duration = Duration::from_millis(4);
const IDLE_POINTER_POLL: Duration = Duration::from_secs(1);

pub struct Screen {
    display_name: String,
    area: ScreenArea,
    want_cursor: bool,
    /// Shortest time between two grabs (`--fps` is a maximum for the screen).
    interval: Duration,
    display: Option<Display>,
    /// The last streamed area, kept across reconnects for `/state` and input mapping.
    last_area: Option<Region>,
    /// Rows per band, or `None` with `--full-frames`.
    band_rows: Option<u32>,
    /// The banded picture of the open display.
    banding: Option<Banding>,
    /// Something changed that the last grab does not show yet.
    dirty: bool,
    /// DAMAGE reported drawing since the last grab.
    notified: bool,
    /// `?fresh=1` asked for a picture taken now.
    fresh: bool,
    next_due: Instant,
    next_pointer_poll: Instant,
    last_pointer_poll: Instant,
    pointer: Option<(i16, i16)>,
    grabs: u64,
}

impl Screen {
    pub fn new(settings: &ScreenSettings) -> Result<Screen, SourceError> {
        let Some(display_name) = settings.display.clone() else {
            return Err(SourceError::Unusable(
                "--source screen needs an X display: give --display :N or set $DISPLAY".into(),
            ));
        };
        let now = Instant::now();
        Ok(Screen {
            display_name,
            area: settings.area.clone(),
            want_cursor: settings.cursor,
            interval: Duration::from_secs(1) / settings.max_fps.max(1),
            display: None,
            last_area: None,
            band_rows: settings.band_rows,
            banding: None,
            dirty: true,
            notified: false,
            fresh: false,
            next_due: now,
            next_pointer_poll: now,
            last_pointer_poll: now,
            pointer: None,
            grabs: 0,
        })
    }

    fn connect(&mut self) -> Result<(), SourceError> {
        self.display = None;
        let mut d = Display::open(&self.display_name, &self.area, self.want_cursor)?;
        let a = d.area();
        d.eager_subtract = self.band_rows.is_none();
        self.banding = self
            .band_rows
            .map(|rows| Banding::new(a.width, a.height, rows));
        if self.last_area.is_some_and(|old| old != a) {
            log::info!("X display {}: now streaming {a}", self.display_name);
        }
        self.last_area = Some(a);
        self.display = Some(d);
        self.dirty = true;
        Ok(())
    }
}

/// When the grab after one due at `due` (and taken at `now`) may happen: on a fixed schedule, so
/// a slightly late grab does not slow the rate, but never sooner than one interval after a grab
/// that was late by more than that (after a quiet spell), so `--fps` is never exceeded in a burst.
fn next_due(due: Instant, now: Instant, interval: Duration) -> Instant {
    let next = due + interval;
    if next < now { now + interval } else { next }
}

impl Source for Screen {
    fn open(&mut self) -> Result<(), SourceError> {
        self.connect()
    }

    fn capture(&mut self) -> Result<Grab, SourceError> {
        let deadline = Instant::now() + MAX_WAIT;
        loop {
            let Some(d) = self.display.as_mut() else {
                return Err(SourceError::Lost("X display not open".into()));
            };
            let now = Instant::now();
            // The pointer is polled before events are read: its reply may carry events along,
            // and they must be seen before we sleep on the socket.
            if self.want_cursor && now >= self.next_pointer_poll {
                let p = d.pointer()?;
                if self.pointer != Some(p) {
                    self.pointer = Some(p);
                    self.dirty = true;
                }
                self.last_pointer_poll = now;
                self.next_pointer_poll = now
                    + if d.has_motion_events() {
                        IDLE_POINTER_POLL
                    } else {
                        POINTER_POLL
                    };
            }
            let changes = d.pump()?;
            if changes.resized {
                // A new size needs a new shared segment and maybe a new monitor rectangle;
                // reconnecting redoes all of it in a few milliseconds.
                self.connect()?;
                continue;
            }
            if changes.pointer_moved {
                let soon = (self.last_pointer_poll + MOTION_GAP).max(Instant::now());
                self.next_pointer_poll = self.next_pointer_poll.min(soon);
            }
            if changes.cursor_shape {
                d.refresh_cursor()?;
            }
            self.notified |= changes.damaged;
            let pending = self.banding.as_ref().is_some_and(Banding::pending);
            self.dirty |= changes.damaged || changes.cursor_shape || !d.has_damage() || pending;
            let now = Instant::now();
            if self.dirty && now >= self.next_due {
                self.dirty = false;
                self.next_due = next_due(self.next_due, now, self.interval);
                let pointer = if self.want_cursor { self.pointer } else { None };
                self.grabs += 1;
                let Some(banding) = self.banding.as_mut() else {
                    return Ok(Grab::Raw(d.grab(pointer)?));
                };
                let (notified, fresh) = (self.notified, self.fresh);
                (self.notified, self.fresh) = (false, false);
                if let Some(img) = banding.grab(d, pointer, notified, fresh)? {
                    return Ok(Grab::Bands(img));
                }
                continue;
            }
            if now >= deadline {
                return Ok(Grab::Unchanged);
            }
            let mut wake = deadline;
            if self.dirty {
                wake = wake.min(self.next_due);
            }
            if self.want_cursor {
                wake = wake.min(self.next_pointer_poll);
            }
            d.wait(wake.saturating_duration_since(now))?;
        }
    }

    fn close(&mut self) {
        self.display = None;
    }

    /// A `?fresh=1` snapshot wants a picture taken now, changed or not.
    fn refresh(&mut self) {
        self.dirty = true;
        self.fresh = true;
    }

    fn info(&self) -> Vec<(String, Json)> {
        let mut info = vec![
            ("display".into(), Json::str(self.display_name.clone())),
            ("cursor".into(), Json::Bool(self.want_cursor)),
            ("grabs".into(), Json::Int(self.grabs as i64)),
            (
                "band_rows".into(),
                self.band_rows.map_or(Json::Null, |r| Json::Int(r.into())),
            ),
        ];
        if let Some(a) = self.last_area {
            info.push(("area".into(), Json::str(a.to_string())));
        }
        if let Some(d) = &self.display {
            let (w, h) = d.screen_size();
            info.push(("screen".into(), Json::str(format!("{w}x{h}"))));
            info.push((
                "capture".into(),
                Json::str(if d.uses_shm() { "MIT-SHM" } else { "GetImage" }),
            ));
            info.push(("damage".into(), Json::Bool(d.has_damage())));
        }
        info
    }

    fn nominal_size(&self) -> Option<Resolution> {
        self.last_area.map(|a| a.size())
    }

    fn area(&self) -> Option<Region> {
        self.last_area
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_keeps_the_schedule_and_never_bursts() {
        let t = Instant::now();
        let i = Duration::from_millis(100);
        // On time or a little late: the schedule holds.
        assert_eq!(next_due(t, t, i), t + i);
        assert_eq!(next_due(t, t + i / 2, i), t + i);
        // After a quiet minute, the next grab is a whole interval after this one.
        let later = t + Duration::from_secs(60);
        assert_eq!(next_due(t, later, i), later + i);
    }
}
