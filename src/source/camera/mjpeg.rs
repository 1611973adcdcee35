//! Checks a camera's own JPEG before it is passed through untouched, and gives it the standard
//! Huffman tables when it has none, so every browser can decode it.
//!
//! UVC cameras send "MJPEG" frames that often omit the DHT segment: the USB video class spec
//! (USB Device Class Definition for Video Devices: Motion-JPEG Payload, section 2.4) lets them
//! rely on the default tables of JPEG Annex K, which decoders of a stand-alone JPEG do not
//! assume. mjpg-streamer and ustreamer insert the same tables for the same reason.
//! Truncated or garbage buffers (a USB packet lost mid-frame) are dropped, not served.

use std::fmt;

/// Smaller than any real JPEG with a picture in it: a header alone is ~150 bytes and a
/// truncated transfer often leaves a few bytes (ustreamer drops frames below 128 too).
pub const MIN_FRAME_BYTES: usize = 128;

/// At most this many bytes of zero padding after EOI are tolerated: some UVC cameras round the
/// payload up to their transfer size and report it in `bytesused`.
const MAX_PADDING: usize = 4096;

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DHT: u8 = 0xC4;

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
    match dht_insert_point(data)? {
        None => Ok(data.to_vec()),
        Some(at) => {
            let mut out = Vec::with_capacity(data.len() + STANDARD_DHT.len());
            out.extend_from_slice(&data[..at]);
            out.extend_from_slice(&STANDARD_DHT);
            out.extend_from_slice(&data[at..]);
            Ok(out)
        }
    }
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

/// Walks the header segments up to the scan. `None` when a DHT is present; otherwise the offset
/// of the SOS marker, where the standard tables go.
fn dht_insert_point(data: &[u8]) -> Result<Option<usize>, Invalid> {
    let mut i = 2;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes (ITU T.81 B.1.1.2).
        while i + 1 < data.len() && data[i] == 0xFF && data[i + 1] == 0xFF {
            i += 1;
        }
        if i + 4 > data.len() || data[i] != 0xFF {
            return Err(Invalid::BadHeader);
        }
        let marker = data[i + 1];
        match marker {
            DHT => return Ok(None),
            SOS => return Ok(Some(i)),
            // Standalone markers without a length.
            0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            _ => {}
        }
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        if len < 2 {
            return Err(Invalid::BadHeader);
        }
        i += 2 + len;
    }
}

/// One DHT segment holding the four tables of ITU T.81 Annex K.3 (tables K.3 to K.6), in the
/// class/id layout every baseline decoder expects: DC 0, AC 0 (luma), DC 1, AC 1 (chroma).
pub const STANDARD_DHT: [u8; 420] = standard_dht();

const DC_LUMA_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_CHROMA_BITS: [u8; 16] = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const DC_VALUES: [u8; 12] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_LUMA_BITS: [u8; 16] = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
#[rustfmt::skip]
const AC_LUMA_VALUES: [u8; 162] = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];
const AC_CHROMA_BITS: [u8; 16] = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
#[rustfmt::skip]
const AC_CHROMA_VALUES: [u8; 162] = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
];

const fn standard_dht() -> [u8; 420] {
    let mut out = [0u8; 420];
    out[0] = 0xFF;
    out[1] = DHT;
    // Length counts itself but not the marker: 2 + 4 * (1 + 16) + 12 + 162 + 12 + 162 = 418.
    out[2] = (418u16 >> 8) as u8;
    out[3] = (418u16 & 0xFF) as u8;
    let mut at = 4;
    at = table(&mut out, at, 0x00, &DC_LUMA_BITS, &DC_VALUES);
    at = table(&mut out, at, 0x10, &AC_LUMA_BITS, &AC_LUMA_VALUES);
    at = table(&mut out, at, 0x01, &DC_CHROMA_BITS, &DC_VALUES);
    at = table(&mut out, at, 0x11, &AC_CHROMA_BITS, &AC_CHROMA_VALUES);
    assert!(at == 420);
    out
}

const fn table(
    out: &mut [u8; 420],
    mut at: usize,
    class_id: u8,
    bits: &[u8; 16],
    values: &[u8],
) -> usize {
    out[at] = class_id;
    at += 1;
    let mut i = 0;
    while i < 16 {
        out[at] = bits[i];
        at += 1;
        i += 1;
    }
    let mut i = 0;
    while i < values.len() {
        out[at] = values[i];
        at += 1;
        i += 1;
    }
    at
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

    /// Every segment as (marker, payload) up to and including SOS.
    fn segments(data: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut i = 2;
        loop {
            let marker = data[i + 1];
            let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
            out.push((marker, data[i + 4..i + 2 + len].to_vec()));
            if marker == SOS {
                return out;
            }
            i += 2 + len;
        }
    }

    /// Tables by class/id, whether written as one DHT segment or several.
    fn tables(data: &[u8]) -> BTreeMap<u8, Vec<u8>> {
        let mut map = BTreeMap::new();
        for (marker, mut p) in segments(data).into_iter().filter(|s| s.0 == DHT) {
            assert_eq!(marker, DHT);
            while !p.is_empty() {
                let n: usize = p[1..17].iter().map(|&b| b as usize).sum();
                map.insert(p[0], p[1..17 + n].to_vec());
                p.drain(..17 + n);
            }
        }
        map
    }

    fn strip_dht(data: &[u8]) -> Vec<u8> {
        let mut out = data[..2].to_vec();
        let mut i = 2;
        loop {
            let marker = data[i + 1];
            let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
            if marker == SOS {
                out.extend_from_slice(&data[i..]);
                return out;
            }
            if marker != DHT {
                out.extend_from_slice(&data[i..i + 2 + len]);
            }
            i += 2 + len;
        }
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
        let bare = strip_dht(&jpeg);
        assert!(tables(&bare).is_empty());
        let fixed = prepare(&bare).unwrap();
        assert_eq!(fixed.len(), bare.len() + STANDARD_DHT.len());
        assert_eq!(tables(&fixed), tables(&jpeg));
        // Everything else is untouched: the scan data still ends the file.
        assert!(fixed.ends_with(&jpeg[jpeg.len() - 100..]));
        let segs = segments(&fixed);
        assert_eq!(segs[segs.len() - 2].0, DHT, "DHT right before SOS");
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
