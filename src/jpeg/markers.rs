//! Walks a JPEG's marker segments (ITU T.81, annex B): the header up to the scan, the picture
//! size, and where the entropy-coded data ends. One walker serves camera passthrough checks,
//! the tests and the benchmarks, so they all agree on what a well-formed JPEG is.

/// Marker codes (the byte after 0xFF) used here.
pub const SOI: u8 = 0xD8;
pub const EOI: u8 = 0xD9;
pub const SOS: u8 = 0xDA;
pub const DHT: u8 = 0xC4;
pub const DQT: u8 = 0xDB;
pub const DRI: u8 = 0xDD;
/// RST0; RST1..RST7 follow (0xD0..=0xD7).
pub const RST0: u8 = 0xD0;

/// One marker segment of the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub marker: u8,
    /// Offset of the segment's 0xFF in the whole JPEG.
    pub start: usize,
    /// What follows the two length bytes, up to the next segment.
    pub payload: &'a [u8],
}

impl Segment<'_> {
    /// Offset just past the segment.
    pub fn end(&self) -> usize {
        self.start + 4 + self.payload.len()
    }
}

/// The header is not a sequence of well-formed segments ending in a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// Every segment from after SOI up to and including the first SOS, in order. Fill bytes (0xFF
/// runs, T.81 B.1.1.2) and markers without a length (TEM, RSTn) are skipped.
pub fn header(data: &[u8]) -> Result<Vec<Segment<'_>>, Malformed> {
    walk(data).map_err(|_| Malformed)
}

/// Why [`walk`] stopped: bad bytes, or the end of the buffer before the scan.
enum Stop {
    Malformed,
    Truncated,
}

fn walk(data: &[u8]) -> Result<Vec<Segment<'_>>, Stop> {
    if data.len() < 2 {
        return Err(Stop::Truncated);
    }
    if data[0] != 0xFF || data[1] != SOI {
        return Err(Stop::Malformed);
    }
    let mut out = Vec::new();
    let mut i = 2;
    loop {
        while i + 1 < data.len() && data[i] == 0xFF && data[i + 1] == 0xFF {
            i += 1;
        }
        if i < data.len() && data[i] != 0xFF {
            return Err(Stop::Malformed);
        }
        if i + 4 > data.len() {
            return Err(Stop::Truncated);
        }
        let marker = data[i + 1];
        if marker == 0x01 || (RST0..=RST0 + 7).contains(&marker) {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        if len < 2 {
            return Err(Stop::Malformed);
        }
        if i + 2 + len > data.len() {
            return Err(Stop::Truncated);
        }
        let segment = Segment {
            marker,
            start: i,
            payload: &data[i + 4..i + 2 + len],
        };
        out.push(segment);
        if marker == SOS {
            return Ok(out);
        }
        i = segment.end();
    }
}

/// Width and height from the frame header (SOF0..SOF3) of a complete JPEG (SOI ... EOI).
pub fn size(data: &[u8]) -> Option<(u32, u32)> {
    if data.len() < 4 || data[data.len() - 2..] != [0xFF, EOI] {
        return None;
    }
    let sof = header(data)
        .ok()?
        .into_iter()
        .find(|s| (0xC0..=0xC3).contains(&s.marker))?;
    let p = sof.payload;
    (p.len() >= 5).then(|| {
        let h = u16::from_be_bytes([p[1], p[2]]) as u32;
        let w = u16::from_be_bytes([p[3], p[4]]) as u32;
        (w, h)
    })
}

/// How much of a buffer that starts with SOI is one JPEG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extent {
    /// The JPEG ends (just past EOI) here.
    Complete(usize),
    /// More bytes are needed.
    Incomplete,
    /// Not a JPEG after all.
    Malformed,
}

/// Finds the end of the JPEG at the start of `buf` by walking its header and then its entropy-
/// coded data, where every 0xFF is stuffed (FF 00) or starts a restart marker, so the first other
/// marker is EOI. For streams that carry no length (ffmpeg's and the tutorial's MJPEG).
pub fn extent(buf: &[u8]) -> Extent {
    let scan = match walk(buf) {
        Ok(segments) => segments.last().map_or(buf.len(), Segment::end),
        Err(Stop::Truncated) => return Extent::Incomplete,
        Err(Stop::Malformed) => return Extent::Malformed,
    };
    let mut i = scan;
    while i + 1 < buf.len() {
        if buf[i] == 0xFF {
            match buf[i + 1] {
                EOI => return Extent::Complete(i + 2),
                0x00 | 0xFF => {}
                m if (RST0..=RST0 + 7).contains(&m) => {}
                _ => return Extent::Malformed,
            }
        }
        i += 1;
    }
    Extent::Incomplete
}

/// A copy of `data` without the header segments that carry `marker` (e.g. DHT, to make the
/// table-less frames many UVC cameras send).
pub fn without(data: &[u8], marker: u8) -> Result<Vec<u8>, Malformed> {
    let segments = header(data)?;
    let mut out = data[..2].to_vec();
    let mut at = 2;
    for s in &segments {
        if s.marker == marker {
            out.extend_from_slice(&data[at..s.start]);
            at = s.end();
        }
    }
    out.extend_from_slice(&data[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real baseline JPEG from jpeg-encoder.
    pub(crate) fn sample(restart: Option<u16>) -> Vec<u8> {
        let mut out = Vec::new();
        let rgb: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let mut e = jpeg_encoder::Encoder::new(&mut out, 80);
        if let Some(r) = restart {
            e.set_restart_interval(r);
        }
        e.encode(&rgb, 64, 48, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    #[test]
    fn header_ends_with_the_scan_and_size_reads_the_frame_header() {
        let jpeg = sample(None);
        let h = header(&jpeg).unwrap();
        assert_eq!(h.last().unwrap().marker, SOS);
        assert!(h.iter().any(|s| s.marker == DQT) && h.iter().any(|s| s.marker == DHT));
        assert_eq!(size(&jpeg), Some((64, 48)));
        assert_eq!(size(&jpeg[..jpeg.len() - 1]), None, "no EOI, not complete");
    }

    #[test]
    fn extent_finds_eoi_past_restart_markers_and_stuffing() {
        for restart in [None, Some(1)] {
            let jpeg = sample(restart);
            let mut stream = jpeg.clone();
            stream.extend_from_slice(b"\r\n--boundary\r\n");
            assert_eq!(extent(&stream), Extent::Complete(jpeg.len()), "{restart:?}");
            assert_eq!(extent(&jpeg[..jpeg.len() - 1]), Extent::Incomplete);
            assert_eq!(extent(&jpeg[..40]), Extent::Incomplete);
        }
        assert_eq!(extent(b"\xFF\xD8\x00\x00\x00\x00"), Extent::Malformed);
    }

    #[test]
    fn without_drops_only_the_named_segments() {
        let jpeg = sample(None);
        let bare = without(&jpeg, DHT).unwrap();
        assert!(header(&bare).unwrap().iter().all(|s| s.marker != DHT));
        assert!(bare.len() < jpeg.len());
        assert!(jpeg.ends_with(&bare[bare.len() - 100..]), "scan untouched");
        assert_eq!(
            without(&jpeg, 0xE5).unwrap(),
            jpeg,
            "absent marker: same bytes"
        );
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert_eq!(header(b"\xFF\xD8"), Err(Malformed));
        let mut bad_len = vec![0xFF, SOI, 0xFF, 0xE0, 0xFF, 0xF0];
        bad_len.resize(200, 0x11);
        assert_eq!(header(&bad_len), Err(Malformed));
        assert_eq!(header(&[0u8; 64]), Err(Malformed));
    }
}
