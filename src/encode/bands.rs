//! Incremental JPEG for a picture that changes in places (the screen): a baseline JPEG with a
//! restart interval of one MCU row is a header followed by independent entropy-coded segments,
//! one per band of MCU rows, separated by RST0..RST7; the DC predictors reset at each marker.
//! So a band encoded alone, as a JPEG one MCU row high with the same tables, carries exactly
//! that band's segment of the whole picture. Keeping the segments of the last frame, a new frame
//! re-encodes only the bands whose pixels changed and is stitched together byte-identical to a
//! full encode (shown by the tests below and in `turbo_restart.rs`'s build).
//!
//! [`Planner`] decides which bands to encode (on the capture side, in submission order);
//! [`BandCache`] stitches finished frames (in publication order). Between the two, the encoder
//! pool spreads the bands of a frame over its threads.

use std::sync::{Arc, Mutex};

use super::{EncodeError, EncodeSettings};
use crate::image::BandedImage;
use crate::jpeg::Subsampling;
use crate::jpeg::markers::{self, EOI, RST0};
use crate::json::Json;
use crate::rate::RateMeter;

/// MCUs across a picture `width` pixels wide: the restart interval that makes one band a segment.
pub fn mcus_per_row(width: u32, s: Subsampling) -> u32 {
    width.div_ceil(s.mcu_width())
}

/// Encodes `height` rows of packed B,G,R,X pixels as a baseline JPEG with a restart marker
/// after every MCU row, with whichever encoder this build uses.
pub fn encode_restart(
    data: &[u8],
    width: u32,
    height: u32,
    s: &EncodeSettings,
) -> Result<Vec<u8>, EncodeError> {
    #[cfg(feature = "turbojpeg")]
    {
        super::turbo_restart::compress_bgrx(
            data,
            width,
            height,
            width as usize * 4,
            s.quality.get(),
            s.subsampling,
        )
        .map_err(EncodeError::Encoder)
    }
    #[cfg(not(feature = "turbojpeg"))]
    {
        use jpeg_encoder::{ColorType, Encoder};
        if data.len() < (width * height) as usize * 4 || width > 65535 || height > 65535 {
            return Err(EncodeError::Encoder(format!(
                "{} bytes do not hold {width}x{height} BGRX",
                data.len()
            )));
        }
        let mut out = Vec::with_capacity((width * height) as usize / 4);
        let mut e = Encoder::new(&mut out, s.quality.get());
        e.set_sampling_factor(super::sampling(s.subsampling));
        e.set_restart_interval(mcus_per_row(width, s.subsampling) as u16);
        e.encode(data, width as u16, height as u16, ColorType::Bgra)
            .map_err(|e| EncodeError::Encoder(e.to_string()))?;
        Ok(out)
    }
}

/// One band encoded as a JPEG of its own: its header (tables, the band's height) and its scan.
#[derive(Debug)]
pub struct BandJpeg {
    jpeg: Vec<u8>,
    scan_start: usize,
}

impl BandJpeg {
    /// Encodes band pixels (packed B,G,R,X, `width` wide).
    pub fn encode(pixels: &[u8], width: u32, s: &EncodeSettings) -> Result<BandJpeg, EncodeError> {
        let rows = (pixels.len() / (width as usize * 4)) as u32;
        BandJpeg::cut(encode_restart(pixels, width, rows, s)?)
    }

    /// Finds the scan of a one-band JPEG; more than one segment means the band was not one MCU
    /// row.
    fn cut(jpeg: Vec<u8>) -> Result<BandJpeg, EncodeError> {
        let bad = || EncodeError::Encoder("the encoder made a JPEG we cannot cut".into());
        let sos = markers::header(&jpeg).map_err(|_| bad())?;
        let scan_start = sos.last().map(markers::Segment::end).ok_or_else(bad)?;
        let n = jpeg.len();
        if n < scan_start + 2 || jpeg[n - 2..] != [0xFF, EOI] {
            return Err(bad());
        }
        let scan = &jpeg[scan_start..n - 2];
        if scan
            .windows(2)
            .any(|w| w[0] == 0xFF && (RST0..=RST0 + 7).contains(&w[1]))
        {
            return Err(bad());
        }
        Ok(BandJpeg { jpeg, scan_start })
    }

    /// The entropy-coded segment.
    pub fn scan(&self) -> &[u8] {
        &self.jpeg[self.scan_start..self.jpeg.len() - 2]
    }

    /// The header for a whole picture `height` rows high: this band's, with the frame
    /// header's height changed (tables, restart interval and width are the same for every band).
    fn frame_header(&self, height: u32) -> Option<Vec<u8>> {
        let mut header = self.jpeg[..self.scan_start].to_vec();
        let sof = markers::header(&header)
            .ok()?
            .into_iter()
            .find(|s| (0xC0..=0xC3).contains(&s.marker))?;
        let at = sof.start + 5; // FF Cn, length (2), precision (1), then the height
        header[at..at + 2].copy_from_slice(&u16::try_from(height).ok()?.to_be_bytes());
        Some(header)
    }
}

/// The shape of a banded picture; a change of shape starts the cache over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub width: u32,
    pub height: u32,
    pub band_rows: u32,
}

impl Shape {
    pub fn of(img: &BandedImage) -> Shape {
        Shape {
            width: img.width,
            height: img.height,
            band_rows: img.band_rows,
        }
    }
}

/// The capture side: which bands of a picture need encoding. It keeps the last picture's bands
/// (so an `Arc` cannot be freed and its address reused by a new band) and compares pointers.
#[derive(Default)]
pub struct Planner {
    last: Option<(Shape, Vec<Arc<Vec<u8>>>)>,
}

impl Planner {
    /// Indices of the bands of `img` that differ from the last planned picture (all of them
    /// after a change of shape or [`Planner::forget`]).
    pub fn plan(&mut self, img: &BandedImage) -> Vec<usize> {
        let shape = Shape::of(img);
        let changed = match &self.last {
            Some((s, last)) if *s == shape => (0..img.bands.len())
                .filter(|&i| !Arc::ptr_eq(&img.bands[i], &last[i]))
                .collect(),
            _ => (0..img.bands.len()).collect(),
        };
        self.last = Some((shape, img.bands.clone()));
        changed
    }

    /// The next picture is encoded whole (after a failure, the cache no longer matches).
    pub fn forget(&mut self) {
        self.last = None;
    }
}

/// The publishing side: the last frame's band JPEGs and header, from which the next frame is
/// stitched.
#[derive(Default)]
pub struct BandCache {
    shape: Option<Shape>,
    header: Vec<u8>,
    bands: Vec<Option<Arc<BandJpeg>>>,
}

impl BandCache {
    /// The frame `shape` made of the `new` bands and the previous frame's others. `None` when a
    /// band is missing (an earlier frame failed): the cache is then emptied.
    pub fn stitch(&mut self, shape: Shape, new: Vec<(usize, Arc<BandJpeg>)>) -> Option<Vec<u8>> {
        let count = shape.height.div_ceil(shape.band_rows) as usize;
        if self.shape != Some(shape) {
            self.shape = None;
            self.bands = vec![None; count];
            self.header = new.first()?.1.frame_header(shape.height)?;
            self.shape = Some(shape);
        }
        for (i, band) in new {
            *self.bands.get_mut(i)? = Some(band);
        }
        let mut len = self.header.len() + 2 * count + 2;
        for band in &self.bands {
            match band {
                Some(b) => len += b.scan().len(),
                None => {
                    self.shape = None;
                    return None;
                }
            }
        }
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&self.header);
        for (i, band) in self.bands.iter().flatten().enumerate() {
            if i > 0 {
                out.extend_from_slice(&[0xFF, RST0 + ((i - 1) % 8) as u8]);
            }
            out.extend_from_slice(band.scan());
        }
        out.extend_from_slice(&[0xFF, EOI]);
        Some(out)
    }

    pub fn clear(&mut self) {
        self.shape = None;
        self.bands.clear();
    }
}

/// Bands encoded and reused, per second, for `/state`.
#[derive(Default)]
pub struct BandStats {
    encoded: RateMeter,
    reused: RateMeter,
}

impl BandStats {
    pub fn count(&mut self, encoded: usize, reused: usize) {
        self.encoded.add(encoded as u32);
        self.reused.add(reused as u32);
    }

    /// `bands_encoded` and `bands_reused` in the last complete second.
    pub fn json(&mut self) -> Vec<(String, Json)> {
        vec![
            (
                "bands_encoded".into(),
                Json::Int(self.encoded.per_second().into()),
            ),
            (
                "bands_reused".into(),
                Json::Int(self.reused.per_second().into()),
            ),
        ]
    }
}

pub type SharedBandStats = Arc<Mutex<BandStats>>;

/// Plans, encodes (on this thread) and stitches one picture: what the pool does across threads,
/// in one call, for tests and benchmarks.
pub fn encode_banded(
    img: &BandedImage,
    s: &EncodeSettings,
    planner: &mut Planner,
    cache: &mut BandCache,
) -> Result<Vec<u8>, EncodeError> {
    img.check().map_err(EncodeError::Image)?;
    let mut new = Vec::new();
    for i in planner.plan(img) {
        new.push((i, Arc::new(BandJpeg::encode(&img.bands[i], img.width, s)?)));
    }
    cache.stitch(Shape::of(img), new).ok_or_else(|| {
        planner.forget();
        EncodeError::Encoder("a band of the previous frame is missing".into())
    })
}

#[cfg(test)]
mod tests;
