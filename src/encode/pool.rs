//! Encodes frames on several threads and hands them on in capture order.
//!
//! One core cannot encode a busy 1080p desktop at 60 frames/s with `jpeg-encoder`
//! (docs/performance.md), so frames are encoded in parallel. At most `workers` frames are in
//! flight: `submit` blocks beyond that, which paces the capture loop instead of queueing pictures
//! in memory. A frame that finishes early waits for its predecessors, so clients never see time
//! go backwards. Finished frames go to a sink the caller gives (the pipeline passes the hub), so
//! the encoder knows nothing of what lies downstream.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

use super::{EncodeSettings, encode};
use crate::frame::Frame;
use crate::image::RawImage;
use crate::sync::{lock, wait};

/// Where finished frames go, in capture order.
pub type Sink = Arc<dyn Fn(Frame) + Send + Sync>;

/// Work for the pool: pixels to encode, or a finished frame (camera passthrough, placeholder)
/// that must still keep its place in the order.
pub enum Job {
    Encode(RawImage),
    /// A generated picture ("NO SIGNAL"): encoded without --flip/--mirror, which are there to
    /// right a mounted camera, not to turn our own text upside down.
    Placeholder(RawImage),
    Ready(Frame),
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<(u64, Job)>,
    /// Encoded (or failed: `None`) frames waiting for their predecessors.
    done: BTreeMap<u64, Option<Frame>>,
    next_ticket: u64,
    next_publish: u64,
    in_flight: usize,
    stop: bool,
    errors: u64,
}

pub struct EncoderPool {
    shared: Arc<(Mutex<Shared>, Condvar)>,
    workers: Vec<JoinHandle<()>>,
    limit: usize,
}

impl EncoderPool {
    /// Starts `workers` encoder threads; fails only if not even one thread can be started.
    pub fn new(
        workers: usize,
        settings: EncodeSettings,
        sink: Sink,
    ) -> std::io::Result<EncoderPool> {
        let workers = workers.max(1);
        let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
        let handles = (0..workers)
            .map(|i| {
                let shared = shared.clone();
                let sink = sink.clone();
                thread::Builder::new()
                    .name(format!("encode-{i}"))
                    .spawn(move || worker(&shared, &settings, &*sink))
                    .map_err(|e| log::error!("cannot start encoder thread: {e}"))
                    .ok()
            })
            .collect::<Vec<_>>();
        let workers: Vec<_> = handles.into_iter().flatten().collect();
        if workers.is_empty() {
            return Err(std::io::Error::other("no encoder thread could be started"));
        }
        let limit = workers.len();
        Ok(EncoderPool {
            shared,
            workers,
            limit,
        })
    }

    /// Blocks until an encoder is free. The capture loop calls this *before* grabbing, so a
    /// picture is taken when it can be encoded at once instead of aging in `submit` for one
    /// encode time (the latency this saved is in docs/performance.md).
    pub fn wait_for_slot(&self) {
        let (m, cv) = &*self.shared;
        let mut s = lock(m);
        while s.in_flight >= self.limit && !s.stop {
            s = wait(cv, s);
        }
    }

    /// Queues `job`, blocking while `workers` frames are already in flight.
    pub fn submit(&self, job: Job) {
        let (m, cv) = &*self.shared;
        let mut s = lock(m);
        while s.in_flight >= self.limit && !s.stop {
            s = wait(cv, s);
        }
        let ticket = s.next_ticket;
        s.next_ticket += 1;
        s.in_flight += 1;
        s.queue.push_back((ticket, job));
        drop(s);
        cv.notify_all();
    }

    /// Waits until every submitted frame is published (or dropped), so a caller can mark the
    /// source stopped without a late frame marking it live again.
    pub fn drain(&self) {
        let (m, cv) = &*self.shared;
        let mut s = lock(m);
        while s.in_flight > 0 && !s.stop {
            s = wait(cv, s);
        }
    }

    /// Frames that failed to encode since start.
    pub fn errors(&self) -> u64 {
        lock(&self.shared.0).errors
    }
}

impl Drop for EncoderPool {
    fn drop(&mut self) {
        lock(&self.shared.0).stop = true;
        self.shared.1.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// A panic in an encoder must not leave its ticket unpublished: every later frame would wait
/// for it and the capture loop would block in `submit` for good.
fn encode_frame(img: &RawImage, settings: &EncodeSettings) -> Option<Frame> {
    match catch_unwind(AssertUnwindSafe(|| encode(img, settings))) {
        Ok(Ok(jpeg)) => Some(Frame::new(jpeg, img.width, img.height, img.captured)),
        Ok(Err(e)) => {
            log::warn!("{e}");
            None
        }
        Err(_) => {
            log::error!(
                "the JPEG encoder panicked on a {}x{} {:?} picture; frame dropped",
                img.width,
                img.height,
                img.format.name()
            );
            None
        }
    }
}

fn worker(
    shared: &(Mutex<Shared>, Condvar),
    settings: &EncodeSettings,
    sink: &(dyn Fn(Frame) + Send + Sync),
) {
    let (m, cv) = shared;
    loop {
        let (ticket, job) = {
            let mut s = lock(m);
            loop {
                if let Some(item) = s.queue.pop_front() {
                    break item;
                }
                if s.stop {
                    return;
                }
                s = wait(cv, s);
            }
        };
        let frame = match job {
            Job::Ready(frame) => Some(frame),
            Job::Encode(img) => encode_frame(&img, settings),
            Job::Placeholder(img) => encode_frame(&img, &settings.upright()),
        };
        let mut s = lock(m);
        if frame.is_none() {
            s.errors += 1;
        }
        s.done.insert(ticket, frame);
        // Hand on every frame whose predecessors are all out, in order. Doing it under the pool
        // lock keeps the order; the sink must be quick (the hub's is a pointer swap).
        loop {
            let next = s.next_publish;
            let Some(frame) = s.done.remove(&next) else {
                break;
            };
            s.next_publish += 1;
            s.in_flight -= 1;
            if let Some(frame) = frame {
                sink(frame);
            }
        }
        drop(s);
        cv.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PixelFormat;
    use std::sync::mpsc;
    use std::time::{Duration, SystemTime};

    /// A pool whose sink sends every frame to a channel.
    fn pool(workers: usize) -> (EncoderPool, mpsc::Receiver<Frame>) {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let sink: Sink = Arc::new(move |f| {
            let _ = lock(&tx).send(f);
        });
        let pool = EncoderPool::new(workers, EncodeSettings::for_tests(), sink).unwrap();
        (pool, rx)
    }

    #[test]
    fn frames_come_out_in_submission_order() {
        let (pool, rx) = pool(3);
        // Alternate big and tiny pictures so later ones tend to finish first.
        let mut expected = Vec::new();
        for i in 0..12u32 {
            let side = if i % 2 == 0 { 512 } else { 16 };
            let img = RawImage::packed(
                PixelFormat::Rgb24,
                side,
                side,
                vec![i as u8; (side * side * 3) as usize],
                SystemTime::now(),
            )
            .unwrap();
            expected.push(side);
            pool.submit(Job::Encode(img));
        }
        let seen: Vec<u32> = (0..expected.len())
            .map(|_| {
                rx.recv_timeout(Duration::from_secs(10))
                    .expect("a frame")
                    .width
            })
            .collect();
        assert_eq!(seen, expected, "every frame, in submission order");
        assert_eq!(pool.errors(), 0);
    }

    #[test]
    fn failed_encode_does_not_stall_the_order() {
        let (pool, rx) = pool(2);
        let bad = RawImage {
            format: PixelFormat::Rgb24,
            width: 64,
            height: 64,
            stride: 192,
            data: vec![0; 10],
            captured: SystemTime::now(),
        };
        pool.submit(Job::Encode(bad));
        pool.submit(Job::Ready(Frame::new(
            vec![1, 2, 3],
            1,
            1,
            SystemTime::now(),
        )));
        let f = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the ready frame");
        assert_eq!(f.jpeg, vec![1, 2, 3]);
        assert_eq!(pool.errors(), 1);
    }
}
