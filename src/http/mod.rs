//! The HTTP side: accepts connections with tiny_http, gives every request its own thread (one
//! stream must never block another request), and answers from the hub.
//!
//! tiny_http has faults we work around here (all verified, see DESIGN.md): streams bypass its
//! response writer, sockets get a send timeout through the listener, the fd limit is raised and
//! streaming clients are capped so it never runs out of descriptors (tiny_http issue #195).

pub mod auth;
pub mod control;
pub mod limit;
pub mod mjpeg;
pub mod query;
pub mod routes;

use std::io::{self, Cursor, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use tiny_http::{Header, Request, Response};

use crate::frame::Frame;
use crate::hub::{ClientKind, Hub, Next};
use crate::json::Json;
use routes::{Reject, Route};

/// The viewer page, compiled in so the binary is all a user needs.
const PAGE: &str = include_str!("../../index.html");

/// A client that accepts no data for this long is dropped (SO_SNDTIMEO on every socket).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Kernel send buffer per client socket: a few frames, so slow clients skip rather than queue.
pub const SEND_BUFFER: usize = 256 * 1024;
/// Re-send the newest frame after this long without a new one: a static screen still shows
/// its latest state (Chrome paints a part only when the next boundary arrives, Chromium bug
/// 527446) and proxies do not time out.
pub const RESEND_AFTER: Duration = Duration::from_secs(1);
/// Longest wait for a snapshot: covers a camera's restart after idleness.
pub const SNAPSHOT_WAIT: Duration = Duration::from_secs(10);

/// What the request handlers share.
pub struct Context {
    pub hub: Arc<Hub>,
    pub source: &'static str,
    pub max_clients: usize,
    pub streams: AtomicUsize,
    /// Set by `--auth`, `--auth-file` or `DESKCAM_AUTH`: every request must carry it.
    pub auth: Option<auth::Auth>,
    /// Set by `--control`: the injector behind `POST /input`.
    pub input: Option<control::Control>,
    /// Wrong passwords per address (see [`LOGIN_BURST`]).
    pub login_failures: limit::RateLimiter,
}

/// Wrong passwords an address may send at once before it must wait.
pub const LOGIN_BURST: f64 = 10.0;
/// One more try per this many seconds after that.
pub const LOGIN_REFILL_SECS: f64 = 6.0;

/// A bound listening socket, ready to serve.
pub struct Listener {
    server: Arc<tiny_http::Server>,
    pub addr: SocketAddr,
}

/// Binds `addr` with the send timeout set on the listener, so accepted sockets inherit it
/// (tiny_http offers no timeouts). Never SO_RCVTIMEO: accept would then fail with EAGAIN and
/// tiny_http's accept loop stops for good.
pub fn bind(addr: SocketAddr) -> io::Result<Listener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_write_timeout(Some(WRITE_TIMEOUT))?;
    // A fixed, modest send buffer (inherited like the timeout): Linux autotuning grows it to
    // 4 MB, which let a slow viewer queue ~100 frames (seconds of delay) instead of skipping.
    socket.set_send_buffer_size(SEND_BUFFER)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    let listener: TcpListener = socket.into();
    let addr = listener.local_addr()?;
    let server = tiny_http::Server::from_listener(listener, None).map_err(io::Error::other)?;
    Ok(Listener {
        server: Arc::new(server),
        addr,
    })
}

impl Listener {
    /// A handle that makes [`Listener::serve`] return (for SIGINT/SIGTERM).
    pub fn stopper(&self) -> impl Fn() + Send + Sync + 'static {
        let server = self.server.clone();
        move || server.unblock()
    }

    /// Serves until stopped.
    pub fn serve(&self, ctx: Arc<Context>) {
        for request in self.server.incoming_requests() {
            let ctx = ctx.clone();
            // A thread per request: streams live for hours, snapshots may wait for a frame.
            let spawned = thread::Builder::new()
                .name("client".into())
                .stack_size(256 * 1024)
                .spawn(move || handle(&ctx, request));
            if let Err(e) = spawned {
                log::warn!("cannot start a client thread: {e}");
            }
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    // Only called with our own ASCII names and values.
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap_or_else(|_| {
        Header::from_bytes(&b"X-Invalid"[..], &b"1"[..]).expect("static header")
    })
}

fn no_store(r: Response<Cursor<Vec<u8>>>) -> Response<Cursor<Vec<u8>>> {
    r.with_header(header("Cache-Control", "no-store"))
}

/// A plain-text answer with a one-line reason.
pub fn text(status: u16, body: &str) -> Response<Cursor<Vec<u8>>> {
    no_store(Response::from_string(format!("{body}\n")).with_status_code(status))
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

fn reject(r: Reject) -> Response<Cursor<Vec<u8>>> {
    let mut resp = text(r.status, &r.reason);
    if let Some(allow) = r.allow {
        resp = resp.with_header(header("Allow", allow));
    }
    resp
}

fn peer(request: &Request) -> String {
    request
        .remote_addr()
        .map_or_else(|| "?".into(), |a| a.to_string())
}

/// The client's address for per-address limits (unspecified for a Unix socket, never here).
fn client_ip(request: &Request) -> IpAddr {
    request
        .remote_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip())
}

/// The value of the first header called `name` (case-insensitive).
fn header_value<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}

fn respond(request: Request, response: Response<Cursor<Vec<u8>>>) {
    // The client may have left; nothing to do about it.
    let _ = request.respond(response);
}

fn handle(ctx: &Context, request: Request) {
    if let Some(auth) = &ctx.auth {
        let client = client_ip(&request);
        // Password guessing: after LOGIN_BURST wrong tries an address waits (one more try per
        // LOGIN_REFILL), whatever it sends, so guessing is slow and the log stays short.
        if ctx.login_failures.exhausted(client, Instant::now()) {
            return respond(
                request,
                text(
                    429,
                    "too many wrong passwords from this address: wait a minute",
                )
                .with_header(header("Retry-After", "60")),
            );
        }
        let given = header_value(&request, "Authorization");
        if !auth.allows(given) {
            if given.is_some() {
                ctx.login_failures.allow(client, Instant::now());
                // Who, never what: the header holds the password.
                log::warn!("client {}: wrong credentials", peer(&request));
            }
            return respond(
                request,
                text(401, "this server needs a user name and password")
                    .with_header(header("WWW-Authenticate", auth::CHALLENGE)),
            );
        }
    }
    let method = request.method().as_str().to_string();
    let route = match routes::route(&method, request.url()) {
        Ok(r) => r,
        Err(r) => return respond(request, reject(r)),
    };
    match route {
        Route::Page => respond(
            request,
            Response::from_string(PAGE)
                .with_header(header("Content-Type", "text/html; charset=utf-8"))
                .with_header(header("Cache-Control", "no-cache"))
                // Clickjacking: another site could frame the control page invisibly (the
                // browser reuses saved credentials) and have the user click through it.
                .with_header(header("X-Frame-Options", "DENY"))
                .with_header(header(
                    "Content-Security-Policy",
                    "frame-ancestors 'none'; default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
                )),
        ),
        Route::State => respond(
            request,
            no_store(Response::from_string(state(ctx).to_string()))
                .with_header(header("Content-Type", "application/json")),
        ),
        Route::Snapshot { fresh } => snapshot(ctx, request, fresh),
        Route::Stream => stream(ctx, request),
        Route::Options(allow) => respond(
            request,
            no_store(Response::from_data(Vec::new()).with_status_code(204))
                .with_header(header("Allow", allow)),
        ),
        Route::Input => control::handle(ctx, request, false),
        Route::Pointer => control::handle(ctx, request, true),
    }
}

fn state(ctx: &Context) -> Json {
    let mut fields = vec![("source".to_string(), Json::str(ctx.source))];
    fields.extend(ctx.hub.state_json());
    fields.push(("max_clients".into(), Json::Int(ctx.max_clients as i64)));
    fields.push(("control".into(), Json::Bool(ctx.input.is_some())));
    Json::Obj(fields)
}

fn snapshot(ctx: &Context, request: Request, fresh: bool) {
    let asked = SystemTime::now();
    let addr = peer(&request);
    let _client = ctx.hub.subscribe(addr.clone(), ClientKind::Snapshot);
    if fresh {
        // A change-driven source (the screen) produces nothing while nothing changes.
        ctx.hub.request_fresh();
    }
    let frame = match ctx.hub.latest() {
        Some(f) if !fresh => Some(f),
        latest => wait_for_frame(
            &ctx.hub,
            latest.map_or(0, |f| f.seq),
            fresh.then_some(asked),
        ),
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
fn wait_for_frame(hub: &Hub, mut after: u64, not_before: Option<SystemTime>) -> Option<Arc<Frame>> {
    let deadline = Instant::now() + SNAPSHOT_WAIT;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match hub.wait_newer(after, left) {
            Next::Frame(f) if not_before.is_some_and(|t| f.captured < t) => after = f.seq,
            Next::Frame(f) => return Some(f),
            Next::Timeout(_) | Next::Shutdown => return None,
        }
    }
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

fn stream(ctx: &Context, request: Request) {
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
    let addr = peer(&request);
    // The whole target (`/?action=stream` says more than `/`), cut short for the log.
    let path: String = request.url().chars().take(80).collect();
    let head_only = request.method().as_str() == "HEAD";
    let client = ctx.hub.subscribe(addr.clone(), ClientKind::Stream);
    let mut out = request.into_writer();
    let mut head = mjpeg::stream_head();
    if !head_only {
        head.push_str(&mjpeg::first_boundary());
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
        let frame = match ctx.hub.wait_newer(last, RESEND_AFTER) {
            Next::Frame(f) => f,
            Next::Timeout(Some(f)) => f,
            Next::Timeout(None) => continue,
            Next::Shutdown => break "server stopping".to_string(),
        };
        if let Err(e) = mjpeg::write_part(&mut *out, &frame) {
            break why_gone(&e);
        }
        client.stats.sent_one();
        last = frame.seq;
    };
    log::info!(
        "client {addr} left {path} after {} frames in {:.1} s ({why})",
        client.stats.frames(),
        started.elapsed().as_secs_f64()
    );
}
