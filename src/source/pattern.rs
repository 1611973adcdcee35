//! A moving test card, so `deskcam` runs on any machine and tests always have a source.
//! Colour bars show colour handling, the moving box shows motion and the frame counter and
//! clock show latency and dropped frames at a glance.

use std::time::{Duration, Instant, SystemTime};

use super::draw::{Canvas, clock, scale_for};
use super::{Grab, Source, SourceError};
use crate::geometry::Resolution;
use crate::json::Json;

/// SMPTE-like bars: white, yellow, cyan, green, magenta, red, blue, black.
const BARS: [[u8; 3]; 8] = [
    [235, 235, 235],
    [235, 235, 16],
    [16, 235, 235],
    [16, 235, 16],
    [235, 16, 235],
    [235, 16, 16],
    [16, 16, 235],
    [16, 16, 16],
];

/// Everything the pattern source is told (built from the command line at the top, `config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatternSettings {
    pub size: Resolution,
    pub fps: u32,
}

pub struct Pattern {
    size: Resolution,
    interval: Duration,
    background: Canvas,
    frame: u64,
    next_due: Option<Instant>,
}

impl Pattern {
    pub fn new(settings: &PatternSettings) -> Pattern {
        let size = settings.size;
        Pattern {
            size,
            interval: Duration::from_secs(1) / settings.fps.max(1),
            background: background(size),
            frame: 0,
            next_due: None,
        }
    }

    /// Draws frame number `n` at wall-clock time `now`.
    pub fn draw(&self, n: u64, now: SystemTime) -> Canvas {
        let (w, h) = (self.size.width, self.size.height);
        let mut c = self.background.clone();
        let s = scale_for(h);
        // A box sweeping left to right once every 4 seconds at 30 fps.
        let box_side = h / 6;
        let travel = (w - box_side.min(w)) as u64;
        let x = if travel == 0 {
            0
        } else {
            (n * travel / 120) % travel
        };
        c.rect(
            x as i64,
            (h / 2) as i64,
            box_side,
            box_side,
            [255, 255, 255],
        );
        let lines = [
            format!("deskcam {}x{}", w, h),
            format!("frame {n}"),
            clock(now),
        ];
        for (i, line) in lines.iter().enumerate() {
            let y = (h * 3 / 4) as i64 + (i as i64) * (10 * s as i64);
            c.rect(
                8,
                y - s as i64,
                Canvas::text_width(line, s) + 2 * s,
                10 * s,
                [0, 0, 0],
            );
            c.text(8 + s as i64, y, s, [255, 255, 255], line);
        }
        c
    }
}

fn background(size: Resolution) -> Canvas {
    let (w, h) = (size.width, size.height);
    let mut c = Canvas::new(w, h, [40, 40, 40]);
    let bar_w = w.div_ceil(BARS.len() as u32);
    for (i, color) in BARS.iter().enumerate() {
        c.rect((i as u32 * bar_w) as i64, 0, bar_w, h / 2, *color);
    }
    // A grey ramp: shows banding and level handling.
    for x in 0..w {
        let v = (x * 255 / w.max(1)) as u8;
        c.rect(x as i64, (h / 2 + h / 6) as i64, 1, h / 12, [v, v, v]);
    }
    c
}

impl Source for Pattern {
    fn open(&mut self) -> Result<(), SourceError> {
        self.next_due = None;
        Ok(())
    }

    /// Paces itself to `--fps` on a fixed schedule, so encode time does not stretch the period;
    /// after a stall it skips ahead instead of bursting.
    fn capture(&mut self) -> Result<Grab, SourceError> {
        let now = Instant::now();
        let due = self.next_due.unwrap_or(now);
        if due > now {
            std::thread::sleep(due - now);
        }
        let next = due + self.interval;
        self.next_due = Some(if next < Instant::now() {
            Instant::now()
        } else {
            next
        });
        self.frame += 1;
        let captured = SystemTime::now();
        Ok(Grab::Raw(
            self.draw(self.frame, captured).into_image(captured),
        ))
    }

    fn close(&mut self) {}

    fn info(&self) -> Vec<(String, Json)> {
        vec![("pattern".into(), Json::str("moving test card"))]
    }

    fn nominal_size(&self) -> Option<Resolution> {
        Some(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_differ_and_have_the_size() {
        let p = Pattern::new(&PatternSettings {
            size: Resolution {
                width: 320,
                height: 240,
            },
            fps: 30,
        });
        let a = p.draw(1, SystemTime::UNIX_EPOCH);
        let b = p.draw(2, SystemTime::UNIX_EPOCH);
        assert_eq!(a.rgb.len(), 320 * 240 * 3);
        assert_ne!(
            a.rgb, b.rgb,
            "frame counter and box must change the picture"
        );
    }
}
