//! The V4L2 device itself, through the `v4l` crate: open and identify it, enumerate what it
//! offers, negotiate a mode and stream from mmap buffers with a bounded wait on every dequeue.
//! Every OS error is turned into a [`SourceError`] whose variant decides what happens next.

use std::io;
use std::path::Path;
use std::time::Duration;

use rustix::event::PollFlags;
use rustix::io::Errno;
use v4l::buffer::{Flags, Type};
use v4l::capability::Flags as Caps;
use v4l::control::{Control, Value};
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::io::mmap::Stream;
use v4l::io::traits::{CaptureStream, Stream as _};
use v4l::video::Capture as _;
use v4l::video::capture::Parameters;
use v4l::{Device, Format, FourCC};

use super::mode::{self, Sizes};
use crate::geometry::Resolution;
use crate::image::CaptureFormat;
use crate::source::SourceError;

/// Buffers the driver fills in turn: enough that one being encoded or copied does not make
/// the camera drop frames, few enough to keep latency at about one frame (ustreamer uses 4 too).
const BUFFERS: u32 = 4;
/// The flip controls, as the kernel headers name them (generated into `v4l`'s bindings).
pub use v4l::v4l_sys::{V4L2_CID_HFLIP as CID_HFLIP, V4L2_CID_VFLIP as CID_VFLIP};

/// Turns an I/O error from `what` on `path` into a source error: a vanished device is `Lost`
/// (show NO SIGNAL, retry), anything else too while streaming, since a camera that worked once
/// is worth retrying.
pub fn device_failed(path: &Path, what: &str, e: &io::Error) -> SourceError {
    let p = path.display();
    match Errno::from_io_error(e) {
        Some(Errno::NODEV | Errno::NXIO) => {
            SourceError::Lost(format!("{p} was unplugged ({what})"))
        }
        Some(Errno::NOENT) => {
            SourceError::Lost(format!("{p}: no such device; is the camera plugged in?"))
        }
        _ => SourceError::Lost(format!("{p}: {what} failed: {e}")),
    }
}

/// The errors that mean "the device is not there (any more)": it may come back.
fn is_gone(e: &io::Error) -> bool {
    matches!(
        Errno::from_io_error(e),
        Some(Errno::NOENT | Errno::NODEV | Errno::NXIO)
    )
}

/// A device opened and identified as a video capture device.
pub struct Opened {
    pub dev: Device,
    pub driver: String,
    pub card: String,
}

/// Opens `path` and checks it is a V4L2 capture device.
pub fn open(path: &Path) -> Result<Opened, SourceError> {
    let p = path.display();
    let dev = Device::with_path(path).map_err(|e| {
        if is_gone(&e) {
            device_failed(path, "open", &e)
        } else {
            SourceError::Unusable(format!("cannot open {p}: {e}"))
        }
    })?;
    let caps = dev
        .query_caps()
        .map_err(|e| match Errno::from_io_error(&e) {
            Some(Errno::NOTTY | Errno::INVAL) => SourceError::Unusable(format!(
                "{p} is not a V4L2 camera (it does not answer VIDIOC_QUERYCAP)"
            )),
            _ => device_failed(path, "VIDIOC_QUERYCAP", &e),
        })?;
    if !caps.capabilities.contains(Caps::VIDEO_CAPTURE) {
        return Err(SourceError::Unusable(format!(
            "{p} ({}, driver {}) is not a video capture device (a UVC camera's second node carries metadata; a v4l2loopback node becomes a camera once a producer writes to it)",
            caps.card, caps.driver
        )));
    }
    if !caps.capabilities.contains(Caps::STREAMING) {
        return Err(SourceError::Unusable(format!(
            "{p} ({}) does not support streaming I/O",
            caps.card
        )));
    }
    Ok(Opened {
        dev,
        driver: caps.driver,
        card: caps.card,
    })
}

/// One format a device offers, with every size and, per size, its frame rates.
pub struct Offer {
    pub fourcc: [u8; 4],
    pub description: String,
    pub sizes: Sizes,
}

/// Everything the device offers for capture, in its own order.
pub fn offers(dev: &Device) -> io::Result<Vec<Offer>> {
    let mut out = Vec::new();
    for desc in dev.enum_formats()? {
        let sizes = match dev.enum_framesizes(desc.fourcc) {
            Ok(list) => sizes_of(list),
            // Some drivers (v4l2loopback before a producer, old ones) do not enumerate sizes:
            // the current format is then the one size on offer.
            Err(_) => match dev.format() {
                Ok(f) if f.fourcc == desc.fourcc => Sizes::Discrete(vec![Resolution {
                    width: f.width,
                    height: f.height,
                }]),
                _ => Sizes::Discrete(Vec::new()),
            },
        };
        out.push(Offer {
            fourcc: desc.fourcc.repr,
            description: desc.description,
            sizes,
        });
    }
    Ok(out)
}

fn sizes_of(list: Vec<v4l::FrameSize>) -> Sizes {
    let mut discrete = Vec::new();
    for fs in list {
        match fs.size {
            FrameSizeEnum::Discrete(d) => discrete.push(Resolution {
                width: d.width,
                height: d.height,
            }),
            FrameSizeEnum::Stepwise(s) => {
                return Sizes::Stepwise {
                    min: Resolution {
                        width: s.min_width,
                        height: s.min_height,
                    },
                    max: Resolution {
                        width: s.max_width,
                        height: s.max_height,
                    },
                    step: Resolution {
                        width: s.step_width.max(1),
                        height: s.step_height.max(1),
                    },
                };
            }
        }
    }
    Sizes::Discrete(discrete)
}

/// The usable formats among `offers`, for [`super::mode::choose`].
pub fn usable(offers: &[Offer]) -> Vec<(CaptureFormat, Sizes)> {
    offers
        .iter()
        .filter_map(|o| mode::from_fourcc(&o.fourcc).map(|p| (p, o.sizes.clone())))
        .collect()
}

/// Frame rates offered at one size, highest first, as text ("30", "7.5", "1-60").
pub fn rates(dev: &Device, fourcc: [u8; 4], size: Resolution) -> Vec<String> {
    let Ok(list) = dev.enum_frameintervals(FourCC::new(&fourcc), size.width, size.height) else {
        return Vec::new();
    };
    let fps = |n: u32, d: u32| if n == 0 { 0.0 } else { d as f64 / n as f64 };
    let show = |f: f64| {
        if f.fract() == 0.0 {
            format!("{f:.0}")
        } else {
            format!("{f:.2}")
        }
    };
    let mut out: Vec<(f64, String)> = list
        .into_iter()
        .map(|fi| match fi.interval {
            FrameIntervalEnum::Discrete(f) => {
                let v = fps(f.numerator, f.denominator);
                (v, show(v))
            }
            FrameIntervalEnum::Stepwise(s) => {
                let hi = fps(s.min.numerator, s.min.denominator);
                let lo = fps(s.max.numerator, s.max.denominator);
                (hi, format!("{}-{}", show(lo), show(hi)))
            }
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.dedup_by(|a, b| a.1 == b.1);
    out.into_iter().map(|(_, s)| s).collect()
}

/// Sets the format; the driver may adjust what it cannot do, so the result is checked.
pub fn set_format(
    dev: &Device,
    path: &Path,
    fourcc: [u8; 4],
    size: Resolution,
) -> Result<Format, SourceError> {
    let want = Format::new(size.width, size.height, FourCC::new(&fourcc));
    let got = dev
        .set_format(&want)
        .map_err(|e| device_failed(path, "VIDIOC_S_FMT", &e))?;
    if got.fourcc.repr != fourcc || got.width != size.width || got.height != size.height {
        return Err(SourceError::Unusable(format!(
            "{} gave {}x{} {} when asked for {size} {}",
            path.display(),
            got.width,
            got.height,
            got.fourcc,
            FourCC::new(&fourcc)
        )));
    }
    Ok(got)
}

/// Asks for `fps` and returns the rate the driver chose (drivers round to what they can do;
/// some, like v4l2loopback, follow their producer instead).
pub fn set_fps(dev: &Device, fps: u32) -> Option<f64> {
    let params = match dev.set_params(&Parameters::with_fps(fps)) {
        Ok(p) => p,
        Err(_) => dev.params().ok()?,
    };
    let f = params.interval;
    (f.numerator != 0).then(|| f.denominator as f64 / f.numerator as f64)
}

/// Whether the device has control `id` (HFLIP, VFLIP).
pub fn has_control(dev: &Device, id: u32) -> bool {
    dev.control(id).is_ok()
}

pub fn set_bool_control(dev: &Device, id: u32, on: bool) -> io::Result<()> {
    dev.set_control(Control {
        id,
        value: Value::Boolean(on),
    })
}

/// A running mmap capture stream.
pub struct Streaming {
    stream: Stream<'static>,
    started: bool,
}

/// One dequeued buffer, valid until the next call.
pub struct Buffer<'a> {
    pub data: &'a [u8],
    pub error: bool,
}

pub enum Dequeued<'a> {
    Frame(Buffer<'a>),
    /// No buffer within the wait.
    Nothing,
}

impl Streaming {
    pub fn start(dev: &Device, path: &Path, timeout: Duration) -> Result<Streaming, SourceError> {
        let mut stream = Stream::with_buffers(dev, Type::VideoCapture, BUFFERS)
            .map_err(|e| device_failed(path, "mmap buffers (VIDIOC_REQBUFS)", &e))?;
        stream.set_timeout(timeout);
        Ok(Streaming {
            stream,
            started: false,
        })
    }

    /// Waits up to `wait` for a filled buffer. The first call queues every buffer and starts
    /// streaming (inside `v4l`, which then waits up to the stream timeout).
    pub fn next(&mut self, path: &Path, wait: Duration) -> Result<Dequeued<'_>, SourceError> {
        if self.started {
            // Poll here rather than in `v4l`: its `next` re-queues the last buffer before
            // waiting, so a timed-out `next` cannot be called again (EINVAL on the double QBUF).
            let ready = self
                .stream
                .handle()
                .poll(
                    PollFlags::IN.bits() as i16,
                    wait.as_millis().min(i32::MAX as u128) as i32,
                )
                .map_err(|e| device_failed(path, "poll", &e))?;
            if ready == 0 {
                return Ok(Dequeued::Nothing);
            }
        }
        self.started = true;
        match CaptureStream::next(&mut self.stream) {
            Ok((data, meta)) => {
                let used = (meta.bytesused as usize).min(data.len());
                Ok(Dequeued::Frame(Buffer {
                    data: &data[..used],
                    error: meta.flags.contains(Flags::ERROR),
                }))
            }
            // Only the very first wait can time out here; `v4l` cannot resume after that, so
            // it restarts the stream like any other stall.
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(SourceError::Lost(format!(
                "{}: no frame after starting the stream",
                path.display()
            ))),
            Err(e) => Err(device_failed(path, "VIDIOC_DQBUF", &e)),
        }
    }

    /// Stops streaming and releases the buffers. `v4l` panics in its destructors when
    /// VIDIOC_STREAMOFF or VIDIOC_REQBUFS fail with anything but ENODEV; a dying driver must not
    /// take the capture thread with it, so the panic is contained here.
    pub fn stop(mut self) {
        let _ = self.stream.stop();
        let stream = self.stream;
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(stream))).is_err() {
            log::warn!("the camera driver failed to release its buffers");
        }
    }
}
