//! What the user asked of the camera source, built from the command line at the top
//! (`config`): the camera source sees these and nothing else of the configuration.

use std::path::PathBuf;

use crate::geometry::Resolution;
use crate::image::CaptureFormat;
use crate::orientation::Rotation;

/// Everything the camera source is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CameraSettings {
    pub device: PathBuf,
    pub format: FormatChoice,
    /// `None` when the user gave no `--size`: the mode nearest [`crate::geometry::DEFAULT_SIZE`].
    pub size: Option<Resolution>,
    pub fps: u32,
    /// Upside down (`--flip`).
    pub flip: bool,
    /// Left to right (`--mirror`).
    pub mirror: bool,
    /// Quarter turns clockwise (`--rotate`).
    pub rotate: Rotation,
    /// `--set`, in the order given: applied at every open.
    pub controls: Vec<ControlSetting>,
}

/// Which camera format the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatChoice {
    /// The camera's own MJPEG where it offers the size, else what is cheapest to encode.
    Auto,
    Only(CaptureFormat),
}

/// One camera control by its v4l2-ctl name and a whole-number value (`--set NAME=VALUE`, or
/// one pair of `POST /camera/controls`). Whether the camera has it and takes the value is only
/// known once the device is open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlSetting {
    pub name: String,
    pub value: i64,
}
