//! Uncompressed pictures on their way from a source to the encoder, in whatever layout the
//! hardware gives (B,G,R,X from X11; YUYV, UYVY, NV12, YU12, RGB, BGR or grey from cameras; RGB
//! from the pattern): the encoder adapts each layout without an intermediate copy where it can.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// R, G, B: 3 bytes per pixel.
    Rgb24,
    /// B, G, R: 3 bytes per pixel (V4L2 BGR3).
    Bgr24,
    /// B, G, R, unused: 4 bytes per pixel; what a depth-24 little-endian X server stores.
    Bgrx32,
    /// Y0, U, Y1, V for each pair of pixels: 2 bytes per pixel; what most webcams send.
    Yuyv,
    /// U, Y0, V, Y1 for each pair of pixels: what HDMI-to-CSI bridges send.
    Uyvy,
    /// A Y plane, then one plane of interleaved U, V for each 2x2 block (4:2:0).
    Nv12,
    /// A Y plane, then a U and a V plane at half width and height (V4L2 YU12, I420).
    Yuv420,
    /// Luma only, 1 byte per pixel (V4L2 GREY).
    Grey,
}

/// Where one plane of a picture lies in its buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plane {
    pub offset: usize,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// Bytes of picture in one row.
    pub row: usize,
    pub rows: usize,
}

impl Plane {
    /// Bytes from the plane's start to the end of its last row's picture.
    pub fn end(&self) -> usize {
        self.offset + self.stride * self.rows.saturating_sub(1) + self.row
    }

    /// Bytes up to the end of the plane's last row, padding included.
    pub fn padded_end(&self) -> usize {
        self.offset + self.stride * self.rows
    }
}

impl PixelFormat {
    /// Bytes per pixel in the first (or only) plane; the Y plane of planar formats.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgb24 | PixelFormat::Bgr24 => 3,
            PixelFormat::Bgrx32 => 4,
            PixelFormat::Yuyv | PixelFormat::Uyvy => 2,
            PixelFormat::Nv12 | PixelFormat::Yuv420 | PixelFormat::Grey => 1,
        }
    }

    /// The name V4L2 tools and users know it by.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgb24 => "RGB24",
            PixelFormat::Bgr24 => "BGR24",
            PixelFormat::Bgrx32 => "BGRX32",
            PixelFormat::Yuyv => "YUYV",
            PixelFormat::Uyvy => "UYVY",
            PixelFormat::Nv12 => "NV12",
            PixelFormat::Yuv420 => "YUV420",
            PixelFormat::Grey => "GREY",
        }
    }

    /// Chroma shared by pixel pairs (horizontally) and, for 4:2:0, by rows too: such pictures
    /// need an even width (and height).
    fn pairs(self) -> (bool, bool) {
        match self {
            PixelFormat::Yuyv | PixelFormat::Uyvy => (true, false),
            PixelFormat::Nv12 | PixelFormat::Yuv420 => (true, true),
            _ => (false, false),
        }
    }

    /// The planes of a `width` x `height` picture whose first plane has rows `stride` bytes
    /// apart, laid out as V4L2 single-planar formats are: chroma planes follow the Y plane, NV12's
    /// with the same stride, YU12's with half of it.
    pub fn planes(self, width: u32, height: u32, stride: usize) -> Vec<Plane> {
        let (w, h) = (width as usize, height as usize);
        let first = Plane {
            offset: 0,
            stride,
            row: w * self.bytes_per_pixel(),
            rows: h,
        };
        match self {
            PixelFormat::Nv12 => vec![
                first,
                Plane {
                    offset: stride * h,
                    stride,
                    row: w,
                    rows: h / 2,
                },
            ],
            PixelFormat::Yuv420 => {
                let chroma = |offset| Plane {
                    offset,
                    stride: stride / 2,
                    row: w / 2,
                    rows: h / 2,
                };
                let u = chroma(stride * h);
                vec![first, u, chroma(u.padded_end())]
            }
            _ => vec![first],
        }
    }
}

/// What a camera delivers: its own JPEG (passed through), or raw pixels (encoded here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    Mjpeg,
    Raw(PixelFormat),
}

/// The raw formats a camera may deliver that deskcam encodes, as `--format` names them.
pub const CAMERA_PIXEL_FORMATS: [PixelFormat; 7] = [
    PixelFormat::Yuyv,
    PixelFormat::Uyvy,
    PixelFormat::Nv12,
    PixelFormat::Yuv420,
    PixelFormat::Rgb24,
    PixelFormat::Bgr24,
    PixelFormat::Grey,
];

impl CaptureFormat {
    /// The format `--format` calls `text` (its name in lower case; `yu12` and `i420` too).
    pub fn from_flag(text: &str) -> Option<CaptureFormat> {
        let text = text.to_ascii_lowercase();
        if text == "mjpeg" {
            return Some(CaptureFormat::Mjpeg);
        }
        let text = match text.as_str() {
            "yu12" | "i420" => "yuv420",
            "gray" => "grey",
            other => other,
        };
        CAMERA_PIXEL_FORMATS
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(text))
            .map(CaptureFormat::Raw)
    }

    /// The `--format` value that asks for this format.
    pub fn flag(self) -> String {
        self.name().to_ascii_lowercase()
    }

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
        if self.width == 0 || self.height == 0 || self.width > 65535 || self.height > 65535 {
            return Err(BadImage(format!(
                "cannot encode a {}x{} picture",
                self.width, self.height
            )));
        }
        // Pixels that share chroma: an odd side would read past the row or the plane.
        let (even_w, even_h) = self.format.pairs();
        if (even_w && !self.width.is_multiple_of(2)) || (even_h && !self.height.is_multiple_of(2)) {
            return Err(BadImage(format!(
                "{} picture size {}x{} is odd",
                self.format.name(),
                self.width,
                self.height
            )));
        }
        let planes = self.planes();
        let row = self.width as usize * self.format.bytes_per_pixel();
        let needed = planes.last().map_or(0, Plane::end);
        if self.stride < row || self.data.len() < needed {
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

    /// Where each plane lies in `data`.
    pub fn planes(&self) -> Vec<Plane> {
        self.format.planes(self.width, self.height, self.stride)
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

    #[test]
    fn planar_layouts_follow_v4l2() {
        let t = SystemTime::UNIX_EPOCH;
        // NV12 4x2: 8 bytes of Y, one row of 4 interleaved chroma bytes.
        let p = PixelFormat::Nv12.planes(4, 2, 4);
        assert_eq!(
            p[1],
            Plane {
                offset: 8,
                stride: 4,
                row: 4,
                rows: 1
            }
        );
        assert!(RawImage::packed(PixelFormat::Nv12, 4, 2, vec![0; 12], t).is_ok());
        assert!(RawImage::packed(PixelFormat::Nv12, 4, 2, vec![0; 11], t).is_err());
        assert!(RawImage::packed(PixelFormat::Nv12, 4, 3, vec![0; 18], t).is_err());
        // YU12 with padded rows (stride 8 for width 4): U at 16 with stride 4, V after U.
        let p = PixelFormat::Yuv420.planes(4, 2, 8);
        assert_eq!(
            p[1],
            Plane {
                offset: 16,
                stride: 4,
                row: 2,
                rows: 1
            }
        );
        assert_eq!(p[2].offset, 20);
        assert_eq!(p[2].end(), 22);
        assert!(RawImage::packed(PixelFormat::Uyvy, 3, 2, vec![0; 12], t).is_err());
        assert!(RawImage::packed(PixelFormat::Grey, 3, 3, vec![0; 9], t).is_ok());
    }
}
