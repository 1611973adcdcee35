//! Hostile clients and the server's resources: slow headers, a thousand idle connections,
//! half-open streams, reset churn at 1 fps and the descriptor limit. Each test takes the
//! server's threads (/proc/PID/task) and descriptors (/proc/PID/fd) at rest, attacks, and
//! checks they come back to that baseline within 2 s of the clients leaving, and that the
//! stream slots (`/state` `clients`) do too.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use testkit::http::get;
use testkit::procfs;
use testkit::server::Deskcam;
use testkit::wait::wait_until;

/// How soon after the clients leave everything must be back.
const RELEASE: Duration = Duration::from_secs(2);

/// The server's threads and open descriptors.
fn usage(d: &Deskcam) -> (usize, usize) {
    let pid = d.child.id();
    (procfs::threads(pid), procfs::descriptors(pid))
}

/// A GET of a path on the server under test: plain by default, HTTPS for tests/tls.rs.
pub(crate) type Fetch<'a> = &'a dyn Fn(&str) -> testkit::http::Reply;

fn clients(fetch: Fetch) -> Option<i64> {
    let json = fetch("/state").text();
    let rest = json.split("\"clients\":").nth(1)?;
    rest.split([',', '}']).next()?.parse().ok()
}

/// The resting usage, once it is steady (the first requests start encoders and such).
pub(crate) fn baseline(d: &Deskcam) -> (usize, usize) {
    baseline_by(d, &|path| get(d.addr, path))
}

/// [`baseline`], asking the server with `fetch`.
pub(crate) fn baseline_by(d: &Deskcam, fetch: Fetch) -> (usize, usize) {
    assert_eq!(fetch("/snapshot").status, 200);
    let mut last = usage(d);
    let mut steady_since = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && steady_since.elapsed() < Duration::from_millis(500) {
        thread::sleep(Duration::from_millis(50));
        let now = usage(d);
        if now != last {
            (last, steady_since) = (now, Instant::now());
        }
    }
    last
}

/// Waits (at most [`RELEASE`]) for threads, descriptors and slots to be back at `base`.
pub(crate) fn assert_released(d: &Deskcam, base: (usize, usize), what: &str) {
    assert_released_by(d, base, what, &|path| get(d.addr, path))
}

/// [`assert_released`], asking the server with `fetch`.
pub(crate) fn assert_released_by(d: &Deskcam, base: (usize, usize), what: &str, fetch: Fetch) {
    let started = Instant::now();
    let mut seen = usage(d);
    // /state holds a connection for a moment, so the usage is read before asking it.
    let back = wait_until(RELEASE, || {
        seen = usage(d);
        seen == base && clients(fetch) == Some(0)
    });
    println!(
        "{what}: threads/fds {base:?} at rest, {seen:?} {:.2} s after the clients left",
        started.elapsed().as_secs_f64()
    );
    assert!(
        back,
        "{what}: threads/fds {seen:?} did not return to {base:?} within {RELEASE:?} (clients {:?})",
        clients(fetch)
    );
}

/// Lets this test process open `n` sockets.
fn allow_descriptors(n: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|c| c < n) {
        limit.current = limit.maximum.map(|m| m.min(n)).or(Some(n));
        setrlimit(Resource::Nofile, limit).expect("raise the descriptor limit");
    }
}

/// Whether the server has closed `s` (EOF or reset), looking without waiting long.
fn closed_by_server(mut s: &TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

/// 300 clients send `first` at once and then one more byte a second. The server must keep
/// answering, hold at most its cap of them (`threads_each` threads apiece), cut every one 10 s
/// after its first byte (answering `cut_status`) or drop it as the longest waiting, and be back
/// at rest once they are gone.
fn slow_clients(first: &[u8], threads_each: usize, cut_status: &str, what: &str) {
    const N: usize = 300;
    let d = Deskcam::start(&["--size", "160x120", "--fps", "5"]);
    let base = baseline(&d);
    let socks: Vec<TcpStream> = (0..N)
        .map(|_| TcpStream::connect(d.addr).unwrap())
        .collect();
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<TcpStream> = socks.iter().map(|s| s.try_clone().unwrap()).collect();
    let trickle = {
        let (stop, first) = (stop.clone(), first.to_vec());
        thread::spawn(move || {
            let mut writers = writers;
            for w in &mut writers {
                let _ = w.write_all(&first);
            }
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_secs(1));
                for w in &mut writers {
                    let _ = w.write_all(b"a");
                }
            }
        })
    };
    // The oldest are dropped as newer ones arrive: once all are in, at most the cap stay.
    assert!(
        wait_until(Duration::from_secs(3), || {
            socks.iter().filter(|s| closed_by_server(s)).count() >= N - 128
        }),
        "{what}: the oldest waiting connections were not dropped"
    );
    let cap = base.0 + 128 * threads_each + 4;
    let mut peak = 0;
    // While they trickle, the server keeps answering and holds at most its cap of them.
    while start.elapsed() < Duration::from_secs(8) {
        let t = Instant::now();
        assert_eq!(get(d.addr, "/state").status, 200);
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "{what}: slow to answer"
        );
        peak = peak.max(usage(&d).0);
        thread::sleep(Duration::from_millis(250));
    }
    assert!(
        peak <= cap,
        "{what}: {peak} threads for {N} clients (at rest {base:?})"
    );
    // 10 s after its first byte, every one has been cut, though all still trickle.
    let cut = wait_until(Duration::from_secs(5), || usage(&d) == base);
    println!(
        "{what}: peak {peak} threads for {N} clients, {:?} threads/fds {:.1} s after the first byte (at rest {base:?})",
        usage(&d),
        start.elapsed().as_secs_f64()
    );
    assert!(cut, "{what}: outlived the deadline: {:?}", usage(&d));
    stop.store(true, Ordering::Relaxed);
    let _ = trickle.join();
    let (mut answered, mut dropped) = (0, 0);
    for mut s in socks {
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        if reply.starts_with(cut_status.as_bytes()) {
            answered += 1;
        } else if reply.is_empty() {
            dropped += 1;
        } else {
            panic!("{what}: {}", String::from_utf8_lossy(&reply));
        }
    }
    println!("{what}: {answered} answered {cut_status:?}, {dropped} dropped as the oldest waiting");
    assert!(
        answered > 0 && answered <= 128,
        "{what}: {answered} answered"
    );
    assert_eq!(answered + dropped, N);
    assert_released(&d, base, what);
}

#[test]
fn slow_headers_are_cut_at_the_deadline_and_capped() {
    slow_clients(b"G", 1, "HTTP/1.1 408", "slow headers");
}

/// A complete head, then a body a byte a second: the server skips unread bodies, so each holds
/// a connection thread and a handler thread until its deadline.
#[test]
fn slow_bodies_are_cut_at_the_deadline_and_capped() {
    let head = b"POST /state HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
    slow_clients(head, 2, "HTTP/1.1 405", "slow bodies");
}

#[test]
fn a_thousand_idle_connections_hold_at_most_the_cap() {
    allow_descriptors(4096);
    let d = Deskcam::start(&["--size", "160x120", "--fps", "5"]);
    let base = baseline(&d);
    let socks: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(d.addr).expect("connect"))
        .collect();
    // The oldest are dropped as newer ones arrive: at most the cap stay.
    assert!(
        wait_until(Duration::from_secs(5), || usage(&d).0 <= base.0 + 128 + 2),
        "{:?} for 1000 idle connections (at rest {base:?})",
        usage(&d)
    );
    assert_eq!(get(d.addr, "/state").status, 200, "still answering");
    let held = usage(&d);
    let dropped = socks.iter().filter(|s| closed_by_server(s)).count();
    println!("1000 idle connections: server at {held:?} (at rest {base:?}), {dropped} dropped");
    assert!(dropped >= 1000 - 128 - 2, "only {dropped} dropped");
    drop(socks);
    assert_released(&d, base, "1000 idle connections");
}

/// Opens a stream and reads its head and `share` (0 to 1) of its first part.
fn open_stream(addr: SocketAddr, share: f64) -> (TcpStream, u16) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut want = usize::MAX;
    while got.len() < want {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&got);
        if !text.starts_with("HTTP/1.0 200") && text.contains("\r\n\r\n") {
            break;
        }
        if let Some(len) = text
            .split("Content-Length: ")
            .nth(1)
            .and_then(|v| v.split("\r\n").next()?.parse::<usize>().ok())
        {
            want = text.find("Content-Length: ").unwrap_or(0) + (len as f64 * share) as usize;
        }
    }
    let status = String::from_utf8_lossy(&got)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (s, status)
}

#[test]
fn half_open_streams_free_their_slots() {
    let d = Deskcam::start(&["--size", "320x240", "--fps", "1"]);
    let base = baseline(&d);
    let mut streams = Vec::new();
    for _ in 0..20 {
        let (s, status) = open_stream(d.addr, 0.5);
        assert_eq!(status, 200);
        streams.push(s);
    }
    assert!(wait_until(RELEASE, || clients(&|path| get(d.addr, path)) == Some(20)));
    // They stop sending and reading, but keep their sockets open.
    for s in &streams {
        s.shutdown(Shutdown::Write).unwrap();
    }
    assert_released(&d, base, "20 half-open streams");
    let (_s, status) = open_stream(d.addr, 0.0);
    assert_eq!(status, 200, "a newcomer streams");
    drop(streams);
}

#[test]
fn reset_churn_at_one_fps_never_fills_the_slots() {
    let d = Deskcam::start(&["--size", "640x480", "--fps", "1"]);
    let base = baseline(&d);
    let stop = Arc::new(AtomicBool::new(false));
    let cycles = Arc::new(Mutex::new(0usize));
    let churners: Vec<_> = (0..20)
        .map(|_| {
            let (stop, cycles, addr) = (stop.clone(), cycles.clone(), d.addr);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Half a frame, then a reset.
                    let (s, _) = open_stream(addr, 0.5);
                    socket2::SockRef::from(&s)
                        .set_linger(Some(Duration::ZERO))
                        .unwrap();
                    drop(s);
                    *cycles.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    let (mut served, mut refused) = (0, 0);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(6) {
        match open_stream(d.addr, 0.0).1 {
            200 => served += 1,
            _ => refused += 1,
        }
        thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::Relaxed);
    for c in churners {
        c.join().unwrap();
    }
    let cycles = *cycles.lock().unwrap();
    println!("reset churn: {cycles} resets in 6 s; newcomers served {served}, refused {refused}");
    assert!(
        cycles > 200,
        "the churn was too slow to test anything: {cycles}"
    );
    assert_eq!(refused, 0, "newcomers refused while resets churned");
    assert_released(&d, base, "reset churn");
}

/// Sends a request and says how the server answered: its status, or 0 for a close, within
/// `within`; `None` if it did neither in time.
fn answer_within(addr: SocketAddr, request: &[u8], within: Duration) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(within)).unwrap();
    let _ = s.write_all(request);
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => Some(0),
        Ok(n) => Some(
            String::from_utf8_lossy(&buf[..n])
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Some(0),
        Err(_) => None,
    }
}

#[test]
fn at_the_descriptor_limit_newcomers_get_an_answer_and_the_server_recovers() {
    let d = Deskcam::start_with_fd_limit(64, &["--size", "160x120", "--fps", "5"]);
    let base = baseline(&d);
    let state = b"GET /state HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let prompt = Duration::from_secs(2);
    // Forty HTTP/2 prefaces (once each held a thread and two descriptors for good).
    for _ in 0..40 {
        let got = answer_within(d.addr, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", prompt);
        assert_eq!(got, Some(505));
    }
    assert_eq!(answer_within(d.addr, state, prompt), Some(200));
    assert_released(&d, base, "40 HTTP/2 prefaces under ulimit -n 64");
    // Streams until the descriptors run out: the first one refused is told so at once.
    let mut streams = Vec::new();
    let refusal = loop {
        assert!(streams.len() < 64, "never ran out of descriptors");
        let started = Instant::now();
        let (s, status) = open_stream(d.addr, 0.0);
        if status != 200 {
            break (status, started.elapsed());
        }
        streams.push(s);
    };
    println!(
        "ulimit -n 64: {} streams, then status {} after {:.3} s; server at {:?} (at rest {base:?})",
        streams.len(),
        refusal.0,
        refusal.1.as_secs_f64(),
        usage(&d)
    );
    assert!(refusal.1 < prompt, "the refusal took {:?}", refusal.1);
    assert!(
        matches!(answer_within(d.addr, state, prompt), Some(0 | 503)),
        "a newcomer at the limit waits in the backlog"
    );
    drop(streams);
    assert_released(&d, base, "streams at the descriptor limit");
    assert_eq!(answer_within(d.addr, state, prompt), Some(200), "recovered");
    // Idle connections are capped by the descriptors too: while 80 stay open, a newcomer is
    // answered at once (a 503 while the dropped ones end) and served within moments.
    let idle: Vec<TcpStream> = (0..80)
        .filter_map(|_| TcpStream::connect(d.addr).ok())
        .collect();
    let mut seen = Vec::new();
    let served = wait_until(prompt, || {
        let got = answer_within(d.addr, state, prompt);
        seen.push(got);
        got == Some(200)
    });
    println!("ulimit -n 64, 80 idle connections: a newcomer got {seen:?}");
    assert!(
        seen.iter().all(Option::is_some),
        "a newcomer hung: {seen:?}"
    );
    assert!(served, "idle connections locked newcomers out: {seen:?}");
    drop(idle);
    assert_released(&d, base, "80 idle connections under ulimit -n 64");
}
