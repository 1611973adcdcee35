//! Who is watching: every stream and snapshot client registers here for as long as it is
//! connected, so the capture loop can stop the source when nobody watches (camera LED off, no
//! CPU) and restart it for the first newcomer, and `/state` can list the streams.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::json::Json;
use crate::rate::RateMeter;
use crate::sync::{lock, wait};

/// What kind of client holds a [`Registration`]: only streams count against `--max-clients`.
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

struct State {
    clients: Vec<Arc<ClientStats>>,
    next_id: u64,
    idle_since: Option<Instant>,
    closed: bool,
    /// Threads waiting in [`Viewers::wait_for_any`] right now: tests wait until the capture
    /// loop's stand-in is parked before they wake it.
    #[cfg(test)]
    parked: usize,
}

pub struct Viewers {
    state: Mutex<State>,
    /// Signalled when a client arrives and on close; the idle capture loop waits on it.
    arrived: Condvar,
}

impl Viewers {
    pub fn new() -> Arc<Viewers> {
        Arc::new(Viewers {
            state: Mutex::new(State {
                clients: Vec::new(),
                next_id: 0,
                idle_since: Some(Instant::now()),
                closed: false,
                #[cfg(test)]
                parked: 0,
            }),
            arrived: Condvar::new(),
        })
    }

    /// Registers a client until the returned guard drops.
    pub fn join(self: &Arc<Self>, addr: String, kind: ClientKind) -> Registration {
        let mut s = lock(&self.state);
        s.next_id += 1;
        let stats = Arc::new(ClientStats {
            id: s.next_id,
            addr,
            kind,
            since: Instant::now(),
            frames: AtomicU64::new(0),
            rate: Mutex::new(RateMeter::default()),
        });
        s.clients.push(stats.clone());
        s.idle_since = None;
        drop(s);
        self.arrived.notify_all();
        Registration {
            viewers: self.clone(),
            stats,
        }
    }

    /// How long nobody has been connected, or `None` while someone is.
    pub fn idle_for(&self) -> Option<Duration> {
        lock(&self.state).idle_since.map(|t| t.elapsed())
    }

    /// Blocks until a client is connected; false once closed (shutdown).
    pub fn wait_for_any(&self) -> bool {
        let mut s = lock(&self.state);
        while s.clients.is_empty() && !s.closed {
            #[cfg(test)]
            {
                s.parked += 1;
            }
            s = wait(&self.arrived, s);
            #[cfg(test)]
            {
                s.parked -= 1;
            }
        }
        !s.closed
    }

    /// Releases every waiter for good (shutdown).
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.arrived.notify_all();
    }

    /// The `/state` fields: the number of streams and each one's figures.
    pub fn state_json(&self) -> Vec<(String, Json)> {
        let s = lock(&self.state);
        let streams: Vec<Json> = s
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
        vec![
            ("clients".to_string(), Json::Int(streams.len() as i64)),
            ("streams".to_string(), Json::Arr(streams)),
        ]
    }
}

/// Held by a client thread for as long as it is connected; dropping it unregisters the client.
pub struct Registration {
    viewers: Arc<Viewers>,
    pub stats: Arc<ClientStats>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut s = lock(&self.viewers.state);
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

    #[test]
    fn clients_are_counted_and_idle_time_starts_when_last_leaves() {
        let v = Viewers::new();
        assert!(v.idle_for().is_some());
        let a = v.join("a".into(), ClientKind::Stream);
        let b = v.join("b".into(), ClientKind::Snapshot);
        assert!(v.idle_for().is_none());
        assert!(v.wait_for_any());
        drop(a);
        assert!(v.idle_for().is_none());
        drop(b);
        assert!(v.idle_for().is_some());
    }

    #[test]
    fn state_counts_only_streams() {
        let v = Viewers::new();
        let _s = v.join("x".into(), ClientKind::Stream);
        let _p = v.join("y".into(), ClientKind::Snapshot);
        let j = Json::Obj(v.state_json()).to_string();
        assert!(j.contains(r#""clients":1"#), "{j}");
    }

    /// Returns once a thread waits in [`Viewers::wait_for_any`] (it has looked and found no
    /// client), so what the test does next reaches it through a wake-up.
    fn until_parked(v: &Viewers) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while lock(&v.state).parked == 0 {
            assert!(Instant::now() < deadline, "the waiter never waited");
            thread::yield_now();
        }
    }

    #[test]
    fn close_releases_the_waiting_capture_loop() {
        let v = Viewers::new();
        let w = v.clone();
        let t = thread::spawn(move || w.wait_for_any());
        until_parked(&v);
        v.close();
        assert!(!t.join().unwrap());
    }

    #[test]
    fn a_newcomer_wakes_the_waiting_capture_loop() {
        let v = Viewers::new();
        let w = v.clone();
        let t = thread::spawn(move || w.wait_for_any());
        until_parked(&v);
        let _client = v.join("a".into(), ClientKind::Snapshot);
        assert!(t.join().unwrap());
    }
}
