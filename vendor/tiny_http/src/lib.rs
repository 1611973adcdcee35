//! # Simple usage
//!
//! ## Creating the server
//!
//! The easiest way to create a server is to call `Server::http()`.
//!
//! The `http()` function returns an `IoResult<Server>` which will return an error
//! in the case where the server creation fails (for example if the listening port is already
//! occupied).
//!
//! ```no_run
//! let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! ```
//!
//! A newly-created `Server` will immediately start listening for incoming connections and HTTP
//! requests.
//!
//! ## Receiving requests
//!
//! Calling `server.recv()` will block until the next request is available.
//! This function returns an `IoResult<Request>`, so you need to handle the possible errors.
//!
//! ```no_run
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//!
//! loop {
//!     // blocks until the next request is received
//!     let request = match server.recv() {
//!         Ok(rq) => rq,
//!         Err(e) => { println!("error: {}", e); break }
//!     };
//!
//!     // do something with the request
//!     // ...
//! }
//! ```
//!
//! In a real-case scenario, you will probably want to spawn multiple worker tasks and call
//! `server.recv()` on all of them. Like this:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use std::thread;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! let server = Arc::new(server);
//! let mut guards = Vec::with_capacity(4);
//!
//! for _ in (0 .. 4) {
//!     let server = server.clone();
//!
//!     let guard = thread::spawn(move || {
//!         loop {
//!             let rq = server.recv().unwrap();
//!
//!             // ...
//!         }
//!     });
//!
//!     guards.push(guard);
//! }
//! ```
//!
//! If you don't want to block, you can call `server.try_recv()` instead.
//!
//! ## Handling requests
//!
//! The `Request` object returned by `server.recv()` contains informations about the client's request.
//! The most useful methods are probably `request.method()` and `request.url()` which return
//! the requested method (`GET`, `POST`, etc.) and url.
//!
//! To handle a request, you need to create a `Response` object. See the docs of this object for
//! more infos. Here is an example of creating a `Response` from a file:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! ```
//!
//! All that remains to do is call `request.respond()`:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! # let request = server.recv().unwrap();
//! # let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! let _ = request.respond(response);
//! ```
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![allow(clippy::match_like_matches_macro)]

use std::error::Error;
use std::fs::File;
use std::io::Error as IoError;
use std::io::ErrorKind as IoErrorKind;
use std::io::Result as IoResult;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use connection::Connection;
use util::MessagesQueue;

pub use common::{HTTPVersion, Header, HeaderField, Method, StatusCode};
pub use connection::{ConfigListenAddr, ListenAddr, Listener, Socket};
pub use request::Request;
pub use response::{Response, ResponseBox};

mod body;
mod client;
mod common;
mod connection;
mod head;
mod pending;
mod request;
mod response;
mod tls;
mod util;

/// deskcam patch: the limits that keep one client from holding the server's threads,
/// descriptors or memory. Upstream had none (see PATCHES.md).
#[derive(Debug, Clone)]
pub struct Limits {
    /// A request, from the first byte of its head to the last byte of its body, must arrive
    /// within this, however the bytes trickle in.
    pub head_deadline: Duration,
    /// A connection with no request under way is closed after this long without a byte.
    pub idle_timeout: Duration,
    /// Most connections waiting for a request head, or for the body after it, at once;
    /// beyond, the longest waiting one is closed.
    pub max_pending: usize,
    /// Longest request line, CRLF included (414 beyond).
    pub max_request_line: usize,
    /// Most header bytes, CRLFs included (431 beyond).
    pub max_header_bytes: usize,
    /// Most header lines (431 beyond).
    pub max_headers: usize,
    /// Largest unread body rest skipped to keep a connection open; beyond, it is closed.
    pub max_drain: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            head_deadline: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(20),
            max_pending: 128,
            max_request_line: 8 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            max_drain: 64 * 1024,
        }
    }
}

/// deskcam patch: stack of a connection thread; it only parses heads and copies bytes.
const CONNECTION_STACK: usize = 128 * 1024;

/// The main class of this library.
///
/// Destroying this object will immediately close the listening socket and the reading
///  part of all the client's connections. Requests that have already been returned by
///  the `recv()` function will not close and the responses will be transferred to the client.
pub struct Server {
    // should be false as long as the server exists
    // when set to true, all the subtasks will close within a few hundreds ms
    close: Arc<AtomicBool>,

    // queue for messages received by child threads
    messages: Arc<MessagesQueue<Message>>,

    // result of TcpListener::local_addr()
    listening_addr: ListenAddr,
}

// deskcam patch 17: a request is the larger variant since the patches (it carries its
// connection's buffered input); each is moved once, through the queue, so that costs nothing.
#[allow(clippy::large_enum_variant)]
enum Message {
    Error(IoError),
    NewRequest(Request),
}

impl From<IoError> for Message {
    fn from(e: IoError) -> Message {
        Message::Error(e)
    }
}

impl From<Request> for Message {
    fn from(rq: Request) -> Message {
        Message::NewRequest(rq)
    }
}

// this trait is to make sure that Server implements Share and Send
// (Upstream's compile-time check, never used otherwise: deskcam patch 17.)
#[doc(hidden)]
#[allow(dead_code)]
trait MustBeShareDummy: Sync + Send {}
#[doc(hidden)]
impl MustBeShareDummy for Server {}

pub struct IncomingRequests<'a> {
    server: &'a Server,
}

impl Server {
    /// Shortcut for a simple server on a specific address.
    #[inline]
    pub fn http<A>(addr: A) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        let listener = ConfigListenAddr::from_socket_addrs(addr)?.bind()?;
        Self::from_listener(listener, Limits::default())
    }

    #[cfg(unix)]
    #[inline]
    /// Shortcut for a UNIX socket server at a specific path
    pub fn http_unix(
        path: &std::path::Path,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = ConfigListenAddr::unix_from_path(path).bind()?;
        Self::from_listener(listener, Limits::default())
    }

    /// Builds a new server using the specified listener and limits.
    ///
    /// deskcam patch: takes [`Limits`] instead of an SSL configuration (HTTPS support was
    /// removed: deskcam never enabled it).
    pub fn from_listener<L: Into<Listener>>(
        listener: L,
        limits: Limits,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::start(listener.into(), limits, None)
    }

    /// deskcam patch 15: a server that speaks HTTPS on every connection, with `tls` (its
    /// certificate resolver may change the certificate at any time: new connections see it).
    pub fn https_from_listener<L: Into<Listener>>(
        listener: L,
        limits: Limits,
        tls: Arc<rustls::ServerConfig>,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::start(listener.into(), limits, Some(tls))
    }

    fn start(
        listener: Listener,
        limits: Limits,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let close_trigger = Arc::new(AtomicBool::new(false));
        let local_addr = listener.local_addr()?;
        log::debug!("Server listening on {}", local_addr);
        let messages = MessagesQueue::with_capacity(8);
        let shared = Arc::new(client::Shared {
            messages: messages.clone(),
            pending: Arc::new(pending::Pending::new(limits.max_pending)),
            limits,
            tls,
        });
        let inside_close_trigger = close_trigger.clone();
        thread::Builder::new()
            .name("http-accept".into())
            .spawn(move || accept_loop(listener, &inside_close_trigger, &shared))?;
        Ok(Server {
            messages,
            close: close_trigger,
            listening_addr: local_addr,
        })
    }

    /// Returns an iterator for all the incoming requests.
    ///
    /// The iterator will return `None` if the server socket is shutdown.
    #[inline]
    pub fn incoming_requests(&self) -> IncomingRequests<'_> {
        IncomingRequests { server: self }
    }

    /// Returns the address the server is listening to.
    #[inline]
    pub fn server_addr(&self) -> ListenAddr {
        self.listening_addr.clone()
    }

    /// Blocks until an HTTP request has been submitted and returns it.
    // Upstream's code, kept as written (deskcam patch 17).
    #[allow(clippy::io_other_error)]
    pub fn recv(&self) -> IoResult<Request> {
        match self.messages.pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(rq),
            None => Err(IoError::new(IoErrorKind::Other, "thread unblocked")),
        }
    }

    /// Same as `recv()` but doesn't block longer than timeout
    pub fn recv_timeout(&self, timeout: Duration) -> IoResult<Option<Request>> {
        match self.messages.pop_timeout(timeout) {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Same as `recv()` but doesn't block.
    pub fn try_recv(&self) -> IoResult<Option<Request>> {
        match self.messages.try_pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Unblock thread stuck in recv() or incoming_requests().
    /// If there are several such threads, only one is unblocked.
    /// This method allows graceful shutdown of server.
    pub fn unblock(&self) {
        self.messages.unblock();
    }
}

impl Iterator for IncomingRequests<'_> {
    type Item = Request;
    fn next(&mut self) -> Option<Request> {
        self.server.recv().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close.store(true, Relaxed);
        // Connect briefly to ourselves to unblock the accept thread
        let maybe_stream = match &self.listening_addr {
            ListenAddr::IP(addr) => TcpStream::connect(addr).map(Connection::from),
            #[cfg(unix)]
            ListenAddr::Unix(addr) => {
                // TODO: use connect_addr when its stabilized.
                let path = addr.as_pathname().unwrap();
                std::os::unix::net::UnixStream::connect(path).map(Connection::from)
            }
        };
        if let Ok(stream) = maybe_stream {
            let _ = stream.shutdown(Shutdown::Both);
        }

        #[cfg(unix)]
        if let ListenAddr::Unix(addr) = &self.listening_addr {
            if let Some(path) = addr.as_pathname() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// deskcam patch: the accept loop. Upstream panicked when `try_clone` ran out of descriptors
/// (issue #195), ended the server on any accept error, and at the descriptor limit left new
/// clients waiting in the backlog with no answer. Here every connection gets `TCP_NODELAY`
/// and a thread of its own that ends with it; at the descriptor limit the longest waiting idle
/// connection is dropped and the newcomer is accepted on a spare descriptor kept for this and
/// turned away with a 503, so the backlog never stalls and the server recovers by itself.
fn accept_loop(listener: Listener, close: &AtomicBool, shared: &Arc<client::Shared>) {
    let mut spare = File::open("/dev/null").ok();
    let mut last_warning: Option<Instant> = None;
    let mut warn = |what: &dyn std::fmt::Display| {
        // At most one line a second: a flood must not flood the log too.
        if last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            log::warn!("{}", what);
            last_warning = Some(Instant::now());
        }
    };
    while !close.load(Relaxed) {
        // Taken back as soon as a descriptor is free again.
        if spare.is_none() {
            spare = File::open("/dev/null").ok();
        }
        match listener.accept() {
            Ok((conn, remote)) => {
                let conn = match &shared.tls {
                    None => conn,
                    Some(config) => match conn.into_tls(config) {
                        Ok(tls) => tls,
                        Err(e) => {
                            warn(&format_args!("cannot start TLS on a connection: {}", e));
                            continue;
                        }
                    },
                };
                let conn = Arc::new(conn);
                let _ = conn.set_nodelay();
                let inner = (conn.clone(), shared.clone());
                let spawned = thread::Builder::new()
                    .name("http-conn".into())
                    .stack_size(CONNECTION_STACK)
                    .spawn(move || client::serve(inner.0, remote, &inner.1));
                if let Err(e) = spawned {
                    warn(&format_args!("cannot start a connection thread: {}", e));
                    client::turn_away(&conn, "the server is too busy: try again shortly");
                }
            }
            Err(e) if out_of_descriptors(&e) => {
                // The spare descriptor makes room to accept a newcomer and say so. Linux
                // reports EMFILE before it looks at the backlog, so the accept must not wait:
                // a client arriving once descriptors are free again must be served.
                drop(spare.take());
                match listener.accept_now() {
                    Some(conn) => {
                        warn(&format_args!(
                            "out of file descriptors: turning new clients away ({})",
                            e
                        ));
                        // Room for the next newcomer: the idle connection waiting longest.
                        shared.pending.drop_oldest();
                        client::turn_away(
                            &conn,
                            "the server is out of connections: try again shortly",
                        );
                    }
                    // Nobody waiting: do not spin on a listener that reports EMFILE at once.
                    None => thread::sleep(Duration::from_millis(10)),
                }
                spare = File::open("/dev/null").ok();
            }
            Err(e) if e.kind() == IoErrorKind::ConnectionAborted => {}
            Err(e) => {
                warn(&format_args!("Error accepting new client: {}", e));
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
    log::debug!("Terminating accept thread");
}

/// EMFILE (this process) or ENFILE (the whole system).
fn out_of_descriptors(e: &IoError) -> bool {
    use rustix::io::Errno;
    matches!(Errno::from_io_error(e), Some(Errno::MFILE | Errno::NFILE))
}
