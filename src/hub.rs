//! The newest-frame broadcast between one capture thread and any number of client threads.
//!
//! The hub holds exactly one frame: the newest. A client waits (condvar, bounded) for a frame
//! whose sequence number is above the last one it sent, so a slow client skips frames instead of
//! queueing them, and memory does not grow with slow clients. Who is watching is kept apart, in
//! [`crate::viewers`]; what the source says about itself, in [`crate::status`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::frame::Frame;
use crate::json::Json;
use crate::rate::RateMeter;
use crate::sync::{lock, wait_timeout};

/// The result of waiting for a frame.
#[derive(Debug)]
pub enum Next {
    /// A frame newer than the one asked about.
    Frame(Arc<Frame>),
    /// Nothing new in time; carries the newest current frame to re-send, if there is one.
    Timeout(Option<Arc<Frame>>),
    /// The waiter's own reason to stop was raised (its client hung up).
    Cancelled,
    Shutdown,
}

#[derive(Default)]
struct State {
    latest: Option<Arc<Frame>>,
    /// False once the source stopped for idleness: `latest` is then too old to hand out and a
    /// newcomer waits for the restarted source instead (`/state`'s `capturing`).
    capturing: bool,
    next_seq: u64,
    captured: RateMeter,
    /// Frames published since start, for benchmarks and `/state`.
    published: u64,
    /// A `?fresh=1` snapshot is waiting: a change-driven source must grab even if nothing
    /// changed.
    fresh_wanted: bool,
    shutdown: bool,
    /// Threads waiting on a condition variable right now. Tests wait until their waiter is
    /// parked before they wake it, so the wake-up they name is the one they exercise.
    #[cfg(test)]
    parked: usize,
}

/// Why [`Hub::pause`] returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Pause {
    /// The whole pause went by.
    Elapsed,
    /// A `?fresh=1` request is waiting for a picture of now.
    Fresh,
    Shutdown,
}

#[derive(Default)]
pub struct Hub {
    state: Mutex<State>,
    /// Signalled on every publish and on shutdown.
    news: Condvar,
    /// Signalled when a fresh picture is wanted and on shutdown; the capture loop's pauses wait
    /// on it.
    wanted: Condvar,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    /// Makes `frame` the newest one and wakes every waiting client.
    pub fn publish(&self, mut frame: Frame) -> Arc<Frame> {
        let mut s = lock(&self.state);
        s.next_seq += 1;
        frame.seq = s.next_seq;
        let frame = Arc::new(frame);
        s.latest = Some(frame.clone());
        s.capturing = true;
        s.captured.tick();
        s.published += 1;
        drop(s);
        self.news.notify_all();
        frame
    }

    /// Waits up to `timeout` for a current frame with a sequence number above `after`, or until
    /// `cancel` is set (whoever sets it then calls [`Hub::wake_all`]).
    pub fn wait_newer(&self, after: u64, timeout: Duration, cancel: &AtomicBool) -> Next {
        let deadline = Instant::now() + timeout;
        let mut s = lock(&self.state);
        loop {
            if s.shutdown {
                return Next::Shutdown;
            }
            if cancel.load(Ordering::Acquire) {
                return Next::Cancelled;
            }
            if let Some(f) = s.latest.as_ref().filter(|f| s.capturing && f.seq > after) {
                return Next::Frame(f.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return Next::Timeout(s.latest.clone().filter(|_| s.capturing));
            }
            s = self.park(&self.news, s, deadline - now);
        }
    }

    /// Waits on `cv` for at most `d` (counted in `parked` for the tests).
    fn park<'a>(
        &self,
        cv: &Condvar,
        #[cfg_attr(not(test), allow(unused_mut))] mut s: MutexGuard<'a, State>,
        d: Duration,
    ) -> MutexGuard<'a, State> {
        #[cfg(test)]
        {
            s.parked += 1;
        }
        #[cfg_attr(not(test), allow(unused_mut))]
        let mut s = wait_timeout(cv, s, d);
        #[cfg(test)]
        {
            s.parked -= 1;
        }
        s
    }

    /// Wakes every waiter so each rechecks its `cancel` flag. Taking the lock first means a
    /// waiter between its check and its wait cannot miss the wake-up.
    pub fn wake_all(&self) {
        drop(lock(&self.state));
        self.news.notify_all();
    }

    /// The newest frame if it is current (the source was not stopped since), without waiting.
    pub fn latest(&self) -> Option<Arc<Frame>> {
        let s = lock(&self.state);
        s.latest.clone().filter(|_| s.capturing)
    }

    /// Sleeps up to `d`: the capture loop's back-off between attempts to reopen a lost source.
    /// Shutdown ends it, and so does a `?fresh=1` request pending or arriving once `fresh_after`
    /// has gone by: that client waits for a picture taken after it asked, and the attempt that
    /// follows gives it one (the source's own if it is back, else a new NO SIGNAL picture)
    /// instead of leaving it to the end of a back-off of up to 2 s. `fresh_after` keeps clients
    /// that ask for fresh pictures over and over from driving reopen attempts faster than that.
    pub fn pause(&self, d: Duration, fresh_after: Duration) -> Pause {
        let start = Instant::now();
        let deadline = start + d;
        let mut s = lock(&self.state);
        loop {
            if s.shutdown {
                return Pause::Shutdown;
            }
            let now = Instant::now();
            if now >= deadline {
                return Pause::Elapsed;
            }
            let fresh_from = start + fresh_after;
            if s.fresh_wanted && now >= fresh_from {
                return Pause::Fresh;
            }
            // A pending request is looked at again when `fresh_after` is up.
            let until = if s.fresh_wanted {
                fresh_from.min(deadline)
            } else {
                deadline
            };
            s = self.park(&self.wanted, s, until - now);
        }
    }

    /// The source stopped for idleness: the newest frame is no longer current.
    pub fn source_stopped(&self) {
        lock(&self.state).capturing = false;
    }

    /// Asks the capture loop for a new picture even if the source saw no change.
    pub fn request_fresh(&self) {
        lock(&self.state).fresh_wanted = true;
        self.wanted.notify_all();
    }

    /// Takes (and clears) a pending [`Hub::request_fresh`].
    pub fn take_fresh_request(&self) -> bool {
        std::mem::take(&mut lock(&self.state).fresh_wanted)
    }

    pub fn shutdown(&self) {
        lock(&self.state).shutdown = true;
        self.news.notify_all();
        self.wanted.notify_all();
    }

    pub fn is_shutdown(&self) -> bool {
        lock(&self.state).shutdown
    }

    /// The frame facts of `/state`: size, whether capturing, rate and count.
    pub fn state_json(&self) -> Vec<(String, Json)> {
        let mut s = lock(&self.state);
        let captured = s.captured.per_second();
        let (width, height) = s.latest.as_ref().map_or((0, 0), |f| (f.width, f.height));
        vec![
            ("width".to_string(), Json::Int(width as i64)),
            ("height".to_string(), Json::Int(height as i64)),
            ("capturing".to_string(), Json::Bool(s.capturing)),
            ("fps".to_string(), Json::Int(captured as i64)),
            ("frames".to_string(), Json::Int(s.published as i64)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::SystemTime;

    static GO: AtomicBool = AtomicBool::new(false);

    fn frame(tag: u8) -> Frame {
        Frame::new(vec![tag], 1, 1, SystemTime::now())
    }

    #[test]
    fn newest_frame_wins_and_slow_reader_skips() {
        let hub = Hub::new();
        for i in 1..=5 {
            hub.publish(frame(i));
        }
        // A reader that last saw frame 1 gets the newest (5), never 2, 3, 4 queued up.
        match hub.wait_newer(1, Duration::from_millis(10), &GO) {
            Next::Frame(f) => assert_eq!((f.seq, f.jpeg[0]), (5, 5)),
            other => panic!("{other:?}"),
        }
        // Having sent 5, there is nothing newer: a timeout carrying 5 for the re-send.
        match hub.wait_newer(5, Duration::from_millis(10), &GO) {
            Next::Timeout(Some(f)) => assert_eq!(f.seq, 5),
            other => panic!("{other:?}"),
        }
    }

    /// Returns once a thread waits in `hub` (it has looked and found nothing), so what the test
    /// does next reaches it through a wake-up and not through its first look.
    fn until_parked(hub: &Hub) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while lock(&hub.state).parked == 0 {
            assert!(Instant::now() < deadline, "the waiter never waited");
            thread::yield_now();
        }
    }

    #[test]
    fn waiter_wakes_on_publish() {
        let hub = Hub::new();
        let h = hub.clone();
        let t = thread::spawn(move || h.wait_newer(0, Duration::from_secs(30), &GO));
        until_parked(&hub);
        hub.publish(frame(7));
        match t.join().unwrap() {
            Next::Frame(f) => assert_eq!(f.jpeg[0], 7),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stale_frame_is_not_handed_out_after_idle_stop() {
        let hub = Hub::new();
        hub.publish(frame(1));
        hub.source_stopped();
        assert!(hub.latest().is_none());
        assert!(matches!(
            hub.wait_newer(0, Duration::from_millis(5), &GO),
            Next::Timeout(None)
        ));
        hub.publish(frame(2));
        assert!(matches!(hub.wait_newer(0, Duration::ZERO, &GO), Next::Frame(f) if f.jpeg[0] == 2));
    }

    #[test]
    fn shutdown_releases_waiters() {
        let hub = Hub::new();
        let h = hub.clone();
        let t = thread::spawn(move || h.wait_newer(0, Duration::from_secs(30), &GO));
        until_parked(&hub);
        hub.shutdown();
        assert!(matches!(t.join().unwrap(), Next::Shutdown));
        assert_eq!(
            hub.pause(Duration::from_secs(30), Duration::ZERO),
            Pause::Shutdown
        );
    }

    #[test]
    fn shutdown_ends_a_pause() {
        let hub = Hub::new();
        let h = hub.clone();
        let t = thread::spawn(move || h.pause(Duration::from_secs(30), Duration::ZERO));
        until_parked(&hub);
        hub.shutdown();
        assert_eq!(t.join().unwrap(), Pause::Shutdown);
    }

    #[test]
    fn a_cancelled_waiter_returns_at_once() {
        let hub = Hub::new();
        let cancel = Arc::new(AtomicBool::new(false));
        let (h, c) = (hub.clone(), cancel.clone());
        let t = thread::spawn(move || h.wait_newer(0, Duration::from_secs(30), &c));
        until_parked(&hub);
        cancel.store(true, Ordering::Release);
        hub.wake_all();
        assert!(matches!(t.join().unwrap(), Next::Cancelled));
    }

    #[test]
    fn a_fresh_request_ends_the_back_off() {
        let hub = Hub::new();
        let h = hub.clone();
        let t = thread::spawn(move || h.pause(Duration::from_secs(30), Duration::ZERO));
        until_parked(&hub);
        hub.request_fresh();
        assert_eq!(t.join().unwrap(), Pause::Fresh);
        // Still pending: the attempt that follows the pause takes it.
        assert!(hub.take_fresh_request());
    }

    #[test]
    fn a_fresh_request_waits_for_the_shortest_back_off() {
        let hub = Hub::new();
        hub.request_fresh();
        // Pending from the start, it ends the pause only when `fresh_after` is up...
        let started = Instant::now();
        let fresh_after = Duration::from_millis(50);
        assert_eq!(
            hub.pause(Duration::from_secs(30), fresh_after),
            Pause::Fresh
        );
        assert!(started.elapsed() >= fresh_after);
        // ...and never outlasts the pause itself.
        assert_eq!(
            hub.pause(Duration::from_millis(1), Duration::from_secs(30)),
            Pause::Elapsed
        );
    }

    #[test]
    fn state_reports_the_newest_frame() {
        let hub = Hub::new();
        hub.publish(Frame::new(vec![0], 640, 480, SystemTime::now()));
        let j = Json::Obj(hub.state_json()).to_string();
        assert!(
            j.contains(r#""width":640"#) && j.contains(r#""frames":1"#),
            "{j}"
        );
    }
}
