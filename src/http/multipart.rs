//! The `multipart/x-mixed-replace` wire format that every MJPEG consumer (browsers, ffmpeg,
//! VLC, OctoPrint, Home Assistant) reads.
//!
//! Each part is followed at once by the next boundary line: Chrome paints a part only when it
//! sees the boundary that ends it (Chromium bug 527446), so writing the boundary late would show
//! every frame one frame late.

use std::io::{self, IoSlice, Write};

use crate::frame::Frame;

pub const BOUNDARY: &str = "deskcamframe";

/// The response head for a stream. Written by hand as HTTP/1.0 with no length: tiny_http's own
/// responses would chunk and buffer an endless body for HTTP/1.1 clients (frames arrive late) and
/// read all of it into memory for HTTP/1.0 ones (vendor/tiny_http/PATCHES.md, README Design).
/// `X-Accel-Buffering: no` tells nginx not to hold frames back in its proxy buffers, whatever
/// its configuration says (docs/proxy.md).
pub fn stream_head() -> String {
    format!(
        "HTTP/1.0 200 OK\r\n\
         Server: deskcam/{}\r\n\
         Content-Type: multipart/x-mixed-replace;boundary={BOUNDARY}\r\n\
         Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n\
         Pragma: no-cache\r\n\
         X-Accel-Buffering: no\r\n\
         Connection: close\r\n\
         \r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The boundary that opens the first part (kept out of the head, so HEAD gets no body).
pub fn first_boundary() -> String {
    format!("--{BOUNDARY}\r\n")
}

/// Headers of one part.
pub fn part_head(frame: &Frame) -> String {
    format!(
        "Content-Type: image/jpeg\r\nContent-Length: {}\r\nX-Timestamp: {}\r\n\r\n",
        frame.jpeg.len(),
        frame.timestamp()
    )
}

/// The line that ends a part (and opens the next).
pub fn part_tail() -> String {
    format!("\r\n--{BOUNDARY}\r\n")
}

/// Writes one frame as a complete part and flushes it to the socket: head, picture and
/// boundary in one vectored write, so a part leaves in as few segments as its size allows and
/// the picture is never copied per client.
pub fn write_part(w: &mut dyn Write, frame: &Frame) -> io::Result<()> {
    let (head, tail) = (part_head(frame), part_tail());
    let mut parts = [
        IoSlice::new(head.as_bytes()),
        IoSlice::new(&frame.jpeg),
        IoSlice::new(tail.as_bytes()),
    ];
    write_all_vectored(w, &mut parts)?;
    w.flush()
}

/// `Write::write_all_vectored`, which is not stable yet.
fn write_all_vectored(w: &mut dyn Write, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !bufs.is_empty() {
        match w.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn parts_are_framed_and_end_with_the_boundary() {
        let f = Frame::new(
            vec![0xFF, 0xD8, 1, 2, 0xFF, 0xD9],
            2,
            2,
            SystemTime::UNIX_EPOCH + Duration::from_micros(1_500_000),
        );
        let mut out = Vec::new();
        out.extend_from_slice(stream_head().as_bytes());
        out.extend_from_slice(first_boundary().as_bytes());
        write_part(&mut out, &f).unwrap();
        write_part(&mut out, &f).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.0 200 OK\r\n"));
        assert!(text.contains("Content-Type: multipart/x-mixed-replace;boundary=deskcamframe\r\n"));
        assert!(text.contains("Content-Length: 6\r\nX-Timestamp: 1.500000\r\n\r\n"));
        // Head ends with the first boundary; every part ends with the next.
        assert_eq!(text.matches("--deskcamframe\r\n").count(), 3);
        assert!(out.ends_with(b"\xFF\xD9\r\n--deskcamframe\r\n"));
        // A part's declared length is exactly its body.
        let body_start = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let after_head = &out[body_start + 4..];
        let part_body = after_head
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap()
            + 4;
        assert_eq!(&after_head[part_body..part_body + 6], &f.jpeg[..]);
    }
}
