//! End-to-end tests: the real binary, real clients (raw TCP, curl, ffmpeg), real X servers.
//! One test binary (as ripgrep does) so helpers are compiled once.

mod painter;
mod util;
mod xrecord;

mod bands;
mod camera;
mod control;
mod http;
mod screen;
