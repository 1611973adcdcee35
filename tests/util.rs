//! Helpers shared by the end-to-end tests: start the real binary on a free port, talk raw HTTP,
//! start a private Xvfb, inspect JPEGs. Every wait here is bounded and polls a condition.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Polls `cond` every 20 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A running `deskcam` process, killed on drop.
pub struct Deskcam {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<String>>,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_deskcam")
}

impl Deskcam {
    /// Starts deskcam with `args` (plus `--listen 127.0.0.1:0` unless given) and waits for its
    /// "serving ... on http://ADDR/" line.
    pub fn start(args: &[&str]) -> Deskcam {
        Self::start_env(args, &[])
    }

    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Deskcam {
        let mut cmd = Command::new(binary());
        cmd.args(args);
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start deskcam");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let (Some(rest), Some(t)) = (
                        line.split("on http://").nth(1),
                        tx.take_if(|_| line.contains("serving")),
                    ) {
                        let _ = t.send(rest.trim_end_matches('/').to_string());
                    }
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(a) => a.parse().expect("address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("deskcam did not start: {}", log.lock().unwrap());
            }
        };
        Deskcam { child, addr, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The process's resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Deskcam {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs deskcam to completion (for CLI errors): (exit code, stdout, stderr).
pub fn run_to_end(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(binary())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run deskcam");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Runs deskcam expecting a refusal at start: exit status 2, nothing on stdout and exactly one
/// line on stderr, containing `needle`. Returns that line.
pub fn refused(args: &[&str], needle: &str) -> String {
    let (code, out, err) = run_to_end(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?} printed {out}");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    err
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

/// A plain HTTP response.
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into()
    }
}

/// Sends `raw` (a whole request) and reads the reply until the server closes or the declared
/// length is read.
pub fn raw_request(addr: SocketAddr, raw: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.write_all(raw).expect("send");
    read_reply(&mut s)
}

pub fn read_reply(s: &mut TcpStream) -> Reply {
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
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    let reply = Reply {
        status,
        head,
        body: Vec::new(),
    };
    let len: Option<usize> = reply.header("Content-Length").and_then(|v| v.parse().ok());
    while len.is_none_or(|l| body.len() < l) {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Reply { body, ..reply }
}

pub fn get(addr: SocketAddr, path: &str) -> Reply {
    raw_request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

pub fn post(addr: SocketAddr, path: &str, body: &str, extra_headers: &str) -> Reply {
    raw_request(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n{extra_headers}\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// Width and height from a JPEG's SOF marker, if it is a complete JPEG (SOI ... EOI).
pub fn jpeg_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.len() < 4 || data[..2] != [0xFF, 0xD8] || data[data.len() - 2..] != [0xFF, 0xD9] {
        return None;
    }
    let mut i = 2;
    while i + 9 < data.len() {
        if data[i] != 0xFF {
            return None;
        }
        let marker = data[i + 1];
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        if matches!(marker, 0xC0..=0xC3) {
            let h = u16::from_be_bytes([data[i + 5], data[i + 6]]) as u32;
            let w = u16::from_be_bytes([data[i + 7], data[i + 8]]) as u32;
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// Reads a multipart MJPEG stream part by part.
pub struct MjpegReader {
    pub stream: BufReader<TcpStream>,
    pub head: String,
}

impl MjpegReader {
    pub fn open(addr: SocketAddr, request: &str) -> MjpegReader {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        (&s).write_all(request.as_bytes()).expect("send");
        let mut stream = BufReader::new(s);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        MjpegReader { stream, head }
    }

    pub fn get(addr: SocketAddr, path: &str) -> MjpegReader {
        Self::open(
            addr,
            &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        )
    }

    /// The next part's headers and body, or `None` when the stream ends.
    pub fn next_part(&mut self) -> Option<(String, Vec<u8>)> {
        let mut headers = String::new();
        let mut len = None;
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line.starts_with("--") {
                continue; // boundary
            }
            if line == "\r\n" {
                if len.is_some() {
                    break;
                }
                continue;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse::<usize>().ok();
            }
            headers.push_str(&line);
        }
        let mut body = vec![0; len?];
        self.stream.read_exact(&mut body).ok()?;
        Some((headers, body))
    }
}

/// A private X server, stopped on drop. Uses `-displayfd` so parallel tests never race for a
/// display number.
pub struct Xvfb {
    pub child: Child,
    pub display: String,
}

impl Xvfb {
    pub fn start(width: u32, height: u32) -> Xvfb {
        Self::spawn(None, &format!("{width}x{height}x24"), &[])
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Xvfb {
    /// Starts Xvfb on a chosen display (to bring a display back after stopping it) and waits
    /// until it accepts clients: with an explicit display, `-displayfd` still reports readiness.
    pub fn start_on(display: &str, width: u32, height: u32) -> Xvfb {
        let x = Self::spawn(Some(display), &format!("{width}x{height}x24"), &[]);
        assert_eq!(x.display, display, "Xvfb did not start on {display}");
        x
    }

    /// Starts Xvfb with extra server options (e.g. `-extension MIT-SHM` to disable one).
    pub fn start_with(width: u32, height: u32, extra: &[&str]) -> Xvfb {
        Self::spawn(None, &format!("{width}x{height}x24"), extra)
    }

    /// Starts Xvfb with another colour depth (e.g. 16), to check what deskcam refuses.
    pub fn start_depth(width: u32, height: u32, depth: u32) -> Xvfb {
        Self::spawn(None, &format!("{width}x{height}x{depth}"), &[])
    }

    fn spawn(display: Option<&str>, screen: &str, extra: &[&str]) -> Xvfb {
        let mut child = Command::new("Xvfb")
            .args(display)
            .args(["-displayfd", "1", "-screen", "0", screen])
            // -noreset: by default Xvfb resets when its last client leaves and refuses
            // connections meanwhile, so a test's second deskcam could meet "connection reset".
            .args(["-nolisten", "tcp", "-ac", "-noreset"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb must be installed (the Makefile and .ci/run install it)");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("Xvfb display number");
        let n: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb printed {line:?}"));
        Xvfb {
            child,
            display: format!(":{n}"),
        }
    }
}

/// CPU time (user + system) a process has used so far, from /proc/PID/stat.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    // Linux reports these in USER_HZ, which is 100 on every Linux ABI.
    Duration::from_millis(ticks * 10)
}

/// One keep-alive HTTP/1.1 connection for many small requests (as the page's control events
/// travel): each call sends one request and reads exactly its reply.
pub struct KeepAlive {
    addr: SocketAddr,
    stream: BufReader<TcpStream>,
}

impl KeepAlive {
    pub fn connect(addr: SocketAddr) -> KeepAlive {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        s.set_nodelay(true).unwrap();
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
        let addr = self.addr;
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream
            .get_mut()
            .write_all(request.as_bytes())
            .expect("send");
    }

    /// Reads the reply to the oldest request sent: status and body.
    pub fn read_reply(&mut self) -> (u16, String) {
        let mut status = 0;
        let mut len = 0;
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).expect("reply") == 0 {
                panic!("connection closed");
            }
            if status == 0 {
                status = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        self.stream.read_exact(&mut body).expect("body");
        (status, String::from_utf8_lossy(&body).into())
    }
}
