//! Node scripts in tests/browser/ that drive Debian's headless Chromium through playwright-core:
//! installing playwright-core when it is missing, and running a script to its end with a bound.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::child::{Output, finish};

/// How long one script may run (Chromium starts slowly on a busy machine).
const SCRIPT_TIME: Duration = Duration::from_secs(120);

/// tests/browser/ of the workspace.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser")
}

/// Installs playwright-core for tests/browser (from its package-lock.json) if it is missing.
pub fn ensure_playwright() {
    let dir = dir();
    if dir.join("node_modules/playwright-core").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm must be installed (tools/deps.sh installs it)");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

/// Runs `node tests/browser/SCRIPT ARGS...` to its end with `HOME` set to `home` (where
/// Chromium finds its certificate database), and returns what it printed; panics if it fails.
pub fn run(script: &str, args: &[&str], home: &Path) -> Output {
    ensure_playwright();
    let out = finish(
        Command::new("node")
            .arg(dir().join(script))
            .args(args)
            .env("HOME", home),
        SCRIPT_TIME,
    );
    assert_eq!(
        out.code, 0,
        "{script} {args:?} failed: {}{}",
        out.stdout, out.stderr
    );
    out
}
