//! Helper processes under a test's control: killed when the test ends (even by a panic), and
//! their output read line by line with a timeout, so a silent child fails the test instead of
//! hanging it.

use std::io::{BufRead, BufReader, Read};
use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::wait::wait_for;

/// How long a tool run by [`tool`] may take.
const TOOL_TIME: Duration = Duration::from_secs(120);

/// A child process that is killed and reaped when this is dropped.
pub struct Guard(pub Child);

impl Guard {
    /// Waits at most `timeout` for the child to exit by itself; its exit code (`None` for a
    /// signal), or `Err` if it is still running.
    pub fn exit_within(&mut self, timeout: Duration) -> Result<Option<i32>, String> {
        wait_for(timeout, || self.0.try_wait().ok().flatten())
            .map(|status| status.code())
            .ok_or_else(|| format!("process {} still running after {timeout:?}", self.0.id()))
    }
}

impl Deref for Guard {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The lines of a child's stdout or stderr, read by a thread of their own: handed out one by
/// one, and all kept as a log for failure messages.
pub struct Lines {
    rx: Receiver<String>,
    log: Arc<Mutex<String>>,
}

impl Lines {
    /// Starts reading `from` (until its end of file).
    pub fn read(from: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = channel();
        let log = Arc::new(Mutex::new(String::new()));
        let keep = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(from).lines().map_while(Result::ok) {
                if let Ok(mut log) = keep.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
                // Nobody may be listening any more; the log still grows.
                let _ = tx.send(line);
            }
        });
        Lines { rx, log }
    }

    /// Everything read so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The next line within `timeout`; `Err` says whether time ran out or the output ended.
    pub fn next_within(&self, timeout: Duration) -> Result<String, String> {
        self.rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => format!("no output line within {timeout:?}"),
            RecvTimeoutError::Disconnected => "the output ended".to_string(),
        })
    }

    /// The first line within `timeout` for which `pick` gives `Some`, skipping the others.
    pub fn find<T>(
        &self,
        timeout: Duration,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.next_within(left)?;
            if let Some(found) = pick(&line) {
                return Ok(found);
            }
        }
    }
}

/// What a program run to the end printed.
#[derive(Debug)]
pub struct Output {
    /// The exit code; -1 if a signal ended it.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to the end with stdin closed, for at most `limit`: panics if it cannot start
/// (naming the package script that installs it) or if it runs over (after killing it).
pub fn finish(cmd: &mut Command, limit: Duration) -> Output {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Guard)
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}): is it installed? (tools/deps.sh installs it)")
        });
    // Both pipes are drained while it runs, so a chatty program cannot block on a full one.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let code = child
        .exit_within(limit)
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    drop(child);
    Output {
        code: code.unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// Runs a tool the test needs (curl, ffmpeg, xrandr...) and asserts it succeeded.
pub fn tool(cmd: &mut Command) -> Output {
    let out = finish(cmd, TOOL_TIME);
    assert_eq!(
        out.code,
        0,
        "{:?} failed: {}",
        cmd.get_program(),
        out.stderr
    );
    out
}

/// Asserts that ffmpeg reads `frames` frames from `url` (an MJPEG stream) and decodes them
/// without a single complaint, as a video tool would.
pub fn ffmpeg_reads(url: &str, frames: u32) {
    let out = tool(
        Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-i", url])
            .args(["-frames:v", &frames.to_string(), "-f", "null", "-"]),
    );
    assert!(out.stderr.is_empty(), "ffmpeg complained: {}", out.stderr);
}
