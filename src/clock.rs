//! Wall-clock time of day in UTC, as the log lines and the generated pictures print it. UTC
//! because the process carries no time-zone database.

use std::time::SystemTime;

/// "HH:MM:SS.mmm" of `t` in UTC.
pub fn time_of_day(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let s = d.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(3_723_004);
        assert_eq!(time_of_day(t), "01:02:03.004");
    }
}
