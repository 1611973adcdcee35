//! Counts events per second of a monotonic clock and reports the last complete second, so
//! `/state` shows a current rate in constant memory.

use std::sync::OnceLock;
use std::time::Instant;

#[derive(Debug, Default)]
pub struct RateMeter {
    second: u64,
    current: u32,
    previous: u32,
}

fn now_second() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_secs()
}

impl RateMeter {
    fn roll(&mut self, second: u64) {
        if second != self.second {
            self.previous = if second == self.second + 1 {
                self.current
            } else {
                0
            };
            self.current = 0;
            self.second = second;
        }
    }

    pub fn tick(&mut self) {
        self.add(1);
    }

    pub fn add(&mut self, n: u32) {
        self.roll(now_second());
        self.current = self.current.saturating_add(n);
    }

    /// Events in the last complete second.
    pub fn per_second(&mut self) -> u32 {
        self.roll(now_second());
        self.previous
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_complete_second_is_reported_and_gaps_read_zero() {
        let mut m = RateMeter::default();
        m.roll(5);
        m.current = 7;
        m.roll(6);
        assert_eq!(m.previous, 7);
        m.current = 3;
        m.roll(9);
        assert_eq!(m.previous, 0, "a quiet second in between");
    }
}
