//! The HTTP side: accepts connections with tiny_http, gives every request its own thread (one
//! stream must never block another request), checks credentials, routes, and answers from the
//! hub ([`stream`], [`snapshot`]), the source status (`/state`) or the input injector
//! ([`control`]).
//!
//! The vendored tiny_http reads requests strictly and bounds every connection
//! (vendor/tiny_http/PATCHES.md); here, streams bypass its response writer, sockets get a send
//! timeout through the listener, streaming clients are capped, and a client hanging up while
//! its handler waits is noticed at once ([`hangup`]).

pub mod auth;
pub mod camera_controls;
pub mod control;
pub mod event_form;
pub mod forwarded;
pub mod hangup;
pub mod limit;
pub mod multipart;
pub mod origin;
mod page;
pub mod query;
pub mod routes;
mod snapshot;
mod stream;

use std::io::{self, Cursor};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::thread;
use std::time::{Duration, Instant};

use tiny_http::{Header, Request, Response};

use crate::hub::Hub;
use crate::json::Json;
use crate::status::SourceStatus;
use crate::viewers::Viewers;
use routes::{Reject, Route};

/// A client that accepts no data for this long is dropped (SO_SNDTIMEO on every socket).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Kernel send buffer per client socket: a few frames, so slow clients skip rather than queue.
pub const SEND_BUFFER: usize = 256 * 1024;

/// Wrong passwords an address may send at once before it must wait.
pub const LOGIN_BURST: f64 = 10.0;
/// One more try per this many seconds after that.
pub const LOGIN_REFILL_SECS: f64 = 6.0;

/// What the request handlers share.
pub struct Context {
    pub hub: Arc<Hub>,
    pub viewers: Arc<Viewers>,
    pub status: Arc<SourceStatus>,
    pub source: &'static str,
    pub max_clients: usize,
    pub streams: AtomicUsize,
    /// Set by `--auth`, `--auth-file` or `DESKCAM_AUTH`: every request must carry it.
    pub auth: Option<auth::Auth>,
    /// Set by `--control`: the injector behind `POST /input`.
    pub input: Option<control::Control>,
    /// `--trusted-proxy`: requests from it name their client in `X-Forwarded-For`.
    pub trusted_proxy: Option<IpAddr>,
    /// The camera source's controls: read by anyone, changed only with `--camera-controls`.
    pub camera_controls: Option<camera_controls::Access>,
    /// Wrong passwords per address (see [`LOGIN_BURST`]).
    pub login_failures: limit::RateLimiter,
    /// Notices clients hanging up while their handler waits for a frame.
    pub hangups: Arc<hangup::Hangups>,
}

/// A bound listening socket, ready to serve.
pub struct Listener {
    server: Arc<tiny_http::Server>,
    pub addr: SocketAddr,
}

/// Binds `addr` with the send timeout set on the listener, so accepted sockets inherit it
/// (tiny_http offers no timeouts). Never SO_RCVTIMEO: accept would then fail with EAGAIN and
/// tiny_http's accept loop stops for good. With `tls` every connection speaks HTTPS.
pub fn bind(addr: SocketAddr, tls: Option<Arc<rustls::ServerConfig>>) -> io::Result<Listener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_write_timeout(Some(WRITE_TIMEOUT))?;
    // A fixed, modest send buffer (inherited like the timeout): Linux autotuning grows it to
    // megabytes, which let a slow viewer queue seconds of frames instead of skipping.
    socket.set_send_buffer_size(SEND_BUFFER)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    let listener: TcpListener = socket.into();
    let addr = listener.local_addr()?;
    let server = match tls {
        None => tiny_http::Server::from_listener(listener, limits()),
        Some(config) => tiny_http::Server::https_from_listener(listener, limits(), config),
    }
    .map_err(io::Error::other)?;
    Ok(Listener {
        server: Arc::new(server),
        addr,
    })
}

/// Most connections that may be still sending their request (head, or a body after it) at
/// once; each holds a thread or two and a descriptor. The longest waiting is closed beyond it.
pub const MAX_PENDING: usize = 128;

/// tiny_http's limits (vendor/tiny_http/PATCHES.md), with the waiting connections kept to a
/// quarter of the descriptors left after a reserve, so idle clients alone never exhaust them
/// under a low `ulimit -n`.
fn limits() -> tiny_http::Limits {
    use rustix::process::{Resource, getrlimit};
    const RESERVED: u64 = 32;
    let fds = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let share = (fds.saturating_sub(RESERVED) / 4).clamp(4, MAX_PENDING as u64);
    tiny_http::Limits {
        max_pending: share as usize,
        ..tiny_http::Limits::default()
    }
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

/// The client's address for logs; one named by a trusted proxy has no port (port 0).
fn peer(request: &Request) -> String {
    match request.remote_addr() {
        None => "?".into(),
        Some(a) if a.port() == 0 => a.ip().to_string(),
        Some(a) => a.to_string(),
    }
}

/// The client's address for per-address limits (unspecified for a Unix socket, never here).
fn client_ip(request: &Request) -> IpAddr {
    request
        .remote_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip())
}

/// The value of the header called `name` (case-insensitive); [`handle`] has refused requests
/// that carry one of ours twice.
fn header_value<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}

/// Headers that may appear once (RFC 9110 section 5.3). Two of them is either a broken client
/// or one hoping that two parsers pick different lines (a same-site `Origin` first, a hostile
/// one second); tiny_http already refuses two `Host` or `Content-Length` lines.
const SINGLE: [&str; 5] = [
    "Authorization",
    "Origin",
    "Referer",
    "Sec-Fetch-Site",
    "Content-Type",
];

fn duplicate_header(request: &Request) -> Option<&'static str> {
    SINGLE.into_iter().find(|name| {
        request
            .headers()
            .iter()
            .filter(|h| h.field.equiv(name))
            .nth(1)
            .is_some()
    })
}

fn respond(request: Request, response: Response<Cursor<Vec<u8>>>) {
    // The client may have left; nothing to do about it.
    let _ = request.respond(response);
}

fn handle(ctx: &Context, mut request: Request) {
    if let Some(name) = duplicate_header(&request) {
        let why = format!("more than one {name} header");
        return respond(request, text(400, &why));
    }
    if let Err(why) = forwarded::apply(ctx.trusted_proxy, &mut request) {
        return respond(request, text(400, &why));
    }
    if let Err(refusal) = check_credentials(ctx, &request) {
        return respond(request, refusal);
    }
    let method = request.method().as_str().to_string();
    let route = match routes::route(&method, request.url()) {
        Ok(r) => r,
        Err(r) => return respond(request, reject(r)),
    };
    match route {
        Route::Page => respond(request, page::response()),
        Route::State => respond(
            request,
            no_store(Response::from_string(state(ctx).to_string()))
                .with_header(header("Content-Type", "application/json")),
        ),
        Route::Snapshot { fresh } => snapshot::serve(ctx, request, fresh),
        Route::Stream => stream::serve(ctx, request),
        Route::Options(allow) => respond(
            request,
            no_store(Response::from_data(Vec::new()).with_status_code(204))
                .with_header(header("Allow", allow)),
        ),
        Route::Input => control::handle(ctx, request, false),
        Route::Pointer => control::handle(ctx, request, true),
        Route::CameraControls { set } => camera_controls::handle(ctx, request, set),
    }
}

/// With `--auth`, every request needs the credentials. Password guessing: after [`LOGIN_BURST`]
/// wrong tries an address waits (one more try per [`LOGIN_REFILL_SECS`]), whatever it sends, so
/// guessing is slow and the log stays short.
fn check_credentials(ctx: &Context, request: &Request) -> Result<(), Response<Cursor<Vec<u8>>>> {
    let Some(auth) = &ctx.auth else {
        return Ok(());
    };
    let client = client_ip(request);
    if ctx.login_failures.exhausted(client, Instant::now()) {
        return Err(text(
            429,
            "too many wrong passwords from this address: wait a minute",
        )
        .with_header(header("Retry-After", "60")));
    }
    let given = header_value(request, "Authorization");
    if auth.allows(given) {
        return Ok(());
    }
    if given.is_some() {
        ctx.login_failures.allow(client, Instant::now());
        // Who, never what: the header holds the password.
        log::warn!("client {}: wrong credentials", peer(request));
    }
    Err(text(401, "this server needs a user name and password")
        .with_header(header("WWW-Authenticate", auth::CHALLENGE)))
}

/// The `/state` document: the source, its newest frame, its status, the viewers, the limits.
fn state(ctx: &Context) -> Json {
    let mut fields = vec![("source".to_string(), Json::str(ctx.source))];
    fields.extend(ctx.hub.state_json());
    fields.extend(ctx.viewers.state_json());
    fields.extend(ctx.status.state_json());
    fields.push(("max_clients".into(), Json::Int(ctx.max_clients as i64)));
    fields.push(("control".into(), Json::Bool(ctx.input.is_some())));
    Json::Obj(fields)
}
