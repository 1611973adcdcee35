//! Frames decoded to RGB (grey ones too) so a test can look at their pixels.

/// A decoded frame, 8-bit RGB.
pub struct Picture {
    pub width: u32,
    pub height: u32,
    rgb: Vec<u8>,
}

/// An RGB colour.
pub type Rgb = [u8; 3];

/// 0xRRGGBB as bytes.
pub fn rgb(hex: u32) -> Rgb {
    [(hex >> 16) as u8, (hex >> 8) as u8, hex as u8]
}

/// Whether every channel of `got` is within `tolerance` of `want` (JPEG moves colours a little).
pub fn near(got: Rgb, want: Rgb, tolerance: u8) -> bool {
    got.iter()
        .zip(want)
        .all(|(&g, w)| g.abs_diff(w) <= tolerance)
}

impl Picture {
    /// Decodes a JPEG; `Err` says why it is not one.
    pub fn decode(jpeg: &[u8]) -> Result<Picture, String> {
        Self::decode_inner(jpeg, None)
    }

    /// Decodes at a reduced size (DCT scaling: 1/2, 1/4 or 1/8, the smallest that still
    /// covers `width` x `height`): a few milliseconds for a 1080p frame.
    pub fn decode_scaled(jpeg: &[u8], width: u16, height: u16) -> Result<Picture, String> {
        Self::decode_inner(jpeg, Some((width, height)))
    }

    fn decode_inner(jpeg: &[u8], scale: Option<(u16, u16)>) -> Result<Picture, String> {
        let mut d = jpeg_decoder::Decoder::new(jpeg);
        d.read_info().map_err(|e| e.to_string())?;
        if let Some((w, h)) = scale {
            d.scale(w, h).map_err(|e| e.to_string())?;
        }
        let pixels = d.decode().map_err(|e| e.to_string())?;
        let info = d.info().ok_or("no frame header")?;
        let rgb = match info.pixel_format {
            jpeg_decoder::PixelFormat::RGB24 => pixels,
            // A grey camera's one-component JPEG: each grey level as R = G = B.
            jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
            other => return Err(format!("{other:?}, not RGB or grey")),
        };
        Ok(Picture {
            width: info.width.into(),
            height: info.height.into(),
            rgb,
        })
    }

    pub fn at(&self, x: u32, y: u32) -> Rgb {
        let i = ((y * self.width + x) * 3) as usize;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// The pixel at fractions of the width and height (0..1), whatever the picture's size.
    pub fn at_fraction(&self, fx: f64, fy: f64) -> Rgb {
        let pick = |f: f64, len: u32| ((f * len as f64) as u32).min(len - 1);
        self.at(pick(fx, self.width), pick(fy, self.height))
    }

    /// The brightest channel value in the rectangle from (x0, y0) to (x1, y1), exclusive.
    pub fn brightest_in(&self, x0: u32, y0: u32, x1: u32, y1: u32) -> u8 {
        let mut max = 0;
        for y in y0..y1.min(self.height) {
            for x in x0..x1.min(self.width) {
                max = max.max(*self.at(x, y).iter().max().unwrap_or(&0));
            }
        }
        max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_compare_per_channel() {
        assert_eq!(rgb(0x102030), [0x10, 0x20, 0x30]);
        assert!(near([250, 5, 0], rgb(0xFF0000), 8));
        assert!(!near([250, 5, 0], rgb(0xFF0000), 4));
    }

    #[test]
    fn fractions_stay_inside() {
        let p = Picture {
            width: 2,
            height: 1,
            rgb: vec![1, 1, 1, 9, 9, 9],
        };
        assert_eq!(p.at_fraction(0.0, 0.0), [1, 1, 1]);
        assert_eq!(p.at_fraction(1.0, 1.0), [9, 9, 9]);
        assert_eq!(p.brightest_in(0, 0, 5, 5), 9);
        assert!(Picture::decode(b"not a jpeg").is_err());
    }
}
