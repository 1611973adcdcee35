//! Turns raw pixels from a source into JPEG bytes. Sources hand over pixels in whatever layout
//! their hardware gives (B,G,R,X from X11, YUYV from cameras, RGB from the pattern) and this
//! module adapts them for `jpeg-encoder` without an intermediate copy where it can.

pub mod pool;

use std::fmt;
use std::time::SystemTime;

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use crate::config::{Quality, Subsampling};

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
}

/// Uncompressed pixels on their way to the encoder.
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
    ) -> Result<RawImage, EncodeError> {
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

    fn check(&self) -> Result<(), EncodeError> {
        let row = self.width as usize * self.format.bytes_per_pixel();
        if self.width == 0 || self.height == 0 || self.width > 65535 || self.height > 65535 {
            return Err(EncodeError(format!(
                "cannot encode a {}x{} picture",
                self.width, self.height
            )));
        }
        // YUYV pairs pixels: an odd width would read past the row.
        if self.format == PixelFormat::Yuyv && !self.width.is_multiple_of(2) {
            return Err(EncodeError(format!(
                "YUYV picture width {} is odd",
                self.width
            )));
        }
        if self.stride < row || self.data.len() < self.stride * (self.height as usize - 1) + row {
            return Err(EncodeError(format!(
                "picture buffer of {} bytes is too small for {}x{} {:?}",
                self.data.len(),
                self.width,
                self.height,
                self.format
            )));
        }
        Ok(())
    }
}

/// How every frame is encoded; fixed for the life of the process.
#[derive(Clone, Copy, Debug)]
pub struct EncodeSettings {
    pub quality: Quality,
    pub subsampling: Subsampling,
    /// Upside down.
    pub flip: bool,
    /// Left to right.
    pub mirror: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError(pub String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JPEG encoding failed: {}", self.0)
    }
}

impl std::error::Error for EncodeError {}

impl EncodeSettings {
    /// Quality 80, 4:2:0, upright: the defaults, for tests of the encode path.
    #[cfg(test)]
    pub(crate) fn for_tests() -> EncodeSettings {
        EncodeSettings {
            quality: Quality::new(80).expect("80 is a valid quality"),
            subsampling: Subsampling::S420,
            flip: false,
            mirror: false,
        }
    }
}

fn sampling(s: Subsampling) -> SamplingFactor {
    match s {
        Subsampling::S420 => SamplingFactor::R_4_2_0,
        Subsampling::S422 => SamplingFactor::R_4_2_2,
        Subsampling::S444 => SamplingFactor::R_4_4_4,
    }
}

/// Encodes `img` to a baseline JFIF JPEG.
pub fn encode(img: &RawImage, settings: &EncodeSettings) -> Result<Vec<u8>, EncodeError> {
    img.check()?;
    #[cfg(feature = "turbojpeg")]
    if let Some(result) = turbo::try_encode(img, settings) {
        return result;
    }
    let mut out = Vec::with_capacity(img.width as usize * img.height as usize / 4);
    let mut encoder = Encoder::new(&mut out, settings.quality.get());
    encoder.set_sampling_factor(sampling(settings.subsampling));
    let (w, h) = (img.width as u16, img.height as u16);
    let packed = img.stride == img.width as usize * img.format.bytes_per_pixel();
    let plain = packed && !settings.flip && !settings.mirror;
    let result = match img.format {
        // jpeg-encoder's own readers (AVX2 where the CPU has it) take these layouts directly.
        PixelFormat::Rgb24 if plain => encoder.encode(&img.data, w, h, ColorType::Rgb),
        PixelFormat::Bgrx32 if plain => encoder.encode(&img.data, w, h, ColorType::Bgra),
        _ => encoder.encode_image(adapt::Adapter::new(img, settings)),
    };
    result.map_err(|e| EncodeError(e.to_string()))?;
    Ok(out)
}

mod adapt;
#[cfg(feature = "turbojpeg")]
mod turbo;
