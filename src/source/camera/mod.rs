//! The V4L2 camera source. A camera's own MJPEG is passed through byte for byte (checked, and
//! given Huffman tables if it has none); YUYV is encoded on the encoder pool. A camera that
//! vanishes, stalls or fails mid-stream is a [`SourceError::Lost`]: the capture loop shows
//! "NO SIGNAL" and reopens it, renegotiating the mode, until it is back.

pub mod device;
pub mod list;
pub mod mode;
pub mod passthrough;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::{Grab, Source, SourceError};
use crate::config::{Config, FormatChoice};
use crate::frame::Frame;
use crate::geometry::Resolution;
use crate::image::{CaptureFormat, PixelFormat, RawImage};
use crate::json::Json;
use device::{CID_HFLIP, CID_VFLIP, Dequeued, Opened, Streaming};
use mode::NoMode;

/// No frame for this long is a dead stream: restart it (the "stall" rule). Long enough
/// for a camera at its slowest common rate (5 fps in low light on UVC auto-exposure).
pub const STALL: Duration = Duration::from_secs(2);
/// One `capture` call waits at most this long, so the loop checks idleness and shutdown often.
const WAIT: Duration = Duration::from_secs(1);

pub struct Camera {
    path: PathBuf,
    format: FormatChoice,
    size: Option<Resolution>,
    fps: u32,
    flip: bool,
    mirror: bool,
    live: Option<Live>,
    /// What the last open negotiated; kept after close so `/state` and the placeholder know it.
    mode: Option<Mode>,
    last_frame: Instant,
    frames: u64,
    /// Buffers the driver flagged V4L2_BUF_FLAG_ERROR.
    dropped: u64,
    /// Buffers that were not a usable picture (truncated JPEG, short YUYV buffer).
    invalid: u64,
}

struct Live {
    opened: Opened,
    streaming: Streaming,
}

#[derive(Clone)]
struct Mode {
    format: CaptureFormat,
    size: Resolution,
    stride: usize,
    fps: Option<f64>,
    card: String,
    driver: String,
    hardware_flip: bool,
}

impl Camera {
    pub fn new(config: &Config) -> Result<Camera, SourceError> {
        Ok(Camera {
            path: config.device.clone(),
            format: config.camera_format,
            size: config.size,
            fps: config.fps,
            flip: config.flip,
            mirror: config.mirror,
            live: None,
            mode: None,
            last_frame: Instant::now(),
            frames: 0,
            dropped: 0,
            invalid: 0,
        })
    }

    fn negotiate(&self, opened: &Opened) -> Result<Mode, SourceError> {
        let p = self.path.display();
        let dev = &opened.dev;
        let offers = device::offers(dev)
            .map_err(|e| device::device_failed(&self.path, "VIDIOC_ENUM_FMT", &e))?;
        let usable = device::usable(&offers);
        let choice = mode::choose(&usable, self.format, self.size).map_err(|why| {
            // Name the formats it has only when the format is the problem; a size error
            // already lists the sizes.
            let formats = match why {
                NoMode::NoFormat { .. } => {
                    let all: Vec<String> = offers
                        .iter()
                        .map(|o| mode::fourcc_text(&o.fourcc))
                        .collect();
                    format!(" (it has: {})", all.join(", "))
                }
                NoMode::NoSize { .. } | NoMode::NoSizes => String::new(),
            };
            SourceError::Unusable(format!(
                "{p} ({}) {why}{formats}; see deskcam --list-formats --device {p}",
                opened.card
            ))
        })?;
        let fourcc = offers
            .iter()
            .map(|o| o.fourcc)
            .find(|f| mode::from_fourcc(f) == Some(choice.format))
            .unwrap_or(*b"YUYV");
        let format = device::set_format(dev, &self.path, fourcc, choice.size)?;
        let fps = device::set_fps(dev, self.fps);
        let mut hardware_flip = false;
        if choice.format == CaptureFormat::Mjpeg && (self.flip || self.mirror) {
            // Passthrough never decodes, so only the camera itself can turn its picture.
            for (wanted, id, flag, name) in [
                (self.flip, CID_VFLIP, "--flip", "vertical"),
                (self.mirror, CID_HFLIP, "--mirror", "horizontal"),
            ] {
                if !wanted {
                    continue;
                }
                if !device::has_control(dev, id) {
                    return Err(SourceError::Unusable(format!(
                        "{flag} with MJPEG passthrough needs the camera's {name}-flip control, and {p} has none; add --format yuyv to flip while encoding"
                    )));
                }
                device::set_bool_control(dev, id, true).map_err(|e| {
                    device::device_failed(&self.path, "setting the flip control", &e)
                })?;
            }
            hardware_flip = true;
        }
        Ok(Mode {
            format: choice.format,
            size: choice.size,
            stride: format.stride as usize,
            fps,
            card: opened.card.clone(),
            driver: opened.driver.clone(),
            hardware_flip,
        })
    }

    fn count_invalid(&mut self, why: &str) {
        self.invalid += 1;
        if self.invalid == 1 || self.invalid.is_multiple_of(100) {
            log::warn!(
                "{}: dropped a bad frame ({why}); {} so far",
                self.path.display(),
                self.invalid
            );
        }
    }
}

/// What became of one dequeued buffer, owned so the buffer can go back to the driver.
enum Outcome {
    Jpeg(Vec<u8>),
    Pixels(PixelFormat, Vec<u8>),
    Flagged,
    Invalid(String),
}

fn take(data: &[u8], error: bool, mode: &Mode) -> Outcome {
    if error {
        return Outcome::Flagged;
    }
    match mode.format {
        CaptureFormat::Mjpeg => match passthrough::prepare(data) {
            Ok(jpeg) => Outcome::Jpeg(jpeg),
            Err(e) => Outcome::Invalid(e.to_string()),
        },
        CaptureFormat::Raw(format) => {
            let (w, h) = (mode.size.width as usize, mode.size.height as usize);
            let row = format.bytes_per_pixel() * w;
            let stride = mode.stride.max(row);
            let needed = stride * (h - 1) + row;
            if data.len() < needed {
                return Outcome::Invalid(format!(
                    "{} buffer of {} bytes, {needed} needed",
                    format.name(),
                    data.len()
                ));
            }
            Outcome::Pixels(format, data[..data.len().min(stride * h)].to_vec())
        }
    }
}

impl Source for Camera {
    fn open(&mut self) -> Result<(), SourceError> {
        self.close();
        let opened = device::open(&self.path)?;
        let mode = self.negotiate(&opened)?;
        let streaming = Streaming::start(&opened.dev, &self.path, STALL)?;
        log::info!(
            "{} ({}): {} {} at {} fps, {}",
            self.path.display(),
            mode.card,
            mode.format.name(),
            mode.size,
            mode.fps.map_or("unknown".into(), |f| format!("{f:.1}")),
            if mode.format == CaptureFormat::Mjpeg {
                "passed through"
            } else {
                "encoded"
            }
        );
        self.mode = Some(mode);
        self.live = Some(Live { opened, streaming });
        self.last_frame = Instant::now();
        Ok(())
    }

    fn capture(&mut self) -> Result<Grab, SourceError> {
        let (Some(live), Some(mode)) = (self.live.as_mut(), self.mode.as_ref()) else {
            return Err(SourceError::Lost(format!(
                "{} is not open",
                self.path.display()
            )));
        };
        let outcome = match live.streaming.next(&self.path, WAIT)? {
            Dequeued::Nothing => None,
            Dequeued::Frame(buf) => Some(take(buf.data, buf.error, mode)),
        };
        let Some(outcome) = outcome else {
            if self.last_frame.elapsed() >= STALL {
                return Err(SourceError::Lost(format!(
                    "{}: no frame for {} s (stalled); restarting the stream",
                    self.path.display(),
                    STALL.as_secs()
                )));
            }
            return Ok(Grab::Unchanged);
        };
        self.last_frame = Instant::now();
        let captured = SystemTime::now();
        let (size, stride) = (mode.size, mode.stride);
        match outcome {
            Outcome::Jpeg(jpeg) => {
                self.frames += 1;
                Ok(Grab::Jpeg(Frame::new(
                    jpeg,
                    size.width,
                    size.height,
                    captured,
                )))
            }
            Outcome::Pixels(format, data) => {
                self.frames += 1;
                Ok(Grab::Raw(RawImage {
                    format,
                    width: size.width,
                    height: size.height,
                    stride: stride.max(format.bytes_per_pixel() * size.width as usize),
                    data,
                    captured,
                }))
            }
            Outcome::Flagged => {
                // vivid's inject_v4l2_buf_flag_error, or a UVC transfer error: the buffer holds
                // a partial picture. Skip it; the next one is usually fine.
                self.dropped += 1;
                log::warn!(
                    "{}: skipped a buffer the driver flagged as corrupt; {} so far",
                    self.path.display(),
                    self.dropped
                );
                Ok(Grab::Unchanged)
            }
            Outcome::Invalid(why) => {
                self.count_invalid(&why);
                Ok(Grab::Unchanged)
            }
        }
    }

    fn close(&mut self) {
        if let Some(live) = self.live.take() {
            live.streaming.stop();
            // The device node closes when the last handle goes; `v4l` unwraps close(2), so a
            // failing close must not unwind through the capture loop either.
            let opened = live.opened;
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(opened))).is_err()
            {
                log::warn!("closing {} failed", self.path.display());
            }
        }
    }

    fn info(&self) -> Vec<(String, Json)> {
        let mut out = vec![(
            "device".to_string(),
            Json::str(self.path.display().to_string()),
        )];
        if let Some(m) = &self.mode {
            out.extend([
                ("camera".to_string(), Json::str(&m.card)),
                ("driver".to_string(), Json::str(&m.driver)),
                ("format".to_string(), Json::str(m.format.name())),
                (
                    "mode".to_string(),
                    Json::str(match m.format {
                        CaptureFormat::Mjpeg => "passthrough",
                        CaptureFormat::Raw(_) => "encode",
                    }),
                ),
                ("size".to_string(), Json::str(m.size.to_string())),
                (
                    "camera_fps".to_string(),
                    m.fps.map_or(Json::Null, Json::Num),
                ),
                ("hardware_flip".to_string(), Json::Bool(m.hardware_flip)),
            ]);
        }
        out.extend([
            ("device_open".to_string(), Json::Bool(self.live.is_some())),
            ("camera_frames".to_string(), Json::Int(self.frames as i64)),
            ("dropped".to_string(), Json::Int(self.dropped as i64)),
            ("invalid".to_string(), Json::Int(self.invalid as i64)),
        ]);
        out
    }

    fn nominal_size(&self) -> Option<Resolution> {
        self.mode.as_ref().map(|m| m.size).or(self.size)
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(format: CaptureFormat, width: u32, height: u32, stride: usize) -> Mode {
        Mode {
            format,
            size: Resolution { width, height },
            stride,
            fps: None,
            card: String::new(),
            driver: String::new(),
            hardware_flip: false,
        }
    }

    #[test]
    fn flagged_buffers_are_skipped_whatever_they_hold() {
        let m = mode(CaptureFormat::Raw(PixelFormat::Yuyv), 4, 2, 8);
        assert!(matches!(take(&[0; 16], true, &m), Outcome::Flagged));
    }

    #[test]
    fn yuyv_buffers_are_sliced_to_the_picture_or_rejected_when_short() {
        let m = mode(CaptureFormat::Raw(PixelFormat::Yuyv), 4, 2, 12);
        // Two rows of 12 bytes (8 of pixels, 4 of padding) plus driver slack at the end.
        match take(&[7; 30], false, &m) {
            Outcome::Pixels(_, p) => assert_eq!(p.len(), 24),
            _ => panic!("expected pixels"),
        }
        // The last row needs only its pixels, not its padding.
        assert!(matches!(take(&[7; 20], false, &m), Outcome::Pixels(_, p) if p.len() == 20));
        assert!(matches!(take(&[7; 19], false, &m), Outcome::Invalid(_)));
    }

    #[test]
    fn mjpeg_buffers_are_validated() {
        let m = mode(CaptureFormat::Mjpeg, 64, 48, 0);
        assert!(matches!(take(&[0; 500], false, &m), Outcome::Invalid(_)));
    }
}
