//! deskcam patch: reading a connection under a deadline, and request bodies framed exactly as
//! the head declared them.
//!
//! Upstream restarted its read timeout on every byte (a header sent at one byte every few
//! seconds held a thread for ever), read a `Content-Length` body short at EOF without an error,
//! decoded chunked bodies leniently (a body declaring 1 MiB that ended after 22 bytes was
//! handed to the handler as complete), and dropped the signal that an unread body was too
//! large to skip, so the body was then parsed as the next request.

use std::io::{self, BufReader, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::connection::Connection;
use crate::head::{parse_field, read_line, Framing, LineError};
use crate::pending::Ticket;

/// Reads a connection with a read timeout computed before every read: the idle timeout while
/// no request has started, else what is left until the request's deadline.
pub(crate) struct SocketReader {
    conn: Arc<Connection>,
    pub deadline: Option<Instant>,
    idle: Duration,
}

impl SocketReader {
    pub fn new(conn: Arc<Connection>, idle: Duration) -> SocketReader {
        SocketReader {
            conn,
            deadline: None,
            idle,
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "request not received in time")
}

impl Read for SocketReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let wait = match self.deadline {
            None => self.idle,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left < Duration::from_millis(1) {
                    return Err(timed_out());
                }
                left
            }
        };
        self.conn.set_read_timeout(Some(wait))?;
        match (&*self.conn).read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(timed_out()),
            other => other,
        }
    }
}

/// The buffered input of a connection; it travels with each request and comes back.
pub(crate) type Input = BufReader<SocketReader>;

/// Longest chunk-size line (with extensions) accepted.
const MAX_CHUNK_LINE: usize = 1024;
/// Largest total size of a chunked body's trailer section.
const MAX_TRAILERS: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many bytes are left.
    Length(u64),
    /// Before a chunk-size line.
    ChunkSize,
    /// Inside a chunk: this many data bytes, then CRLF.
    ChunkData(u64),
    Done,
    /// Framing broke (bad chunk, EOF, deadline): the connection cannot be reused.
    Broken,
}

/// A request body: exactly the bytes the head framed, then EOF; anything malformed is an
/// `InvalidData` error and a short body an `UnexpectedEof` one.
pub struct Body {
    input: Option<Input>,
    state: State,
    /// `100 Continue` is owed before the first read.
    continue_owed: bool,
    conn: Arc<Connection>,
    /// The connection's place among those not done sending their request, until the body ends.
    waiting: Option<Ticket>,
}

fn malformed(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed chunked body: {why}"),
    )
}

impl Body {
    pub(crate) fn new(
        input: Input,
        framing: Framing,
        expect_continue: bool,
        conn: Arc<Connection>,
        waiting: Option<Ticket>,
    ) -> Body {
        let state = match framing {
            Framing::None | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
        };
        Body {
            input: Some(input),
            continue_owed: expect_continue && state != State::Done,
            state,
            conn,
            waiting,
        }
    }

    /// Skips what is left of the body, at most `max` bytes of it, and says whether the body
    /// ended so the connection can carry another request. A body the client was told to hold
    /// back (no `100 Continue` sent) is not waited for.
    pub(crate) fn finish(&mut self, max: usize) -> bool {
        if self.continue_owed {
            return false;
        }
        if let State::Length(n) = self.state {
            if n > max as u64 {
                return false;
            }
        }
        let mut skipped = 0;
        let mut buf = [0u8; 8192];
        while self.state != State::Done {
            match self.read(&mut buf) {
                Ok(0) => break,
                Ok(n) if skipped + n <= max => skipped += n,
                _ => return false,
            }
        }
        self.state == State::Done
    }

    /// The connection's input, once the body has ended.
    pub(crate) fn take_input(&mut self) -> Option<Input> {
        if self.state == State::Done {
            self.input.take()
        } else {
            None
        }
    }

    fn read_framed(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(input) = self.input.as_mut() else {
            return Ok(0);
        };
        loop {
            match self.state {
                State::Done | State::Broken => return Ok(0),
                State::Length(left) => {
                    let want = buf.len().min(left.min(usize::MAX as u64) as usize);
                    let n = input.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the body ended before its Content-Length",
                        ));
                    }
                    self.state = if left == n as u64 {
                        State::Done
                    } else {
                        State::Length(left - n as u64)
                    };
                    return Ok(n);
                }
                State::ChunkSize => {
                    let size = chunk_size(input)?;
                    if size == 0 {
                        trailers(input)?;
                        self.state = State::Done;
                        return Ok(0);
                    }
                    self.state = State::ChunkData(size);
                }
                State::ChunkData(left) => {
                    let want = buf.len().min(left.min(usize::MAX as u64) as usize);
                    let n = input.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the chunked body ended in the middle of a chunk",
                        ));
                    }
                    if left == n as u64 {
                        let mut crlf = [0u8; 2];
                        input.read_exact(&mut crlf)?;
                        if &crlf != b"\r\n" {
                            return Err(malformed("a chunk not followed by CRLF"));
                        }
                        self.state = State::ChunkSize;
                    } else {
                        self.state = State::ChunkData(left - n as u64);
                    }
                    return Ok(n);
                }
            }
        }
    }
}

fn line_error(e: LineError) -> io::Error {
    match e {
        LineError::Io(e) => e,
        LineError::TooLong => malformed("a chunk-size or trailer line too long"),
        LineError::BareLf => malformed("a line ending with LF alone"),
    }
}

/// `chunk-size [ chunk-ext ] CRLF`: hexadecimal digits, then optionally `;` extensions of
/// visible ASCII, spaces and tabs (RFC 9112 section 7.1.1; extensions are ignored).
fn chunk_size(input: &mut Input) -> io::Result<u64> {
    let mut line = Vec::new();
    read_line(input, MAX_CHUNK_LINE, &mut line).map_err(line_error)?;
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 15 {
        return Err(malformed("a chunk size that is not 1 to 15 hex digits"));
    }
    let rest = &line[digits..];
    let ext = rest
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .map_or(&rest[rest.len()..], |i| &rest[i..]);
    if !ext.is_empty()
        && (ext[0] != b';'
            || !ext
                .iter()
                .all(|&b| b == b'\t' || (0x20..=0x7e).contains(&b)))
    {
        return Err(malformed("junk after the chunk size"));
    }
    let hex = std::str::from_utf8(&line[..digits]).unwrap_or("0");
    u64::from_str_radix(hex, 16).map_err(|_| malformed("a chunk size that does not fit"))
}

/// The trailer section after the last chunk: header lines, checked like headers and ignored.
fn trailers(input: &mut Input) -> io::Result<()> {
    let mut budget = MAX_TRAILERS;
    let mut line = Vec::new();
    loop {
        read_line(input, budget, &mut line).map_err(line_error)?;
        if line.is_empty() {
            return Ok(());
        }
        budget -= line.len() + 2;
        parse_field(&line).map_err(|r| malformed(&r.reason))?;
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.continue_owed {
            self.continue_owed = false;
            (&*self.conn).write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let result = self.read_framed(buf);
        if result.is_err() {
            self.state = State::Broken;
        }
        if matches!(self.state, State::Done | State::Broken) {
            self.waiting = None;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    /// A body over a real socket pair whose client side has sent `wire` and closed.
    fn body(framing: Framing, wire: &[u8]) -> Body {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(wire).unwrap();
        drop(client);
        let conn = Arc::new(Connection::from(server));
        let input = BufReader::new(SocketReader::new(conn.clone(), Duration::from_secs(5)));
        let mut b = Body::new(input, framing, false, conn, None);
        b.input.as_mut().unwrap().get_mut().deadline =
            Some(Instant::now() + Duration::from_secs(5));
        b
    }

    fn read_all(framing: Framing, wire: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        body(framing, wire).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn exact_lengths_and_chunks() {
        assert_eq!(
            read_all(Framing::Length(5), b"hello world").unwrap(),
            b"hello"
        );
        assert_eq!(read_all(Framing::None, b"hello").unwrap(), b"");
        let wire = b"5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nGET";
        assert_eq!(read_all(Framing::Chunked, wire).unwrap(), b"hello world");
        let mut b = body(Framing::Chunked, wire);
        assert!(b.finish(64));
        let mut rest = String::new();
        b.take_input().unwrap().read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "GET", "the next request starts right after the body");
    }

    #[test]
    fn short_and_malformed_bodies_are_errors() {
        let e = read_all(Framing::Length(10), b"short").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        for wire in [
            &b"100000\r\n0123456789012345678901"[..], // declares 1 MiB, ends after 22 bytes
            b"5\r\nhello",                            // no CRLF after the data, then EOF
            b"5\r\nhelloXX0\r\n\r\n",                 // junk instead of CRLF
            b"-5\r\nhello\r\n0\r\n\r\n",
            b" 5\r\nhello\r\n0\r\n\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b"5 junk\r\nhello\r\n0\r\n\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"1000000000000000\r\n", // 16 hex digits
            b"5\r\nhello\r\n0\r\nBad Trailer: 1\r\n\r\n",
            b"5\r\nhello\r\n0\r\n", // no end of the trailer section
            b"",
        ] {
            assert!(
                read_all(Framing::Chunked, wire).is_err(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    #[test]
    fn finish_skips_small_rests_only() {
        let mut b = body(Framing::Length(10), b"0123456789");
        assert!(b.finish(64));
        let mut b = body(Framing::Length(100), &[b'x'; 100]);
        assert!(!b.finish(64), "over the limit: not skipped");
        assert!(b.take_input().is_none());
        let wire: Vec<u8> = [&b"64\r\n"[..], &[b'x'; 100], b"\r\n0\r\n\r\n"].concat();
        assert!(!body(Framing::Chunked, &wire).finish(64));
        assert!(body(Framing::Chunked, &wire).finish(100));
        assert!(
            !body(Framing::Length(10), b"01234").finish(64),
            "EOF before the end"
        );
    }
}
