//! Private X servers and ordinary X clients on them: [`Xvfb`] starts a server, [`Painter`]
//! draws on its root window, [`Recorder`] records the input events it delivers.

mod keys;
mod painter;
mod recorder;
mod xvfb;

pub use painter::Painter;
pub use recorder::{Rec, Recorder};
pub use xvfb::Xvfb;
