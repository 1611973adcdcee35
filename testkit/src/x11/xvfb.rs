//! A private Xvfb per test, so tests run in parallel without sharing a screen.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::child::Guard;

/// A private X server, stopped on drop. Started with `-displayfd`, so parallel tests never race
/// for a display number and the server is known to accept clients once it has told it.
pub struct Xvfb {
    pub child: Guard,
    pub display: String,
}

impl Xvfb {
    /// A 24-bit screen of `width` x `height`.
    pub fn start(width: u32, height: u32) -> Xvfb {
        Self::spawn(None, &format!("{width}x{height}x24"), &[])
    }

    /// On a chosen display (to bring a display back after stopping it).
    pub fn start_on(display: &str, width: u32, height: u32) -> Xvfb {
        let x = Self::spawn(Some(display), &format!("{width}x{height}x24"), &[]);
        assert_eq!(x.display, display, "Xvfb did not start on {display}");
        x
    }

    /// With extra server options (e.g. `-extension MIT-SHM` to disable one).
    pub fn start_with(width: u32, height: u32, extra: &[&str]) -> Xvfb {
        Self::spawn(None, &format!("{width}x{height}x24"), extra)
    }

    /// With another colour depth (e.g. 16), to check what deskcam refuses.
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
            .map(Guard)
            .expect("Xvfb must be installed (tools/deps.sh installs it)");
        // Xvfb writes the number once it accepts clients, or exits (closing the pipe) if it
        // cannot start: either way this read ends.
        let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        out.read_line(&mut line).expect("Xvfb display number");
        let n: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb {screen} {extra:?} did not start: {line:?}"));
        Xvfb {
            child,
            display: format!(":{n}"),
        }
    }
}
