//! What is not TLS on the HTTPS port: a plain-HTTP request gets a 400 saying to use https://,
//! garbage gets rustls's alert and a closed connection, and a ClientHello cut short (a stalled
//! handshake) is dropped at the request-head deadline and capped like slow heads. Afterwards
//! threads and descriptors are back at rest (as tests/resources.rs checks for plain HTTP) and
//! HTTPS still works.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use testkit::http::{connect, https_get, read_reply};
use testkit::tls::{TestCa, client_hello};

use super::start_tls;
use crate::resources::{assert_released_by, baseline_by};

/// How long the server may take to close a connection it has refused.
const CLOSE: Duration = Duration::from_secs(3);
/// The request-head deadline (10 s) plus slack for a busy machine.
const DEADLINE: Duration = Duration::from_secs(14);

/// Reads until the server closes (EOF or reset) or `limit` passes; what arrived, and whether
/// it closed.
fn read_to_close(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (got, false);
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

/// Plain HTTP, garbage and a truncated ClientHello on the TLS port, then the server's threads
/// and descriptors back at rest: one server, the cases in a row, so the last check sees all.
#[test]
fn not_tls_on_the_tls_port_is_answered_or_closed_and_frees_everything() {
    let ca = TestCa::new("wire");
    let d = start_tls(&ca.leaf("server"), &["--size", "160x120", "--fps", "5"]);
    let client = ca.client();
    let fetch = |path: &str| https_get(d.addr, &client, path);
    let base = baseline_by(&d, &fetch);

    // A browser pointed at http:// on the HTTPS port: a plain-text 400 it can show.
    for request in [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /input HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab=c",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ] {
        let mut s = connect(d.addr);
        s.write_all(request.as_bytes()).unwrap();
        let r = read_reply(&mut s);
        assert_eq!(r.status, 400, "{request:?}: {}", r.head);
        assert!(r.text().contains("https://"), "{}", r.text());
        assert!(read_to_close(&mut s, CLOSE).1, "{request:?}: not closed");
    }

    // Garbage: a TLS alert at most (content type 21), then the end.
    let hello = client_hello(d.addr, &client);
    let mut bad_record = hello.clone();
    bad_record[1] = 0x07; // a protocol version no TLS has
    for junk in [
        vec![0u8; 64],
        (0..=255u8).rev().collect::<Vec<_>>(),
        b"\x16\x03\x01\x00\x05hello".to_vec(),
        bad_record,
    ] {
        let mut s = connect(d.addr);
        let _ = s.write_all(&junk);
        let (got, closed) = read_to_close(&mut s, CLOSE);
        assert!(closed, "{:?}: still open", &junk[..8]);
        assert!(
            got.is_empty() || got[0] == 21,
            "{:?}: answered {got:?}",
            &junk[..8]
        );
    }

    // Stalled handshakes: half a ClientHello, then nothing, from 40 clients at once. Each is
    // cut at the deadline (or dropped as the longest waiting), never held for good, and HTTPS
    // keeps answering meanwhile.
    let started = Instant::now();
    let stalled: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut s = connect(d.addr);
            s.write_all(&hello[..hello.len() / 2]).unwrap();
            s
        })
        .collect();
    assert_eq!(fetch("/state").status, 200, "served while handshakes stall");
    let closers: Vec<_> = stalled
        .into_iter()
        .map(|mut s| thread::spawn(move || read_to_close(&mut s, DEADLINE).1))
        .collect();
    for c in closers {
        assert!(
            c.join().unwrap(),
            "a stalled handshake outlived the deadline"
        );
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(8),
        "cut after {took:?}, before the deadline"
    );

    // Clients that connect and close at once leave nothing behind.
    for _ in 0..20 {
        drop(TcpStream::connect(d.addr).unwrap());
    }
    assert_released_by(
        &d,
        base,
        "after plain HTTP, garbage and stalled handshakes",
        &fetch,
    );
    assert_eq!(fetch("/snapshot").status, 200);
}
