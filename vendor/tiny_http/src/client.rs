//! deskcam patch: one thread per connection reads its requests one after another, each head
//! under a deadline and checked by [`crate::head`], hands each request to the application and
//! waits until it is answered before reading the next. Replaces upstream's `ClientConnection`
//! iterator, its chains of sequential readers and writers, and its thread pool: a thread here
//! ends with its connection, so threads and descriptors return to their baseline as soon as
//! clients leave.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::body::{Input, SocketReader};
use crate::connection::Connection;
use crate::head::{read_head, Framing, HeadError, Refusal};
use crate::pending::Pending;
use crate::request::{Done, Request};
use crate::tls::HandshakeError;
use crate::util::MessagesQueue;
use crate::{Limits, Message};

/// What every connection thread shares.
pub(crate) struct Shared {
    pub messages: Arc<MessagesQueue<Message>>,
    pub pending: Arc<Pending>,
    pub limits: Limits,
    /// deskcam patch 15: set when the server speaks HTTPS.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Longest a closing connection keeps reading (and discarding) what the client still sends,
/// so the answer is not destroyed by a reset (RFC 9112 section 9.6), and how much it reads.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;

/// Serves one connection until it ends.
pub(crate) fn serve(conn: Arc<Connection>, remote: Option<SocketAddr>, shared: &Shared) {
    let limits = &shared.limits;
    // For the debug lines: which client it was.
    let peer = remote.map_or_else(|| "unknown".to_string(), |a| a.to_string());
    if let Connection::Tls(tls) = &*conn {
        // Counted among the connections waiting for a request, and under the same deadlines.
        let _waiting = shared.pending.enter(&conn);
        match tls.handshake(limits) {
            Ok(()) => {}
            Err(HandshakeError::PlainHttp) => {
                log::debug!("client {peer}: plain HTTP on the HTTPS port; answered 400");
                return refuse_plain_http(&conn);
            }
            Err(HandshakeError::Silent) => {
                log::debug!("client {peer}: closed or silent before its TLS handshake");
                return;
            }
            Err(HandshakeError::Failed(e)) => {
                log::debug!("client {peer}: TLS handshake failed: {e}");
                let _ = conn.shutdown(Shutdown::Write);
                return discard_until_closed(&conn);
            }
        }
    }
    let mut input: Input = BufReader::with_capacity(
        8 * 1024,
        SocketReader::new(conn.clone(), limits.idle_timeout),
    );
    loop {
        let waiting = shared.pending.enter(&conn);
        let head = {
            input.get_mut().deadline = None;
            // Idle until a request starts; silence or a hang-up just ends the connection.
            match input.fill_buf() {
                Ok([]) | Err(_) => return,
                Ok(_) => {}
            }
            input.get_mut().deadline = Some(Instant::now() + limits.head_deadline);
            match read_head(&mut input, limits) {
                Ok(head) => head,
                Err(HeadError::Refused(r)) => return refuse(&conn, &r, &peer),
                Err(HeadError::Io(e)) if e.kind() == io::ErrorKind::TimedOut => {
                    let r = Refusal {
                        status: 408,
                        reason: format!(
                            "the request head did not arrive within {} s",
                            limits.head_deadline.as_secs()
                        ),
                    };
                    return refuse(&conn, &r, &peer);
                }
                Err(HeadError::Io(_)) => return,
            }
        };
        let (sender, receiver) = mpsc::channel();
        // A request with a body stays in the registry until the body is in.
        let waiting = (head.framing != Framing::None).then_some(waiting);
        let request = Request::new(
            head,
            input,
            conn.clone(),
            remote,
            limits.max_drain,
            waiting,
            sender,
        );
        shared.messages.push(request.into());
        match receiver.recv() {
            Ok(Done { input: Some(back) }) => input = back,
            _ => return linger_close(&conn),
        }
    }
}

/// Answers a refused head with its status and reason, then closes.
fn refuse(conn: &Connection, r: &Refusal, peer: &str) {
    log::debug!(
        "client {peer}: refused its request head: {} {}",
        r.status,
        r.reason
    );
    let body = format!("{}\n", r.reason);
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        r.status,
        crate::StatusCode(r.status).default_reason_phrase(),
        body.len()
    );
    let _ = (&*conn).write_all(format!("{head}{body}").as_bytes());
    linger_close(conn);
}

/// deskcam patch 15: a plain-HTTP request on the HTTPS port gets a plain-text answer saying
/// so (a browser shows it), then the connection closes.
fn refuse_plain_http(conn: &Connection) {
    let Connection::Tls(tls) = conn else { return };
    let body = "this port speaks HTTPS: use https:// in the address\n";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    );
    let _ = (&tls.tcp).write_all(answer.as_bytes());
    let _ = conn.shutdown(Shutdown::Write);
    discard_until_closed(conn);
}

/// Ends the connection gently: our side is shut so the client sees the end of the answer, and
/// what it still sends is read for a moment, so the kernel does not answer it with a reset
/// that could destroy the answer before the client read it.
fn linger_close(conn: &Connection) {
    conn.close_write();
    discard_until_closed(conn);
}

/// The second half of [`linger_close`]: reads and drops what the client still sends, for at
/// most [`LINGER`] or [`LINGER_BYTES`].
fn discard_until_closed(conn: &Connection) {
    let deadline = Instant::now() + LINGER;
    let mut buf = [0u8; 8192];
    let mut read = 0;
    while read < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_millis(1) || conn.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match conn.read_raw(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
}

/// Refuses a connection the server cannot take (no descriptor or thread for it): a 503 if
/// the socket takes it at once, then close.
pub(crate) fn turn_away(conn: &Connection, why: &str) {
    // deskcam patch 15: a TLS client could not read a plain-text answer; it just sees the end.
    let plain = !matches!(conn, Connection::Tls(_));
    if plain && conn.set_nonblocking(true).is_ok() {
        let mut buf = [0u8; 4096];
        let _ = (&*conn).read(&mut buf);
        let body = format!("{why}\n");
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = (&*conn).write_all(answer.as_bytes());
    }
    let _ = conn.shutdown(Shutdown::Both);
}
