//! What deskcam's end-to-end tests (`tests/`) and benchmarks (`benches/`) share: one copy of
//! each helper, compiled once.
//!
//! From the top: [`server`] finds and starts the real binary; [`http`] talks to it as clients do
//! (raw requests, keep-alive form posts, multipart streams, a stalled reader, `/state`); [`x11`]
//! starts private X servers, draws on them and records the input events they deliver;
//! [`picture`] decodes frames to look at their pixels; [`procfs`] reads CPU, memory and load
//! from /proc; [`tls`] makes a test certificate authority and HTTPS clients that trust it;
//! [`browser`] runs the Chromium scripts of tests/browser/; [`report`] reads what a test-bed script printed (PASS, FAIL, INFO, DONE); [`child`] keeps helper processes bounded (killed on drop, output read with a
//! timeout); [`wait`] polls a condition with a bound instead of sleeping.
//!
//! JPEG structure questions (size, where a frame ends, segments) go through the program's own
//! `deskcam::jpeg::markers`, which is unit-tested there; everything here stays independent of
//! the deskcam library, so a test never uses the code it judges to judge it.

pub mod browser;
pub mod child;
pub mod http;
pub mod picture;
pub mod procfs;
pub mod report;
pub mod server;
pub mod stats;
pub mod tls;
pub mod wait;
pub mod x11;

/// The X protocol crate the helpers use, for tests that make their own requests.
pub use x11rb;
