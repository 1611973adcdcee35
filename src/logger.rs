//! The `log` sink: one line per event on stderr with the UTC time of day, nothing else. `log` is the
//! facade every crate here speaks; a full logging crate would add dependencies for no gain.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::clock::time_of_day;

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, m: &Metadata) -> bool {
        // Our own lines only: tiny_http's debug chatter is not for users.
        m.target().starts_with("deskcam")
    }
    fn log(&self, r: &Record) {
        if self.enabled(r.metadata()) {
            let level = match r.level() {
                Level::Error => "error: ",
                Level::Warn => "warning: ",
                _ => "",
            };
            let now = time_of_day(std::time::SystemTime::now());
            // Not eprintln!: it panics when stderr is a closed pipe (`deskcam | head`), and a
            // log line must never take a thread down.
            let _ = writeln!(
                std::io::stderr().lock(),
                "{now} deskcam: {level}{}",
                r.args()
            );
        }
    }
    fn flush(&self) {}
}

pub fn init(quiet: bool) {
    static LOGGER: Stderr = Stderr;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(if quiet {
            LevelFilter::Warn
        } else {
            LevelFilter::Info
        });
    }
}
