//! The `log` sink: one line per event on stderr with a UTC time, nothing else. `log` is the
//! facade every crate here speaks; a full logging crate would add dependencies for no gain.

use log::{Level, LevelFilter, Log, Metadata, Record};

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
            let now = crate::source::draw::clock(std::time::SystemTime::now());
            eprintln!("{} deskcam: {level}{}", &now[..12], r.args());
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
