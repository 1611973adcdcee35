//! Uncompressed pictures on their way from a source to the encoder, in whatever layout the
//! hardware gives (B,G,R,X from X11, YUYV from cameras, RGB from the pattern): the encoder adapts
//! each layout without an intermediate copy where it can.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// R, G, B: 3 bytes per pixel.
    Rgb24,
    /// B, G, R, unused: 4 bytes per pixel; what a depth-24 little-endian X server stores.
    Bgrx32,
    /// Y0, U, Y1, V for each pair of pixels: 2 bytes per pixel; what most webcams send.
    Yuyv,
}

impl PixelFormat {
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgb24 => 3,
            PixelFormat::Bgrx32 => 4,
            PixelFormat::Yuyv => 2,
        }
    }

    /// The name V4L2 tools and users know it by.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgb24 => "RGB24",
            PixelFormat::Bgrx32 => "BGRX32",
            PixelFormat::Yuyv => "YUYV",
        }
    }
}

/// What a camera delivers: its own JPEG (passed through), or raw pixels (encoded here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    Mjpeg,
    Raw(PixelFormat),
}

impl CaptureFormat {
    pub fn name(self) -> &'static str {
        match self {
            CaptureFormat::Mjpeg => "MJPEG",
            CaptureFormat::Raw(p) => p.name(),
        }
    }
}

/// A picture buffer that does not hold what its size and layout promise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadImage(pub String);

impl fmt::Display for BadImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadImage {}

pub struct RawImage {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    /// Bytes from one row to the next (may exceed `width * bytes_per_pixel` for padded rows).
    pub stride: usize,
    pub data: Vec<u8>,
    pub captured: SystemTime,
}

impl RawImage {
    /// A tightly packed image; checks the buffer holds every row.
    pub fn packed(
        format: PixelFormat,
        width: u32,
        height: u32,
        data: Vec<u8>,
        captured: SystemTime,
    ) -> Result<RawImage, BadImage> {
        let img = RawImage {
            format,
            width,
            height,
            stride: width as usize * format.bytes_per_pixel(),
            data,
            captured,
        };
        img.check()?;
        Ok(img)
    }

    /// Whether the rows are back to back, with no padding between them.
    pub fn is_packed(&self) -> bool {
        self.stride == self.width as usize * self.format.bytes_per_pixel()
    }

    /// Checks that every row lies inside the buffer and the size is one JPEG can hold.
    pub fn check(&self) -> Result<(), BadImage> {
        let row = self.width as usize * self.format.bytes_per_pixel();
        if self.width == 0 || self.height == 0 || self.width > 65535 || self.height > 65535 {
            return Err(BadImage(format!(
                "cannot encode a {}x{} picture",
                self.width, self.height
            )));
        }
        // YUYV pairs pixels: an odd width would read past the row.
        if self.format == PixelFormat::Yuyv && !self.width.is_multiple_of(2) {
            return Err(BadImage(format!(
                "YUYV picture width {} is odd",
                self.width
            )));
        }
        if self.stride < row || self.data.len() < self.stride * (self.height as usize - 1) + row {
            return Err(BadImage(format!(
                "picture buffer of {} bytes is too small for {}x{} {}",
                self.data.len(),
                self.width,
                self.height,
                self.format.name()
            )));
        }
        Ok(())
    }
}

/// A B,G,R,X picture cut into horizontal bands of `band_rows` rows (the last may be shorter),
/// each packed. A band that did not change since the source's previous picture is the *same*
/// `Arc`, so the encoder can reuse what it made of it without looking at the pixels again.
#[derive(Clone)]
pub struct BandedImage {
    pub width: u32,
    pub height: u32,
    pub band_rows: u32,
    pub bands: Vec<Arc<Vec<u8>>>,
    pub captured: SystemTime,
}

impl BandedImage {
    /// Rows in band `i` (the last band holds what is left).
    pub fn rows_in(&self, i: usize) -> u32 {
        (self.height - i as u32 * self.band_rows).min(self.band_rows)
    }

    /// Checks that the bands tile the picture and each holds its rows.
    pub fn check(&self) -> Result<(), BadImage> {
        let rows = self.band_rows;
        let ok = self.width > 0
            && self.width <= 65535
            && self.height > 0
            && self.height <= 65535
            && rows > 0
            && self.bands.len() == self.height.div_ceil(rows) as usize
            && (0..self.bands.len())
                .all(|i| self.bands[i].len() == (self.width * self.rows_in(i)) as usize * 4);
        if ok {
            Ok(())
        } else {
            Err(BadImage(format!(
                "{} bands of {rows} rows do not make a {}x{} picture",
                self.bands.len(),
                self.width,
                self.height
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_buffers_and_odd_yuyv_are_refused() {
        let t = SystemTime::UNIX_EPOCH;
        assert!(RawImage::packed(PixelFormat::Rgb24, 4, 2, vec![0; 24], t).is_ok());
        assert!(RawImage::packed(PixelFormat::Rgb24, 4, 2, vec![0; 23], t).is_err());
        assert!(RawImage::packed(PixelFormat::Yuyv, 3, 2, vec![0; 12], t).is_err());
        assert!(RawImage::packed(PixelFormat::Bgrx32, 0, 2, vec![], t).is_err());
    }
}
