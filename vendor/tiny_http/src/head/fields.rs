//! deskcam patch: the rules for header fields, the `Host` value, and what the fields say
//! about the message as a whole: where its body ends (RFC 9112 section 6), whether the
//! connection persists, what the client expects.

use std::net::Ipv6Addr;
use std::str::FromStr;

use ascii::AsciiString;

use super::{is_token, refuse, Framing, Head, Refusal, Target};
use crate::common::{HTTPVersion, Header, HeaderField, Method};

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
