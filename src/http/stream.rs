//! `GET /stream`: an endless `multipart/x-mixed-replace` response, one part per new frame, the
//! last frame again after [`RESEND_AFTER`] without news. A stream holds one of the
//! `--max-clients` slots for as long as it lasts, and no longer than its client: the socket is
//! watched for a hang-up ([`super::hangup`]) while the stream waits for frames.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tiny_http::Request;

use super::{Context, WRITE_TIMEOUT, multipart, peer, respond, text};
use crate::hub::Next;
use crate::viewers::ClientKind;

/// Re-send the newest frame after this long without a new one: a static screen still shows
/// its latest state (Chrome paints a part only when the next boundary arrives, Chromium bug
/// 527446) and proxies do not time out.
pub const RESEND_AFTER: Duration = Duration::from_secs(1);

/// A claim on one of the `--max-clients` stream slots, released on drop.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn take_slot(ctx: &Context) -> Option<Slot<'_>> {
    ctx.streams
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < ctx.max_clients).then_some(n + 1)
        })
        .ok()
        .map(|_| Slot(&ctx.streams))
}

/// Why a stream ended, in words: leaving is normal, a full send buffer is a stalled client.
fn why_gone(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted => "client closed".into(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            format!("dropped: no progress for {} s", WRITE_TIMEOUT.as_secs())
        }
        _ => e.to_string(),
    }
}

pub fn serve(ctx: &Context, request: Request) {
    let Some(_slot) = take_slot(ctx) else {
        return respond(
            request,
            text(
                503,
                &format!(
                    "too many streams: the limit is {} (--max-clients)",
                    ctx.max_clients
                ),
            ),
        );
    };
    // Cut on hang-up: a write blocked on a full send buffer then fails at once too.
    let watch = ctx.hangups.watch(request.socket(), true);
    let never = AtomicBool::new(false);
    let gone = watch.as_ref().map_or(&never, |w| w.gone());
    let addr = peer(&request);
    // The whole target (`/?action=stream` says more than `/`), cut short for the log.
    let path: String = request.url().chars().take(80).collect();
    let head_only = request.method().as_str() == "HEAD";
    let registered = ctx.viewers.join(addr.clone(), ClientKind::Stream);
    let mut out = request.into_writer();
    let mut head = multipart::stream_head();
    if !head_only {
        head.push_str(&multipart::first_boundary());
    }
    if out
        .write_all(head.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
        || head_only
    {
        return;
    }
    log::info!("client {addr} connected to {path}");
    let started = Instant::now();
    let mut last = 0;
    let why = loop {
        let frame = match ctx.hub.wait_newer(last, RESEND_AFTER, gone) {
            Next::Frame(f) => f,
            Next::Timeout(Some(f)) => f,
            Next::Timeout(None) => continue,
            Next::Cancelled => break "client closed".to_string(),
            Next::Shutdown => break "server stopping".to_string(),
        };
        if let Err(e) = multipart::write_part(&mut *out, &frame) {
            break if gone.load(Ordering::Acquire) {
                "client closed".to_string()
            } else {
                why_gone(&e)
            };
        }
        registered.stats.sent_one();
        last = frame.seq;
    };
    log::info!(
        "client {addr} left {path} after {} frames in {:.1} s ({why})",
        registered.stats.frames(),
        started.elapsed().as_secs_f64()
    );
}
