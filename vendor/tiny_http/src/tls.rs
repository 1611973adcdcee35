//! deskcam patch 15: HTTPS. A TLS connection is a TCP socket and a rustls state machine behind
//! one lock; reading and writing through it look like a plain socket to the rest of the
//! connection layer, so every deadline, cap and the one-write responses work unchanged, and a
//! stream written through [`crate::Request::into_writer`] is encrypted like any answer.
//!
//! The handshake runs in the connection's own thread before its first request, under the same
//! limits as a request head: up to `idle_timeout` for the first byte, then `head_deadline` for
//! the whole handshake, counted among the connections waiting for a request (so a flood of
//! stalled handshakes is capped like slow heads). A plain-HTTP request (a browser sent to
//! `http://` on the HTTPS port) gets a plain-text 400 saying to use `https://`, as nginx does;
//! anything else that is not TLS gets rustls's alert and the connection closes.
//!
//! The lock is held across a blocking socket read. Reads and writes of one connection never
//! overlap here (a request is read, then answered, then the next one is read), and whatever
//! must interrupt a blocked read (the cap on waiting connections, a client hanging up under a
//! stream) shuts the TCP socket down without taking the lock.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection};

use crate::Limits;

pub(crate) struct TlsStream {
    pub(crate) tcp: TcpStream,
    tls: Mutex<ServerConnection>,
}

/// Why a connection never got as far as a request.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// Nothing arrived within the idle timeout, or the client closed at once.
    Silent,
    /// The first bytes are a plain-HTTP request line.
    PlainHttp,
    /// Not TLS, a failed negotiation, the deadline, or the socket failed.
    Failed(io::Error),
}

fn lock(m: &Mutex<ServerConnection>) -> MutexGuard<'_, ServerConnection> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the TLS handshake did not finish in time",
    )
}

impl TlsStream {
    pub(crate) fn new(tcp: TcpStream, config: &Arc<ServerConfig>) -> io::Result<TlsStream> {
        let tls = ServerConnection::new(config.clone()).map_err(io::Error::other)?;
        Ok(TlsStream {
            tcp,
            tls: Mutex::new(tls),
        })
    }

    /// Writes out every TLS record rustls has queued.
    fn flush_records(&self, tls: &mut ServerConnection) -> io::Result<()> {
        while tls.wants_write() {
            if tls.write_tls(&mut &self.tcp)? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }

    /// Runs the handshake to its end (see the module comment for the limits).
    pub(crate) fn handshake(&self, limits: &Limits) -> Result<(), HandshakeError> {
        let mut first = [0u8; 1];
        let _ = self.tcp.set_read_timeout(Some(limits.idle_timeout));
        match self.tcp.peek(&mut first) {
            Ok(0) | Err(_) => return Err(HandshakeError::Silent),
            // A TLS record starts with its content type (22 for a handshake); a request line
            // with a method, which is letters.
            Ok(_) if first[0].is_ascii_alphabetic() => return Err(HandshakeError::PlainHttp),
            Ok(_) => {}
        }
        let deadline = Instant::now() + limits.head_deadline;
        let mut tls = lock(&self.tls);
        let failed = HandshakeError::Failed;
        while tls.is_handshaking() {
            self.flush_records(&mut tls).map_err(failed)?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left < Duration::from_millis(1) {
                return Err(failed(timed_out()));
            }
            self.tcp.set_read_timeout(Some(left)).map_err(failed)?;
            match tls.read_tls(&mut &self.tcp) {
                Ok(0) => return Err(failed(io::ErrorKind::UnexpectedEof.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(failed(timed_out())),
                Err(e) => return Err(failed(e)),
            }
            if let Err(e) = tls.process_new_packets() {
                // The alert that tells the client why.
                let _ = self.flush_records(&mut tls);
                return Err(failed(io::Error::new(io::ErrorKind::InvalidData, e)));
            }
        }
        // The last flight (and TLS 1.3 session tickets).
        self.flush_records(&mut tls).map_err(failed)
    }

    /// Reads decrypted bytes; the socket's read timeout bounds each wait for more records.
    /// A client that closes without `close_notify` reads as the end of the stream: the HTTP
    /// framing above notices a request or body cut short.
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let mut tls = lock(&self.tls);
        loop {
            match tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if tls.read_tls(&mut &self.tcp)? == 0 {
                // The reader now reports the end (clean or not) on the next turn.
                continue;
            }
            let processed = tls.process_new_packets();
            // Alerts, key updates: whatever rustls has to say goes out now.
            self.flush_records(&mut tls)?;
            if let Err(e) = processed {
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
        }
    }

    /// Encrypts some of `bufs` and sends the records before returning, so the socket's send
    /// timeout bounds a write exactly as on a plain connection.
    pub(crate) fn write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut tls = lock(&self.tls);
        let n = tls.writer().write_vectored(bufs)?;
        self.flush_records(&mut tls)?;
        Ok(n)
    }

    /// Says goodbye with `close_notify` when the connection is healthy and has nothing left
    /// unsent (a stalled or broken one gets no more writes), then shuts our side down.
    pub(crate) fn close_write(&self) {
        {
            let mut tls = lock(&self.tls);
            let healthy =
                !tls.is_handshaking() && !tls.wants_write() && tls.writer().flush().is_ok();
            if healthy {
                tls.send_close_notify();
                let _ = self.flush_records(&mut tls);
            }
        }
        let _ = self.tcp.shutdown(Shutdown::Write);
    }
}
