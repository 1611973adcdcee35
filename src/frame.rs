//! The unit that flows from a source through the hub to every client: one finished JPEG.
//! Clients share it through an `Arc`, so a frame is never copied per client.

use std::time::SystemTime;

#[derive(Debug)]
pub struct Frame {
    pub jpeg: Vec<u8>,
    /// Set by the hub on publish; strictly increasing, so a client knows what it has sent.
    pub seq: u64,
    /// When the picture was taken (sent as `X-Timestamp`, used for latency measurements).
    pub captured: SystemTime,
    pub width: u32,
    pub height: u32,
}

impl Frame {
    pub fn new(jpeg: Vec<u8>, width: u32, height: u32, captured: SystemTime) -> Frame {
        Frame {
            jpeg,
            seq: 0,
            captured,
            width,
            height,
        }
    }

    /// Seconds since the epoch with microseconds, the form ustreamer's `X-Timestamp` uses.
    pub fn timestamp(&self) -> String {
        let t = self
            .captured
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        format!("{}.{:06}", t.as_secs(), t.subsec_micros())
    }
}
