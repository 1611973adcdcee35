//! Encodes frames on several threads and hands them on in capture order.
//!
//! One core cannot encode a busy 1080p desktop at 60 frames/s with `jpeg-encoder`
//! (docs/performance.md), so frames are encoded in parallel. At most `workers` frames are in
//! flight: `submit` blocks beyond that, which paces the capture loop instead of queueing pictures
//! in memory. A frame that finishes early waits for its predecessors, so clients never see time
//! go backwards. Finished frames go to a sink the caller gives (the pipeline passes the hub), so
//! the encoder knows nothing of what lies downstream.
//!
//! A banded picture (the screen) is split into one task per changed band, so every worker helps
//! with one frame; its bands are planned in submission order and the frame is stitched in
//! publication order ([`super::bands`]), so the band cache always matches the frame before.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::SystemTime;

use super::bands::{BandCache, BandJpeg, Planner, Shape, SharedBandStats};
use super::{EncodeSettings, encode};
use crate::frame::Frame;
use crate::image::{BandedImage, RawImage};
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
    /// A picture in bands: only the bands that are not the same `Arc` as in the previous banded
    /// job are encoded. Always upright (the screen refuses --flip and --mirror).
    Bands(BandedImage),
}

/// What a worker takes from the queue.
enum Task {
    /// A whole frame (never `Job::Bands`).
    Whole(Job),
    /// One band of a banded frame.
    Band {
        index: usize,
        pixels: Arc<Vec<u8>>,
        width: u32,
    },
}

/// A banded frame whose bands are being encoded.
struct Assembly {
    shape: Shape,
    captured: SystemTime,
    new: Vec<(usize, Arc<BandJpeg>)>,
    remaining: usize,
    failed: bool,
}

/// A ticket ready to publish.
enum Done {
    /// Encoded (or failed: `None`).
    Frame(Option<Frame>),
    /// Every band encoded; stitched when its turn comes.
    Bands(Assembly),
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<(u64, Task)>,
    /// Tickets waiting for their predecessors.
    done: BTreeMap<u64, Done>,
    /// Banded frames with bands still encoding.
    assembling: HashMap<u64, Assembly>,
    planner: Planner,
    cache: BandCache,
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
    sink: Sink,
    stats: SharedBandStats,
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
                    .spawn(move || worker(&shared, &settings, &sink))
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
            sink,
            stats: SharedBandStats::default(),
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
        if let Job::Bands(img) = &job
            && let Err(e) = img.check()
        {
            log::warn!("{e}");
            lock(&self.shared.0).errors += 1;
            return;
        }
        let (m, cv) = &*self.shared;
        let mut s = lock(m);
        while s.in_flight >= self.limit && !s.stop {
            s = wait(cv, s);
        }
        let ticket = s.next_ticket;
        s.next_ticket += 1;
        s.in_flight += 1;
        match job {
            Job::Bands(img) => self.queue_bands(&mut s, ticket, img),
            job => s.queue.push_back((ticket, Task::Whole(job))),
        }
        drop(s);
        cv.notify_all();
    }

    /// One task per changed band; a frame with none is ready at once.
    fn queue_bands(&self, s: &mut Shared, ticket: u64, img: BandedImage) {
        let changed = s.planner.plan(&img);
        lock(&self.stats).count(changed.len(), img.bands.len() - changed.len());
        let assembly = Assembly {
            shape: Shape::of(&img),
            captured: img.captured,
            new: Vec::with_capacity(changed.len()),
            remaining: changed.len(),
            failed: false,
        };
        if changed.is_empty() {
            s.done.insert(ticket, Done::Bands(assembly));
            publish_ready(s, &*self.sink);
            return;
        }
        s.assembling.insert(ticket, assembly);
        for index in changed {
            let pixels = img.bands[index].clone();
            let width = img.width;
            s.queue.push_back((
                ticket,
                Task::Band {
                    index,
                    pixels,
                    width,
                },
            ));
        }
    }

    /// Bands encoded and reused per second, for `/state`.
    pub fn band_stats(&self) -> SharedBandStats {
        self.stats.clone()
    }

    /// Waits until every submitted frame is published (or dropped), so a caller can mark the
    /// source stopped without a late frame marking it capturing again.
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

/// One band, guarded like a whole frame.
fn encode_band(pixels: &[u8], width: u32, settings: &EncodeSettings) -> Option<BandJpeg> {
    match catch_unwind(AssertUnwindSafe(|| {
        BandJpeg::encode(pixels, width, settings)
    })) {
        Ok(Ok(band)) => Some(band),
        Ok(Err(e)) => {
            log::warn!("{e}");
            None
        }
        Err(_) => {
            log::error!("the JPEG encoder panicked on a band {width} pixels wide; frame dropped");
            None
        }
    }
}

fn worker(shared: &(Mutex<Shared>, Condvar), settings: &EncodeSettings, sink: &Sink) {
    let (m, cv) = shared;
    loop {
        let (ticket, task) = {
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
        let mut s = match task {
            Task::Whole(job) => {
                let frame = match job {
                    Job::Ready(frame) => Some(frame),
                    Job::Encode(img) => encode_frame(&img, settings),
                    Job::Placeholder(img) => encode_frame(&img, &settings.upright()),
                    Job::Bands(_) => None, // split into bands by `submit`
                };
                let mut s = lock(m);
                s.done.insert(ticket, Done::Frame(frame));
                s
            }
            Task::Band {
                index,
                pixels,
                width,
            } => {
                let band = encode_band(&pixels, width, &settings.upright());
                let mut s = lock(m);
                band_done(&mut s, ticket, index, band);
                s
            }
        };
        publish_ready(&mut s, &**sink);
        drop(s);
        cv.notify_all();
    }
}

/// Files a finished band; the last one makes its frame ready.
fn band_done(s: &mut Shared, ticket: u64, index: usize, band: Option<BandJpeg>) {
    let Some(a) = s.assembling.get_mut(&ticket) else {
        return;
    };
    match band {
        Some(b) => a.new.push((index, Arc::new(b))),
        None => a.failed = true,
    }
    a.remaining -= 1;
    if a.remaining == 0
        && let Some(a) = s.assembling.remove(&ticket)
    {
        s.done.insert(ticket, Done::Bands(a));
    }
}

/// Hands on every frame whose predecessors are all out, in order. Doing it under the pool lock
/// keeps the order and the band cache in step; the sink must be quick (the hub's is a pointer
/// swap), and stitching is one copy of the frame's bytes.
fn publish_ready(s: &mut Shared, sink: &(dyn Fn(Frame) + Send + Sync)) {
    loop {
        let next = s.next_publish;
        let Some(done) = s.done.remove(&next) else {
            break;
        };
        s.next_publish += 1;
        s.in_flight -= 1;
        let frame = match done {
            Done::Frame(frame) => frame,
            Done::Bands(a) => stitch(s, a),
        };
        match frame {
            Some(frame) => sink(frame),
            None => s.errors += 1,
        }
    }
}

/// A banded frame from its new bands and the cache. After a failure the cache no longer matches
/// what the planner assumes, so both start over with the next frame.
fn stitch(s: &mut Shared, a: Assembly) -> Option<Frame> {
    let jpeg = if a.failed {
        s.cache.clear();
        None
    } else {
        s.cache.stitch(a.shape, a.new)
    };
    match jpeg {
        Some(jpeg) => Some(Frame::new(jpeg, a.shape.width, a.shape.height, a.captured)),
        None => {
            s.planner.forget();
            None
        }
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

    /// Banded frames through two workers come out whole, in order and byte-identical to a full
    /// encode with restart markers, between ordinary frames; unchanged bands are reused.
    #[test]
    fn banded_frames_are_stitched_in_order_and_match_a_full_encode() {
        use crate::encode::bands::encode_restart;
        let (pool, rx) = pool(2);
        let settings = EncodeSettings::for_tests();
        let (w, h) = (96u32, 72u32);
        let rows = settings.subsampling.mcu_height();
        let mut px: Vec<u8> = (0..w * h * 4).map(|i| (i * 31 % 253) as u8).collect();
        let mut bands: Vec<Arc<Vec<u8>>> = px
            .chunks((w * rows * 4) as usize)
            .map(|b| Arc::new(b.to_vec()))
            .collect();
        let mut expected = Vec::new();
        for frame in 0..8u32 {
            // Change one band per frame (and nothing in frame 5).
            if frame != 5 {
                let b = (frame as usize * 3) % bands.len();
                let start = b * (w * rows * 4) as usize;
                let end = (start + (w * rows * 4) as usize).min(px.len());
                px[start..end]
                    .iter_mut()
                    .for_each(|v| *v = v.wrapping_add(40));
                bands[b] = Arc::new(px[start..end].to_vec());
            }
            pool.submit(Job::Bands(BandedImage {
                width: w,
                height: h,
                band_rows: rows,
                bands: bands.clone(),
                captured: SystemTime::now(),
            }));
            expected.push(encode_restart(&px, w, h, &settings).unwrap());
            pool.submit(Job::Ready(Frame::new(
                vec![frame as u8],
                1,
                1,
                SystemTime::now(),
            )));
        }
        for (i, want) in expected.iter().enumerate() {
            let f = rx.recv_timeout(Duration::from_secs(10)).expect("a frame");
            assert!(f.jpeg == *want, "banded frame {i} differs");
            let marker = rx.recv_timeout(Duration::from_secs(10)).expect("a frame");
            assert_eq!(marker.jpeg, vec![i as u8], "order");
        }
        assert_eq!(pool.errors(), 0);
        let stats = pool.band_stats();
        let _ = lock(&stats).json(); // counted without panicking; rates are checked end to end
    }
}
