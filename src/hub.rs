//! The newest-frame broadcast between one capture thread and any number of client threads.
//!
//! The hub holds exactly one frame: the newest. A client waits (condvar, bounded) for a frame
//! whose sequence number is above the last one it sent, so a slow client skips frames instead of
//! queueing them, and memory does not grow with slow clients. The hub also counts clients so the
//! capture loop can stop the source when nobody watches and restart it for the first newcomer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::Region;
use crate::frame::Frame;
use crate::json::Json;
use crate::sync::{lock, wait, wait_timeout};

/// Counts events per second (of a monotonic clock) and reports the last complete second, so `/state` shows
/// a current rate in constant memory.
#[derive(Debug, Default)]
pub struct RateMeter {
    second: u64,
    current: u32,
    previous: u32,
}

fn now_second() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_secs()
}

impl RateMeter {
    fn roll(&mut self, second: u64) {
        if second != self.second {
            self.previous = if second == self.second + 1 {
                self.current
            } else {
                0
            };
            self.current = 0;
            self.second = second;
        }
    }
    pub fn tick(&mut self) {
        self.roll(now_second());
        self.current += 1;
    }
    pub fn per_second(&mut self) -> u32 {
        self.roll(now_second());
        self.previous
    }
}

/// What kind of client holds a [`ClientGuard`]: only streams count against `--max-clients`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    Stream,
    Snapshot,
}

/// Live figures of one connected client, shown in `/state` and logged on disconnect.
#[derive(Debug)]
pub struct ClientStats {
    pub id: u64,
    pub addr: String,
    pub kind: ClientKind,
    pub since: Instant,
    frames: AtomicU64,
    rate: Mutex<RateMeter>,
}

impl ClientStats {
    pub fn sent_one(&self) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        lock(&self.rate).tick();
    }
    pub fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }
}

/// The result of waiting for a frame.
#[derive(Debug)]
pub enum Next {
    /// A frame newer than the one asked about.
    Frame(Arc<Frame>),
    /// Nothing new in time; carries the newest live frame to re-send, if there is one.
    Timeout(Option<Arc<Frame>>),
    Shutdown,
}

#[derive(Default)]
struct State {
    latest: Option<Arc<Frame>>,
    /// False once the source stopped for idleness: `latest` is then too old to hand out and a
    /// newcomer waits for the restarted source instead.
    live: bool,
    next_seq: u64,
    online: bool,
    clients: Vec<Arc<ClientStats>>,
    next_client_id: u64,
    idle_since: Option<Instant>,
    captured: RateMeter,
    /// Frames published since start, for benchmarks and `/state`.
    published: u64,
    /// A `?fresh=1` snapshot is waiting: a change-driven source must grab even if nothing
    /// changed.
    fresh_wanted: bool,
    shutdown: bool,
    info: Vec<(String, Json)>,
    geometry: Option<Region>,
}

#[derive(Default)]
pub struct Hub {
    state: Mutex<State>,
    /// Signalled on every publish and on shutdown.
    news: Condvar,
    /// Signalled when a client arrives and on shutdown; the idle capture loop waits on it.
    demand: Condvar,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        let hub = Hub::default();
        lock(&hub.state).idle_since = Some(Instant::now());
        Arc::new(hub)
    }

    /// Makes `frame` the newest one and wakes every waiting client.
    pub fn publish(&self, mut frame: Frame) -> Arc<Frame> {
        let mut s = lock(&self.state);
        s.next_seq += 1;
        frame.seq = s.next_seq;
        let frame = Arc::new(frame);
        s.latest = Some(frame.clone());
        s.live = true;
        s.captured.tick();
        s.published += 1;
        drop(s);
        self.news.notify_all();
        frame
    }

    /// Waits up to `timeout` for a live frame with a sequence number above `after`.
    pub fn wait_newer(&self, after: u64, timeout: Duration) -> Next {
        let deadline = Instant::now() + timeout;
        let mut s = lock(&self.state);
        loop {
            if s.shutdown {
                return Next::Shutdown;
            }
            if let Some(f) = s.latest.as_ref().filter(|f| s.live && f.seq > after) {
                return Next::Frame(f.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return Next::Timeout(s.latest.clone().filter(|_| s.live));
            }
            s = wait_timeout(&self.news, s, deadline - now);
        }
    }

    /// The newest frame if it is live, without waiting.
    pub fn latest(&self) -> Option<Arc<Frame>> {
        let s = lock(&self.state);
        s.latest.clone().filter(|_| s.live)
    }

    /// Registers a client; the capture loop keeps (or starts) the source while any exist.
    pub fn subscribe(self: &Arc<Self>, addr: String, kind: ClientKind) -> ClientGuard {
        let mut s = lock(&self.state);
        s.next_client_id += 1;
        let stats = Arc::new(ClientStats {
            id: s.next_client_id,
            addr,
            kind,
            since: Instant::now(),
            frames: AtomicU64::new(0),
            rate: Mutex::new(RateMeter::default()),
        });
        s.clients.push(stats.clone());
        s.idle_since = None;
        drop(s);
        self.demand.notify_all();
        ClientGuard {
            hub: self.clone(),
            stats,
        }
    }

    /// How long nobody has been connected, or `None` while someone is.
    pub fn idle_for(&self) -> Option<Duration> {
        lock(&self.state).idle_since.map(|t| t.elapsed())
    }

    /// Blocks the capture loop until a client arrives; false on shutdown.
    pub fn wait_for_clients(&self) -> bool {
        let mut s = lock(&self.state);
        while s.clients.is_empty() && !s.shutdown {
            s = wait(&self.demand, s);
        }
        !s.shutdown
    }

    /// Sleeps up to `d`, returning early (false) on shutdown: for back-off between retries.
    pub fn pause(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        let mut s = lock(&self.state);
        while !s.shutdown {
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            s = wait_timeout(&self.demand, s, deadline - now);
        }
        false
    }

    /// The source stopped for idleness: the newest frame is no longer current.
    pub fn source_stopped(&self) {
        // `online` keeps its value: an idle camera is not a broken one, and monitoring that
        // reads /state must not see "down" each time nobody watches.
        lock(&self.state).live = false;
    }

    /// Asks the capture loop for a new picture even if the source saw no change.
    pub fn request_fresh(&self) {
        lock(&self.state).fresh_wanted = true;
        self.demand.notify_all();
    }

    /// Takes (and clears) a pending [`Hub::request_fresh`].
    pub fn take_fresh_request(&self) -> bool {
        std::mem::take(&mut lock(&self.state).fresh_wanted)
    }

    /// Whether the source is delivering real pictures (false while showing "NO SIGNAL").
    pub fn set_online(&self, online: bool) {
        lock(&self.state).online = online;
    }

    /// Source-specific facts for `/state` (device, format, passthrough, counters...).
    pub fn set_info(&self, info: Vec<(String, Json)>) {
        lock(&self.state).info = info;
    }

    /// The part of the X screen being streamed, so input coordinates map onto it.
    pub fn set_geometry(&self, region: Option<Region>) {
        lock(&self.state).geometry = region;
    }

    pub fn geometry(&self) -> Option<Region> {
        lock(&self.state).geometry
    }

    pub fn shutdown(&self) {
        lock(&self.state).shutdown = true;
        self.news.notify_all();
        self.demand.notify_all();
    }

    pub fn is_shutdown(&self) -> bool {
        lock(&self.state).shutdown
    }

    /// The `/state` document's hub part.
    pub fn state_json(&self) -> Vec<(String, Json)> {
        let mut s = lock(&self.state);
        let captured = s.captured.per_second();
        let (width, height) = s.latest.as_ref().map_or((0, 0), |f| (f.width, f.height));
        let clients: Vec<Json> = s
            .clients
            .iter()
            .filter(|c| c.kind == ClientKind::Stream)
            .map(|c| {
                Json::obj([
                    ("id", Json::Int(c.id as i64)),
                    ("fps", Json::Int(lock(&c.rate).per_second() as i64)),
                    ("frames", Json::Int(c.frames() as i64)),
                    ("seconds", Json::Int(c.since.elapsed().as_secs() as i64)),
                ])
            })
            .collect();
        let mut out = vec![
            ("width".to_string(), Json::Int(width as i64)),
            ("height".to_string(), Json::Int(height as i64)),
            ("online".to_string(), Json::Bool(s.online)),
            ("capturing".to_string(), Json::Bool(s.live)),
            ("fps".to_string(), Json::Int(captured as i64)),
            ("frames".to_string(), Json::Int(s.published as i64)),
            ("clients".to_string(), Json::Int(clients.len() as i64)),
            ("streams".to_string(), Json::Arr(clients)),
        ];
        out.extend(s.info.iter().cloned());
        out
    }
}

/// Held by a client thread for as long as it is connected; dropping it unregisters the client.
pub struct ClientGuard {
    hub: Arc<Hub>,
    pub stats: Arc<ClientStats>,
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        let mut s = lock(&self.hub.state);
        s.clients.retain(|c| c.id != self.stats.id);
        if s.clients.is_empty() {
            s.idle_since = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::SystemTime;

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
        match hub.wait_newer(1, Duration::from_millis(10)) {
            Next::Frame(f) => assert_eq!((f.seq, f.jpeg[0]), (5, 5)),
            other => panic!("{other:?}"),
        }
        // Having sent 5, there is nothing newer: a timeout carrying 5 for the re-send.
        match hub.wait_newer(5, Duration::from_millis(10)) {
            Next::Timeout(Some(f)) => assert_eq!(f.seq, 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn waiter_wakes_on_publish() {
        let hub = Hub::new();
        let h = hub.clone();
        let t = thread::spawn(move || h.wait_newer(0, Duration::from_secs(10)));
        // The waiter may or may not be parked yet; either way it must see the frame.
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
            hub.wait_newer(0, Duration::from_millis(5)),
            Next::Timeout(None)
        ));
        hub.publish(frame(2));
        assert!(matches!(hub.wait_newer(0, Duration::ZERO), Next::Frame(f) if f.jpeg[0] == 2));
    }

    #[test]
    fn clients_are_counted_and_idle_time_starts_when_last_leaves() {
        let hub = Hub::new();
        assert!(hub.idle_for().is_some());
        let a = hub.subscribe("a".into(), ClientKind::Stream);
        let b = hub.subscribe("b".into(), ClientKind::Snapshot);
        assert!(hub.idle_for().is_none());
        assert!(hub.wait_for_clients());
        drop(a);
        assert!(hub.idle_for().is_none());
        drop(b);
        assert!(hub.idle_for().is_some());
    }

    #[test]
    fn shutdown_releases_waiters() {
        let hub = Hub::new();
        let h = hub.clone();
        let t = thread::spawn(move || h.wait_for_clients());
        let h2 = hub.clone();
        let t2 = thread::spawn(move || h2.wait_newer(0, Duration::from_secs(30)));
        hub.shutdown();
        assert!(!t.join().unwrap());
        assert!(matches!(t2.join().unwrap(), Next::Shutdown));
        assert!(!hub.pause(Duration::from_secs(30)));
    }

    #[test]
    fn state_counts_only_streams() {
        let hub = Hub::new();
        let _s = hub.subscribe("x".into(), ClientKind::Stream);
        let _p = hub.subscribe("y".into(), ClientKind::Snapshot);
        hub.publish(Frame::new(vec![0], 640, 480, SystemTime::now()));
        let j = Json::Obj(hub.state_json()).to_string();
        assert!(
            j.contains(r#""width":640"#) && j.contains(r#""clients":1"#),
            "{j}"
        );
    }
}
