//! deskcam patch: one strict reading of a request head (RFC 9112), so that this server and any
//! proxy in front of it can never disagree on where a request ends. Upstream accepted
//! negative, listed and duplicate `Content-Length`, ignored unknown transfer codings, missing or
//! duplicate `Host`, NULs, bare CRs, extra request-line tokens and HTTP/0.9 or HTTP/2.0 (the
//! latter then hung the connection). Whatever is ambiguous is refused here with a status and a
//! one-line reason, and the connection is closed after the answer.

use std::io::{self, BufRead};
use std::net::Ipv6Addr;
use std::str::FromStr;

use ascii::AsciiString;

use crate::common::{HTTPVersion, Header, HeaderField, Method};
use crate::Limits;

/// A refused head: the status to answer and why, in one line. The connection is closed after.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub reason: String,
}

fn refuse<T>(status: u16, reason: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        status,
        reason: reason.into(),
    })
}

/// How the body of a request is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No `Content-Length` and no `Transfer-Encoding`: no body (RFC 9112 section 6.3, rule 7).
    None,
    Length(u64),
    Chunked,
}

/// A request head that passed every check.
#[derive(Debug)]
pub(crate) struct Head {
    pub method: Method,
    /// Always in origin form (`/path?query`) or `*`; an absolute-form target is reduced to it.
    pub target: String,
    pub version: HTTPVersion,
    pub headers: Vec<Header>,
    pub framing: Framing,
    /// The client allows another request on this connection.
    pub keep_alive: bool,
    /// `Expect: 100-continue` on HTTP/1.1: send `100 Continue` before reading the body.
    pub expect_continue: bool,
}

/// Why no head could be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// Answer this and close.
    Refused(Refusal),
    /// The peer went away, or the deadline passed (`TimedOut`).
    Io(io::Error),
}

impl From<Refusal> for HeadError {
    fn from(r: Refusal) -> HeadError {
        HeadError::Refused(r)
    }
}

/// Why a line could not be read.
#[derive(Debug)]
pub(crate) enum LineError {
    Io(io::Error),
    /// The line (with its CRLF) is longer than allowed.
    TooLong,
    /// A line ended with LF alone: only CRLF ends a line here (RFC 9112 section 2.2 allows
    /// either; accepting one rule only means no proxy can read the head differently).
    BareLf,
}

/// Reads one line ending in CRLF, at most `limit` bytes with the CRLF, into `line` without the
/// CRLF. EOF before the end of the line is an `UnexpectedEof` error.
pub(crate) fn read_line<R: BufRead>(
    r: &mut R,
    limit: usize,
    line: &mut Vec<u8>,
) -> Result<(), LineError> {
    line.clear();
    loop {
        let buf = r.fill_buf().map_err(LineError::Io)?;
        if buf.is_empty() {
            return Err(LineError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in the middle of a line",
            )));
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > limit {
            return Err(LineError::TooLong);
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if done {
            line.pop();
            if line.pop() != Some(b'\r') {
                return Err(LineError::BareLf);
            }
            return Ok(());
        }
    }
}

/// `tchar` of RFC 9110 section 5.6.2: what methods and header names are made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Empty lines tolerated before a request line (RFC 9112 section 2.2: at least one, for
/// clients that end a POST body with an extra CRLF). More are junk, refused at once.
const MAX_LEADING_EMPTY_LINES: usize = 1;

/// Reads and checks a whole request head. The caller has seen its first byte arrive and set
/// the deadline that bounds all of it.
pub(crate) fn read_head<R: BufRead>(r: &mut R, limits: &Limits) -> Result<Head, HeadError> {
    let mut line = Vec::with_capacity(256);
    let mut empty = 0;
    loop {
        read_line(r, limits.max_request_line, &mut line).map_err(|e| match e {
            LineError::Io(e) => HeadError::Io(e),
            LineError::TooLong => HeadError::Refused(Refusal {
                status: 414,
                reason: format!("request line longer than {} bytes", limits.max_request_line),
            }),
            LineError::BareLf => bare_lf(),
        })?;
        if !line.is_empty() {
            break;
        }
        empty += 1;
        if empty > MAX_LEADING_EMPTY_LINES {
            return Err(HeadError::Refused(Refusal {
                status: 400,
                reason: "empty lines instead of a request line".into(),
            }));
        }
    }
    let (method, target, version) = parse_request_line(&line)?;

    let mut fields = Vec::new();
    let mut budget = limits.max_header_bytes;
    loop {
        read_line(r, budget, &mut line).map_err(|e| match e {
            LineError::Io(e) => HeadError::Io(e),
            LineError::TooLong => HeadError::Refused(Refusal {
                status: 431,
                reason: format!(
                    "request headers larger than {} bytes",
                    limits.max_header_bytes
                ),
            }),
            LineError::BareLf => bare_lf(),
        })?;
        budget -= line.len() + 2;
        if line.is_empty() {
            break;
        }
        if fields.len() == limits.max_headers {
            return Err(HeadError::Refused(Refusal {
                status: 431,
                reason: format!("more than {} header lines", limits.max_headers),
            }));
        }
        fields.push(parse_field(&line)?);
    }
    Ok(check_head(method, target, version, fields)?)
}

fn bare_lf() -> HeadError {
    HeadError::Refused(Refusal {
        status: 400,
        reason: "a line ends with LF alone: lines must end with CRLF".into(),
    })
}

/// What the request target was, before it is reduced to origin form.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// `/path?query`
    Origin(String),
    /// `http://authority/path?query`: the authority replaces `Host` (RFC 9112 section 3.2.2).
    Absolute { authority: String, path: String },
    /// `*`, for `OPTIONS` only.
    Asterisk,
}

/// Parses `method SP request-target SP HTTP-version`, exactly one space apart.
pub(crate) fn parse_request_line(line: &[u8]) -> Result<(Method, Target, HTTPVersion), Refusal> {
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [method, target, version] = parts[..] else {
        return refuse(
            400,
            "malformed request line: expected METHOD TARGET HTTP/1.1, one space apart",
        );
    };
    let version = parse_version(version)?;
    if !is_token(method) {
        return refuse(400, "malformed request line: the method is not a token");
    }
    // A token is ASCII.
    let method =
        Method::from_str(std::str::from_utf8(method).unwrap_or("")).map_err(|_| Refusal {
            status: 400,
            reason: "malformed method".into(),
        })?;
    if method == Method::Connect {
        return refuse(501, "CONNECT is not supported: this server is not a proxy");
    }
    let target = parse_target(target)?;
    if target == Target::Asterisk && method != Method::Options {
        return refuse(400, "the target * is for OPTIONS only");
    }
    Ok((method, target, version))
}

/// `HTTP/1.0` and `HTTP/1.1` pass; any other well-formed version is answered 505, anything else
/// is a malformed request line.
fn parse_version(v: &[u8]) -> Result<HTTPVersion, Refusal> {
    match v {
        b"HTTP/1.1" => Ok(HTTPVersion(1, 1)),
        b"HTTP/1.0" => Ok(HTTPVersion(1, 0)),
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            refuse(505, "only HTTP/1.0 and HTTP/1.1 are supported")
        }
        _ => refuse(
            400,
            "malformed request line: the version is not HTTP/1.0 or HTTP/1.1",
        ),
    }
}

/// Checks a request target: visible ASCII, no fragment, well-formed percent escapes; origin,
/// absolute (http or https) or asterisk form.
pub(crate) fn parse_target(t: &[u8]) -> Result<Target, Refusal> {
    let mut i = 0;
    while i < t.len() {
        match t[i] {
            b'#' => return refuse(400, "a request target must not carry a #fragment"),
            b'%' => {
                let hex = t.get(i + 1..i + 3).unwrap_or(b"");
                if hex.len() != 2 || !hex.iter().all(u8::is_ascii_hexdigit) {
                    return refuse(400, "malformed percent-escape in the request target");
                }
                i += 3;
                continue;
            }
            0x21..=0x7e => {}
            _ => return refuse(400, "the request target holds a control or non-ASCII byte"),
        }
        i += 1;
    }
    // Only visible ASCII from here on.
    let text = String::from_utf8_lossy(t).into_owned();
    if text == "*" {
        return Ok(Target::Asterisk);
    }
    if text.starts_with('/') {
        return Ok(Target::Origin(text));
    }
    let lower = text.to_ascii_lowercase();
    let rest = if lower.starts_with("http://") {
        &text[7..]
    } else if lower.starts_with("https://") {
        &text[8..]
    } else {
        return refuse(
            400,
            "malformed request target: expected /path or an http(s):// URL",
        );
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') {
        return refuse(400, "a URL with user:password@ is not accepted as a target");
    }
    check_host(authority.as_bytes())?;
    let path = match path.as_bytes().first() {
        None => "/".to_string(),
        Some(b'?') => format!("/{path}"),
        _ => path.to_string(),
    };
    Ok(Target::Absolute {
        authority: authority.to_string(),
        path,
    })
}

/// Checks a `Host` value (or a URL's authority): `uri-host [":" port]` of RFC 3986 with a
/// non-empty host, no user information and a port of at most five digits up to 65535.
pub(crate) fn check_host(h: &[u8]) -> Result<(), Refusal> {
    let bad = |why: &str| refuse(400, format!("invalid Host: {why}"));
    let (host, port) = if h.first() == Some(&b'[') {
        let Some(close) = h.iter().position(|&b| b == b']') else {
            return bad("an IPv6 address without ]");
        };
        let ip = std::str::from_utf8(&h[1..close]).unwrap_or("");
        if Ipv6Addr::from_str(ip).is_err() {
            return bad("not an IPv6 address in [ ]");
        }
        match &h[close + 1..] {
            [] => (&h[..=close], None),
            [b':', port @ ..] => (&h[..=close], Some(port)),
            _ => return bad("junk after the IPv6 address"),
        }
    } else {
        match h.iter().position(|&b| b == b':') {
            Some(i) => (&h[..i], Some(&h[i + 1..])),
            None => (h, None),
        }
    };
    if host.is_empty() {
        return bad("no host name");
    }
    if host[0] != b'[' {
        let mut i = 0;
        while i < host.len() {
            let b = host[i];
            if b == b'%' {
                let hex = host.get(i + 1..i + 3).unwrap_or(b"");
                if hex.len() != 2 || !hex.iter().all(u8::is_ascii_hexdigit) {
                    return bad("malformed percent-escape");
                }
                i += 3;
                continue;
            }
            // unreserved / sub-delims (RFC 3986 reg-name; IPv4 addresses are a subset).
            if !(b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b)) {
                return bad("a character not allowed in a host name");
            }
            i += 1;
        }
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.iter().all(u8::is_ascii_digit)
            && std::str::from_utf8(port)
                .ok()
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|p| p <= 65535);
        if !valid {
            return bad("the port must be digits from 0 to 65535");
        }
    }
    Ok(())
}

/// Parses `name ":" OWS value OWS`: a token name right before the colon, a value of visible
/// ASCII, spaces and tabs.
pub(crate) fn parse_field(line: &[u8]) -> Result<Header, Refusal> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return refuse(
            400,
            "obsolete line folding (a header line starting with whitespace) is not accepted",
        );
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return refuse(400, "a header line without a colon");
    };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if matches!(name.last(), Some(b' ' | b'\t')) {
        return refuse(400, "whitespace between a header name and its colon");
    }
    if !is_token(name) {
        return refuse(400, "a header name that is not a token");
    }
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    let value = &value[start..end];
    for &b in value {
        match b {
            b'\t' | 0x20..=0x7e => {}
            0x80..=0xff => return refuse(400, "a header value that is not ASCII"),
            0 => return refuse(400, "a NUL byte in a header value"),
            b'\r' => return refuse(400, "a bare CR in a header value"),
            _ => return refuse(400, "a control character in a header value"),
        }
    }
    // Both are ASCII now.
    let field = HeaderField::from_bytes(name.to_vec()).map_err(|_| Refusal {
        status: 400,
        reason: "a header name that is not ASCII".into(),
    })?;
    let value = AsciiString::from_ascii(value.to_vec()).map_err(|_| Refusal {
        status: 400,
        reason: "a header value that is not ASCII".into(),
    })?;
    Ok(Header { field, value })
}

/// The comma-separated elements of every `name` line, trimmed, empty ones dropped (RFC 9110
/// section 5.6.1).
fn list<'a>(fields: &'a [Header], name: &'static str) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|h| h.field.equiv(name))
        .flat_map(|h| h.value.as_str().split(','))
        .map(|e| e.trim_matches([' ', '\t']))
        .filter(|e| !e.is_empty())
        .collect()
}

fn count(fields: &[Header], name: &'static str) -> usize {
    fields.iter().filter(|h| h.field.equiv(name)).count()
}

/// The message-level rules: Host, framing (RFC 9112 section 6), persistence, expectations.
pub(crate) fn check_head(
    method: Method,
    target: Target,
    version: HTTPVersion,
    mut headers: Vec<Header>,
) -> Result<Head, Refusal> {
    let http11 = version == HTTPVersion(1, 1);
    match count(&headers, "Host") {
        0 if http11 => return refuse(400, "an HTTP/1.1 request without a Host header"),
        0 => {}
        1 => {
            let host = headers
                .iter()
                .find(|h| h.field.equiv("Host"))
                .map(|h| h.value.as_bytes());
            check_host(host.unwrap_or(b""))?;
        }
        _ => return refuse(400, "more than one Host header"),
    }
    let target = match target {
        Target::Origin(t) => t,
        Target::Asterisk => "*".into(),
        Target::Absolute { authority, path } => {
            // The URL names the host; a Host header is ignored (RFC 9112 section 3.2.2).
            let value = AsciiString::from_ascii(authority.into_bytes()).map_err(|_| Refusal {
                status: 400,
                reason: "invalid Host".into(),
            })?;
            headers.retain(|h| !h.field.equiv("Host"));
            headers.push(Header {
                field: HeaderField::from_bytes(&b"Host"[..]).expect("static name"),
                value,
            });
            path
        }
    };
    let framing = framing(&headers, http11)?;
    let connection: Vec<String> = list(&headers, "Connection")
        .iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let keep_alive = !connection.iter().any(|t| t == "close")
        && (http11 || connection.iter().any(|t| t == "keep-alive"));
    // An HTTP/1.0 client cannot expect 100-continue (RFC 9110 section 10.1.1): ignored.
    let expect = list(&headers, "Expect");
    if http11
        && !expect
            .iter()
            .all(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        return refuse(417, "the only expectation understood is 100-continue");
    }
    let expect_continue = http11 && !expect.is_empty() && framing != Framing::None;
    Ok(Head {
        method,
        target,
        version,
        headers,
        framing,
        keep_alive,
        expect_continue,
    })
}

/// Where the body ends, from `Content-Length` and `Transfer-Encoding` (RFC 9112 section 6).
fn framing(headers: &[Header], http11: bool) -> Result<Framing, Refusal> {
    let lengths: Vec<&str> = headers
        .iter()
        .filter(|h| h.field.equiv("Content-Length"))
        .map(|h| h.value.as_str())
        .collect();
    let codings = count(headers, "Transfer-Encoding");
    if codings > 0 {
        if !http11 {
            return refuse(400, "Transfer-Encoding in an HTTP/1.0 request");
        }
        if !lengths.is_empty() {
            return refuse(400, "both Transfer-Encoding and Content-Length");
        }
        let list = list(headers, "Transfer-Encoding");
        let Some((last, before)) = list.split_last() else {
            return refuse(400, "an empty Transfer-Encoding");
        };
        if !last.eq_ignore_ascii_case("chunked") {
            return refuse(400, "Transfer-Encoding must end with chunked");
        }
        if before.iter().any(|c| c.eq_ignore_ascii_case("chunked")) {
            return refuse(400, "chunked applied more than once");
        }
        if let Some(other) = before.first() {
            let other: String = other.chars().take(40).collect();
            return refuse(501, format!("transfer coding {other:?} is not supported"));
        }
        return Ok(Framing::Chunked);
    }
    match lengths[..] {
        [] => Ok(Framing::None),
        [one] => {
            // 1*DIGIT, and small enough to count: 19 digits always fit in a u64.
            if one.is_empty() || one.len() > 19 || !one.bytes().all(|b| b.is_ascii_digit()) {
                return refuse(400, "Content-Length is not a whole number of bytes");
            }
            Ok(Framing::Length(one.parse().unwrap_or(u64::MAX)))
        }
        _ => refuse(400, "more than one Content-Length header"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn limits() -> Limits {
        Limits::default()
    }

    fn head(raw: &str) -> Result<Head, u16> {
        match read_head(&mut Cursor::new(raw.as_bytes()), &limits()) {
            Ok(h) => Ok(h),
            Err(HeadError::Refused(r)) => {
                assert!(!r.reason.contains('\n'));
                Err(r.status)
            }
            Err(HeadError::Io(e)) => panic!("{raw:?}: {e}"),
        }
    }

    #[test]
    fn plain_requests_pass() {
        let h = head("GET /state HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(
            (h.target.as_str(), h.framing, h.keep_alive),
            ("/state", Framing::None, true)
        );
        let h = head("GET / HTTP/1.0\r\n\r\n").unwrap();
        assert!(!h.keep_alive);
        let h = head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(h.keep_alive);
        let h = head("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n").unwrap();
        assert!(!h.keep_alive);
        let h = head("\r\nPOST /input HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 007\r\n\r\n")
            .unwrap();
        assert_eq!(h.framing, Framing::Length(7));
        let h = head("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nExpect: 100-Continue\r\n\r\n").unwrap();
        assert_eq!((h.framing, h.expect_continue), (Framing::Chunked, true));
        let h = head("GET http://127.0.0.1:8080?x=1 HTTP/1.1\r\nHost: other\r\n\r\n").unwrap();
        assert_eq!(h.target, "/?x=1");
        let host: Vec<_> = h.headers.iter().filter(|h| h.field.equiv("host")).collect();
        assert_eq!(host.len(), 1);
        assert_eq!(host[0].value.as_str(), "127.0.0.1:8080");
        assert_eq!(
            head("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap()
                .target,
            "*"
        );
        // OWS around values, empty list elements.
        let h = head("GET / HTTP/1.1\r\nHost:x\r\nX-A: \t a b \t\r\nConnection: ,close,\r\n\r\n")
            .unwrap();
        assert!(h.headers.iter().any(|h| h.value.as_str() == "a b"));
        assert!(!h.keep_alive);
    }

    #[test]
    fn request_line_rules() {
        for (raw, status) in [
            (" GET / HTTP/1.1", 400),
            ("GET  / HTTP/1.1", 400),
            ("GET / HTTP/1.1 ", 400),
            ("GET / HTTP/1.1 extra", 400),
            ("GET /", 400),
            ("GET\t/ HTTP/1.1", 400),
            ("GET / http/1.1", 400),
            ("GET / HTTP/1.10", 400),
            ("GET / HTTP/11", 400),
            ("GET / HTTP/0.9", 505),
            ("GET / HTTP/2.0", 505),
            ("PRI * HTTP/2.0", 505),
            ("GET / HTTP/1.2", 505),
            ("G(T / HTTP/1.1", 400),
            ("GET /a\0b HTTP/1.1", 400),
            ("GET /a\rb HTTP/1.1", 400),
            ("GET /\u{e9} HTTP/1.1", 400),
            ("GET /a#b HTTP/1.1", 400),
            ("GET /%zz HTTP/1.1", 400),
            ("GET /%4 HTTP/1.1", 400),
            ("GET * HTTP/1.1", 400),
            ("GET state HTTP/1.1", 400),
            ("GET ftp://x/ HTTP/1.1", 400),
            ("GET http://u:p@127.0.0.1/ HTTP/1.1", 400),
            ("GET http://127.0.0.1:x/ HTTP/1.1", 400),
            ("CONNECT 127.0.0.1:80 HTTP/1.1", 501),
        ] {
            assert_eq!(
                head(&format!("{raw}\r\nHost: x\r\n\r\n")).err(),
                Some(status),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn header_rules() {
        for (fields, status) in [
            ("", 400),                                 // 1.1 without Host
            ("Host: a\r\nHost: a", 400),               // two Hosts
            ("Host: ", 400),                           // empty Host
            ("Host: 127.0.0.1:evil.example", 400),     // name in the port
            ("Host: 127.0.0.1:", 400),                 // empty port
            ("Host: 127.0.0.1:99999", 400),            // port out of range
            ("Host: user@127.0.0.1", 400),             // userinfo
            ("Host: [::1", 400),                       // unclosed IPv6
            ("Host: [zz]", 400),                       // not IPv6
            ("Host: a b", 400),                        // space in the name
            ("Host: x\r\nX-A : 1", 400),               // space before the colon
            ("Host: x\r\n X-A: 1", 400),               // obs-fold
            ("Host: x\r\nX-A: 1\r\n\tcontinued", 400), // obs-fold
            ("Host: x\r\nX-A", 400),                   // no colon
            ("Host: x\r\n: 1", 400),                   // empty name
            ("Host: x\r\nX\0A: 1", 400),               // NUL in the name
            ("Host: x\r\nX-A: a\0b", 400),             // NUL in the value
            ("Host: x\r\nX-A: a\rb", 400),             // bare CR
            ("Host: x\r\nX-A: a\x1bb", 400),           // other CTL
            ("Host: x\r\nX-A: a\x7fb", 400),           // DEL
            ("Host: x\r\nX-A: \u{e9}", 400),           // obs-text
            ("Host: x\r\nContent-Length: -1", 400),
            ("Host: x\r\nContent-Length: +5", 400),
            ("Host: x\r\nContent-Length: 5, 5", 400),
            ("Host: x\r\nContent-Length: 5\r\nContent-Length: 5", 400),
            ("Host: x\r\nContent-Length: 5\r\nContent-Length: 6", 400),
            ("Host: x\r\nContent-Length: 0x10", 400),
            ("Host: x\r\nContent-Length: 12345678901234567890", 400),
            ("Host: x\r\nContent-Length: ", 400),
            ("Host: x\r\nContent-Length: 1 2", 400),
            (
                "Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3",
                400,
            ),
            ("Host: x\r\nTransfer-Encoding: gzip", 400),
            ("Host: x\r\nTransfer-Encoding: identity", 400),
            ("Host: x\r\nTransfer-Encoding: chunked, gzip", 400),
            (
                "Host: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
                400,
            ),
            ("Host: x\r\nTransfer-Encoding: gzip, chunked", 501),
            ("Host: x\r\nTransfer-Encoding: chunked;q=1", 400),
            ("Host: x\r\nTransfer-Encoding: ", 400),
            ("Host: x\r\nExpect: something", 417),
        ] {
            let raw = format!("POST / HTTP/1.1\r\n{fields}\r\n\r\n");
            assert_eq!(head(&raw).err(), Some(status), "{fields:?}");
        }
        assert_eq!(
            head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").err(),
            Some(400)
        );
        // HTTP/1.0 ignores Expect.
        assert!(
            !head("POST / HTTP/1.0\r\nExpect: x\r\nContent-Length: 1\r\n\r\n")
                .unwrap()
                .expect_continue
        );
    }

    #[test]
    fn lines_end_with_crlf_and_stay_within_limits() {
        assert_eq!(head("GET / HTTP/1.1\nHost: x\r\n\r\n").err(), Some(400));
        assert_eq!(head("GET / HTTP/1.1\r\nHost: x\n\r\n").err(), Some(400));
        assert_eq!(head("GET / HTTP/1.1\r\nHost: x\r\n\n").err(), Some(400));
        assert_eq!(
            head("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").err(),
            Some(400)
        );
        let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
        assert_eq!(head(&long).err(), Some(414));
        let big = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
            "a".repeat(17000)
        );
        assert_eq!(head(&big).err(), Some(431));
        let many: String = (0..101).map(|i| format!("X-{i}: 1\r\n")).collect();
        assert_eq!(
            head(&format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n")).err(),
            Some(431)
        );
        // EOF in the middle is an I/O error, not a refusal.
        assert!(matches!(
            read_head(&mut Cursor::new(&b"GET / HTTP/1.1\r\nHo"[..]), &limits()),
            Err(HeadError::Io(_))
        ));
    }
}
