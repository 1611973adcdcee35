//! End-to-end tests: the real binary, real clients (raw TCP, curl, ffmpeg, Chromium), real X
//! servers, real V4L2 drivers. One test binary (as ripgrep does); the helpers it shares with
//! the benchmarks live in the `testkit` crate (testkit/).

mod arm;
mod bands;
mod camera;
mod control;
mod deb;
mod flags;
mod hostile;
mod http;
mod proxy;
mod resources;
mod screen;
mod tls;
