//! The screen in bands of one JPEG MCU row: reads only the rows DAMAGE reports, keeps the
//! picture as shared bands (a band that did not change is the same `Arc` as in the previous
//! frame, so the encoder reuses its JPEG), and draws the cursor into the bands it covers, so a
//! pointer move re-encodes only the bands it left and entered.
//!
//! Every frame is the screen at one moment, proved with the damage rather than by reading the
//! whole screen: [`Display::grab_rows`] reads some rows and then takes the damage, in one batch
//! the server serves in order. Changes between two reads are in the damage taken at the first
//! (drawn before it) or at the second (drawn after it). So if the rows read this time include
//! every band in both, no other band changed in between and the frame is the screen as it was
//! when the rows were read; if not, the missing bands are read too and the proof starts over.
//! Damage over-reports, so each band read is compared with its last pixels before it counts as
//! changed.

use std::sync::Arc;
use std::time::SystemTime;

use super::cursor::{self, CursorImage};
use super::display::{Damaged, Display};
use crate::image::BandedImage;
use crate::source::SourceError;

/// Reads before the whole area is read at once, which always completes the proof.
const MAX_ATTEMPTS: usize = 3;

/// Where the cursor was drawn: its hotspot in picture coordinates, the rows it covers, its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Spot {
    x: i64,
    y: i64,
    top: i64,
    bottom: i64,
    serial: u32,
}

impl Spot {
    fn covers(&self, rows: (i64, i64)) -> bool {
        self.top < rows.1 && self.bottom > rows.0
    }
}

pub struct Banding {
    width: u32,
    height: u32,
    rows: u32,
    /// Bands to read at the next grab: the last damage taken may be newer than the last read.
    carry: Vec<bool>,
    /// The screen without the cursor (empty until the first grab).
    clean: Vec<Arc<Vec<u8>>>,
    /// The last picture delivered, cursor drawn in.
    shown: Vec<Arc<Vec<u8>>>,
    spot: Option<Spot>,
}

impl Banding {
    pub fn new(width: u32, height: u32, rows: u32) -> Banding {
        let count = height.div_ceil(rows) as usize;
        Banding {
            width,
            height,
            rows,
            carry: vec![true; count],
            clean: Vec::new(),
            shown: Vec::new(),
            spot: None,
        }
    }

    /// Whether bands must be read again even without new damage.
    pub fn pending(&self) -> bool {
        self.carry.iter().any(|&c| c)
    }

    /// Reads what may have changed and returns the new picture, or `None` when no band looks
    /// different (unless `always`, for `?fresh=1`, which also re-reads every band). `notified`
    /// says DAMAGE reported something since the last grab; without it and with nothing
    /// pending, only the cursor can have moved and the X server is not asked at all.
    pub fn grab(
        &mut self,
        d: &mut Display,
        pointer: Option<(i16, i16)>,
        notified: bool,
        always: bool,
    ) -> Result<Option<BandedImage>, SourceError> {
        let first = self.clean.is_empty();
        let (read, captured) = if first || always || notified || self.pending() {
            self.read(d, first || always)?
        } else {
            (vec![false; self.carry.len()], SystemTime::now())
        };
        let changed = self.compare(d.pixels()?, &read, first);
        let area = d.area();
        let spot = match (d.cursor(), pointer) {
            (Some(c), Some((px, py))) => Some(spot_of(
                c,
                px as i64 - area.x as i64,
                py as i64 - area.y as i64,
            )),
            _ => None,
        };
        let any = self.redraw(&changed, spot, d.cursor(), first);
        if !any && !always {
            return Ok(None);
        }
        Ok(Some(BandedImage {
            width: self.width,
            height: self.height,
            band_rows: self.rows,
            bands: self.shown.clone(),
            captured,
        }))
    }

    /// Reads rows until the damage proves the bands read make one moment (module docs).
    /// Returns which bands were read and when.
    fn read(&mut self, d: &mut Display, all: bool) -> Result<(Vec<bool>, SystemTime), SourceError> {
        let count = self.carry.len();
        let mut want = if all {
            vec![true; count]
        } else {
            self.carry.clone()
        };
        for attempt in 1.. {
            if attempt > MAX_ATTEMPTS {
                want = vec![true; count];
            }
            let (damage, captured) = d.grab_rows(&runs(&want, self.rows, self.height))?;
            let after = self.bands_of(&damage);
            let proved = after.iter().zip(&want).all(|(&a, &w)| w || !a);
            if proved {
                self.carry = after;
                return Ok((want, captured));
            }
            want.iter_mut().zip(&after).for_each(|(w, a)| *w |= *a);
        }
        unreachable!("the loop reads everything after MAX_ATTEMPTS")
    }

    /// Bands touched by `damage`.
    fn bands_of(&self, damage: &Damaged) -> Vec<bool> {
        let mut out = vec![false; self.carry.len()];
        match damage {
            Damaged::All => out.fill(true),
            Damaged::Rows(rows) => {
                for &(y0, y1) in rows {
                    let (b0, b1) = (y0 / self.rows, (y1 - 1) / self.rows);
                    out[b0 as usize..=b1 as usize].fill(true);
                }
            }
        }
        out
    }

    /// Takes in the bands read whose pixels differ from the last ones; returns which did.
    fn compare(&mut self, pixels: &[u8], read: &[bool], first: bool) -> Vec<bool> {
        let band_bytes = (self.width * self.rows) as usize * 4;
        let mut changed = vec![false; read.len()];
        for (b, now) in pixels.chunks(band_bytes).enumerate() {
            if first {
                self.clean.push(Arc::new(now.to_vec()));
                changed[b] = true;
            } else if read[b] && self.clean[b][..] != *now {
                self.clean[b] = Arc::new(now.to_vec());
                changed[b] = true;
            }
        }
        changed
    }

    /// Makes the bands to show: changed ones, and those the cursor left or entered. Returns
    /// whether any band differs from the last picture.
    fn redraw(
        &mut self,
        changed: &[bool],
        spot: Option<Spot>,
        shape: Option<&CursorImage>,
        first: bool,
    ) -> bool {
        if first {
            self.shown = self.clean.clone();
        }
        let moved = spot != self.spot;
        let mut any = first;
        for (b, &changed) in changed.iter().enumerate() {
            let rows = (
                b as i64 * self.rows as i64,
                (b as i64 + 1) * self.rows as i64,
            );
            let covered = |s: Option<Spot>| s.is_some_and(|s| s.covers(rows));
            if !(first || changed || (moved && (covered(self.spot) || covered(spot)))) {
                continue;
            }
            self.shown[b] = match (spot, shape) {
                (Some(s), Some(c)) if s.covers(rows) => {
                    let mut data = self.clean[b].to_vec();
                    let height = (data.len() / (self.width as usize * 4)) as u32;
                    let mut dst = cursor::Bgrx {
                        data: &mut data,
                        width: self.width,
                        height,
                        stride: self.width as usize * 4,
                    };
                    cursor::composite(&mut dst, c, s.x, s.y - rows.0);
                    Arc::new(data)
                }
                _ => self.clean[b].clone(),
            };
            any = true;
        }
        self.spot = spot;
        any
    }
}

fn spot_of(c: &CursorImage, x: i64, y: i64) -> Spot {
    let top = y - c.yhot as i64;
    Spot {
        x,
        y,
        top,
        bottom: top + c.height as i64,
        serial: c.serial,
    }
}

/// Row ranges of the runs of wanted bands.
fn runs(want: &[bool], rows: u32, height: u32) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (b, _) in want.iter().enumerate().filter(|(_, w)| **w) {
        let (y0, y1) = (b as u32 * rows, ((b as u32 + 1) * rows).min(height));
        match out.last_mut() {
            Some(last) if last.1 == y0 => last.1 = y1,
            _ => out.push((y0, y1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_neighbouring_bands_and_stop_at_the_last_row() {
        let want = [true, true, false, true, false, true];
        assert_eq!(runs(&want, 16, 90), vec![(0, 32), (48, 64), (80, 90)]);
        assert_eq!(runs(&[false; 3], 16, 48), vec![]);
    }

    #[test]
    fn damage_rows_mark_every_band_they_touch() {
        let b = Banding::new(100, 90, 16);
        let rows = Damaged::Rows(vec![(15, 17), (80, 90)]);
        assert_eq!(
            b.bands_of(&rows),
            vec![true, true, false, false, false, true]
        );
        assert!(b.bands_of(&Damaged::All).iter().all(|&x| x));
    }

    #[test]
    fn a_cursor_move_redraws_only_the_bands_it_left_and_entered() {
        let mut b = Banding::new(64, 64, 16);
        let pixels = vec![10u8; 64 * 64 * 4];
        let changed = b.compare(&pixels, &[true; 4], true);
        let c = CursorImage {
            width: 4,
            height: 4,
            xhot: 0,
            yhot: 0,
            pixels: vec![0xFFFFFFFF; 16],
            serial: 1,
        };
        assert!(b.redraw(&changed, Some(spot_of(&c, 5, 2)), Some(&c), true));
        let before = b.shown.clone();
        assert_ne!(before[0], b.clean[0], "cursor drawn into band 0");
        // Down to row 40: band 0 goes back to clean, band 2 gets the cursor, 1 and 3 untouched.
        assert!(b.redraw(&[false; 4], Some(spot_of(&c, 5, 40)), Some(&c), false));
        assert!(Arc::ptr_eq(&b.shown[0], &b.clean[0]));
        assert!(Arc::ptr_eq(&b.shown[1], &before[1]));
        assert!(!Arc::ptr_eq(&b.shown[2], &before[2]));
        assert!(Arc::ptr_eq(&b.shown[3], &before[3]));
        assert!(!b.redraw(&[false; 4], Some(spot_of(&c, 5, 40)), Some(&c), false));
    }
}
