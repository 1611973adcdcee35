//! HTTP as deskcam's clients speak it, over raw TCP so the tests control every byte: one-shot
//! requests, a keep-alive connection for many small form posts, a multipart stream read part
//! by part, a reader that never reads, and the `/state` document.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

/// How long any read may block before the test fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(15);

/// A plain HTTP response.
pub struct Reply {
    /// 0 when the server closed the connection without a complete head.
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.head, name)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into()
    }
}

/// The value of header `name` (any case) in a response or part head.
pub fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// The status code of a status line ("HTTP/1.1 204 No Content"), 0 if there is none.
fn status_of(line: &str) -> u16 {
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// A connection to `addr` whose reads time out rather than hang.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(READ_TIMEOUT))
        .expect("read timeout");
    s
}

/// Sends `raw` (a whole request) and reads the reply until the server closes or the declared
/// length is read.
pub fn raw_request(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut s = connect(addr);
    s.write_all(raw).expect("send");
    read_reply(&mut s)
}

/// Reads one reply: the head, then the body up to Content-Length or the end of the connection.
pub fn read_reply(s: &mut impl Read) -> Reply {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => {
                return Reply {
                    status: 0,
                    head: String::from_utf8_lossy(&buf).into(),
                    body: Vec::new(),
                };
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut body = buf[head_end + 4..].to_vec();
    let len: Option<usize> = header(&head, "Content-Length").and_then(|v| v.parse().ok());
    while len.is_none_or(|l| body.len() < l) {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Reply {
        status: status_of(&head),
        head,
        body,
    }
}

/// `GET path` with `headers` (each ending in CRLF), connection closed after the reply.
pub fn get_with(addr: SocketAddr, path: &str, headers: &str) -> Reply {
    raw_request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n")
            .as_bytes(),
    )
}

pub fn get(addr: SocketAddr, path: &str) -> Reply {
    get_with(addr, path, "")
}

/// A form POST with `headers` (each ending in CRLF).
pub fn post(addr: SocketAddr, path: &str, body: &str, headers: &str) -> Reply {
    raw_request(addr, form_post(addr, path, body, headers, true).as_bytes())
}

fn form_post(addr: SocketAddr, path: &str, body: &str, headers: &str, close: bool) -> String {
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{connection}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
}

/// The `Authorization` header line (ending in CRLF) for HTTP Basic `credentials`, normally
/// "user:password" (anything else too, to test what the server refuses).
pub fn basic_auth(credentials: &str) -> String {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(credentials);
    format!("Authorization: Basic {token}\r\n")
}

/// Writes `byte` in 64 KiB chunks to a clone of `s`, at most `max_chunks` of them, in a
/// thread; it yields true if the server stopped taking them (closed the connection) first.
pub fn send_until_refused(s: &TcpStream, byte: u8, max_chunks: usize) -> thread::JoinHandle<bool> {
    let mut w = s.try_clone().expect("clone the socket");
    thread::spawn(move || {
        let chunk = vec![byte; 64 * 1024];
        (0..max_chunks).any(|_| w.write_all(&chunk).is_err())
    })
}

/// Sends `GET path` and returns the connection unread: for readers that take the bytes as
/// they come.
pub fn request_stream(addr: SocketAddr, path: &str) -> TcpStream {
    let s = connect(addr);
    (&s).write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .expect("send");
    s
}

/// A client that asks for `path` and never reads: its 4 KiB receive buffer fills at once, so
/// the server's writes to it block.
pub fn stalled_client(addr: SocketAddr, path: &str) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    sock.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    sock.connect(&addr.into()).expect("connect");
    let mut s: TcpStream = sock.into();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: stalled\r\n\r\n").as_bytes())
        .expect("send");
    s
}

/// One keep-alive HTTP/1.1 connection for many small requests (as the page's control events
/// travel): each call sends one request and reads exactly its reply.
pub struct KeepAlive {
    addr: SocketAddr,
    stream: BufReader<TcpStream>,
}

impl KeepAlive {
    pub fn connect(addr: SocketAddr) -> KeepAlive {
        let s = connect(addr);
        s.set_nodelay(true).expect("TCP_NODELAY");
        KeepAlive {
            addr,
            stream: BufReader::new(s),
        }
    }

    /// Sends a form POST and returns the status and body.
    pub fn post(&mut self, path: &str, body: &str) -> (u16, String) {
        self.send_post(path, body);
        self.read_reply()
    }

    /// Sends a form POST without waiting for the reply.
    pub fn send_post(&mut self, path: &str, body: &str) {
        let request = form_post(self.addr, path, body, "", false);
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .expect("send");
    }

    /// Reads the reply to the oldest request sent: status and body.
    pub fn read_reply(&mut self) -> (u16, String) {
        let head = read_head(&mut self.stream).expect("a reply before the connection closed");
        let len = header(&head, "Content-Length").map_or(0, |v| v.parse().unwrap_or(0));
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).expect("body");
        (status_of(&head), String::from_utf8_lossy(&body).into())
    }
}

/// Lines up to the blank line that ends a head, without it; `None` if the stream ends first.
fn read_head(r: &mut impl BufRead) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            return Some(head);
        }
        head.push_str(&line);
    }
}

/// Sends `raw` (a whole request) over an HTTPS connection to `addr` and reads the reply.
pub fn https_request(
    addr: SocketAddr,
    config: &std::sync::Arc<rustls::ClientConfig>,
    raw: &[u8],
) -> Reply {
    let mut s = crate::tls::connect(addr, config);
    s.write_all(raw).expect("send");
    read_reply(&mut s)
}

/// `GET path` over HTTPS, connection closed after the reply.
pub fn https_get(
    addr: SocketAddr,
    config: &std::sync::Arc<rustls::ClientConfig>,
    path: &str,
) -> Reply {
    https_request(
        addr,
        config,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// Reads a multipart MJPEG stream part by part, over plain TCP or TLS.
pub struct MjpegReader {
    pub stream: BufReader<Box<dyn Read + Send>>,
    /// The response head (empty if the server closed at once).
    pub head: String,
}

impl MjpegReader {
    /// Sends `request` (a whole request) and reads the response head.
    pub fn open(addr: SocketAddr, request: &str) -> MjpegReader {
        Self::over(connect(addr), request)
    }

    /// Sends `request` on a connection already open (plain or TLS) and reads the head.
    pub fn over(mut conn: impl Read + Write + Send + 'static, request: &str) -> MjpegReader {
        conn.write_all(request.as_bytes()).expect("send");
        let boxed: Box<dyn Read + Send> = Box::new(conn);
        let mut stream = BufReader::with_capacity(64 * 1024, boxed);
        let head = read_head(&mut stream).unwrap_or_default();
        MjpegReader { stream, head }
    }

    /// `GET path` over HTTPS.
    pub fn https(
        addr: SocketAddr,
        config: &std::sync::Arc<rustls::ClientConfig>,
        path: &str,
    ) -> MjpegReader {
        Self::over(
            crate::tls::connect(addr, config),
            &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        )
    }

    pub fn get(addr: SocketAddr, path: &str) -> MjpegReader {
        Self::open(
            addr,
            &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        )
    }

    /// The response's status code.
    pub fn status(&self) -> u16 {
        status_of(&self.head)
    }

    /// The next part's headers and body, or `None` when the stream ends.
    pub fn next_part(&mut self) -> Option<(String, Vec<u8>)> {
        let mut body = Vec::new();
        let headers = self.next_part_into(&mut body)?;
        Some((headers, body))
    }

    /// The next part's headers, its body into `body` (reusing its memory, for readers that
    /// only count parts); `None` when the stream ends.
    pub fn next_part_into(&mut self, body: &mut Vec<u8>) -> Option<String> {
        let headers = loop {
            let head = read_head(&mut self.stream)?;
            // Skip the boundary line (and the blank line before the first part's headers).
            let headers: String = head
                .lines()
                .filter(|l| !l.starts_with("--") && !l.is_empty())
                .map(|l| format!("{l}\r\n"))
                .collect();
            if !headers.is_empty() {
                break headers;
            }
        };
        let len: usize = header(&headers, "Content-Length")?.parse().ok()?;
        body.resize(len, 0);
        self.stream.read_exact(body).ok()?;
        Some(headers)
    }
}

/// When a frame was taken, from the `X-Timestamp` header of its part or snapshot (seconds
/// since the epoch).
pub fn timestamp(head: &str) -> Option<f64> {
    header(head, "X-Timestamp")?.parse().ok()
}

/// Asserts that a snapshot reply is a frame taken at or after `asked` (from [`epoch_seconds`]
/// before the request): not an older frame kept from before.
pub fn assert_taken_after(reply: &Reply, asked: f64) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let taken = timestamp(&reply.head).expect("X-Timestamp");
    // X-Timestamp has millisecond resolution.
    assert!(
        taken >= asked - 0.001,
        "the frame from {taken} predates the request at {asked}"
    );
}

/// The time now on the `X-Timestamp` scale.
pub fn epoch_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// deskcam's `/state` document, with typed lookups of its top-level fields.
pub struct State(pub String);

impl State {
    /// `GET /state` with `headers`; panics unless it answers 200.
    pub fn fetch_with(addr: SocketAddr, headers: &str) -> State {
        let r = get_with(addr, "/state", headers);
        assert_eq!(r.status, 200, "/state: {}", r.text());
        State(r.text())
    }

    pub fn fetch(addr: SocketAddr) -> State {
        Self::fetch_with(addr, "")
    }

    /// The raw text of top-level field `key` (a number, `true`, `"text"`, `[...]`).
    pub fn raw(&self, key: &str) -> Option<&str> {
        top_level_field(&self.0, key)
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.raw(key)?.parse().ok()
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        self.raw(key)?.parse().ok()
    }

    /// A string field, without its quotes (deskcam's values need no unescaping).
    pub fn str(&self, key: &str) -> Option<&str> {
        self.raw(key)?.strip_prefix('"')?.strip_suffix('"')
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The value of `key` in the outermost object of `json`, skipping nested objects, arrays and
/// the insides of strings (where a key of the same name may appear).
fn top_level_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let want = format!("\"{key}\"");
    let bytes = json.as_bytes();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut value_start = None;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                if depth == 1 && value_start.is_none() && json[i..].starts_with(&want) {
                    let after = json[i + want.len()..].trim_start();
                    if let Some(v) = after.strip_prefix(':') {
                        value_start = Some(json.len() - v.trim_start().len());
                    }
                }
                in_string = true;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' | b',' if depth == 1 && value_start.is_some_and(|s| s <= i) => {
                return value_start.map(|s| json[s..i].trim_end());
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_fields_only() {
        let json = r#"{"source":"pattern","frames":31,"streams":[{"id":1,"frames":16}],"name":"a,\"frames\":9}","online":true,"area":"640x480+0+0"}"#;
        let s = State(json.to_string());
        assert_eq!(s.int("frames"), Some(31));
        assert_eq!(s.bool("online"), Some(true));
        assert_eq!(s.str("area"), Some("640x480+0+0"));
        assert_eq!(s.raw("streams"), Some(r#"[{"id":1,"frames":16}]"#));
        assert_eq!(s.int("id"), None, "nested keys are not top level");
        assert_eq!(s.int("missing"), None);
    }

    #[test]
    fn headers_any_case() {
        let head = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nX-Timestamp: 12.5\r\n";
        assert_eq!(header(head, "Content-Length").as_deref(), Some("5"));
        assert_eq!(timestamp(head), Some(12.5));
        assert_eq!(status_of(head), 200);
    }
}
