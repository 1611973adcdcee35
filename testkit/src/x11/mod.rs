//! Private X servers and ordinary X clients on them: [`Xvfb`] starts a server, [`Painter`]
//! draws on its root window, [`Recorder`] records the input events it delivers, [`Xev`] reports
//! the keysyms keys type through XKB, [`empty_keycodes`] counts the keycodes free for binding.

mod keys;
mod painter;
mod recorder;
mod xev;
mod xvfb;

pub use keys::empty_keycodes;
pub use painter::Painter;
pub use recorder::{Rec, Recorder};
pub use xev::{Xev, XevKey};
pub use xvfb::Xvfb;
