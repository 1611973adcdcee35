//! The head parser's rules, one refusal per line of RFC 9112 it enforces.

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
        // Edition 2018: a lone literal is not a format string, so the arguments are explicit.
        Err(HeadError::Io(e)) => panic!("{:?}: {}", raw, e),
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
    let h =
        head("\r\nPOST /input HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 007\r\n\r\n").unwrap();
    assert_eq!(h.framing, Framing::Length(7));
    let h = head(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nExpect: 100-Continue\r\n\r\n",
    )
    .unwrap();
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
    let h =
        head("GET / HTTP/1.1\r\nHost:x\r\nX-A: \t a b \t\r\nConnection: ,close,\r\n\r\n").unwrap();
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
