//! The `log` sink: one line per event on stderr with the UTC time of day, nothing else. `log` is the
//! facade every crate here speaks; a full logging crate would add dependencies for no gain.
//!
//! `--log-level` (or `--verbose`, `--quiet`) sets how much of deskcam's own log is shown. The
//! vendored HTTP server's records are shown when they are warnings or errors (descriptors
//! running out, an accept that fails), and its chatter (a refused request head, a failed TLS
//! handshake) only at the debug level.

use std::io::Write;
use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::clock::time_of_day;

struct Stderr {
    level: LevelFilter,
}

impl Stderr {
    /// The most detailed level shown for records from `target`.
    fn limit(&self, target: &str) -> LevelFilter {
        if target.starts_with("deskcam") || self.level >= LevelFilter::Debug {
            self.level
        } else {
            self.level.min(LevelFilter::Warn)
        }
    }
}

impl Log for Stderr {
    fn enabled(&self, m: &Metadata) -> bool {
        m.level() <= self.limit(m.target())
    }
    fn log(&self, r: &Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let level = match r.level() {
            Level::Error => "error: ",
            Level::Warn => "warning: ",
            Level::Info => "",
            Level::Debug | Level::Trace => "debug: ",
        };
        // Records from other crates (the vendored tiny_http) say where they come from.
        let target = r.target();
        let origin = match target.split("::").next() {
            Some("deskcam") | None => String::new(),
            Some(krate) => format!("{krate}: "),
        };
        let now = time_of_day(std::time::SystemTime::now());
        // Not eprintln!: it panics when stderr is a closed pipe (`deskcam | head`), and a
        // log line must never take a thread down.
        let _ = writeln!(
            std::io::stderr().lock(),
            "{now} deskcam: {level}{origin}{}",
            r.args()
        );
    }
    fn flush(&self) {}
}

/// Installs the sink, showing records up to `level` (once; later calls change nothing).
pub fn init(level: LevelFilter) {
    static LOGGER: OnceLock<Stderr> = OnceLock::new();
    let logger = LOGGER.get_or_init(|| Stderr { level });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_s_warnings_show_and_its_chatter_waits_for_debug() {
        let at = |level| Stderr { level };
        let shows = |s: &Stderr, target: &str, l: Level| {
            s.enabled(&Metadata::builder().target(target).level(l).build())
        };
        let default = at(LevelFilter::Info);
        assert!(shows(&default, "deskcam::http", Level::Info));
        assert!(!shows(&default, "deskcam::http", Level::Debug));
        assert!(shows(&default, "tiny_http", Level::Warn));
        assert!(shows(&default, "tiny_http::client", Level::Error));
        assert!(!shows(&default, "tiny_http::client", Level::Info));
        assert!(!shows(&default, "tiny_http::client", Level::Debug));
        let debug = at(LevelFilter::Debug);
        assert!(shows(&debug, "deskcam::http::snapshot", Level::Debug));
        assert!(shows(&debug, "tiny_http::client", Level::Debug));
        assert!(!shows(&debug, "deskcam", Level::Trace));
        let quiet = at(LevelFilter::Warn);
        assert!(!shows(&quiet, "deskcam", Level::Info));
        assert!(shows(&quiet, "tiny_http", Level::Warn));
        let errors = at(LevelFilter::Error);
        assert!(!shows(&errors, "tiny_http", Level::Warn));
        assert!(shows(&errors, "deskcam", Level::Error));
    }
}
