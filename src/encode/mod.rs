//! Turns raw pixels from a source into JPEG bytes, on a pool of threads ([`pool`]). Each layout
//! a source delivers goes to `jpeg-encoder` directly where it reads it, through a row adapter
//! ([`adapt`]) where it does not, and to libjpeg-turbo in the `turbojpeg` build.

pub mod bands;
pub mod pool;

use std::fmt;

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use crate::geometry::Resolution;
use crate::image::{BadImage, PixelFormat, RawImage};
use crate::jpeg::{Quality, Subsampling};
use crate::orientation::{Orientation, Rotation};

/// How every frame is encoded; fixed for the life of the process.
#[derive(Clone, Copy, Debug)]
pub struct EncodeSettings {
    pub quality: Quality,
    pub subsampling: Subsampling,
    /// Upside down.
    pub flip: bool,
    /// Left to right.
    pub mirror: bool,
    /// Quarter turns, before flip and mirror.
    pub rotate: Rotation,
}

impl EncodeSettings {
    /// Quality 80, 4:2:0, upright: the defaults, for tests of the encode path.
    #[cfg(test)]
    pub(crate) fn for_tests() -> EncodeSettings {
        EncodeSettings {
            quality: Quality::new(80).expect("80 is a valid quality"),
            subsampling: Subsampling::S420,
            flip: false,
            mirror: false,
            rotate: Rotation::R0,
        }
    }

    /// The same settings upright: generated pictures (NO SIGNAL) are not turned with a camera.
    pub fn upright(self) -> EncodeSettings {
        EncodeSettings {
            flip: false,
            mirror: false,
            rotate: Rotation::R0,
            ..self
        }
    }

    /// Where each output pixel comes from in the captured picture.
    pub fn orientation(&self) -> Orientation {
        Orientation::new(self.rotate, self.flip, self.mirror)
    }

    /// The size of the JPEG made from a picture of `size`.
    pub fn output_size(&self, size: Resolution) -> Resolution {
        self.orientation().output_size(size)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// The picture does not hold what it claims.
    Image(BadImage),
    /// The encoder refused or failed.
    Encoder(String),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Image(e) => write!(f, "JPEG encoding failed: {e}"),
            EncodeError::Encoder(e) => write!(f, "JPEG encoding failed: {e}"),
        }
    }
}

impl std::error::Error for EncodeError {}

fn sampling(s: Subsampling) -> SamplingFactor {
    match s {
        Subsampling::S420 => SamplingFactor::R_4_2_0,
        Subsampling::S422 => SamplingFactor::R_4_2_2,
        Subsampling::S444 => SamplingFactor::R_4_4_4,
    }
}

/// Encodes `img` to a baseline JFIF JPEG.
pub fn encode(img: &RawImage, settings: &EncodeSettings) -> Result<Vec<u8>, EncodeError> {
    img.check().map_err(EncodeError::Image)?;
    #[cfg(feature = "turbojpeg")]
    if let Some(result) = turbo::try_encode(img, settings) {
        return result;
    }
    let mut out = Vec::with_capacity(img.width as usize * img.height as usize / 4);
    let mut encoder = Encoder::new(&mut out, settings.quality.get());
    encoder.set_sampling_factor(sampling(settings.subsampling));
    let (w, h) = (img.width as u16, img.height as u16);
    let plain = img.is_packed() && settings.orientation().is_identity();
    let result = match img.format {
        // jpeg-encoder's own readers (AVX2 where the CPU has it) take these layouts directly.
        PixelFormat::Rgb24 if plain => encoder.encode(&img.data, w, h, ColorType::Rgb),
        PixelFormat::Bgr24 if plain => encoder.encode(&img.data, w, h, ColorType::Bgr),
        PixelFormat::Bgrx32 if plain => encoder.encode(&img.data, w, h, ColorType::Bgra),
        PixelFormat::Grey if plain => encoder.encode(&img.data, w, h, ColorType::Luma),
        _ => encoder.encode_image(adapt::Adapter::new(img, settings)),
    };
    result.map_err(|e| EncodeError::Encoder(e.to_string()))?;
    Ok(out)
}

mod adapt;
#[cfg(test)]
mod tests;
#[cfg(feature = "turbojpeg")]
mod turbo;
#[cfg(feature = "turbojpeg")]
mod turbo_restart;
