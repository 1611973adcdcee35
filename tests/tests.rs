//! End-to-end tests: the real binary, real clients (raw TCP, curl, ffmpeg), real X servers.
//! One test binary (as ripgrep does) so helpers are compiled once.

mod painter;
mod util;
mod xev;
mod xrecord;

mod camera;
mod control;
mod control_hold;
mod control_keys;
mod http;
mod screen;
