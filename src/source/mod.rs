//! Where frames come from: a [`Source`] opens a device or display and delivers pictures, and says
//! with its error variant whether a failure is worth retrying. The loop that drives a source is
//! [`crate::pipeline`].

pub mod camera;
pub mod draw;
pub mod pattern;
pub mod screen;

use std::fmt;
use std::sync::Arc;

use crate::frame::Frame;
use crate::geometry::{Region, Resolution};
use crate::image::{BandedImage, RawImage};
use crate::json::Json;

/// What one call to [`Source::capture`] produced.
pub enum Grab {
    /// Pixels to encode.
    Raw(RawImage),
    /// A finished JPEG to pass through untouched (a camera's own MJPEG).
    Jpeg(Frame),
    /// Pixels in bands, shared with the previous picture where unchanged (the screen).
    Bands(BandedImage),
    /// Nothing changed within the source's own bounded wait; the loop checks for idleness and
    /// shutdown and asks again.
    Unchanged,
}

/// Why a source cannot deliver. The variant decides what happens next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The device or display is gone or not there yet: show "NO SIGNAL", reopen with back-off.
    Lost(String),
    /// A setting can never work with this device (unsupported size, not a camera): at start-up
    /// this ends the program with one message; later it is treated like `Lost`.
    Unusable(String),
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Lost(m) | SourceError::Unusable(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SourceError {}

pub trait Source: Send {
    /// Acquires the device or display. Called at start-up and again after idleness or a loss.
    fn open(&mut self) -> Result<(), SourceError>;
    /// Blocks until the next picture is due or ready, for at most about a second.
    fn capture(&mut self) -> Result<Grab, SourceError>;
    /// Releases the device (camera LED off, X connection closed).
    fn close(&mut self);
    /// Source-specific facts for `/state`.
    fn info(&self) -> Vec<(String, Json)>;
    /// The size frames will have, if known before the first one (for the placeholder).
    fn nominal_size(&self) -> Option<Resolution>;
    /// Capture a new picture on the next call even if nothing changed (for `?fresh=1`).
    /// Sources that deliver continuously need not do anything.
    fn refresh(&mut self) {}
    /// The X screen area streamed, for mapping input coordinates (screen source only).
    fn area(&self) -> Option<Region> {
        None
    }
    /// The camera's image controls and the values kept across reopens (camera source only).
    fn camera_controls(&self) -> Option<Arc<camera::kept::Store>> {
        None
    }
}

/// Which source to run and what the user asked of it: each source gets its own settings and
/// nothing else of the configuration (which builds these at the top, in `config`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settings {
    Pattern(pattern::PatternSettings),
    Screen(screen::ScreenSettings),
    Camera(camera::CameraSettings),
}

impl Settings {
    /// The source's name, as `--source` takes it and `/state` shows it.
    pub fn name(&self) -> &'static str {
        match self {
            Settings::Pattern(_) => "pattern",
            Settings::Screen(_) => "screen",
            Settings::Camera(_) => "camera",
        }
    }
}

/// Builds the source `settings` describe (not opened yet).
pub fn new(settings: &Settings) -> Result<Box<dyn Source>, SourceError> {
    Ok(match settings {
        Settings::Pattern(s) => Box::new(pattern::Pattern::new(s)),
        Settings::Screen(s) => Box::new(screen::Screen::new(s)?),
        Settings::Camera(s) => Box::new(camera::Camera::new(s)?),
    })
}
