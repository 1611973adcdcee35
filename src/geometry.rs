//! Sizes and rectangles, validated once at the border (CLI, X server, camera) and trusted after.

use std::fmt;

/// The frame size when none is asked for: the pattern's size, the size a camera's mode is
/// chosen near, and the NO SIGNAL picture's until a source says otherwise.
pub const DEFAULT_SIZE: Resolution = Resolution {
    width: 1280,
    height: 720,
};

/// A picture size in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub width: u32,
    pub height: u32,
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

/// A rectangle of the X screen: `WxH+X+Y`, as xrandr and X geometry strings write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Region {
    pub fn size(&self) -> Resolution {
        Resolution {
            width: self.width,
            height: self.height,
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}+{}+{}", self.width, self.height, self.x, self.y)
    }
}
