//! Checks a camera's own JPEG before it is passed through untouched, and gives it the standard
//! Huffman tables when it has none, so every browser can decode it.
//!
//! UVC cameras send "MJPEG" frames that often omit the DHT segment: the USB video class spec
//! (USB Device Class Definition for Video Devices: Motion-JPEG Payload, section 2.4) lets them
//! rely on the default tables of JPEG Annex K, which decoders of a stand-alone JPEG do not
//! assume. mjpg-streamer and ustreamer insert the same tables for the same reason.
//! Truncated or garbage buffers (a USB packet lost mid-frame) are dropped, not served.

use std::fmt;

use crate::jpeg::markers::{self, DHT, EOI, SOI, SOS};
use crate::jpeg::tables::STANDARD_DHT;

/// Smaller than any real JPEG with a picture in it: a header alone is ~150 bytes and a
/// truncated transfer often leaves a few bytes (ustreamer drops frames below 128 too).
pub const MIN_FRAME_BYTES: usize = 128;

/// At most this many bytes of zero padding after EOI are tolerated: some UVC cameras round the
/// payload up to their transfer size and report it in `bytesused`.
const MAX_PADDING: usize = 4096;

/// Why a camera frame was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    TooSmall(usize),
    NoStart,
    NoEnd,
    BadHeader,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::TooSmall(n) => write!(f, "frame of {n} bytes is too small to be a JPEG"),
            Invalid::NoStart => f.write_str("frame does not start with a JPEG SOI marker"),
            Invalid::NoEnd => f.write_str("frame does not end with a JPEG EOI marker (truncated)"),
            Invalid::BadHeader => f.write_str("frame's JPEG header segments are malformed"),
        }
    }
}

/// The camera frame made servable: either exactly its bytes up to EOI, or those with the
/// standard DHT inserted before the scan.
pub fn prepare(data: &[u8]) -> Result<Vec<u8>, Invalid> {
    let end = check(data)?;
    let data = &data[..end];
    let header = markers::header(data).map_err(|_| Invalid::BadHeader)?;
    if header.iter().any(|s| s.marker == DHT) {
        return Ok(data.to_vec());
    }
    // `header` ends with the scan's SOS: the tables go right before it.
    let at = header.last().map_or(2, |sos| sos.start);
    debug_assert_eq!(header.last().map(|s| s.marker), Some(SOS));
    let mut out = Vec::with_capacity(data.len() + STANDARD_DHT.len());
    out.extend_from_slice(&data[..at]);
    out.extend_from_slice(&STANDARD_DHT);
    out.extend_from_slice(&data[at..]);
    Ok(out)
}

/// Checks SOI, size and EOI; returns the length up to and including EOI.
fn check(data: &[u8]) -> Result<usize, Invalid> {
    if data.len() < MIN_FRAME_BYTES {
        return Err(Invalid::TooSmall(data.len()));
    }
    if data[0] != 0xFF || data[1] != SOI {
        return Err(Invalid::NoStart);
    }
    let mut end = data.len();
    let floor = data.len().saturating_sub(MAX_PADDING).max(2);
    while end > floor && data[end - 1] == 0 {
        end -= 1;
    }
    if end >= 4 && data[end - 2] == 0xFF && data[end - 1] == EOI {
        Ok(end)
    } else {
        Err(Invalid::NoEnd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A real baseline JPEG from jpeg-encoder, which writes the Annex K tables itself.
    fn sample() -> Vec<u8> {
        let mut out = Vec::new();
        let rgb: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(&rgb, 64, 48, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    /// Tables by class/id, whether written as one DHT segment or several.
    fn tables(data: &[u8]) -> BTreeMap<u8, Vec<u8>> {
        let mut map = BTreeMap::new();
        for s in markers::header(data).unwrap() {
            let mut p = s.payload;
            while s.marker == DHT && !p.is_empty() {
                let n: usize = p[1..17].iter().map(|&b| b as usize).sum();
                map.insert(p[0], p[1..17 + n].to_vec());
                p = &p[17 + n..];
            }
        }
        map
    }

    #[test]
    fn standard_tables_match_an_independent_encoder() {
        let ours = tables(&{
            let mut v = vec![0xFF, SOI];
            v.extend_from_slice(&STANDARD_DHT);
            v.extend_from_slice(&[0xFF, SOS, 0, 2]);
            v
        });
        assert_eq!(ours, tables(&sample()));
        assert_eq!(ours.len(), 4);
    }

    #[test]
    fn frame_with_tables_passes_byte_for_byte() {
        let jpeg = sample();
        assert_eq!(prepare(&jpeg).unwrap(), jpeg);
    }

    #[test]
    fn trailing_padding_is_cut_at_eoi() {
        let jpeg = sample();
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 1000]);
        assert_eq!(prepare(&padded).unwrap(), jpeg);
    }

    #[test]
    fn missing_tables_are_inserted_before_the_scan() {
        let jpeg = sample();
        let bare = markers::without(&jpeg, DHT).unwrap();
        assert!(tables(&bare).is_empty());
        let fixed = prepare(&bare).unwrap();
        assert_eq!(fixed.len(), bare.len() + STANDARD_DHT.len());
        assert_eq!(tables(&fixed), tables(&jpeg));
        // Everything else is untouched: the scan data still ends the file.
        assert!(fixed.ends_with(&jpeg[jpeg.len() - 100..]));
        let segs = markers::header(&fixed).unwrap();
        assert_eq!(segs[segs.len() - 2].marker, DHT, "DHT right before SOS");
    }

    #[test]
    fn bad_frames_are_rejected() {
        let jpeg = sample();
        assert_eq!(prepare(&jpeg[..50]), Err(Invalid::TooSmall(50)));
        assert_eq!(prepare(&jpeg[..jpeg.len() - 300]), Err(Invalid::NoEnd));
        let mut no_soi = jpeg.clone();
        no_soi[1] = 0;
        assert_eq!(prepare(&no_soi), Err(Invalid::NoStart));
        assert_eq!(prepare(&[0u8; 4096]), Err(Invalid::NoStart));
        // A segment length running past the end of the frame.
        let mut bad_len = vec![0xFF, SOI, 0xFF, 0xE0, 0xFF, 0xF0];
        bad_len.resize(200, 0x11);
        bad_len.extend_from_slice(&[0xFF, EOI]);
        assert_eq!(prepare(&bad_len), Err(Invalid::BadHeader));
        // Padding beyond the tolerated amount is a truncated or garbage frame.
        let mut long_pad = jpeg.clone();
        long_pad.extend_from_slice(&[0; MAX_PADDING + 10]);
        assert_eq!(prepare(&long_pad), Err(Invalid::NoEnd));
    }
}
