use std::convert::TryFrom;
use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::sync::Arc;

use crate::body::{Body, Input};
use crate::connection::{Connection, Socket};
use crate::head::{Framing, Head};
use crate::pending::Ticket;
use crate::{HTTPVersion, Header, Method, Response};

/// deskcam patch: what the connection learns when a request is over: its input back, to read
/// the next request from, or `None` to close the connection.
pub(crate) struct Done {
    pub input: Option<Input>,
}

/// Represents an HTTP request made by a client.
///
/// A `Request` object is what is produced by the server, and is your what your code must
/// analyse and answer.
///
/// This object implements the `Send` trait, therefore you can dispatch your requests to
/// worker threads.
///
/// # Pipelining
///
/// deskcam patch: the next request on a connection is read only once this one is answered
/// (or its writer dropped), so requests are handled strictly one after another.
///
/// # Bodies
///
/// deskcam patch: [`Request::as_reader`] yields exactly the body the head framed; a malformed
/// or short body is an error, never a shorter body. When the request is answered, an unread
/// rest of at most [`crate::Limits::max_drain`] bytes is skipped so the connection can go on;
/// a larger one, or one the client holds back waiting for `100 Continue`, closes it.
pub struct Request {
    body: Body,
    conn: Arc<Connection>,
    remote_addr: Option<SocketAddr>,
    method: Method,
    path: String,
    http_version: HTTPVersion,
    headers: Vec<Header>,
    body_length: Option<usize>,
    keep_alive: bool,
    max_drain: usize,
    /// Present until the request is answered.
    done: Option<Sender<Done>>,
}

impl Request {
    pub(crate) fn new(
        head: Head,
        input: Input,
        conn: Arc<Connection>,
        remote_addr: Option<SocketAddr>,
        max_drain: usize,
        waiting: Option<Ticket>,
        done: Sender<Done>,
    ) -> Request {
        let body_length = match head.framing {
            Framing::Length(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => None,
        };
        Request {
            body: Body::new(
                input,
                head.framing,
                head.expect_continue,
                conn.clone(),
                waiting,
            ),
            conn,
            remote_addr,
            method: head.method,
            path: head.target,
            http_version: head.version,
            headers: head.headers,
            body_length,
            keep_alive: head.keep_alive,
            max_drain,
            done: Some(done),
        }
    }

    /// Returns the method requested by the client (eg. `GET`, `POST`, etc.).
    #[inline]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Returns the resource requested by the client, always in origin form (`/path?query`) or
    /// `*`: an absolute-form target (`http://host/path`) arrives reduced to its path and
    /// query, its authority as the `Host` header (RFC 9112 section 3.2.2).
    #[inline]
    pub fn url(&self) -> &str {
        &self.path
    }

    /// Returns a list of all headers sent by the client.
    #[inline]
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Returns the HTTP version of the request (1.0 or 1.1).
    #[inline]
    pub fn http_version(&self) -> &HTTPVersion {
        &self.http_version
    }

    /// Returns the length of the body in bytes, if it was given with `Content-Length`.
    #[inline]
    pub fn body_length(&self) -> Option<usize> {
        self.body_length
    }

    /// Returns the address of the client that sent this request (`None` on a Unix socket).
    #[inline]
    pub fn remote_addr(&self) -> Option<&SocketAddr> {
        self.remote_addr.as_ref()
    }

    /// deskcam patch 16: replaces the client's address, for an application that trusts a
    /// proxy in front to name the real client (`X-Forwarded-For`).
    pub fn set_remote_addr(&mut self, addr: Option<SocketAddr>) {
        self.remote_addr = addr;
    }

    /// deskcam patch: the connection's socket, to watch for the peer hanging up.
    pub fn socket(&self) -> Socket {
        Socket(self.conn.clone())
    }

    /// Allows to read the body of the request. A `100 Continue` the client asked for is sent
    /// before the first read.
    #[inline]
    pub fn as_reader(&mut self) -> &mut dyn Read {
        &mut self.body
    }

    /// Turns the request into a writer for a response written by hand (an endless stream).
    /// The connection is closed once the writer is dropped; writes go straight to the socket.
    pub fn into_writer(mut self) -> Box<dyn Write + Send + 'static> {
        Box::new(RawWriter {
            conn: self.conn.clone(),
            done: self.done.take(),
        })
    }

    /// Sends a response to this request, with its head and (a not too large) body in one write.
    pub fn respond<R: Read>(mut self, response: Response<R>) -> Result<(), io::Error> {
        self.respond_impl(response)
    }

    fn respond_impl<R: Read>(&mut self, response: Response<R>) -> Result<(), io::Error> {
        let reuse = self.keep_alive && self.body.finish(self.max_drain);
        let connection = match (reuse, self.http_version == HTTPVersion(1, 0)) {
            (false, _) => Some("close"),
            (true, true) => Some("keep-alive"),
            (true, false) => None,
        };
        let result = response.raw_print(
            &mut &*self.conn,
            self.http_version.clone(),
            &self.headers,
            self.method == Method::Head,
            connection,
        );
        let input = if reuse && result.is_ok() {
            self.body.take_input()
        } else {
            None
        };
        if let Some(done) = self.done.take() {
            let _ = done.send(Done { input });
        }
        ignore_client_closing_errors(result)
    }
}

fn ignore_client_closing_errors(result: io::Result<()>) -> io::Result<()> {
    result.or_else(|err| match err.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionRefused
        | io::ErrorKind::ConnectionReset => Ok(()),
        _ => Err(err),
    })
}

/// The writer of [`Request::into_writer`]: the socket itself, and the end of the connection
/// when dropped.
struct RawWriter {
    conn: Arc<Connection>,
    done: Option<Sender<Done>>,
}

impl Write for RawWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.conn).write(buf)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self.conn).write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for RawWriter {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(Done { input: None });
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> Result<(), fmt::Error> {
        write!(
            formatter,
            "Request({} {} from {:?})",
            self.method, self.path, self.remote_addr
        )
    }
}

impl Drop for Request {
    /// A request dropped unanswered gets a 500, as upstream did.
    fn drop(&mut self) {
        if self.done.is_some() {
            let _ = self.respond_impl(Response::empty(500));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn must_be_send() {
        #![allow(dead_code)]
        fn f<T: Send>(_: &T) {}
        fn bar(rq: &Request) {
            f(rq);
        }
    }
}
