//! The V4L2 camera source. A camera's own MJPEG is passed through byte for byte (checked, and
//! given Huffman tables if it has none); YUYV is encoded on the encoder pool. A camera that
//! vanishes, stalls or fails mid-stream is a [`SourceError::Lost`]: the capture loop shows
//! "NO SIGNAL" and reopens it, renegotiating the mode, until it is back.

pub mod controls;
pub mod device;
pub mod kept;
pub mod list;
pub mod mode;
pub mod passthrough;
pub mod settings;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::{Grab, Source, SourceError};
use crate::frame::Frame;
use crate::geometry::Resolution;
use crate::image::{CaptureFormat, PixelFormat, RawImage};
use crate::json::Json;
use crate::orientation::{Orientation, Rotation};
use controls::CameraControlError;
use device::{CID_HFLIP, CID_VFLIP, Dequeued, Opened, Streaming};
use kept::Store;
use mode::NoMode;
pub use settings::{CameraSettings, ControlSetting, FormatChoice};

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
    rotate: Rotation,
    /// `--set` and what `POST /camera/controls` changed: applied again on every open.
    controls: Arc<Store>,
    /// Whether an open has succeeded before: a control the camera refuses then is a warning
    /// (the picture matters more), where at start-up it is the user's mistake to report.
    opened_before: bool,
    /// The open device and its stream, while capturing.
    running: Option<Running>,
    /// What the last open negotiated; kept after close so `/state` and the placeholder know it.
    mode: Option<Mode>,
    last_frame: Instant,
    frames: u64,
    /// Buffers the driver flagged V4L2_BUF_FLAG_ERROR.
    dropped: u64,
    /// Buffers that were not a usable picture (truncated JPEG, short YUYV buffer).
    invalid: u64,
}

struct Running {
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
    pub fn new(settings: &CameraSettings) -> Result<Camera, SourceError> {
        Ok(Camera {
            path: settings.device.clone(),
            format: settings.format,
            size: settings.size,
            fps: settings.fps,
            flip: settings.flip,
            mirror: settings.mirror,
            rotate: settings.rotate,
            controls: Arc::new(Store::new(
                settings.device.clone(),
                settings.controls.clone(),
            )),
            opened_before: false,
            running: None,
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
        let turned = Orientation::new(self.rotate, self.flip, self.mirror);
        let choice =
            mode::choose(&usable, self.format, self.size, !turned.transpose).map_err(|why| {
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
                let turn = if turned.transpose {
                    format!(" that can be turned by --rotate {}", self.rotate)
                } else {
                    String::new()
                };
                SourceError::Unusable(format!(
                    "{p} ({}) {why}{turn}{formats}; see deskcam --list-formats --device {p}",
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
        let hardware_flip = choice.format == CaptureFormat::Mjpeg && !turned.is_identity();
        if hardware_flip {
            self.flip_in_camera(dev, turned)?;
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

    /// Passthrough never decodes, so only the camera itself can turn its picture: upside down
    /// and left to right with its V4L2 flip controls (a half turn is both), never a quarter turn.
    fn flip_in_camera(&self, dev: &v4l::Device, turned: Orientation) -> Result<(), SourceError> {
        let p = self.path.display();
        let mut asked: Vec<String> = [(self.flip, "--flip"), (self.mirror, "--mirror")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| f.to_string())
            .collect();
        if self.rotate != Rotation::R0 {
            asked.push(format!("--rotate {}", self.rotate));
        }
        let asked = asked.join(" ");
        if turned.transpose {
            return Err(SourceError::Unusable(format!(
                "{asked} cannot turn the camera's own MJPEG, which is passed through without decoding; add --format yuyv (or another raw format --list-formats shows) to turn while encoding"
            )));
        }
        for (wanted, id, name) in [
            (turned.neg_y, CID_VFLIP, "vertical"),
            (turned.neg_x, CID_HFLIP, "horizontal"),
        ] {
            if !wanted {
                continue;
            }
            if !device::has_control(dev, id) {
                return Err(SourceError::Unusable(format!(
                    "{asked} with MJPEG passthrough needs the camera's {name}-flip control, and {p} has none; add --format yuyv to turn while encoding"
                )));
            }
            device::set_bool_control(dev, id, true)
                .map_err(|e| device::device_failed(&self.path, "setting the flip control", &e))?;
        }
        Ok(())
    }

    /// The kept control values, on a freshly opened camera.
    fn restore_controls(&mut self, opened: &Opened) -> Result<(), SourceError> {
        match self.controls.restore(&opened.dev) {
            Ok(0) => {}
            Ok(n) => log::info!("{}: {n} control(s) set", self.path.display()),
            Err(CameraControlError::Device(e)) => return Err(e),
            Err(e) if !self.opened_before => {
                return Err(SourceError::Unusable(format!(
                    "{}: {e}",
                    self.path.display()
                )));
            }
            Err(e) => log::warn!("{}: {e}; streaming without it", self.path.display()),
        }
        Ok(())
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
            let (w, h) = (mode.size.width, mode.size.height);
            let stride = mode.stride.max(format.bytes_per_pixel() * w as usize);
            let planes = format.planes(w, h, stride);
            // The last row needs only its pixels, not its padding.
            let needed = planes.last().map_or(0, |p| p.end());
            let whole = planes.last().map_or(0, |p| p.padded_end());
            if data.len() < needed {
                return Outcome::Invalid(format!(
                    "{} buffer of {} bytes, {needed} needed",
                    format.name(),
                    data.len()
                ));
            }
            Outcome::Pixels(format, data[..data.len().min(whole)].to_vec())
        }
    }
}

impl Source for Camera {
    fn open(&mut self) -> Result<(), SourceError> {
        self.close();
        let opened = device::open(&self.path)?;
        let mode = self.negotiate(&opened)?;
        self.restore_controls(&opened)?;
        let streaming = Streaming::start(&opened.dev, &self.path, STALL)?;
        self.opened_before = true;
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
        self.running = Some(Running { opened, streaming });
        self.last_frame = Instant::now();
        Ok(())
    }

    fn capture(&mut self) -> Result<Grab, SourceError> {
        let (Some(running), Some(mode)) = (self.running.as_mut(), self.mode.as_ref()) else {
            return Err(SourceError::Lost(format!(
                "{} is not open",
                self.path.display()
            )));
        };
        let outcome = match running.streaming.next(&self.path, WAIT)? {
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
        if let Some(running) = self.running.take() {
            running.streaming.stop();
            // The device node closes when the last handle goes; `v4l` unwraps close(2), so a
            // failing close must not unwind through the capture loop either.
            let opened = running.opened;
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
                (
                    "rotate".to_string(),
                    Json::Int(self.rotate.degrees() as i64),
                ),
            ]);
        }
        out.extend([
            (
                "device_open".to_string(),
                Json::Bool(self.running.is_some()),
            ),
            ("camera_frames".to_string(), Json::Int(self.frames as i64)),
            ("dropped".to_string(), Json::Int(self.dropped as i64)),
            ("invalid".to_string(), Json::Int(self.invalid as i64)),
        ]);
        out
    }

    fn nominal_size(&self) -> Option<Resolution> {
        self.mode.as_ref().map(|m| m.size).or(self.size)
    }

    fn camera_controls(&self) -> Option<Arc<Store>> {
        Some(self.controls.clone())
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
    fn planar_buffers_need_every_plane() {
        // NV12 4x2 with a stride of 8: 16 bytes of Y rows, then one chroma row of 4 bytes.
        let m = mode(CaptureFormat::Raw(PixelFormat::Nv12), 4, 2, 8);
        assert!(matches!(take(&[7; 24], false, &m), Outcome::Pixels(_, p) if p.len() == 24));
        assert!(matches!(take(&[7; 30], false, &m), Outcome::Pixels(_, p) if p.len() == 24));
        assert!(matches!(take(&[7; 20], false, &m), Outcome::Pixels(_, p) if p.len() == 20));
        assert!(matches!(take(&[7; 19], false, &m), Outcome::Invalid(_)));
        // YU12 4x2, packed: 8 of Y, 2 of U, 2 of V.
        let m = mode(CaptureFormat::Raw(PixelFormat::Yuv420), 4, 2, 4);
        assert!(matches!(take(&[7; 12], false, &m), Outcome::Pixels(_, p) if p.len() == 12));
        assert!(matches!(take(&[7; 11], false, &m), Outcome::Invalid(_)));
    }

    #[test]
    fn mjpeg_buffers_are_validated() {
        let m = mode(CaptureFormat::Mjpeg, 64, 48, 0);
        assert!(matches!(take(&[0; 500], false, &m), Outcome::Invalid(_)));
    }
}
