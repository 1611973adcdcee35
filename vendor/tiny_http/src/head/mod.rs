//! deskcam patch: one strict reading of a request head (RFC 9112), so that this server and any
//! proxy in front of it can never disagree on where a request ends. Upstream accepted
//! negative, listed and duplicate `Content-Length`, ignored unknown transfer codings, missing or
//! duplicate `Host`, NULs, bare CRs, extra request-line tokens and HTTP/0.9 or HTTP/2.0 (the
//! latter then hung the connection). Whatever is ambiguous is refused here with a status and a
//! one-line reason, and the connection is closed after the answer.

use std::io::{self, BufRead};
use std::str::FromStr;

use crate::common::{HTTPVersion, Header, Method};
use crate::Limits;

mod fields;

pub(crate) use fields::parse_field;
use fields::{check_head, check_host};

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

#[cfg(test)]
mod tests;
