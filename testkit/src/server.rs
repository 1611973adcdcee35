//! The real deskcam binary: where it is, started on a free port as a server, or run to the end
//! for its command-line answers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::child::{Guard, Lines, Output, finish};
use crate::procfs;

/// How long a starting deskcam may take to say where it listens.
const START: Duration = Duration::from_secs(20);
/// How long deskcam may take to exit after SIGTERM, or to answer on the command line.
const STOP: Duration = Duration::from_secs(10);

/// The binary under test: `$DESKCAM_BIN`, else `deskcam` in the profile directory of the
/// running test or bench executable (cargo puts those in `target/<profile>/deps/` and builds
/// the binary beside that folder before running them).
pub fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("DESKCAM_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("the path of this test executable");
    let profile = exe
        .parent()
        .filter(|d| d.ends_with("deps"))
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in a cargo deps folder", exe.display()));
    let bin = profile.join("deskcam");
    assert!(
        bin.exists(),
        "{} is missing: run the tests through cargo or set DESKCAM_BIN",
        bin.display()
    );
    bin
}

/// The libjpeg-turbo build that `make bench` puts in `<target>/turbojpeg/release/` (override:
/// `$DESKCAM_TURBOJPEG_BIN`). It may be missing; the caller says so.
pub fn turbojpeg_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("DESKCAM_TURBOJPEG_BIN") {
        return PathBuf::from(bin);
    }
    let main = binary();
    let target = main
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    target.join("turbojpeg/release/deskcam")
}

/// A running deskcam, killed on drop.
pub struct Deskcam {
    pub child: Guard,
    pub addr: SocketAddr,
    /// "http" or "https", as its start-up line says.
    pub scheme: String,
    stderr: Lines,
}

impl Deskcam {
    /// Starts the binary under test with `args` (plus `--listen 127.0.0.1:0` unless given) and
    /// waits for its "serving ... on http://ADDR/" line.
    pub fn start(args: &[&str]) -> Deskcam {
        Self::start_env(args, &[])
    }

    /// [`Deskcam::start`] with extra environment variables.
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Deskcam {
        Self::launch(&binary(), args, env).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts `bin` (the binary under test or another build of it); `Err` says why it did not
    /// come up, with what it printed.
    pub fn launch(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Deskcam, String> {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        cmd.envs(env.iter().copied());
        Self::spawn(cmd, bin)
    }

    /// Starts the binary under test with at most `fds` open descriptors (soft and hard
    /// limit, set by a shell that then becomes deskcam, so the process id is deskcam's).
    pub fn start_with_fd_limit(fds: u32, args: &[&str]) -> Deskcam {
        let bin = binary();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("ulimit -n {fds} && exec \"$0\" \"$@\""))
            .arg(&bin)
            .args(args);
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        Self::spawn(cmd, &bin).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts any command line that ends in a deskcam (an ARM build under qemu-user, an
    /// unpacked package's binary), with `--listen 127.0.0.1:0` added, and waits up to `limit`
    /// for it to serve: emulated start-up on a busy machine can take far longer than [`START`].
    pub fn command(mut cmd: Command, limit: Duration) -> Deskcam {
        let what = format!("{cmd:?}");
        cmd.args(["--listen", "127.0.0.1:0"]);
        Self::spawn_within(cmd, &what, limit).unwrap_or_else(|e| panic!("{e}"))
    }

    fn spawn(cmd: Command, bin: &Path) -> Result<Deskcam, String> {
        Self::spawn_within(cmd, &bin.display().to_string(), START)
    }

    fn spawn_within(mut cmd: Command, what: &str, limit: Duration) -> Result<Deskcam, String> {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map(Guard)
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let stderr = Lines::read(child.stderr.take().expect("stderr is piped"));
        let (scheme, addr) = stderr
            .find(limit, |line| {
                let (_, url) = line.split_once("serving")?.1.split_once(" on ")?;
                let (scheme, rest) = url.split_once("://")?;
                Some((scheme.to_string(), rest.trim_end_matches('/').parse().ok()?))
            })
            .map_err(|e| format!("deskcam did not start ({e}): {}", stderr.log()))?;
        Ok(Deskcam {
            child,
            addr,
            scheme,
            stderr,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme, self.addr, path)
    }

    /// Everything it has written to stderr so far.
    pub fn log(&self) -> String {
        self.stderr.log()
    }

    /// Waits (bounded) for a log line that `wanted` picks and returns it; panics with the log
    /// if none comes within `timeout`.
    pub fn log_line(&self, timeout: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let found = crate::wait::wait_for(timeout, || {
            self.log().lines().find(|l| wanted(l)).map(str::to_string)
        });
        found.unwrap_or_else(|| panic!("no such log line within {timeout:?}: {}", self.log()))
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        procfs::rss_kib(self.child.id())
    }

    /// Sends `signal` (e.g. "TERM", "INT") and waits (bounded) for the exit code.
    pub fn signal_and_wait(&mut self, signal: &str) -> Option<i32> {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
        self.child.exit_within(STOP).ok().flatten()
    }

    /// SIGTERM, then the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        self.signal_and_wait("TERM")
    }
}

/// Runs the binary under test to completion (for the command line's answers), bounded: a
/// deskcam that starts serving instead of answering fails the test.
pub fn run_to_end(args: &[&str]) -> Output {
    finish(Command::new(binary()).args(args), STOP)
}

/// Runs deskcam expecting a refusal at start: exit status 2, nothing on stdout and exactly one
/// line on stderr, containing `needle`. Returns that line. Listens on a free loopback port
/// unless `args` say otherwise, so a deskcam that does not refuse takes no public port.
pub fn refused(args: &[&str], needle: &str) -> String {
    let mut args = args.to_vec();
    if !args.contains(&"--listen") {
        args.extend(["--listen", "127.0.0.1:0"]);
    }
    let out = run_to_end(&args);
    let err = out.stderr;
    assert_eq!(out.code, 2, "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} printed {}", out.stdout);
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    err
}
