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

/// The UTC calendar date (year, month 1-12, day 1-31) of `t` (H. Hinnant's civil_from_days).
pub fn utc_date(t: SystemTime) -> (i32, u8, u8) {
    let days = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let day = |d: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(d * 86_400 + 5);
        assert_eq!(utc_date(day(0)), (1970, 1, 1));
        assert_eq!(utc_date(day(11_016)), (2000, 2, 29));
        assert_eq!(utc_date(day(20_819)), (2027, 1, 1));
    }

    #[test]
    fn format() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(3_723_004);
        assert_eq!(time_of_day(t), "01:02:03.004");
    }
}
