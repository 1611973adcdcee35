//! Minimal RGB drawing for generated pictures: the test pattern and the "NO SIGNAL" frame.
//! An 8x8 bitmap font scaled up is legible at any size and needs no font files at run time.

use std::time::SystemTime;

use crate::clock::time_of_day;
use crate::image::{PixelFormat, RawImage};

#[derive(Clone)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

pub type Rgb = [u8; 3];

impl Canvas {
    pub fn new(width: u32, height: u32, fill: Rgb) -> Canvas {
        let mut rgb = Vec::with_capacity(width as usize * height as usize * 3);
        for _ in 0..width as usize * height as usize {
            rgb.extend_from_slice(&fill);
        }
        Canvas { width, height, rgb }
    }

    /// Fills a rectangle, clipped to the canvas.
    pub fn rect(&mut self, x: i64, y: i64, w: u32, h: u32, color: Rgb) {
        let x0 = x.clamp(0, self.width as i64) as usize;
        let y0 = y.clamp(0, self.height as i64) as usize;
        let x1 = (x + w as i64).clamp(0, self.width as i64) as usize;
        let y1 = (y + h as i64).clamp(0, self.height as i64) as usize;
        for row in y0..y1 {
            let start = (row * self.width as usize + x0) * 3;
            for px in self.rgb[start..start + (x1 - x0) * 3].chunks_exact_mut(3) {
                px.copy_from_slice(&color);
            }
        }
    }

    /// Draws `text` with its top-left corner at (x, y), each font pixel `scale` pixels wide.
    pub fn text(&mut self, x: i64, y: i64, scale: u32, color: Rgb, text: &str) {
        let mut cx = x;
        for ch in text.chars() {
            let glyph = font8x8::legacy::BASIC_LEGACY
                .get(ch as usize)
                .copied()
                .unwrap_or([0; 8]);
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if bits & (1 << gx) != 0 {
                        let px = cx + (gx * scale) as i64;
                        let py = y + (gy as u32 * scale) as i64;
                        self.rect(px, py, scale, scale, color);
                    }
                }
            }
            cx += 8 * scale as i64;
        }
    }

    /// Width in pixels of `text` at `scale`.
    pub fn text_width(text: &str, scale: u32) -> u32 {
        text.chars().count() as u32 * 8 * scale
    }

    pub fn into_image(self, captured: SystemTime) -> RawImage {
        let stride = self.width as usize * 3;
        RawImage {
            format: PixelFormat::Rgb24,
            width: self.width,
            height: self.height,
            stride,
            data: self.rgb,
            captured,
        }
    }
}

/// "HH:MM:SS.mmm UTC", as the pictures print a wall-clock time.
pub fn clock(t: SystemTime) -> String {
    format!("{} UTC", time_of_day(t))
}

/// Text scale that makes characters about 1/24 of the picture height.
pub fn scale_for(height: u32) -> u32 {
    (height / 24 / 8).max(1)
}

/// The picture shown while a source has no signal: says so, why, and when, so a viewer can
/// tell a dead camera from a frozen page.
pub fn no_signal(width: u32, height: u32, reason: &str) -> RawImage {
    let now = SystemTime::now();
    let mut c = Canvas::new(width, height, [32, 32, 32]);
    let big = scale_for(height) * 2;
    let small = scale_for(height).max(1);
    let title = "NO SIGNAL";
    let tx = (width as i64 - Canvas::text_width(title, big) as i64) / 2;
    let ty = height as i64 / 2 - 8 * big as i64;
    c.text(tx, ty, big, [255, 255, 255], title);
    // The reason wrapped at word boundaries to what fits (three lines at most), then the time.
    let fit = (width / (8 * small)).saturating_sub(2).max(1) as usize;
    let mut lines = wrap(reason, fit, 3);
    lines.push(clock(now));
    for (i, line) in lines.iter().enumerate() {
        let lx = (width as i64 - Canvas::text_width(line, small) as i64) / 2;
        c.text(
            lx,
            height as i64 / 2 + (4 + 12 * i as i64) * small as i64,
            small,
            [200, 200, 200],
            line,
        );
    }
    c.into_image(now)
}

/// Splits `text` into at most `max_lines` lines of at most `width` characters, at spaces where
/// it can; a word longer than a line is cut.
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: String = word.to_string();
        loop {
            let len = line.chars().count();
            let wlen = word.chars().count();
            if len > 0 && len + 1 + wlen <= width {
                line.push(' ');
                line.push_str(&word);
                break;
            }
            if len == 0 && wlen <= width {
                line = word;
                break;
            }
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a whole line.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.truncate(max_lines);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_every_word_that_fits() {
        assert_eq!(
            wrap("cannot open X display :55: Connection refused", 20, 3),
            vec!["cannot open X", "display :55:", "Connection refused"]
        );
        assert_eq!(wrap("abcdefghij", 4, 3), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a b c d e f", 1, 2), vec!["a", "b"]);
        assert!(wrap("", 10, 3).is_empty());
    }

    #[test]
    fn text_sets_pixels_and_clips() {
        let mut c = Canvas::new(40, 20, [0, 0, 0]);
        c.text(0, 0, 1, [255, 0, 0], "I");
        assert!(c.rgb.chunks(3).any(|p| p == [255, 0, 0]));
        c.text(35, 15, 4, [0, 255, 0], "W"); // mostly off-canvas: must not panic
        c.rect(-10, -10, 5, 5, [1, 1, 1]);
    }

    #[test]
    fn clock_format() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(3_723_004);
        assert_eq!(clock(t), "01:02:03.004 UTC");
    }

    #[test]
    fn no_signal_has_requested_size() {
        let img = no_signal(320, 240, "device unplugged");
        assert_eq!(
            (img.width, img.height, img.data.len()),
            (320, 240, 320 * 240 * 3)
        );
    }
}
