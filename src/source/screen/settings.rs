//! What the user asked of the screen source, built from the command line at the top
//! (`config`): the screen source sees these and nothing else of the configuration.

use crate::geometry::Region;

/// Everything the screen source is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScreenSettings {
    /// The X display (`--display`, else `$DISPLAY`); `None` when there is neither, which the
    /// source refuses with one line at start.
    pub display: Option<String>,
    pub area: ScreenArea,
    /// Draw the pointer into the picture (`--no-cursor` turns it off).
    pub cursor: bool,
    /// `--fps`: a maximum for the screen, which grabs only when something changed.
    pub max_fps: u32,
    /// Rows per band, one MCU row of the encoder's subsampling so every band is a whole JPEG
    /// restart segment; `None` with `--full-frames` (every frame grabbed and encoded whole).
    pub band_rows: Option<u32>,
}

/// What part of the screen to stream: a rectangle, or a RandR monitor by name or index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScreenArea {
    Whole,
    Region(Region),
    Monitor(String),
}
