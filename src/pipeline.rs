//! The capture loop that drives the pipeline source -> encoder pool -> hub in its own thread: it
//! paces capture, stops the source when nobody watches, shows a "NO SIGNAL" picture while the
//! source is gone and reopens it with back-off, so the server never exits because a device did.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::encode::pool::{EncoderPool, Job};
use crate::geometry::{DEFAULT_SIZE, Resolution};
use crate::hub::{Hub, Pause};
use crate::orientation::Orientation;
use crate::source::{Grab, Source, SourceError, draw};
use crate::status::SourceStatus;
use crate::viewers::Viewers;

/// First retry after a loss; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between reopen attempts: short enough that a replugged camera is back quickly,
/// and the placeholder (with its clock) is refreshed at least this often.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Everything the capture thread needs; [`Pipeline::run`] consumes it.
pub struct Pipeline {
    pub source: Box<dyn Source>,
    pub pool: EncoderPool,
    pub hub: Arc<Hub>,
    pub viewers: Arc<Viewers>,
    pub status: Arc<SourceStatus>,
    /// Zero means never stop.
    pub idle_stop: Duration,
    /// How the encoders turn pictures (`--rotate`): the placeholder takes the turned size, so
    /// viewers see no change of shape while the camera is gone.
    pub turn: Orientation,
}

/// The capture loop's own state between iterations.
struct Run {
    open: bool,
    backoff: Duration,
    last_size: Resolution,
    lost_since: Option<Instant>,
}

impl Pipeline {
    /// Runs the source (already opened) until the hub shuts down, then closes it.
    pub fn run(mut self) {
        let mut run = Run {
            open: true,
            backoff: FIRST_BACKOFF,
            last_size: self
                .turn
                .output_size(self.source.nominal_size().unwrap_or(DEFAULT_SIZE)),
            lost_since: None,
        };
        self.publish_status();
        self.status.set_online(true);
        while !self.hub.is_shutdown() {
            if run.open && self.idle() {
                log::info!(
                    "no clients for {} s: stopping capture",
                    self.idle_stop.as_secs()
                );
                self.source.close();
                run.open = false;
                self.pool.drain();
                self.hub.source_stopped();
            }
            if !run.open {
                if !self.viewers.wait_for_any() {
                    break;
                }
                if let Err(e) = self.source.open() {
                    self.no_signal(&mut run, &e);
                    continue;
                }
                run.open = true;
                self.status.set_online(true);
            }
            self.pool.wait_for_slot();
            if self.hub.take_fresh_request() {
                self.source.refresh();
            }
            match self.source.capture() {
                Ok(Grab::Unchanged) => {}
                Ok(grab) => self.deliver(&mut run, grab),
                Err(e) => {
                    self.source.close();
                    run.open = false;
                    self.no_signal(&mut run, &e);
                }
            }
            // The screen source's area changes when the X screen is resized.
            self.publish_status();
        }
        self.source.close();
    }

    fn idle(&self) -> bool {
        !self.idle_stop.is_zero() && self.viewers.idle_for().is_some_and(|d| d >= self.idle_stop)
    }

    /// A real picture: back-off starts over (not on a successful open: a device that opens and
    /// then fails at once must not be retried in a tight loop).
    fn deliver(&self, run: &mut Run, grab: Grab) {
        run.backoff = FIRST_BACKOFF;
        if let Some(since) = run.lost_since.take() {
            log::info!("source back after {:.1} s", since.elapsed().as_secs_f64());
        }
        match grab {
            Grab::Raw(img) => {
                run.last_size = self.turn.output_size(Resolution {
                    width: img.width,
                    height: img.height,
                });
                self.pool.submit(Job::Encode(img));
            }
            Grab::Bands(img) => {
                run.last_size = Resolution {
                    width: img.width,
                    height: img.height,
                };
                self.pool.submit(Job::Bands(img));
            }
            Grab::Jpeg(frame) => {
                run.last_size = Resolution {
                    width: frame.width,
                    height: frame.height,
                };
                self.pool.submit(Job::Ready(frame));
            }
            Grab::Unchanged => {}
        }
    }

    /// The source is gone (or would not open): say so once, show the placeholder, and wait the
    /// current back-off before the next attempt.
    fn no_signal(&self, run: &mut Run, why: &SourceError) {
        if run.lost_since.is_none() {
            log::warn!("source lost: {why}; retrying");
            run.lost_since = Some(Instant::now());
        }
        self.status.set_online(false);
        let size = run.last_size;
        // Drawn after any `?fresh=1` request pending now, so it answers that request.
        self.hub.take_fresh_request();
        let picture = draw::no_signal(size.width, size.height, &why.to_string());
        self.pool.submit(Job::Placeholder(picture));
        if self.hub.pause(run.backoff, FIRST_BACKOFF) == Pause::Fresh {
            log::debug!(
                "a fresh picture is wanted: trying the source again before the back-off ends"
            );
        }
        run.backoff = (run.backoff * 2).min(MAX_BACKOFF);
    }

    fn publish_status(&self) {
        self.status.set_info(self.source.info());
        self.status.set_area(self.source.area());
    }
}
