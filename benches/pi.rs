//! Raspberry Pi builds under qemu-user next to the native x86-64 builds, in the same run: frames
//! of the 1280x720 test pattern per CPU-second (one encoder thread; drawing the pattern, encoding
//! and serving it, all counted), and the stripped size of each binary. An emulator translates
//! every ARM instruction (NEON included) into x86 code, so the ARM figures are rough: they rank
//! the ARM encoders against each other, they do not predict a real Pi.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Measured after a warm-up, which under qemu-user includes translating the code once.
const WARM_UP: Duration = Duration::from_secs(3);
const WINDOW: Duration = Duration::from_secs(10);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

struct Build {
    label: &'static str,
    /// `None`: this machine, no emulator.
    target: Option<&'static str>,
    turbojpeg: bool,
    strip: &'static str,
}

const BUILDS: &[Build] = &[
    Build {
        label: "x86-64 (native)",
        target: None,
        turbojpeg: false,
        strip: "strip",
    },
    Build {
        label: "x86-64 (native)",
        target: None,
        turbojpeg: true,
        strip: "strip",
    },
    Build {
        label: "aarch64 glibc",
        target: Some("aarch64-unknown-linux-gnu"),
        turbojpeg: false,
        strip: "aarch64-linux-gnu-strip",
    },
    Build {
        label: "aarch64 glibc",
        target: Some("aarch64-unknown-linux-gnu"),
        turbojpeg: true,
        strip: "aarch64-linux-gnu-strip",
    },
    Build {
        label: "armv7 glibc",
        target: Some("armv7-unknown-linux-gnueabihf"),
        turbojpeg: false,
        strip: "arm-linux-gnueabihf-strip",
    },
    Build {
        label: "armv7 glibc",
        target: Some("armv7-unknown-linux-gnueabihf"),
        turbojpeg: true,
        strip: "arm-linux-gnueabihf-strip",
    },
    Build {
        label: "aarch64 musl static",
        target: Some("aarch64-unknown-linux-musl"),
        turbojpeg: false,
        strip: "aarch64-linux-gnu-strip",
    },
];

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Builds (or finds up to date) the binary: the same commands as `make pi`, `make pi-static`
/// and `make bench`; the ARM builds without turbojpeg go to target/pi-default.
fn build(b: &Build) -> Result<PathBuf, String> {
    let target_dir = repo().join("target");
    let Some(target) = b.target else {
        if !b.turbojpeg {
            return Ok(PathBuf::from(env!("CARGO_BIN_EXE_deskcam")));
        }
        let dir = target_dir.join("turbojpeg");
        run(Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--release", "--features", "turbojpeg"])
            .env("CARGO_TARGET_DIR", &dir)
            .current_dir(repo()))?;
        return Ok(dir.join("release/deskcam"));
    };
    let cross = |verb: &str| {
        let mut c = Command::new(repo().join("tools/cross.sh"));
        c.args([target, verb]).current_dir(repo());
        // The glibc targets build with turbojpeg by default; their plain builds live apart.
        if !b.turbojpeg && !target.ends_with("-musl") {
            c.env("FEATURES", "")
                .env("CARGO_TARGET_DIR", target_dir.join("pi-default"));
        }
        if verb == "build" {
            c.arg("--quiet");
        }
        c
    };
    run(&mut cross("build"))?;
    Ok(PathBuf::from(run(&mut cross("binary"))?))
}

/// utime + stime of a process, all threads (for qemu-user: the emulator running the program).
fn cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = f
        .get(11..13)
        .map_or(0, |v| v.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 10)
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(b: &Build, binary: &Path) -> Result<Server, String> {
    let mut cmd = match b.target {
        Some(t) => {
            let mut c = Command::new(repo().join("tools/cross.sh"));
            c.args([t, "exec"]).arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let mut child = cmd
        .args([
            "--size",
            "1280x720",
            "--fps",
            "1000",
            "--workers",
            "1",
            "--idle-stop",
            "0",
        ])
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start {}: {e}", binary.display()))?;
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(a) = line.split("on http://").nth(1) {
                let _ = tx.send(a.trim_end_matches('/').to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| "did not start serving".to_string())?
        .parse()
        .map_err(|e| format!("address: {e}"))?;
    Ok(Server { child, addr })
}

/// Frames the source has published since start, from `/state`.
fn frames(addr: SocketAddr) -> Option<u64> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    s.write_all(b"GET /state HTTP/1.0\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    let v = body.split("\"frames\":").nth(1)?;
    v.split([',', '}']).next()?.parse().ok()
}

/// One viewer reading the stream as fast as it comes, so the source runs as a viewer sees it.
fn viewer(addr: SocketAddr, stop: Arc<AtomicBool>) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.write_all(format!("GET /stream HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes());
    let mut buf = vec![0; 1 << 16];
    while !stop.load(Ordering::Relaxed) {
        if matches!(s.read(&mut buf), Ok(0) | Err(_)) {
            break;
        }
    }
}

/// (frames per second, CPU % of one core, frames per CPU-second).
fn measure(b: &Build, binary: &Path) -> Result<(f64, f64, f64), String> {
    let server = start(b, binary)?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (addr, stop) = (server.addr, stop.clone());
        thread::spawn(move || viewer(addr, stop))
    };
    thread::sleep(WARM_UP);
    let pid = server.child.id();
    let (f0, c0) = (frames(server.addr).ok_or("no /state")?, cpu(pid));
    thread::sleep(WINDOW);
    let (f1, c1) = (frames(server.addr).ok_or("no /state")?, cpu(pid));
    stop.store(true, Ordering::Relaxed);
    drop(server);
    let _ = reader.join();
    let n = f1.saturating_sub(f0) as f64;
    let cpu_s = (c1 - c0).as_secs_f64();
    if n == 0.0 || cpu_s == 0.0 {
        return Err(format!("no frames measured ({n} frames, {cpu_s} s CPU)"));
    }
    Ok((
        n / WINDOW.as_secs_f64(),
        100.0 * cpu_s / WINDOW.as_secs_f64(),
        n / cpu_s,
    ))
}

fn stripped_size(b: &Build, binary: &Path) -> Result<u64, String> {
    let copy = std::env::temp_dir().join(format!("deskcam-pi-bench-{}", std::process::id()));
    std::fs::copy(binary, &copy).map_err(|e| format!("copy: {e}"))?;
    let r = run(Command::new(b.strip).arg(&copy))
        .and_then(|_| std::fs::metadata(&copy).map_err(|e| e.to_string()))
        .map(|m| m.len());
    let _ = std::fs::remove_file(&copy);
    r
}

fn main() {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("Raspberry Pi builds: the pattern at 1280x720, --workers 1, --fps 1000, one viewer,");
    println!(
        "{} s after {} s of warm-up; load average before: {}",
        WINDOW.as_secs(),
        WARM_UP.as_secs(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "ARM rows run under qemu-user: ROUGH (an emulator), for ranking the ARM builds only.\n"
    );
    println!(
        "| build | encoder | run by | fps | CPU % | frames per CPU-second | vs turbojpeg on the same target | stripped size |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut turbo_rate = std::collections::HashMap::new();
    let mut rows = Vec::new();
    for b in BUILDS {
        let encoder = if b.turbojpeg {
            "libjpeg-turbo"
        } else {
            "jpeg-encoder"
        };
        let runner = if b.target.is_some() {
            "qemu-user"
        } else {
            "native"
        };
        let result = build(b).and_then(|bin| {
            let size = stripped_size(b, &bin)?;
            let m = measure(b, &bin)?;
            Ok((m, size))
        });
        if let Ok(((_, _, rate), _)) = &result
            && b.turbojpeg
        {
            turbo_rate.insert(b.target, *rate);
        }
        rows.push((b, encoder, runner, result));
    }
    for (b, encoder, runner, result) in rows {
        match result {
            Ok(((fps, cpu, rate), size)) => {
                let vs = turbo_rate
                    .get(&b.target)
                    .map_or("-".to_string(), |t| format!("{:.2}x", rate / t));
                println!(
                    "| {} | {encoder} | {runner} | {fps:.1} | {cpu:.0} | {rate:.1} | {vs} | {:.2} MiB |",
                    b.label,
                    size as f64 / (1 << 20) as f64
                );
            }
            Err(e) => println!(
                "| {} | {encoder} | {runner} | not measured: {e} | | | | |",
                b.label
            ),
        }
    }
    let debs = repo().join("target/deb");
    if let Ok(entries) = std::fs::read_dir(&debs) {
        let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for p in names
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        {
            let len = std::fs::metadata(p).map_or(0, |m| m.len());
            println!(
                "package {}: {:.2} MiB",
                p.file_name().unwrap_or_default().to_string_lossy(),
                len as f64 / (1 << 20) as f64
            );
        }
    }
}
