//! Where frames come from, and the capture loop that drives a source: it paces capture, stops
//! the source when nobody watches, shows a "NO SIGNAL" picture while the source is gone and
//! reopens it with back-off, so the server itself never exits because a device did.

pub mod camera;
pub mod draw;
pub mod pattern;
pub mod screen;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{Config, DEFAULT_SIZE, Resolution, SourceKind};
use crate::encode::RawImage;
use crate::encode::pool::{EncoderPool, Job};
use crate::frame::Frame;
use crate::hub::Hub;
use crate::json::Json;

/// What one call to [`Source::capture`] produced.
pub enum Captured {
    /// Pixels to encode.
    Image(RawImage),
    /// A finished JPEG to pass through untouched (a camera's own MJPEG).
    Jpeg(Frame),
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
    fn capture(&mut self) -> Result<Captured, SourceError>;
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
    fn geometry(&self) -> Option<crate::config::Region> {
        None
    }
}

/// Builds the source the configuration asks for (not opened yet).
pub fn from_config(config: &Config) -> Result<Box<dyn Source>, SourceError> {
    Ok(match config.source {
        SourceKind::Pattern => Box::new(pattern::Pattern::new(
            config.size.unwrap_or(DEFAULT_SIZE),
            config.fps,
        )),
        SourceKind::Screen => Box::new(screen::Screen::new(config)?),
        SourceKind::Camera => Box::new(camera::Camera::new(config)?),
    })
}

/// First retry after a loss; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between reopen attempts: short enough that a replugged camera is back quickly,
/// and the placeholder (with its clock) is refreshed at least this often.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Runs `source` (already opened) until the hub shuts down.
pub fn capture_loop(
    mut source: Box<dyn Source>,
    hub: Arc<Hub>,
    pool: EncoderPool,
    idle_stop: Duration,
) {
    let mut open = true;
    let mut backoff = FIRST_BACKOFF;
    let mut last_size = source.nominal_size().unwrap_or(DEFAULT_SIZE);
    let mut lost_since: Option<Instant> = None;
    hub.set_info(source.info());
    hub.set_geometry(source.geometry());
    hub.set_online(true);
    while !hub.is_shutdown() {
        if open && !idle_stop.is_zero() && hub.idle_for().is_some_and(|d| d >= idle_stop) {
            log::info!("no clients for {} s: stopping capture", idle_stop.as_secs());
            source.close();
            open = false;
            pool.drain();
            hub.source_stopped();
        }
        if !open {
            if !hub.wait_for_clients() {
                break;
            }
            match source.open() {
                Ok(()) => {
                    open = true;
                    hub.set_info(source.info());
                    hub.set_geometry(source.geometry());
                    hub.set_online(true);
                }
                Err(e) => {
                    show_no_signal(&hub, &pool, last_size, &e);
                    hub.pause(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        pool.wait_for_slot();
        if hub.take_fresh_request() {
            source.refresh();
        }
        let captured = source.capture();
        if matches!(captured, Ok(Captured::Image(_) | Captured::Jpeg(_))) {
            // Back-off resets on a real picture, not on a successful open: a device that opens
            // and then fails at once must not be retried in a tight loop.
            backoff = FIRST_BACKOFF;
            if let Some(since) = lost_since.take() {
                log::info!("source back after {:.1} s", since.elapsed().as_secs_f64());
            }
        }
        match captured {
            Ok(Captured::Image(img)) => {
                last_size = Resolution {
                    width: img.width,
                    height: img.height,
                };
                pool.submit(Job::Encode(img));
            }
            Ok(Captured::Jpeg(frame)) => {
                last_size = Resolution {
                    width: frame.width,
                    height: frame.height,
                };
                pool.submit(Job::Ready(frame));
            }
            Ok(Captured::Unchanged) => {}
            Err(e) => {
                log::warn!("source lost: {e}; retrying");
                lost_since.get_or_insert_with(Instant::now);
                source.close();
                open = false;
                show_no_signal(&hub, &pool, last_size, &e);
                hub.pause(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        hub.set_info(source.info());
        // The screen source's area changes when the X screen is resized.
        hub.set_geometry(source.geometry());
    }
    source.close();
}

fn show_no_signal(hub: &Hub, pool: &EncoderPool, size: Resolution, why: &SourceError) {
    hub.set_online(false);
    pool.submit(Job::Placeholder(draw::no_signal(
        size.width,
        size.height,
        &why.to_string(),
    )));
}
