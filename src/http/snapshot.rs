//! `GET /snapshot`: the newest frame as one JPEG, or with `?fresh=1` one captured after the
//! request, waiting a bounded time for it.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tiny_http::{Request, Response};

use super::{Context, header, peer, respond, text};
use crate::frame::Frame;
use crate::hub::{Hub, Next};
use crate::viewers::ClientKind;

/// Longest wait for a snapshot: covers a camera's restart after idleness.
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(10);

pub fn serve(ctx: &Context, request: Request, fresh: bool) {
    let asked = SystemTime::now();
    let addr = peer(&request);
    let _registered = ctx.viewers.join(addr.clone(), ClientKind::Snapshot);
    if fresh {
        // A change-driven source (the screen) produces nothing while nothing changes.
        ctx.hub.request_fresh();
    }
    let frame = match ctx.hub.latest() {
        Some(f) if !fresh => Some(f),
        latest => {
            // A client that leaves while it waits frees its thread at once, not after the wait.
            let watch = ctx.hangups.watch(request.socket(), false);
            let never = AtomicBool::new(false);
            let gone = watch.as_ref().map_or(&never, |w| w.gone());
            let after = latest.map_or(0, |f| f.seq);
            let frame = wait_for_frame(&ctx.hub, after, fresh.then_some(asked), gone);
            if frame.is_none() && gone.load(Ordering::Acquire) {
                log::debug!("client {addr} left while waiting for a snapshot");
                return;
            }
            frame
        }
    };
    let Some(frame) = frame else {
        return respond(
            request,
            text(
                503,
                &format!(
                    "no frame from the source within {} s",
                    SNAPSHOT_WAIT.as_secs()
                ),
            ),
        );
    };
    let response = Response::new(
        200.into(),
        vec![
            header("Content-Type", "image/jpeg"),
            header("Cache-Control", "no-store"),
            header("X-Timestamp", &frame.timestamp()),
        ],
        Cursor::new(&frame.jpeg[..]),
        Some(frame.jpeg.len()),
        None,
    );
    let _ = request.respond(response);
    // Debug, not info: Home Assistant and OctoPrint poll snapshots every few seconds.
    log::debug!("client {addr} got a snapshot ({} bytes)", frame.jpeg.len());
}

/// Waits (at most [`SNAPSHOT_WAIT`]) for a frame newer than `after` and, if given, captured no
/// earlier than `not_before`: a frame still in the encoder when a `?fresh=1` request arrived was
/// captured before it and does not count.
fn wait_for_frame(
    hub: &Hub,
    mut after: u64,
    not_before: Option<SystemTime>,
    gone: &AtomicBool,
) -> Option<Arc<Frame>> {
    let deadline = Instant::now() + SNAPSHOT_WAIT;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match hub.wait_newer(after, left, gone) {
            Next::Frame(f) if not_before.is_some_and(|t| f.captured < t) => after = f.seq,
            Next::Frame(f) => return Some(f),
            Next::Timeout(_) | Next::Cancelled | Next::Shutdown => return None,
        }
    }
}
